/* --shard K/N and xbar merge (docs/SCALE.md): N shards of a sweep merged
 * give the unsharded sweep's CSV, N shards of a run merged give the
 * unsharded run's JSON report (timing aside), and every way shards can fail
 * to fit together is refused with a message naming it. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/cli_util.h"
#include "tests/test_tmp.h"

#define MODEL XBAR_SOURCE_DIR "/models/lenet5_mnist.onnx"
#define DATA XBAR_SOURCE_DIR "/datasets/samples/mnist/t10k-images-idx3-ubyte.gz"
/* 3 x 2 configurations on 24 images */
#define SWEEP                                                                                      \
    "sweep '" MODEL "' --data '" DATA "' --limit 24 --calib 20 --arch isaac --vary adc.bits=5:7 " \
    "--vary encoding=offset,differential"

static void fini(void) { xb_tmp_cleanup(); }

static char buf_a[1 << 16], buf_b[1 << 16];

/* The CSV without its images_per_s column (the 14th with two varied keys). */
static void strip_timing(const char *path, char *out, size_t n) {
    static char raw[1 << 16];
    xb_slurp_csv(path, raw, sizeof raw);
    size_t o = 0;
    int col = 0;
    for (const char *c = raw; *c && o + 1 < n; c++) {
        if (*c == '\n') col = 0;
        else if (*c == ',') col++;
        if (col != 13 || *c == '\n') out[o++] = *c;
    }
    out[o] = '\0';
}

static void sweep(const char *extra, const char *csv) {
    char args[4096];
    snprintf(args, sizeof args, SWEEP " %s --csv '%s'", extra, xb_tmp(csv));
    cr_assert_eq(xb_cli_run(args), 0, "%s: %s", args, xb_cli_err);
}

static int merge(const char *what, const char *files) {
    char args[8192]; /* "merge", what (up to 1 KiB) and files (up to 4 KiB) */
    snprintf(args, sizeof args, "merge %s %s", what, files);
    return xb_cli_run(args);
}

Test(shard, sweep_shards_merge_into_the_unsharded_csv, .fini = fini) {
    if (access(MODEL, R_OK) || access(DATA, R_OK)) cr_skip_test("no model or sample data");
    sweep("", "full.csv");
    sweep("--shard 0/3", "s0.csv");
    sweep("--shard 1/3", "s1.csv");
    sweep("--shard 2/3", "s2.csv");
    /* shard 1 of 3 holds configurations 1 and 4 (snake order 0 1 2 2 1 0):
     * (5, differential), (7, offset) */
    xb_slurp(xb_tmp("s1.csv"), buf_a, sizeof buf_a);
    cr_assert(strstr(buf_a, "# xbar-shard 1/3 configurations=6 sweep="), "%s", buf_a);
    cr_assert(strstr(buf_a, "\n5,differential,24,") && strstr(buf_a, "\n7,offset,24,"), "%s",
              buf_a);
    cr_assert(!strstr(buf_a, "\n5,offset,"), "%s", buf_a);
    /* comment lines: shard 0's are kept, the others' ignored */
    FILE *f = fopen(xb_tmp("s0.csv"), "r");
    char rest[1 << 14];
    size_t n = fread(rest, 1, sizeof rest - 1, f);
    fclose(f);
    rest[n] = '\0';
    f = fopen(xb_tmp("s0.csv"), "w");
    fprintf(f, "# provenance: kept\n%s", rest);
    fclose(f);
    f = fopen(xb_tmp("s2.csv"), "a");
    fputs("# a note: dropped\n", f);
    fclose(f);
    char files[2048];
    snprintf(files, sizeof files, "'%s' '%s' '%s'", xb_tmp("s2.csv"), xb_tmp("s0.csv"),
             xb_tmp("s1.csv"));
    char what[1024];
    snprintf(what, sizeof what, "--csv '%s'", xb_tmp("m.csv"));
    cr_assert_eq(merge(what, files), 0, "%s", xb_cli_err);
    xb_slurp(xb_tmp("m.csv"), buf_b, sizeof buf_b);
    /* shard 0's '#' lines (ours, then the sweep's own provenance), then the rows */
    cr_assert(!strncmp(buf_b, "# provenance: kept\n# xbar_version: ", 35), "%s", buf_b);
    cr_assert(strstr(buf_b, "\nadc.bits,encoding,"), "%s", buf_b);
    cr_assert(!strstr(buf_b, "dropped") && !strstr(buf_b, "xbar-shard"), "%s", buf_b);
    strip_timing(xb_tmp("full.csv"), buf_a, sizeof buf_a);
    strip_timing(xb_tmp("m.csv"), buf_b, sizeof buf_b);
    cr_assert_str_eq(buf_b, buf_a);
}

Test(shard, an_interrupted_shard_resumes, .fini = fini) {
    if (access(MODEL, R_OK) || access(DATA, R_OK)) cr_skip_test("no model or sample data");
    sweep("--shard 0/2", "s0.csv");
    char args[4096];
    snprintf(args, sizeof args, "XBAR_TEST_SWEEP_STOP_AFTER=1 '%s' " SWEEP
             " --shard 1/2 --csv '%s' 2>/dev/null", xb_cli_path(), xb_tmp("s1.csv"));
    cr_assert_eq(system(args) >> 8, 130);
    /* the partial shard cannot be merged: its missing configurations are named */
    char files[2048], what[1024];
    snprintf(files, sizeof files, "'%s' '%s'", xb_tmp("s0.csv"), xb_tmp("s1.csv.partial"));
    snprintf(what, sizeof what, "--csv '%s'", xb_tmp("m.csv"));
    cr_assert_eq(merge(what, files), 1);
    /* shard 1 of 2 holds configurations 1, 2 and 5 (snake order: 0 1 1 0 0 1) */
    cr_assert(strstr(xb_cli_err, "2 of 6 configurations are missing: adc.bits=6 "
                                 "encoding=offset (shard 1, "),
              "%s", xb_cli_err);
    cr_assert_neq(access(xb_tmp("m.csv"), F_OK), 0);
    /* resumed as another shard: refused */
    snprintf(args, sizeof args, SWEEP " --shard 0/2 --csv '%s' --resume", xb_tmp("s1.csv"));
    cr_assert_eq(xb_cli_run(args), 2, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_err, "not from this shard"), "%s", xb_cli_err);
    sweep("--shard 1/2 --resume", "s1.csv");
    cr_assert(strstr(xb_cli_err, "1 of 6 configurations already"), "%s", xb_cli_err);
    snprintf(files, sizeof files, "'%s' '%s'", xb_tmp("s1.csv"), xb_tmp("s0.csv"));
    cr_assert_eq(merge(what, files), 0, "%s", xb_cli_err);
    sweep("", "full.csv");
    strip_timing(xb_tmp("full.csv"), buf_a, sizeof buf_a);
    strip_timing(xb_tmp("m.csv"), buf_b, sizeof buf_b);
    cr_assert_str_eq(buf_b, buf_a);
}

Test(shard, merge_refuses_shards_that_do_not_fit, .fini = fini) {
    if (access(MODEL, R_OK) || access(DATA, R_OK)) cr_skip_test("no model or sample data");
    sweep("--shard 0/2", "s0.csv");
    sweep("--shard 1/2", "s1.csv");
    sweep("--shard 1/2 --limit 20", "other.csv"); /* a different sweep */
    sweep("", "full.csv");
    char what[1024], files[2048];
    snprintf(what, sizeof what, "--csv '%s'", xb_tmp("m.csv"));
    struct {
        const char *a, *b, *msg;
    } cases[] = {
        {"s0.csv", "s0.csv", "are both shard 0/2"},
        {"s0.csv", "other.csv", "shards of different sweeps"},
        {"s0.csv", "full.csv", "no '# xbar-shard' line"},
        {"s1.csv", NULL, "1 of 2 shards missing: 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(files, sizeof files, "'%s' '%s'", xb_tmp(cases[i].a),
                 cases[i].b ? xb_tmp(cases[i].b) : "");
        if (!cases[i].b) snprintf(files, sizeof files, "'%s'", xb_tmp(cases[i].a));
        cr_assert_eq(merge(what, files), 1, "%s", files);
        cr_assert(strstr(xb_cli_err, cases[i].msg), "%s: %s", cases[i].msg, xb_cli_err);
        cr_assert_neq(access(xb_tmp("m.csv"), F_OK), 0);
    }
    /* a row moved to the wrong shard */
    xb_slurp(xb_tmp("s0.csv"), buf_a, sizeof buf_a);
    char *row = strstr(buf_a, "\n5,differential,");
    cr_assert_null(row);
    xb_slurp(xb_tmp("s1.csv"), buf_b, sizeof buf_b);
    row = strstr(buf_b, "\n5,differential,");
    cr_assert_not_null(row);
    FILE *f = fopen(xb_tmp("s0.csv"), "a");
    fwrite(row + 1, 1, (size_t)(strchr(row + 1, '\n') - row), f);
    fclose(f);
    snprintf(files, sizeof files, "'%s' '%s'", xb_tmp("s0.csv"), xb_tmp("s1.csv"));
    cr_assert_eq(merge(what, files), 1);
    cr_assert(strstr(xb_cli_err, "has the row of adc.bits=5 encoding=differential, which belongs "
                                 "to shard 1"), "%s", xb_cli_err);
    /* usage: the output is one of the shards, no --csv/--json, a bad K/N */
    snprintf(what, sizeof what, "--csv '%s'", xb_tmp("s1.csv"));
    cr_assert_eq(merge(what, files), 2);
    cr_assert_eq(merge("", files), 2);
    const char *bad[] = {"2/2", "1/0", "-1/2", "1", "a/b", "1/2/3", "0/99999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char args[4096];
        snprintf(args, sizeof args, SWEEP " --shard '%s'", bad[i]);
        cr_assert_eq(xb_cli_run(args), 2, "--shard %s", bad[i]);
        cr_assert(strstr(xb_cli_err, "--shard"), "%s", xb_cli_err);
    }
}

/* Every field of a equals b's, except timing (seconds, images/s, threads). */
static void same_json(const cJSON *a, const cJSON *b, const char *path) {
    cr_assert_eq(a->type & 0xff, b->type & 0xff, "%s: type", path);
    if (cJSON_IsObject(a) || cJSON_IsArray(a)) {
        cr_assert_eq(cJSON_GetArraySize(a), cJSON_GetArraySize(b), "%s: size", path);
        const cJSON *y = b->child;
        for (const cJSON *x = a->child; x; x = x->next, y = y->next) {
            if (x->string) {
                cr_assert_str_eq(x->string, y->string, "%s: key order", path);
                if (!strcmp(x->string, "seconds") || !strcmp(x->string, "images_per_s") ||
                    !strcmp(x->string, "threads"))
                    continue;
            }
            char p[512];
            snprintf(p, sizeof p, "%.400s.%.64s", path, x->string ? x->string : "[]");
            same_json(x, y, p);
        }
    } else if (cJSON_IsNumber(a)) {
        cr_assert_eq(a->valuedouble, b->valuedouble, "%s: %.17g vs %.17g", path, a->valuedouble,
                     b->valuedouble);
    } else if (cJSON_IsString(a)) {
        cr_assert_str_eq(a->valuestring, b->valuestring, "%s", path);
    }
}

/* `run` (a command prefix) as shards k = n-1 .. 0 of n (the order must not
 * matter), each writing PREFIXk.json; their quoted paths appended to files. */
static void run_shards(const char *run, const char *prefix, int n, char *files, size_t cap) {
    for (int k = n - 1; k >= 0; k--) {
        char name[32], args[4096];
        snprintf(name, sizeof name, "%s%d.json", prefix, k);
        snprintf(args, sizeof args, "%s --shard %d/%d --json '%s'", run, k, n, xb_tmp(name));
        cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
        size_t o = strlen(files);
        snprintf(files + o, cap - o, " '%s'", xb_tmp(name));
    }
}

/* The unsharded report full_json (already written) and the merge of
 * `run`'s n shards into PREFIXm.json, loaded, both without what a merge
 * keeps per shard only: the diagnosis, and the provenance (the first
 * shard's).  shard0_says, when not NULL: text the last shard run (#0)
 * printed. */
static void full_and_merged(const char *run, const char *prefix, int n, const char *shard0_says,
                            const char *full_json, cJSON **full, cJSON **m) {
    char files[4096] = "", name[32], what[1024];
    run_shards(run, prefix, n, files, sizeof files);
    if (shard0_says) cr_assert(strstr(xb_cli_out, shard0_says), "%s", xb_cli_out);
    snprintf(name, sizeof name, "%sm.json", prefix);
    snprintf(what, sizeof what, "--json '%s'", xb_tmp(name));
    cr_assert_eq(merge(what, files), 0, "%s", xb_cli_err);
    *full = xb_cli_json(xb_tmp(full_json));
    *m = xb_cli_json(xb_tmp(name));
    cJSON_DeleteItemFromObject(*full, "diagnosis");
    cJSON_DeleteItemFromObject(*full, "provenance");
    cJSON_DeleteItemFromObject(*m, "provenance");
}

#define RUN "run '" MODEL "' --data '" DATA "' --limit 40 --arch isaac --set adc.bits=5"

Test(shard, run_shards_merge_into_the_unsharded_report, .fini = fini) {
    if (access(MODEL, R_OK) || access(DATA, R_OK)) cr_skip_test("no model or sample data");
    char args[4096], files[4096];
    snprintf(args, sizeof args, RUN " --json '%s'", xb_tmp("full.json"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    /* 5 shards of 8 images: the 16 profiled images (#0..#15) span two */
    cJSON *full, *m;
    full_and_merged(RUN, "r", 5, "evaluating 8 (#0..#7), shard 0/5 of 40", "full.json", &full, &m);
    /* per shard too, left out of this merge (cli/merge_json.c): the ADC
     * histograms, which two shards hold */
    cJSON *fl = cJSON_GetObjectItem(full, "layers");
    for (cJSON *l = fl ? fl->child : NULL; l; l = l->next) cJSON_DeleteItemFromObject(l, "adc_histogram");
    /* the analog run saturates at 5 bits: the rates are real merges */
    const cJSON *an = cJSON_GetObjectItem(full, "analog");
    cr_assert_gt(xb_cli_num(cJSON_GetObjectItem(full, "totals"), "saturation_rate"), 0);
    cr_assert_lt(xb_cli_num(an, "correct"), 40);
    same_json(full, m, "");
    cJSON_Delete(full);
    cJSON_Delete(m);
    /* a shard missing, or of another run: refused */
    char what[1024];
    snprintf(what, sizeof what, "--json '%s'", xb_tmp("rm.json"));
    snprintf(files, sizeof files, "'%s' '%s'", xb_tmp("r0.json"), xb_tmp("r1.json"));
    cr_assert_eq(merge(what, files), 1);
    cr_assert(strstr(xb_cli_err, "shard 2/5 is missing"), "%s", xb_cli_err);
    snprintf(args, sizeof args, RUN " --set adc.bits=6 --shard 1/5 --json '%s'", xb_tmp("x1.json"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    snprintf(files, sizeof files, "'%s' '%s' '%s' '%s' '%s'", xb_tmp("r0.json"), xb_tmp("x1.json"),
             xb_tmp("r2.json"), xb_tmp("r3.json"), xb_tmp("r4.json"));
    cr_assert_eq(merge(what, files), 1);
    cr_assert(strstr(xb_cli_err, "differ at"), "%s", xb_cli_err);
    /* shards and per-layer files do not mix; more shards than images */
    snprintf(args, sizeof args, RUN " --shard 0/2 --csv '%s'", xb_tmp("l.csv"));
    cr_assert_eq(xb_cli_run(args), 2);
    snprintf(args, sizeof args, RUN " --shard 0/41");
    cr_assert_eq(xb_cli_run(args), 2);
    cr_assert(strstr(xb_cli_err, "40 images cannot make 41 shards"), "%s", xb_cli_err);
}

/* The profile images are the window's first: an --offset run measures its
 * ADC statistics on its own first images (images #0..#15 are not in it),
 * and when the first shard holds them all the merged report keeps its
 * histograms, equal to the unsharded run's (cli/merge_json.c). */
#define WIN "run '" MODEL "' --data '" DATA "' --offset 50 --limit 30 --arch isaac --profile-images 8"

Test(shard, offset_runs_profile_their_first_images_and_shards_merge_with_histograms, .fini = fini) {
    if (access(MODEL, R_OK) || access(DATA, R_OK)) cr_skip_test("no model or sample data");
    char args[4096];
    snprintf(args, sizeof args, WIN " --json '%s'", xb_tmp("win.json"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_out, "(profile images: #50..#57)"), "%s", xb_cli_out);
    cJSON *full, *m; /* shards of 10: the first holds #50..#57 */
    full_and_merged(WIN, "w", 3, NULL, "win.json", &full, &m);
    const cJSON *l0 = cJSON_GetArrayItem(cJSON_GetObjectItem(full, "layers"), 0);
    cr_assert_gt(xb_cli_num(l0, "observed_conversions"), 0);
    cr_assert_not_null(cJSON_GetObjectItem(l0, "adc_histogram"));
    cr_assert_eq(xb_cli_num(cJSON_GetObjectItem(full, "totals"), "profile_first"), 50);
    same_json(full, m, "");
    cJSON_Delete(full);
    cJSON_Delete(m);
}
