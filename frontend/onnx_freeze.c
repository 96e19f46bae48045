/* Loading a model with some of its inputs frozen into initializers: how
 * ONNX node tests whose int64 inputs (shapes, axes, indices) or float
 * Resize/Upsample scales our static shapes need as constants are run
 * (eval/conformance.c). */
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx.h"
#include "frontend/onnx_internal.h"

void xb_onnx_mark_shape_floats(const uint8_t *bytes, size_t len, const xb_tensor *in, int n_in,
                               bool *frozen) {
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, bytes);
    if (!mp) return;
    const Onnx__GraphProto *gp = mp->graph;
    for (size_t k = 0; gp && k < gp->n_node; k++) {
        const Onnx__NodeProto *np = gp->node[k];
        const char *op = np->op_type ? np->op_type : "";
        size_t slot = !strcmp(op, "Resize") ? 2 : !strcmp(op, "Upsample") ? 1 : 0;
        if (!slot || np->n_input <= slot || !np->input[slot] || !np->input[slot][0]) continue;
        for (int j = 0; j < n_in; j++)
            if (in[j].dtype == XB_F32 && in[j].name && !strcmp(in[j].name, np->input[slot]))
                frozen[j] = true;
    }
    onnx__model_proto__free_unpacked(mp, NULL);
}

/* The unpacked protobuf is edited through temporary arrays that are swapped
 * out again before it is freed, so protobuf-c only ever frees what it
 * allocated. */
xb_status xb_onnx_load_frozen(const uint8_t *bytes, size_t len, const char *model, int64_t batch,
                              const xb_tensor *in, int n_in, bool *frozen, xb_graph **g,
                              xb_ctx *ctx) {
    int n_frozen = 0;
    for (int j = 0; j < n_in; j++) n_frozen += frozen[j];
    if (!n_frozen) return xb_onnx_load_buffer(bytes, len, model, batch, g, ctx);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, bytes);
    if (!mp || !mp->graph) {
        /* Let the loader produce its own message for the malformed file. */
        if (mp) onnx__model_proto__free_unpacked(mp, NULL);
        return xb_onnx_load_buffer(bytes, len, model, batch, g, ctx);
    }
    Onnx__GraphProto *gp = mp->graph;
    size_t n_inputs0 = gp->n_input, n_init0 = gp->n_initializer;
    Onnx__ValueInfoProto **inputs0 = gp->input;
    Onnx__TensorProto **init0 = gp->initializer;
    Onnx__ValueInfoProto **inputs = calloc(n_inputs0 + 1, sizeof *inputs);
    Onnx__TensorProto **init = calloc(n_init0 + (size_t)n_frozen + 1, sizeof *init);
    Onnx__TensorProto *tps = calloc((size_t)n_frozen + 1, sizeof *tps);
    uint8_t *packed = NULL;
    xb_status st = XB_OK;
    if (!inputs || !init || !tps) {
        st = xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", model);
        goto out;
    }
    size_t ni = 0, nz = n_init0, nt = 0;
    if (n_init0) memcpy(init, init0, n_init0 * sizeof *init);
    for (size_t i = 0; i < n_inputs0; i++) {
        const char *name = inputs0[i]->name ? inputs0[i]->name : "";
        int j = 0;
        while (j < n_in && !(frozen[j] && !strcmp(in[j].name, name))) j++;
        if (j == n_in) {
            inputs[ni++] = inputs0[i];
            continue;
        }
        Onnx__TensorProto *tp = &tps[nt++];
        onnx__tensor_proto__init(tp);
        tp->name = in[j].name;
        tp->n_dims = (size_t)in[j].shape.rank;
        tp->dims = (int64_t *)in[j].shape.d;
        tp->has_data_type = 1;
        if (in[j].dtype == XB_F32) {
            tp->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
            tp->n_float_data = (size_t)xb_shape_numel(&in[j].shape);
            tp->float_data = in[j].data;
        } else {
            tp->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
            tp->n_int64_data = (size_t)xb_shape_numel(&in[j].shape);
            tp->int64_data = in[j].data;
        }
        init[nz++] = tp;
    }
    gp->input = inputs;
    gp->n_input = ni;
    gp->initializer = init;
    gp->n_initializer = nz;
    size_t plen = onnx__model_proto__get_packed_size(mp);
    packed = malloc(plen ? plen : 1);
    if (packed) onnx__model_proto__pack(mp, packed);
    gp->input = inputs0;
    gp->n_input = n_inputs0;
    gp->initializer = init0;
    gp->n_initializer = n_init0;
    if (!packed)
        st = xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", model);
    else
        st = xb_onnx_load_buffer(packed, plen, model, batch, g, ctx);
    /* Only inputs actually moved count as frozen; a data input naming no
     * graph input is reported by the caller. */
    for (int j = 0; j < n_in; j++) {
        if (!frozen[j]) continue;
        bool moved = false;
        for (size_t k = 0; k < nt; k++) moved |= tps[k].name == in[j].name;
        frozen[j] = moved;
    }
out:
    onnx__model_proto__free_unpacked(mp, NULL);
    free(packed);
    free(tps);
    free(init);
    free(inputs);
    return st;
}

