/* libFuzzer harness: architecture JSON (backend/arch/<name>.json) through
 * xb_arch_load, and the same bytes as a --set assignment through
 * xb_arch_set.  A description that loads must survive the derived
 * quantities the compiler and cost model compute, and must round-trip:
 * xb_arch_write_json is documented as the inverse of load. */
#include <math.h>

#include "backend/arch.h"
#include "tests/fuzz/fuzz_util.h"

static void check_derived(const xb_arch *a) {
    if (xb_arch_input_slices(a) < 1 || xb_arch_weight_slices(a) < 1) abort();
    int eb = xb_arch_adc_eff_bits(a);
    if (eb < 1 || eb > 64) abort();
    if (!isfinite(xb_arch_adc_energy_pj(a, eb)) || !isfinite(xb_arch_adc_area_um2(a, eb))) abort();
    for (int i = -1; i < 4; i++) {
        int lb = xb_arch_layer_adc_bits(a, i, 3, NULL);
        if (lb < 1 || lb > 64 || !isfinite(xb_arch_adc_energy_pj(a, lb))) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[300], back[300];
    if (!path[0]) {
        fz_path(path, sizeof path, "fuzz.json");
        fz_path(back, sizeof back, "back.json");
    }
    fz_write(path, data, size);
    xb_ctx ctx = {0};
    xb_arch a;
    xb_status st = xb_arch_load(&a, path, &ctx);
    fz_check_fail(st, &ctx, path);
    if (st == XB_OK) {
        check_derived(&a);
        FILE *f = fopen(back, "wb");
        if (!f) abort();
        xb_arch_write_json(&a, f, 0);
        fclose(f);
        xb_ctx c2 = {0};
        xb_arch b;
        if (xb_arch_load(&b, back, &c2) != XB_OK) {
            fprintf(stderr, "fuzz: written arch does not load back: %s\n", c2.msg);
            abort();
        }
        for (int i = 0; xb_arch_key(i); i++) {
            char va[128], vb[128];
            if (!xb_arch_get(&a, xb_arch_key(i), va, sizeof va) ||
                !xb_arch_get(&b, xb_arch_key(i), vb, sizeof vb) || strcmp(va, vb)) {
                fprintf(stderr, "fuzz: %s does not round-trip: %s vs %s\n", xb_arch_key(i), va, vb);
                abort();
            }
        }
    }
    /* The same bytes as one --set assignment on the defaults. */
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    xb_arch_defaults(&a);
    xb_ctx c3 = {0};
    st = xb_arch_set(&a, s, &c3);
    fz_check_fail(st, &c3, NULL);
    if (st == XB_OK) check_derived(&a);
    free(s);
    return 0;
}
