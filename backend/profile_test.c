#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <string.h>

#include "backend/profile.h"

Test(profile, bits_needed) {
    cr_assert_eq(xb_profile_bits_needed(0, false), 0);
    cr_assert_eq(xb_profile_bits_needed(1, false), 1);
    cr_assert_eq(xb_profile_bits_needed(255, false), 8);
    cr_assert_eq(xb_profile_bits_needed(256, false), 9);
    cr_assert_eq(xb_profile_bits_needed(384, false), 9);
    cr_assert_eq(xb_profile_bits_needed(127, true), 8);
}

Test(profile, json_has_the_documented_fields) {
    xb_ctx ctx = {0};
    xb_arch a;
    xb_arch_defaults(&a);
    xb_layer_shape s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "fc");
    s.K = 200;
    s.N = 10;
    s.groups = 1;
    s.P = 1;
    s.in_elems = 200;
    s.out_elems = 10;
    xb_mapping *m = xb_compile_shapes(&a, &s, 1, &ctx);
    xb_cost *c = xb_cost_compute(m, &ctx);
    cJSON *layers = xb_profile_json_layers(m, c, NULL), *tot = xb_profile_json_totals(m, c, NULL);
    cJSON *l0 = cJSON_GetArrayItem(layers, 0);
    const char *lk[] = {"name", "crossbars", "macs", "adc_conversions", "conversions_per_mac",
                        "energy_pj"};
    for (int i = 0; i < 6; i++) cr_assert_not_null(cJSON_GetObjectItem(l0, lk[i]), "%s", lk[i]);
    const char *tk[] = {"energy_pj_per_inference", "adc_energy_share", "conversions_per_mac",
                        "latency_ns"};
    for (int i = 0; i < 4; i++) cr_assert_not_null(cJSON_GetObjectItem(tot, tk[i]), "%s", tk[i]);
    /* 2 row blocks x 10 x 4 slices x 8 cycles = 640 conversions for 2000 MACs. */
    cr_assert_float_eq(cJSON_GetObjectItem(tot, "conversions_per_mac")->valuedouble, 0.32, 1e-12);
    cJSON_Delete(layers);
    cJSON_Delete(tot);
    xb_cost_free(c);
    xb_mapping_free(m);
}
