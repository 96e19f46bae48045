/* xbar_set_option: the run and data options of `xbar run` that are not the
 * arch (--set) or the quantization: preprocessing, the image window, the
 * profile images and the memory budget.
 *
 * Each option is read by one step, so it must be given before that step:
 * preprocessing and the memory budget are read when the model opens
 * (xb_session_open), --resize/--center-crop/--offset when the data opens
 * (xb_session_open_data), the profile images at each run.  An option given
 * after its step fails and says so, rather than being accepted and silently
 * ignored (the one thing a caller could not notice). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handle.h"
#include "runtime/num.h"

enum { AT_MODEL, AT_DATA, AT_RUN };

typedef struct {
    const char *key;
    int when;           /* AT_*: the step that reads it */
    const char *flag;   /* the CLI's spelling, for messages */
} opt_def;

static const opt_def defs[] = {
    {"mean", AT_MODEL, "--mean"},
    {"std", AT_MODEL, "--std"},
    {"classes", AT_MODEL, "--classes"},
    {"layout", AT_MODEL, "--layout"},
    {"max_memory", AT_MODEL, "--max-memory"},
    {"resize", AT_DATA, "--resize"},
    {"center_crop", AT_DATA, "--center-crop"},
    {"offset", AT_DATA, "--offset"},
    {"profile_images", AT_RUN, "--profile-images"},
};

static const opt_def *find_def(const char *key, size_t n) {
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
        if (strlen(defs[i].key) == n && !strncmp(defs[i].key, key, n)) return &defs[i];
    return NULL;
}

/* The handle owns the strings the session options point to (mean, std,
 * classes): the old copy is freed only once the new one is in place. */
static xb_status keep_string(xbar *h, char **slot, const char **field, const char *v) {
    char *copy = xb_strdup(&h->ctx, v);
    if (!copy) return h->ctx.status;
    free(*slot);
    *slot = copy;
    *field = copy;
    return XB_OK;
}

static xb_status bad(xbar *h, const opt_def *d, const char *v, const char *want) {
    return xb_fail(&h->ctx, XB_ERR_INVALID, "xbar_set_option: %s=%s: %s (as %s)", d->key, v, want,
                   d->flag);
}

static xb_status set_int(xbar *h, const opt_def *d, const char *v, long long lo, long long hi,
                         long long *out) {
    if (!xb_parse_int(v, lo, hi, out)) {
        char want[96];
        snprintf(want, sizeof want, "expected an integer in %lld..%lld", lo, hi);
        return bad(h, d, v, want);
    }
    return XB_OK;
}

static xb_status apply(xbar *h, const opt_def *d, const char *v) {
    xb_session_opts *o = &h->opts;
    long long n;
    if (!strcmp(d->key, "mean")) return keep_string(h, &h->opt_mean, &o->pre.mean, v);
    if (!strcmp(d->key, "std")) return keep_string(h, &h->opt_std, &o->pre.std, v);
    if (!strcmp(d->key, "classes")) return keep_string(h, &h->opt_classes, &o->pre.classes_file, v);
    if (!strcmp(d->key, "layout")) {
        static const char *const names[] = {"auto", "nchw", "nhwc"};
        for (int k = 0; k < 3; k++)
            if (!strcmp(v, names[k])) {
                o->pre.layout = k; /* XB_LAYOUT_AUTO, _NCHW, _NHWC */
                return XB_OK;
            }
        return bad(h, d, v, "expected auto, nchw or nhwc");
    }
    if (!strcmp(d->key, "max_memory")) {
        uint64_t b = 0;
        if (strcmp(v, "0") && (!xb_parse_bytes(v, (uint64_t)1 << 50, &b) || b < ((uint64_t)1 << 20)))
            return bad(h, d, v, "expected 0 (none) or a byte count with K/M/G, 1M to 2^50");
        o->max_memory = b;
        return XB_OK;
    }
    if (!strcmp(d->key, "offset")) {
        XB_TRY(set_int(h, d, v, 0, XB_DATASET_MAX_IMAGES, &n));
        o->offset = n;
        return XB_OK;
    }
    if (!strcmp(d->key, "profile_images")) {
        XB_TRY(set_int(h, d, v, 0, XB_DATASET_MAX_IMAGES, &n));
        o->profile_images = n;
        return XB_OK;
    }
    XB_TRY(set_int(h, d, v, 0, XB_DATASET_MAX_SIDE, &n)); /* resize, center_crop; 0: off */
    if (!strcmp(d->key, "resize")) o->img.resize = (int)n;
    else o->img.crop = (int)n;
    return XB_OK;
}

static xb_status set_option(xbar *h, const char *assignment) {
    if (!assignment) return xb_fail(&h->ctx, XB_ERR_INVALID, "xbar_set_option: NULL assignment");
    const char *eq = strchr(assignment, '=');
    const opt_def *d = eq ? find_def(assignment, (size_t)(eq - assignment)) : NULL;
    if (!d)
        return xb_fail(&h->ctx, XB_ERR_INVALID, "xbar_set_option: '%s' is not KEY=VALUE with KEY one "
                       "of mean, std, classes, layout, max_memory, resize, center_crop, offset, "
                       "profile_images (arch fields go to xbar_set)", assignment);
    if (d->when == AT_MODEL && h->s)
        return xb_fail(&h->ctx, XB_ERR_INVALID, "xbar_set_option: %s is read when the model opens: "
                       "set it before xbar_open_model", d->key);
    if (d->when == AT_DATA && h->s && xb_session_data(h->s))
        return xb_fail(&h->ctx, XB_ERR_INVALID, "xbar_set_option: %s is read when the data opens: "
                       "set it before xbar_open_data / xbar_open_images_*", d->key);
    XB_TRY(apply(h, d, eq + 1));
    if (h->s) xb_session_set_opts(h->s, &h->opts);
    return XB_OK;
}

xbar_status xbar_set_option(xbar *h, const char *assignment) {
    if (!h) return XBAR_ERR_INVALID;
    xb_api_enter(h);
    return xb_api_leave(h, set_option(h, assignment));
}
