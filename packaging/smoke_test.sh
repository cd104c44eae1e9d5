#!/usr/bin/env bash
# Build the Linux bundle and prove it works from its tarball, outside the source tree:
#   1. build (packaging/build_linux.sh; skip with --no-build to test dist/ as it is)
#   2. unpack the tarball into a temp folder; run with a bare environment (no venv, no PYTHONPATH)
#   3. llmcheck --json: exit 0, valid against resources/json-schema/llmcheck-report.schema.json
#   4. llmcheck-gui --smoke-test offscreen: exit 0 after the first paint
#   5. install.sh / install.sh --uninstall into a temp HOME; the .desktop passes
#      desktop-file-validate and the metainfo appstreamcli (each when installed)
#   6. the bundle holds the resources and no NVML library
# Any missing module or data file (ModuleNotFoundError, "No such file", a missing shared library)
# on stderr fails the test; so does any traceback from llmcheck --json. A GUI traceback that
# names no missing file is printed as a warning (threads racing the smoke test's quick exit). PYTHON (default .venv/bin/python, with jsonschema)
# validates the JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd -P)
PYTHON=${PYTHON:-.venv/bin/python}
version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' llmcheck/__init__.py)
tarball="dist/llmcheck-$version-linux-$(uname -m).tar.gz"

fail() { echo "smoke_test: FAIL: $*" >&2; exit 1; }
step() { echo "smoke_test: $*"; }
now_ms() { date +%s%3N; }
# Errors that mean the bundle lacks something; the GUI's harmless offscreen warning
# ("This plugin does not support propagateSizeHints()") does not match.
missing='ModuleNotFoundError|No module named|ImportError|FileNotFoundError|No such file|cannot open shared object|Could not load the Qt platform plugin|CatalogError'
check_stderr() {
    if grep -E -i "$missing" "$1"; then
        fail "$2 reported a missing module, library or file (above)"
    fi
    if grep -q Traceback "$1"; then
        if [ "$3" = strict ]; then fail "$2 printed a traceback"; fi
        echo "smoke_test: WARNING: $2 printed a traceback (not a missing file; see above)" >&2
    fi
}

if [ "${1:-}" != "--no-build" ]; then
    t0=$(now_ms)
    packaging/build_linux.sh
    step "build: $(( ($(now_ms) - t0) / 1000 )) s"
fi
[ -f "$tarball" ] || fail "no $tarball (build first)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xzf "$tarball"
app="$work/llmcheck"
home="$work/home"
mkdir -p "$home"
# What a double-click gets: no venv, no PYTHONPATH, no display beyond offscreen.
bare=(env -i "HOME=$home" "PATH=/usr/bin:/bin" "LANG=C.UTF-8")

step "bundle: $(du -sh "$app" | cut -f1), tarball $(du -sh "$tarball" | cut -f1)"
for f in catalog json-schema/llmcheck-report.schema.json icons/llmcheck.svg icons/llmcheck.png; do
    [ -e "$app/_internal/llmcheck/resources/$f" ] || fail "resources/$f is not in the bundle"
done
if find "$app" -iname '*nvidia-ml*' -o -iname 'nvml*' | grep .; then
    fail "an NVML library is bundled (above); it must come from the user's driver"
fi

t0=$(now_ms)
rc=0
"${bare[@]}" "$app/llmcheck" --json >"$work/report.json" 2>"$work/cli.err" || rc=$?
step "llmcheck --json: exit $rc in $(( $(now_ms) - t0 )) ms"
cat "$work/cli.err" >&2
[ "$rc" = 0 ] || fail "llmcheck --json exited $rc"
check_stderr "$work/cli.err" "llmcheck --json" strict
"$PYTHON" - "$work/report.json" "$repo/resources/json-schema/llmcheck-report.schema.json" <<'PY' || fail "the JSON report does not match the schema"
import json
import sys

import jsonschema

report = json.load(open(sys.argv[1], encoding="utf-8"))
schema = json.load(open(sys.argv[2], encoding="utf-8"))
jsonschema.validators.validator_for(schema)(schema).validate(report)
assert report["schema_version"] == "1", report["schema_version"]
print(f"smoke_test: JSON valid: schema_version 1, {len(report.get('models', []))} models")
PY

t0=$(now_ms)
rc=0
"${bare[@]}" QT_QPA_PLATFORM=offscreen timeout 120 "$app/llmcheck-gui" --smoke-test \
    >"$work/gui.out" 2>"$work/gui.err" || rc=$?
step "llmcheck-gui --smoke-test: exit $rc in $(( $(now_ms) - t0 )) ms"
cat "$work/gui.out" "$work/gui.err" >&2
[ "$rc" = 0 ] || fail "llmcheck-gui --smoke-test exited $rc"
check_stderr "$work/gui.err" "llmcheck-gui" lenient

"${bare[@]}" "$app/install.sh" >/dev/null
entry="$home/.local/share/applications/llmcheck.desktop"
[ -f "$entry" ] || fail "install.sh wrote no $entry"
grep -qxF "Exec=\"$app/llmcheck-gui\"" "$entry" || fail "Exec= in $entry is not the bundle's GUI"
[ -f "$home/.local/share/icons/hicolor/256x256/apps/llmcheck.png" ] || fail "install.sh wrote no icon"
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$entry" || fail "desktop-file-validate rejects $entry"
fi
if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net "$app/share/io.github.llmcheck.metainfo.xml" >/dev/null \
        || fail "appstreamcli rejects the metainfo"
fi
"${bare[@]}" "$app/install.sh" --uninstall >/dev/null
left=$(find "$home/.local/share" -type f | wc -l)
[ "$left" = 0 ] || fail "install.sh --uninstall left $left files"
step "install.sh / --uninstall: ok"
step "PASS"
