"""The command line: exit codes, bad input, one-line errors, JSON on stdout only.

Every test calls ``main([...])`` with its own argument list (never touching ``sys.argv``) and
judges recorded machines from tests/data/snapshots; the probe is replaced only where a test is
about what the CLI does when a probe misbehaves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmcheck import __version__, cli
from llmcheck.snapshot import SystemSnapshot
from tests.helpers import SNAPSHOT_DIR, SNAPSHOT_NAMES, validator_for

NO_DISPLAY: dict[str, str] = {}


def snap(name: str) -> str:
    """The path of one recorded snapshot."""
    return str(SNAPSHOT_DIR / f"{name}.json")


def no_probe() -> SystemSnapshot:
    """A probe that must not be reached: the CLI should have stopped before probing."""
    raise AssertionError("the CLI probed the machine although the input was already bad")


def one_error_line(err: str) -> str:
    """stderr held exactly one line, an llmcheck error and no traceback; return it."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("llmcheck: error: ")
    return lines[0]


# --- version, help, usage --------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == cli.EXIT_OK
    assert capsys.readouterr().out.strip() == f"llmcheck {__version__}"


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    for word in ("check", "list", "--json", "--snapshot", "--ctx", "--kv-type"):
        assert word in out


@pytest.mark.parametrize(
    "argv",
    [
        ["--frobnicate"],
        ["check"],  # no variant, no --quant
        ["check", "lfm2-1.2b"],  # no --quant
        ["--kv-type", "q5_1", "--snapshot", snap("cpu-laptop")],
        ["--flash-attn", "maybe"],
        ["teleport"],
    ],
)
def test_bad_usage_is_one_line_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv, probe=no_probe, environ=NO_DISPLAY) == cli.EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    one_error_line(captured.err)


# --- settings: checked before the machine is probed ------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("32768", 32768),
        ("32k", 32768),
        ("32K", 32768),
        ("128k", 131072),
        ("4096", 4096),
        (" 8k ", 8192),
        ("1", 1),
    ],
)
def test_parse_context(text: str, tokens: int) -> None:
    assert cli.parse_context(text) == tokens


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--ctx", "-3"], "--ctx"),
        (["--ctx", "0"], "at least 1"),
        (["--ctx", "0k"], "at least 1"),
        (["--ctx", "lots"], "not a context length"),
        (["--ctx", "32m"], "not a context length"),
        (["--ctx", "99999999999k"], "larger than any model"),
        (["--ctx", "1e6"], "not a context length"),
        (["--parallel", "0"], "--parallel"),
        (["--parallel", "two"], "not a whole number"),
        (["--ubatch", "1000000"], "--ubatch"),
        (["--device", "gpu"], "--device"),
        (["--device", "tpu:0"], "--device"),
        (["--ngl", "-1"], "--ngl"),
        (["--ngl", "all"], "not a whole number"),
    ],
)
def test_bad_settings_fail_before_probing(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*argv, "--json"], probe=no_probe, environ=NO_DISPLAY) == cli.EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert words in one_error_line(captured.err)


# --- snapshot files: every way a file can be wrong -------------------------------------------


def _write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def _doc(name: str) -> dict[str, Any]:
    return json.loads(Path(snap(name)).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda tmp: str(tmp / "missing.json"), "No such file"),
        (lambda tmp: str(tmp), "folder"),
        (lambda tmp: _write(tmp, "a.json", "{not json"), "not JSON (line 1"),
        (lambda tmp: _write(tmp, "b.json", ""), "not JSON"),
        (lambda tmp: _write(tmp, "c.json", b"\x80\x81\x00garbage"), "not a text file"),
        (lambda tmp: _write(tmp, "d.json", "[1, 2]"), "top level"),
        (lambda tmp: _write(tmp, "e.json", "[" * 100_000 + "]" * 100_000), "snapshot"),
        (
            lambda tmp: _write(
                tmp, "f.json", json.dumps({**_doc("one-nvidia"), "schema_version": "2"})
            ),
            "schema_version",
        ),
        (
            lambda tmp: _write(
                tmp,
                "g.json",
                json.dumps(
                    {
                        **_doc("one-nvidia"),
                        "machine": {**_doc("one-nvidia")["machine"], "gpus": "RTX 4090"},
                    }
                ),
            ),
            "machine.gpus",
        ),
        (
            lambda tmp: _write(
                tmp,
                "h.json",
                json.dumps(
                    {
                        **_doc("cpu-laptop"),
                        "machine": {
                            **_doc("cpu-laptop")["machine"],
                            "memory": {
                                **_doc("cpu-laptop")["machine"]["memory"],
                                "total_bytes": -5,
                            },
                        },
                    }
                ),
            ),
            "machine.memory.total_bytes",
        ),
    ],
    ids=[
        "missing",
        "folder",
        "not-json",
        "empty",
        "binary",
        "list",
        "deep",
        "version",
        "gpus-string",
        "negative-bytes",
    ],
)
def test_bad_snapshot_file_is_exit_2(
    make: Any, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make(tmp_path)
    assert (
        cli.main(["--snapshot", path, "--json"], probe=no_probe, environ=NO_DISPLAY)
        == cli.EXIT_USAGE
    )
    captured = capsys.readouterr()
    assert captured.out == ""
    assert words in one_error_line(captured.err)


@pytest.mark.parametrize("name", SNAPSHOT_NAMES)
def test_load_snapshot_reads_every_recording(name: str) -> None:
    machine = cli.load_snapshot(snap(name))
    assert machine.os.system in ("Linux", "Darwin")


def test_load_snapshot_from_stdin() -> None:
    import io

    text = Path(snap("two-gpus")).read_text(encoding="utf-8")
    machine = cli.load_snapshot("-", stdin=io.StringIO(text))
    assert len(machine.gpus) == 2


# --- faults of llmcheck itself ---------------------------------------------------------------


def test_internal_error_is_one_line_exit_4(capsys: pytest.CaptureFixture[str]) -> None:
    def broken_probe() -> SystemSnapshot:
        raise RuntimeError("the probe fell over")

    assert cli.main(["--json"], probe=broken_probe, environ=NO_DISPLAY) == cli.EXIT_INTERNAL
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "the probe fell over" in one_error_line(captured.err)


class _ClosedPipe:
    """A stdout whose reader went away (``llmcheck --json | head -c 10``)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self) -> int:
        raise OSError("no file descriptor in tests")


def test_broken_pipe_is_quiet(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert cli.main(["--version"]) == cli.EXIT_OK
    assert capsys.readouterr().err == ""


def test_exit_codes_are_distinct_and_documented() -> None:
    codes = {
        "EXIT_OK": 0,
        "EXIT_WONT_FIT": 1,
        "EXIT_USAGE": 2,
        "EXIT_BUDGET_UNKNOWN": 3,
        "EXIT_INTERNAL": 4,
        "EXIT_OUTPUT": 5,
        "EXIT_INTERRUPTED": 130,
    }
    for name, value in codes.items():
        assert getattr(cli, name) == value
        assert f"{value:<4}  {name}" in (cli.__doc__ or "")


@pytest.mark.parametrize(
    ("verdict", "code"),
    [("runs_great", 0), ("tight", 0), ("wont_fit", 1), ("unknown", 3)],
)
def test_exit_code_for_verdict(verdict: str, code: int) -> None:
    assert cli.exit_code_for(verdict) == code


# --- no arguments: the window on a desktop ---------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({}, "linux", False),
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0", "XDG_RUNTIME_DIR": "/run/user/1000"}, "linux", True),
        ({"DISPLAY": ""}, "linux", False),
        ({}, "darwin", True),
        ({}, "win32", True),
    ],
)
def test_has_display(
    environ: dict[str, str], platform: str, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A display that answers (llmcheck.display knocks on it; tests/test_display.py covers that).
    monkeypatch.setattr("llmcheck.display.socket_answers", lambda *_a, **_k: True)
    monkeypatch.setattr("llmcheck.display.qt_plugin_problem", lambda _name: None)
    assert cli.has_display(environ, platform) is expected


def test_no_arguments_on_a_desktop_opens_the_window(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The GUI is another layer: stand in for it and check the CLI hands over to it."""
    calls: list[list[str]] = []
    fake = types.ModuleType("llmcheck.gui.app")

    def fake_main(argv: list[str]) -> int:
        calls.append(argv)
        return 0

    fake.main = fake_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "llmcheck.gui.app", fake)
    monkeypatch.setattr("llmcheck.display.socket_answers", lambda *_a, **_k: True)
    monkeypatch.setattr("llmcheck.display.qt_plugin_problem", lambda _name: None)
    assert cli.main([], probe=no_probe, environ={"DISPLAY": ":0"}) == 0
    assert calls == [[]]
    assert capsys.readouterr().out == ""


def test_python_dash_m_version_runs() -> None:
    """`python -m llmcheck` is wired to cli.main (a real subprocess)."""
    done = subprocess.run(
        [sys.executable, "-m", "llmcheck", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"llmcheck {__version__}"


def test_schema_validator_is_shared() -> None:
    """test_cli validates through the same schema loader as test_schema (no second copy)."""
    assert validator_for("report_document").schema["$ref"] == "#/$defs/report_document"


# --- questions about models (through the real catalog and estimator) -------------------------


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    """Run main with --json; stdout must be exactly one JSON document."""
    code = cli.main([*argv, "--json"], probe=no_probe, environ=NO_DISPLAY)
    captured = capsys.readouterr()
    return code, json.loads(captured.out)


@pytest.mark.parametrize("name", SNAPSHOT_NAMES)
def test_snapshot_json_report(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(["--snapshot", snap(name)], capsys)
    assert code == cli.EXIT_OK  # the report exits 0 whatever it finds
    validator_for("report_document", strict=True).validate(doc)
    assert doc["machine"]["source"] == "snapshot"
    assert doc["models"]


@pytest.mark.parametrize(
    ("name", "argv", "code", "verdicts"),
    [
        ("one-nvidia", ["lfm2-1.2b", "--quant", "Q4_K_M", "--ctx", "32768"], 0, {"runs_great"}),
        (
            "apple-m2-max",
            ["LFM2-1.2B", "--quant", "q4_k_m", "--ctx", "32k"],
            0,
            {"runs_great", "tight"},
        ),
        ("container-limited", ["lfm2-24b-a2b", "--quant", "F16"], 1, {"wont_fit"}),
        ("cpu-laptop", ["lfm2-24b-a2b", "--quant", "F16", "--device", "cpu"], 1, {"wont_fit"}),
        ("unknown-budget", ["lfm2-350m", "--quant", "Q4_0"], 3, {"unknown"}),
    ],
)
def test_check_answers_with_its_exit_code(
    name: str,
    argv: list[str],
    code: int,
    verdicts: set[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    got, doc = run_json(["check", *argv, "--snapshot", snap(name)], capsys)
    validator_for("check_document", strict=True).validate(doc)
    assert doc["model"]["verdict"] in verdicts
    assert got == code


def test_check_ngl_pins_the_offload(capsys: pytest.CaptureFixture[str]) -> None:
    """--ngl N is llama.cpp's -ngl N: the answer, the settings and the command follow it."""
    code, doc = run_json(
        ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--ngl", "8", "--snapshot", snap("one-nvidia")],
        capsys,
    )
    validator_for("check_document", strict=True).validate(doc)
    assert code == cli.EXIT_OK
    assert doc["settings"]["gpu_layers"] == 8
    assert doc["model"]["verdict"] == "tight"  # split with the CPU (VERDICT_RULES)
    assert " -ngl 8 " in doc["model"]["llama_cpp_command"]
    argv = [
        "check",
        "lfm2-1.2b",
        "-q",
        "Q4_K_M",
        "--ngl",
        "8",
        "--device",
        "cpu",
        "--snapshot",
        snap("one-nvidia"),
        "--json",
    ]
    assert cli.main(argv, probe=no_probe, environ=NO_DISPLAY) == cli.EXIT_USAGE
    assert "device cpu" in one_error_line(capsys.readouterr().err)


def test_check_text(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(
        ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--snapshot", snap("one-nvidia")],
        probe=no_probe,
        environ=NO_DISPLAY,
    )
    out = capsys.readouterr().out
    assert code == cli.EXIT_OK
    assert "LFM2-1.2B Q4_K_M: runs great" in out
    assert "NVIDIA GeForce RTX 4090" in out


def test_options_before_and_after_the_subcommand_agree(capsys: pytest.CaptureFixture[str]) -> None:
    before = run_json(
        ["--snapshot", snap("two-gpus"), "check", "lfm2-2.6b", "-q", "Q8_0", "--ctx", "16k"], capsys
    )
    after = run_json(
        ["check", "lfm2-2.6b", "-q", "Q8_0", "--ctx", "16k", "--snapshot", snap("two-gpus")], capsys
    )
    assert before == after
    assert before[1]["settings"]["context_tokens"] == 16384


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["check", "lfm2-1.2", "-q", "Q4_K_M"], "did you mean lfm2-1.2b"),
        (["check", "llama-3-8b", "-q", "Q4_K_M"], "unknown variant"),
        (["check", "lfm2-1.2b", "-q", "Q4KM"], "did you mean Q4_K_M"),
        (["check", "lfm2-1.2b", "-q", "Q2_K_XL"], "unknown quantization"),
        (["check", "hf.co/LiquidAI/LFM2-1.2B-GGUF:Q4_K_M", "-q", "Q8_0"], "-q says Q8_0"),
        (["check", "lfm2-1.2b", "-q", "Q4_K_M", "--ctx", "1000000"], "at most 128000"),
        (["check", "lfm2-1.2b", "-q", "Q4_K_M", "--ctx", "-1"], "--ctx"),
        (["check", "lfm2-1.2b", "-q", "Q4_K_M", "--device", "gpu:5"], "no gpu:5"),
        (["--device", "gpu:2"], "it has gpu:0, gpu:1"),
        (["--kv-type", "q8_0", "--flash-attn", "off"], "requires flash attention"),
    ],
)
def test_bad_questions_are_exit_2(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        [*argv, "--snapshot", snap("two-gpus"), "--json"], probe=no_probe, environ=NO_DISPLAY
    )
    captured = capsys.readouterr()
    assert code == cli.EXIT_USAGE
    assert captured.out == ""
    assert words in one_error_line(captured.err)


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "lfm2-1.2", "-q", "Q4_K_M"],
        ["check", "lfm2-1.2b", "-q", "Q4KM"],
        ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--ctx", "abc"],
    ],
)
def test_bad_questions_fail_before_probing(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv, probe=no_probe, environ=NO_DISPLAY) == cli.EXIT_USAGE
    one_error_line(capsys.readouterr().err)


def test_no_arguments_without_a_display_prints_the_text_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    recorded = cli.load_snapshot(snap("cpu-laptop"))
    code = cli.main([], probe=lambda: recorded, environ=NO_DISPLAY)
    out = capsys.readouterr().out
    assert code == cli.EXIT_OK
    assert "AMD Ryzen 7 7840U" in out
    # No NVIDIA GPU and no NVIDIA library: a calm note, as in the window, not a problem.
    assert "Note: No NVIDIA GPU here (no NVIDIA driver library)" in out
    assert "nvml_library_not_found" not in out
    assert "Problems:" not in out
    assert "LFM2-350M" in out


def test_a_missing_nvidia_library_is_a_problem_where_an_nvidia_gpu_was_seen(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from llmcheck.render.text import format_text

    assert cli.main(["--json", "--snapshot", snap("cpu-laptop")], environ=NO_DISPLAY) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [p["code"] for p in doc["problems"]] == ["nvml_library_not_found"]
    assert "No NVIDIA GPU here" in format_text(doc)
    doc["machine"]["gpus"] = [{"vendor": "nvidia", "name": "NVIDIA GeForce RTX 4060 Laptop GPU"}]
    text = format_text(doc)
    assert "Problems:" in text
    assert "nvml_library_not_found" in text
    assert "Note: No NVIDIA GPU here" not in text


def test_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(["list"], capsys)
    assert code == cli.EXIT_OK
    validator_for("list_document", strict=True).validate(doc)


def test_broken_pipe_in_a_long_report_is_quiet(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert (
        cli.main(["--snapshot", snap("one-nvidia")], probe=no_probe, environ=NO_DISPLAY)
        == cli.EXIT_OK
    )
    assert capsys.readouterr().err == ""


# --- real subprocesses: this machine, and a fake NVIDIA driver -------------------------------


def _run_module(
    argv: list[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmcheck", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def _meminfo_total_bytes() -> int:
    for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal in /proc/meminfo")


@pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="needs Linux /proc/meminfo")
def test_json_on_this_machine() -> None:
    """`python -m llmcheck --json` for real: one valid document, RAM as /proc/meminfo says."""
    done = _run_module(["--json"])
    assert done.returncode == cli.EXIT_OK, done.stderr
    doc = json.loads(done.stdout)
    validator_for("report_document", strict=True).validate(doc)
    assert doc["machine"]["memory"]["total_bytes"] == _meminfo_total_bytes()
    assert "Traceback" not in done.stderr


def test_json_against_a_fake_nvidia_driver(tmp_path: Path) -> None:
    """The real nvidia-ml-py ctypes path, end to end, against libnvidia-ml.so.1 built from C."""
    libnvml = pytest.importorskip("tests.fakes.libnvml")
    try:
        library = libnvml.build_fake_libnvml(tmp_path)
    except libnvml.CompilerMissingError:
        pytest.skip("no C compiler")
    env = {
        "LD_LIBRARY_PATH": f"{library.parent}:{os.environ.get('LD_LIBRARY_PATH', '')}",
        "FAKE_NVML_COUNT": "2",
    }
    done = _run_module(["--json"], env)
    assert done.returncode == cli.EXIT_OK, done.stderr
    doc = json.loads(done.stdout)
    validator_for("report_document", strict=True).validate(doc)
    nvidia = [g for g in doc["machine"]["gpus"] if g["vendor"] == "nvidia"]
    assert [g["name"] for g in nvidia] == ["NVIDIA H100 80GB HBM3", "NVIDIA GeForce RTX 4090"]
    assert nvidia[1]["total_bytes"] == 24564 * 2**20
    assert nvidia[1]["bandwidth_gb_s"] == pytest.approx(1008.1, abs=0.1)
    assert {b["device"] for b in doc["budgets"]} >= {"gpu:0", "gpu:1"}
    # A 4090 holds a small model on the GPU.
    small = next(m for m in doc["models"] if (m["variant"], m["quant"]) == ("lfm2-350m", "Q4_K_M"))
    assert small["verdict"] == "runs_great"
    # One GPU lost: the other is still reported, and the loss is a problem record.
    done = _run_module(["--json"], {**env, "FAKE_NVML_LOST": "0"})
    assert done.returncode == cli.EXIT_OK, done.stderr
    doc = json.loads(done.stdout)
    names = [g["name"] for g in doc["machine"]["gpus"] if g["vendor"] == "nvidia"]
    assert "NVIDIA GeForce RTX 4090" in names
    assert "nvml_gpu_lost" in {p["code"] for p in doc["problems"]}


def test_window_that_cannot_open_falls_back_to_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A desktop without Qt's system libraries still gets an answer, and a warning on stderr."""
    fake = types.ModuleType("llmcheck.gui.app")

    def fake_main(argv: list[str]) -> int:
        raise ImportError("libEGL.so.1: cannot open shared object file")

    fake.main = fake_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "llmcheck.gui.app", fake)
    monkeypatch.setattr("llmcheck.display.socket_answers", lambda *_a, **_k: True)
    monkeypatch.setattr("llmcheck.display.qt_plugin_problem", lambda _name: None)
    recorded = cli.load_snapshot(snap("cpu-laptop"))
    code = cli.main([], probe=lambda: recorded, environ={"DISPLAY": ":0"})
    captured = capsys.readouterr()
    assert "libEGL.so.1" in captured.err
    assert "Traceback" not in captured.err
    assert code == cli.EXIT_OK
    assert "AMD Ryzen 7 7840U" in captured.out


def test_verbose_logs_go_to_stderr_and_json_stays_clean(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = cli.main(
        ["-v", "--snapshot", snap("cpu-laptop"), "--json"], probe=no_probe, environ=NO_DISPLAY
    )
    captured = capsys.readouterr()
    assert code == cli.EXIT_OK
    validator_for("report_document").validate(json.loads(captured.out))
    assert "llmcheck: DEBUG: judging the recorded machine" in captured.err


@given(st.integers(min_value=1, max_value=cli.MAX_CONTEXT_TOKENS_ANY // 1024))
def test_parse_context_accepts_every_positive_size(n: int) -> None:
    assert cli.parse_context(str(n)) == n
    assert cli.parse_context(f"{n}k") == cli.parse_context(f"{n}K") == n * 1024


def test_console_script_entry() -> None:
    """The installed `llmcheck` script runs entry() -> main() and exits with its code."""
    script = Path(sys.executable).with_name("llmcheck")
    if not script.exists():
        pytest.skip("llmcheck is not installed as a console script in this environment")
    done = subprocess.run(
        [str(script), "check", "no-such-model", "-q", "Q4_K_M"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == cli.EXIT_USAGE
    assert done.stdout == ""
    assert "unknown variant" in one_error_line(done.stderr)


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")],
    ids=["utf-8-bom", "utf-16-le-powershell", "utf-16-be"],
)
def test_snapshot_with_a_byte_order_mark_reads_like_plain_utf8(
    encoding: str, bom: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Windows PowerShell 5.1's `llmcheck --json > f.json` writes UTF-16 with a BOM."""
    text = json.dumps(_doc("one-nvidia"), indent=2)
    plain = _write(tmp_path, "plain.json", text)
    marked = _write(tmp_path, "marked.json", bom + text.encode(encoding))
    assert cli.main(["--snapshot", plain, "--json"], probe=no_probe, environ=NO_DISPLAY) == 0
    want = capsys.readouterr().out
    assert cli.main(["--snapshot", marked, "--json"], probe=no_probe, environ=NO_DISPLAY) == 0
    assert capsys.readouterr().out == want
