#!/usr/bin/env bash
# Every test: formatting, lints, the wasm builds of the bundle reader and the web viewer, unit and
# end-to-end tests (the desktop viewer's on the CPU: Mesa lavapipe under Xvfb; the web viewer's
# in Debian's Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-test-data.sh >/dev/null
scripts/install-viewer-deps.sh
rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo check -p pixfly-core --no-default-features --target wasm32-unknown-unknown --locked
scripts/build-web.sh
[ -d web/node_modules/playwright-core ] || npm ci --prefix web --no-audit --no-fund --silent
cargo test --workspace --locked
