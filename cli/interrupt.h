/* SIGINT / SIGTERM for the long-running commands (run, sweep).
 *
 * The handler only records the signal in xb_cli_stop; the library checks
 * that flag through the cancel pointer of its options (xb_run_opts.cancel,
 * xb_session_opts.cancel) between images, and sweep checks it between
 * configurations.  A second signal of the same kind kills the process the
 * default way.  Exit status after an interrupt: 128 + signal (130, 143). */
#ifndef XBAR_CLI_INTERRUPT_H
#define XBAR_CLI_INTERRUPT_H

#include <signal.h>

/* 0, or the number of the first SIGINT/SIGTERM received. */
extern volatile sig_atomic_t xb_cli_stop;

/* Install the handlers (and ignore SIGXFSZ, so a file-size limit makes
 * writes fail with EFBIG, which is reported, instead of killing us). */
void xb_cli_trap_signals(void);
/* 128 + the signal received, or 0. */
int xb_cli_interrupt_status(void);

#endif
