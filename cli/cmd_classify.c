/* xbar classify MODEL IMAGE.png...: top-5 classes per image. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "eval/dataset.h"
#include "runtime/exec.h"
#include "eval/preprocess.h"
#include "eval/report.h"
#include "cli/cli.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: xbar classify MODEL.onnx IMAGE.png...\n\n"
            "Top-5 classes with names and softmax probabilities for each image.  Any valid\n"
            "PNG works (1-16 bit; grey, RGB, palette; alpha or tRNS, composited onto black;\n"
            "interlaced).  Grey images given to an RGB model are replicated to R, G and B;\n"
            "colour images given to a grey model are converted with ITU-R BT.601 luma.\n"
            "Images must already have the model's input size (no resizing).\n\n"
            "Exit status: 0 ok, 1 some image or the model failed, 2 usage error.\n");
}

/* Softmax, unless the model already ends in one (then its outputs are
 * probabilities and a second softmax would flatten them). */
static void probabilities(const float *s, int k, bool already, double *p) {
    if (already) {
        for (int i = 0; i < k; i++) p[i] = s[i];
        return;
    }
    double m = -INFINITY, sum = 0;
    for (int i = 0; i < k; i++)
        if (s[i] > m) m = s[i];
    for (int i = 0; i < k; i++) sum += (p[i] = exp((double)s[i] - m));
    for (int i = 0; i < k; i++) p[i] /= sum;
}

int xb_cmd_classify(int argc, char **argv) {
    xb_args a;
    xb_args_init(&a, argc, argv);
    const char *model = NULL;
    const char **images = calloc((size_t)argc + 1, sizeof(char *));
    int n_images = 0;
    if (!images) return 1;
    while (xb_args_next(&a)) {
        if (xb_args_help(&a)) {
            usage(stdout);
            free(images);
            return 0;
        } else if (xb_args_positional(&a)) {
            if (!model)
                model = a.cur;
            else
                images[n_images++] = a.cur;
        } else {
            free(images);
            return xb_args_unknown(&a);
        }
    }
    if (!a.error && (!model || n_images == 0)) xb_args_fail(&a, "need MODEL and at least one IMAGE.png");
    if (a.error) {
        free(images);
        return 2;
    }
    xb_ctx ctx = {0};
    xb_graph *g = NULL;
    xb_preproc pp;
    xb_exec *e = NULL;
    double *prob = NULL;
    int failures = 0;
    if (xb_model_load(model, &g, &pp, &ctx) != XB_OK) {
        xb_report_error(&ctx);
        free(images);
        return 1;
    }
    e = xb_exec_new(g, &ctx);
    prob = e ? xb_calloc(&ctx, (size_t)pp.n_outputs, sizeof(double)) : NULL;
    if (!e || !prob) {
        xb_report_error(&ctx);
        failures = 1;
        goto done;
    }
    const int K = pp.n_outputs;
    const xb_node *last = g->n_nodes ? &g->nodes[g->n_nodes - 1] : NULL;
    bool is_softmax = last && !strcmp(last->op_type, "Softmax") && last->out[0] == g->outputs[0];
    for (int i = 0; i < n_images; i++) {
        uint8_t *px = NULL;
        int c, h, w;
        xb_ctx_clear(&ctx);
        if (xb_png_load(images[i], &px, &c, &h, &w, &ctx) != XB_OK ||
            xb_preproc_check(&pp, c, h, w, images[i], &ctx) != XB_OK) {
            xb_report_error(&ctx);
            free(px);
            failures++;
            continue;
        }
        xb_preproc_image(&pp, px, c, (float *)e->buf[g->inputs[0]]);
        free(px);
        e->image_index = i;
        if (xb_exec_run(e, &ctx) != XB_OK) {
            xb_ctx_prefix(&ctx, "%s", images[i]);
            xb_report_error(&ctx);
            failures++;
            continue;
        }
        const float *s = (const float *)e->buf[g->outputs[0]];
        probabilities(s, K, is_softmax, prob);
        printf("%s\n", images[i]);
        /* top-5 by repeated selection: K is small and order must be stable
         * (ties: lower class index first) */
        int top[5], nt = K < 5 ? K : 5;
        for (int r = 0; r < nt; r++) {
            int best = -1;
            for (int k = 0; k < K; k++) {
                bool taken = false;
                for (int q = 0; q < r; q++)
                    if (top[q] == k) taken = true;
                if (taken) continue;
                if (best < 0 || prob[k] > prob[best]) best = k;
            }
            top[r] = best;
            const char *name = xb_preproc_class(&pp, best);
            printf("  %d. %-16s %7.4f   (class %d)\n", r + 1, name ? name : "-", prob[best], best);
        }
    }
done:
    free(prob);
    xb_exec_free(e);
    xb_preproc_free(&pp);
    xb_graph_free(g);
    free(images);
    return failures ? 1 : 0;
}
