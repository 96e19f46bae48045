/* Built against the *installed* xbar (pkg-config xbar) by tests/install/run.sh:
 * runs a model through the C API and prints what `xbar run` reports.
 * Usage: lenet MODEL DATA ARCH */
#include <stdio.h>
#include <string.h>
#include <xbar.h>

static int fail(xbar *h, const char *what) {
    fprintf(stderr, "lenet: %s: %s\n", what, xbar_last_error(h));
    xbar_close(h);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: lenet MODEL DATA ARCH\n");
        return 2;
    }
    xbar *h = xbar_new();
    if (!h) return 1;
    if (xbar_open_model(h, argv[1]) != XBAR_OK) return fail(h, "open model");
    if (xbar_open_data(h, argv[2], 0) != XBAR_OK) return fail(h, "open data");
    if (xbar_set_arch(h, argv[3]) != XBAR_OK) return fail(h, "arch");
    if (xbar_run(h, XBAR_ALL) != XBAR_OK) return fail(h, "run");
    static const struct { int mode; const char *name; } modes[] = {
        {XBAR_FLOAT, "float"}, {XBAR_INT8, "int8"}, {XBAR_ANALOG, "analog"}};
    for (int i = 0; i < 3; i++) {
        xbar_result r;
        if (xbar_get_result(h, modes[i].mode, &r, sizeof r) != XBAR_OK) return fail(h, "result");
        printf("%s %.2f%% %lld/%lld\n", modes[i].name, 100.0 * r.accuracy, (long long)r.correct,
               (long long)r.images);
    }
    xbar_cost c;
    if (xbar_get_cost(h, &c, sizeof c) != XBAR_OK) return fail(h, "cost");
    printf("energy_pj %.6f\n", c.energy_pj);
    for (int k = 0; k < xbar_energy_count(); k++)
        printf("energy_%s_pj %.6f\n", xbar_energy_name(k), c.energy_by[k]);
    for (int i = 0; i < xbar_layer_count(h); i++) {
        xbar_layer l;
        if (xbar_get_layer(h, i, &l, sizeof l) != XBAR_OK) return fail(h, "layer");
        printf("layer %d %s conversions %lld saturation %.6g energy_pj %.6f\n", i, l.name,
               (long long)l.adc_conversions, l.saturation_rate, l.energy_pj_total);
    }
    printf("version %s\n", xbar_version());
    xbar_close(h);
    return 0;
}
