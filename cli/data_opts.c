#include "cli/data_opts.h"

bool xb_cli_data_opt(xb_args *a, xb_cli_data *o) {
    static const char *layouts[] = {"auto", "nchw", "nhwc", NULL};
    const char *v;
    if (xb_args_opt(a, "--mean", &v)) {
        o->pre.mean = v;
    } else if (xb_args_opt(a, "--std", &v)) {
        o->pre.std = v;
    } else if (xb_args_opt(a, "--classes", &v)) {
        o->pre.classes_file = v;
    } else if (xb_args_opt(a, "--layout", &v)) {
        int k = xb_args_choice(a, v, layouts);
        o->pre.layout = k < 0 ? XB_LAYOUT_AUTO : k;
    } else if (xb_args_opt(a, "--resize", &v)) {
        xb_args_int(a, v, 1, XB_DATASET_MAX_SIDE, &o->resize);
    } else if (xb_args_opt(a, "--center-crop", &v)) {
        xb_args_int(a, v, 1, XB_DATASET_MAX_SIDE, &o->crop);
    } else if (xb_args_opt(a, "--offset", &v)) {
        xb_args_int(a, v, 0, XB_DATASET_MAX_IMAGES, &o->offset);
    } else if (xb_args_opt(a, "--predictions", &v)) {
        o->predictions = v;
    } else {
        return false;
    }
    return true;
}

void xb_cli_data_apply(const xb_cli_data *o, xb_session_opts *so) {
    so->pre = o->pre;
    so->img.resize = (int)o->resize;
    so->img.crop = (int)o->crop;
    so->offset = o->offset;
    so->keep_scores = o->predictions != NULL; /* the CSV's top-5 columns */
}
