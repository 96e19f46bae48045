/* The memory budget of a run (--max-memory BYTES, docs/arch-eval.md
 * "Memory per run"): what a run will hold is estimated from the model and
 * the thread count, and from the dataset's header, before any of it is
 * allocated, so a run that would not fit stops with a message naming the
 * file, the flag and the numbers instead of growing until the system
 * kills it.
 *
 * Charged:
 *   model     the float graph's constants (weights), as loaded
 *   threads   x (activation blocks + the largest node scratch of one
 *             image: xb_exec_plan_bytes), one xb_exec per worker thread
 *   dataset   gzipped IDX files: their pixels (n x h x w bytes from the
 *             header, decompressed straight into the dataset; a training
 *             split opened for calibration: only the images kept) and
 *             labels; gzipped CIFAR files: 2 x their pixels (from the gzip
 *             size trailer), the reader's growing buffer plus the dataset
 *             it is copied into; plain files: their labels (they stay
 *             open and are read image by image); image folders: their
 *             files' paths and labels (decoded one image at a time per
 *             thread, xb_dataset_pixels).
 * Not charged: the program itself (about 3 MB), the int8 graph and the
 * programmed crossbars of --mode int8/analog (the same order as the
 * weights; see the table in docs/arch-eval.md), the execs that keep every
 * activation (one for calibration, two per thread of a triggered
 * collapse diagnosis: ResNet-20 1.6 MB each, capped at 64 MiB by
 * eval/diagnose.c), allocator overhead.  So
 * the bound is an estimate of the large parts, not an RSS ceiling. */
#ifndef XBAR_MEMBUDGET_H
#define XBAR_MEMBUDGET_H

#include <stdint.h>

#include "runtime/ir.h"

/* Bytes of the graph's constant tensors. */
uint64_t xb_mem_model_bytes(const xb_graph *g);
/* Model plus `threads` executors of g (threads <= 0: OpenMP's count, which
 * the runner then starts), in *used; XB_ERR_INVALID naming
 * `model` and --max-memory when that exceeds `limit` (0: no limit, only
 * *used is computed).  Allocates nothing of the size it checks. */
xb_status xb_mem_check_model(const xb_graph *g, const char *model, int threads, uint64_t limit,
                             uint64_t *used, xb_ctx *ctx);
/* What loading dataset `spec` (as xb_dataset_open_opts takes it) will
 * hold, from its header, size or folder listing, without decoding it (the
 * "dataset" term above).  0 when unknown (a missing file: the loader
 * reports it). */
uint64_t xb_mem_dataset_bytes(const char *spec);
/* The same when only the first `keep` images are held (< 0: all;
 * xb_dataset_open_head). */
uint64_t xb_mem_dataset_bytes_head(const char *spec, int64_t keep);
/* XB_ERR_INVALID naming `spec` and --max-memory when used + the dataset's
 * bytes exceed `limit` (0: no limit). */
xb_status xb_mem_check_dataset(const char *spec, uint64_t used, uint64_t limit, xb_ctx *ctx);
xb_status xb_mem_check_dataset_head(const char *spec, int64_t keep, uint64_t used, uint64_t limit,
                                    xb_ctx *ctx);

#endif
