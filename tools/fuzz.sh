#!/bin/sh
# Build the libFuzzer tree and run every fuzz target (or the ones named) for
# a given time each, then print executions, coverage and findings per target.
#
# usage: tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  default 300
#   TARGET              onnx onnx_struct tensor_pb png jpeg idx cifar arch argv crossbar
#                       (default: all; tests/fuzz/README.md describes each)
#   XBAR_FUZZ_BUILD     build folder (default: build-fuzz in the source tree)
#
# Needs clang (libFuzzer).  Targets run one after the other under nice -n 19
# (tests/fuzz/run_all.sh); corpora grow in BUILD/corpus/<t>, findings land
# in BUILD/artifacts/<t>/ and logs in BUILD/logs/<t>.log.  Replay a finding
# with BUILD/fuzz_<t> FILE.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
b=${XBAR_FUZZ_BUILD:-$src/build-fuzz}
secs=${1:-300}
[ $# -gt 0 ] && shift
targets=${*:-"onnx onnx_struct tensor_pb png jpeg idx cifar arch argv crossbar"}
case $secs in *[!0-9]*|'') echo "tools/fuzz.sh: SECONDS_PER_TARGET must be a number" >&2; exit 2 ;; esac
command -v clang >/dev/null || { echo "tools/fuzz.sh: needs clang" >&2; exit 2; }

# -DXBAR_WERROR=OFF: clang warns about a GCC-only pragma in kernels/sgemm.c.
CC=clang cmake -S "$src" -B "$b" -DXBAR_FUZZ=ON -DXBAR_TESTS=OFF -DXBAR_WERROR=OFF >/dev/null
bin=""
for t in $targets; do bin="$bin fuzz_$t"; done
# shellcheck disable=SC2086
nice -n 10 cmake --build "$b" -j2 --target $bin
# shellcheck disable=SC2086
"$src/tests/fuzz/run_all.sh" "$b" "$secs" $targets

# The last status line of each log: "#N: cov: C ft: F ..." (fork mode) or
# "#N DONE cov: C ...".
echo
printf '%-12s %8s %14s %8s %9s\n' target seconds executions cov artifacts
for t in $targets; do
  log="$b/logs/$t.log"
  line=$(grep -E '^#[0-9]+' "$log" 2>/dev/null | tail -n 1 || true)
  execs=$(echo "$line" | sed -n 's/^#\([0-9]*\).*/\1/p')
  cov=$(echo "$line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  printf '%-12s %8s %14s %8s %9s\n' "$t" "$secs" "${execs:-?}" "${cov:-?}" \
    "$(ls "$b/artifacts/$t" 2>/dev/null | wc -l)"
done
