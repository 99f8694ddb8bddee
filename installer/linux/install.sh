#!/bin/sh
# Copies Forge into ~/.local: binaries to ~/.local/bin, the menu entry and the icon
# to ~/.local/share. Run from the unpacked folder. Nothing here needs root.
set -eu
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
mkdir -p "$HOME/.local/bin" "$DATA/applications" "$DATA/icons/hicolor/256x256/apps"
for bin in forge forge-desktop; do
  [ -f "$HERE/$bin" ] && install -m 755 "$HERE/$bin" "$HOME/.local/bin/$bin"
done
install -m 644 "$HERE/forge-desktop.png" "$DATA/icons/hicolor/256x256/apps/forge-desktop.png"
sed "s|^Exec=\([^ ]*\)|Exec=$HOME/.local/bin/\1|" "$HERE/forge-desktop.desktop" > "$DATA/applications/forge-desktop.desktop"
echo "installed into $HOME/.local (make sure $HOME/.local/bin is on your PATH)"
