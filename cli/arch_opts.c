#include "cli/arch_opts.h"

#include <stdio.h>

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

xb_status xb_cli_arch_build(const xb_cli_arch *o, xb_arch *out, xb_ctx *ctx) {
    XB_TRY(xb_arch_open(out, o->arch ? o->arch : "isaac", ctx));
    for (int i = 0; i < o->n_sets; i++) XB_TRY(xb_arch_set(out, o->sets[i], ctx));
    if (o->out) {
        FILE *f = fopen(o->out, "w");
        if (!f) return xb_fail(ctx, XB_ERR_IO, "%s: cannot write", o->out);
        xb_arch_write_json(out, f, 0);
        if (fclose(f) != 0) return xb_fail(ctx, XB_ERR_IO, "%s: write failed", o->out);
    }
    return XB_OK;
}
