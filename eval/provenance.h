/* Provenance: what produced a result, recorded in every JSON report (a
 * "provenance" object) and as "# key: value" comment lines at the top of
 * CSV files, so a number in a paper can be traced back to the exact run.
 *
 * Fields: xbar_version, git_commit (embedded at configure time by CMake;
 * "unknown" when the source was not a git checkout), model and its sha256,
 * data (the spec as given), arch (every field as run, as in --arch-out),
 * command_line, threads, date_utc (ISO 8601, when the record was made). */
#ifndef XBAR_PROVENANCE_H
#define XBAR_PROVENANCE_H

#include <stdio.h>

#include "backend/arch.h"
#include "runtime/status.h"

struct cJSON;

typedef struct {
    const char *model;      /* path, or NULL */
    const char *data;       /* data spec as given, or NULL */
    const xb_arch *arch;    /* as run, or NULL (no analog mode) */
    int argc;               /* the command line (argv[0] "xbar" or a command) */
    char *const *argv;
    int threads;            /* worker threads used; 0: not applicable */
} xb_provenance;

const char *xb_version_string(void);
const char *xb_git_commit(void);

/* The provenance object (the model's sha256 is computed here; "unreadable"
 * when the file cannot be read).  The caller deletes it. */
struct cJSON *xb_provenance_json(const xb_provenance *p);
/* The same fields as "# key: value" lines (the arch as one compact JSON
 * line), for the top of a CSV file. */
void xb_provenance_write_comments(FILE *f, const xb_provenance *p);

#endif
