#!/usr/bin/env bash
# Build the Linux one-folder app and its tarball:
#   dist/llmcheck/                                   llmcheck-gui, llmcheck, install.sh, README.txt
#   dist/llmcheck-<version>-linux-<arch>.tar.gz
# Needs PyInstaller in the build interpreter:  .venv/bin/pip install -e ".[packaging]"
# PYTHON=... picks the interpreter (default .venv/bin/python). The bundle carries the build
# machine's glibc-linked libraries: build on the oldest distribution you want to support.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    echo "build_linux.sh: PyInstaller is missing; run: $PYTHON -m pip install -e '.[packaging]'" >&2
    exit 2
fi
version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' llmcheck/__init__.py)
arch=$(uname -m)
app=dist/llmcheck
tarball="dist/llmcheck-$version-linux-$arch.tar.gz"

start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/llmcheck.spec

# Double-click helpers next to the executables.
mkdir -p "$app/share"
cp packaging/linux/llmcheck.desktop packaging/linux/io.github.llmcheck.metainfo.xml "$app/share/"
cp packaging/linux/install.sh "$app/install.sh"
cp packaging/linux/README.txt "$app/README.txt"
chmod +x "$app/install.sh"

rm -f "$tarball"
tar -C dist -czf "$tarball" llmcheck
end=$(date +%s)

echo "build_linux.sh: built in $((end - start)) s"
echo "build_linux.sh: $(du -sh "$app" | cut -f1) $app ($(du -sb "$app" | cut -f1) bytes)"
echo "build_linux.sh: $(du -sh "$tarball" | cut -f1) $tarball ($(stat -c %s "$tarball") bytes)"
