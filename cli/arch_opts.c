#include "cli/arch_opts.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "eval/outfile.h"

#include "eval/installed.h"

bool xb_cli_arch_opt(xb_args *a, xb_cli_arch *o) {
    const char *v;
    if (xb_args_opt(a, "--arch", &v)) {
        o->arch = v;
        return true;
    }
    if (xb_args_opt(a, "--arch-out", &v)) {
        o->out = v;
        return true;
    }
    if (xb_args_opt(a, "--set", &v)) {
        if (!v) return true;
        if (o->n_sets >= XB_CLI_MAX_SETS) xb_args_fail(a, "too many --set options");
        else o->sets[o->n_sets++] = v;
        return true;
    }
    return false;
}

const char *xb_cli_arch_file(const xb_cli_arch *o) {
    if (!o->arch) return NULL;
    size_t len = strlen(o->arch);
    /* backend/arch.c's rule: a '/' or a ".json" ending makes it a file */
    return strchr(o->arch, '/') || (len > 5 && !strcmp(o->arch + len - 5, ".json")) ? o->arch
                                                                                     : NULL;
}

xb_status xb_cli_arch_build(const xb_cli_arch *o, xb_arch *out, xb_ctx *ctx) {
    const char *file = xb_cli_arch_file(o);
    struct stat sb;
    /* A FIFO or a device would block the reader or never end. */
    if (file && stat(file, &sb) == 0 && !S_ISREG(sb.st_mode))
        return xb_fail(ctx, XB_ERR_INVALID, "--arch %s: not a regular file", file);
    XB_TRY(xb_arch_open(out, o->arch ? o->arch : "isaac", ctx));
    for (int i = 0; i < o->n_sets; i++) XB_TRY(xb_arch_set(out, o->sets[i], ctx));
    if (o->out) {
        const char *in[] = {o->model, file};
        XB_TRY(xb_outfile_check("--arch-out", o->out, in, 2, ctx));
        xb_outfile f;
        XB_TRY(xb_outfile_open(&f, o->out, ctx));
        xb_arch_write_json(out, f.f, 0);
        XB_TRY(xb_outfile_commit(&f, ctx));
    }
    return XB_OK;
}
