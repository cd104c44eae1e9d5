"""A per-user Linux menu entry for pip / pipx installs: ``llmcheck --install-desktop-entry``.

Writes exactly two kinds of file, both under the user's XDG data directory
(``$XDG_DATA_HOME``, by default ``~/.local/share``):

* ``applications/llmcheck.desktop``, whose ``Exec=`` is the absolute path of the installed
  ``llmcheck-gui`` (found next to the running interpreter or bundle executable, else on ``PATH``);
* the icon, ``icons/hicolor/<N>x<N>/apps/llmcheck.png`` for each shipped size plus
  ``icons/hicolor/scalable/apps/llmcheck.svg``, copied from ``resources/icons/``.

Desktop menus watch those folders, so no cache command is needed on current desktops. The entry
text follows the freedesktop Desktop Entry Specification 1.0: string escapes, then ``Exec``
quoting (https://specifications.freedesktop.org/desktop-entry-spec/latest/exec-variables.html).
Failures raise :class:`DesktopEntryError` with a message for people; the CLI prints it.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from llmcheck.resources import resource_path

APP_ID = "llmcheck"
DESKTOP_FILE_NAME = f"{APP_ID}.desktop"
GUI_COMMAND = "llmcheck-gui"
# The PNG sizes shipped in resources/icons (packaging/make_icons.py); 256 is llmcheck.png.
ICON_SIZES_PX = (16, 24, 32, 48, 64, 128, 256, 512)
MAIN_ICON_SIZE_PX = 256

# Every key but Exec/TryExec, in file order. packaging/linux/llmcheck.desktop repeats them with
# Exec=llmcheck-gui for system-wide packages; tests/test_desktop_entry.py keeps the two in step.
DESKTOP_KEYS: tuple[tuple[str, str], ...] = (
    ("Type", "Application"),
    ("Version", "1.0"),  # the spec version; desktop-file-validate 0.26 rejects 1.5
    ("Name", "llmcheck"),
    ("GenericName", "LLM Hardware Checker"),
    ("Comment", "Check which Liquid AI LFM2 models this computer can run, and how fast"),
    ("Icon", APP_ID),
    ("Terminal", "false"),
    ("Categories", "Utility;"),  # one main category: the validator warns on two
    ("Keywords", "LLM;LFM2;GPU;VRAM;llama.cpp;GGUF;"),
    ("StartupNotify", "true"),
)

# Characters that force an Exec argument into double quotes (spec, "The Exec key").
_EXEC_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
# Inside double quotes these four need a backslash.
_EXEC_QUOTED_ESCAPES = frozenset('"`$\\')


class DesktopEntryError(Exception):
    """The menu entry could not be written or removed; the message says why and what to do."""


def data_home(*, home: Path, environ: Mapping[str, str]) -> Path:
    """The user's XDG data directory: ``$XDG_DATA_HOME`` if absolute, else ``home/.local/share``.

    The XDG Base Directory spec says a relative ``$XDG_DATA_HOME`` is invalid and must be ignored.
    """
    value = environ.get("XDG_DATA_HOME", "")
    if value and Path(value).is_absolute():
        return Path(value)
    return home / ".local" / "share"


def escape_string(value: str) -> str:
    """Escape a value of type ``string`` for a desktop file (backslash, newline, tab, CR)."""
    return (
        value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    )


def quote_exec_argument(argument: str) -> str:
    """Quote one ``Exec`` argument: double quotes if needed, and ``%`` doubled (field codes).

    The result still needs :func:`escape_string`, as the spec applies that escape first.
    """
    if any(ch in _EXEC_RESERVED for ch in argument):
        inner = "".join("\\" + ch if ch in _EXEC_QUOTED_ESCAPES else ch for ch in argument)
        argument = f'"{inner}"'
    return argument.replace("%", "%%")


def desktop_entry_text(exec_path: Path) -> str:
    """The ``.desktop`` file for the GUI at the absolute path ``exec_path``.

    Raises:
        DesktopEntryError: the path is relative, or holds a control character (a newline in a
            path cannot be written as an ``Exec`` argument that every launcher reads alike).
    """
    text = str(exec_path)
    if not exec_path.is_absolute():
        raise DesktopEntryError(f"the GUI path must be absolute for a menu entry: {text!r}")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise DesktopEntryError(f"the GUI path holds a control character: {text!r}")
    lines = ["[Desktop Entry]"]
    for key, value in DESKTOP_KEYS:
        lines.append(f"{key}={value}")
        if key == "Comment":
            lines.append(f"Exec={escape_string(quote_exec_argument(text))}")
            lines.append(f"TryExec={escape_string(text)}")
    return "\n".join(lines) + "\n"


def find_gui_executable(
    *,
    executable: Path,
    which: Callable[[str], str | None] | None = None,
    windows: bool = sys.platform == "win32",
) -> Path | None:
    """The absolute path of the installed ``llmcheck-gui``, or None if there is none.

    First next to ``executable`` (``sys.executable``): a venv's or pipx's ``bin/`` holds both
    the interpreter and the console scripts, and a PyInstaller bundle holds both executables
    side by side. The path is not resolved, since a venv's ``python`` is a symlink elsewhere.
    Then on ``PATH``.
    """
    name = GUI_COMMAND + (".exe" if windows else "")
    sibling = executable.absolute().parent / name
    if sibling.is_file():
        return sibling
    found = (which or shutil.which)(GUI_COMMAND)  # looked up now: a default arg binds at import
    return Path(found).absolute() if found else None


def _icon_targets(data_dir: Path) -> list[tuple[str, Path]]:
    """(resource file name, destination) for every icon file the entry installs."""
    hicolor = data_dir / "icons" / "hicolor"
    targets = [("llmcheck.svg", hicolor / "scalable" / "apps" / f"{APP_ID}.svg")]
    for size in ICON_SIZES_PX:
        name = "llmcheck.png" if size == MAIN_ICON_SIZE_PX else f"llmcheck-{size}.png"
        targets.append((name, hicolor / f"{size}x{size}" / "apps" / f"{APP_ID}.png"))
    return targets


def installed_paths(data_dir: Path) -> tuple[Path, ...]:
    """Every file :func:`install_desktop_entry` writes under ``data_dir``, the entry first."""
    entry = data_dir / "applications" / DESKTOP_FILE_NAME
    return (entry, *(dest for _name, dest in _icon_targets(data_dir)))


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a sibling temp file, then rename it over ``path``.

    A menu that watches the folder never sees a half-written entry.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_bytes(data)
    temp.replace(path)


def install_desktop_entry(
    *, data_dir: Path | None = None, exec_path: Path | None = None
) -> tuple[Path, ...]:
    """Install the menu entry and its icons for the current user.

    Args:
        data_dir: the XDG data directory; by default :func:`data_home` of this user.
        exec_path: the GUI executable; by default :func:`find_gui_executable`.

    Returns:
        The paths written, the ``.desktop`` file first.

    Raises:
        DesktopEntryError: no GUI executable, a missing icon in the installation, or a folder
            that cannot be written.
    """
    if data_dir is None:
        data_dir = data_home(home=Path.home(), environ=os.environ)
    if exec_path is None:
        exec_path = find_gui_executable(executable=Path(sys.executable))
        if exec_path is None:
            raise DesktopEntryError(
                f"cannot find the {GUI_COMMAND} command next to {sys.executable} or on PATH; "
                "is llmcheck installed with pip or pipx?"
            )
    elif not exec_path.is_file():
        raise DesktopEntryError(f"the GUI executable does not exist: {exec_path}")
    entry_text = desktop_entry_text(exec_path)

    # Read every icon before writing anything, so a broken installation writes nothing.
    icons: list[tuple[bytes, Path]] = []
    for name, dest in _icon_targets(data_dir):
        source = resource_path("icons", name)
        try:
            icons.append((source.read_bytes(), dest))
        except OSError as exc:
            raise DesktopEntryError(
                f"the icon {name} is missing from this installation ({exc}); reinstall llmcheck"
            ) from exc

    entry = data_dir / "applications" / DESKTOP_FILE_NAME
    written: list[Path] = []
    for data, dest in [(entry_text.encode("utf-8"), entry), *icons]:
        try:
            _write_atomically(dest, data)
        except OSError as exc:
            raise DesktopEntryError(f"cannot write {dest}: {exc.strerror or exc}") from exc
        written.append(dest)
    return tuple(written)


def uninstall_desktop_entry(*, data_dir: Path | None = None) -> tuple[Path, ...]:
    """Remove what :func:`install_desktop_entry` wrote; files already gone are not an error.

    Returns:
        The paths removed.

    Raises:
        DesktopEntryError: a file that exists could not be removed.
    """
    if data_dir is None:
        data_dir = data_home(home=Path.home(), environ=os.environ)
    removed: list[Path] = []
    for path in installed_paths(data_dir):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise DesktopEntryError(f"cannot remove {path}: {exc.strerror or exc}") from exc
        removed.append(path)
    return tuple(removed)
