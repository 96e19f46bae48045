#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "eval/provenance.h"

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} command;

static const command commands[] = {
#define XB_CMD(name, fn, summary) {name, fn, summary},
#include "cli/commands.def"
#undef XB_CMD
    {NULL, NULL, NULL}};

static void usage(FILE *f) {
    fprintf(f,
            "xbar — run quantized ONNX networks on a simulated RRAM crossbar accelerator\n\n"
            "usage: xbar COMMAND [ARGS...]\n       xbar COMMAND --help\n       xbar --version\n\ncommands:\n");
    for (const command *c = commands; c->name; c++) fprintf(f, "  %-12s %s\n", c->name, c->summary);
}

/* Results go to stdout: a failed write there (a full disk, /dev/full, a
 * closed pipe) is a failure of the job, not a silent success. */
static int finish(int rc) {
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "xbar: writing the results to stdout failed: %s\n",
                errno ? strerror(errno) : "I/O error");
        return rc ? rc : 1;
    }
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    /* Past a file-size limit a write fails with EFBIG, which the writers
     * report, instead of killing the process mid-file. */
    signal(SIGXFSZ, SIG_IGN);
    if (!strcmp(argv[1], "--version")) {
        printf("xbar %s (commit %s)\n", xb_version_string(), xb_git_commit());
        return 0;
    }
    for (const command *c = commands; c->name; c++)
        if (!strcmp(argv[1], c->name)) return finish(c->fn(argc - 1, argv + 1));
    fprintf(stderr, "xbar: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
