/* Reading and rewriting an ONNX file's metadata_props (xbar meta): the
 * model is unpacked with protobuf-c, its metadata list swapped for the
 * edited one, packed again and swapped back before freeing (so protobuf-c
 * frees only what it allocated, as in onnx_freeze.c).  Everything else,
 * fields protobuf-c does not know included, is written back as read. */
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx.h"
#include "frontend/onnx_internal.h"

static Onnx__ModelProto *unpack_model(const char *path, uint8_t **buf, xb_ctx *ctx) {
    size_t len;
    *buf = NULL;
    if (xb_onnx_read_file(path, buf, &len, ctx) != XB_OK) return NULL;
    Onnx__ModelProto *mp = NULL;
    if (!xb_pb_depth_ok(&onnx__model_proto__descriptor, *buf, len))
        xb_fail(ctx, XB_ERR_PARSE, "%s: messages nested more than 64 levels deep", path);
    else if (!(mp = onnx__model_proto__unpack(NULL, len, *buf)))
        xb_fail(ctx, XB_ERR_PARSE, "%s: not a valid ONNX model (protobuf parse failed)", path);
    return mp;
}

xb_status xb_onnx_meta_list(const char *path, char ***kv, int *n, xb_ctx *ctx) {
    *kv = NULL;
    *n = 0;
    uint8_t *buf;
    Onnx__ModelProto *mp = unpack_model(path, &buf, ctx);
    free(buf);
    if (!mp) return ctx->status;
    size_t m = mp->n_metadata_props;
    char **out = xb_calloc(ctx, 2 * m + 1, sizeof(char *));
    for (size_t i = 0; out && i < m; i++) {
        const Onnx__StringStringEntryProto *p = mp->metadata_props[i];
        out[2 * i] = xb_strdup(ctx, p->key ? p->key : "");
        out[2 * i + 1] = xb_strdup(ctx, p->value ? p->value : "");
        if (!out[2 * i] || !out[2 * i + 1]) {
            for (size_t j = 0; j <= 2 * i + 1; j++) free(out[j]);
            free(out);
            out = NULL;
        }
    }
    onnx__model_proto__free_unpacked(mp, NULL);
    if (!out) return ctx->status;
    *kv = out;
    *n = (int)m;
    return XB_OK;
}

/* Is key k set (or removed) by one of the edits? */
static bool edited(const char *k, const xb_onnx_meta_edit *e, int n) {
    for (int i = 0; i < n; i++)
        if (!strcmp(e[i].key, k)) return true;
    return false;
}

xb_status xb_onnx_meta_apply(const char *path, const xb_onnx_meta_edit *e, int n, uint8_t **out,
                            size_t *out_len, xb_ctx *ctx) {
    *out = NULL;
    *out_len = 0;
    uint8_t *buf;
    Onnx__ModelProto *mp = unpack_model(path, &buf, ctx);
    free(buf);
    if (!mp) return ctx->status;
    size_t m0 = mp->n_metadata_props;
    Onnx__StringStringEntryProto **props0 = mp->metadata_props;
    Onnx__StringStringEntryProto **props = calloc(m0 + (size_t)n + 1, sizeof *props);
    Onnx__StringStringEntryProto *added = calloc((size_t)n + 1, sizeof *added);
    xb_status st = XB_OK;
    if (!props || !added) {
        st = xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    /* kept entries in their order, then the set ones in the edits' order;
     * a key edited twice: the last edit wins */
    size_t m = 0;
    for (size_t i = 0; i < m0; i++)
        if (!edited(props0[i]->key ? props0[i]->key : "", e, n)) props[m++] = props0[i];
    for (int i = 0; i < n; i++) {
        if (!e[i].value || edited(e[i].key, e + i + 1, n - i - 1)) continue;
        onnx__string_string_entry_proto__init(&added[i]);
        added[i].key = (char *)e[i].key;
        added[i].value = (char *)e[i].value;
        props[m++] = &added[i];
    }
    mp->metadata_props = props;
    mp->n_metadata_props = m;
    size_t len = onnx__model_proto__get_packed_size(mp);
    uint8_t *packed = malloc(len ? len : 1);
    if (packed) onnx__model_proto__pack(mp, packed);
    mp->metadata_props = props0;
    mp->n_metadata_props = m0;
    if (!packed) st = xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", path);
    *out = packed;
    *out_len = len;
done:
    onnx__model_proto__free_unpacked(mp, NULL);
    free(added);
    free(props);
    return st;
}
