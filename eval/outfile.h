/* Output files that are never half-written.
 *
 * Every report file (JSON, CSV, PNG heatmap, histograms, --arch-out) is
 * written to a temporary file in the target's folder and renamed into place
 * once complete (xb_outfile_commit: flush, check every write, fsync, close,
 * rename), so a failure or an interrupt leaves either the old file or the
 * complete new one.  xb_outfile_abort removes the temporary file.
 *
 * "-" is stdout, written directly.  A target that exists and is not a
 * regular file (/dev/null, /dev/full, a FIFO, /dev/stdout) is written
 * directly too: renaming over a device would replace it.
 *
 * xb_outfile_check is for before the computation: the folder exists and is
 * writable, the target is not a folder, and it is none of the inputs
 * (compared by device and inode, so other spellings of the same file are
 * caught too). */
#ifndef XBAR_OUTFILE_H
#define XBAR_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

#include "runtime/status.h"

typedef struct {
    FILE *f;          /* write here (NULL for xb_outfile_open_path) */
    char path[4096];  /* the target */
    char tmp[4200];   /* the temporary file, or the target when direct */
    bool direct;      /* stdout or a non-regular file: no rename */
    bool is_stdout;
} xb_outfile;

/* Create the temporary file and open it for writing in o->f. */
xb_status xb_outfile_open(xb_outfile *o, const char *path, xb_ctx *ctx);
/* The same for writers that take a path and open it themselves: the
 * temporary file is created (empty) and closed; write to o->tmp. */
xb_status xb_outfile_open_path(xb_outfile *o, const char *path, xb_ctx *ctx);
/* Check the writes and move the file into place; on failure the temporary
 * file is removed and the message names the target. */
xb_status xb_outfile_commit(xb_outfile *o, xb_ctx *ctx);
/* Close and remove the temporary file (no-op after commit or when direct). */
void xb_outfile_abort(xb_outfile *o);

/* Flush and close `f` (not stdout: only flushed), reporting any write error
 * on it ("<path>: write failed: <reason>"). */
xb_status xb_close_checked(FILE *f, const char *path, xb_ctx *ctx);

/* `path` can be written and is not one of the n `inputs` (NULL entries are
 * skipped; inputs that do not exist are ignored).  "-" always passes.
 * XB_ERR_INVALID with a message naming `what` (e.g. "--json") otherwise. */
xb_status xb_outfile_check(const char *what, const char *path, const char *const *inputs, int n,
                           xb_ctx *ctx);

#endif
