#!/usr/bin/python3
"""Generate ONNX's node tests (model.onnx + test_data_set_*/{input,output}_*.pb).

This is `backend-test-tools generate-data` from python3-onnx 1.12 run under
numpy 1.24.  onnx 1.12's test-case modules still use the aliases np.float,
np.int, np.bool and np.object that numpy 1.24 removed, so importing them
fails.  We restore the aliases (they always meant the Python builtins) and
then call onnx's own generator, so the data are exactly what ONNX ships.

usage: gen_node_tests.py OUTPUT_DIR [--op-type OP] [--stamp FILE]

Writes OUTPUT_DIR/node/test_*/ (plus OUTPUT_DIR/simple and /real for the
few model cases the generator also emits).  --stamp touches FILE on success
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
    n = len(os.listdir(os.path.join(ns.output, "node")))
    print(f"gen_node_tests: {n} node tests in {os.path.join(ns.output, 'node')}")
    if args.stamp:
        with open(args.stamp, "w") as f:
            f.write(f"{n}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
