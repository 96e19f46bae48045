/* libFuzzer harness: bytes -> a .pb file -> xb_onnx_read_tensor_file (the
 * TensorProto files of the ONNX backend tests: `xbar check-onnx`). */
#include "frontend/onnx.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[300];
    if (!path[0]) fz_path(path, sizeof path, "input_0.pb");
    fz_write(path, data, size);
    xb_ctx ctx = {0};
    xb_tensor t;
    xb_status st = xb_onnx_read_tensor_file(path, &t, &ctx);
    fz_check_fail(st, &ctx, path);
    if (st == XB_OK) {
        /* Touch every byte the decoder claims to own. */
        size_t n = (size_t)xb_shape_numel(&t.shape) * xb_dtype_size(t.dtype);
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < n; i++) sum ^= ((const uint8_t *)t.data)[i];
        (void)sum;
        if (!t.name) abort();
        free(t.name);
        free(t.data);
    } else if (t.data || t.name) {
        abort(); /* failure must not hand out buffers */
    }
    return 0;
}
