#include "cli/shard.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "eval/session.h"

int xb_shard_parse(const char *val, xb_shard *out) {
    const char *slash = strchr(val, '/');
    char k[32];
    long long kv = 0, nv = 0;
    size_t kl = slash ? (size_t)(slash - val) : 0;
    if (!slash || kl == 0 || kl >= sizeof k) return -1;
    memcpy(k, val, kl);
    k[kl] = '\0';
    if (!xb_parse_int(k, 0, XB_SHARD_MAX - 1, &kv) ||
        !xb_parse_int(slash + 1, 1, XB_SHARD_MAX, &nv))
        return -1;
    if (kv >= nv) return -2;
    out->k = kv;
    out->n = nv;
    return 0;
}

bool xb_args_shard(xb_args *a, const char *val, xb_shard *out) {
    if (!val) return false;
    int r = xb_shard_parse(val, out);
    if (r == -1)
        xb_args_fail(a, "%s: '%s' is not K/N (shard K of N, integers with 0 <= K < N <= %d)",
                     a->opt, val, XB_SHARD_MAX);
    else if (r == -2)
        xb_args_fail(a, "%s: '%s': the shard index is not below the shard count (shards are "
                        "numbered 0..N-1)",
                     a->opt, val);
    return r == 0;
}

void xb_shard_range(const xb_shard *s, int64_t total, int64_t *first, int64_t *count) {
    if (s->n <= 1) {
        *first = 0;
        *count = total;
        return;
    }
    /* total * k / n without overflow for any dataset size (total < 2^40). */
    int64_t lo = total / s->n * s->k + total % s->n * s->k / s->n;
    int64_t hi = total / s->n * (s->k + 1) + total % s->n * (s->k + 1) / s->n;
    *first = lo;
    *count = hi - lo;
}

uint64_t xb_fnv1a(uint64_t h, const char *s) {
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    /* a separator, so ("ab","c") and ("a","bc") differ */
    h ^= 0xff;
    h *= 0x100000001b3ull;
    return h;
}

xb_status xb_shard_select(const xb_shard *sh, xb_session *s, xb_ctx *ctx) {
    if (sh->n == 0) return XB_OK;
    int64_t total = xb_session_evaluated(s), first, count;
    if (total < sh->n)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "--shard %lld/%lld: %lld images cannot make %lld shards",
                       sh->k, sh->n, (long long)total, sh->n);
    xb_shard_range(sh, total, &first, &count);
    return xb_session_select(s, first, count, ctx);
}

void xb_shard_run_json(const xb_shard *sh, const xb_session *s, cJSON *json) {
    if (sh->n == 0) return;
    cJSON *o = cJSON_AddObjectToObject(json, "shard");
    cJSON_AddNumberToObject(o, "index", (double)sh->k);
    cJSON_AddNumberToObject(o, "count", (double)sh->n);
    cJSON_AddNumberToObject(o, "first", (double)xb_session_first(s));
    cJSON_AddNumberToObject(o, "images", (double)xb_session_count(s));
    cJSON_AddNumberToObject(o, "evaluated", (double)xb_session_evaluated(s));
}
