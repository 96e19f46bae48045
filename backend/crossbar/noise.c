/* Value statistics of noisy column sums (noise.h). */
#include "backend/crossbar/noise.h"

#include <math.h>

#include "backend/crossbar/rng.h"

/* llround(d) for |d| < 2^52, exactly: d - trunc(d) is exact there, and
 * llround rounds a fraction of one half away from zero. */
static inline int64_t round_half_away(double d) {
    double t = trunc(d), fr = d - t;
    return (int64_t)t + (fr >= 0.5) - (fr <= -0.5);
}

void xb_stat_floats_batched(xb_crossbar_stats *s, const float *v, int64_t n) {
    enum { B = 256 };
    int64_t r[B];
    int64_t zeros = 0, mx = s->max_abs, lo = s->hist_lo, top = s->hist_bins - 1,
            w = s->hist_width;
    for (int64_t i0 = 0; i0 < n; i0 += B) {
        int64_t m = n - i0 < B ? n - i0 : B;
        int big = 0;
        for (int64_t i = 0; i < m; i++) { /* vectorises: no call, no branch */
            double d = (double)v[i0 + i];
            big |= !(fabs(d) < 0x1p52); /* NaN too */
            r[i] = round_half_away(fabs(d) < 0x1p52 ? d : 0.0);
        }
        if (big)
            for (int64_t i = 0; i < m; i++)
                if (!(fabs((double)v[i0 + i]) < 0x1p52)) r[i] = llround((double)v[i0 + i]);
        for (int64_t i = 0; i < m; i++) {
            int64_t ri = r[i], a = ri < 0 ? -ri : ri;
            zeros += ri == 0;
            mx = a > mx ? a : mx;
            int64_t b = ri < lo ? 0 : w == 1 ? ri - lo : (ri - lo) / w;
            s->hist[b > top ? top : b]++;
        }
    }
    s->observed += n;
    s->zeros += zeros;
    s->max_abs = mx;
}

void xb_noise_add(uint64_t key, uint64_t idx0, int64_t n, float sg, const xb_col_sums *S,
                  float *v) {
    enum { T = 1024 };
    float z[T];
    for (int64_t i0 = 0; i0 < n; i0 += T) {
        int64_t m = n - i0 < T ? n - i0 : T;
        xb_fast_normals(key, idx0 + (uint64_t)i0, m, z);
        float *vi = v + i0;
        if (S->Si) {
            const int32_t *p = S->Si + i0, *q = S->Si2 ? S->Si2 + i0 : NULL;
            if (q)
                for (int64_t i = 0; i < m; i++) vi[i] = (float)(p[i] - q[i]) + sg * z[i];
            else
                for (int64_t i = 0; i < m; i++) vi[i] = (float)p[i] + sg * z[i];
        } else {
            const float *p = S->Sf + i0, *q = S->Sf2 ? S->Sf2 + i0 : NULL;
            if (q)
                for (int64_t i = 0; i < m; i++) vi[i] = (p[i] - q[i]) + sg * z[i];
            else
                for (int64_t i = 0; i < m; i++) vi[i] = p[i] + sg * z[i];
        }
    }
}

void xb_noise_add_var(const xb_noise_var *nv, const float *z, int64_t n, float *v) {
    enum { T = 512 };
    float var[T];
    const float a2 = nv->a2, e2 = nv->e2, r2 = nv->r2;
    for (int64_t i0 = 0; i0 < n; i0 += T) {
        int64_t m = n - i0 < T ? n - i0 : T;
        for (int64_t i = 0; i < m; i++) var[i] = a2;
        if (e2 > 0 && nv->S.Si) {
            const int32_t *p = nv->S.Si + i0, *q = nv->S.Si2 ? nv->S.Si2 + i0 : NULL;
            if (q)
                for (int64_t i = 0; i < m; i++) var[i] += e2 * (float)(p[i] + q[i]);
            else
                for (int64_t i = 0; i < m; i++) var[i] += e2 * (float)p[i];
        } else if (e2 > 0) {
            const float *p = nv->S.Sf + i0, *q = nv->S.Sf2 ? nv->S.Sf2 + i0 : NULL;
            for (int64_t i = 0; i < m; i++) {
                float c = q ? p[i] + q[i] : p[i];
                var[i] += e2 * (c > 0 ? c : 0);
            }
        }
        if (r2 > 0)
            for (int64_t i = 0; i < m; i++) var[i] += r2 * (float)nv->nsq[i0 + i];
        const float *zi = z + i0;
        float *vi = v + i0;
        for (int64_t i = 0; i < m; i++) vi[i] += sqrtf(var[i]) * zi[i];
    }
}

void xb_noise_add_rows(float a2, float r2, const int32_t *nsq, const float *z, int64_t n,
                       int64_t ncol, float *v) {
    enum { T = 512 };
    float sd[T];
    for (int64_t i0 = 0; i0 < n; i0 += T) {
        int64_t m = n - i0 < T ? n - i0 : T;
        for (int64_t i = 0; i < m; i++) { /* xb_noise_add_var's var, term by term */
            float var = a2;
            if (r2 > 0) var += r2 * (float)nsq[i0 + i];
            sd[i] = sqrtf(var);
        }
        for (int64_t cc = 0; cc < ncol; cc++) {
            const float *zi = z + cc * n + i0;
            float *vi = v + cc * n + i0;
            for (int64_t i = 0; i < m; i++) vi[i] += sd[i] * zi[i];
        }
    }
}
