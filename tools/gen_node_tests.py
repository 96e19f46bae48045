#!/usr/bin/python3
"""Generate ONNX's node tests (model.onnx + test_data_set_*/{input,output}_*.pb).

This is `backend-test-tools generate-data` from python3-onnx 1.12 run under
numpy 1.24.  onnx 1.12's test-case modules still use the aliases np.float,
np.int, np.bool and np.object that numpy 1.24 removed, so importing them
fails.  We restore the aliases (they always meant the Python builtins) and
then call onnx's own generator, so the data are exactly what ONNX ships.

usage: gen_node_tests.py OUTPUT_DIR [--op-type OP] [--stamp FILE]

Writes OUTPUT_DIR/node/test_*/ (plus OUTPUT_DIR/simple and /real for the
few model cases the generator also emits), and OUTPUT_DIR/xbar/test_*/:
a few cases of our own that test the checker itself (symbolic batch taken
from the data; wrong float, integer and shape outputs that must FAIL).  --stamp touches FILE on success
so a build system can tell the data are complete.
"""
import argparse
import os
import sys
import warnings

import numpy as np

# Aliases removed in numpy 1.24 (deprecated in 1.20).  The old names were the
# builtin types themselves, so these restore the exact old meaning.
for _name, _typ in (("float", float), ("int", int), ("bool", bool), ("object", object),
                    ("complex", complex), ("str", str)):
    if _name not in np.__dict__:
        setattr(np, _name, _typ)


def write_case(root, name, model, inputs, outputs):
    from onnx import numpy_helper
    d = os.path.join(root, name, "test_data_set_0")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(root, name, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    for j, (nm, a) in enumerate(inputs):
        with open(os.path.join(d, f"input_{j}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(a, nm).SerializeToString())
    for j, (nm, a) in enumerate(outputs):
        with open(os.path.join(d, f"output_{j}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(a, nm).SerializeToString())


def xbar_cases(root):
    """Checker self-tests; expected values computed here with numpy."""
    from onnx import helper, numpy_helper, TensorProto
    rng = np.random.RandomState(7)
    w = (np.arange(32, dtype=np.float32).reshape(2, 16) / 10).astype(np.float32)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])
    g = helper.make_graph([helper.make_node("Flatten", ["x"], ["f"]),
                           helper.make_node("Gemm", ["f", "w"], ["y"], transB=1)],
                          "fc", [x], [y], [numpy_helper.from_array(w, "w")])
    fc = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    xi = rng.rand(3, 1, 4, 4).astype(np.float32)
    yo = (xi.reshape(3, 16).astype(np.float64) @ w.T.astype(np.float64)).astype(np.float32)
    # PASS: batch 3 comes from the data, the model says "N".
    write_case(root, "test_symbolic_batch3", fc, [("x", xi)], [("y", yo)])
    # FAIL: one element off by 1.0 (far beyond rtol 1e-3 of ~40).
    bad = yo.copy()
    bad[2, 1] += 1.0
    write_case(root, "test_wrong_float", fc, [("x", xi)], [("y", bad)])
    # FAIL: expected output has another shape.
    write_case(root, "test_wrong_shape", fc, [("x", xi)], [("y", yo.reshape(6, 1))])
    # QuantizeLinear: integers must match exactly; off by one must FAIL.
    qx = helper.make_tensor_value_info("x", TensorProto.FLOAT, [5])
    qy = helper.make_tensor_value_info("y", TensorProto.UINT8, [5])
    qg = helper.make_graph([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"])], "q",
                           [qx], [qy],
                           [numpy_helper.from_array(np.array(0.5, np.float32), "s"),
                            numpy_helper.from_array(np.array(10, np.uint8), "z")])
    qm = helper.make_model(qg, opset_imports=[helper.make_opsetid("", 13)])
    qxi = np.array([0.0, 1.0, 2.2, -3.0, 100.0], np.float32)
    # round-half-even of x / 0.5, plus 10, saturated to [0, 255]
    qyo = np.clip(np.rint(qxi / 0.5) + 10, 0, 255).astype(np.uint8)
    write_case(root, "test_quantize_exact", qm, [("x", qxi)], [("y", qyo)])
    qbad = qyo.copy()
    qbad[2] += 1
    write_case(root, "test_wrong_int", qm, [("x", qxi)], [("y", qbad)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("output")
    ap.add_argument("--op-type", default=None,
                    help="only cases that include this operator")
    ap.add_argument("--stamp", default=None)
    args = ap.parse_args()

    # Test-case code triggers harmless numpy warnings (overflow in casts of
    # random data); the output is what ONNX ships either way.
    warnings.simplefilter("ignore")
    from onnx.backend.test import cmd_tools

    ns = argparse.Namespace(output=os.path.abspath(args.output), op_type=args.op_type)
    cmd_tools.generate_data(ns)
    xbar_cases(os.path.join(ns.output, "xbar"))
    n = len(os.listdir(os.path.join(ns.output, "node")))
    print(f"gen_node_tests: {n} node tests in {os.path.join(ns.output, 'node')}")
    if args.stamp:
        with open(args.stamp, "w") as f:
            f.write(f"{n}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
