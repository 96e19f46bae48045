/* SHA-256, progress lines, SVG plots and the sweep CSV reader (issue 15). */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/plots.h"
#include "eval/progress.h"
#include "eval/provenance.h"
#include "eval/sha256.h"
#include "eval/svg.h"
#include "tests/test_tmp.h"

static void hex_of(const char *msg, size_t n, char out[65]) {
    xb_sha256 s;
    xb_sha256_init(&s);
    xb_sha256_update(&s, msg, n);
    xb_sha256_hex(&s, out);
}

/* FIPS 180-4 example vectors (NIST CSRC "SHA256.pdf", one and two blocks),
 * the empty message, and a million 'a' fed in uneven pieces. */
Test(reports, sha256_known_vectors) {
    char h[65];
    hex_of("abc", 3, h);
    cr_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two, strlen(two), h);
    cr_assert_str_eq(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    hex_of("", 0, h);
    cr_assert_str_eq(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    xb_sha256 s;
    xb_sha256_init(&s);
    char a[997];
    memset(a, 'a', sizeof a);
    size_t left = 1000000;
    while (left) {
        size_t k = left < sizeof a ? left : sizeof a;
        xb_sha256_update(&s, a, k);
        left -= k;
    }
    xb_sha256_hex(&s, h);
    cr_assert_str_eq(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static double fake_now;
static double fake_clock(void) { return fake_now; }

/* Lines mode: one line per interval with k/N, rate and ETA; none between. */
Test(reports, progress_lines_every_interval) {
    const char *path = xb_tmp("progress.txt");
    cr_assert(freopen(path, "w", stderr));
    xb_progress *p = xb_progress_start(XB_PROGRESS_LINES, "analog", 100);
    cr_assert(p);
    fake_now = 0;
    xb_progress_set_clock(p, fake_clock, 10.0);
    for (int i = 1; i <= 100; i++) {
        fake_now = i * 0.5; /* 2 items per second: 50 s in all */
        xb_progress_update(p, i);
    }
    xb_progress_done(p);
    fflush(stderr);
    FILE *f = fopen(path, "r");
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        if (n == 1) cr_assert(strstr(line, "analog: 20/100 (20%), 2.00/s, elapsed 10s, ETA 40s"), "%s", line);
    }
    fclose(f);
    cr_assert_eq(n, 6, "5 interval lines and a final one, got %d", n); /* at 10, 20, 30, 40, 50 s + done */
    cr_assert_eq(xb_progress_parse("lines"), XB_PROGRESS_LINES);
    cr_assert_eq(xb_progress_parse("x"), -1);
    cr_assert_null(xb_progress_start(XB_PROGRESS_NONE, "x", 10));
}

/* The sweep's Pareto plot: the front joins exactly the non-dominated rows. */
Test(reports, sweep_pareto_front) {
    const char *path = xb_tmp("s.csv");
    const char *csv = "# xbar_version: test\n"
                      "adc.bits,images,analog_accuracy,int8_accuracy,energy_pj_per_inference\n"
                      "3,10,0.2,0.9,1000\n4,10,0.5,0.9,2000\n5,10,0.4,0.9,3000\n6,10,0.9,0.9,4000\n";
    xb_write_bytes(path, csv, strlen(csv));
    xb_sweep_csv t;
    xb_ctx ctx = {0};
    cr_assert_eq(xb_sweep_csv_read(path, &t, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(t.n_rows, 4);
    cr_assert_eq(t.n_keys, 1);
    cr_assert_eq(t.n_comments, 1);
    xb_plots p = {0};
    cr_assert_eq(xb_plots_from_sweep(&t, &p, &ctx), XB_OK);
    cr_assert_eq(p.n, 1);
    /* 3 points on the front (1, 2, 4 nJ), so the polyline has 3 vertices */
    const char *pl = strstr(p.p[0].svg, "<polyline");
    cr_assert(pl);
    const char *pts = strstr(pl, "points='") + 8, *end = strchr(pts, '\'');
    int commas = 0;
    for (const char *c = pts; c < end; c++) commas += *c == ',';
    cr_assert_eq(commas, 3);
    cr_assert_null(strstr(p.p[0].svg, "<script"));
    xb_plots_free(&p);
    xb_sweep_csv_free(&t);
    const char *bad = "a,b\n1,2\n";
    xb_write_bytes(path, bad, strlen(bad));
    cr_assert_eq(xb_sweep_csv_read(path, &t, &ctx), XB_ERR_PARSE);
}

/* Text in SVG is escaped; provenance names the version and the command. */
Test(reports, svg_escapes_and_provenance) {
    xb_svg g;
    xb_svg_begin(&g, 100, 100, "t", "a<b & \"c\"");
    char *s = xb_svg_end(&g);
    cr_assert(strstr(s, "a&lt;b &amp; &quot;c&quot;"));
    free(s);
    char *argv[] = {"run", "it's here"};
    xb_provenance pv = {.argc = 2, .argv = argv, .threads = 3};
    cJSON *j = xb_provenance_json(&pv);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "command_line")->valuestring, "xbar run 'it'\\''s here'");
    cr_assert_eq(cJSON_GetObjectItem(j, "threads")->valuedouble, 3);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "xbar_version")->valuestring, xb_version_string());
    cJSON_Delete(j);
}

/* note_now: a line at once in lines mode (a sweep's finished configuration). */
Test(reports, progress_note_now) {
    const char *path = xb_tmp("note.txt");
    cr_assert(freopen(path, "w", stderr));
    xb_progress *p = xb_progress_start(XB_PROGRESS_LINES, "sweep", 4);
    fake_now = 0;
    xb_progress_set_clock(p, fake_clock, 10.0);
    fake_now = 1;
    xb_progress_note_now(p, 1, "config 1/4 (adc.bits=5)");
    fake_now = 2;
    xb_progress_note(p, 2, "config 2/4 (adc.bits=6)"); /* within the interval: quiet */
    fflush(stderr);
    char buf[512];
    FILE *f = fopen(path, "r");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    cr_assert(strstr(buf, "sweep: 1/4 (25%) config 1/4 (adc.bits=5), 1.00/s, elapsed 1s, ETA 3s\n"), "%s", buf);
    cr_assert_null(strstr(buf, "config 2/4"), "%s", buf);
    xb_progress_done(p);
}
