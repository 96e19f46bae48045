/* Output files written to a temporary file and renamed into place
 * (outfile.h). */
#include "eval/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eval/dataset_int.h"

static xb_status begin(xb_outfile *o, const char *path, bool keep_open, xb_ctx *ctx) {
    memset(o, 0, sizeof *o);
    if ((size_t)snprintf(o->path, sizeof o->path, "%s", path) >= sizeof o->path)
        return xb_fail(ctx, XB_ERR_INVALID, "%.100s...: output path too long", path);
    if (!strcmp(path, "-")) {
        o->f = stdout;
        o->direct = o->is_stdout = true;
        snprintf(o->tmp, sizeof o->tmp, "-");
        return XB_OK;
    }
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)) {
        o->direct = true;
        snprintf(o->tmp, sizeof o->tmp, "%s", path);
        if (!keep_open) return XB_OK;
        /* non-blocking: a FIFO nobody reads fails (ENXIO) instead of hanging */
        int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        o->f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!o->f) {
            int e = errno;
            if (fd >= 0) close(fd);
            return xb_fail(ctx, XB_ERR_IO, "%s: cannot write: %s", path, strerror(e));
        }
        return XB_OK;
    }
    char dir[4096];
    xb_dirname(path, dir, sizeof dir);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    static unsigned counter;
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        int len = snprintf(o->tmp, sizeof o->tmp, "%s/.%.200s.tmp%ld.%u", dir, base,
                           (long)getpid(), counter++);
        if (len < 0 || (size_t)len >= sizeof o->tmp) {
            errno = ENAMETOOLONG;
            break;
        }
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        o->tmp[0] = '\0';
        return xb_fail(ctx, XB_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    if (!keep_open) {
        close(fd);
        return XB_OK;
    }
    o->f = fdopen(fd, "w");
    if (!o->f) {
        int e = errno;
        close(fd);
        unlink(o->tmp);
        o->tmp[0] = '\0';
        return xb_fail(ctx, XB_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    }
    return XB_OK;
}

xb_status xb_outfile_open(xb_outfile *o, const char *path, xb_ctx *ctx) {
    return begin(o, path, true, ctx);
}

xb_status xb_outfile_open_path(xb_outfile *o, const char *path, xb_ctx *ctx) {
    return begin(o, path, false, ctx);
}

xb_status xb_close_checked(FILE *f, const char *path, xb_ctx *ctx) {
    int bad = fflush(f) != 0 || ferror(f);
    int e = errno;
    if (f != stdout) {
        if (!bad && fsync(fileno(f)) != 0 && errno != EINVAL && errno != EROFS) {
            bad = 1;
            e = errno;
        }
        if (fclose(f) != 0 && !bad) {
            bad = 1;
            e = errno;
        }
    }
    if (bad) return xb_fail(ctx, XB_ERR_IO, "%s: write failed: %s", path, e ? strerror(e) : "I/O error");
    return XB_OK;
}

/* fsync a file a writer has closed (its data must be on disk before the
 * rename makes it the target). */
static int sync_path(const char *p) {
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

xb_status xb_outfile_commit(xb_outfile *o, xb_ctx *ctx) {
    xb_status st = XB_OK;
    if (o->f) {
        /* Direct non-regular targets (/dev/full...) are not fsync'ed. */
        st = xb_close_checked(o->f, o->path, ctx);
        o->f = NULL;
    } else if (!o->direct && sync_path(o->tmp) != 0) {
        st = xb_fail(ctx, XB_ERR_IO, "%s: write failed: %s", o->path, strerror(errno));
    }
    if (st == XB_OK && !o->direct && rename(o->tmp, o->path) != 0)
        st = xb_fail(ctx, XB_ERR_IO, "%s: cannot move %s into place: %s", o->path, o->tmp,
                     strerror(errno));
    if (st != XB_OK && !o->direct) unlink(o->tmp);
    o->tmp[0] = '\0';
    return st;
}

void xb_outfile_abort(xb_outfile *o) {
    if (o->f && !o->is_stdout) fclose(o->f);
    if (o->f && o->is_stdout) fflush(stdout);
    o->f = NULL;
    if (!o->direct && o->tmp[0]) unlink(o->tmp);
    o->tmp[0] = '\0';
}

xb_status xb_outfile_check(const char *what, const char *path, const char *const *inputs, int n,
                           xb_ctx *ctx) {
    if (!path || !strcmp(path, "-")) return XB_OK;
    if (!path[0]) return xb_fail(ctx, XB_ERR_INVALID, "%s: empty file name", what);
    struct stat sb;
    bool exists = stat(path, &sb) == 0;
    if (exists && S_ISDIR(sb.st_mode))
        return xb_fail(ctx, XB_ERR_INVALID, "%s %s: is a folder, expected a file name", what, path);
    for (int i = 0; i < n; i++) {
        struct stat ib;
        if (exists && inputs[i] && stat(inputs[i], &ib) == 0 && ib.st_dev == sb.st_dev &&
            ib.st_ino == sb.st_ino)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "%s %s: is the input %s; writing it would destroy the input", what,
                           path, inputs[i]);
    }
    if (exists && !S_ISREG(sb.st_mode)) {
        /* written directly (a device or FIFO) */
        if (access(path, W_OK) != 0)
            return xb_fail(ctx, XB_ERR_INVALID, "%s %s: cannot write: %s", what, path,
                           strerror(errno));
        return XB_OK;
    }
    char dir[4096];
    xb_dirname(path, dir, sizeof dir);
    struct stat db;
    if (stat(dir, &db) != 0 || !S_ISDIR(db.st_mode))
        return xb_fail(ctx, XB_ERR_INVALID, "%s %s: folder %s does not exist", what, path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return xb_fail(ctx, XB_ERR_INVALID, "%s %s: folder %s is not writable: %s", what, path,
                       dir, strerror(errno));
    return XB_OK;
}
