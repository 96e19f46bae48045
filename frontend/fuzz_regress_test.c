/* Regression tests for what fuzzing (tests/fuzz) found in the frontend.
 * Each reproduces its finding from bytes built here. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/resource.h>

#include "frontend/onnx.h"
#include "frontend/onnx_internal.h"
#include "tests/onnx_builder.h"
#include "tests/test_tmp.h"

static void fini(void) { xb_tmp_cleanup(); }

/* Cap this (forked) test process's address space so that an allocation
 * sized by the lying dims cannot succeed: before the fix the decoder
 * allocated dims x 4 bytes first and failed with "out of memory" instead of
 * naming the missing payload.  ASan reserves terabytes of shadow, so the
 * cap only applies to plain builds; there the test still checks the
 * message. */
static void cap_memory(void) {
#ifndef XB_HAVE_ASAN
    struct rlimit r = {(rlim_t)1 << 30, (rlim_t)1 << 30};
    cr_assert_eq(setrlimit(RLIMIT_AS, &r), 0);
#endif
}

/* fuzz_tensor_pb: an 8-byte TensorProto (dims [1073741823], FLOAT, no
 * data) made the decoder allocate 4 GiB before noticing there was no
 * payload. */
Test(fuzz_regress, tensor_file_dims_without_payload, .fini = fini) {
    /* field 1 (dims) varint 0x3fffffff, field 2 (data_type) = 1 (FLOAT) */
    static const uint8_t pb[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0x03, 0x10, 0x01};
    const char *path = xb_tmp("input_0.pb");
    xb_write_bytes(path, pb, sizeof pb);
    cap_memory();
    xb_ctx ctx = {0};
    xb_tensor t;
    cr_assert_eq(xb_onnx_read_tensor_file(path, &t, &ctx), XB_ERR_PARSE, "%s", ctx.msg);
    cr_assert(strncmp(ctx.msg, path, strlen(path)) == 0, "%s", ctx.msg);
    cr_assert(strstr(ctx.msg, "float_data has 0 values, dims [1073741823] need 1073741823"), "%s",
              ctx.msg);
    cr_assert_null(t.data);
}

/* The same through the decoder every initializer and Constant uses, with
 * raw_data one byte long. */
Test(fuzz_regress, decode_raw_data_shorter_than_dims) {
    int64_t dims[] = {1 << 15, 1 << 15};
    uint8_t one = 7;
    Onnx__TensorProto tp;
    onnx__tensor_proto__init(&tp);
    tp.n_dims = 2;
    tp.dims = dims;
    tp.has_data_type = 1;
    tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tp.has_raw_data = 1;
    tp.raw_data.len = 1;
    tp.raw_data.data = &one;
    cap_memory();
    xb_ctx ctx = {0};
    xb_tensor out;
    cr_assert_eq(xb_onnx_decode_tensor(&tp, "initializer 'w'", &out, &ctx), XB_ERR_PARSE, "%s",
                 ctx.msg);
    cr_assert_str_eq(ctx.msg, "initializer 'w': raw_data has 1 bytes, dims [32768,32768] need 4294967296");
    cr_assert_null(out.data);
}

/* Packs and loads the built model, which must be refused (no graph). */
static xb_status load_refused(ob_model *m, const char *name, xb_ctx *ctx) {
    size_t len;
    const uint8_t *buf = ob_pack(m, &len);
    xb_graph *g = NULL;
    xb_status st = xb_onnx_load_buffer(buf, len, name, 1, &g, ctx);
    ob_end(m);
    cr_assert_null(g);
    return st;
}

/* fuzz_onnx_struct: graph input dims each within the limit but whose
 * product overflows int64 (2^32 x 2^32) were accepted; shape arithmetic
 * in prepare and exec then overflowed (UB). */
Test(fuzz_regress, graph_input_dims_product_overflow) {
    static const char *const X[] = {"x", NULL}, *const Y[] = {"y", NULL};
    ob_model m;
    ob_begin(&m, 13);
    int64_t d[] = {(int64_t)1 << 32, (int64_t)1 << 32};
    ob_input(&m, "x", OB_FLOAT, 2, d);
    ob_node(&m, "Relu", "relu", X, Y);
    ob_output(&m, "y");
    xb_ctx ctx = {0};
    xb_status st = load_refused(&m, "big.onnx", &ctx);
    cr_assert_eq(st, XB_ERR_NOMEM, "%s", ctx.msg);
    cr_assert_str_eq(ctx.msg, "big.onnx: graph input 'x': dims describe more than the "
                              "4294967296-byte limit");
}

/* fuzz_onnx_struct (session 8, finding 15): a Relu whose output name began
 * with a NUL byte, which the loader reads as the empty name of an absent
 * optional output, reached Relu's prepare with output -1; it wrote before
 * the graph's tensor array (ASan heap-buffer-overflow).  Every op's first
 * output is now checked once, in xb_graph_prepare. */
Test(fuzz_regress, node_without_first_output_is_refused) {
    static const char *const X[] = {"x", NULL}, *const Y[] = {"y", NULL}, *const NONE[] = {"", NULL};
    ob_model m;
    ob_begin(&m, 13);
    int64_t d[] = {1, 4};
    ob_input(&m, "x", OB_FLOAT, 2, d);
    ob_node(&m, "Relu", "lost", X, NONE);
    ob_node(&m, "Relu", "relu", X, Y);
    ob_output(&m, "y");
    xb_ctx ctx = {0};
    xb_status st = load_refused(&m, "m.onnx", &ctx);
    cr_assert_eq(st, XB_ERR_INVALID, "%s", ctx.msg);
    cr_assert(strstr(ctx.msg, "node 'lost' (Relu): its first output has no name"), "%s", ctx.msg);
}
