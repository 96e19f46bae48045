/* The C API's handle (include/xbar.h): a session plus what the API adds on
 * top of it: the arch being built, run options, the lock and the buffers
 * whose pointers the API hands out.  Internal to api/. */
#ifndef XBAR_API_HANDLE_H
#define XBAR_API_HANDLE_H

#include <pthread.h>
#include <stdbool.h>

#include "eval/session.h"
#include "include/xbar.h"

struct xbar {
    pthread_mutex_t lock;
    xb_ctx ctx;              /* the last call's status and message */
    xb_session *s;           /* NULL before xbar_open_model */
    xb_session_opts opts;
    char *opt_mean, *opt_std, *opt_classes; /* xbar_set_option's strings, which opts points to */
    /* data */
    char *data_label;        /* what the caller asked for ("mnist", a path, "<memory>") */
    /* arch: "isaac" until set */
    xb_arch arch;
    bool arch_loaded;
    /* quantization */
    int w_bits, x_bits;      /* 0: from the arch, else 8 */
    int64_t calib;
    xb_quant_method method;
    double percentile;
    /* what ran last: XBAR_* flags of xbar_run, or compiled */
    int last_modes;
    bool compiled;
    int qw_bits, qx_bits;    /* bits of the last quantization */
    /* strings handed out */
    char get_buf[256];
    char *json;
};

/* Every public function: lock h, clear its message, run, unlock. */
void xb_api_enter(xbar *h);
xbar_status xb_api_leave(xbar *h, xb_status st);

/* The session, or fail (model not open). */
xb_status xb_api_session(xbar *h, xb_session **s);
/* The arch: loads the "isaac" preset on first use. */
xb_status xb_api_arch(xbar *h, xb_arch **a);

/* results.c: the CLI's JSON reports, built from the session. */
struct cJSON *xb_api_run_json(const xbar *h);
struct cJSON *xb_api_compile_json(const xbar *h);

#endif
