/* Loader tests on models built in C (tests/onnx_builder.h), using only ops
 * whose kernels every build has (Relu), plus direct inspection of the IR. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "frontend/onnx.h"
#include "frontend/onnx_internal.h"
#include "tests/onnx_builder.h"
#include "tests/test_util.h"

static const char *const X[] = {"x", NULL};
static const char *const Y[] = {"y", NULL};

/* x[N,3] -> Relu -> y */
static void relu_model(ob_model *m) {
    ob_begin(m, 13);
    int64_t d[] = {-1, 3};
    ob_input(m, "x", OB_FLOAT, 2, d);
    ob_node(m, "Relu", "relu", X, Y);
    ob_output(m, "y");
}

static xb_status load(ob_model *m, int64_t batch, xb_graph **g, xb_ctx *ctx) {
    size_t len;
    const uint8_t *buf = ob_pack(m, &len);
    return xb_onnx_load_buffer(buf, len, "t.onnx", batch, g, ctx);
}

Test(onnx_load, relu_model_runs_with_bound_batch) {
    ob_model m;
    relu_model(&m);
    ob_meta(&m, "xbar.dataset", "mnist");
    ob_meta(&m, "xbar.mean", "0.1307");
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(load(&m, 2, &g, &ctx), XB_OK, "%s", ctx.msg);
    ob_end(&m);
    cr_assert_eq(g->n_inputs, 1);
    cr_assert_eq(g->n_outputs, 1);
    cr_assert_eq(g->n_nodes, 1);
    cr_assert_str_eq(g->path, "t.onnx");
    cr_assert_str_eq(g->producer, "xbar-test");
    cr_assert_eq(g->opset_onnx, 13);
    cr_assert_eq(g->ir_version, 8);
    cr_assert_str_eq(xb_graph_meta(g, "xbar.dataset"), "mnist");
    cr_assert_str_eq(xb_graph_meta(g, "xbar.mean"), "0.1307");
    const xb_tensor *x = &g->tensors[g->inputs[0]];
    cr_assert_str_eq(x->name, "x");
    cr_assert_eq(x->shape.rank, 2);
    cr_assert_eq(x->shape.d[0], 2, "batch bound");
    const xb_tensor *y = &g->tensors[g->outputs[0]];
    cr_assert_str_eq(y->name, "y");
    cr_assert_eq(y->dtype, XB_F32);
    cr_assert_eq(y->shape.d[0], 2);
    cr_assert_eq(y->shape.d[1], 3);
    cr_assert_str_eq(g->nodes[0].name, "relu");
    cr_assert_eq(g->nodes[0].opset, 13);

    xb_test_graph tg = {.g = g};
    float in[6] = {-1, 2, -3, 4, 0.5f, -0.5f};
    float *out = xb_test_run1(&tg, in);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    float want[6] = {0, 2, 0, 4, 0.5f, 0};
    for (int i = 0; i < 6; i++) cr_assert_float_eq(out[i], want[i], 0.0f);
    xb_test_end(&tg);
}

Test(onnx_load, load_from_file_and_missing_file) {
    ob_model m;
    relu_model(&m);
    size_t len;
    const uint8_t *buf = ob_pack(&m, &len);
    char path[] = "/tmp/xbar_fe_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, buf, len), (ssize_t)len);
    close(fd);
    ob_end(&m);
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(xb_onnx_load(path, 1, &g, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_str_eq(g->path, path);
    xb_graph_free(g);
    unlink(path);
    xb_ctx_clear(&ctx);
    cr_assert_eq(xb_onnx_load(path, 1, &g, &ctx), XB_ERR_IO);
    cr_assert_null(g);
    cr_assert(strncmp(ctx.msg, path, strlen(path)) == 0, "%s", ctx.msg);
}

/* Every typed field and raw_data decode to the same IR values; constants that
 * are graph outputs need no kernel. */
Test(onnx_load, initializers_from_raw_and_typed_fields) {
    ob_model m;
    relu_model(&m);
    int64_t d3[] = {3}, d22[] = {2, 2};
    float f[3] = {1.5f, -2.0f, 3.25f};
    ob_initializer(&m, ob_tensor_f32(&m, "f_typed", 1, d3, f, 3));
    uint8_t fraw[12];
    for (int i = 0; i < 3; i++) {
        uint32_t u;
        memcpy(&u, &f[i], 4);
        for (int b = 0; b < 4; b++) fraw[4 * i + b] = (uint8_t)(u >> (8 * b)); /* little-endian */
    }
    ob_initializer(&m, ob_tensor_raw(&m, "f_raw", OB_FLOAT, 1, d3, fraw, 12));
    int32_t i8v[4] = {-128, -1, 0, 127}, u8v[4] = {0, 1, 200, 255}, bv[4] = {0, 1, 1, 0},
            i32v[4] = {-70000, 5, 0, 2147483647};
    ob_initializer(&m, ob_tensor_i32(&m, "i8", OB_INT8, 2, d22, i8v, 4));
    ob_initializer(&m, ob_tensor_i32(&m, "u8", OB_UINT8, 2, d22, u8v, 4));
    ob_initializer(&m, ob_tensor_i32(&m, "b", OB_BOOL, 2, d22, bv, 4));
    ob_initializer(&m, ob_tensor_i32(&m, "i32", OB_INT32, 2, d22, i32v, 4));
    int64_t i64v[3] = {-5, 1LL << 40, 7};
    ob_initializer(&m, ob_tensor_i64(&m, "i64", 1, d3, i64v, 3));
    uint8_t i64raw[24];
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 8; b++) i64raw[8 * i + b] = (uint8_t)((uint64_t)i64v[i] >> (8 * b));
    ob_initializer(&m, ob_tensor_raw(&m, "i64_raw", OB_INT64, 1, d3, i64raw, 24));
    Onnx__TensorProto *dt = ob_tensor_f32(&m, "dbl", 1, d3, NULL, 0);
    dt->data_type = OB_DOUBLE;
    dt->n_double_data = 3;
    dt->double_data = ob_alloc(&m, 3 * sizeof(double));
    dt->double_data[0] = 0.1;
    dt->double_data[1] = -1e10;
    dt->double_data[2] = 2.5;
    ob_initializer(&m, dt);
    int64_t scalar_v = 42;
    ob_initializer(&m, ob_tensor_i64(&m, "scalar", 0, NULL, &scalar_v, 1));
    const char *outs[] = {"f_typed", "f_raw", "i8", "u8", "b", "i32", "i64", "i64_raw", "dbl", "scalar"};
    for (int i = 0; i < 10; i++) ob_output(&m, outs[i]);
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(load(&m, 1, &g, &ctx), XB_OK, "%s", ctx.msg);
    ob_end(&m);
    cr_assert_eq(g->n_inputs, 1, "initializers are not graph inputs");
    cr_assert_eq(g->n_outputs, 11);
#define T(name) (&g->tensors[xb_graph_find_tensor(g, name)])
    for (int i = 0; i < 3; i++) {
        cr_assert_float_eq(((float *)T("f_typed")->data)[i], f[i], 0.0f);
        cr_assert_float_eq(((float *)T("f_raw")->data)[i], f[i], 0.0f);
        cr_assert_eq(((int64_t *)T("i64")->data)[i], i64v[i]);
        cr_assert_eq(((int64_t *)T("i64_raw")->data)[i], i64v[i]);
    }
    cr_assert_eq(T("f_raw")->dtype, XB_F32);
    cr_assert(T("f_raw")->is_const);
    cr_assert_eq(T("i8")->dtype, XB_I8);
    cr_assert_eq(T("u8")->dtype, XB_U8);
    cr_assert_eq(T("b")->dtype, XB_BOOL);
    cr_assert_eq(T("i32")->dtype, XB_I32);
    cr_assert_eq(T("i8")->shape.rank, 2);
    cr_assert_eq(T("i8")->shape.d[1], 2);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(((int8_t *)T("i8")->data)[i], i8v[i]);
        cr_assert_eq(((uint8_t *)T("u8")->data)[i], u8v[i]);
        cr_assert_eq(((uint8_t *)T("b")->data)[i], bv[i]);
        cr_assert_eq(((int32_t *)T("i32")->data)[i], i32v[i]);
    }
    cr_assert_eq(T("dbl")->dtype, XB_F32);
    cr_assert_float_eq(((float *)T("dbl")->data)[0], 0.1f, 0.0f);
    cr_assert_float_eq(((float *)T("dbl")->data)[1], -1e10f, 0.0f);
    cr_assert_eq(T("scalar")->shape.rank, 0);
    cr_assert_eq(*(int64_t *)T("scalar")->data, 42);
#undef T
    xb_graph_free(g);
}

Test(onnx_load, constant_nodes_become_constant_tensors) {
    ob_model m;
    relu_model(&m);
    int64_t d2[] = {2};
    float cv[2] = {7.0f, -8.0f};
    ob_constant(&m, "c_tensor", ob_tensor_f32(&m, "", 1, d2, cv, 2));
    const char *o1[] = {"c_float", NULL}, *o2[] = {"c_ints", NULL};
    ob_attr_float(&m, ob_node(&m, "Constant", "", NULL, o1), "value_float", 0.25f);
    int64_t iv[3] = {1, -2, 3};
    ob_attr_ints(&m, ob_node(&m, "Constant", "", NULL, o2), "value_ints", 3, iv);
    ob_output(&m, "c_tensor");
    ob_output(&m, "c_float");
    ob_output(&m, "c_ints");
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(load(&m, 1, &g, &ctx), XB_OK, "%s", ctx.msg);
    ob_end(&m);
    cr_assert_eq(g->n_nodes, 1, "only the Relu stays a node");
    const xb_tensor *t = &g->tensors[g->outputs[1]];
    cr_assert(t->is_const);
    cr_assert_eq(t->shape.d[0], 2);
    cr_assert_float_eq(((float *)t->data)[1], -8.0f, 0.0f);
    t = &g->tensors[g->outputs[2]];
    cr_assert_eq(t->dtype, XB_F32);
    cr_assert_eq(t->shape.rank, 0);
    cr_assert_float_eq(*(float *)t->data, 0.25f, 0.0f);
    t = &g->tensors[g->outputs[3]];
    cr_assert_eq(t->dtype, XB_I64);
    cr_assert_eq(t->shape.d[0], 3);
    cr_assert_eq(((int64_t *)t->data)[1], -2);
    xb_graph_free(g);
}

Test(onnx_load, every_attribute_kind_and_invented_names) {
    ob_model m;
    ob_begin(&m, 13);
    int64_t d[] = {1, 2};
    ob_input(&m, "x", OB_FLOAT, 2, d);
    const char *mid[] = {"a", NULL};
    Onnx__NodeProto *n = ob_node(&m, "Relu", "", X, mid);
    ob_attr_int(&m, n, "i", -3);
    ob_attr_float(&m, n, "f", 0.5f);
    ob_attr_str(&m, n, "s", "NOTSET");
    int64_t iv[] = {1, 2, 3};
    ob_attr_ints(&m, n, "is", 3, iv);
    float fv[] = {0.5f, 1.5f};
    ob_attr_floats(&m, n, "fs", 2, fv);
    const char *sv[] = {"ab", "c"};
    ob_attr_strings(&m, n, "ss", 2, sv);
    int64_t td[] = {2};
    int64_t tv[] = {9, 10};
    ob_attr_tensor(&m, n, "t", ob_tensor_i64(&m, "tt", 1, td, tv, 2));
    ob_node(&m, "Relu", "", mid, Y);
    ob_output(&m, "y");
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(load(&m, 1, &g, &ctx), XB_OK, "%s", ctx.msg);
    ob_end(&m);
    cr_assert_eq(g->n_nodes, 2);
    const xb_node *r = &g->nodes[0];
    cr_assert_str_eq(r->name, "Relu_0");
    cr_assert_str_eq(g->nodes[1].name, "Relu_1");
    cr_assert_eq(r->n_attr, 7);
    cr_assert_eq(xb_attr_int(r, "i", 0), -3);
    cr_assert_float_eq(xb_attr_float(r, "f", 0), 0.5f, 0.0f);
    cr_assert_str_eq(xb_attr_str(r, "s", ""), "NOTSET");
    const int64_t *ip;
    cr_assert_eq(xb_attr_ints(r, "is", &ip), 3);
    cr_assert_eq(ip[2], 3);
    const xb_attr *a = xb_attr_find(r, "fs");
    cr_assert_eq(a->type, XB_ATTR_FLOATS);
    cr_assert_eq(a->n, 2);
    cr_assert_float_eq(a->floats[1], 1.5f, 0.0f);
    a = xb_attr_find(r, "ss");
    cr_assert_eq(a->type, XB_ATTR_STRINGS);
    cr_assert_str_eq(a->strings[0], "ab");
    cr_assert_str_eq(a->strings[1], "c");
    a = xb_attr_find(r, "t");
    cr_assert_eq(a->type, XB_ATTR_TENSOR);
    cr_assert_str_eq(a->t->name, "tt");
    cr_assert_eq(a->t->dtype, XB_I64);
    cr_assert_eq(((int64_t *)a->t->data)[1], 10);
    xb_graph_free(g);
}

Test(onnx_load, unsupported_nodes_listed_at_once_with_domain_and_opset) {
    ob_model m;
    ob_begin(&m, 13);
    ob_opset(&m, "com.microsoft", 1);
    int64_t d[] = {1, 2};
    ob_input(&m, "x", OB_FLOAT, 2, d);
    const char *a[] = {"a", NULL}, *b[] = {"b", NULL}, *c[] = {"c", NULL};
    ob_node(&m, "Relu", "r", X, a);
    ob_node_domain(&m, ob_node(&m, "FusedGemm", "ms_node", a, b), "com.microsoft");
    ob_node(&m, "FancyNewOp", "", b, c);
    Onnx__NodeProto *iff = ob_node(&m, "If", "cond", c, Y);
    ob_attr_graph(&m, iff, "then_branch");
    ob_output(&m, "y");
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(load(&m, 1, &g, &ctx), XB_ERR_UNSUPPORTED, "%s", ctx.msg);
    ob_end(&m);
    cr_assert_null(g);
    cr_assert(strncmp(ctx.msg, "t.onnx: 3 unsupported nodes", 27) == 0, "%s", ctx.msg);
    cr_assert(strstr(ctx.msg, "'ms_node': op FusedGemm, domain 'com.microsoft', opset 1") != NULL,
              "%s", ctx.msg);
    cr_assert(strstr(ctx.msg, "'FancyNewOp_2': op FancyNewOp, domain 'ai.onnx', opset 13") != NULL,
              "%s", ctx.msg);
    cr_assert(strstr(ctx.msg, "'cond': op If") != NULL, "%s", ctx.msg);
}

Test(onnx_load, parse_only_builds_a_graph_with_unsupported_ops) {
    ob_model m;
    ob_begin(&m, 13);
    int64_t d[] = {1, 2};
    ob_input(&m, "x", OB_FLOAT, 2, d);
    const char *a[] = {"a", NULL};
    ob_node(&m, "Relu", "r", X, a);
    ob_node(&m, "FancyNewOp", "f", a, Y);
    ob_output(&m, "y");
    size_t len;
    const uint8_t *buf = ob_pack(&m, &len);
    xb_ctx ctx = {0};
    xb_graph *g;
    const xb_onnx_options opts = {.parse_only = 1};
    cr_assert_eq(xb_onnx_load_buffer_opts(buf, len, "t.onnx", 1, &opts, &g, &ctx), XB_OK, "%s",
                 ctx.msg);
    ob_end(&m);
    cr_assert_eq(g->n_nodes, 2);
    cr_assert_str_eq(g->nodes[1].op_type, "FancyNewOp");
    cr_assert_eq(g->nodes[1].op, -1, "not resolved");
    cr_assert_eq(g->nodes[1].opset, 13);
    xb_graph_free(g);
}

Test(onnx_load, ai_onnx_domain_is_the_default_domain) {
    ob_model m;
    ob_begin(&m, 0);
    ob_opset(&m, "ai.onnx", 14);
    int64_t d[] = {1, 2};
    ob_input(&m, "x", OB_FLOAT, 2, d);
    ob_node_domain(&m, ob_node(&m, "Relu", "r", X, Y), "ai.onnx");
    ob_output(&m, "y");
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(load(&m, 1, &g, &ctx), XB_OK, "%s", ctx.msg);
    ob_end(&m);
    cr_assert_eq(g->opset_onnx, 14);
    cr_assert_eq(g->nodes[0].opset, 14);
    cr_assert_str_eq(g->nodes[0].domain, "");
    xb_graph_free(g);
}

Test(onnx_load, graph_attribute_on_a_known_op_is_unsupported) {
    ob_model m;
    relu_model(&m);
    ob_attr_graph(&m, m.graph.node[0], "body");
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(load(&m, 1, &g, &ctx), XB_ERR_UNSUPPORTED);
    ob_end(&m);
    cr_assert(strstr(ctx.msg, "t.onnx: node 'relu' (Relu): attribute 'body'") != NULL, "%s", ctx.msg);
}

Test(onnx_load, initializer_listed_as_input_is_not_a_graph_input) {
    ob_model m;
    relu_model(&m);
    int64_t d[] = {2};
    float v[2] = {1, 2};
    ob_init_f32(&m, "w", 1, d, v);
    ob_input(&m, "w", OB_FLOAT, 1, d);
    ob_output(&m, "w");
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(load(&m, 1, &g, &ctx), XB_OK, "%s", ctx.msg);
    ob_end(&m);
    cr_assert_eq(g->n_inputs, 1);
    cr_assert_str_eq(g->tensors[g->inputs[0]].name, "x");
    xb_graph_free(g);
}

Test(onnx_load, symbolic_non_batch_dimension_rejected) {
    ob_model m;
    ob_begin(&m, 13);
    int64_t d[] = {1, -1};
    ob_input(&m, "x", OB_FLOAT, 2, d);
    ob_node(&m, "Relu", "relu", X, Y);
    ob_output(&m, "y");
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(load(&m, 1, &g, &ctx), XB_ERR_UNSUPPORTED);
    ob_end(&m);
    cr_assert(strstr(ctx.msg, "t.onnx: graph input 'x' has a symbolic dimension 1") != NULL, "%s",
              ctx.msg);
}

Test(onnx_load, identity_and_dropout_removed_graph_output_kept) {
    ob_model m;
    ob_begin(&m, 13);
    int64_t d[] = {1, 4};
    ob_input(&m, "x", OB_FLOAT, 2, d);
    const char *a[] = {"a", NULL}, *b[] = {"b", NULL}, *c[] = {"c", NULL}, *dd[] = {"d", NULL};
    const char *drop_out[] = {"c", "mask", NULL};
    ob_node(&m, "Identity", "id0", X, a);         /* input -> relu: rewired */
    ob_node(&m, "Relu", "relu1", a, b);
    ob_node(&m, "Dropout", "drop", b, drop_out);  /* mask unused */
    ob_node(&m, "Relu", "relu2", c, dd);
    ob_node(&m, "Identity", "id_out", dd, Y);     /* feeds the graph output */
    ob_output(&m, "y");
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(load(&m, 1, &g, &ctx), XB_OK, "%s", ctx.msg);
    ob_end(&m);
    cr_assert_eq(g->n_nodes, 2);
    cr_assert_str_eq(g->nodes[0].op_type, "Relu");
    cr_assert_str_eq(g->nodes[1].op_type, "Relu");
    cr_assert_eq(g->nodes[0].in[0], g->inputs[0]);
    cr_assert_str_eq(g->tensors[g->outputs[0]].name, "y", "the output keeps its name");
    cr_assert_eq(g->nodes[1].out[0], g->outputs[0]);
    xb_test_graph tg = {.g = g};
    float in[4] = {-1, 2, -3, 4};
    float *out = xb_test_run1(&tg, in);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    cr_assert_float_eq(out[0], 0.0f, 0.0f);
    cr_assert_float_eq(out[3], 4.0f, 0.0f);
    xb_test_end(&tg);
}

Test(onnx_load, dropout_in_training_mode_is_kept) {
    ob_model m;
    ob_begin(&m, 13);
    int64_t d[] = {1, 4};
    ob_input(&m, "x", OB_FLOAT, 2, d);
    uint8_t one = 1;
    ob_initializer(&m, ob_tensor_raw(&m, "train", OB_BOOL, 0, NULL, &one, 1));
    const char *in[] = {"x", "", "train", NULL};
    ob_node(&m, "Dropout", "drop", in, Y);
    ob_output(&m, "y");
    size_t len;
    const uint8_t *buf = ob_pack(&m, &len);
    xb_onnx_options o = {.no_passes = 1};
    xb_ctx ctx = {0};
    xb_graph *g = NULL;
    xb_status st = xb_onnx_load_buffer_opts(buf, len, "t.onnx", 1, &o, &g, &ctx);
    ob_end(&m);
    /* Either the Dropout kernel exists and the node stays, or resolution
     * names it; it is never silently dropped. */
    if (st == XB_OK) {
        cr_assert_eq(g->n_nodes, 1);
        cr_assert_str_eq(g->nodes[0].op_type, "Dropout");
        xb_graph_free(g);
    } else {
        cr_assert(strstr(ctx.msg, "'drop'") != NULL, "%s", ctx.msg);
    }
}

Test(onnx_load, read_tensor_file) {
    ob_model m;
    ob_begin(&m, 13);
    int64_t d[] = {2, 2};
    float v[4] = {1, -2, 3.5f, 4};
    Onnx__TensorProto *t = ob_tensor_raw(&m, "input_0", OB_FLOAT, 2, d, v, sizeof v);
    size_t len = onnx__tensor_proto__get_packed_size(t);
    uint8_t *buf = malloc(len);
    onnx__tensor_proto__pack(t, buf);
    ob_end(&m);
    char path[] = "/tmp/xbar_pb_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_eq(write(fd, buf, len), (ssize_t)len);
    close(fd);
    free(buf);
    xb_tensor out;
    xb_ctx ctx = {0};
    cr_assert_eq(xb_onnx_read_tensor_file(path, &out, &ctx), XB_OK, "%s", ctx.msg);
    unlink(path);
    cr_assert_str_eq(out.name, "input_0");
    cr_assert_eq(out.dtype, XB_F32);
    cr_assert_eq(out.shape.rank, 2);
    cr_assert_float_eq(((float *)out.data)[2], 3.5f, 0.0f);
    free(out.name);
    free(out.data);
}

/* A graph whose only node is a Constant ends up with no nodes at all (the
 * ONNX node test test_constant has this shape); it must prepare and run. */
Test(onnx_load, graph_with_no_nodes_left) {
    ob_model m;
    ob_begin(&m, 13);
    int64_t d[] = {3};
    float v[3] = {1, 2, 3};
    ob_constant(&m, "values", ob_tensor_f32(&m, "", 1, d, v, 3));
    ob_output(&m, "values");
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(load(&m, 1, &g, &ctx), XB_OK, "%s", ctx.msg);
    ob_end(&m);
    cr_assert_eq(g->n_nodes, 0);
    xb_test_graph tg = {.g = g};
    float *y = xb_test_run(&tg, NULL, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[2], 3.0f, 0.0f);
    xb_test_end(&tg);
}
