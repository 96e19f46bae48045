/* --max-memory: the byte-count parser, the estimates and the checks that
 * stop a run before it allocates (eval/membudget.h). */
#include <criterion/criterion.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "eval/dataset.h"
#include "eval/membudget.h"
#include "eval/session.h"
#include "frontend/onnx.h"
#include "runtime/exec.h"
#include "runtime/num.h"
#include "tests/test_tmp.h"

#define SRC XBAR_SOURCE_DIR "/"
#define MODEL SRC "models/lenet5_mnist.onnx"
#define MNIST_SAMPLE SRC "datasets/samples/mnist/t10k-images-idx3-ubyte.gz"

static void fini(void) { xb_tmp_cleanup(); }

Test(membudget, parse_bytes_suffixes_and_overflow) {
    uint64_t v = 0;
    cr_assert(xb_parse_bytes("512M", UINT64_MAX, &v) && v == (uint64_t)512 << 20);
    cr_assert(xb_parse_bytes("2g", UINT64_MAX, &v) && v == (uint64_t)2 << 30);
    cr_assert(xb_parse_bytes("3K", UINT64_MAX, &v) && v == 3072);
    cr_assert(xb_parse_bytes("1048576", UINT64_MAX, &v) && v == 1048576);
    cr_assert(xb_parse_bytes("17179869183G", UINT64_MAX, &v) && v == (uint64_t)17179869183 << 30);
    const char *bad[] = {"", "G", "1.5G", "-1M", "+1M", "1 M", "1MB", "1T", "0x10M",
                         "17179869184G", /* 2^34 GiB = 2^64: overflows */
                         "99999999999999999999", "999999999999999999999999999999999999999M", NULL};
    for (int i = 0; bad[i]; i++) cr_assert_not(xb_parse_bytes(bad[i], UINT64_MAX, &v), "%s", bad[i]);
    cr_assert_not(xb_parse_bytes("2G", (uint64_t)1 << 30, &v), "above max");
}

/* Model and threads: the weights plus one planned executor per thread. */
Test(membudget, model_check_counts_weights_and_threads) {
    xb_ctx ctx = {0};
    xb_graph *g = NULL;
    cr_assert_eq(xb_onnx_load(MODEL, 1, &g, &ctx), XB_OK, "%s", ctx.msg);
    size_t per = 0;
    cr_assert_eq(xb_exec_plan_bytes(g, &per, &ctx), XB_OK);
    uint64_t w = xb_mem_model_bytes(g), u1 = 0, u2 = 0;
    /* LeNet-5: 61,706 float parameters (docs/MODELS.md), 4 bytes each */
    cr_assert_geq(w, 61706 * 4, "weights %llu", (unsigned long long)w);
    cr_assert_gt(per, 28 * 28 * 4);
    cr_assert_eq(xb_mem_check_model(g, MODEL, 1, 0, &u1, &ctx), XB_OK);
    cr_assert_eq(xb_mem_check_model(g, MODEL, 2, 0, &u2, &ctx), XB_OK);
    cr_assert_eq(u1, w + per);
    cr_assert_eq(u2, w + 2 * per);
    /* no thread count: as many as the runner starts, not one */
    uint64_t u0 = 0;
    cr_assert_eq(xb_mem_check_model(g, MODEL, 0, 0, &u0, &ctx), XB_OK);
    cr_assert_eq(u0, w + (uint64_t)omp_get_max_threads() * per);
    cr_assert_eq(xb_mem_check_model(g, MODEL, 2, u2, &u2, &ctx), XB_OK, "exactly at the limit");
    cr_assert_eq(xb_mem_check_model(g, MODEL, 2, u2 - 1, &u2, &ctx), XB_ERR_INVALID);
    cr_assert(!strncmp(ctx.msg, MODEL ": a run needs", strlen(MODEL ": a run needs")), "%s", ctx.msg);
    cr_assert(strstr(ctx.msg, "--max-memory") && strstr(ctx.msg, "2 threads"), "%s", ctx.msg);
    xb_graph_free(g);
}

/* The executor's plan is what xb_exec_new allocates: blocks plus scratch. */
Test(membudget, plan_bytes_equal_the_executor) {
    xb_ctx ctx = {0};
    xb_graph *g = NULL;
    cr_assert_eq(xb_onnx_load(MODEL, 1, &g, &ctx), XB_OK, "%s", ctx.msg);
    size_t per = 0;
    cr_assert_eq(xb_exec_plan_bytes(g, &per, &ctx), XB_OK);
    xb_exec *e = xb_exec_new(g, &ctx);
    cr_assert_not_null(e);
    size_t blocks = e->scratch_bytes + XB_EXEC_BLOCK_SLACK;
    /* the blocks' sizes are not kept; recompute from the tensors each points to */
    for (int k = 0; k < e->n_blocks; k++) {
        size_t biggest = 0;
        for (int t = 0; t < g->n_tensors; t++) {
            if (e->buf[t] != e->blocks[k] || g->tensors[t].is_const) continue;
            size_t b = (size_t)xb_shape_numel(&g->tensors[t].shape) * xb_dtype_size(g->tensors[t].dtype);
            if (b > biggest) biggest = b;
        }
        blocks += (biggest ? biggest : 1) + XB_EXEC_BLOCK_SLACK;
    }
    cr_assert_eq(per, blocks, "plan %zu, executor %zu", per, blocks);
    xb_exec_free(e);
    xb_graph_free(g);
}

/* Datasets: from the header (IDX), the file size (CIFAR), the file names
 * (folders), without decoding. */
Test(membudget, dataset_estimates_from_headers, .fini = fini) {
    /* a gzipped IDX file: its pixels (decompressed straight into the
     * dataset), labels held (4 bytes) and the labels file (1 byte) */
    cr_assert_eq(xb_mem_dataset_bytes(MNIST_SAMPLE), 1000ull * 784 + 1000 * 5);
    /* only its first 100 images held (a training split's calibration images) */
    cr_assert_eq(xb_mem_dataset_bytes_head(MNIST_SAMPLE, 100), 100ull * 784 + 100 * 4 + 1000);
    cr_assert_eq(xb_mem_dataset_bytes_head(MNIST_SAMPLE, 5000), xb_mem_dataset_bytes(MNIST_SAMPLE));
    /* a plain CIFAR file stays open: its labels and the 256-record read
     * buffer, not its 3 MB of pixels */
    cr_assert_eq(xb_mem_dataset_bytes(SRC "datasets/samples/cifar10/test_batch.bin"),
                 4ull * 1000 + 256 * 3073);
    /* a folder: its file names only (decoded one image at a time), well
     * under the 2 x 3 x 784 bytes per image its pixels would take */
    uint64_t fb = xb_mem_dataset_bytes(SRC "datasets/samples/mnist_png");
    cr_assert_gt(fb, 0);
    cr_assert_lt(fb, 2ull * 3 * 784 * 100, "%llu", (unsigned long long)fb);
    cr_assert_eq(xb_mem_dataset_bytes(SRC "no/such/file"), 0);
    /* A 16-byte header declaring 10 million 28x28 images: 15.7 GB, refused
     * before anything is decompressed. */
    unsigned char h[16] = {0, 0, 8, 3, 0, 0x98, 0x96, 0x80, 0, 0, 0, 28, 0, 0, 0, 28};
    const char *p = xb_tmp("t10k-images-idx3-ubyte.gz");
    xb_write_gz(p, h, sizeof h);
    cr_assert_eq(xb_mem_dataset_bytes(p), 10000000ull * 784 + 10000000ull * 5);
    xb_ctx ctx = {0};
    cr_assert_eq(xb_mem_check_dataset(p, 1 << 20, (uint64_t)1 << 30, &ctx), XB_ERR_INVALID);
    cr_assert(!strncmp(ctx.msg, p, strlen(p)) && strstr(ctx.msg, "--max-memory"), "%s", ctx.msg);
    cr_assert_eq(xb_mem_check_dataset(p, 0, 0, &ctx), XB_OK, "no limit");
}

/* Through the session, as `xbar run --max-memory` uses it: the model check
 * at open, the dataset check before it is loaded, a generous limit runs. */
Test(membudget, session_refuses_before_allocating) {
    xb_ctx ctx = {0};
    xb_session *s = NULL;
    xb_session_opts so = {.threads = 1, .profile_images = 16, .max_memory = 1 << 20};
    /* 1 MiB: LeNet-5's float weights alone are 247 kB, its activations 80 kB;
     * so the model fits and the 0.8 MB sample (784,000 pixels) does not */
    cr_assert_eq(xb_session_open(MODEL, &so, &s, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(xb_session_open_data(s, MNIST_SAMPLE, 10, &ctx), XB_ERR_INVALID);
    cr_assert(!strncmp(ctx.msg, MNIST_SAMPLE ": loading it needs about 0.8 MiB",
                       strlen(MNIST_SAMPLE ": loading it needs about 0.8 MiB")), "%s", ctx.msg);
    xb_session_free(s);
    so.max_memory = 64 << 10; /* below the model */
    s = NULL;
    ctx = (xb_ctx){0};
    cr_assert_eq(xb_session_open(MODEL, &so, &s, &ctx), XB_ERR_INVALID);
    cr_assert_null(s);
    cr_assert(strstr(ctx.msg, "over --max-memory 0.1 MiB"), "%s", ctx.msg);
    so.max_memory = 64 << 20;
    cr_assert_eq(xb_session_open(MODEL, &so, &s, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(xb_session_open_data(s, MNIST_SAMPLE, 10, &ctx), XB_OK, "%s", ctx.msg);
    xb_session_free(s);
}
