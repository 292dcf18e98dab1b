#!/usr/bin/env bash
# Makes assets/fonts/fallback.ttf, the face the viewer falls back to for letters its own
# (Ubuntu Light) lacks: Arabic and Hebrew with Arabic's joined presentation forms, and the
# transliteration marks of Latin Extended Additional (ṣ, ṭ, ʿ…). A subset of DejaVu Sans from
# Debian's fonts-dejavu-core, made with fontTools from PyPI, both pinned. The result is
# committed (the build embeds it); run this only to change the letters it covers.
set -euo pipefail
cd "$(dirname "$0")/.."
deb_version=2.37-6
deb_sha256=8892669e51aab4dc56682c8e39d8ddb7d70fad83c369344e1e240bf3ca22bb76
fonttools=4.60.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download "fonts-dejavu-core=$deb_version" 2>/dev/null)
echo "$deb_sha256  $work/fonts-dejavu-core_${deb_version}_all.deb" | sha256sum -c --quiet
dpkg-deb -x "$work/fonts-dejavu-core_${deb_version}_all.deb" "$work/deb"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "fonttools==$fonttools"
# Glyphs only: egui reads the character map and outlines, not the layout tables.
"$work/venv/bin/pyftsubset" "$work/deb/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf" \
    --unicodes="U+0250-036F,U+0590-05FF,U+0600-06FF,U+1E00-1EFF,U+FB1D-FB4F,U+FB50-FDFF,U+FE70-FEFF" \
    --layout-features='' --no-hinting --output-file=assets/fonts/fallback.ttf
cp "$work/deb/usr/share/doc/fonts-dejavu-core/copyright" assets/fonts/fallback-LICENSE.txt
sha256sum assets/fonts/fallback.ttf
