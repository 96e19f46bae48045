/* Error messages: control bytes from untrusted names never reach the
 * terminal, the newline that separates listed problems does. */
#include <criterion/criterion.h>
#include <string.h>

#include "runtime/status.h"

Test(status, control_bytes_scrubbed) {
    xb_ctx ctx = {0};
    xb_fail(&ctx, XB_ERR_PARSE, "node '%s':\n  next", "a\x1b[31mred\r\x7f");
    cr_assert_str_eq(ctx.msg, "node 'a?[31mred?" "?':\n  next");
    xb_ctx_prefix(&ctx, "file\tname");
    cr_assert_str_eq(ctx.msg, "file?name: node 'a?[31mred?" "?':\n  next");
    cr_assert_eq(ctx.status, XB_ERR_PARSE);
}

Test(status, first_error_wins) {
    xb_ctx ctx = {0};
    xb_fail(&ctx, XB_ERR_IO, "first");
    xb_fail(&ctx, XB_ERR_PARSE, "second");
    cr_assert_str_eq(ctx.msg, "first");
    cr_assert_eq(ctx.status, XB_ERR_IO);
}
