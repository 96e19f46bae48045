/* xbar meta MODEL: show or write the metadata xbar reads (xbar.mean,
 * xbar.std, xbar.classes, xbar.dataset), so a model exported without it
 * needs the preprocessing flags of `xbar run` only once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "eval/dataset.h"
#include "eval/outfile.h"
#include "eval/preprocess.h"
#include "eval/report.h"
#include "frontend/onnx.h"

#define MAX_EDITS 64

static void usage(FILE *f) {
    fprintf(f,
            "usage: xbar meta MODEL.onnx                      (print its metadata_props)\n"
            "       xbar meta MODEL.onnx EDIT... -o OUT.onnx  (write a copy with them changed)\n\n"
            "The keys xbar reads (docs in eval/preprocess.h):\n"
            "  xbar.mean, xbar.std  per-channel normalisation of pixel/255\n"
            "  xbar.classes         class names in output order, comma-separated\n"
            "  xbar.dataset         mnist | fashion-mnist | cifar10: the default --data\n\n"
            "EDITs (applied in order; the copy is checked by loading it before it is written):\n"
            "  --set-mean M1,M2,M3  xbar.mean (one value: every channel)\n"
            "  --set-std S1,S2,S3   xbar.std\n"
            "  --set-classes A,B,.. xbar.classes\n"
            "  --set-dataset NAME   xbar.dataset\n"
            "  --set KEY=VALUE      any key\n"
            "  --unset KEY          remove a key\n"
            "  -o, --output OUT     the new model (not MODEL itself; written aside, then renamed)\n\n"
            "Exit status: 0 ok, 1 the job failed, 2 usage error.\n");
}

typedef struct {
    const char *model, *out;
    xb_onnx_meta_edit e[MAX_EDITS];
    int n;
} meta_args;

static void add_edit(xb_args *a, meta_args *m, const char *key, const char *value) {
    if (m->n == MAX_EDITS) {
        xb_args_fail(a, "more than %d edits", MAX_EDITS);
        return;
    }
    /* xbar run would ignore any other value (session.c): refuse it here */
    if (value && !strcmp(key, "xbar.dataset") && !xb_dataset_is_builtin(value)) {
        xb_args_fail(a, "xbar.dataset '%.64s' is not a built-in dataset (mnist, fashion-mnist, "
                        "cifar10); models name datasets, never paths",
                     value);
        return;
    }
    m->e[m->n++] = (xb_onnx_meta_edit){key, value};
}

/* --set KEY=VALUE: the key is the text before '=' (kept in place: argv is
 * writable and lives as long as the command). */
static void add_set(xb_args *a, meta_args *m, char *kv) {
    char *eq = kv ? strchr(kv, '=') : NULL;
    if (!eq || eq == kv) {
        xb_args_fail(a, "--set: '%s' is not KEY=VALUE", kv ? kv : "");
        return;
    }
    *eq = '\0';
    add_edit(a, m, kv, eq + 1);
}

static int parse(int argc, char **argv, meta_args *m) {
    static const struct {
        const char *flag, *key;
    } keys[] = {{"--set-mean", "xbar.mean"}, {"--set-std", "xbar.std"},
                {"--set-classes", "xbar.classes"}, {"--set-dataset", "xbar.dataset"}};
    xb_args a;
    xb_args_init(&a, argc, argv);
    const char *v;
    while (xb_args_next(&a)) {
        bool done = false;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0] && !done; k++)
            if ((done = xb_args_opt(&a, keys[k].flag, &v)) && v) add_edit(&a, m, keys[k].key, v);
        if (done) continue;
        if (xb_args_help(&a)) {
            usage(stdout);
            return 0;
        } else if (xb_args_opt(&a, "--set", &v)) {
            if (v) add_set(&a, m, (char *)v);
        } else if (xb_args_opt(&a, "--unset", &v)) {
            if (v) add_edit(&a, m, v, NULL);
        } else if (xb_args_opt(&a, "-o", &v) || xb_args_opt(&a, "--output", &v)) {
            m->out = v;
        } else if (xb_args_one(&a, "MODEL", &m->model)) {
        } else {
            return xb_args_unknown(&a);
        }
    }
    if (a.error || !xb_args_need(&a, "MODEL", m->model)) return 2;
    if (m->n && !m->out) {
        fprintf(stderr, "xbar meta: edits need -o OUT.onnx (see xbar meta --help)\n");
        return 2;
    }
    if (!m->n && m->out) {
        fprintf(stderr, "xbar meta: -o without an edit would only copy the model\n");
        return 2;
    }
    return -1;
}

static int show(const char *model, xb_ctx *ctx) {
    char **kv;
    int n;
    if (xb_onnx_meta_list(model, &kv, &n, ctx) != XB_OK) return 1;
    for (int i = 0; i < n; i++) printf("%s=%s\n", kv[2 * i], kv[2 * i + 1]);
    if (!n) fprintf(stderr, "xbar meta: %s has no metadata_props\n", model);
    for (int i = 0; i < 2 * n; i++) free(kv[i]);
    free(kv);
    return 0;
}

/* The edited model must load and its preprocessing must parse (counts
 * against the input's channels and the output's classes). */
static xb_status check_copy(const meta_args *m, const uint8_t *bytes, size_t len, xb_ctx *ctx) {
    xb_graph *g;
    XB_TRY(xb_onnx_load_buffer(bytes, len, m->out, 1, &g, ctx));
    xb_preproc pp;
    xb_status st = xb_preproc_init(&pp, g, ctx);
    if (st == XB_OK) {
        if (pp.note[0]) xb_report_note("%s: %s", m->out, pp.note);
        xb_preproc_free(&pp);
    }
    xb_graph_free(g);
    return st;
}

static xb_status write_copy(const meta_args *m, xb_ctx *ctx) {
    uint8_t *bytes;
    size_t len;
    XB_TRY(xb_onnx_meta_apply(m->model, m->e, m->n, &bytes, &len, ctx));
    xb_outfile o;
    xb_status st = check_copy(m, bytes, len, ctx);
    if (st == XB_OK && (st = xb_outfile_open(&o, m->out, ctx)) == XB_OK) {
        if (fwrite(bytes, 1, len, o.f) != len) {
            xb_outfile_abort(&o);
            st = xb_fail(ctx, XB_ERR_IO, "%s: write failed", m->out);
        } else {
            st = xb_outfile_commit(&o, ctx);
        }
    }
    free(bytes);
    return st;
}

/* -o's checks (stat and access only: nothing is created): -1 or 2. */
static int check_out(const meta_args *m, xb_ctx *ctx) {
    const char *in[] = {m->model};
    if (!m->n || xb_outfile_check("-o", m->out, in, 1, ctx) == XB_OK) return -1;
    xb_report_error(ctx);
    return 2;
}

int xb_cmd_meta_args(int argc, char **argv) {
    meta_args m = {0};
    int rc = parse(argc, argv, &m);
    xb_ctx ctx = {0};
    return rc >= 0 ? rc : check_out(&m, &ctx);
}

int xb_cmd_meta(int argc, char **argv) {
    meta_args m = {0};
    int rc = parse(argc, argv, &m);
    xb_ctx ctx = {0};
    if (rc < 0) rc = check_out(&m, &ctx);
    if (rc >= 0) return rc;
    if (!m.n) {
        rc = show(m.model, &ctx);
    } else {
        rc = write_copy(&m, &ctx) == XB_OK ? 0 : 1;
        if (!rc) fprintf(stderr, "xbar meta: wrote %s\n", m.out);
    }
    if (rc) xb_report_error(&ctx);
    return rc;
}
