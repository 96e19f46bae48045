#!/bin/sh
# Layering check (docs/ARCHITECTURE.md): each top folder includes only
# folders below it, every project include is root-relative
# (#include "backend/arch.h"), and includes sit at the top of the file.
# Tests (*_test.c, tests/) may include any layer.  Exit 1 on a violation.
# Usage: tools/check_layers.sh   (from anywhere)
# One awk pass over every file (the per-include grep/sed forks it replaced
# took up to a minute on a loaded 2-core machine).
cd "$(dirname "$0")/.." || exit 2
# Layers, lowest first; a layer may include itself and the ones before it.
# include/ holds the public header (include/xbar.h): it includes no project
# file, and the layers from api up may include it.
LAYERS="runtime kernels frontend backend eval api cli"
out=$( {
    # Every existing project file, so an include can be checked for existence.
    find $LAYERS include tests bench -type f | sed 's/^/EXIST /'
    find $LAYERS -name '*.[ch]' ! -name '*_test.c' | sort | sed 's/^/LAYERED /'
    find include -name '*.h' | sort | sed 's/^/PUBLIC /'
    find tests bench -name '*.[ch]' | sort | sed 's/^/FREE /'
} | awk -v layers="$LAYERS" '
    BEGIN { n = split(layers, L, " "); for (i = 1; i <= n; i++) rank[L[i]] = i; rank["include"] = rank["api"] }
    $1 == "EXIST"   { exist[$2] = 1; next }
    $1 == "LAYERED" { layered[++nl] = $2; next }
    $1 == "PUBLIC"  { public[++np] = $2; next }
    $1 == "FREE"    { free_[++nf] = $2; next }
    function inc_of(line) {   # the quoted include on this line, or ""
        if (line !~ /^[[:space:]]*#[[:space:]]*include[[:space:]]*"/) return ""
        sub(/^[^"]*"/, "", line); sub(/".*$/, "", line); return line
    }
    function check_layered(f,   top, me, line, nr, body, inc, t) {
        split(f, parts, "/"); me = parts[1]; nr = 0; body = 0
        while ((getline line < f) > 0) {
            nr++
            if (line ~ /^[A-Za-z_].*\)[[:space:]]*\{[[:space:]]*$/) body = 1
            if (body && line ~ /^[[:space:]]*#[[:space:]]*include/) print f ":" nr ": include below code"
            inc = inc_of(line)
            if (inc == "" || inc == "onnx.pb-c.h") continue   # generated, build/gen
            t = inc; sub(/\/.*/, "", t)
            if (t == inc || !(inc in exist)) { print f ":" nr ": include \"" inc "\" is not root-relative"; continue }
            # include/ (the public header) ranks with api: allowed from api up.
            if (!(t in rank) || rank[t] > rank[me])
                print f ":" nr ": layer " me " includes \"" inc "\" from the layer above it (" t ")"
        }
        close(f)
    }
    END {
        for (i = 1; i <= nl; i++) check_layered(layered[i])
        for (i = 1; i <= np; i++) { nr = 0
            while ((getline line < public[i]) > 0) { nr++
                if (inc_of(line) != "") print public[i] ":" nr ":" line " (the public header includes no project file)" }
            close(public[i]) }
        for (i = 1; i <= nf; i++) { nr = 0
            while ((getline line < free_[i]) > 0) { nr++
                if (line ~ /^[[:space:]]*#[[:space:]]*include[[:space:]]*"\.\.\//) print free_[i] ":" nr ":" line " (use a root-relative path)" }
            close(free_[i]) }
    }')
if [ -n "$out" ]; then
    printf '%s\n' "$out"
    exit 1
fi
echo "layers: ok ($LAYERS)"
