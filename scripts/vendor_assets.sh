#!/usr/bin/env bash
# Fetch the pinned front-end assets from the npm registry and copy the minified files, with
# their licences, into src/cible/static/vendor/<package>/. The result is committed: the app
# never reaches a CDN or npm at run time (customers run it on intranets).
#
# Usage: scripts/vendor_assets.sh        (re-run after changing a version below)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/src/cible/static/vendor"

command -v npm >/dev/null || { echo "vendor_assets: npm is missing (apt-get install -y npm)" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# fetch NAME VERSION -> prints the directory holding the unpacked package
fetch() {
    local name="$1" version="$2" dir="$WORK/$1"
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$name@$version" >/dev/null)
    tar -xzf "$dir"/*.tgz -C "$dir"
    echo "$dir/package"
}

# copy SRC_DIR DEST_SUBDIR FILE... : copies FILE (relative to SRC_DIR) to DEST/DEST_SUBDIR/FILE's basename
copy_flat() {
    local src="$1" sub="$2"; shift 2
    mkdir -p "$DEST/$sub"
    for f in "$@"; do
        [[ -f "$src/$f" ]] || { echo "vendor_assets: $src/$f not found in the package" >&2; exit 1; }
        cp "$src/$f" "$DEST/$sub/"
    done
}

licence() {
    local src="$1" sub="$2" f
    for f in LICENSE LICENSE.md LICENSE.txt LICENCE; do
        if [[ -f "$src/$f" ]]; then cp "$src/$f" "$DEST/$sub/LICENSE"; return; fi
    done
    echo "vendor_assets: no licence file in $src" >&2; exit 1
}

rm -rf "$DEST"/{bootstrap,bootstrap-icons,htmx,echarts,sortablejs}
mkdir -p "$DEST"

echo "== bootstrap 5.3.8"
p="$(fetch bootstrap 5.3.8)"
copy_flat "$p" bootstrap dist/css/bootstrap.min.css dist/js/bootstrap.bundle.min.js
licence "$p" bootstrap

echo "== bootstrap-icons 1.13.1"
p="$(fetch bootstrap-icons 1.13.1)"
copy_flat "$p" bootstrap-icons font/bootstrap-icons.min.css
mkdir -p "$DEST/bootstrap-icons/fonts"
cp "$p"/font/fonts/*.woff2 "$p"/font/fonts/*.woff "$DEST/bootstrap-icons/fonts/"
licence "$p" bootstrap-icons

echo "== htmx.org 2.0.7"
p="$(fetch htmx.org 2.0.7)"
copy_flat "$p" htmx dist/htmx.min.js
licence "$p" htmx

echo "== echarts 5.6.0"
p="$(fetch echarts 5.6.0)"
copy_flat "$p" echarts dist/echarts.min.js
licence "$p" echarts
# Apache-2.0 asks for the NOTICE file to travel with the work.
[[ -f "$p/NOTICE" ]] && cp "$p/NOTICE" "$DEST/echarts/NOTICE"

echo "== sortablejs 1.15.6"
p="$(fetch sortablejs 1.15.6)"
copy_flat "$p" sortablejs Sortable.min.js
licence "$p" sortablejs

echo "vendor_assets: done, files in ${DEST#"$ROOT"/}"
(cd "$DEST" && find . -type f ! -name README.md | sort)
