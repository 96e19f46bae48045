/* The piecewise-uniform (non-uniform) ADC transfer of one layer, chosen
 * from its calibration histogram (sar.h).  [reconstructed]: the DATE'24
 * abstract names "non-uniform partial-sum quantization with early
 * termination" and no rule, so the rule is ours:
 *
 *   - the transfer keeps the ADC's code range and its 1-LSB steps below
 *     F = 2^m, and resolves codes at or above F only to intervals of 2^e
 *     codes (1 <= e <= m, so every interval lies wholly on one side of F);
 *     a SAR searching MSB first has decided such an interval e trials
 *     before the last bit, and stops (early termination);
 *   - its error on a calibration value is (interval midpoint - code) LSB;
 *     the relative RMS error over the histogram, sqrt(sum n err^2 / sum n
 *     v^2), must stay within the budget (adc.nonuniform_error);
 *   - among the (m, e) within budget, the one saving the most trials on
 *     the histogram (sum over values at or above F of e); ties go to the
 *     larger F, then the smaller e.
 *
 * Partial sums of quantized DNN layers crowd near zero (docs/BACKEND.md
 * histograms), so the fine region holds most conversions and the coarse
 * one the rare large sums, where a relative error matters least. */
#include <math.h>

#include "backend/crossbar/sar.h"

typedef struct {
    double err2, save;
    int64_t coarse;
} nu_score;

static nu_score score(const xb_crossbar_stats *st, int64_t lo, int64_t hi, double lsb, int64_t F,
                      int e) {
    nu_score r = {0, 0, 0};
    for (int b = 0; b < st->hist_bins; b++) {
        int64_t n = st->hist[b];
        if (!n) continue;
        double v = (double)(st->hist_lo + (int64_t)b * st->hist_width) +
                   (double)(st->hist_width - 1) / 2.0;
        double code = nearbyint(v / lsb);
        code = code > (double)hi ? (double)hi : code < (double)lo ? (double)lo : code;
        int64_t mag = (int64_t)fabs(code);
        if (mag < F) continue;
        double d = (xb_nu_apply(F, e, mag) - (double)mag) * lsb;
        r.err2 += (double)n * d * d;
        r.save += (double)n * e;
        r.coarse += n;
    }
    return r;
}

xb_nu_quant xb_nu_choose(const xb_crossbar_stats *st, int64_t lo, int64_t hi, double lsb,
                         double budget) {
    xb_nu_quant best = {0};
    double sig2 = 0, total = 0, best_save = 0;
    for (int b = 0; b < st->hist_bins; b++) {
        double v = (double)(st->hist_lo + (int64_t)b * st->hist_width) +
                   (double)(st->hist_width - 1) / 2.0;
        sig2 += (double)st->hist[b] * v * v;
        total += (double)st->hist[b];
    }
    if (total <= 0 || sig2 <= 0) return best;
    int64_t mmag = lo < 0 && -lo > hi ? -lo : hi;
    for (int m = 1; ((int64_t)1 << m) <= mmag; m++)
        for (int e = 1; e <= m; e++) {
            int64_t F = (int64_t)1 << m;
            nu_score s = score(st, lo, hi, lsb, F, e);
            double rel = sqrt(s.err2 / sig2);
            if (rel > budget) continue;
            /* strictly more saved, or as much with a larger F (m grows) */
            if (s.save > best_save || (s.save == best_save && s.save > 0)) {
                if (s.save == best_save && e > best.coarse_log2 && F == best.fine) continue;
                best_save = s.save;
                best = (xb_nu_quant){.fine = F, .coarse_log2 = e, .rel_rms = rel,
                                     .coarse_share = (double)s.coarse / total};
            }
        }
    return best;
}
