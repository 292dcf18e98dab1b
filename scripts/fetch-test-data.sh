#!/usr/bin/env bash
# Real photos for the tests: scikit-image's sample images (skimage/data), from its PyPI wheel.
# Prints the folder that holds them.
source "$(dirname "$0")/common.sh"
VERSION=0.25.2
WHEEL=scikit_image-$VERSION-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
SHA256=24cc986e1f4187a12aa319f777b36008764e856e5013666a4a83f8df083c2641
DEST="$PIXFLY_CACHE/scikit-image-$VERSION"
if [ ! -f "$DEST/.complete" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    fetch_wheel "scikit-image==$VERSION" manylinux2014_x86_64 "$WHEEL" "$SHA256" "$tmp"
    rm -rf "$DEST" && mkdir -p "$DEST"
    python3 - "$tmp/$WHEEL" "$DEST" <<'PY'
import sys, zipfile, os
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith("skimage/data/") and name.rsplit(".", 1)[-1] in ("png", "jpg", "gif", "tif"):
            with open(os.path.join(dest, os.path.basename(name)), "wb") as f:
                f.write(z.read(name))
PY
    touch "$DEST/.complete"
fi
echo "$DEST"
