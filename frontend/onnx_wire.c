/* Nesting-depth check on protobuf wire data, before protobuf-c unpacks it.
 *
 * protobuf-c unpacks submessages recursively with no depth limit, and the
 * ONNX schema is recursive (GraphProto -> NodeProto -> AttributeProto ->
 * GraphProto, TypeProto -> TypeProto.Sequence -> TypeProto).  A 2 MB file
 * of nested If nodes overflows the stack.  This walker follows the same
 * schema through the generated descriptors with an explicit, bounded stack
 * and rejects data nested deeper than any real model is.  Malformed wire
 * data is left for the unpacker to report. */
#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#include "frontend/onnx_internal.h"

#define XB_PB_MAX_DEPTH 64

typedef struct {
    const ProtobufCMessageDescriptor *d;
    const uint8_t *p, *end;
} frame;

static int rd_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

int xb_pb_depth_ok(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len) {
    frame st[XB_PB_MAX_DEPTH + 1];
    int top = 0;
    st[0].d = desc;
    st[0].p = buf;
    st[0].end = buf + len;
    while (top >= 0) {
        frame *f = &st[top];
        if (f->p >= f->end) {
            top--;
            continue;
        }
        uint64_t tag, n;
        if (rd_varint(&f->p, f->end, &tag)) return 1; /* malformed: unpack reports it */
        switch (tag & 7) {
        case 0:
            if (rd_varint(&f->p, f->end, &n)) return 1;
            break;
        case 1:
            if (f->end - f->p < 8) return 1;
            f->p += 8;
            break;
        case 5:
            if (f->end - f->p < 4) return 1;
            f->p += 4;
            break;
        case 2: {
            if (rd_varint(&f->p, f->end, &n) || n > (uint64_t)(f->end - f->p)) return 1;
            const uint8_t *sub = f->p;
            f->p += n;
            uint64_t id = tag >> 3;
            const ProtobufCFieldDescriptor *fd =
                id <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(f->d, (unsigned)id) : NULL;
            if (fd && fd->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (top == XB_PB_MAX_DEPTH) return 0;
                st[top + 1].d = fd->descriptor;
                st[top + 1].p = sub;
                st[top + 1].end = sub + n;
                top++;
            }
            break;
        }
        default: return 1; /* groups: protobuf-c rejects them itself */
        }
    }
    return 1;
}
