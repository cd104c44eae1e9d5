"""One display check for `llmcheck` and `llmcheck-gui` (issue #13 item 4, issue #9 §4).

A stale DISPLAY or WAYLAND_DISPLAY must never reach Qt, which aborts the process (SIGABRT, exit
134, no report). The decision table is tested with a fake knock; the real entry points are run
in subprocesses against a display that does not answer and, when Xvfb is installed, one that does.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmcheck.display import check_display, socket_answers

SNAPSHOT = Path(__file__).resolve().parent / "data" / "snapshots" / "cpu-laptop.json"


def knock_list(answering: set[object]):
    """A fake knock: records each address tried; only those in ``answering`` accept."""
    tried: list[object] = []

    def knock(_family: int, address: object) -> bool:
        tried.append(address)
        return address in answering

    return knock, tried


def loads(_name: str) -> str | None:
    """A fake plugin check: every Qt plugin loads."""
    return None


@pytest.mark.parametrize("platform", ["darwin", "win32", "cygwin"])
def test_macos_and_windows_always_have_a_window_server(platform: str) -> None:
    found = check_display({}, platform, connect=knock_list(set())[0], plugin_problem=loads)
    assert found.shows_a_window
    assert found.platform is None


def test_nothing_named_is_no_display_and_not_a_stale_one() -> None:
    found = check_display({}, "linux", connect=knock_list(set())[0], plugin_problem=loads)
    assert not found.usable
    assert found.problem is not None
    assert "no display found" in found.problem
    assert not found.named


def test_a_local_x_display_is_knocked_on_its_unix_socket() -> None:
    knock, tried = knock_list({"/tmp/.X11-unix/X7"})
    found = check_display({"DISPLAY": ":7.0"}, "linux", connect=knock, plugin_problem=loads)
    assert found.shows_a_window
    assert found.platform == "xcb"
    assert "/tmp/.X11-unix/X7" in tried


def test_a_stale_local_x_display_is_a_problem_naming_it() -> None:
    knock, tried = knock_list(set())
    found = check_display({"DISPLAY": ":99"}, "linux", connect=knock, plugin_problem=loads)
    assert not found.usable
    assert found.named
    assert found.problem is not None
    assert "DISPLAY=:99" in found.problem
    assert "/tmp/.X11-unix/X99" in found.problem
    # libxcb's fallback for a local display: TCP on localhost, port 6000 + 99.
    assert any(isinstance(a, tuple) and a[1] == 6099 for a in tried)


def test_a_forwarded_x_display_is_knocked_on_its_tcp_port() -> None:
    knock, tried = knock_list({("127.0.0.1", 6010)})
    found = check_display(
        {"DISPLAY": "localhost:10.0"}, "linux", connect=knock, plugin_problem=loads
    )
    assert found.shows_a_window
    assert ("127.0.0.1", 6010) in tried
    assert not any(isinstance(a, str) for a in tried)  # no Unix socket for a named host


@pytest.mark.parametrize("value", ["garbage", ":x", ":99999999", "\x1b[31m:0"])
def test_a_malformed_display_is_a_problem_not_a_crash(value: str) -> None:
    found = check_display(
        {"DISPLAY": value}, "linux", connect=knock_list(set())[0], plugin_problem=loads
    )
    assert not found.usable
    assert found.problem is not None
    assert "\x1b" not in found.problem


def test_wayland_socket_under_the_runtime_dir(tmp_path: Path) -> None:
    path = tmp_path / "wayland-1"
    path.touch()
    knock, tried = knock_list({str(path)})
    env = {"WAYLAND_DISPLAY": "wayland-1", "XDG_RUNTIME_DIR": str(tmp_path)}
    found = check_display(env, "linux", connect=knock, plugin_problem=loads)
    assert found.platform == "wayland"
    assert tried == [str(path)]


def test_a_missing_wayland_socket_falls_back_to_a_live_x_display(tmp_path: Path) -> None:
    knock, _tried = knock_list({"/tmp/.X11-unix/X0"})
    env = {"WAYLAND_DISPLAY": "wayland-9", "XDG_RUNTIME_DIR": str(tmp_path), "DISPLAY": ":0"}
    found = check_display(env, "linux", connect=knock, plugin_problem=loads)
    assert found.platform == "xcb"  # handed to Qt, so it does not try the dead compositor


def test_a_missing_wayland_socket_alone_is_a_problem(tmp_path: Path) -> None:
    env = {"WAYLAND_DISPLAY": "wayland-9", "XDG_RUNTIME_DIR": str(tmp_path)}
    found = check_display(env, "linux", connect=knock_list(set())[0], plugin_problem=loads)
    assert not found.usable
    assert found.problem is not None
    assert "WAYLAND_DISPLAY=wayland-9" in found.problem


@pytest.mark.parametrize("plugin", ["offscreen", "minimal"])
def test_headless_plugins_need_no_display_and_show_no_window(plugin: str) -> None:
    found = check_display(
        {"QT_QPA_PLATFORM": plugin}, "linux", connect=knock_list(set())[0], plugin_problem=loads
    )
    assert found.usable
    assert not found.shows_a_window
    assert found.platform == plugin


def test_a_requested_plugin_is_checked_not_trusted() -> None:
    """QT_QPA_PLATFORM=xcb with a dead DISPLAY is as stale as no plugin named at all."""
    env = {"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":99"}
    found = check_display(env, "linux", connect=knock_list(set())[0], plugin_problem=loads)
    assert not found.usable
    env = {"QT_QPA_PLATFORM": "wayland;offscreen"}
    found = check_display(env, "linux", connect=knock_list(set())[0], plugin_problem=loads)
    assert found.platform == "offscreen"


def test_a_display_that_answers_but_whose_plugin_cannot_load_is_a_problem() -> None:
    knock, _tried = knock_list({"/tmp/.X11-unix/X0"})
    found = check_display(
        {"DISPLAY": ":0"},
        "linux",
        connect=knock,
        plugin_problem=lambda name: f"Qt's {name} plugin cannot load (libX)",
    )
    assert not found.usable
    assert found.problem == "Qt's xcb plugin cannot load (libX)"


def test_socket_answers_a_listening_socket_and_not_a_closed_one(tmp_path: Path) -> None:
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(1)
        assert socket_answers(socket.AF_UNIX, path)
    assert not socket_answers(socket.AF_UNIX, path)  # the file is left, nobody listens
    assert not socket_answers(socket.AF_UNIX, str(tmp_path / "missing"))


# --- the real entry points, in subprocesses ---------------------------------------------------


def _free_display_number() -> int:
    for number in range(99, 400):
        local = f"/tmp/.X11-unix/X{number}"
        if Path(local).exists():
            continue
        if socket_answers(socket.AF_UNIX, "\0" + local):
            continue
        if socket_answers(socket.AF_INET, ("127.0.0.1", 6000 + number)):
            continue
        return number
    pytest.skip("no free X display number")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "WAYLAND_SOCKET", "QT_QPA_PLATFORM")
    }
    env.update(
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_RUNTIME_DIR=str(tmp_path),
        PYTHONWARNINGS="error",
    )
    env.update(extra)
    return env


GUI = [sys.executable, "-c", "from llmcheck.gui.app import entry; entry()"]
CLI = [sys.executable, "-m", "llmcheck"]


def test_llmcheck_gui_with_a_stale_x_display_says_why_and_exits_2(tmp_path: Path) -> None:
    number = _free_display_number()
    done = subprocess.run(
        [*GUI, "--snapshot", str(SNAPSHOT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_env(tmp_path, DISPLAY=f":{number}"),
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1
    assert f"DISPLAY=:{number}" in done.stderr
    assert "llmcheck --json" in done.stderr


def test_llmcheck_gui_with_a_stale_wayland_socket_exits_2(tmp_path: Path) -> None:
    stale = tmp_path / "wayland-7"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(stale))  # the socket file a crashed compositor leaves behind
    done = subprocess.run(
        [*GUI, "--snapshot", str(SNAPSHOT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_env(tmp_path, WAYLAND_DISPLAY="wayland-7"),
    )
    assert done.returncode == 2, done.stderr
    assert "WAYLAND_DISPLAY=wayland-7" in done.stderr
    assert done.stderr.count("\n") == 1


def test_llmcheck_with_a_stale_display_prints_the_text_report(tmp_path: Path) -> None:
    number = _free_display_number()
    done = subprocess.run(
        CLI,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=_env(tmp_path, DISPLAY=f":{number}"),
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    skipped = [line for line in done.stderr.splitlines() if "window was skipped" in line]
    assert len(skipped) == 1
    assert f"DISPLAY=:{number}" in skipped[0]
    assert "LFM2" in done.stdout  # the text report, in full


@pytest.fixture
def xvfb(tmp_path: Path) -> Iterator[int]:
    """A real X server (Xvfb) on a free display; its number. Skips without Xvfb."""
    binary = shutil.which("Xvfb")
    if binary is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [binary, "-displayfd", str(write_fd), "-nolisten", "tcp", "-screen", "0", "1280x800x24"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        # Xvfb writes its display number to the pipe once it accepts connections.
        with os.fdopen(read_fd, "rb") as ready:
            number = ready.readline().strip()
        if not number.isdigit():
            pytest.skip("Xvfb did not start")
        yield int(number)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_live_x_server_answers_and_the_window_opens_on_xcb(xvfb: int, tmp_path: Path) -> None:
    found = check_display({"DISPLAY": f":{xvfb}"}, "linux")
    assert found.shows_a_window
    assert found.platform == "xcb"
    done = subprocess.run(
        [*GUI, "--smoke-test", "--snapshot", str(SNAPSHOT)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=_env(tmp_path, DISPLAY=f":{xvfb}"),
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
