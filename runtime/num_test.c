#include <criterion/criterion.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "runtime/json_read.h"
#include "runtime/num.h"

Test(num, integers_decimal_and_bounded) {
    long long v;
    cr_assert(xb_parse_int("42", 0, 100, &v) && v == 42);
    cr_assert(xb_parse_int("-9223372036854775808", LLONG_MIN, LLONG_MAX, &v) && v == LLONG_MIN);
    cr_assert(xb_parse_int("+7", 0, 10, &v) && v == 7);
    const char *bad[] = {"", "-", "0x8", "08a", " 8", "8 ", "9223372036854775808",
                         "99999999999999999999999999", "1e3", "8.0", "101"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(!xb_parse_int(bad[i], 0, 100, &v), "%s accepted", bad[i]);
    uint64_t u;
    cr_assert(xb_parse_u64("18446744073709551615", UINT64_MAX, &u) && u == UINT64_MAX);
    cr_assert(!xb_parse_u64("18446744073709551616", UINT64_MAX, &u));
    cr_assert(!xb_parse_u64("-1", UINT64_MAX, &u));
    cr_assert(!xb_parse_u64("+1", UINT64_MAX, &u));
}

Test(num, reals_finite_decimal) {
    double d;
    cr_assert(xb_parse_real("0.5", &d) && d == 0.5);
    cr_assert(xb_parse_real(".5", &d) && d == 0.5);
    cr_assert(xb_parse_real("-5e-3", &d) && d == -5e-3);
    const char *bad[] = {"", ".", "e5", "0x1p3", "inf", "nan", "1e400", "1e-400", "1.5.2", " 1", "1 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(!xb_parse_real(bad[i], &d), "%s accepted", bad[i]);
    char buf[40];
    double vals[] = {0.1, 1.0 / 3.0, 1e300, -2.5e-300, 0.30000000000000004, 128};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        xb_fmt_real(vals[i], buf, sizeof buf);
        cr_assert(xb_parse_real(buf, &d) && d == vals[i], "%s", buf);
    }
    xb_fmt_real(0.1, buf, sizeof buf);
    cr_assert_str_eq(buf, "0.1");
}

Test(json_read, numbers_keep_their_text_and_limits_hold) {
    xb_ctx ctx = {0};
    xb_jnode *j;
    const char *t = "{\"a\": [18446744073709551615, -0.5e+3, true, null], \"b\": {}}";
    cr_assert_eq(xb_json_read(t, strlen(t), "t", &j, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_str_eq(j->child->key, "a");
    cr_assert_str_eq(j->child->child->text, "18446744073709551615");
    cr_assert_str_eq(j->child->child->next->text, "-0.5e+3");
    cr_assert_eq(j->child->child->next->next->kind, XB_JTRUE);
    xb_json_free(j);
    /* nesting deeper than 64, a NUL inside the length, a cut text */
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    cr_assert_neq(xb_json_read(deep, sizeof deep, "t", &j, &ctx), XB_OK);
    cr_assert(strstr(ctx.msg, "deeper"), "%s", ctx.msg);
    xb_ctx_clear(&ctx);
    cr_assert_neq(xb_json_read("{}\0x", 4, "t", &j, &ctx), XB_OK);
    xb_ctx_clear(&ctx);
    cr_assert_neq(xb_json_read("{\"a\": \"x", 8, "t", &j, &ctx), XB_OK);
    cr_assert(strstr(ctx.msg, "t: line 1"), "%s", ctx.msg);
    cr_assert(xb_text_printable("caf\xc3\xa9"));
    cr_assert(!xb_text_printable("a\x1b[0m"));
    cr_assert(!xb_text_printable("\xc2\x9b"));
    cr_assert(!xb_text_printable("\xff"));
}
