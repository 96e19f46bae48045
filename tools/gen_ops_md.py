#!/usr/bin/env python3
"""Write docs/OPS.md, the table of supported ops, from kernels/ops.def.

Usage: python3 tools/gen_ops_md.py [--check]
--check exits 1 when docs/OPS.md is not what this script would write
(run it after editing kernels/ops.def).  Standard library only.
"""
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEF = os.path.join(REPO, "kernels", "ops.def")
OUT = os.path.join(REPO, "docs", "OPS.md")
LINE = re.compile(r'^XB_OP\(\s*(\w+)\s*,\s*"([^"]+)"\s*,\s*"([^"]*)"\s*,\s*(\d+)\s*,\s*(\w+)\s*\)')


def render():
    rows = []
    with open(DEF) as f:
        for line in f:
            m = LINE.match(line)
            if m:
                rows.append((m.group(2), m.group(3), int(m.group(4)), m.group(5)))
    onnx = sorted(r for r in rows if r[1] == "")
    internal = sorted(r for r in rows if r[1] != "")
    out = ["# Supported operators",
           "",
           "Generated from `kernels/ops.def` by `tools/gen_ops_md.py`; do not edit by hand.",
           "",
           "A model loads when every node's op is listed here for its domain and the model's",
           "opset for that domain is at least the op's since-opset.  ai.onnx models must",
           "declare an opset in 7..17 (`kernels/registry.c`).  An op being listed does not",
           "mean every attribute value or element type is: each kernel's prepare rejects what",
           "it does not implement with a message naming it; `docs/arch-kernels.md` lists the",
           "limits per op.",
           "",
           "## ai.onnx (%d ops)" % len(onnx),
           "",
           "| op | since opset | kernel |",
           "|---|---|---|"]
    for op, _, since, f in onnx:
        out.append("| %s | %d | `kernels/%s.c` |" % (op, since, f))
    out += ["",
            "## Internal (domain `xbar`, made by xbar's own passes, not by exporters)",
            "",
            "| op | domain | kernel |",
            "|---|---|---|"]
    for op, dom, _, f in internal:
        out.append("| %s | %s | `kernels/%s.c` |" % (op, dom, f))
    return "\n".join(out) + "\n"


def main():
    text = render()
    if "--check" in sys.argv[1:]:
        cur = open(OUT).read() if os.path.exists(OUT) else ""
        if cur != text:
            sys.exit("docs/OPS.md is stale: run python3 tools/gen_ops_md.py")
        return
    with open(OUT, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
