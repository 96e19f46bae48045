/* A strict JSON reader for the files a user hands us (architectures).
 *
 * cJSON (used to *write* reports) is lenient when reading: the last of two
 * duplicate keys wins silently, text after the value is ignored, and
 * "\u001b" reaches the terminal.  This reader follows RFC 8259 and refuses
 * more:
 *   - duplicate keys in one object ("duplicate key 'adc.bits'"),
 *   - anything but white space after the top-level value,
 *   - control characters in strings and keys, raw (invalid JSON) or escaped
 *     (\u0000-\u001f, \u007f, U+0080-U+009F: terminal escape codes),
 *   - invalid UTF-8 and lone surrogates, nesting deeper than 64.
 * Numbers keep their text, so an integer above 2^53 is read exactly.
 * Messages start with the origin (the file) and give the line and the
 * dotted key path. */
#ifndef XBAR_JSON_READ_H
#define XBAR_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/status.h"

typedef enum {
    XB_JNULL,
    XB_JFALSE,
    XB_JTRUE,
    XB_JNUMBER,
    XB_JSTRING,
    XB_JARRAY,
    XB_JOBJECT
} xb_jkind;

typedef struct xb_jnode {
    xb_jkind kind;
    char *key;   /* member name (decoded) inside an object, else NULL */
    char *text;  /* XB_JSTRING: the decoded UTF-8; XB_JNUMBER: the literal as written */
    int line;    /* line of the value, from 1 */
    struct xb_jnode *child, *next; /* first member / element; next sibling */
} xb_jnode;

/* Parse len bytes; on success *out is the tree (free with xb_json_free). */
xb_status xb_json_read(const char *text, size_t len, const char *origin, xb_jnode **out,
                       xb_ctx *ctx);
void xb_json_free(xb_jnode *n);
/* `s` is valid UTF-8 without control characters (the rule for strings
 * above): safe to print on a terminal. */
bool xb_text_printable(const char *s);

#endif
