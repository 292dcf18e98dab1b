#!/usr/bin/env bash
# ONNX Runtime's CPU shared library, from PyPI's onnxruntime wheel (pinned, checksummed): the
# `ort` crate loads it at run time. Installs it where pixfly looks by default and prints its path.
source "$(dirname "$0")/common.sh"
VERSION=1.31.1
WHEEL=onnxruntime-$VERSION-cp311-cp311-manylinux_2_28_x86_64.whl
SHA256=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
DEST="$PIXFLY_CACHE/onnxruntime-$VERSION"
LIB="$DEST/libonnxruntime.so.$VERSION"
if [ ! -f "$LIB" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    fetch_wheel "onnxruntime==$VERSION" manylinux_2_28_x86_64 "$WHEEL" "$SHA256" "$tmp"
    mkdir -p "$DEST"
    python3 - "$tmp/$WHEEL" "onnxruntime/capi/libonnxruntime.so.$VERSION" "$tmp/lib" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], "wb") as f:
    f.write(z.read(sys.argv[2]))
PY
    mv "$tmp/lib" "$LIB" # last, so a half-written library is never found
fi
echo "$LIB"
