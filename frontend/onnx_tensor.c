/* TensorProto decoding: initializers, Constant values, tensor attributes
 * and the standalone .pb files of ONNX backend tests.
 *
 * Everything here reads untrusted input: dims are checked for sign, rank
 * and size before anything is allocated, and the payload length (raw_data
 * bytes or typed-field count) must match the dims exactly.  raw_data is
 * little-endian by the ONNX spec (onnx.proto, TensorProto.raw_data), so
 * values are assembled byte by byte and the result does not depend on the
 * host's byte order. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend/onnx.h"
#include "frontend/onnx_internal.h"

const char *xb_onnx_dtype_name(int32_t dt, char *buf, size_t n) {
    static const char *names[] = {"UNDEFINED", "FLOAT",  "UINT8",  "INT8",      "UINT16",
                                  "INT16",     "INT32",  "INT64",  "STRING",    "BOOL",
                                  "FLOAT16",   "DOUBLE", "UINT32", "UINT64",    "COMPLEX64",
                                  "COMPLEX128", "BFLOAT16"};
    if (dt >= 0 && dt < (int32_t)(sizeof names / sizeof names[0])) return names[dt];
    snprintf(buf, n, "type %d", (int)dt);
    return buf;
}

/* ONNX element type -> (xbar dtype, bytes per element in the file). */
static xb_dtype map_dtype(int32_t dt, size_t *file_size) {
    switch (dt) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: *file_size = 4; return XB_F32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: *file_size = 1; return XB_U8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: *file_size = 1; return XB_I8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: *file_size = 4; return XB_I32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: *file_size = 8; return XB_I64;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: *file_size = 1; return XB_BOOL;
    /* DOUBLE constants appear in hand-written and converted models; they are
     * narrowed to f32 because no kernel computes in double. */
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: *file_size = 8; return XB_F32;
    default: *file_size = 0; return XB_UNDEF;
    }
}

static char *dims_str(const Onnx__TensorProto *tp, char *buf, size_t n) {
    size_t off = 0;
    off += (size_t)snprintf(buf, n, "[");
    for (size_t i = 0; i < tp->n_dims && off < n; i++) {
        if (off > n - 24) {
            snprintf(buf + off, n - off, ",...");
            off = n;
            break;
        }
        off += (size_t)snprintf(buf + off, n - off, i ? ",%lld" : "%lld", (long long)tp->dims[i]);
    }
    if (off < n) snprintf(buf + off, n - off, "]");
    return buf;
}

static uint64_t rd_le(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void store_from_raw(xb_dtype dt, int32_t onnx_dt, const uint8_t *src, size_t numel,
                           void *dst) {
    for (size_t i = 0; i < numel; i++) {
        switch (dt) {
        case XB_F32:
            if (onnx_dt == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE) {
                uint64_t u = rd_le(src + 8 * i, 8);
                double d;
                memcpy(&d, &u, 8);
                ((float *)dst)[i] = (float)d;
            } else {
                uint32_t u = (uint32_t)rd_le(src + 4 * i, 4);
                memcpy((float *)dst + i, &u, 4);
            }
            break;
        case XB_U8:
        case XB_I8: ((uint8_t *)dst)[i] = src[i]; break;
        case XB_BOOL: ((uint8_t *)dst)[i] = src[i] != 0; break;
        case XB_I32: {
            uint32_t u = (uint32_t)rd_le(src + 4 * i, 4);
            memcpy((int32_t *)dst + i, &u, 4);
            break;
        }
        case XB_I64: {
            uint64_t u = rd_le(src + 8 * i, 8);
            memcpy((int64_t *)dst + i, &u, 8);
            break;
        }
        case XB_UNDEF: break;
        }
    }
}

xb_status xb_onnx_decode_tensor(const Onnx__TensorProto *tp, const char *what, xb_tensor *out,
                                xb_ctx *ctx) {
    char tb[32], db[160];
    memset(out, 0, sizeof *out);
    out->producer = -1;
    if ((tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
        tp->n_external_data > 0)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "%s: data stored in an external file is not supported (save the model "
                       "with all tensors inside the .onnx file)",
                       what);
    if (tp->segment)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "%s: segmented tensors are not supported", what);
    int32_t odt = tp->has_data_type ? tp->data_type : 0;
    size_t fsize;
    xb_dtype dt = map_dtype(odt, &fsize);
    if (dt == XB_UNDEF)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "%s: element type %s is not supported (FLOAT, DOUBLE, UINT8, INT8, INT32, "
                       "INT64, BOOL are)",
                       what, xb_onnx_dtype_name(odt, tb, sizeof tb));
    if (tp->n_dims > XB_MAX_RANK)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "%s: rank %zu exceeds the maximum %d", what,
                       tp->n_dims, XB_MAX_RANK);
    size_t numel = 1;
    for (size_t i = 0; i < tp->n_dims; i++) {
        if (tp->dims[i] < 0)
            return xb_fail(ctx, XB_ERR_PARSE, "%s: dimension %zu is negative (%lld)", what, i,
                           (long long)tp->dims[i]);
        if (xb_mul_overflow(numel, (size_t)tp->dims[i], &numel) || numel > XB_MAX_TENSOR_BYTES)
            return xb_fail(ctx, XB_ERR_NOMEM, "%s: dims %s describe an absurdly large tensor",
                           what, dims_str(tp, db, sizeof db));
    }
    size_t need_file, need_mem;
    if (xb_mul_overflow(numel, fsize, &need_file) ||
        xb_mul_overflow(numel, xb_dtype_size(dt), &need_mem) || need_file > XB_MAX_TENSOR_BYTES ||
        need_mem > XB_MAX_TENSOR_BYTES)
        return xb_fail(ctx, XB_ERR_NOMEM, "%s: dims %s need more than the %zu-byte limit", what,
                       dims_str(tp, db, sizeof db), (size_t)XB_MAX_TENSOR_BYTES);
    out->dtype = dt;
    out->shape.rank = (int)tp->n_dims;
    for (size_t i = 0; i < tp->n_dims; i++) out->shape.d[i] = tp->dims[i];

    /* The payload must match the dims before anything is allocated: dims
     * alone are a few bytes of the file, and a lying header would otherwise
     * make a tiny file allocate up to the 4 GiB limit before failing. */
    if (tp->has_raw_data && tp->raw_data.len != need_file)
        return xb_fail(ctx, XB_ERR_PARSE, "%s: raw_data has %zu bytes, dims %s need %zu", what,
                       tp->raw_data.len, dims_str(tp, db, sizeof db), need_file);
    /* Typed fields: the field that carries each element type is fixed by
     * onnx.proto (int32_data also carries the 8-bit and bool types). */
    const char *field;
    size_t have;
    switch (odt) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: field = "float_data"; have = tp->n_float_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: field = "double_data"; have = tp->n_double_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: field = "int64_data"; have = tp->n_int64_data; break;
    default: field = "int32_data"; have = tp->n_int32_data; break;
    }
    if (!tp->has_raw_data && have != numel)
        return xb_fail(ctx, XB_ERR_PARSE, "%s: %s has %zu values, dims %s need %zu", what, field,
                       have, dims_str(tp, db, sizeof db), numel);

    void *data = xb_malloc(ctx, need_mem ? need_mem : 1);
    if (!data) return ctx->status;
    if (tp->has_raw_data) {
        store_from_raw(dt, odt, tp->raw_data.data, numel, data);
    } else {
        for (size_t i = 0; i < numel; i++) {
            switch (odt) {
            case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: ((float *)data)[i] = tp->float_data[i]; break;
            case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
                ((float *)data)[i] = (float)tp->double_data[i];
                break;
            case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: ((int64_t *)data)[i] = tp->int64_data[i]; break;
            case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: ((int32_t *)data)[i] = tp->int32_data[i]; break;
            default: {
                int32_t v = tp->int32_data[i];
                int lo = odt == ONNX__TENSOR_PROTO__DATA_TYPE__INT8 ? -128 : 0;
                int hi = odt == ONNX__TENSOR_PROTO__DATA_TYPE__INT8
                             ? 127
                             : (odt == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL ? 1 : 255);
                if (v < lo || v > hi) {
                    free(data);
                    return xb_fail(ctx, XB_ERR_PARSE,
                                   "%s: int32_data[%zu] = %d is out of range for %s", what, i,
                                   (int)v, xb_onnx_dtype_name(odt, tb, sizeof tb));
                }
                if (odt == ONNX__TENSOR_PROTO__DATA_TYPE__INT8)
                    ((int8_t *)data)[i] = (int8_t)v;
                else
                    ((uint8_t *)data)[i] = (uint8_t)v;
            }
            }
        }
    }
    out->data = data;
    out->is_const = true;
    out->shape_known = true;
    return XB_OK;
}

/* Read a whole file; rejects missing, unreadable and empty files. */
xb_status xb_onnx_read_file(const char *path, uint8_t **data, size_t *len, xb_ctx *ctx) {
    *data = NULL;
    *len = 0;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return xb_fail(ctx, XB_ERR_IO, "%s: is a directory, not a model file", path);
    /* A FIFO would block the open, a device might never end. */
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return xb_fail(ctx, XB_ERR_IO, "%s: not a regular file", path);
    FILE *f = fopen(path, "rb");
    if (!f) return xb_fail(ctx, XB_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return xb_fail(ctx, XB_ERR_IO, "%s: cannot seek (not a regular file?)", path);
    }
    long sz = ftell(f);
    if (sz < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return xb_fail(ctx, XB_ERR_IO, "%s: cannot determine the file size", path);
    }
    if (sz == 0) {
        fclose(f);
        return xb_fail(ctx, XB_ERR_PARSE, "%s: file is empty", path);
    }
    uint8_t *buf = xb_malloc(ctx, (size_t)sz);
    if (!buf) {
        fclose(f);
        xb_ctx_prefix(ctx, "%s", path);
        return ctx->status;
    }
    size_t got = fread(buf, 1, (size_t)sz, f);
    fclose(f);
    if (got != (size_t)sz) {
        free(buf);
        return xb_fail(ctx, XB_ERR_IO, "%s: short read (%zu of %ld bytes)", path, got, sz);
    }
    *data = buf;
    *len = (size_t)sz;
    return XB_OK;
}

xb_status xb_onnx_read_tensor_file(const char *path, xb_tensor *out, xb_ctx *ctx) {
    memset(out, 0, sizeof *out);
    out->producer = -1;
    uint8_t *buf;
    size_t len;
    XB_TRY(xb_onnx_read_file(path, &buf, &len, ctx));
    if (!xb_pb_depth_ok(&onnx__tensor_proto__descriptor, buf, len)) {
        free(buf);
        return xb_fail(ctx, XB_ERR_PARSE, "%s: messages nested more than 64 levels deep", path);
    }
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
    free(buf);
    if (!tp)
        return xb_fail(ctx, XB_ERR_PARSE,
                       "%s: not a valid TensorProto (protobuf parse failed: truncated or corrupt "
                       "file?)",
                       path);
    char what[300];
    snprintf(what, sizeof what, "tensor '%s'", tp->name ? tp->name : "");
    xb_status st = xb_onnx_decode_tensor(tp, what, out, ctx);
    if (st == XB_OK) {
        out->name = xb_strdup(ctx, tp->name ? tp->name : "");
        if (!out->name) {
            free(out->data);
            out->data = NULL;
            st = ctx->status;
        }
    }
    if (st != XB_OK) xb_ctx_prefix(ctx, "%s", path);
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return st;
}
