"""Fault classes of the terminal around llmcheck (issue #13 items 7, 8, 9 and 11).

- closed and failing standard streams: stdout / stderr / stdin closed, stdout on /dev/full, a
  reader that goes away (broken pipe), Ctrl-C while starting up;
- control characters and markup in every text field that comes from the machine or a snapshot;
- non-UTF-8 locales and output encodings.

Each runs the real program (``python -m llmcheck`` in a subprocess, the shell doing the
redirection) or the real ``cli.main(argv)`` in-process for the fuzzing. ``STREAM_CASES``,
``LOCALE_CASES`` and ``TEXT_FIELDS`` are the classes' members; docs/faults.md counts them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmcheck import cli
from llmcheck.units import clean_text

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = ROOT / "tests" / "data" / "snapshots"
TWO_GPUS = SNAPSHOTS / "two-gpus.json"
CPU_LAPTOP = SNAPSHOTS / "cpu-laptop.json"
UNKNOWN_BUDGET = SNAPSHOTS / "unknown-budget.json"
WONT_FIT = ["check", "lfm2-24b-a2b", "-q", "F16", "--snapshot", str(CPU_LAPTOP)]
UNKNOWN = ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--snapshot", str(UNKNOWN_BUDGET)]

# The fields of a snapshot that hold free text from the machine.
TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "cpu brand": ("machine", "cpu", "brand"),
    "gpu name": ("machine", "gpus", 0, "name"),
    "os release": ("machine", "os", "release"),
    "os system": ("machine", "os", "system"),
    "os machine": ("machine", "os", "machine"),
    "second gpu name": ("machine", "gpus", 1, "name"),
    "problem source": ("problems", 0, "source"),
    "problem code": ("problems", 0, "code"),
    "problem message": ("problems", 0, "message"),
    "problem hint": ("problems", 0, "hint"),
}
FORGED = "Intel Core\n GPU 0: NVIDIA H100 80GB\x1b[31m\x07\rred\u202egnp.exe"


def _env(**extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "LANG": "C.UTF-8",
        "HOME": os.environ.get("HOME", "/tmp"),
        **extra,
    }


def run_shell(
    argv: list[str],
    redirect: str = "",
    *,
    env: dict[str, str] | None = None,
    stdin: int | None = subprocess.DEVNULL,
) -> subprocess.CompletedProcess[bytes]:
    """``python -m llmcheck ARGV REDIRECT`` with the shell doing the redirection (``>&-``)."""
    script = f'exec "$0" -m llmcheck "$@" {redirect}'
    return subprocess.run(
        ["sh", "-c", script, sys.executable, *argv],
        env=env or _env(),
        capture_output=True,
        timeout=120,
        check=False,
        stdin=stdin,
    )


def one_line(err: bytes, starts: str = "llmcheck: error: ") -> str:
    text = err.decode("utf-8", "replace")
    assert "Traceback" not in text, text
    assert "Exception ignored" not in text, text
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert lines[0].startswith(starts), text
    return lines[0]


def no_control_bytes(data: bytes) -> None:
    bad = sorted({b for b in data if (b < 32 and b != 10) or b == 127})
    assert not bad, (bad, data[:300])
    assert "\u202e" not in data.decode("utf-8", "replace")


def hostile_snapshot(
    folder: Path, value: str, fields: tuple[str, ...] = tuple(TEXT_FIELDS), *, base: Path = TWO_GPUS
) -> Path:
    """A recorded machine with ``value`` in each named text field."""
    doc: dict[str, Any] = json.loads(base.read_text(encoding="utf-8"))
    doc["problems"] = [
        {
            "source": "nvidia",
            "code": "nvml_gpu_lost",
            "message": "m",
            "hint": "h",
            "device_index": None,
        }
    ]
    for field in fields:
        *path, last = TEXT_FIELDS[field]
        node: Any = doc
        for key in path:
            node = node[key]
        node[last] = value
    out = folder / "hostile.json"
    out.write_text(json.dumps(doc), encoding="utf-8")
    return out


# --- control characters in text fields ------------------------------------------------------


@pytest.mark.parametrize("field", sorted(TEXT_FIELDS))
@pytest.mark.parametrize("command", ["report", "check"])
def test_a_forged_line_in_a_text_field_stays_one_line(
    field: str, command: str, tmp_path: Path
) -> None:
    """A newline and escapes in a field neither add a line nor reach the terminal."""
    path = hostile_snapshot(tmp_path, FORGED, (field,))
    argv = (
        ["--snapshot", str(path)]
        if command == "report"
        else ["check", "lfm2-350m", "-q", "Q4_K_M", "--snapshot", str(path)]
    )
    done = run_shell(argv)
    assert done.returncode == cli.EXIT_OK, done.stderr
    assert done.stderr == b""
    no_control_bytes(done.stdout)
    lines = done.stdout.decode("utf-8").splitlines()
    assert sum(line.startswith("CPU:") for line in lines) == 1
    assert [line[:6] for line in lines if line.startswith("GPU ")] == ["GPU 0:", "GPU 1:"]


def test_the_cpu_brand_from_issue_13_prints_one_cpu_line(tmp_path: Path) -> None:
    path = hostile_snapshot(tmp_path, FORGED, ("cpu brand",))
    done = run_shell(["--snapshot", str(path)])
    out = done.stdout.decode("utf-8")
    assert (
        "CPU:    Intel Core GPU 0: NVIDIA H100 80GB\ufffd[31m\ufffd red\ufffdgnp.exe, 16 cores\n"
    ) in out


@pytest.mark.parametrize(
    "variant", ["lfm2\x1b[2J\x1b[31m", "lfm2\n llmcheck: error: forged", "lfm2\u202e\x07\r"]
)
def test_a_typed_variant_name_is_clean_in_the_error_line(variant: str) -> None:
    done = run_shell(["check", variant, "-q", "Q4_K_M", "--snapshot", str(TWO_GPUS)])
    assert done.returncode == cli.EXIT_USAGE
    assert "unknown variant" in one_line(done.stderr)
    no_control_bytes(done.stderr)
    assert done.stdout == b""


def test_a_snapshot_path_with_escapes_is_clean_in_the_error_line(tmp_path: Path) -> None:
    done = run_shell(["--snapshot", str(tmp_path / "no\x1b[31mfile\n.json")])
    assert done.returncode == cli.EXIT_USAGE
    one_line(done.stderr)
    no_control_bytes(done.stderr)


_HOSTILE_CHARS = st.characters(codec=None, categories=None)
_HOSTILE_TEXT = st.text(
    st.one_of(
        st.sampled_from("\n\r\t\x1b\x07\x00\x7f\x85\u2028\u202e\u200f\ufeff[|`<™®"), _HOSTILE_CHARS
    ),
    min_size=1,
    max_size=60,
)


@contextlib.contextmanager
def _captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_HOSTILE_TEXT, field=st.sampled_from(sorted(TEXT_FIELDS)), check=st.booleans())
def test_fuzz_text_fields_through_main(value: str, field: str, check: bool) -> None:
    """Any text in any machine field: exit 0, one CPU line, two GPU lines, no control bytes."""
    with tempfile.TemporaryDirectory() as folder:
        path = hostile_snapshot(Path(folder), value, (field,))
        argv = (
            ["check", "lfm2-350m", "-q", "Q4_K_M", "--snapshot", str(path)]
            if check
            else ["--snapshot", str(path)]
        )
        with _captured() as (out, err):
            code = cli.main(argv, environ={})
    assert code == cli.EXIT_OK, err.getvalue()
    assert err.getvalue() == ""
    text = out.getvalue()
    assert not any(ord(c) < 32 and c != "\n" for c in text)
    assert not any(c in text for c in "\x7f\x85\u2028\u2029\u202e\u200f\ufeff")
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    lines = text.splitlines()
    assert sum(line.startswith("CPU:") for line in lines) == 1
    assert [line[:6] for line in lines if line.startswith("GPU ")] == ["GPU 0:", "GPU 1:"]


# --- non-UTF-8 locales and output encodings -------------------------------------------------

LOCALE_CASES: dict[str, dict[str, str]] = {
    "PYTHONIOENCODING=ascii": {"PYTHONIOENCODING": "ascii"},
    "PYTHONIOENCODING=iso-8859-1": {"PYTHONIOENCODING": "iso-8859-1"},
    "PYTHONIOENCODING=euc-jp": {"PYTHONIOENCODING": "euc-jp"},
    # LC_ALL=C without the C.UTF-8 coercion and UTF-8 mode: ASCII with surrogateescape.
    "LC_ALL=C, no coercion": {"LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"},
    # Not installed here, so Python falls back; the answer must not depend on that.
    "LC_ALL=en_US.ISO-8859-1": {"LC_ALL": "en_US.ISO-8859-1"},
}


@pytest.mark.parametrize("case", sorted(LOCALE_CASES))
@pytest.mark.parametrize(
    "name", ["NVIDIA GeForce RTX\u2122 4090", "Intel\u00ae Core\u2122", "lone \udc80 surrogate"]
)
def test_a_name_the_terminal_cannot_encode_prints_with_replacement(
    case: str, name: str, tmp_path: Path
) -> None:
    path = hostile_snapshot(tmp_path, name, ("gpu name", "cpu brand"))
    encoding = _stdout_encoding(_env(**LOCALE_CASES[case]))
    for argv in (
        ["--snapshot", str(path)],
        ["check", "lfm2-350m", "-q", "Q4_K_M", "--snapshot", str(path)],
    ):
        done = run_shell(argv, env=_env(**LOCALE_CASES[case]))
        assert done.returncode == cli.EXIT_OK, (case, done.stderr)
        assert done.stderr == b""
        cpu = [line for line in done.stdout.splitlines() if line.startswith(b"CPU:")]
        # What the output encoding cannot hold is "?"; a lone surrogate was U+FFFD already.
        assert cpu == [f"CPU:    {clean_text(name)}, 16 cores".encode(encoding, "replace")]


def _stdout_encoding(env: dict[str, str]) -> str:
    """The encoding Python picks for stdout under ``env`` (a locale may not be installed)."""
    return subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.stdout.encoding)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.mark.parametrize("case", sorted(LOCALE_CASES))
def test_an_error_about_a_name_with_tm_is_one_line_exit_2(case: str) -> None:
    done = run_shell(
        ["check", "LFM2\u2122-9b", "-q", "Q4_K_M", "--snapshot", str(TWO_GPUS)],
        env=_env(**LOCALE_CASES[case]),
    )
    assert done.returncode == cli.EXIT_USAGE
    assert "unknown variant" in one_line(done.stderr)


def test_an_undecodable_argument_is_exit_2_not_4() -> None:
    """A byte that is not UTF-8 in argv arrives as a lone surrogate (surrogateescape)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "llmcheck",
            "check",
            b"lfm2-\xff",
            "-q",
            "Q4_K_M",
            "--snapshot",
            str(TWO_GPUS),
        ],
        env=_env(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == cli.EXIT_USAGE
    assert "unknown variant" in one_line(done.stderr)


# --- closed and failing standard streams ----------------------------------------------------

# name -> (argv, shell redirection, exit code, what stderr says (None: nothing))
STREAM_CASES: dict[str, tuple[list[str], str, int, str | None]] = {
    "stderr closed, usage error": (["--frobnicate"], "2>&-", cli.EXIT_USAGE, None),
    "stderr closed, won't fit": (WONT_FIT, "2>&-", cli.EXIT_WONT_FIT, None),
    "stderr closed, unknown budget": (UNKNOWN, "2>&-", cli.EXIT_BUDGET_UNKNOWN, None),
    "stderr closed, report": (["--snapshot", str(TWO_GPUS)], "2>&-", cli.EXIT_OK, None),
    "stdout closed, report": (
        ["--snapshot", str(TWO_GPUS)],
        ">&-",
        cli.EXIT_OUTPUT,
        "standard output is closed",
    ),
    "stdout closed, check": (WONT_FIT, ">&-", cli.EXIT_OUTPUT, "standard output is closed"),
    "stdout closed, list": (["list"], ">&-", cli.EXIT_OUTPUT, "standard output is closed"),
    "stdout closed, usage error": (["--frobnicate"], ">&-", cli.EXIT_USAGE, "unrecognized"),
    "stdout /dev/full, report": (
        ["--snapshot", str(TWO_GPUS), "--json"],
        ">/dev/full",
        cli.EXIT_OUTPUT,
        "No space left on device",
    ),
    "stdout /dev/full, check": (WONT_FIT, ">/dev/full", cli.EXIT_OUTPUT, "No space left on device"),
    "stdout /dev/full, version": (
        ["--version"],
        ">/dev/full",
        cli.EXIT_OUTPUT,
        "No space left on device",
    ),
    "stdout closed, version": (["--version"], ">&-", cli.EXIT_OK, None),
    "stdin closed, --snapshot -": (
        ["--snapshot", "-"],
        "<&-",
        cli.EXIT_USAGE,
        "standard input is closed",
    ),
    "stdin closed, --snapshot FILE": (["--snapshot", str(TWO_GPUS)], "<&-", cli.EXIT_OK, None),
    "all three closed, check": (WONT_FIT, "<&- >&- 2>&-", cli.EXIT_OUTPUT, None),
}


@pytest.mark.parametrize("case", sorted(STREAM_CASES))
def test_a_closed_or_failing_stream(case: str) -> None:
    argv, redirect, code, says = STREAM_CASES[case]
    done = run_shell(argv, redirect)
    assert done.returncode == code, (case, done.stderr)
    if "2>&-" in redirect:
        return  # nowhere to say anything: the exit code alone answers
    if says is None:
        assert b"Traceback" not in done.stderr
        assert b"Exception ignored" not in done.stderr
    else:
        assert says in one_line(done.stderr)


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (WONT_FIT, cli.EXIT_WONT_FIT),
        (UNKNOWN, cli.EXIT_BUDGET_UNKNOWN),
        ([*WONT_FIT, "--json"], cli.EXIT_WONT_FIT),
        (["--snapshot", str(TWO_GPUS)], cli.EXIT_OK),
    ],
)
def test_a_broken_pipe_keeps_the_answer_s_exit_code(argv: list[str], code: int) -> None:
    """`llmcheck check X -q Q | head -c1`: the reader left before the answer was written."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmcheck", *argv],
        env=_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # no reader: the first write is EPIPE
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code
    assert err == b""


def test_head_c1_keeps_the_exit_code() -> None:
    """The shell form of the same question, with bash's PIPESTATUS."""
    script = (
        f'"{sys.executable}" -m llmcheck --json "$@" | head -c1 >/dev/null;'
        ' echo "${PIPESTATUS[0]}"'
    )
    done = subprocess.run(
        ["bash", "-c", script, "bash", *WONT_FIT],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.strip() == str(cli.EXIT_WONT_FIT)
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("redirect", [">/dev/full", ">&-"])
def test_install_desktop_entry_that_wrote_its_files_exits_0(redirect: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = _env(HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"))
    done = run_shell(["--install-desktop-entry"], redirect, env=env)
    assert done.returncode == cli.EXIT_OK, done.stderr
    assert "the menu entry was installed" in one_line(done.stderr, "llmcheck: warning: ")
    assert (home / ".local" / "share" / "applications" / "llmcheck.desktop").is_file()


# --- Ctrl-C while starting up ---------------------------------------------------------------


def _interrupt(argv: list[str], *, wait_for: bytes | None, delay_s: float) -> tuple[int, bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmcheck", *argv],
        env=_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    err = b""
    if wait_for is not None:
        while wait_for not in err:  # the process is now blocked reading the snapshot on stdin
            line = proc.stderr.readline()
            assert line, err
            err += line
    else:
        time.sleep(delay_s)
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    return proc.returncode, err + rest


def test_ctrl_c_while_reading_the_machine_is_exit_130_one_line() -> None:
    code, err = _interrupt(
        ["-v", "--snapshot", "-"], wait_for=b"judging the recorded machine", delay_s=0
    )
    assert code == cli.EXIT_INTERRUPTED
    text = err.decode()
    assert "Traceback" not in text
    assert text.strip().splitlines()[-1] == "llmcheck: error: interrupted"
    assert text.count("interrupted") == 1


@pytest.mark.parametrize("delay_s", [0.3, 0.6])
def test_ctrl_c_during_start_up_is_exit_130_one_line(delay_s: float) -> None:
    """Wherever start-up is when Ctrl-C comes (imports, parsing, reading), never a traceback."""
    code, err = _interrupt(["--snapshot", "-"], wait_for=None, delay_s=delay_s)
    assert code == cli.EXIT_INTERRUPTED, err
    assert "llmcheck: error: interrupted" in one_line(err)
