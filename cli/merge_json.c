/* xbar merge --json: the reports of `xbar run --shard K/N --json` joined
 * into the report of the whole run (cli/merge.h).
 *
 * Every field is one of: a count (images, correct, total, top5_correct, and
 * per layer saturated, simulated_conversions, observed_conversions,
 * observed_zeros), summed; a rate or accuracy, recomputed from the summed
 * counts; max_value, the maximum (bits_needed follows it); timing (seconds:
 * summed; images_per_s: recomputed from them; threads: the most); or
 * anything else (the model, the quantization, the mapping, energies and
 * latency per inference, which do not depend on the images), which must be
 * equal in every shard.  A difference there means the shards are not of
 * one run, and the merge stops naming the field: nothing is approximated.
 * Three things are per shard and cannot be joined exactly, so the merged
 * report leaves them out (and says so): the "diagnosis" (measured on each
 * shard's first images), each layer's "adc_histogram" (binned over each
 * shard's observed span) unless the first shard alone has histograms (it
 * holds the profile images, the window's first, and nothing else observed
 * a column sum), and the "provenance" is the first shard's. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/merge.h"
#include "eval/report.h"

typedef enum { CTX_ROOT, CTX_RESULT, CTX_LAYER, CTX_TOTALS, CTX_OTHER } where;
typedef enum { R_EQUAL, R_SUM, R_DERIVED, R_MAX, R_THREADS, R_SKIP } rule;

typedef struct {
    const char *path;
    cJSON *json;
    long long index, count, first, images, evaluated;
} shard_json;

static bool is(const char *k, const char *const *names) {
    for (int i = 0; names[i]; i++)
        if (!strcmp(k, names[i])) return true;
    return false;
}

static rule rule_of(where w, const char *key) {
    static const char *const res_sum[] = {"correct", "total", "top5_correct", "seconds", NULL},
                             *res_der[] = {"accuracy", "top5_accuracy", "images_per_s", NULL},
                             *lay_sum[] = {"saturated", "simulated_conversions",
                                           "observed_conversions", "observed_zeros", NULL},
                             *lay_der[] = {"saturation_rate", "zero_share", "bits_needed", NULL};
    switch (w) {
    case CTX_ROOT:
        return !strcmp(key, "images") ? R_SUM
               : !strcmp(key, "shard") || !strcmp(key, "provenance") || !strcmp(key, "diagnosis")
                   ? R_SKIP
                   : R_EQUAL;
    case CTX_RESULT:
        return is(key, res_sum) ? R_SUM : is(key, res_der) ? R_DERIVED
               : !strcmp(key, "threads") ? R_THREADS : R_EQUAL;
    case CTX_LAYER:
        return is(key, lay_sum) ? R_SUM : is(key, lay_der) ? R_DERIVED
               : !strcmp(key, "max_value") ? R_MAX
               : !strcmp(key, "adc_histogram") ? R_SKIP : R_EQUAL;
    case CTX_TOTALS:
        return !strcmp(key, "saturation_rate") ? R_DERIVED : R_EQUAL;
    default:
        return R_EQUAL;
    }
}

/* Two values that must be equal; `path` names the field on failure. */
static xb_status equal(const cJSON *a, const cJSON *b, const char *path, const shard_json *sa,
                       const shard_json *sb, xb_ctx *ctx) {
    if (cJSON_Compare(a, b, true)) return XB_OK;
    char *ta = cJSON_PrintUnformatted(a), *tb = cJSON_PrintUnformatted(b);
    xb_fail(ctx, XB_ERR_INVALID, "%s and %s differ at %s (%.60s vs %.60s): not shards of one run "
            "(same model, data, --limit, quantization and arch)", sa->path, sb->path, path,
            ta ? ta : "?", tb ? tb : "?");
    free(ta);
    free(tb);
    return ctx->status;
}

static xb_status merge_obj(cJSON *base, const cJSON *o, where w, const char *path,
                           const shard_json *sa, const shard_json *sb, xb_ctx *ctx);

/* The layers arrays: element by element. */
static xb_status merge_layers(cJSON *bv, const cJSON *ov, const char *path, const shard_json *sa,
                              const shard_json *sb, xb_ctx *ctx) {
    if (!cJSON_IsArray(ov) || cJSON_GetArraySize(bv) != cJSON_GetArraySize(ov))
        return equal(bv, ov, path, sa, sb, ctx);
    int i = 0;
    const cJSON *oe = ov->child;
    for (cJSON *be = bv->child; be; be = be->next, oe = oe->next, i++) {
        char p[300];
        snprintf(p, sizeof p, "%.200s[%d]", path, i);
        XB_TRY(merge_obj(be, oe, CTX_LAYER, p, sa, sb, ctx));
    }
    return XB_OK;
}

/* One member of an object in context w: base's (from the first shard)
 * absorbs o's. */
static xb_status merge_member(cJSON *bv, const cJSON *ov, where w, const char *path,
                              const shard_json *sa, const shard_json *sb, xb_ctx *ctx) {
    const char *key = bv->string;
    rule r = rule_of(w, key);
    if (r == R_SKIP || r == R_DERIVED) return XB_OK;
    if (r != R_EQUAL && (!cJSON_IsNumber(ov) || !cJSON_IsNumber(bv)))
        return xb_fail(ctx, XB_ERR_INVALID, "%s: %s is not a number", sb->path, path);
    if (r == R_SUM) {
        cJSON_SetNumberValue(bv, bv->valuedouble + ov->valuedouble);
    } else if (r == R_MAX || r == R_THREADS) {
        if (ov->valuedouble > bv->valuedouble) cJSON_SetNumberValue(bv, ov->valuedouble);
    } else if (w == CTX_ROOT && !strcmp(key, "layers") && cJSON_IsArray(bv)) {
        return merge_layers(bv, ov, path, sa, sb, ctx);
    } else if (cJSON_IsObject(bv) && cJSON_IsObject(ov)) {
        bool res = !strcmp(key, "float") || !strcmp(key, "int8") || !strcmp(key, "analog");
        where cw = w != CTX_ROOT ? CTX_OTHER
                   : res         ? CTX_RESULT
                   : !strcmp(key, "totals") ? CTX_TOTALS : CTX_OTHER;
        return merge_obj(bv, ov, cw, path, sa, sb, ctx);
    } else {
        return equal(bv, ov, path, sa, sb, ctx);
    }
    return XB_OK;
}

/* Keys only the shards with profiled images have (the lowest-numbered
 * images are profiled, so the first shard has them whenever any does). */
static bool profile_key(where w, const char *k) {
    return w == CTX_LAYER &&
           (!strcmp(k, "zero_share") || !strcmp(k, "max_value") || !strcmp(k, "bits_needed"));
}

static xb_status merge_obj(cJSON *base, const cJSON *o, where w, const char *path,
                           const shard_json *sa, const shard_json *sb, xb_ctx *ctx) {
    if (!cJSON_IsObject(o)) return equal(base, o, path, sa, sb, ctx);
    for (const cJSON *ov = o->child; ov; ov = ov->next)
        if (rule_of(w, ov->string) != R_SKIP && !cJSON_GetObjectItemCaseSensitive(base, ov->string))
            return xb_fail(ctx, XB_ERR_INVALID, "%s has %s.%s, %s has not: not shards of one run%s",
                           sb->path, path, ov->string, sa->path,
                           profile_key(w, ov->string) ? " (or profiled images outside the first "
                                                        "shard: cannot merge exactly)" : "");
    /* bits_needed goes with the larger max_value */
    const cJSON *bm = cJSON_GetObjectItemCaseSensitive(base, "max_value"),
                *om = cJSON_GetObjectItemCaseSensitive(o, "max_value");
    if (w == CTX_LAYER && bm && om && om->valuedouble > bm->valuedouble) {
        cJSON *ob = cJSON_GetObjectItemCaseSensitive(o, "bits_needed"),
              *bb = cJSON_GetObjectItemCaseSensitive(base, "bits_needed");
        if (ob && bb) cJSON_SetNumberValue(bb, ob->valuedouble);
    }
    for (cJSON *bv = base->child; bv; bv = bv->next) {
        char p[300];
        snprintf(p, sizeof p, "%.200s%s%.64s", path, path[0] ? "." : "", bv->string);
        const cJSON *ov = cJSON_GetObjectItemCaseSensitive(o, bv->string);
        if (!ov) {
            if (profile_key(w, bv->string) || rule_of(w, bv->string) == R_SKIP) continue;
            return xb_fail(ctx, XB_ERR_INVALID, "%s has %s, %s has not: not shards of one run",
                           sa->path, p, sb->path);
        }
        XB_TRY(merge_member(bv, ov, w, p, sa, sb, ctx));
    }
    return XB_OK;
}

static double num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

/* A whole number in 0..2^50, else -1 (no out-of-range conversion). */
static long long count_of(const cJSON *o, const char *k) {
    double v = num(o, k);
    return v >= 0 && v <= 1125899906842624.0 && v == (double)(long long)v ? (long long)v : -1;
}

static void set(cJSON *o, const char *k, double v) {
    cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
    if (it) cJSON_SetNumberValue(it, v);
}

static double ratio(double a, double b) { return b ? a / b : 0.0; }

/* Rates and accuracies from the summed counts, as one process computes
 * them (eval/report.c, backend/profile.c). */
static void recompute(cJSON *root) {
    static const char *const modes[] = {"float", "int8", "analog"};
    for (int m = 0; m < 3; m++) {
        cJSON *r = cJSON_GetObjectItemCaseSensitive(root, modes[m]);
        if (!r) continue;
        double total = num(r, "total");
        set(r, "accuracy", ratio(num(r, "correct"), total));
        set(r, "top5_accuracy", ratio(num(r, "top5_correct"), total));
        set(r, "images_per_s", num(r, "seconds") > 0 ? total / num(r, "seconds") : 0.0);
    }
    double sat = 0, conv = 0;
    cJSON *layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
    for (cJSON *l = layers ? layers->child : NULL; l; l = l->next) {
        sat += num(l, "saturated");
        conv += num(l, "simulated_conversions");
        set(l, "saturation_rate", ratio(num(l, "saturated"), num(l, "simulated_conversions")));
        set(l, "zero_share", ratio(num(l, "observed_zeros"), num(l, "observed_conversions")));
    }
    set(cJSON_GetObjectItemCaseSensitive(root, "totals"), "saturation_rate", ratio(sat, conv));
}

/* Read one shard's report and its "shard" object. */
static xb_status read_shard(shard_json *f, xb_ctx *ctx) {
    FILE *in = fopen(f->path, "rb");
    if (!in) return xb_fail(ctx, XB_ERR_IO, "%s: cannot open: %s", f->path, strerror(errno));
    size_t cap = (size_t)64 << 20;
    char *text = xb_malloc(ctx, cap);
    size_t len = text ? fread(text, 1, cap - 1, in) : 0;
    bool bad = ferror(in) || len == cap - 1;
    fclose(in);
    if (!text) return ctx->status;
    text[len] = '\0';
    f->json = bad ? NULL : cJSON_Parse(text);
    free(text);
    if (!f->json)
        return xb_fail(ctx, XB_ERR_INVALID, "%s: %s", f->path,
                       bad ? "cannot read (or larger than 64 MiB)" : "not JSON");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(f->json, "shard");
    if (!cJSON_IsObject(sh))
        return xb_fail(ctx, XB_ERR_INVALID,
                       "%s: not the --json report of an `xbar run --shard K/N` "
                       "(no \"shard\" object)", f->path);
    f->index = count_of(sh, "index");
    f->count = count_of(sh, "count");
    f->first = count_of(sh, "first");
    f->images = count_of(sh, "images");
    f->evaluated = count_of(sh, "evaluated");
    if (f->count < 1 || f->first < 0 || f->evaluated < 1 || f->index < 0 || f->index >= f->count || f->images < 1 ||
        f->images != (long long)num(f->json, "images"))
        return xb_fail(ctx, XB_ERR_INVALID, "%s: malformed \"shard\" object", f->path);
    return XB_OK;
}

static int by_index(const void *a, const void *b) {
    long long x = ((const shard_json *)a)->index, y = ((const shard_json *)b)->index;
    return (x > y) - (x < y);
}

/* One run's shards, all of them, each once, their images contiguous. */
static xb_status check_shards(shard_json *fs, int n, xb_ctx *ctx) {
    qsort(fs, (size_t)n, sizeof *fs, by_index);
    /* Image numbers are absolute: with --offset the first shard starts there. */
    long long next = fs[0].first, start = fs[0].first;
    for (int i = 0; i < n; i++) {
        if (fs[i].count != fs[0].count || fs[i].evaluated != fs[0].evaluated)
            return xb_fail(ctx, XB_ERR_INVALID, "%s is shard %lld/%lld of %lld images, %s shard "
                           "%lld/%lld of %lld: not shards of one run", fs[0].path, fs[0].index,
                           fs[0].count, fs[0].evaluated, fs[i].path, fs[i].index, fs[i].count,
                           fs[i].evaluated);
        if (i > 0 && fs[i].index == fs[i - 1].index)
            return xb_fail(ctx, XB_ERR_INVALID, "%s and %s are both shard %lld/%lld",
                           fs[i - 1].path, fs[i].path, fs[i].index, fs[i].count);
        if (fs[i].index != i)
            return xb_fail(ctx, XB_ERR_INVALID, "shard %d/%lld is missing", i, fs[0].count);
        if (fs[i].first != next)
            return xb_fail(ctx, XB_ERR_INVALID, "%s starts at image #%lld, expected #%lld",
                           fs[i].path, fs[i].first, next);
        next += fs[i].images;
    }
    if (n < fs[0].count)
        return xb_fail(ctx, XB_ERR_INVALID, "shard %d/%lld is missing", n, fs[0].count);
    if (next - start != fs[0].evaluated)
        return xb_fail(ctx, XB_ERR_INVALID, "the shards hold %lld images, the run %lld",
                       next - start, fs[0].evaluated);
    return XB_OK;
}

/* Whether any layer of a report has an "adc_histogram". */
static bool has_hist(const cJSON *root) {
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
    for (const cJSON *l = layers ? layers->child : NULL; l; l = l->next)
        if (cJSON_GetObjectItemCaseSensitive(l, "adc_histogram")) return true;
    return false;
}

/* What only a single process can report (see the top of the file).  The
 * histograms stay when the first shard alone has them: it then holds every
 * profile image and no other shard observed a column sum (no noise forced
 * the full simulation), so they are the unsharded run's. */
static void drop_per_shard(cJSON *base, const shard_json *fs, int n) {
    bool diag = cJSON_GetObjectItemCaseSensitive(base, "diagnosis") != NULL, others = false;
    for (int i = 1; i < n; i++) others |= has_hist(fs[i].json);
    cJSON_DeleteItemFromObjectCaseSensitive(base, "diagnosis");
    cJSON *layers = cJSON_GetObjectItemCaseSensitive(base, "layers");
    for (cJSON *l = layers ? layers->child : NULL; l && others; l = l->next)
        cJSON_DeleteItemFromObjectCaseSensitive(l, "adc_histogram");
    if (diag || others)
        xb_report_note("merge: %s%s%s %s per shard and left out of the merged report (run "
                       "unsharded for them)", diag ? "the diagnosis" : "",
                       others && diag ? " and " : "", others ? "the ADC histograms" : "",
                       others ? "are" : "is");
}

static xb_status merge_checked(shard_json *fs, int n, const char *out, xb_ctx *ctx) {
    for (int i = 0; i < n; i++) XB_TRY(read_shard(&fs[i], ctx));
    XB_TRY(check_shards(fs, n, ctx));
    cJSON *base = cJSON_Duplicate(fs[0].json, true);
    if (!base) return xb_fail(ctx, XB_ERR_NOMEM, "out of memory");
    cJSON_DeleteItemFromObjectCaseSensitive(base, "shard");
    xb_status st = XB_OK;
    for (int i = 1; i < n && st == XB_OK; i++)
        st = merge_obj(base, fs[i].json, CTX_ROOT, "", &fs[0], &fs[i], ctx);
    if (st == XB_OK) {
        drop_per_shard(base, fs, n);
        recompute(base);
        st = xb_json_write(base, out, ctx);
    }
    cJSON_Delete(base);
    return st;
}

xb_status xb_merge_json(const char *out, const char *const *files, int n, xb_ctx *ctx) {
    shard_json *fs = xb_calloc(ctx, (size_t)n, sizeof *fs);
    if (!fs) return ctx->status;
    for (int i = 0; i < n; i++) fs[i].path = files[i];
    xb_status st = merge_checked(fs, n, out, ctx);
    for (int i = 0; i < n; i++) cJSON_Delete(fs[i].json);
    free(fs);
    return st;
}
