#include "cli/interrupt.h"

#include <string.h>

volatile sig_atomic_t xb_cli_stop;

static void on_signal(int sig) {
    if (!xb_cli_stop) xb_cli_stop = sig;
}

void xb_cli_trap_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* one-shot: a second Ctrl-C stops at once */
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGXFSZ, SIG_IGN);
}

int xb_cli_interrupt_status(void) { return xb_cli_stop ? 128 + xb_cli_stop : 0; }
