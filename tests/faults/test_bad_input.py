"""Hostile input through the real command line: a documented exit code and one clear line on
stderr, never a traceback, and nothing in the user's HOME or working folder touched.

Also: the GPU probe child answers a bug in the probe with a problem record instead of letting
multiprocessing print a traceback on the user's terminal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from llmcheck import cli
from tests.helpers import fingerprint

DATA = Path(__file__).resolve().parent.parent / "data"
SNAPSHOT = DATA / "snapshots" / "two-gpus.json"


def _snapshot_variants(folder: Path) -> dict[str, Path]:
    good = SNAPSHOT.read_text(encoding="utf-8")
    doc = json.loads(good)
    files: dict[str, bytes] = {
        "truncated": good[: len(good) // 2].encode(),
        "nan": good.replace('"total_bytes": ', '"total_bytes": NaN, "x": ', 1).encode(),
        "huge-bytes": json.dumps(
            {
                **doc,
                "machine": {
                    **doc["machine"],
                    "memory": {**doc["machine"]["memory"], "total_bytes": 1 << 64},
                },
            }
        ).encode(),
        "wrong-type": json.dumps({**doc, "machine": {**doc["machine"], "gpus": "two"}}).encode(),
        "deep": ("[" * 200_000).encode(),
        "binary": b"\x80\xfe\x00\x01garbage",
        "empty": b"",
        "newer-schema": json.dumps({**doc, "schema_version": "99"}).encode(),
    }
    out = {}
    for name, data in files.items():
        path = folder / f"{name}.json"
        path.write_bytes(data)
        out[name] = path
    big = folder / "huge-100mb.json"
    with big.open("wb") as handle:  # sparse: 100 MB of NULs costs no disk
        handle.truncate(100 << 20)
    out["100mb"] = big
    return out


BAD_ARGV: dict[str, list[str]] = {
    "ctx-negative": ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--ctx", "-5"],
    "ctx-zero": ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--ctx", "0"],
    "ctx-huge": ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--ctx", "999999999999"],
    "ctx-above-model": ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--ctx", "1024k"],
    "ctx-words": ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--ctx", "lots"],
    "unknown-variant": ["check", "lfm9-70b", "-q", "Q4_K_M"],
    "unknown-quant": ["check", "lfm2-1.2b", "-q", "Q3_XXL"],
    "quant-conflict": ["check", "hf.co/LiquidAI/LFM2-1.2B-GGUF:Q4_K_M", "-q", "Q8_0"],
    "odd-unicode-variant": ["check", "lfm2\u202e-1.2b\U0001f600", "-q", "Q4_K_M"],
    "no-such-gpu": ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--device", "gpu:7"],
    "bad-device": ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--device", "tpu"],
    "parallel-zero": ["--parallel", "0"],
    "ubatch-huge": ["--ubatch", "99999999"],
    "unknown-option": ["--frobnicate"],
    "missing-quant": ["check", "lfm2-1.2b"],
}
SLOW_DIGITS = {"ctx-digits-5000": ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--ctx", "9" * 5000]}


def run_cli(argv: list[str], home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "LANG": "C.UTF-8",
    }
    return subprocess.run(
        [sys.executable, "-m", "llmcheck", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def user(tmp_path: Path) -> dict[str, Path]:
    home = tmp_path / "home"
    (home / ".config" / "llmcheck").mkdir(parents=True)
    (home / ".config" / "llmcheck" / "llmcheck.conf").write_text("[General]\nctx=4096\n")
    (home / "report.json").write_text("{}\n")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return {"home": home, "cwd": cwd, "tmp": tmp_path}


def _check_one_line_usage(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == cli.EXIT_USAGE, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("llmcheck: error: ")
    assert done.stdout == ""


@pytest.mark.parametrize("name", sorted(BAD_ARGV))
def test_bad_command_line_value(user: dict[str, Path], name: str) -> None:
    argv = [*BAD_ARGV[name], "--snapshot", str(SNAPSHOT)]
    if name == "unknown-option":
        argv = BAD_ARGV[name]
    before = fingerprint(user["home"])
    done = run_cli(argv, user["home"], user["cwd"])
    _check_one_line_usage(done)
    assert fingerprint(user["home"]) == before
    assert list(user["cwd"].iterdir()) == []


def test_ctx_with_thousands_of_digits(user: dict[str, Path]) -> None:
    done = run_cli(
        [*SLOW_DIGITS["ctx-digits-5000"], "--snapshot", str(SNAPSHOT)], user["home"], user["cwd"]
    )
    _check_one_line_usage(done)


@pytest.mark.parametrize(
    "name",
    [
        "truncated",
        "nan",
        "huge-bytes",
        "wrong-type",
        "deep",
        "binary",
        "empty",
        "newer-schema",
        "100mb",
        "missing",
        "folder",
    ],
)
def test_bad_snapshot_file(user: dict[str, Path], name: str) -> None:
    files = _snapshot_variants(user["tmp"])
    files["missing"] = user["tmp"] / "no-such.json"
    files["folder"] = user["tmp"]
    before = fingerprint(user["home"])
    for argv in (
        ["--json", "--snapshot", str(files[name])],
        ["check", "lfm2-1.2b", "-q", "Q4_K_M", "--snapshot", str(files[name])],
    ):
        done = run_cli(argv, user["home"], user["cwd"])
        _check_one_line_usage(done)
        assert str(files[name]) in done.stderr or name == "folder"
    assert fingerprint(user["home"]) == before


def test_huge_snapshot_is_refused_by_its_size(user: dict[str, Path]) -> None:
    big = _snapshot_variants(user["tmp"])["100mb"]
    done = run_cli(["--snapshot", str(big)], user["home"], user["cwd"])
    assert "larger than 16 MiB" in done.stderr


class _Conn:
    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.closed = False

    def send(self, value: Any) -> None:
        self.sent.append(value)

    def close(self) -> None:
        self.closed = True


def test_gpu_child_answers_a_probe_bug_with_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug inside probe_gpus becomes gpu_probe_failed, not a traceback on the terminal."""
    import llmcheck.probe as dispatcher

    def broken(**_kwargs: object) -> dict[str, Any]:
        raise MemoryError("no room")

    monkeypatch.setattr(dispatcher, "probe_gpus", broken)
    conn = _Conn()
    dispatcher._child(conn, "Linux", None)
    assert conn.closed
    (answer,) = conn.sent
    gpus, issues = dispatcher._gpus_from_dicts(answer)
    assert gpus == ()
    assert [i.code for i in issues] == ["gpu_probe_failed"]
    assert "MemoryError" in issues[0].message
