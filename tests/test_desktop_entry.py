"""The per-user menu entry: Exec quoting per the Desktop Entry spec, file writes, removal."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmcheck import desktop_entry
from llmcheck.desktop_entry import (
    DESKTOP_KEYS,
    DesktopEntryError,
    data_home,
    desktop_entry_text,
    escape_string,
    find_gui_executable,
    install_desktop_entry,
    installed_paths,
    quote_exec_argument,
    uninstall_desktop_entry,
)
from llmcheck.resources import resource_path

REPO = Path(__file__).resolve().parent.parent
STATIC_ENTRY = REPO / "packaging" / "linux" / "llmcheck.desktop"


# An independent reader of the two escaping layers, written from the spec's text, so that the
# writer's output is checked by reading it back rather than against a copy of its own rules.
def _unescape_string(value: str) -> str:
    out, i = [], 0
    table = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value) and value[i + 1] in table:
            out.append(table[value[i + 1]])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _split_exec(value: str) -> list[str]:
    """Split an Exec value (already string-unescaped) into arguments, as a launcher does."""
    args: list[str] = []
    i, current, in_arg = 0, [], False
    while i < len(value):
        ch = value[i]
        if ch == '"':
            in_arg = True
            i += 1
            while value[i] != '"':
                # Launchers (GLib, KIO) expand %-codes over the whole line, quoted or not.
                pair = value[i : i + 2]
                if pair in ('\\"', "\\`", "\\$", "\\\\", "%%"):
                    i += 1
                current.append(value[i])
                i += 1
            i += 1
        elif ch == " ":
            if in_arg:
                args.append("".join(current))
            current, in_arg = [], False
            i += 1
        elif ch == "%":
            assert value[i + 1] == "%", "a lone % would be a field code"
            current.append("%")
            in_arg = True
            i += 2
        else:
            current.append(ch)
            in_arg = True
            i += 1
    if in_arg:
        args.append("".join(current))
    return args


def _parse_entry(text: str) -> dict[str, str]:
    lines = text.splitlines()
    assert lines[0] == "[Desktop Entry]"
    pairs = [line.split("=", 1) for line in lines[1:] if line and not line.startswith("#")]
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), "a key appears twice"
    return dict(pairs)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- XDG data home ---------------------------------------------------------------------------


def test_data_home_follows_an_absolute_xdg_data_home(tmp_path: Path) -> None:
    assert data_home(home=tmp_path, environ={"XDG_DATA_HOME": "/x/data"}) == Path("/x/data")


@pytest.mark.parametrize("environ", [{}, {"XDG_DATA_HOME": ""}, {"XDG_DATA_HOME": "rel/data"}])
def test_data_home_defaults_to_local_share(tmp_path: Path, environ: dict[str, str]) -> None:
    """Unset, empty and relative XDG_DATA_HOME all mean ~/.local/share (the XDG spec)."""
    assert data_home(home=tmp_path, environ=environ) == tmp_path / ".local" / "share"


# --- Exec quoting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "exec_value"),
    [
        ("/opt/llmcheck/llmcheck-gui", "/opt/llmcheck/llmcheck-gui"),
        ("/home/a b/llmcheck-gui", '"/home/a b/llmcheck-gui"'),
        ("/srv/100%/llmcheck-gui", "/srv/100%%/llmcheck-gui"),
        ("/srv/a b/100%/x", '"/srv/a b/100%%/x"'),
        ("/srv/$HOME/x", '"/srv/\\\\$HOME/x"'),
        ('/srv/"q"/x', '"/srv/\\\\"q\\\\"/x"'),
        # A literal backslash in a quoted argument is four backslashes in the file (spec).
        ("/srv/a\\b/x", '"/srv/a\\\\\\\\b/x"'),
    ],
)
def test_exec_line_quotes_and_escapes_as_the_spec_says(path: str, exec_value: str) -> None:
    entry = _parse_entry(desktop_entry_text(Path(path)))
    assert entry["Exec"] == exec_value
    assert _split_exec(_unescape_string(entry["Exec"])) == [path]


@given(
    st.lists(
        st.text(
            alphabet=st.characters(
                min_codepoint=0x20,
                max_codepoint=0x2FF,
                exclude_categories=("Cc", "Cs"),
                exclude_characters="/",
            ),
            min_size=1,
            max_size=12,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_printable_path_reads_back_as_one_argument(parts: list[str]) -> None:
    """Whatever the folder names, a launcher splits Exec back into exactly the GUI path."""
    path = "/" + "/".join(parts)
    entry = _parse_entry(desktop_entry_text(Path(path)))
    assert _split_exec(_unescape_string(entry["Exec"])) == [str(Path(path))]
    assert _unescape_string(entry["TryExec"]) == str(Path(path))


def test_quote_exec_argument_leaves_plain_paths_alone() -> None:
    assert quote_exec_argument("/usr/bin/llmcheck-gui") == "/usr/bin/llmcheck-gui"
    assert escape_string("a\\b\nc") == "a\\\\b\\nc"


@pytest.mark.parametrize("bad", ["llmcheck-gui", "bin/llmcheck-gui", "/opt/a\nb/gui"])
def test_relative_or_control_character_paths_are_refused(bad: str) -> None:
    with pytest.raises(DesktopEntryError, match="GUI path"):
        desktop_entry_text(Path(bad))


def test_entry_keys_match_the_static_file_for_system_packages() -> None:
    """packaging/linux/llmcheck.desktop differs from the generated entry only in Exec/TryExec."""
    static = _parse_entry(STATIC_ENTRY.read_text(encoding="utf-8"))
    generated = _parse_entry(desktop_entry_text(Path("/opt/llmcheck/llmcheck-gui")))
    assert static.pop("Exec") == "llmcheck-gui"
    assert static.pop("TryExec") == "llmcheck-gui"
    assert generated.pop("Exec") == generated.pop("TryExec") == "/opt/llmcheck/llmcheck-gui"
    assert static == generated == dict(DESKTOP_KEYS)


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils")
@pytest.mark.parametrize("path", ["/opt/llmcheck/llmcheck-gui", "/home/a b/$x/100%/llmcheck-gui"])
def test_generated_entry_passes_desktop_file_validate(tmp_path: Path, path: str) -> None:
    entry = tmp_path / "llmcheck.desktop"
    entry.write_text(desktop_entry_text(Path(path)), encoding="utf-8")
    result = subprocess.run(
        ["desktop-file-validate", str(entry)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


# --- finding llmcheck-gui --------------------------------------------------------------------


def _fake_bin(tmp_path: Path, *names: str) -> Path:
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in names:
        (bin_dir / name).write_text("#!/bin/sh\n", encoding="utf-8")
    return bin_dir


def _no_which(_name: str) -> str | None:
    return None


def test_gui_is_found_next_to_the_interpreter(tmp_path: Path) -> None:
    """A venv/pipx bin/ (or a bundle folder) holds the interpreter and llmcheck-gui side by side."""
    bin_dir = _fake_bin(tmp_path, "python", "llmcheck-gui")
    found = find_gui_executable(executable=bin_dir / "python", which=_no_which, windows=False)
    assert found == bin_dir / "llmcheck-gui"


def test_windows_looks_for_the_exe(tmp_path: Path) -> None:
    bin_dir = _fake_bin(tmp_path, "python.exe", "llmcheck-gui.exe", "llmcheck-gui")
    found = find_gui_executable(executable=bin_dir / "python.exe", which=_no_which, windows=True)
    assert found == bin_dir / "llmcheck-gui.exe"


def test_gui_falls_back_to_path_then_none(tmp_path: Path) -> None:
    bin_dir = _fake_bin(tmp_path, "python")
    on_path = {"llmcheck-gui": "/usr/local/bin/llmcheck-gui"}
    found = find_gui_executable(executable=bin_dir / "python", which=on_path.get, windows=False)
    assert found == Path("/usr/local/bin/llmcheck-gui")
    assert find_gui_executable(executable=bin_dir / "python", which=_no_which) is None


def test_install_without_a_gui_command_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = _fake_bin(tmp_path, "python")
    monkeypatch.setattr(desktop_entry.sys, "executable", str(bin_dir / "python"))
    monkeypatch.setattr(desktop_entry.shutil, "which", _no_which)
    with pytest.raises(DesktopEntryError, match="cannot find the llmcheck-gui command"):
        install_desktop_entry(data_dir=tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_install_finds_the_gui_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = _fake_bin(tmp_path, "python", "llmcheck-gui")
    monkeypatch.setattr(desktop_entry.sys, "executable", str(bin_dir / "python"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    written = install_desktop_entry()
    entry = tmp_path / "home" / ".local" / "share" / "applications" / "llmcheck.desktop"
    assert written[0] == entry
    assert _parse_entry(entry.read_text(encoding="utf-8"))["Exec"] == str(bin_dir / "llmcheck-gui")


# --- install / uninstall ---------------------------------------------------------------------


@pytest.fixture
def gui(tmp_path: Path) -> Path:
    return _fake_bin(tmp_path, "llmcheck-gui") / "llmcheck-gui"


def test_install_writes_the_entry_and_every_icon_size(tmp_path: Path, gui: Path) -> None:
    data = tmp_path / "data"
    written = install_desktop_entry(data_dir=data, exec_path=gui)

    assert written == installed_paths(data)
    entry = _parse_entry((data / "applications" / "llmcheck.desktop").read_text(encoding="utf-8"))
    assert entry["Exec"] == entry["TryExec"] == str(gui)
    assert entry["Icon"] == "llmcheck"
    svg = data / "icons" / "hicolor" / "scalable" / "apps" / "llmcheck.svg"
    assert svg.read_bytes() == resource_path("icons", "llmcheck.svg").read_bytes()
    pngs = sorted((data / "icons" / "hicolor").glob("*x*/apps/llmcheck.png"))
    assert len(pngs) == len(desktop_entry.ICON_SIZES_PX)
    for png in pngs:
        size = int(png.parent.parent.name.split("x")[0])
        assert _png_size(png) == (size, size), png
    # Only the entry and icons: nothing else appears in the data folder.
    files = {p for p in data.rglob("*") if p.is_file()}
    assert files == set(written)


def test_install_twice_is_the_same_as_once(tmp_path: Path, gui: Path) -> None:
    first = install_desktop_entry(data_dir=tmp_path, exec_path=gui)
    contents = {p: p.read_bytes() for p in first}
    assert install_desktop_entry(data_dir=tmp_path, exec_path=gui) == first
    assert {p: p.read_bytes() for p in first} == contents


def test_install_refuses_a_missing_gui_path(tmp_path: Path) -> None:
    with pytest.raises(DesktopEntryError, match="does not exist"):
        install_desktop_entry(data_dir=tmp_path / "d", exec_path=tmp_path / "nope" / "gui")
    assert not (tmp_path / "d").exists()


def test_unwritable_folder_gives_a_message_naming_it(tmp_path: Path, gui: Path) -> None:
    (tmp_path / "applications").write_text("a file where a folder should be", encoding="utf-8")
    with pytest.raises(DesktopEntryError, match=r"cannot write .*applications"):
        install_desktop_entry(data_dir=tmp_path, exec_path=gui)


def test_missing_icon_in_the_installation_writes_nothing(
    tmp_path: Path, gui: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken install (icons/ without llmcheck-48.png) fails before touching the menu."""
    broken = tmp_path / "resources"
    shutil.copytree(REPO / "resources" / "icons", broken / "icons")
    (broken / "icons" / "llmcheck-48.png").unlink()

    def from_broken(*parts: str) -> Path:
        return broken.joinpath(*parts)

    monkeypatch.setattr(desktop_entry, "resource_path", from_broken)
    with pytest.raises(DesktopEntryError, match=r"llmcheck-48\.png is missing"):
        install_desktop_entry(data_dir=tmp_path / "data", exec_path=gui)
    assert not (tmp_path / "data").exists()


def test_uninstall_removes_exactly_what_install_wrote(tmp_path: Path, gui: Path) -> None:
    data = tmp_path / "data"
    other_entry = data / "applications" / "other.desktop"
    other_icon = data / "icons" / "hicolor" / "48x48" / "apps" / "other.png"
    for path in (other_entry, other_icon):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("not ours", encoding="utf-8")

    written = install_desktop_entry(data_dir=data, exec_path=gui)
    assert uninstall_desktop_entry(data_dir=data) == written
    assert not any(p.exists() for p in written)
    assert other_entry.read_text(encoding="utf-8") == "not ours"
    assert other_icon.read_text(encoding="utf-8") == "not ours"
    assert uninstall_desktop_entry(data_dir=data) == ()


def test_uninstall_that_cannot_remove_says_which_file(tmp_path: Path) -> None:
    """A folder where our entry file should be cannot be unlinked: a message, not a traceback."""
    (tmp_path / "applications" / "llmcheck.desktop").mkdir(parents=True)
    with pytest.raises(DesktopEntryError, match=r"cannot remove .*llmcheck\.desktop"):
        uninstall_desktop_entry(data_dir=tmp_path)
