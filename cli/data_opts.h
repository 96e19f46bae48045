/* The data and preprocessing options of xbar run: --mean, --std,
 * --classes, --layout (the model's input, for models without xbar's
 * metadata), --resize, --center-crop, --offset (the images) and
 * --predictions (per-image CSV).  Kept apart from cmd_run.c so another
 * command can take the same flags. */
#ifndef XBAR_CLI_DATA_OPTS_H
#define XBAR_CLI_DATA_OPTS_H

#include "cli/args.h"
#include "eval/session.h"

typedef struct {
    xb_preproc_opts pre;
    long long resize, crop, offset;
    const char *predictions;
} xb_cli_data;

/* Consumes one of the options at the current argument; true if it did
 * (a bad value is recorded in `a` as a usage error). */
bool xb_cli_data_opt(xb_args *a, xb_cli_data *o);
/* Copy them into the session options. */
void xb_cli_data_apply(const xb_cli_data *o, xb_session_opts *so);

#define XB_CLI_DATA_HELP                                                                           \
    "preprocessing (override or supply the model's xbar.* metadata; see xbar meta):\n"            \
    "  --mean M1,M2,M3     per-channel mean of pixel/255 (one value: every channel)\n"            \
    "  --std S1,S2,S3      per-channel std; input = (pixel/255 - mean) / std\n"                   \
    "  --classes FILE      class names, one a line, in output order (matched to the\n"           \
    "                      data's class folder names)\n"                                          \
    "  --layout L          nchw | nhwc: the model input's layout (default: NCHW unless\n"        \
    "                      only the last dimension can be a channel count)\n"                    \
    "  --resize N          image folders: scale the shorter side to N (bilinear)\n"              \
    "  --center-crop M     image folders: then keep the central M x M\n"                          \
    "  --offset N          evaluate from image #N on (with --limit: a window)\n"                  \
    "  --predictions F     per-image CSV: index, file, label, top-1 class and top-5 of\n"   \
    "                      each mode\n"

#endif
