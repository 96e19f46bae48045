#!/bin/sh
# The MPI build (docs/SCALE.md): `mpirun -n 2 build-mpi/xbar sweep ...` writes
# the CSV of the plain single-process sweep (the images_per_s timing column
# aside), to a file or to stdout (rank 0 only), also for one --shard; and
# --resume under several ranks is refused.  Exit 77 (ctest: skipped) when
# the MPI binary or mpirun is missing; .ci/run builds build-mpi before the
# tests so CI runs it.
# Usage: tests/mpi/run.sh SOURCE_DIR PLAIN_XBAR [MPI_XBAR]
set -eu
src=$1
xbar=$2
mpi_xbar=${3:-$src/build-mpi/xbar}
if [ ! -x "$mpi_xbar" ]; then
    echo "SKIPPED: no $mpi_xbar; build it with: cmake -S . -B build-mpi -DCMAKE_BUILD_TYPE=Release" \
         "-DXBAR_MPI=ON -DXBAR_TESTS=OFF && cmake --build build-mpi -j2 --target xbar"
    exit 77
fi
if ! command -v mpirun >/dev/null 2>&1; then
    echo "SKIPPED: no mpirun (apt-get install openmpi-bin libopenmpi-dev)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One thread per rank: two ranks on a 2-core machine.
export OMP_NUM_THREADS=1
mpirun="mpirun --allow-run-as-root --oversubscribe -n 2"
set -- sweep "$src/models/lenet5_mnist.onnx" \
    --data "$src/datasets/samples/mnist/t10k-images-idx3-ubyte.gz" --arch isaac \
    --vary adc.bits=5:8 --vary encoding=offset,differential --limit 100 --calib 50
# images_per_s (column 14 with two varied keys) is a measured time
# and the leading '#' lines (provenance: command line, date) are not rows
strip() { grep -v '^#' "$1" | cut -d, -f1-13,15-; }
same() {
    if ! cmp -s "$tmp/a" "$tmp/b"; then
        echo "FAIL: $1"; diff "$tmp/a" "$tmp/b" || true; exit 1
    fi
    echo "ok: $1"
}

"$xbar" "$@" --csv "$tmp/plain.csv" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
$mpirun "$mpi_xbar" "$@" --csv "$tmp/mpi.csv" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
grep -q "8 configurations over 2 MPI ranks" "$tmp/err" || { cat "$tmp/err"; echo "FAIL: not 2 ranks"; exit 1; }
strip "$tmp/plain.csv" >"$tmp/a"; strip "$tmp/mpi.csv" >"$tmp/b"
same "mpirun -n 2 xbar sweep --csv F equals the plain sweep"
test "$(grep -vc '^#' "$tmp/mpi.csv")" -eq 9 || { echo "FAIL: expected 9 lines"; exit 1; }

$mpirun "$mpi_xbar" "$@" >"$tmp/stdout.csv" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
strip "$tmp/stdout.csv" >"$tmp/b"
same "mpirun -n 2 xbar sweep to stdout: one CSV, from rank 0"

# shard 1/2 holds configurations 1, 2, 5, 6 (dealt in snake order 0 1 1 0 0 1 1 0): the
# plain CSV's header and lines 3, 4, 7, 8
$mpirun "$mpi_xbar" "$@" --shard 1/2 --csv "$tmp/m1.csv" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
grep -q "^# xbar-shard 1/2 configurations=8 " "$tmp/m1.csv" || { echo "FAIL: no shard line"; exit 1; }
strip "$tmp/plain.csv" | awk 'NR == 1 || NR == 3 || NR == 4 || NR == 7 || NR == 8' >"$tmp/a"
grep -v '^#' "$tmp/m1.csv" >"$tmp/m1.rows"
strip "$tmp/m1.rows" >"$tmp/b"
same "mpirun -n 2 xbar sweep --shard 1/2 holds configurations 1, 2, 5, 6 of the plain sweep"

rc=0
$mpirun "$mpi_xbar" "$@" --csv "$tmp/r.csv" --resume >/dev/null 2>"$tmp/err" || rc=$?
grep -q "resume needs one process" "$tmp/err" || { cat "$tmp/err"; echo "FAIL: --resume not refused"; exit 1; }
test "$rc" -ne 0 || { echo "FAIL: --resume under 2 ranks exited 0"; exit 1; }
echo "ok: --resume under 2 ranks refused"
