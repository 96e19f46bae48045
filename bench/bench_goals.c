/* Issue 13's rows of one xbar_bench run (bench_goals.h). */
#include "bench/bench_goals.h"

#include <stdio.h>

typedef struct {
    char row[32], model[24], unit[4]; /* copies: callers may pass their own buffers */
    double value, goal;
    bool at_most;
} goal_row;

static goal_row rows[64];
static int nrows;

void bench_goal(const char *row, const char *model, double value, const char *unit, double goal,
                bool at_most) {
    if (nrows >= (int)(sizeof rows / sizeof rows[0])) return;
    goal_row *r = &rows[nrows++];
    snprintf(r->row, sizeof r->row, "%s", row);
    snprintf(r->model, sizeof r->model, "%s", model);
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    r->value = value;
    r->goal = goal;
    r->at_most = at_most;
}

void bench_goals_print(int threads) {
    if (!nrows) return;
    int met = 0;
    printf("\nissue 13 rows in this run (%d thread%s; figures as printed above):\n", threads,
           threads == 1 ? "" : "s");
    printf("%-24s %-10s %10s %10s  %s\n", "row", "model", "figure", "goal", "met");
    for (int i = 0; i < nrows; i++) {
        const goal_row *r = &rows[i];
        bool ok = r->at_most ? r->value <= r->goal : r->value >= r->goal;
        met += ok;
        char fig[32], goal[32];
        snprintf(fig, sizeof fig, "%.2f%s", r->value, r->unit);
        snprintf(goal, sizeof goal, "%s %g%s", r->at_most ? "<=" : ">=", r->goal, r->unit);
        printf("%-24s %-10s %10s %10s  %s\n", r->row, r->model, fig, goal, ok ? "yes" : "NO");
    }
    printf("%d of %d rows at their goal\n", met, nrows);
}
