/* xbar classify MODEL IMAGE.png...: top-5 classes per image. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/data_opts.h"
#include "eval/outfile.h"
#include "eval/provenance.h"
#include "eval/report.h"
#include "eval/session.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: xbar classify MODEL.onnx IMAGE.png... [--json F]\n\n"
            "Top-5 classes with names and softmax probabilities for each image.  Any valid\n"
            "PNG works (1-16 bit; grey, RGB, palette; alpha or tRNS, composited onto black;\n"
            "interlaced), and JPEG (.jpg/.jpeg, by the name).  Grey images given to an RGB\n"
            "model are replicated to R, G and B;\n"
            "colour images given to a grey model are converted with ITU-R BT.601 luma.\n"
            "Images must have the model's input size after --resize/--center-crop.\n\n"
            XB_CLI_DATA_HELP
            "  (--offset and --predictions do not apply to classify)\n\n"
            "  --json F            also write the results as JSON (\"-\" for stdout, which then\n"
            "                      holds only the JSON): per image its top-5 classes, with a\n"
            "                      \"provenance\" block.  (The float model is run; there is no\n"
            "                      --arch here yet: use xbar run for the analog mode.)\n\n"
            "Exit status: 0 ok, 1 some image or the model failed, 2 usage error.\n");
}

/* The 5 most probable classes, by repeated selection: K is small and the
 * order must be stable (ties: lower class index first). */
static void print_top5(FILE *out, cJSON *arr, const xb_preproc *pp, const double *prob) {
    const int K = pp->n_outputs;
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
        const char *name = xb_preproc_class(pp, best);
        fprintf(out, "  %d. %-16s %7.4f   (class %d)\n", r + 1, name ? name : "-", prob[best], best);
        if (arr) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "class", best);
            cJSON_AddStringToObject(o, "name", name ? name : "");
            cJSON_AddNumberToObject(o, "probability", prob[best]);
            cJSON_AddItemToArray(arr, o);
        }
    }
}

typedef struct {
    const char *model, *json;
    const char **images; /* [argc]: every IMAGE (caller frees) */
    int n_images;
    xb_cli_data dopt;
} classify_opts;

/* -1: go on, 0: --help printed, 2: usage error; o->images is allocated
 * either way (or NULL when out of memory: 1). */
static int parse(int argc, char **argv, classify_opts *o) {
    xb_args a;
    xb_args_init(&a, argc, argv);
    const char *v;
    memset(o, 0, sizeof *o);
    o->images = calloc((size_t)argc + 1, sizeof(char *));
    if (!o->images) return 1;
    while (xb_args_next(&a)) {
        if (xb_args_help(&a)) {
            usage(stdout);
            return 0;
        } else if (xb_cli_data_opt(&a, &o->dopt)) {
            if (o->dopt.offset || o->dopt.predictions)
                xb_args_fail(&a, "%s does not apply to classify", a.opt);
        } else if (xb_args_opt(&a, "--json", &v)) {
            o->json = v;
        } else if (xb_args_positional(&a)) {
            if (!o->model)
                o->model = a.cur;
            else
                o->images[o->n_images++] = a.cur;
        } else {
            return xb_args_unknown(&a);
        }
    }
    if (!a.error && (!o->model || o->n_images == 0))
        xb_args_fail(&a, "need MODEL and at least one IMAGE.png");
    if (a.error) return 2;
    /* The output path is checked before the model is opened: it must be
     * writable and must not be the model itself. */
    xb_ctx ctx = {0};
    const char *in[] = {o->model};
    if (o->json && xb_outfile_check("--json", o->json, in, 1, &ctx) != XB_OK) {
        xb_report_error(&ctx);
        return 2;
    }
    return -1;
}

int xb_cmd_classify_args(int argc, char **argv) {
    classify_opts o;
    int rc = parse(argc, argv, &o);
    free(o.images);
    return rc;
}

int xb_cmd_classify(int argc, char **argv) {
    classify_opts o;
    int rc = parse(argc, argv, &o);
    if (rc >= 0) {
        free(o.images);
        return rc;
    }
    const char *model = o.model, *json = o.json, **images = o.images;
    int n_images = o.n_images;
    xb_ctx ctx = {0};
    /* --json -: the text goes to stderr so stdout is pure JSON */
    FILE *out = json && !strcmp(json, "-") ? stderr : stdout;
    cJSON *root = json ? cJSON_CreateObject() : NULL, *results = NULL;
    if (root) {
        cJSON_AddStringToObject(root, "model", model);
        results = cJSON_AddArrayToObject(root, "images");
    }
    xb_session *s = NULL;
    double *prob = NULL;
    int failures = 0;
    xb_session_opts so = {.profile_images = 16};
    xb_cli_data_apply(&o.dopt, &so);
    if (xb_session_open(model, &so, &s, &ctx) != XB_OK) {
        xb_report_error(&ctx);
        cJSON_Delete(root);
        free(images);
        return 1;
    }
    const xb_preproc *pp = xb_session_preproc(s);
    prob = xb_calloc(&ctx, (size_t)pp->n_outputs, sizeof(double));
    if (!prob) {
        xb_report_error(&ctx);
        failures = 1;
        goto done;
    }
    for (int i = 0; i < n_images; i++) {
        xb_ctx_clear(&ctx);
        cJSON *img = NULL;
        if (results) {
            img = cJSON_CreateObject();
            cJSON_AddItemToArray(results, img);
            cJSON_AddStringToObject(img, "image", images[i]);
        }
        if (xb_session_classify_png(s, images[i], prob, &ctx) != XB_OK) {
            xb_report_error(&ctx);
            if (img) cJSON_AddStringToObject(img, "error", ctx.msg);
            failures++;
            continue;
        }
        fprintf(out, "%s\n", images[i]);
        print_top5(out, img ? cJSON_AddArrayToObject(img, "top5") : NULL, pp, prob);
    }
    if (root) {
        xb_provenance pv = {.model = model, .argc = argc, .argv = argv};
        cJSON_AddItemToObject(root, "provenance", xb_provenance_json(&pv));
        xb_ctx_clear(&ctx);
        if (xb_json_write(root, json, &ctx) != XB_OK) {
            xb_report_error(&ctx);
            failures++;
        }
    }
done:
    cJSON_Delete(root);
    free(prob);
    xb_session_free(s);
    free(images);
    return failures ? 1 : 0;
}
