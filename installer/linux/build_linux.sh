#!/usr/bin/env bash
# Packs the Linux one-file builds into dist/forge-<version>-linux-<arch>.tar.gz:
#   forge-<version>-linux-<arch>/
#     forge                   CLI, hub and headless agent
#     forge-desktop           tray app (when it was built)
#     forge-desktop.desktop   menu entry
#     forge-desktop.png       icon
#     install.sh              copies the above into ~/.local (optional)
# Usage, from anywhere:
#   installer/linux/build_linux.sh [--build] [DIST_DIR [OUT_DIR]]
# --build runs PyInstaller on both specs first; DIST_DIR defaults to ./dist.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
BUILD=0
if [ "${1:-}" = "--build" ]; then BUILD=1; shift; fi
DIST="$(realpath -m "${1:-$ROOT/dist}")"
OUT="$(realpath -m "${2:-$DIST}")"

if [ "$BUILD" = 1 ]; then
  for spec in forge.spec forge-desktop.spec; do
    (cd "$ROOT" && "$PYTHON" -m PyInstaller --noconfirm --distpath "$DIST" --workpath "$ROOT/build" "installer/$spec")
  done
fi
if [ ! -f "$DIST/forge" ]; then
  echo "build_linux.sh: $DIST/forge not found; build it with: pyinstaller installer/forge.spec" >&2
  exit 1
fi

VERSION="$("$PYTHON" "$ROOT/installer/buildinfo.py" version)"
NAME="forge-$VERSION-linux-$(uname -m)"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
PKG="$STAGE/$NAME"
mkdir -p "$PKG" "$OUT"

install -m 755 "$DIST/forge" "$PKG/forge"
if [ -f "$DIST/forge-desktop" ]; then
  install -m 755 "$DIST/forge-desktop" "$PKG/forge-desktop"
  LAUNCH='["forge-desktop"]'
else
  LAUNCH='["forge", "desktop"]'
fi
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -c "
import json, sys
from forge_desktop.startup.autostart import application_entry
sys.stdout.write(application_entry(json.loads(sys.argv[1])))" "$LAUNCH" > "$PKG/forge-desktop.desktop"
chmod 644 "$PKG/forge-desktop.desktop"
install -m 644 "$ROOT/forge_desktop/resources/forge.png" "$PKG/forge-desktop.png"
install -m 755 "$ROOT/installer/linux/install.sh" "$PKG/install.sh"

tar -C "$STAGE" --owner=0 --group=0 --numeric-owner --sort=name -czf "$OUT/$NAME.tar.gz" "$NAME"
echo "$OUT/$NAME.tar.gz"
