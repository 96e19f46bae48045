/* xbar merge --csv OUT SHARD.csv... | --json OUT SHARD.json...: the outputs
 * of `xbar sweep --shard K/N` or `xbar run --shard K/N --json` joined into
 * the output of the unsharded command (cli/merge.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/merge.h"
#include "eval/outfile.h"
#include "eval/report.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: xbar merge --csv OUT.csv SHARD.csv...\n"
            "       xbar merge --json OUT.json SHARD.json...\n\n"
            "Join the outputs of N shards into exactly what the unsharded command writes.\n\n"
            "  --csv OUT     the CSVs of `xbar sweep ... --shard K/N --csv F` for K = 0..N-1:\n"
            "                the header, then every configuration's row in the order of the\n"
            "                unsharded sweep.  Refused (naming them): shards of different\n"
            "                sweeps (other model, data, arch, --limit, --calib or --vary), a\n"
            "                shard twice, a missing shard or configuration.  Lines starting\n"
            "                with '#' other than the '# xbar-shard' ones are copied from\n"
            "                shard 0, never compared\n"
            "  --json OUT    the reports of `xbar run ... --shard K/N --json F`: counts add,\n"
            "                accuracies and rates are recomputed from the summed counts,\n"
            "                everything that does not depend on the images (quantization,\n"
            "                mapping, energy and latency per inference) must be equal.\n"
            "                Timing: seconds are summed over the shards, images/s follows\n\n"
            "OUT is written aside and renamed into place when complete (\"-\": stdout); it\n"
            "must not be one of the shards.  See docs/SCALE.md.\n"
            "Exit status: 0 ok, 1 the shards cannot be merged, 2 usage error.\n");
}

typedef struct {
    const char *csv, *json;
    const char **files; /* the caller frees it */
    int n;
} merge_args;

/* -1: go on, 0: --help printed, 1: out of memory, 2: usage error. */
static int parse(int argc, char **argv, merge_args *m) {
    xb_args a;
    xb_args_init(&a, argc, argv);
    const char *v;
    *m = (merge_args){0};
    m->files = calloc((size_t)argc + 1, sizeof *m->files);
    if (!m->files) return 1;
    while (xb_args_next(&a)) {
        if (xb_args_help(&a)) {
            usage(stdout);
            return 0;
        } else if (xb_args_opt(&a, "--csv", &v)) {
            m->csv = v;
        } else if (xb_args_opt(&a, "--json", &v)) {
            m->json = v;
        } else if (xb_args_positional(&a)) {
            m->files[m->n++] = a.cur;
        } else {
            return xb_args_unknown(&a);
        }
    }
    if (!a.error && (!m->csv == !m->json || m->n == 0))
        xb_args_fail(&a, "give one of --csv OUT / --json OUT, and the shard files");
    return a.error ? 2 : -1;
}

/* The output path's checks (stat and access only: nothing is created). */
static int check_out(const merge_args *m, xb_ctx *ctx) {
    const char *out = m->csv ? m->csv : m->json;
    if (xb_outfile_check(m->csv ? "--csv" : "--json", out, m->files, m->n, ctx) == XB_OK) return -1;
    xb_report_error(ctx);
    return 2;
}

int xb_cmd_merge_args(int argc, char **argv) {
    merge_args m;
    int rc = parse(argc, argv, &m);
    xb_ctx ctx = {0};
    if (rc < 0) rc = check_out(&m, &ctx);
    free(m.files);
    return rc == 1 ? 2 : rc;
}

int xb_cmd_merge(int argc, char **argv) {
    merge_args m;
    int rc = parse(argc, argv, &m);
    xb_ctx ctx = {0};
    if (rc < 0) rc = check_out(&m, &ctx);
    if (rc < 0) {
        const char *out = m.csv ? m.csv : m.json;
        rc = (m.csv ? xb_merge_csv(out, m.files, m.n, &ctx) : xb_merge_json(out, m.files, m.n, &ctx)) ==
                     XB_OK ? 0 : 1;
        if (rc) xb_report_error(&ctx);
    }
    free(m.files);
    return rc;
}
