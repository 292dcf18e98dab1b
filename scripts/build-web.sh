#!/usr/bin/env bash
# Build the web viewer into web/dist: the viewer for wasm32 (profile `web`), its JavaScript glue
# from wasm-bindgen-cli (the exact version in Cargo.lock, built from crates.io), and the page.
# Then `pixfly export-web BUNDLE -o SITE` puts it beside a bundle.
# No wasm-opt: measured on this viewer, -Oz took 4-7 minutes and cut the raw size by 17% but
# the gzipped size (what visitors download) by 0.1%. Instead the wasm is compressed once, at the
# highest settings, beside it (pixfly_bg.wasm.br and .gz) for hosts that serve such copies
# (`pixfly serve`, nginx's brotli_static / gzip_static, most CDNs).
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
tools="${PIXFLY_TOOLS:-$HOME/.cache/pixfly/tools}"
out=web/dist

rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
if ! "$tools/bin/wasm-bindgen" --version 2>/dev/null | grep -qx "wasm-bindgen $version"; then
    echo "installing wasm-bindgen-cli $version into $tools" >&2
    cargo install --quiet wasm-bindgen-cli --version "$version" --root "$tools"
fi

cargo build -p pixfly --target wasm32-unknown-unknown --profile web --locked
mkdir -p "$out"
"$tools/bin/wasm-bindgen" --target web --no-typescript --out-dir "$out" --out-name pixfly \
    "$target_dir/wasm32-unknown-unknown/web/pixfly.wasm"
wasm="$out/pixfly_bg.wasm"
raw=$(stat -c %s "$wasm")
# The page's progress bar counts the wasm's own bytes, whatever coding it travels in.
sed "s/data-wasm-bytes=\"[0-9]*\"/data-wasm-bytes=\"$raw\"/" web/index.html >"$out/index.html"
gzip -9 -n -c "$wasm" >"$wasm.gz"
node -e '
const zlib = require("zlib"), fs = require("fs"), [wasm] = process.argv.slice(1);
const data = fs.readFileSync(wasm);
const { BROTLI_PARAM_QUALITY: quality, BROTLI_PARAM_SIZE_HINT: hint } = zlib.constants;
fs.writeFileSync(wasm + ".br", zlib.brotliCompressSync(data, { params: { [quality]: 11, [hint]: data.length } }));
' "$wasm"
kib() { echo $(($(stat -c %s "$1") / 1024)); }
echo "web viewer in $out: pixfly_bg.wasm $(kib "$wasm") KiB ($(kib "$wasm.gz") KiB gzip, $(kib "$wasm.br") KiB brotli)" >&2
