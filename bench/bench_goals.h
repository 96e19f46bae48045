/* The rows of issue 13 as one run of xbar_bench measures them
 * (bench_goals.c): each timing records its figure and goal, and main
 * prints them together at the end, so one run says which rows met their
 * goal without reading the tables above it. */
#ifndef XBAR_BENCH_GOALS_H
#define XBAR_BENCH_GOALS_H

#include <stdbool.h>

/* One figure: row and model name it, unit "x" (a ratio) or "s"; at_most
 * says the goal is an upper bound (else a lower one).  The strings are
 * copied (cut at 31, 23 and 3 characters); at most 64 rows are kept. */
void bench_goal(const char *row, const char *model, double value, const char *unit, double goal,
                bool at_most);
/* The recorded figures as a table on stdout (nothing if none). */
void bench_goals_print(int threads);

#endif
