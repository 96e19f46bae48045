/* Malformed models: each must fail with one message that names the file
 * and the cause, never crash (run these under the ASan build too). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "frontend/onnx.h"
#include "tests/onnx_builder.h"

static const char *const X[] = {"x", NULL};
static const char *const Y[] = {"y", NULL};

static void relu_model(ob_model *m) {
    ob_begin(m, 13);
    int64_t d[] = {1, 3};
    ob_input(m, "x", OB_FLOAT, 2, d);
    ob_node(m, "Relu", "relu", X, Y);
    ob_output(m, "y");
}

/* Load the model, expect failure with status st and a message starting with
 * "bad.onnx: " and containing `frag`. */
static void expect_fail(ob_model *m, xb_status st, const char *frag) {
    size_t len;
    const uint8_t *buf = ob_pack(m, &len);
    xb_ctx ctx = {0};
    xb_graph *g = (xb_graph *)1;
    xb_status got = xb_onnx_load_buffer(buf, len, "bad.onnx", 1, &g, &ctx);
    ob_end(m);
    cr_assert_null(g);
    cr_assert_eq(got, st, "status %s, message: %s", xb_status_name(got), ctx.msg);
    cr_assert(strncmp(ctx.msg, "bad.onnx: ", 10) == 0, "%s", ctx.msg);
    cr_assert(strstr(ctx.msg, frag) != NULL, "want '%s' in: %s", frag, ctx.msg);
    cr_assert(strchr(ctx.msg, '\n') == NULL, "one message: %s", ctx.msg);
}

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    if (len) cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

Test(malformed, missing_file) {
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(xb_onnx_load("/nonexistent/dir/model.onnx", 1, &g, &ctx), XB_ERR_IO);
    cr_assert_null(g);
    cr_assert_str_eq(ctx.msg, "/nonexistent/dir/model.onnx: cannot open: No such file or directory");
}

Test(malformed, directory_instead_of_file) {
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(xb_onnx_load("/tmp", 1, &g, &ctx), XB_ERR_IO);
    cr_assert_str_eq(ctx.msg, "/tmp: is a directory, not a model file");
}

Test(malformed, empty_file) {
    char path[] = "/tmp/xbar_empty_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(xb_onnx_load(path, 1, &g, &ctx), XB_ERR_PARSE);
    unlink(path);
    cr_assert(strstr(ctx.msg, ": file is empty") != NULL, "%s", ctx.msg);
    cr_assert(strncmp(ctx.msg, path, strlen(path)) == 0, "%s", ctx.msg);
}

Test(malformed, truncated_file) {
    ob_model m;
    relu_model(&m);
    int64_t d[] = {64};
    float w[64] = {0};
    ob_init_f32(&m, "w", 1, d, w);
    size_t len;
    const uint8_t *buf = ob_pack(&m, &len);
    char path[] = "/tmp/xbar_trunc_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    write_file(path, buf, len / 2);
    ob_end(&m);
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(xb_onnx_load(path, 1, &g, &ctx), XB_ERR_PARSE, "%s", ctx.msg);
    unlink(path);
    cr_assert(strstr(ctx.msg, "not a valid ONNX model (protobuf parse failed") != NULL, "%s", ctx.msg);
}

/* Every prefix of a valid model either loads or fails cleanly. */
Test(malformed, every_prefix_fails_cleanly) {
    ob_model m;
    relu_model(&m);
    int64_t d[] = {3};
    float w[3] = {1, 2, 3};
    ob_init_f32(&m, "w", 1, d, w);
    ob_output(&m, "w");
    ob_meta(&m, "k", "v");
    size_t len;
    const uint8_t *buf = ob_pack(&m, &len);
    int failed = 0;
    for (size_t cut = 0; cut < len; cut++) {
        xb_ctx ctx = {0};
        xb_graph *g;
        uint8_t *copy = malloc(cut + 1); /* exact-size buffer: ASan sees over-reads */
        memcpy(copy, buf, cut);
        xb_status st = xb_onnx_load_buffer(copy, cut, "cut.onnx", 1, &g, &ctx);
        free(copy);
        if (st == XB_OK) {
            xb_graph_free(g);
            continue;
        }
        failed++;
        cr_assert_null(g);
        cr_assert(strncmp(ctx.msg, "cut.onnx: ", 10) == 0, "cut %zu: %s", cut, ctx.msg);
    }
    ob_end(&m);
    cr_assert_geq(failed, (int)len - 12, "almost every prefix is invalid (%d of %zu)", failed, len);
}

Test(malformed, random_bytes) {
    uint64_t s = 0x9e3779b97f4a7c15ULL; /* fixed seed */
    for (int trial = 0; trial < 64; trial++) {
        size_t len = 1 + (size_t)(trial * 37 % 700);
        uint8_t *buf = malloc(len);
        for (size_t i = 0; i < len; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[i] = (uint8_t)(s >> 56);
        }
        xb_ctx ctx = {0};
        xb_graph *g;
        xb_status st = xb_onnx_load_buffer(buf, len, "rand.onnx", 1, &g, &ctx);
        free(buf);
        cr_assert_neq(st, XB_OK, "random bytes loaded?");
        cr_assert_null(g);
        cr_assert(strncmp(ctx.msg, "rand.onnx: ", 11) == 0, "%s", ctx.msg);
    }
}

Test(malformed, negative_dims) {
    ob_model m;
    relu_model(&m);
    int64_t d[] = {2, -3};
    ob_initializer(&m, ob_tensor_raw(&m, "w", OB_FLOAT, 2, d, NULL, 0));
    expect_fail(&m, XB_ERR_PARSE, "initializer 'w': dimension 1 is negative (-3)");
}

Test(malformed, negative_input_dim) {
    ob_model m;
    ob_begin(&m, 13);
    int64_t d[] = {1, 3};
    Onnx__ValueInfoProto *vi = ob_input(&m, "x", OB_FLOAT, 2, d);
    vi->type->tensor_type->shape->dim[1]->dim_value = -7;
    ob_node(&m, "Relu", "relu", X, Y);
    ob_output(&m, "y");
    expect_fail(&m, XB_ERR_PARSE, "graph input 'x': dimension 1 is negative (-7)");
}

Test(malformed, absurd_size) {
    ob_model m;
    relu_model(&m);
    int64_t d[] = {1 << 20, 1 << 20, 1 << 10};
    ob_initializer(&m, ob_tensor_raw(&m, "huge", OB_FLOAT, 3, d, NULL, 0));
    expect_fail(&m, XB_ERR_NOMEM, "initializer 'huge': dims [1048576,1048576,1024]");
}

Test(malformed, dims_product_overflows) {
    ob_model m;
    relu_model(&m);
    int64_t d[] = {INT64_MAX / 2, INT64_MAX / 2, 4};
    ob_initializer(&m, ob_tensor_raw(&m, "ovf", OB_INT8, 3, d, NULL, 0));
    expect_fail(&m, XB_ERR_NOMEM, "initializer 'ovf'");
}

Test(malformed, raw_data_shorter_than_dims) {
    ob_model m;
    relu_model(&m);
    int64_t d[] = {6, 1, 5, 5};
    uint8_t bytes[100] = {0};
    ob_initializer(&m, ob_tensor_raw(&m, "conv1.weight", OB_FLOAT, 4, d, bytes, 100));
    expect_fail(&m, XB_ERR_PARSE,
                "bad.onnx: initializer 'conv1.weight': raw_data has 100 bytes, dims [6,1,5,5] need 600");
}

Test(malformed, raw_data_longer_than_dims) {
    ob_model m;
    relu_model(&m);
    int64_t d[] = {2};
    uint8_t bytes[12] = {0};
    ob_initializer(&m, ob_tensor_raw(&m, "b", OB_FLOAT, 1, d, bytes, 12));
    expect_fail(&m, XB_ERR_PARSE, "initializer 'b': raw_data has 12 bytes, dims [2] need 8");
}

Test(malformed, typed_count_mismatch) {
    ob_model m;
    relu_model(&m);
    int64_t d[] = {2, 2};
    float v[3] = {1, 2, 3};
    ob_initializer(&m, ob_tensor_f32(&m, "w", 2, d, v, 3));
    expect_fail(&m, XB_ERR_PARSE, "initializer 'w': float_data has 3 values, dims [2,2] need 4");
}

Test(malformed, int64_count_mismatch) {
    ob_model m;
    relu_model(&m);
    int64_t d[] = {3};
    int64_t v[1] = {1};
    ob_initializer(&m, ob_tensor_i64(&m, "shape", 1, d, v, 1));
    expect_fail(&m, XB_ERR_PARSE, "initializer 'shape': int64_data has 1 values, dims [3] need 3");
}

Test(malformed, int8_value_out_of_range) {
    ob_model m;
    relu_model(&m);
    int64_t d[] = {2};
    int32_t v[2] = {5, 300};
    ob_initializer(&m, ob_tensor_i32(&m, "q", OB_INT8, 1, d, v, 2));
    expect_fail(&m, XB_ERR_PARSE, "initializer 'q': int32_data[1] = 300 is out of range for INT8");
}

Test(malformed, unsupported_element_type) {
    ob_model m;
    relu_model(&m);
    int64_t d[] = {2};
    uint8_t h[4] = {0};
    ob_initializer(&m, ob_tensor_raw(&m, "half", OB_FLOAT16, 1, d, h, 4));
    expect_fail(&m, XB_ERR_UNSUPPORTED, "initializer 'half': element type FLOAT16 is not supported");
}

Test(malformed, external_data) {
    ob_model m;
    relu_model(&m);
    int64_t d[] = {2};
    Onnx__TensorProto *t = ob_tensor_raw(&m, "ext", OB_FLOAT, 1, d, NULL, 0);
    t->has_raw_data = 0;
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    ob_initializer(&m, t);
    expect_fail(&m, XB_ERR_UNSUPPORTED, "initializer 'ext': data stored in an external file");
}

Test(malformed, rank_too_large) {
    ob_model m;
    relu_model(&m);
    int64_t d[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    float v = 0;
    ob_initializer(&m, ob_tensor_raw(&m, "deep", OB_FLOAT, 9, d, &v, 4));
    expect_fail(&m, XB_ERR_UNSUPPORTED, "initializer 'deep': rank 9 exceeds the maximum 8");
}

Test(malformed, input_rank_too_large) {
    ob_model m;
    ob_begin(&m, 13);
    int64_t d[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    ob_input(&m, "x", OB_FLOAT, 9, d);
    ob_node(&m, "Relu", "relu", X, Y);
    ob_output(&m, "y");
    expect_fail(&m, XB_ERR_UNSUPPORTED, "graph input 'x': rank 9 exceeds the maximum 8");
}

Test(malformed, cycle) {
    ob_model m;
    ob_begin(&m, 13);
    int64_t d[] = {1, 3};
    ob_input(&m, "x", OB_FLOAT, 2, d);
    const char *a[] = {"a", NULL}, *b[] = {"b", NULL};
    ob_node(&m, "Relu", "r1", b, a);
    ob_node(&m, "Relu", "r2", a, b);
    ob_node(&m, "Relu", "r3", X, Y);
    ob_output(&m, "y");
    ob_output(&m, "b");
    expect_fail(&m, XB_ERR_INVALID, "is on a cycle through tensor");
}

Test(malformed, undefined_input) {
    ob_model m;
    ob_begin(&m, 13);
    int64_t d[] = {1, 3};
    ob_input(&m, "x", OB_FLOAT, 2, d);
    const char *in[] = {"ghost", NULL};
    ob_node(&m, "Relu", "relu", in, Y);
    ob_output(&m, "y");
    expect_fail(&m, XB_ERR_INVALID,
                "node 'relu' (Relu) reads tensor 'ghost', which no node, input or initializer defines");
}

Test(malformed, duplicate_producers) {
    ob_model m;
    relu_model(&m);
    ob_node(&m, "Relu", "relu_again", X, Y);
    expect_fail(&m, XB_ERR_INVALID, "tensor 'y' is produced by both node 'relu' and node 'relu_again'");
}

Test(malformed, node_overwrites_initializer) {
    ob_model m;
    relu_model(&m);
    int64_t d[] = {1, 3};
    float v[3] = {0};
    ob_init_f32(&m, "y", 2, d, v);
    expect_fail(&m, XB_ERR_INVALID, "node 'relu' (Relu) writes tensor 'y', but it is an initializer");
}

Test(malformed, node_overwrites_graph_input) {
    ob_model m;
    relu_model(&m);
    const char *in[] = {"y", NULL};
    ob_node(&m, "Relu", "loop", in, X);
    expect_fail(&m, XB_ERR_INVALID, "node 'loop' (Relu) writes tensor 'x', but it is a graph input");
}

Test(malformed, duplicate_initializer) {
    ob_model m;
    relu_model(&m);
    int64_t d[] = {1};
    float v = 0;
    ob_init_f32(&m, "w", 1, d, &v);
    ob_init_f32(&m, "w", 1, d, &v);
    expect_fail(&m, XB_ERR_INVALID, "initializer 'w' is defined twice");
}

Test(malformed, no_outputs) {
    ob_model m;
    ob_begin(&m, 13);
    int64_t d[] = {1, 3};
    ob_input(&m, "x", OB_FLOAT, 2, d);
    ob_node(&m, "Relu", "relu", X, Y);
    expect_fail(&m, XB_ERR_INVALID, "graph has no outputs");
}

Test(malformed, output_never_produced) {
    ob_model m;
    relu_model(&m);
    ob_output(&m, "nowhere");
    expect_fail(&m, XB_ERR_INVALID, "graph output 'nowhere' is not produced");
}

Test(malformed, no_graph) {
    ob_model m;
    relu_model(&m);
    m.model.graph = NULL;
    expect_fail(&m, XB_ERR_PARSE, "the model has no graph");
}

Test(malformed, input_without_shape) {
    ob_model m;
    relu_model(&m);
    m.graph.input[0]->type->tensor_type->shape = NULL;
    expect_fail(&m, XB_ERR_UNSUPPORTED, "graph input 'x' has no shape");
}

Test(malformed, bad_batch_argument) {
    ob_model m;
    relu_model(&m);
    size_t len;
    const uint8_t *buf = ob_pack(&m, &len);
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(xb_onnx_load_buffer(buf, len, "m.onnx", 0, &g, &ctx), XB_ERR_INVALID);
    ob_end(&m);
    cr_assert(strstr(ctx.msg, "m.onnx: batch must be >= 1") != NULL, "%s", ctx.msg);
}

Test(malformed, tensor_file_garbage_and_short_raw) {
    char path[] = "/tmp/xbar_pbbad_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    write_file(path, junk, sizeof junk);
    xb_tensor t;
    xb_ctx ctx = {0};
    cr_assert_eq(xb_onnx_read_tensor_file(path, &t, &ctx), XB_ERR_PARSE);
    cr_assert(strstr(ctx.msg, "not a valid TensorProto") != NULL, "%s", ctx.msg);
    cr_assert_null(t.data);

    ob_model m;
    ob_begin(&m, 13);
    int64_t d[] = {4};
    float v[2] = {1, 2};
    Onnx__TensorProto *tp = ob_tensor_raw(&m, "input_0", OB_FLOAT, 1, d, v, sizeof v);
    size_t len = onnx__tensor_proto__get_packed_size(tp);
    uint8_t *buf = malloc(len);
    onnx__tensor_proto__pack(tp, buf);
    ob_end(&m);
    write_file(path, buf, len);
    free(buf);
    xb_ctx_clear(&ctx);
    cr_assert_eq(xb_onnx_read_tensor_file(path, &t, &ctx), XB_ERR_PARSE);
    unlink(path);
    cr_assert(strstr(ctx.msg, ": tensor 'input_0': raw_data has 8 bytes, dims [4] need 16") != NULL,
              "%s", ctx.msg);
    cr_assert(strncmp(ctx.msg, path, strlen(path)) == 0, "%s", ctx.msg);
    cr_assert_null(t.data);
    cr_assert_null(t.name);
}

/* Single-byte corruptions anywhere in a model with initializers, attributes
 * and a Constant: each load succeeds or fails cleanly (the ASan build checks
 * that nothing is read out of bounds or leaked on any error path). */
Test(malformed, every_byte_corrupted) {
    ob_model m;
    ob_begin(&m, 13);
    int64_t d[] = {-1, 3};
    ob_input(&m, "x", OB_FLOAT, 2, d);
    const char *a[] = {"a", NULL}, *in2[] = {"a", "c", NULL}, *b[] = {"b", NULL};
    Onnx__NodeProto *n = ob_node(&m, "Relu", "relu", X, a);
    int64_t iv[] = {1, 2};
    ob_attr_ints(&m, n, "ints", 2, iv);
    ob_attr_str(&m, n, "s", "abc");
    int64_t cd[] = {2};
    float cv[2] = {1, 2};
    ob_constant(&m, "c", ob_tensor_f32(&m, "", 1, cd, cv, 2));
    ob_init_f32(&m, "w", 1, cd, cv);
    ob_node(&m, "Relu", "relu2", in2, b);
    ob_output(&m, "b");
    ob_output(&m, "w");
    size_t len;
    const uint8_t *buf = ob_pack(&m, &len);
    uint8_t *copy = malloc(len);
    for (size_t i = 0; i < len; i++) {
        static const uint8_t flips[] = {0xff, 0x80, 0x01, 0x7f};
        for (size_t f = 0; f < sizeof flips; f++) {
            memcpy(copy, buf, len);
            copy[i] ^= flips[f];
            xb_ctx ctx = {0};
            xb_graph *g;
            xb_status st = xb_onnx_load_buffer(copy, len, "flip.onnx", 2, &g, &ctx);
            if (st == XB_OK) {
                xb_graph_free(g);
                continue;
            }
            cr_assert_null(g);
            cr_assert(strncmp(ctx.msg, "flip.onnx: ", 11) == 0, "byte %zu: %s", i, ctx.msg);
        }
    }
    free(copy);
    ob_end(&m);
}

/* A cycle made only of Identity nodes must still be reported (the Identity
 * pass must neither loop forever nor hide it). */
Test(malformed, identity_cycle) {
    ob_model m;
    relu_model(&m);
    const char *a[] = {"a", NULL}, *b[] = {"b", NULL};
    ob_node(&m, "Identity", "i1", a, b);
    ob_node(&m, "Identity", "i2", b, a);
    ob_output(&m, "a");
    expect_fail(&m, XB_ERR_INVALID, "cycle");
}

Test(malformed, node_reading_its_own_output) {
    ob_model m;
    relu_model(&m);
    const char *s[] = {"self", NULL};
    ob_node(&m, "Identity", "loop", s, s);
    ob_output(&m, "self");
    expect_fail(&m, XB_ERR_INVALID, "cycle");
}

/* protobuf-c unpacks recursively; ONNX's schema nests (GraphProto -> Node ->
 * Attribute -> GraphProto).  100,000 nested If nodes (2 MB) would overflow
 * the stack without the depth check. */
static size_t put_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    do {
        p[n++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

/* Wrap buf[0..len) (held at the end of a big buffer) as a length-delimited
 * field `num` followed by an optional prefix; returns the new start. */
static uint8_t *wrap(uint8_t *start, size_t *len, unsigned num, const uint8_t *prefix, size_t plen) {
    uint8_t hdr[24];
    size_t h = put_varint(hdr, (uint64_t)num << 3 | 2);
    h += put_varint(hdr + h, *len);
    start -= h;
    memcpy(start, hdr, h);
    start -= plen;
    if (plen) memcpy(start, prefix, plen);
    *len += h + plen;
    return start;
}

Test(malformed, deeply_nested_subgraphs) {
    const int depth = 100000;
    size_t cap = (size_t)depth * 24 + 64;
    uint8_t *buf = malloc(cap);
    uint8_t *start = buf + cap;
    size_t len = 0;
    const uint8_t attr_name[] = {0x0a, 0x01, 'g'};      /* AttributeProto.name = "g" */
    const uint8_t op_if[] = {0x22, 0x02, 'I', 'f'};     /* NodeProto.op_type = "If" */
    for (int i = 0; i < depth; i++) {
        start = wrap(start, &len, 6, attr_name, sizeof attr_name); /* AttributeProto.g */
        start = wrap(start, &len, 5, op_if, sizeof op_if);         /* NodeProto.attribute */
        start = wrap(start, &len, 1, NULL, 0);                     /* GraphProto.node */
    }
    const uint8_t ir[] = {0x08, 0x08};
    start = wrap(start, &len, 7, ir, sizeof ir); /* ModelProto.graph */
    cr_assert_geq(start, buf);
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(xb_onnx_load_buffer(start, len, "deep.onnx", 1, &g, &ctx), XB_ERR_PARSE);
    free(buf);
    cr_assert_str_eq(ctx.msg, "deep.onnx: messages nested more than 64 levels deep (corrupt or hostile file)");
}
