"""Privacy and safety: llmcheck opens no network connection, runs no shell, writes nothing it
was not asked to.

The CLI and the GUI run in subprocesses whose ``sitecustomize.py`` (first on PYTHONPATH) replaces
the socket entry points with a recorder that refuses, and adds an audit hook for the socket events;
the GPU probe's spawn child inherits both. HOME and the XDG folders point at a throw-away tree whose
every file is fingerprinted before and after.
"""

from __future__ import annotations

import ast
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from llmcheck.probe.apple import probe_apple
from llmcheck.probe.cpu import probe_cpu
from tests.helpers import fingerprint

PACKAGE = Path(__file__).resolve().parent.parent / "llmcheck"
SNAPSHOT = Path(__file__).resolve().parent / "data" / "snapshots" / "two-gpus.json"

SITECUSTOMIZE = r'''
"""Installed by tests/test_privacy.py: record and refuse every network attempt."""
import os
import socket
import sys

_LOG = os.environ["LLMCHECK_NET_LOG"]


def _record(what, detail):
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {what} {detail!r}\n")


def _refuse(name):
    def blocked(*args, **kwargs):
        _record(name, args[1:] if name.startswith("socket.socket") else args)
        raise OSError("network blocked by llmcheck's privacy test")
    return blocked


socket.socket.connect = _refuse("socket.socket.connect")
socket.socket.connect_ex = _refuse("socket.socket.connect_ex")
socket.getaddrinfo = _refuse("socket.getaddrinfo")
socket.create_connection = _refuse("socket.create_connection")

_WATCHED = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto",
            "socket.bind", "urllib.Request", "http.client.connect"}


def _hook(event, args):
    if event in _WATCHED:
        _record(event, args[1:] if event.startswith("socket.") else args)
    elif event == "socket.__new__" and len(args) > 1 and args[1] in (socket.AF_INET,
                                                                    socket.AF_INET6):
        _record(event, args[1:])


sys.addaudithook(_hook)
'''


@pytest.fixture
def sandbox(tmp_path: Path) -> dict[str, Path]:
    """A blocked-network environment: sitecustomize, a log, a HOME with the user's own files."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    home = tmp_path / "home"
    for rel, text in {
        ".bashrc": "export X=1\n",
        ".config/other/app.conf": "[a]\nb=1\n",
        "notes/todo.txt": "buy milk\n",
    }.items():
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text(text, encoding="utf-8")
    work = tmp_path / "cwd"
    work.mkdir()
    return {"site": site, "home": home, "log": tmp_path / "net.log", "cwd": work}


def run_blocked(
    sandbox: dict[str, Path], argv: list[str], **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` with the network blocked and the sandbox HOME."""
    home = sandbox["home"]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(sandbox["site"]), str(PACKAGE.parent)]),
        "LLMCHECK_NET_LOG": str(sandbox["log"]),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "LANG": "C.UTF-8",
        **extra_env,
    }
    return subprocess.run(
        argv,
        cwd=sandbox["cwd"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def network_attempts(sandbox: dict[str, Path]) -> list[str]:
    log = sandbox["log"]
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_the_recorder_catches_a_connection(sandbox: dict[str, Path]) -> None:
    """The harness itself works: a real connect attempt is recorded and refused."""
    code = (
        "import socket\ntry:\n socket.create_connection(('192.0.2.1', 80), 1)\n"
        "except OSError:\n pass\n"
        "s = socket.socket()\ntry:\n s.connect(('192.0.2.1', 80))\nexcept OSError:\n pass\n"
    )
    run_blocked(sandbox, [sys.executable, "-c", code])
    attempts = network_attempts(sandbox)
    assert any("create_connection" in a for a in attempts)
    assert any("socket.socket.connect" in a for a in attempts)
    assert any("socket.__new__" in a for a in attempts)


CLI_RUNS = {
    "json": ["--json"],
    "check": ["check", "lfm2-1.2b", "--quant", "Q4_K_M", "--json"],
    "snapshot": ["--snapshot", str(SNAPSHOT), "--json", "--ctx", "32k"],
    "text": ["--snapshot", str(SNAPSHOT)],
    "list": ["list"],
    "bad-input": ["check", "lfm9", "--quant", "Q4_K_M"],
}


@pytest.mark.parametrize("name", sorted(CLI_RUNS))
def test_cli_makes_no_connection_and_leaves_home_alone(sandbox: dict[str, Path], name: str) -> None:
    before = fingerprint(sandbox["home"])
    done = run_blocked(sandbox, [sys.executable, "-m", "llmcheck", *CLI_RUNS[name]])
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1, 2, 3), done.stderr
    if "--json" in CLI_RUNS[name] and done.returncode in (0, 1, 3):
        json.loads(done.stdout)
    assert network_attempts(sandbox) == []
    assert fingerprint(sandbox["home"]) == before, "the CLI wrote into HOME"
    assert list(sandbox["cwd"].iterdir()) == [], "the CLI wrote into the working folder"


GUI_SCRIPT = r"""
import sys
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
from llmcheck.gui.main_window import MainWindow

app = QApplication(["llmcheck-gui"])
app.setOrganizationName("llmcheck")
app.setApplicationName("llmcheck")
window = MainWindow()
loop = QEventLoop()
done = []
window.probe_finished.connect(lambda: (done.append("ok"), loop.quit()))
window.probe_failed.connect(lambda m: (done.append(m), loop.quit()))
QTimer.singleShot(90_000, loop.quit)  # a safety net for a wedged run, not a measurement
window.show()
loop.exec()
window.tabs.setCurrentIndex(1)  # the what-if machines: estimates for every catalogued machine
app.processEvents()
window.close()
print("probe:", done)
sys.exit(0 if done == ["ok"] else 1)
"""


def test_gui_makes_no_connection_and_writes_only_its_settings(sandbox: dict[str, Path]) -> None:
    before = fingerprint(sandbox["home"])
    done = run_blocked(sandbox, [sys.executable, "-c", GUI_SCRIPT], QT_QPA_PLATFORM="offscreen")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert network_attempts(sandbox) == []
    after = fingerprint(sandbox["home"])
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    # QSettings("llmcheck", "llmcheck") on Linux: $XDG_CONFIG_HOME/llmcheck/llmcheck.conf; and
    # this boot's RAM bandwidth measurement, which the window takes after its first paint
    # (README, "Trust"): $XDG_CACHE_HOME/llmcheck/bandwidth.json, nothing else.
    allowed = {
        ".config/llmcheck",
        ".config/llmcheck/llmcheck.conf",
        ".cache",
        ".cache/llmcheck",
        ".cache/llmcheck/bandwidth.json",
    }
    assert changed <= allowed, f"the GUI wrote outside its settings: {sorted(changed - allowed)}"
    cache = sandbox["home"] / ".cache" / "llmcheck" / "bandwidth.json"
    if cache.exists():  # no raw boot id or host name in it: only a salted hash of the boot
        text = cache.read_text(encoding="utf-8")
        boot_id = Path("/proc/sys/kernel/random/boot_id")
        if boot_id.exists():
            assert boot_id.read_text(encoding="ascii").strip() not in text
        assert platform.node() not in text
    assert list(sandbox["cwd"].iterdir()) == []


def test_gui_smoke_test_entry_makes_no_connection(sandbox: dict[str, Path]) -> None:
    done = run_blocked(
        sandbox,
        [
            sys.executable,
            "-c",
            "import sys; from llmcheck.gui.app import main; sys.exit(main(['--smoke-test']))",
        ],
        QT_QPA_PLATFORM="offscreen",
    )
    assert done.returncode == 0, done.stderr
    assert network_attempts(sandbox) == []


# --- no shell, absolute tool paths ------------------------------------------------------------


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"), str(p))) for p in PACKAGE.rglob("*.py")]


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


SUBPROCESS_CALLS = {
    "subprocess.run",
    "subprocess.Popen",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
}
FORBIDDEN = {
    "os.system",
    "os.popen",
    "os.execv",
    "os.execvp",
    "os.execl",
    "os.execlp",
    "os.spawnv",
    "os.spawnl",
    "os.spawnlp",
    "os.spawnvp",
    "os.startfile",
    "eval",
    "exec",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "pty.spawn",
}


def test_no_shell_anywhere_in_the_package() -> None:
    offences: list[str] = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _dotted(node.func)
            where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
            if name in FORBIDDEN:
                offences.append(f"{where}: {name}()")
            for kw in node.keywords:
                if kw.arg == "shell" and not (
                    isinstance(kw.value, ast.Constant) and kw.value.value is False
                ):
                    offences.append(f"{where}: shell={ast.unparse(kw.value)}")
    assert offences == []


def test_subprocesses_start_only_in_the_one_seam() -> None:
    """Every subprocess call sits in platform_info.run_command, which takes an argv list."""
    sites: list[str] = []
    for path, tree in _modules():
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Call) and _dotted(node.func) in SUBPROCESS_CALLS:
                    sites.append(f"{path.name}:{func.name}")
                    first = node.args[0] if node.args else None
                    assert isinstance(first, ast.Name), ast.unparse(node)
                    assert first.id == "argv", ast.unparse(node)
    assert sites == ["platform_info.py:run_command"]


def _recording_run(seen: list[list[str]]) -> object:
    def run(argv: list[str]) -> str:
        assert isinstance(argv, list), argv
        assert all(isinstance(a, str) for a in argv), argv
        seen.append(argv)
        raise OSError("not on this machine")

    return run


def test_every_tool_the_probes_run_is_an_absolute_path() -> None:
    """Drive every probe that runs tools (macOS sysctl/ioreg/system_profiler) and list argv[0]."""
    seen: list[list[str]] = []
    run = _recording_run(seen)
    probe_apple(run=run)  # type: ignore[arg-type]
    probe_cpu(system="Darwin", machine="arm64", run=run)  # type: ignore[arg-type]
    # A sysctl answer lets the Apple probe go on to ioreg and system_profiler.
    answered: list[list[str]] = []

    def sysctl_then_fail(argv: list[str]) -> str:
        answered.append(argv)
        if argv[0].endswith("sysctl"):
            return (
                "hw.memsize: 34359738368\nmachdep.cpu.brand_string: Apple M2 Max\n"
                "hw.optional.arm64: 1\n"
            )
        raise OSError("not on this machine")

    probe_apple(run=sysctl_then_fail)
    tools = {argv[0] for argv in [*seen, *answered]}
    assert {"/usr/sbin/sysctl", "/usr/sbin/ioreg", "/usr/sbin/system_profiler"} <= tools
    assert all(Path(t).is_absolute() for t in tools), tools
