#!/bin/sh
# Add llmcheck to this user's application menu (no root needed): writes
#   $XDG_DATA_HOME/applications/llmcheck.desktop   (default ~/.local/share/...)
#   $XDG_DATA_HOME/icons/hicolor/<size>/apps/llmcheck.{png,svg}
# pointing at the llmcheck-gui next to this script. Run it again after moving the folder.
#   ./install.sh --uninstall   removes those files again.
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
data=${XDG_DATA_HOME:-}
case "$data" in
    /*) ;;
    *) data="$HOME/.local/share" ;;  # unset or relative: the XDG default
esac
apps="$data/applications"
hicolor="$data/icons/hicolor"
icons="$here/_internal/llmcheck/resources/icons"
sizes="16 24 32 48 64 128 256 512"

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$apps/llmcheck.desktop" "$hicolor/scalable/apps/llmcheck.svg"
    for size in $sizes; do rm -f "$hicolor/${size}x${size}/apps/llmcheck.png"; done
    echo "llmcheck removed from the application menu."
    exit 0
fi

gui="$here/llmcheck-gui"
if [ ! -x "$gui" ]; then
    echo "install.sh: $gui is missing; unpack the whole llmcheck folder again." >&2
    exit 1
fi
# Exec= takes the path in double quotes; these characters would need escapes that not every
# launcher reads alike, so refuse them rather than write an entry that may not start.
case "$gui" in
    *'"'* | *'`'* | *'$'* | *'\'* | *'%'*)
        echo "install.sh: move the llmcheck folder to a path without \" \` \$ \\ or %: $here" >&2
        exit 1 ;;
esac

mkdir -p "$apps" "$hicolor/scalable/apps"
cp "$icons/llmcheck.svg" "$hicolor/scalable/apps/llmcheck.svg"
for size in $sizes; do
    name="llmcheck-$size.png"
    [ "$size" = 256 ] && name="llmcheck.png"
    mkdir -p "$hicolor/${size}x${size}/apps"
    cp "$icons/$name" "$hicolor/${size}x${size}/apps/llmcheck.png"
done
tmp="$apps/.llmcheck.desktop.tmp"
sed_gui=$(printf '%s' "$gui" | sed 's/[&|]/\\&/g')  # & and | are special in the s||| below
sed -e "s|^Exec=.*|Exec=\"$sed_gui\"|" -e "s|^TryExec=.*|TryExec=$sed_gui|" \
    "$here/share/llmcheck.desktop" > "$tmp"
mv "$tmp" "$apps/llmcheck.desktop"
echo "llmcheck added to the application menu ($apps/llmcheck.desktop)."
