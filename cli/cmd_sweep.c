/* xbar sweep MODEL --data SPEC --arch A --vary KEY=SPEC...: the analog run
 * over a grid of architecture settings, one CSV row per configuration.
 *
 * One session (eval/session.h) holds the model, the data and the
 * calibration images, chosen as xbar run chooses them; the model is
 * quantized once per (weight_bits, input_bits) pair (with those bits, as
 * xbar run does), every configuration runs the same images, and each row
 * carries the int8 accuracy of its quantized model so the analog loss can
 * be read off directly. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/arch_opts.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/interrupt.h"
#include "cli/shard.h"
#include "cli/sweep_dist.h"
#include "eval/mixed_precision.h"
#include "eval/outfile.h"
#include "eval/progress.h"
#include "eval/provenance.h"
#include "eval/report.h"
#include "eval/session.h"

#define MAX_VARY 8
#define MAX_VALUES 64
#define MAX_CONFIGS 4096
#define N_COLUMNS (16 + XB_E_COUNT - 1) /* after the varied ones */

typedef struct {
    char key[128];
    int n;
    char vals[MAX_VALUES][XB_ARGS_VALUE_LEN];
} vary;

static void usage(FILE *f) {
    fprintf(f,
            "usage: xbar sweep MODEL.onnx --data SPEC [--arch A] [--set KEY=VALUE]...\n"
            "                  --vary KEY=SPEC [--vary KEY=SPEC]... [options]\n\n"
            "Run the analog mode for every combination of the varied architecture fields and\n"
            "write one CSV row per configuration: the varied values, analog and int8 accuracy,\n"
            "energy per inference, ADC energy share, conversions per MAC, saturation rate,\n"
            "latency, TOPS/W, images/s (simulation speed), crossbars, tiles,\n"
            "layer-pipelined images/s of the modelled chip, and the energy per inference by\n"
            "component (adc_energy_pj ... router_energy_pj, pJ), after '#' provenance lines.\n\n" XB_CLI_ARCH_HELP
            "  --vary KEY=SPEC     SPEC is LO:HI or LO:HI:STEP (integers) or V1,V2,... ;\n"
            "                      e.g. --vary adc.bits=4:8 --vary encoding=offset,differential,center\n"
            "  --data SPEC         as for xbar run (mnist, cifar10, a path)\n"
            "  --limit N           evaluate the first N images (default: all)\n"
            "  --calib N           quantization / ADC calibration images (default 100)\n"
            "  --csv F             output file (default: stdout).  Rows go to F.partial as\n"
            "                      each configuration completes (flushed), which becomes F\n"
            "                      at the end; an interrupted or failed sweep keeps\n"
            "                      F.partial with its complete rows\n"
            "  --resume            continue from F.partial (or F): configurations already\n"
            "                      there (matched on the varied columns) are skipped, so\n"
            "                      the result is the CSV of an uninterrupted sweep\n"
            "  --threads T         worker threads (at most the processors available)\n"
            XB_ARGS_MAX_MEMORY_HELP
            "  --progress P        auto | bar | lines | none (default auto: a bar on a\n"
            "                      terminal; otherwise one line per finished configuration,\n"
            "                      \"config k/N (KEY=V, ...)\", and a line at least every 10 s\n"
            "                      from the run inside it, for logs and batch schedulers)\n"
            "  --shard K/N         run only shard K of N (0 <= K < N), for a job array: the\n"
            "                      configurations are dealt to the shards in snake order\n"
            "                      (0,1,..,N-1,N-1,..,1,0,0,1,..); the CSV starts with\n"
            "                      '# xbar-shard' lines, and `xbar merge --csv` joins the N\n"
            "                      shards into the CSV of the whole sweep\n\n"
            "Under mpirun (a build with -DXBAR_MPI=ON) the configurations are dealt to the\n"
            "ranks the same way and rank 0 writes the one CSV, rows in the same order as one\n"
            "process writes them (at the end of the sweep: --resume needs one process).\n"
            "See docs/SCALE.md.\n\n"
            "Ctrl-C / SIGTERM stop within about a second: complete rows stay in F.partial.\n"
            "Exit status: 0 ok, 1 the job failed, 2 usage error, 130/143 interrupted by\n"
            "SIGINT/SIGTERM.\n");
}

static bool parse_vary(xb_args *a, const char *spec, vary *v) {
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof v->key) {
        xb_args_fail(a, "--vary: '%s' is not KEY=LO:HI[:STEP] or KEY=V1,V2,...", spec);
        return false;
    }
    memcpy(v->key, spec, (size_t)(eq - spec));
    v->key[eq - spec] = '\0';
    if (strchr(v->key, ',') || strchr(v->key, '"') || strchr(v->key, '\n')) {
        xb_args_fail(a, "--vary: '%s' is not a field name", v->key);
        return false;
    }
    return xb_args_values(a, v->key, eq + 1, INT_MIN, INT_MAX, v->vals, MAX_VALUES, &v->n);
}

typedef struct {
    xb_cli_arch ao;
    vary vs[MAX_VARY];
    int nv;
    const char *model, *data, *csv;
    long long limit, calib, threads;
    uint64_t max_memory; /* --max-memory, 0: none */
    bool resume;
    xb_shard shard;
    int progress;          /* xb_progress_mode, resolved: auto -> bar or lines */
    int argc;              /* the command line, for the CSV's provenance lines */
    char **argv;
    const xb_arch *base;   /* the arch before --vary, for the provenance */
} sweep_args;

/* Number of configurations, or -1 beyond MAX_CONFIGS. */
static int64_t n_configs(const sweep_args *sa) {
    long long n = 1;
    for (int i = 0; i < sa->nv; i++)
        if (!xb_mul_capped(n, sa->vs[i].n, MAX_CONFIGS, &n)) return -1;
    return n;
}

/* -1: go on; else the exit code. */
static int parse(int argc, char **argv, sweep_args *sa) {
    xb_args a;
    xb_args_init(&a, argc, argv);
    const char *v;
    sa->calib = 100;
    while (xb_args_next(&a)) {
        if (xb_args_help(&a)) {
            usage(stdout);
            return 0;
        } else if (xb_cli_arch_opt(&a, &sa->ao)) {
        } else if (xb_args_opt(&a, "--vary", &v)) {
            if (!v) break;
            if (sa->nv >= MAX_VARY) {
                xb_args_fail(&a, "at most %d --vary options", MAX_VARY);
                break;
            }
            if (!parse_vary(&a, v, &sa->vs[sa->nv])) break;
            sa->nv++;
        } else if (xb_args_opt(&a, "--data", &v)) {
            sa->data = v;
        } else if (xb_args_opt(&a, "--csv", &v)) {
            sa->csv = v;
        } else if (xb_args_opt(&a, "--limit", &v)) {
            xb_args_int(&a, v, 1, XB_DATASET_MAX_IMAGES, &sa->limit);
        } else if (xb_args_opt(&a, "--calib", &v)) {
            xb_args_int(&a, v, 1, 100000, &sa->calib);
        } else if (xb_args_opt(&a, "--threads", &v)) {
            xb_args_threads(&a, v, &sa->threads);
        } else if (xb_args_opt(&a, "--max-memory", &v)) {
            xb_args_bytes(&a, v, &sa->max_memory);
        } else if (xb_args_opt(&a, "--shard", &v)) {
            xb_args_shard(&a, v, &sa->shard);
        } else if (xb_args_flag(&a, "--resume")) {
            sa->resume = true;
        } else if (xb_args_opt(&a, "--progress", &v)) {
            static const char *pm[] = {"auto", "bar", "lines", "none", NULL};
            sa->progress = xb_args_choice(&a, v, pm);
        } else if (xb_args_one(&a, "MODEL", &sa->model)) {
        } else {
            return xb_args_unknown(&a);
        }
    }
    if (a.error) return 2;
    if (!sa->model || !sa->data || sa->nv == 0) {
        xb_args_fail(&a, "MODEL, --data and at least one --vary are required (see --help)");
        return 2;
    }
    if (n_configs(sa) < 0) {
        xb_args_fail(&a, "--vary: more than %d configurations", MAX_CONFIGS);
        return 2;
    }
    if (sa->resume && (!sa->csv || !strcmp(sa->csv, "-"))) {
        xb_args_fail(&a, "--resume: needs --csv FILE");
        return 2;
    }
    if (!sa->threads) sa->threads = xb_args_clamp_threads(0);
    if (sa->progress == XB_PROGRESS_AUTO)
        sa->progress = isatty(STDERR_FILENO) ? XB_PROGRESS_BAR : XB_PROGRESS_LINES;
    return -1;
}

/* Configuration ci: base with the varied values applied; vals[i] receives
 * the value of --vary i. */
static xb_status config_arch(const sweep_args *sa, const xb_arch *base, int64_t ci, xb_arch *t,
                             const char **vals, xb_ctx *ctx) {
    *t = *base;
    int64_t r = ci;
    for (int i = sa->nv - 1; i >= 0; i--) {
        const vary *v = &sa->vs[i];
        char as[256];
        vals[i] = v->vals[r % v->n];
        snprintf(as, sizeof as, "%s=%s", v->key, vals[i]);
        r /= v->n;
        XB_TRY(xb_arch_set(t, as, ctx));
    }
    return XB_OK;
}

/* Check every configuration before running anything; 0 or the exit code. */
static int check_configs(sweep_args *sa, xb_arch *base, xb_ctx *ctx) {
    sa->ao.model = sa->model;
    if (xb_cli_arch_build(&sa->ao, base, ctx) != XB_OK) {
        xb_report_error(ctx);
        return 2;
    }
    int64_t ncfg = n_configs(sa);
    for (int64_t ci = 0; ci < ncfg; ci++) {
        xb_arch t;
        const char *vals[MAX_VARY];
        if (config_arch(sa, base, ci, &t, vals, ctx) != XB_OK) {
            xb_report_error(ctx);
            return 2;
        }
        if (xb_arch_check_simulable(&t, ctx) != XB_OK) {
            xb_report_error(ctx);
            return 2;
        }
    }
    return 0;
}

static const char fixed_columns[] =
    "images,analog_correct,analog_accuracy,int8_accuracy,energy_pj_per_inference,"
    "adc_energy_share,conversions_per_mac,adc_conversions,saturation_rate,latency_ns,"
    "tops_per_w,images_per_s,crossbars,tiles,pipelined_images_per_s,adc_energy_pj,"
    /* the rest of the energy per inference by component (backend/cost.h
     * order, ADC above), in pJ */
    "dac_energy_pj,crossbar_energy_pj,sample_hold_energy_pj,shift_add_energy_pj,"
    "input_reg_energy_pj,output_reg_energy_pj,edram_energy_pj,alu_energy_pj,bus_energy_pj,"
    "router_energy_pj\n";
_Static_assert(XB_E_COUNT == 11 && XB_E_ADC == 0,
               "the sweep CSV names every energy component (fixed_columns)");

/* A sharded sweep's CSV starts with which sweep and shard it is
 * (cli/shard.h): malloc'd, "" when not sharded, NULL when out of memory. */
static char *shard_lines(const sweep_args *sa) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    if (sa->shard.n) {
        char num[64];
        uint64_t h = XB_FNV1A_INIT;
        h = xb_fnv1a(xb_fnv1a(xb_fnv1a(h, sa->model), sa->data), sa->ao.arch);
        for (int i = 0; i < sa->ao.n_sets; i++) h = xb_fnv1a(h, sa->ao.sets[i]);
        snprintf(num, sizeof num, "%lld %lld", sa->limit, sa->calib);
        h = xb_fnv1a(h, num);
        for (int i = 0; i < sa->nv; i++) {
            h = xb_fnv1a(h, sa->vs[i].key);
            for (int k = 0; k < sa->vs[i].n; k++) h = xb_fnv1a(h, sa->vs[i].vals[k]);
        }
        fprintf(f, XB_SHARD_CSV_TAG "%lld/%lld configurations=%lld sweep=%016llx\n",
                sa->shard.k, sa->shard.n, (long long)n_configs(sa), (unsigned long long)h);
        for (int i = 0; i < sa->nv; i++) {
            fprintf(f, XB_SHARD_CSV_VARY "%s=", sa->vs[i].key);
            for (int k = 0; k < sa->vs[i].n; k++)
                fprintf(f, "%s%s", sa->vs[i].vals[k], k + 1 < sa->vs[i].n ? "," : "\n");
        }
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static void write_header(FILE *out, const sweep_args *sa) {
    /* What produced the rows (eval/provenance.h), as '#' lines that every
     * reader of the CSV skips: the arch is the one before --vary. */
    xb_provenance pv = {.model = sa->model, .data = sa->data, .arch = sa->base, .argc = sa->argc,
                        .argv = sa->argv, .threads = (int)sa->threads};
    xb_provenance_write_comments(out, &pv);
    char *meta = shard_lines(sa);
    if (meta) fputs(meta, out);
    else fputs("# out of memory\n", out); /* the merge then refuses this shard */
    free(meta);
    for (int i = 0; i < sa->nv; i++) fprintf(out, "%s,", sa->vs[i].key);
    fputs(fixed_columns, out);
    fflush(out);
}

static void write_row(FILE *out, const sweep_args *sa, const char **vals, const xb_session *s) {
    const xb_run_result *ra = xb_session_result(s, XB_SESSION_ANALOG),
                        *rq = xb_session_result(s, XB_SESSION_INT8);
    const xb_cost *c = xb_session_cost(s);
    const xb_mapping *m = xb_session_mapping(s);
    int64_t conv, sat;
    xb_session_adc_counts(s, &conv, &sat);
    for (int i = 0; i < sa->nv; i++) fprintf(out, "%s,", vals[i]);
    fprintf(out, "%lld,%lld,%.6f,%.6f,%.6g,%.6f,%.6f,%lld,%.6g,%.6g,%.6g,%.2f,%lld,%lld,%.6g,%.6g",
            (long long)ra->total, (long long)ra->correct1,
            ra->total ? (double)ra->correct1 / (double)ra->total : 0.0,
            rq->total ? (double)rq->correct1 / (double)rq->total : 0.0, c->energy_pj, c->adc_share,
            c->conversions_per_mac, (long long)c->conversions,
            conv ? (double)sat / (double)conv : 0.0, c->latency_ns, c->tops_per_w,
            ra->images_per_s, (long long)m->xbars, (long long)m->tiles, c->pipelined_ips,
            c->pj[XB_E_ADC]);
    for (int e = 1; e < XB_E_COUNT; e++) fprintf(out, ",%.6g", c->pj[e]);
    fputc('\n', out);
    fflush(out);
}

/* One configuration: quantization (redone only when its bits change), int8
 * run (idem), backend, ADC calibration, analog run, cost. */
static xb_status run_config(xb_session *s, const xb_arch *t, xb_ctx *ctx) {
    xb_quant_opts qo = xb_quant_opts_default();
    qo.w_bits = t->weight_bits;
    qo.x_bits = t->input_bits < 2 ? 2 : t->input_bits;
    XB_TRY(xb_quant_opts_layers_from_arch(xb_session_graph(s), t, &qo, ctx));
    XB_TRY(xb_session_quantize(s, &qo, ctx));
    XB_TRY(xb_session_run_int8(s, ctx));
    XB_TRY(xb_session_build_backend(s, t, ctx));
    if (xb_arch_needs_calibration(t)) XB_TRY(xb_session_calibrate_adc(s, ctx));
    return xb_session_run_analog(s, ctx);
}

static xb_status open_session(const sweep_args *sa, bool progress, xb_session **s, xb_ctx *ctx) {
    xb_session_opts so = {.threads = (int)sa->threads,
                          .progress = progress && sa->progress != XB_PROGRESS_NONE,
                          .progress_mode = sa->progress, .profile_images = -1,
                          .cancel = &xb_cli_stop, .max_memory = sa->max_memory};
    XB_TRY(xb_session_open(sa->model, &so, s, ctx));
    XB_TRY(xb_session_open_data(*s, sa->data, sa->limit, ctx));
    XB_TRY(xb_session_choose_calibration(*s, sa->calib, ctx));
    const xb_session_calib *c = xb_session_calibration(*s);
    xb_report_note("calibration on %lld images #%lld..#%lld of %s (%s)", (long long)c->n,
                   (long long)c->first, (long long)(c->first + c->n - 1), c->source, c->how);
    return XB_OK;
}

/* --- the CSV: rows flushed to F.partial, renamed to F at the end --------------- */

typedef struct {
    FILE *f;              /* stdout, F.partial, or F itself when it is a device or FIFO */
    char partial[4200];   /* "" when writing directly */
    const char *name;     /* for messages */
    bool *done;           /* [n_configs]: row already present (--resume) */
    int64_t n_done, n_new;
    long good_size;       /* bytes of complete rows in F.partial */
} sweep_out;

/* Index of value `val` of --vary i, or -1. */
static int value_index(const vary *v, const char *val, size_t len) {
    for (int k = 0; k < v->n; k++)
        if (strlen(v->vals[k]) == len && !memcmp(v->vals[k], val, len)) return k;
    return -1;
}

/* The configuration a CSV row describes (its varied columns), or -1 when
 * the row is not a complete row of this sweep. */
static int64_t row_config(const sweep_args *sa, const char *row, size_t len) {
    int fields = 1;
    for (size_t i = 0; i < len; i++) fields += row[i] == ',';
    if (fields != sa->nv + N_COLUMNS) return -1;
    int64_t ci = 0;
    const char *p = row;
    for (int i = 0; i < sa->nv; i++) {
        const char *c = memchr(p, ',', len - (size_t)(p - row));
        int k = value_index(&sa->vs[i], p, (size_t)(c - p));
        if (k < 0) return -1;
        ci = ci * sa->vs[i].n + k;
        p = c + 1;
    }
    return ci;
}

/* Comment lines at the top of an earlier run's CSV are skipped (*start:
 * where its header is); its '# xbar-shard' lines must be this sweep's. */
static xb_status skip_comments(const sweep_args *sa, const char *from, const char *text,
                               size_t len, size_t *start, xb_ctx *ctx) {
    char *meta = shard_lines(sa);
    if (!meta) return xb_fail(ctx, XB_ERR_NOMEM, "out of memory");
    size_t ml = strlen(meta), seen = 0;
    bool same = true;
    while (*start < len && text[*start] == '#') {
        const char *line = text + *start, *nl = memchr(line, '\n', len - *start);
        if (!nl) break;
        size_t ll = (size_t)(nl - line) + 1;
        if (!strncmp(line, "# xbar-shard", 12)) {
            same = same && seen + ll <= ml && !memcmp(meta + seen, line, ll);
            seen += ll;
        }
        *start += ll;
    }
    free(meta);
    if (!same || seen != ml)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "--resume: %s is not from this %s (its '# xbar-shard' lines differ: %s)",
                       from, sa->shard.n ? "shard" : "sweep",
                       sa->shard.n ? "another shard, or other options" : "it is a shard");
    return XB_OK;
}

/* The complete rows of an earlier run (`text`, `len` bytes) that belong to
 * this sweep, appended to f; marks them done.  A cut last line is dropped. */
static xb_status keep_rows(const sweep_args *sa, const char *from, const char *text, size_t len,
                           sweep_out *o, FILE *f, xb_ctx *ctx) {
    char head[4096];
    size_t hl = 0;
    for (int i = 0; i < sa->nv; i++)
        hl += (size_t)snprintf(head + hl, sizeof head - hl, "%s,", sa->vs[i].key);
    snprintf(head + hl, sizeof head - hl, "%s", fixed_columns);
    hl = strlen(head);
    size_t start = 0;
    XB_TRY(skip_comments(sa, from, text, len, &start, ctx));
    text += start;
    len -= start;
    if (len < hl || memcmp(text, head, hl))
        return xb_fail(ctx, XB_ERR_INVALID,
                       "--resume: %s has other columns than this sweep (its first line must be "
                       "%.*s)", from, (int)hl - 1, head);
    write_header(f, sa);
    for (size_t i = hl; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        if (!nl) break; /* an incomplete row: redone */
        size_t rl = (size_t)(nl - (text + i));
        int64_t ci = row_config(sa, text + i, rl);
        if (ci < 0 || !xb_shard_owns(&sa->shard, ci))
            return xb_fail(ctx, XB_ERR_INVALID, "--resume: %s: '%.*s' is not a row of this %s",
                           from, rl > 80 ? 80 : (int)rl, text + i, sa->shard.n ? "shard" : "sweep");
        if (!o->done[ci]) {
            o->done[ci] = true;
            o->n_done++;
            fwrite(text + i, 1, rl + 1, f);
        }
        i += rl + 1;
    }
    return XB_OK;
}

/* --resume: F.partial, else F, read back into a fresh F.partial (written
 * aside and renamed, so a crash here loses nothing). */
static xb_status resume_rows(const sweep_args *sa, sweep_out *o, xb_ctx *ctx) {
    const char *from = o->partial;
    FILE *in = fopen(from, "rb");
    if (!in && errno == ENOENT) in = fopen(from = sa->csv, "rb");
    if (!in) {
        xb_report_note("--resume: neither %s nor %s exists: starting from the first "
                       "configuration", o->partial, sa->csv);
        return XB_OK;
    }
    char *text = xb_malloc(ctx, (size_t)64 << 20);
    size_t len = text ? fread(text, 1, ((size_t)64 << 20) - 1, in) : 0;
    bool bad = ferror(in) || len == ((size_t)64 << 20) - 1;
    fclose(in);
    if (!text) return ctx->status;
    xb_status st = XB_OK;
    if (bad) st = xb_fail(ctx, XB_ERR_IO, "--resume: %s: cannot read (or larger than 64 MiB)", from);
    xb_outfile tmp;
    if (st == XB_OK && xb_outfile_open(&tmp, o->partial, ctx) == XB_OK) {
        st = keep_rows(sa, from, text, len, o, tmp.f, ctx);
        if (st == XB_OK) st = xb_outfile_commit(&tmp, ctx);
        else xb_outfile_abort(&tmp);
    } else {
        st = ctx->status ? ctx->status : st;
    }
    free(text);
    if (st == XB_OK)
        xb_report_note("--resume: %lld of %lld configurations already in %s", (long long)o->n_done,
                       (long long)n_configs(sa), from);
    return st;
}

/* stdout, or F.partial (fresh, or what --resume kept) opened for appending. */
static xb_status open_out(const sweep_args *sa, sweep_out *o, xb_ctx *ctx) {
    o->done = xb_calloc(ctx, (size_t)n_configs(sa), sizeof(bool));
    if (!o->done) return ctx->status;
    struct stat sb;
    o->name = sa->csv ? sa->csv : "stdout";
    if (!sa->csv || !strcmp(sa->csv, "-")) {
        o->f = stdout;
        write_header(stdout, sa);
        return XB_OK;
    }
    if (stat(sa->csv, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        /* /dev/null, a FIFO...: written directly (never renamed over) */
        if (sa->resume)
            return xb_fail(ctx, XB_ERR_INVALID, "--resume: %s is not a regular file", sa->csv);
        xb_outfile direct;
        XB_TRY(xb_outfile_open(&direct, sa->csv, ctx));
        o->f = direct.f;
        write_header(o->f, sa);
        return XB_OK;
    }
    o->name = o->partial;
    snprintf(o->partial, sizeof o->partial, "%s.partial", sa->csv);
    if (sa->resume) XB_TRY(resume_rows(sa, o, ctx));
    bool fresh = o->n_done == 0 && access(o->partial, F_OK) != 0;
    o->f = fopen(o->partial, fresh || !sa->resume ? "w" : "a");
    if (!o->f) return xb_fail(ctx, XB_ERR_IO, "%s: cannot write: %s", o->partial, strerror(errno));
    if (fresh || !sa->resume) write_header(o->f, sa);
    if (fflush(o->f) != 0 || ferror(o->f))
        return xb_fail(ctx, XB_ERR_IO, "%s: write failed: %s", o->partial, strerror(errno));
    o->good_size = ftell(o->f);
    return XB_OK;
}

/* Close the CSV; on success F.partial becomes F. */
static xb_status close_out(const sweep_args *sa, sweep_out *o, bool complete, xb_ctx *ctx) {
    free(o->done);
    o->done = NULL;
    if (!o->f) return XB_OK;
    xb_status st = xb_close_checked(o->f, o->name, ctx);
    o->f = NULL;
    if (st == XB_OK && complete && o->partial[0] && rename(o->partial, sa->csv) != 0)
        st = xb_fail(ctx, XB_ERR_IO, "%s: cannot move %s into place: %s", sa->csv, o->partial,
                     strerror(errno));
    return st;
}

/* Outputs are checked before anything runs: writable, and not an input. */
static xb_status check_outputs(const sweep_args *sa, const xb_session *s, xb_ctx *ctx) {
    if (!sa->csv) return XB_OK;
    const char *in[] = {sa->model, xb_session_data(s)->path, sa->data, xb_cli_arch_file(&sa->ao)};
    XB_TRY(xb_outfile_check("--csv", sa->csv, in, 4, ctx));
    struct stat sb;
    if (strcmp(sa->csv, "-") && !(stat(sa->csv, &sb) == 0 && !S_ISREG(sb.st_mode))) {
        char partial[4200];
        snprintf(partial, sizeof partial, "%s.partial", sa->csv);
        XB_TRY(xb_outfile_check("--csv", partial, in, 4, ctx));
    }
    return XB_OK;
}

/* Tests stop a sweep after N rows as Ctrl-C would (XBAR_TEST_SWEEP_STOP_AFTER=N). */
static void test_stop(int64_t rows) {
    const char *e = getenv("XBAR_TEST_SWEEP_STOP_AFTER");
    long long n;
    if (e && xb_parse_int(e, 1, MAX_CONFIGS, &n) && rows == n) raise(SIGINT);
}

/* This rank's configurations (sweep_dist.h); 0, or the exit code. */
/* "config k/N (adc.bits=5, encoding=center)" after each finished one, from
 * rank 0: in lines mode through eval/progress.h (with rate and ETA), under a
 * bar as a plain line below the run's bar. */
static void report_config(const sweep_args *sa, xb_progress *pr, int64_t k, int64_t n,
                          const char **vals) {
    char what[1024];
    size_t len = (size_t)snprintf(what, sizeof what, "config %lld/%lld (", (long long)k, (long long)n);
    for (int i = 0; i < sa->nv && len < sizeof what; i++)
        len += (size_t)snprintf(what + len, sizeof what - len, "%s%s=%s", i ? ", " : "",
                                sa->vs[i].key, vals[i]);
    if (len < sizeof what) snprintf(what + len, sizeof what - len, ")");
    if (pr) xb_progress_note_now(pr, k, what);
    else if (sa->progress == XB_PROGRESS_BAR) fprintf(stderr, "sweep: %s\n", what);
}

/* Configuration ci of this rank: run it, write (or hand over) its row;
 * vals receives its varied values.  0, or the exit code. */
static int run_one(const sweep_args *sa, const xb_arch *base, xb_session *s, sweep_out *o,
                   xb_sweep_dist *p, int64_t ci, const char **vals, xb_ctx *ctx) {
    if (xb_cli_stop) return xb_cli_interrupt_status();
    xb_arch t;
    if (config_arch(sa, base, ci, &t, vals, ctx) != XB_OK) return 1; /* checked above */
    if (run_config(s, &t, ctx) != XB_OK)
        return ctx->status == XB_ERR_INTERRUPTED ? xb_cli_interrupt_status() : 1;
    FILE *rows = xb_sweep_dist_row(p, ci, o->f);
    write_row(rows, sa, vals, s);
    if (fflush(rows) != 0 || ferror(rows)) {
        xb_fail(ctx, XB_ERR_IO, "%s: write failed: %s", o->name, strerror(errno));
        /* keep only complete rows (a file-size limit may cut one) */
        if (o->partial[0] && o->good_size > 0) (void)!ftruncate(fileno(o->f), o->good_size);
        return 1;
    }
    if (rows == o->f && o->partial[0]) o->good_size = ftell(o->f);
    if (rows == o->f) o->n_new++;
    xb_sweep_dist_done(p, ci);
    test_stop(p->n_run);
    return 0;
}

/* This rank's configurations (sweep_dist.h); 0, or the exit code. */
static int run_all(const sweep_args *sa, const xb_arch *base, xb_session *s, sweep_out *o,
                   xb_sweep_dist *p, xb_ctx *ctx) {
    int rc = 0;
    int64_t ncfg = n_configs(sa), mine = 0, k = 0;
    for (int64_t ci = 0; ci < ncfg; ci++) mine += xb_sweep_dist_mine(p, ci);
    bool talk = p->dist.rank == 0 && sa->progress != XB_PROGRESS_NONE;
    xb_progress *pr = talk && sa->progress == XB_PROGRESS_LINES
                          ? xb_progress_start(XB_PROGRESS_LINES, "sweep", mine)
                          : NULL;
    for (int64_t ci = 0; ci < ncfg && rc == 0; ci++) {
        if (!xb_sweep_dist_mine(p, ci)) continue;
        const char *vals[MAX_VARY];
        rc = run_one(sa, base, s, o, p, ci, vals, ctx);
        if (rc == 0 && talk) report_config(sa, pr, ++k, mine, vals);
    }
    xb_progress_done(pr);
    if (rc) return rc;
    return xb_cli_stop ? xb_cli_interrupt_status() : 0;
}

int xb_cmd_sweep_args(int argc, char **argv) {
    sweep_args sa = {0};
    int rc = parse(argc, argv, &sa);
    if (rc >= 0) return rc;
    xb_ctx ctx = {0};
    xb_arch base;
    sa.ao.out = NULL; /* parse only: nothing written */
    return check_configs(&sa, &base, &ctx) ? 2 : -1;
}

/* Session (every rank), then at rank 0 the checked, opened output; rank 0's
 * outcome decides for all.  0, or the exit code. */
static int setup(sweep_args *sa, xb_sweep_dist *p, xb_session **s, sweep_out *o, xb_ctx *ctx) {
    int rc = 0;
    if (p->dist.size > 1 && sa->resume) {
        if (p->dist.rank == 0)
            fprintf(stderr, "xbar sweep: --resume needs one process (here %d MPI ranks): resume "
                    "with a single process, then rerun the rest under mpirun\n", p->dist.size);
        return 2; /* every rank alike */
    }
    if (open_session(sa, p->dist.rank == 0, s, ctx) != XB_OK) rc = 1;
    if (p->dist.rank == 0 && rc == 0 &&
        (check_outputs(sa, *s, ctx) != XB_OK || open_out(sa, o, ctx) != XB_OK))
        rc = ctx->status == XB_ERR_INVALID ? 2 : 1;
    int rc0 = rc;
    xb_dist_bcast_int(&p->dist, &rc0);
    if (rc0 != 0) return p->dist.rank == 0 ? rc : -1; /* -1: quietly, rank 0 reports */
    if (xb_sweep_dist_plan(p, n_configs(sa), o->done, ctx) != XB_OK) return 1;
    if (p->dist.size > 1 && p->dist.rank == 0)
        xb_report_note("%lld configurations over %d MPI ranks (dealt in snake order)",
                       (long long)n_configs(sa), p->dist.size);
    return rc;
}

int xb_cmd_sweep(int argc, char **argv) {
    xb_cli_trap_signals();
    sweep_args sa = {0};
    int rc = parse(argc, argv, &sa);
    if (rc >= 0) return rc;
    xb_ctx ctx = {0};
    xb_arch base;
    if ((rc = check_configs(&sa, &base, &ctx)) != 0) return rc;
    sa.base = &base;
    sa.argc = argc;
    sa.argv = argv;
    xb_session *s = NULL;
    sweep_out o = {0};
    xb_sweep_dist p = {.shard = sa.shard};
    xb_dist_start(&p.dist);
    rc = setup(&sa, &p, &s, &o, &ctx);
    if (rc == 0) rc = run_all(&sa, &base, s, &o, &p, &ctx);
    if (rc >= 0 && p.owner) /* collective: every rank that planned */
        rc = xb_sweep_dist_collect(&p, rc, ctx.msg, o.f, &o.n_new, &ctx);
    if (rc < 0) {
        rc = 1;
        ctx = (xb_ctx){0};
    }
    if (rc > 128) {
        fprintf(stderr, "\nxbar sweep: interrupted: %lld of %lld configurations complete%s%s%s\n",
                (long long)(o.n_done + o.n_new), (long long)n_configs(&sa),
                o.partial[0] ? ", in " : "", o.partial, o.partial[0] ? " (continue with --resume)" : "");
        ctx = (xb_ctx){0};
    }
    if (rc == 1 || (rc == 2 && ctx.status != XB_OK)) xb_report_error(&ctx);
    if (rc == 1 && o.f && o.partial[0])
        xb_report_note("the %lld complete rows are in %s (continue with --resume)",
                       (long long)(o.n_done + o.n_new), o.partial);
    xb_ctx cc = {0};
    if (close_out(&sa, &o, rc == 0, &cc) != XB_OK && rc == 0) {
        xb_report_error(&cc);
        rc = 1;
    }
    xb_session_free(s);
    xb_sweep_dist_free(&p);
    xb_dist_end(&p.dist);
    return rc;
}
