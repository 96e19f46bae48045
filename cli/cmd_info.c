/* xbar info MODEL: what the model is, layer by layer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "eval/preprocess.h"
#include "eval/report.h"
#include "cli/cli.h"

#include "frontend/onnx.h"
#include "runtime/op.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: xbar info MODEL.onnx\n\n"
            "Print the model's inputs and outputs, and per layer (node after loading, i.e.\n"
            "after constant folding, BatchNorm folding and QDQ lowering) the op, input and\n"
            "output shapes, parameter count and multiply-accumulates per image, with totals;\n"
            "then the metadata (dataset, classes, normalisation).  Shapes are for batch 1.\n\n"
            "A model with ops xbar does not support is still listed, node by node as in the\n"
            "file, each unsupported one marked with the reason (exit status 1).\n");
}

/* The model failed op resolution: list every node as parsed, marking the
 * ones the kernels' registry rejects (docs/OPS.md lists the supported ops). */
static int list_unsupported(const char *model) {
    xb_ctx ctx = {0};
    xb_graph *g = NULL;
    const xb_onnx_options opts = {.parse_only = 1};
    if (xb_onnx_load_opts(model, 1, &opts, &g, &ctx) != XB_OK) {
        xb_report_error(&ctx);
        return 1;
    }
    printf("\nmodel    %s (not loadable: nodes as in the file)\n", model);
    printf("format   ONNX IR %lld, opset %lld\n\n", (long long)g->ir_version,
           (long long)g->opset_onnx);
    static const char *heads[] = {">#", "node", "op", "domain", ">opset", "status"};
    xb_table t;
    xb_table_init(&t, 6, heads);
    int bad = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const xb_node *n = &g->nodes[i];
        const char *why = NULL;
        int op = g->ops->lookup(n->op_type, n->domain, n->opset, &why);
        xb_table_row(&t);
        xb_table_cell(&t, "%d", i);
        xb_table_cell(&t, "%s", n->name);
        xb_table_cell(&t, "%s", n->op_type);
        xb_table_cell(&t, "%s", n->domain[0] ? n->domain : "ai.onnx");
        xb_table_cell(&t, "%d", n->opset);
        if (op >= 0) {
            xb_table_cell(&t, "ok");
        } else {
            xb_table_cell(&t, "UNSUPPORTED (%s)", why ? why : "unknown op");
            bad++;
        }
    }
    xb_table_print(&t, stdout, "");
    xb_table_free(&t);
    printf("\ntotal    %d nodes, %d unsupported (supported ops: docs/OPS.md)%s\n", g->n_nodes, bad,
           bad ? "" : "; the error above is a node's attribute or type");
    xb_graph_free(g);
    return 1;
}

static void tensor_line(const xb_graph *g, int t, const char *what) {
    char sb[128];
    const xb_tensor *x = &g->tensors[t];
    printf("%-8s %s  %s %s\n", what, x->name, xb_dtype_name(x->dtype),
           xb_shape_str(&x->shape, sb, sizeof sb));
}

/* -1: go on, 0: --help printed, 2: usage error. */
static int parse(int argc, char **argv, const char **model) {
    xb_args a;
    xb_args_init(&a, argc, argv);
    *model = NULL;
    while (xb_args_next(&a)) {
        if (xb_args_help(&a)) {
            usage(stdout);
            return 0;
        } else if (xb_args_one(&a, "MODEL", model)) {
        } else {
            return xb_args_unknown(&a);
        }
    }
    if (a.error || !xb_args_need(&a, "MODEL", *model)) return 2;
    return -1;
}

int xb_cmd_info_args(int argc, char **argv) {
    const char *model;
    return parse(argc, argv, &model);
}

int xb_cmd_info(int argc, char **argv) {
    const char *model;
    int rc = parse(argc, argv, &model);
    if (rc >= 0) return rc;
    xb_ctx ctx = {0};
    xb_graph *g = NULL;
    if (xb_onnx_load(model, 1, &g, &ctx) != XB_OK) {
        xb_report_error(&ctx);
        return ctx.status == XB_ERR_UNSUPPORTED ? list_unsupported(model) : 1;
    }
    xb_layer_stat *ls = NULL;
    int nl = 0;
    if (xb_layer_stats(g, &ls, &nl, &ctx) != XB_OK) {
        xb_report_error(&ctx);
        xb_graph_free(g);
        return 1;
    }
    printf("model    %s\n", model);
    if (g->producer && g->producer[0]) printf("producer %s\n", g->producer);
    printf("format   ONNX IR %lld, opset %lld\n", (long long)g->ir_version, (long long)g->opset_onnx);
    for (int i = 0; i < g->n_inputs; i++) tensor_line(g, g->inputs[i], "input");
    for (int i = 0; i < g->n_outputs; i++) tensor_line(g, g->outputs[i], "output");
    putchar('\n');

    static const char *heads[] = {">#", "layer", "op", "input", "weight", "output", ">params", ">MACs", "K x N"};
    xb_table t;
    xb_table_init(&t, 9, heads);
    int64_t tp = 0, tm = 0;
    int n_matrix = 0;
    char sb[128], nb[32];
    for (int i = 0; i < nl; i++) {
        const xb_node *n = &g->nodes[i];
        const xb_layer_stat *L = &ls[i];
        xb_table_row(&t);
        xb_table_cell(&t, "%d", i);
        xb_table_cell(&t, "%s", n->name);
        xb_table_cell(&t, "%s", n->op_type);
        /* the activation input: the first non-constant one */
        const char *xin = "-", *win = "-";
        char xs[128] = "-", ws[128] = "-";
        for (int j = 0; j < n->n_in; j++) {
            if (n->in[j] < 0) continue;
            const xb_tensor *x = &g->tensors[n->in[j]];
            if (!x->is_const && xin[0] == '-') xin = xb_shape_str(&x->shape, xs, sizeof xs);
            if (x->is_const && win[0] == '-' && (x->dtype == XB_F32 || x->dtype == XB_I8) &&
                x->shape.rank >= 2)
                win = xb_shape_str(&x->shape, ws, sizeof ws);
        }
        xb_table_cell(&t, "%s", xin);
        xb_table_cell(&t, "%s", win);
        xb_table_cell(&t, "%s", n->n_out > 0 && n->out[0] >= 0
                                     ? xb_shape_str(&g->tensors[n->out[0]].shape, sb, sizeof sb)
                                     : "-");
        xb_table_cell(&t, "%lld", (long long)L->params);
        xb_table_cell(&t, "%s", L->macs ? xb_fmt_count((double)L->macs, nb, sizeof nb) : "-");
        if (L->matrix)
            xb_table_cell(&t, "%lld x %lld%s", (long long)L->K, (long long)L->N,
                          L->groups > 1 ? " (grouped)" : "");
        else
            xb_table_cell(&t, "-");
        tp += L->params;
        tm += L->macs;
        n_matrix += L->matrix;
    }
    xb_table_print(&t, stdout, "");
    xb_table_free(&t);
    printf("\ntotal    %d layers (%d matrix layers, %d quantized), %lld parameters, %lld MACs per "
           "image (%s)\n",
           nl, n_matrix, xb_graph_count_quantized(g), (long long)tp, (long long)tm,
           xb_fmt_count((double)tm, nb, sizeof nb));
    if (g->n_meta) {
        printf("\nmetadata\n");
        for (int i = 0; i < g->n_meta; i++) printf("  %-20s %s\n", g->meta[i].key, g->meta[i].value);
    }
    xb_preproc pp;
    if (xb_preproc_init(&pp, g, &ctx) == XB_OK) {
        printf("\ninput    %d x %d x %d (C x H x W), x = (pixel/255 - mean) / std with mean", pp.c,
               pp.h, pp.w);
        for (int k = 0; k < pp.c; k++) printf("%s%g", k ? "," : " ", pp.mean[k]);
        printf(", std");
        for (int k = 0; k < pp.c; k++) printf("%s%g", k ? "," : " ", pp.std[k]);
        printf("%s\n", pp.default_norm ? " (defaults: no metadata)" : "");
        printf("dataset  %s\n", pp.dataset ? pp.dataset : "(not given)");
        printf("classes  %d", pp.n_outputs);
        for (int k = 0; k < pp.n_classes; k++) printf("%s%s", k ? ", " : ": ", pp.class_names[k]);
        putchar('\n');
        if (pp.note[0]) printf("note     %s\n", pp.note);
        xb_preproc_free(&pp);
    } else {
        printf("\nnot an image classifier xbar run can drive: %s\n", ctx.msg);
    }
    free(ls);
    xb_graph_free(g);
    return 0;
}
