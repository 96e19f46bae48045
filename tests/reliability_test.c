/* The CLI under hostile or unlucky conditions: flag values that would
 * overflow, full disks and file-size limits, outputs that are inputs,
 * interrupts (SIGINT, SIGTERM) and --resume, oversized or lying datasets,
 * FIFOs, metadata naming arbitrary paths, and thread-count independence of
 * noisy runs down to the JSON bytes. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <png.h>

#include "tests/cli_util.h"
#include "tests/onnx_builder.h"
#include "tests/test_tmp.h"

#define MODEL XBAR_SOURCE_DIR "/models/lenet5_mnist.onnx"
#define DATA XBAR_SOURCE_DIR "/datasets/samples/mnist/t10k-images-idx3-ubyte.gz"

static void fini(void) { xb_tmp_cleanup(); }

static char buf_a[1 << 20], buf_b[1 << 20];

/* The exit status of a shell command line (fails the test on a signal). */
static int shell(const char *cmd) {
    int st = system(cmd);
    cr_assert(WIFEXITED(st), "%s did not exit", cmd);
    return WEXITSTATUS(st);
}

/* --- flags -------------------------------------------------------------------- */

Test(reliability, overflowing_flag_values_are_usage_errors, .fini = fini) {
    char args[4096];
    static const char *bad[] = {
        "--vary adc.bits=99999999999999999999:99999999999999999999",
        "--vary adc.bits=-9223372036854775808:9223372036854775807",
        "--vary adc.bits=1:8:0",
        "--vary adc.bits=1:200",
        "--vary adc.bits=4,5,",
        "--vary adc.bits=1:2 --limit 99999999999999999999999",
        "--vary adc.bits=1:2 --threads -1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args, "sweep '%s' --data '%s' --arch isaac %s", MODEL, DATA, bad[i]);
        cr_assert_eq(xb_cli_run(args), 2, "%s: %s", bad[i], xb_cli_err);
        cr_assert(strstr(xb_cli_err, "--vary") || strstr(xb_cli_err, "--limit") ||
                      strstr(xb_cli_err, "--threads"),
                  "%s: the message names no flag: %s", bad[i], xb_cli_err);
    }
    snprintf(args, sizeof args, "run '%s' --data '%s' --percentile 1e999", MODEL, DATA);
    cr_assert_eq(xb_cli_run(args), 2);
    cr_assert(strstr(xb_cli_err, "--percentile"), "%s", xb_cli_err);
}

Test(reliability, threads_clamped_to_processors, .fini = fini) {
    if (access(MODEL, R_OK) || access(DATA, R_OK)) cr_skip_test("no model or sample data");
    char args[4096];
    snprintf(args, sizeof args, "run '%s' --data '%s' --limit 40 --mode float --threads 1024 --json '%s'",
             MODEL, DATA, xb_tmp("t.json"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    long procs = sysconf(_SC_NPROCESSORS_ONLN);
    cJSON *j = xb_cli_json(xb_tmp("t.json"));
    cr_assert_leq(xb_cli_num(cJSON_GetObjectItem(j, "float"), "threads"), procs);
    cJSON_Delete(j);
    if (procs < 1024) cr_assert(strstr(xb_cli_err, "processors available"), "%s", xb_cli_err);
}

/* --- writing outputs ---------------------------------------------------------- */

Test(reliability, write_errors_exit_1_naming_the_file, .fini = fini) {
    if (access(MODEL, R_OK) || access(DATA, R_OK)) cr_skip_test("no model or sample data");
    if (access("/dev/full", W_OK)) cr_skip_test("no /dev/full");
    char args[4096];
    snprintf(args, sizeof args,
             "sweep '%s' --data '%s' --limit 10 --arch isaac --vary adc.bits=6:7 --csv /dev/full",
             MODEL, DATA);
    cr_assert_eq(xb_cli_run(args), 1, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_err, "/dev/full"), "%s", xb_cli_err);
    snprintf(args, sizeof args, "run '%s' --data '%s' --limit 10 --mode float --json /dev/full",
             MODEL, DATA);
    cr_assert_eq(xb_cli_run(args), 1, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_err, "/dev/full"), "%s", xb_cli_err);
    struct stat sb;
    cr_assert(stat("/dev/full", &sb) == 0 && S_ISCHR(sb.st_mode), "/dev/full was replaced");
}

/* The per-layer CSVs of backend/profile.c and stdout are checked too: a
 * failed write exits 1 naming the flag, and the old file stays. */
Test(reliability, profile_csv_and_stdout_write_errors, .fini = fini) {
    if (access(MODEL, R_OK) || access(DATA, R_OK)) cr_skip_test("no model or sample data");
    char cmd[8192];
    xb_write_bytes(xb_tmp("h.csv"), "old\n", 4);
    snprintf(cmd, sizeof cmd,
             "ulimit -f 1; '%s' run '%s' --data '%s' --limit 5 --calib 5 --arch isaac "
             "--adc-hist '%s' >/dev/null 2>'%s'",
             xb_cli_path(), MODEL, DATA, xb_tmp("h.csv"), xb_tmp("err"));
    cr_assert_eq(shell(cmd), 1);
    xb_slurp(xb_tmp("err"), buf_a, sizeof buf_a);
    cr_assert(strstr(buf_a, "--adc-hist") && strstr(buf_a, "write failed"), "%s", buf_a);
    xb_slurp(xb_tmp("h.csv"), buf_b, sizeof buf_b);
    cr_assert_str_eq(buf_b, "old\n");
    if (access("/dev/full", W_OK)) return;
    snprintf(cmd, sizeof cmd, "'%s' run '%s' --data '%s' --limit 5 --calib 5 --arch isaac --csv /dev/full "
             ">/dev/null 2>'%s'", xb_cli_path(), MODEL, DATA, xb_tmp("err"));
    cr_assert_eq(shell(cmd), 1);
    xb_slurp(xb_tmp("err"), buf_a, sizeof buf_a);
    cr_assert(strstr(buf_a, "/dev/full: write failed"), "%s", buf_a);
    snprintf(cmd, sizeof cmd, "'%s' compile '%s' >/dev/full 2>'%s'", xb_cli_path(), MODEL,
             xb_tmp("err"));
    cr_assert_eq(shell(cmd), 1);
    xb_slurp(xb_tmp("err"), buf_a, sizeof buf_a);
    cr_assert(strstr(buf_a, "stdout failed"), "%s", buf_a);
}

/* The range checks of issue 17: each an error naming the flag. */
Test(reliability, set_values_range_checked, .fini = fini) {
    static const struct {
        const char *set, *want;
    } cases[] = {
        {"nonideal.seed=99999999999999999999999999", "nonideal.seed"},
        {"adc.bits=0x8", "adc.bits"},
        {"adc.layer_bits=5=8", "layer 5 does not exist"},
    };
    char args[4096];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(args, sizeof args, "compile '%s' --set %s", MODEL, cases[i].set);
        int rc = xb_cli_run(args);
        cr_assert(rc == 1 || rc == 2, "%s: rc %d", cases[i].set, rc);
        cr_assert(strstr(xb_cli_err, cases[i].want), "%s: %s", cases[i].set, xb_cli_err);
    }
}

/* Under a file-size limit the CSV is never cut mid-row: no F, and F.partial
 * holds complete rows only. */
Test(reliability, file_size_limit_keeps_complete_rows, .fini = fini) {
    if (access(MODEL, R_OK) || access(DATA, R_OK)) cr_skip_test("no model or sample data");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "ulimit -f 8; OMP_NUM_THREADS=2 '%s' sweep '%s' --data '%s' --limit 5 --calib 5 "
             "--arch isaac --vary adc.bits=1:24 --csv '%s' 2>'%s'",
             xb_cli_path(), MODEL, DATA, xb_tmp("s.csv"), xb_tmp("err"));
    cr_assert_eq(shell(cmd), 1);
    xb_slurp(xb_tmp("err"), buf_a, sizeof buf_a);
    cr_assert(strstr(buf_a, "s.csv.partial: write failed"), "%s", buf_a);
    cr_assert_neq(access(xb_tmp("s.csv"), F_OK), 0, "a cut CSV was moved into place");
    xb_slurp(xb_tmp("s.csv.partial"), buf_b, sizeof buf_b);
    size_t n = strlen(buf_b);
    cr_assert(n > 0 && n <= 4096 && buf_b[n - 1] == '\n', "cut row left: ...%s", buf_b + (n > 60 ? n - 60 : 0));
}

Test(reliability, outputs_checked_before_running, .fini = fini) {
    if (access(MODEL, R_OK) || access(DATA, R_OK)) cr_skip_test("no model or sample data");
    /* an input (another spelling of the model file) */
    char copy[1024], args[8192];
    snprintf(copy, sizeof copy, "%s", xb_tmp("m.onnx"));
    snprintf(args, sizeof args, "cp '%s' '%s'", MODEL, copy);
    cr_assert_eq(shell(args), 0);
    snprintf(args, sizeof args, "cp '%s' '%s'", DATA, xb_tmp("t10k-images-idx3-ubyte.gz"));
    cr_assert_eq(shell(args), 0);
    snprintf(args, sizeof args, "cp '%s' '%s'",
             XBAR_SOURCE_DIR "/datasets/samples/mnist/t10k-labels-idx1-ubyte.gz",
             xb_tmp("t10k-labels-idx1-ubyte.gz"));
    cr_assert_eq(shell(args), 0);
    struct stat before, after;
    stat(copy, &before);
    snprintf(args, sizeof args, "run '%s' --data '%s' --limit 5 --mode float --json '%s/./m.onnx'",
             copy, DATA, xb_tmpdir());
    cr_assert_eq(xb_cli_run(args), 2, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_err, "--json") && strstr(xb_cli_err, "input"), "%s", xb_cli_err);
    snprintf(args, sizeof args,
             "sweep '%s' --data '%s' --limit 5 --arch isaac --vary adc.bits=6:7 --csv '%s'", copy,
             xb_tmp("t10k-images-idx3-ubyte.gz"), xb_tmp("t10k-images-idx3-ubyte.gz"));
    cr_assert_eq(xb_cli_run(args), 2, "%s", xb_cli_err);
    snprintf(args, sizeof args, "compile '%s' --json '%s'", copy, copy);
    cr_assert_eq(xb_cli_run(args), 2, "%s", xb_cli_err);
    stat(copy, &after);
    cr_assert_eq(before.st_size, after.st_size);
    cr_assert_eq(before.st_mtime, after.st_mtime);
    /* a missing folder fails before the run, exit 2 */
    snprintf(args, sizeof args, "run '%s' --data '%s' --limit 5 --mode float --json /nonexistent/r.json",
             copy, DATA);
    cr_assert_eq(xb_cli_run(args), 2, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_err, "/nonexistent"), "%s", xb_cli_err);
    cr_assert_null(strstr(xb_cli_out, "top-1"), "ran before failing: %s", xb_cli_out);
}

/* Every output file appears complete, and no temporary file is left. */
Test(reliability, outputs_are_renamed_into_place, .fini = fini) {
    if (access(MODEL, R_OK) || access(DATA, R_OK)) cr_skip_test("no model or sample data");
    char args[8192];
    xb_write_bytes(xb_tmp("r.json"), "old", 3);
    snprintf(args, sizeof args,
             "run '%s' --data '%s' --limit 10 --arch isaac --json '%s' --csv '%s' --adc-hist '%s' "
             "--arch-out '%s'",
             MODEL, DATA, xb_tmp("r.json"), xb_tmp("l.csv"), xb_tmp("h.csv"), xb_tmp("a.json"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    snprintf(args, sizeof args, "compile '%s' --heatmap '%s'", MODEL, xb_tmp("h.png"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cJSON_Delete(xb_cli_json(xb_tmp("r.json")));
    cJSON_Delete(xb_cli_json(xb_tmp("a.json")));
    const char *files[] = {"l.csv", "h.csv", "h.png"};
    for (int i = 0; i < 3; i++) cr_assert_eq(access(xb_tmp(files[i]), R_OK), 0, "%s", files[i]);
    DIR *d = opendir(xb_tmpdir());
    struct dirent *e;
    while ((e = readdir(d)) != NULL) cr_assert_null(strstr(e->d_name, ".tmp"), "left: %s", e->d_name);
    closedir(d);
}

/* --- interrupts and --resume -------------------------------------------------- */

/* The CSV without its images_per_s column (the 14th with two varied keys). */
static void strip_timing(const char *path, char *out, size_t n) {
    static char raw[1 << 20];
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

Test(reliability, sweep_interrupt_and_resume_equal_a_full_run, .fini = fini) {
    if (access(MODEL, R_OK) || access(DATA, R_OK)) cr_skip_test("no model or sample data");
    char base[4096], args[8192];
    snprintf(base, sizeof base,
             "sweep '%s' --data '%s' --limit 12 --calib 20 --arch isaac --vary adc.bits=5:6 "
             "--vary encoding=offset,differential",
             MODEL, DATA);
    snprintf(args, sizeof args, "%s --csv '%s'", base, xb_tmp("full.csv"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    /* Ctrl-C after 2 rows (raised by the sweep itself, the same path). */
    snprintf(args, sizeof args, "XBAR_TEST_SWEEP_STOP_AFTER=2 '%s' %s --csv '%s' 2>'%s'",
             xb_cli_path(), base, xb_tmp("r.csv"), xb_tmp("err"));
    cr_assert_eq(shell(args), 130);
    xb_slurp(xb_tmp("err"), buf_a, sizeof buf_a);
    cr_assert(strstr(buf_a, "2 of 4 configurations"), "%s", buf_a);
    cr_assert_neq(access(xb_tmp("r.csv"), F_OK), 0);
    strip_timing(xb_tmp("r.csv.partial"), buf_a, sizeof buf_a);
    int lines = 0;
    for (char *c = buf_a; *c; c++) lines += *c == '\n';
    cr_assert_eq(lines, 3, "%s", buf_a);
    /* a row cut by the interrupt is dropped and redone */
    FILE *f = fopen(xb_tmp("r.csv.partial"), "a");
    fputs("6,offset,12,3", f);
    fclose(f);
    snprintf(args, sizeof args, "%s --csv '%s' --resume", base, xb_tmp("r.csv"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_err, "2 of 4 configurations already"), "%s", xb_cli_err);
    cr_assert_neq(access(xb_tmp("r.csv.partial"), F_OK), 0);
    strip_timing(xb_tmp("full.csv"), buf_a, sizeof buf_a);
    strip_timing(xb_tmp("r.csv"), buf_b, sizeof buf_b);
    cr_assert_str_eq(buf_b, buf_a);
    /* resuming a complete CSV runs nothing and keeps it */
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    strip_timing(xb_tmp("r.csv"), buf_b, sizeof buf_b);
    cr_assert_str_eq(buf_b, buf_a);
    /* other columns: refused */
    snprintf(args, sizeof args, "sweep '%s' --data '%s' --limit 12 --arch isaac --vary adc.bits=5:6 "
             "--csv '%s' --resume", MODEL, DATA, xb_tmp("r.csv"));
    cr_assert_eq(xb_cli_run(args), 2, "%s", xb_cli_err);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A real signal in the middle of the image loop: the run stops within a
 * second or two and exits 128 + signal.  The run must outlast the 200 ms
 * wait: the plain isaac run of the sample takes about 0.25 s since the
 * session-8 speed work, so it simulates per-row read noise (the float
 * normals path, several ms an image). */
static void interrupt_run(int sig, int want) {
    const char *m = XBAR_SOURCE_DIR "/models/vgg_small_cifar10.onnx",
               *d = XBAR_SOURCE_DIR "/datasets/samples/cifar10/test_batch.bin";
    if (access(m, R_OK) || access(d, R_OK)) cr_skip_test("no model or sample data");
    char err[1024], out[1024];
    snprintf(err, sizeof err, "%s", xb_tmp("err")); /* the temp dir, before forking */
    snprintf(out, sizeof out, "%s", xb_tmp("out"));
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        (void)!freopen(err, "w", stderr);
        (void)!freopen(out, "w", stdout);
        execl(xb_cli_path(), "xbar", "run", m, "--data", d, "--arch", "isaac", "--set",
              "nonideal.read_row_sigma=0.1", "--threads", "2", (char *)NULL);
        _exit(127);
    }
    /* Loading and quantizing are not interruptible: wait for the runs,
     * which start once the quantization line is printed (and flushed). */
    for (int i = 0; i < 1200; i++) {
        xb_slurp(out, buf_b, sizeof buf_b);
        if (strstr(buf_b, "calibration on")) break;
        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
    }
    nanosleep(&(struct timespec){.tv_nsec = 200 * 1000 * 1000}, NULL);
    double t0 = now_s();
    kill(pid, sig);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    double dt = now_s() - t0;
    xb_slurp(err, buf_a, sizeof buf_a);
    cr_assert(WIFEXITED(st), "killed by the signal: %s", buf_a);
    cr_assert_eq(WEXITSTATUS(st), want, "%s", buf_a);
    cr_assert_lt(dt, 3.0, "took %.2f s to stop", dt);
    cr_assert(strstr(buf_a, "interrupted"), "%s", buf_a);
}

Test(reliability, sigint_stops_a_run, .fini = fini) { interrupt_run(SIGINT, 130); }
Test(reliability, sigterm_stops_a_run, .fini = fini) { interrupt_run(SIGTERM, 143); }

/* --- inputs ------------------------------------------------------------------- */

/* IDX declaring 1 image of 2x3 followed by 8 MiB more: rejected once the
 * declared size is passed, whatever follows. */
Test(reliability, lying_dataset_headers, .fini = fini) {
    size_t big = (size_t)8 << 20;
    unsigned char *b = calloc(1, big);
    unsigned char hdr[16] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3};
    memcpy(b, hdr, 16);
    xb_write_gz(xb_tmp("x-images-idx3-ubyte.gz"), b, big);
    unsigned char lab[9] = {0, 0, 8, 1, 0, 0, 0, 1, 0};
    xb_write_gz(xb_tmp("x-labels-idx1-ubyte.gz"), lab, 9);
    char args[4096];
    snprintf(args, sizeof args, "run '%s' --data '%s' --mode float", MODEL,
             xb_tmp("x-images-idx3-ubyte.gz"));
    cr_assert_eq(xb_cli_run(args), 1);
    cr_assert(strstr(xb_cli_err, "more data than the header"), "%s", xb_cli_err);
    /* CIFAR has no header: a .gz is checked against its gzip trailer */
    xb_write_gz(xb_tmp("c.bin.gz"), b, 3073 * 2 + 5);
    snprintf(args, sizeof args, "run '%s' --data '%s' --mode float",
             XBAR_SOURCE_DIR "/models/vgg_small_cifar10.onnx", xb_tmp("c.bin.gz"));
    cr_assert_eq(xb_cli_run(args), 1);
    cr_assert(strstr(xb_cli_err, "gzip trailer"), "%s", xb_cli_err);
    free(b);
}

/* A PNG of another size than the model's is refused from its header. */
static void write_grey_png(const char *path, int w, int h) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    png_init_io(p, f);
    png_set_IHDR(p, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(p, info);
    unsigned char *row = calloc(1, (size_t)w);
    for (int y = 0; y < h; y++) png_write_row(p, row);
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    free(row);
    fclose(f);
}

Test(reliability, png_size_checked_before_decoding, .fini = fini) {
    xb_mkdir(xb_tmp("png"));
    xb_mkdir(xb_tmp("png/3"));
    write_grey_png(xb_tmp("png/3/a.png"), 2048, 2048);
    char args[4096];
    snprintf(args, sizeof args, "run '%s' --data '%s' --mode float", MODEL, xb_tmp("png"));
    cr_assert_eq(xb_cli_run(args), 1);
    cr_assert(strstr(xb_cli_err, "2048x2048") && strstr(xb_cli_err, "model takes 28x28"), "%s",
              xb_cli_err);
    snprintf(args, sizeof args, "classify '%s' '%s'", MODEL, xb_tmp("png/3/a.png"));
    cr_assert_eq(xb_cli_run(args), 1);
    cr_assert(strstr(xb_cli_err, "model takes 28x28"), "%s", xb_cli_err);
}

Test(reliability, fifos_are_refused_not_waited_on, .fini = fini) {
    cr_assert_eq(mkfifo(xb_tmp("f.onnx"), 0600), 0);
    cr_assert_eq(mkfifo(xb_tmp("f.png"), 0600), 0);
    cr_assert_eq(mkfifo(xb_tmp("f.json"), 0600), 0);
    char cmd[8192];
    const char *forms[] = {"info '%s'", "classify '" MODEL "' '%s'", "compile '" MODEL "' --arch '%s'"};
    const char *files[] = {"f.onnx", "f.png", "f.json"};
    for (int i = 0; i < 3; i++) {
        char args[4096];
        snprintf(args, sizeof args, forms[i], xb_tmp(files[i]));
        snprintf(cmd, sizeof cmd, "timeout 20 '%s' %s 2>'%s' >/dev/null", xb_cli_path(), args,
                 xb_tmp("err"));
        int rc = shell(cmd);
        xb_slurp(xb_tmp("err"), buf_a, sizeof buf_a);
        cr_assert(rc == 1 || rc == 2, "%s: rc %d (124: hung)", args, rc);
        cr_assert(strstr(buf_a, "not a regular file"), "%s", buf_a);
    }
}

/* xbar.dataset may only name a known dataset: never a path to open. */
Test(reliability, metadata_cannot_name_a_path, .fini = fini) {
    ob_model m;
    ob_begin(&m, 13);
    int64_t in_dims[4] = {-1, 1, 2, 3}, wd[2] = {4, 6};
    ob_input(&m, "input", OB_FLOAT, 4, in_dims);
    float w[24] = {0};
    ob_init_f32(&m, "W", 2, wd, w);
    const char *fi[] = {"input", NULL}, *fo[] = {"flat", NULL};
    ob_attr_int(&m, ob_node(&m, "Flatten", "flatten", fi, fo), "axis", 1);
    const char *gi[] = {"flat", "W", NULL}, *go[] = {"logits", NULL};
    ob_attr_int(&m, ob_node(&m, "Gemm", "fc", gi, go), "transB", 1);
    ob_output(&m, "logits");
    ob_meta(&m, "xbar.dataset", "/etc/passwd");
    size_t len;
    const uint8_t *buf = ob_pack(&m, &len);
    xb_write_bytes(xb_tmp("m.onnx"), buf, len);
    ob_end(&m);
    char args[4096];
    snprintf(args, sizeof args, "run '%s'", xb_tmp("m.onnx"));
    cr_assert_eq(xb_cli_run(args), 2, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_err, "not a known dataset"), "%s", xb_cli_err);
    cr_assert_null(strstr(xb_cli_err, "root:"), "%s", xb_cli_err);
}

/* --- determinism -------------------------------------------------------------- */

/* Timing, and the provenance (date, command line with --threads): how the
 * run was made, not what it computed. */
static void drop_timing(cJSON *o) {
    static const char *keys[] = {"images_per_s", "seconds", "threads", "provenance"};
    for (int k = 0; k < 4; k++) cJSON_DeleteItemFromObjectCaseSensitive(o, keys[k]);
    cJSON *c;
    cJSON_ArrayForEach(c, o) if (cJSON_IsObject(c) || cJSON_IsArray(c)) drop_timing(c);
}

/* isaac with read_sigma: since session 8 the integer read-noise draws
 * (backend/crossbar/dnoise.c), keyed by where each conversion is, so 1 and 2
 * threads must agree bit for bit. */
Test(reliability, noisy_json_identical_for_1_and_2_threads, .fini = fini) {
    if (access(MODEL, R_OK) || access(DATA, R_OK)) cr_skip_test("no model or sample data");
    char *text[2];
    for (int t = 0; t < 2; t++) {
        char args[4096];
        snprintf(args, sizeof args,
                 "run '%s' --data '%s' --limit 30 --calib 20 --arch isaac --set "
                 "nonideal.read_sigma=0.5 --threads %d --json '%s'",
                 MODEL, DATA, t + 1, xb_tmp("t.json"));
        cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
        cJSON *j = xb_cli_json(xb_tmp("t.json"));
        drop_timing(j);
        text[t] = cJSON_Print(j);
        cJSON_Delete(j);
    }
    cr_assert_str_eq(text[0], text[1]);
    free(text[0]);
    free(text[1]);
}
