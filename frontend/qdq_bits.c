/* Bit widths of a lowered QDQ layer, read from the graph itself, so a model
 * trained at low precision (the ORSS'23 W1A2 LeNet-5: binary weights, 2-bit
 * activations) runs with the widths it was trained for, not 8.
 *
 * x_bits: the float tensor fed to the activation QuantizeLinear is followed
 * back through ops that only select or move values (MaxPool, Flatten,
 * Reshape, Relu with a Clip behind it) to a Clip with a constant max.  Every
 * code is then at most round(max / s) + zp, and x_bits is the width of that
 * code (at least 2, the contract's floor).  The kernel clamps codes to
 * 2^x_bits - 1, which changes nothing because the Clip already did.
 * Without such a Clip the codes may reach 255: x_bits stays 8.
 *
 * w_bits: 1 when every weight code is -1 or +1 (binary), else 8 as before. */
#include <math.h>
#include <string.h>

#include "frontend/onnx_internal.h"

static const xb_node *producer(const xb_graph *g, int t) {
    if (t < 0 || g->tensors[t].producer < 0) return NULL;
    return &g->nodes[g->tensors[t].producer];
}

static bool const_f32_scalar(const xb_graph *g, int t, float *v) {
    if (t < 0) return false;
    const xb_tensor *x = &g->tensors[t];
    if (!x->is_const || !x->data || x->dtype != XB_F32 || xb_shape_numel(&x->shape) != 1)
        return false;
    *v = *(const float *)x->data;
    return isfinite(*v);
}

int xb_qdq_x_bits(const xb_graph *g, int x, float scale, int32_t zp) {
    for (int hop = 0; hop < 8; hop++) {
        const xb_node *n = producer(g, x);
        if (!n || n->n_in < 1 || n->in[0] < 0) return 8;
        if (xb_node_is_onnx(n, "MaxPool") || xb_node_is_onnx(n, "Flatten") ||
            xb_node_is_onnx(n, "Reshape") || xb_node_is_onnx(n, "Relu")) {
            if (xb_node_is_onnx(n, "MaxPool") && n->n_out != 1) return 8; /* Indices output */
            x = n->in[0];
            continue;
        }
        if (!xb_node_is_onnx(n, "Clip")) return 8;
        float mx;
        if (n->n_in >= 3 && n->in[2] >= 0) {
            if (!const_f32_scalar(g, n->in[2], &mx)) return 8;
        } else if (n->n_in < 2) { /* opset < 11: attribute */
            mx = xb_attr_float(n, "max", INFINITY);
            if (!isfinite(mx)) return 8;
        } else {
            return 8;
        }
        double top = nearbyint((double)mx / (double)scale) + zp;
        if (!(top >= 0) || top > 255) return 8;
        int bits = 2;
        while (bits < 8 && top > (double)((1 << bits) - 1)) bits++;
        return bits;
    }
    return 8;
}

int xb_qdq_w_bits(const xb_tensor *q) {
    int64_t n = xb_shape_numel(&q->shape);
    const int8_t *w = q->data;
    for (int64_t i = 0; i < n; i++)
        if (w[i] != 1 && w[i] != -1) return 8;
    return n > 0 ? 1 : 8;
}

void xb_qdq_set_bits(xb_node *n, int x_bits, int w_bits) {
    for (int i = 0; i < n->n_attr; i++) {
        if (!strcmp(n->attr[i].name, "x_bits")) n->attr[i].i = x_bits;
        if (!strcmp(n->attr[i].name, "w_bits")) n->attr[i].i = w_bits;
    }
}
