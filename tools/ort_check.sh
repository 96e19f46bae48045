#!/bin/sh
# Cross-check the models in ONNX Runtime 1.30 (see tools/ort_check.js). Installs onnxruntime-node into
# tools/node_modules on first use (--ignore-scripts: its install script downloads from a host that may be
# unreachable; the npm package already ships the Linux x64 binary under bin/napi-v*/linux/x64).
#   sh tools/ort_check.sh [MODEL ...]
set -e
cd "$(dirname "$0")"
if [ ! -d node_modules/onnxruntime-node ]; then
  npm install --ignore-scripts --no-audit --no-fund
fi
exec node ort_check.js "$@"
