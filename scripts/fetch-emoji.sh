#!/usr/bin/env bash
# Google's emoji (3,786 PNGs, 64 px) with their categories, from npm, for measuring how well
# layouts group similar images. Prints a folder holding `64/` (the images) and `categories.csv`
# (filename,category: pixfly's metadata format).
source "$(dirname "$0")/common.sh"
VERSION=16.0.0
DEST="$PIXFLY_CACHE/emoji-google-$VERSION"
if [ ! -f "$DEST/.complete" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    fetch_npm emoji-datasource-google "$VERSION" fb5fd131b362aab7a55542d2a147a79708cce0a8b1c1bbacd470172708b5c438 "$tmp"
    rm -rf "$DEST" && mkdir -p "$DEST"
    mv "$tmp/package/img/google/64" "$DEST/64"
    python3 - "$tmp/package/emoji.json" "$DEST/categories.csv" <<'PY'
import csv, json, sys
emoji = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w", newline="") as out:
    writer = csv.writer(out)
    writer.writerow(["filename", "category"])
    for e in emoji:
        # Skin-tone variants belong to their base emoji's category.
        for image in [e["image"]] + [v["image"] for v in e.get("skin_variations", {}).values()]:
            writer.writerow([image, e["category"]])
PY
    touch "$DEST/.complete"
fi
echo "$DEST"
