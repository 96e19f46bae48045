#!/bin/sh
# Run every fuzz harness in turn, niced, for a bounded time each.
# usage: tests/fuzz/run_all.sh BUILD_DIR [SECONDS_PER_TARGET] [TARGETS...]
# Corpora grow in BUILD_DIR/corpus/<t>, findings land in
# BUILD_DIR/artifacts/<t>/, logs in BUILD_DIR/logs/<t>.log.
set -u
b=${1:?build dir}
secs=${2:-300}
shift; [ $# -gt 0 ] && shift
targets=${*:-"onnx onnx_struct tensor_pb png jpeg idx cifar arch argv crossbar"}
src=$(cd "$(dirname "$0")/../.." && pwd)
[ -d "$b/seeds/argv" ] && [ -d "$b/seeds/onnx" ] && [ -d "$b/seeds/jpeg" ] && [ -d "$b/seeds/crossbar" ] || /usr/bin/python3 "$src/tests/fuzz/make_seeds.py" "$b/seeds"
for t in $targets; do
  case $t in
    onnx|onnx_struct) max=262144 ;;
    tensor_pb|png|jpeg|idx) max=65536 ;;
    cifar|crossbar) max=16384 ;;
    arch|argv) max=4096 ;;
  esac
  extra=""
  # argv: option names and arch keys as a dictionary; the parsers' usage
  # errors on stdout/stderr silenced (libFuzzer keeps its own output and
  # the sanitizer reports on a duplicate of stderr).
  [ "$t" = argv ] && extra="-dict=$b/seeds/argv.dict -close_fd_mask=3"
  seeds=$t
  [ "$t" = onnx_struct ] && seeds=onnx
  mkdir -p "$b/corpus/$t" "$b/artifacts/$t" "$b/logs"
  echo "== $t: ${secs}s, max_len $max ($(date -u +%H:%M:%S))"
  nice -n 19 "$b/fuzz_$t" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len="$max" \
    -artifact_prefix="$b/artifacts/$t/" $extra "$b/corpus/$t" "$b/seeds/$seeds" > "$b/logs/$t.log" 2>&1
  tail -n 3 "$b/logs/$t.log"
  echo "artifacts: $(ls "$b/artifacts/$t" | wc -l)"
done
