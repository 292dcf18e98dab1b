#!/usr/bin/env bash
# The default collection: Stellarium's astronomy photographs and historical star-atlas artworks
# (Debian package stellarium-data), unpacked into the cache with a metadata CSV beside them.
# Prints the folder that holds nebulae/, skycultures/ and metadata.csv.
source "$(dirname "$0")/common.sh"
VERSION=0.22.2-1
SHA256=45aaebf39a814acbd6dcccea058c2f5651bcb5635599da03a215feeb51f4d5a5
DEST="$PIXFLY_CACHE/stellarium-data-$VERSION"
if [ ! -f "$DEST/.complete" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    chown _apt "$tmp" 2>/dev/null || true # let apt's unprivileged _apt user write the download
    if ! (cd "$tmp" && apt-get download "stellarium-data=$VERSION" >&2); then
        echo "apt-get download failed; refreshing the package lists and trying again" >&2
        apt-get update -qq >&2
        (cd "$tmp" && apt-get download "stellarium-data=$VERSION" >&2)
    fi
    check_sha256 "$tmp/stellarium-data_${VERSION}_all.deb" "$SHA256"
    dpkg-deb -x "$tmp/stellarium-data_${VERSION}_all.deb" "$tmp/x"
    rm -rf "$DEST" && mkdir -p "$DEST"
    mv "$tmp/x/usr/share/stellarium/nebulae" "$tmp/x/usr/share/stellarium/skycultures" "$DEST/"
    python3 "$(dirname "$0")/stellarium_metadata.py" "$DEST" > "$DEST/metadata.csv"
    touch "$DEST/.complete"
fi
echo "$DEST"
