/* Installed presets (installed.h). */
#define _GNU_SOURCE /* dladdr */
#include "eval/installed.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_file(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static bool is_name(const char *spec) {
    size_t len = strlen(spec);
    return len && !strchr(spec, '/') && !(len > 5 && !strcmp(spec + len - 5, ".json"));
}

/* Folder of the file this code was loaded from (libxbar.so, or the
 * executable it is linked into) into buf; false when unknown. */
static bool image_dir(char *buf, size_t n) {
    Dl_info info;
    const char *file = NULL;
    char exe[4096];
    if (dladdr((void *)&xb_arch_open, &info) && info.dli_fname && strchr(info.dli_fname, '/'))
        file = info.dli_fname;
    if (!file) {
        ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (len <= 0) return false;
        exe[len] = '\0';
        file = exe;
    }
    const char *slash = strrchr(file, '/');
    if (!slash || (size_t)(slash - file) >= n) return false;
    snprintf(buf, n, "%.*s", (int)(slash - file), file);
    return true;
}

/* The preset file of `name` in the installed tree beside the running code,
 * into path; false when there is none. */
static bool installed_beside(const char *name, char *path, size_t n) {
    char dir[4096];
    if (!image_dir(dir, sizeof dir)) return false;
    static const char *const up[] = {"..", "../.."};
    for (int i = 0; i < 2; i++) {
        snprintf(path, n, "%s/%s/share/xbar/arch/%s.json", dir, up[i], name);
        if (is_file(path)) return true;
    }
    return false;
}

xb_status xb_arch_open(xb_arch *a, const char *spec, xb_ctx *ctx) {
    char path[8192];
    const char *env = getenv("XBAR_ARCH_DIR");
    if (!is_name(spec)) return xb_arch_load(a, spec, ctx);
    if (env && env[0]) {
        snprintf(path, sizeof path, "%s/%s.json", env, spec);
        if (is_file(path)) return xb_arch_load(a, spec, ctx);
    }
    if (installed_beside(spec, path, sizeof path)) return xb_arch_load(a, path, ctx);
#ifdef XBAR_SOURCE_DIR
    snprintf(path, sizeof path, "%s/backend/arch/%s.json", XBAR_SOURCE_DIR, spec);
    if (is_file(path)) return xb_arch_load(a, spec, ctx);
#endif
#ifdef XBAR_INSTALL_ARCH_DIR
    snprintf(path, sizeof path, "%s/%s.json", XBAR_INSTALL_ARCH_DIR, spec);
    if (is_file(path)) return xb_arch_load(a, path, ctx);
#endif
    return xb_arch_load(a, spec, ctx); /* its message names where it looked */
}
