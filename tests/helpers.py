"""What many tests share: the recorded machines and the published JSON Schema.

One place instead of a copy per test module, and no test module importing another's helpers.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from llmcheck.probe.bandwidth_measure import BandwidthMeasurement
from llmcheck.resources import resource_path
from llmcheck.snapshot import Source, SystemSnapshot, read_snapshot_file

DATA_DIR = Path(__file__).parent / "data"
SNAPSHOT_DIR = DATA_DIR / "snapshots"
SNAPSHOT_NAMES = (
    "cpu-laptop",
    "one-nvidia",
    "two-gpus",
    "apple-m2-max",
    "dgx-spark",
    "container-limited",
    "unknown-budget",
)


def snapshot_path(name: str) -> Path:
    """A recorded machine's file in tests/data/snapshots/."""
    return SNAPSHOT_DIR / f"{name}.json"


def read_snapshot_doc(name: str) -> dict[str, Any]:
    """One recorded snapshot file, parsed as JSON."""
    loaded: dict[str, Any] = json.loads(snapshot_path(name).read_text(encoding="utf-8"))
    return loaded


def recorded_machine(name: str) -> SystemSnapshot:
    """A recorded machine, read the way the CLI and the window read a --snapshot file."""
    return read_snapshot_file(snapshot_path(name))


def load_schema() -> dict[str, Any]:
    """The schema as shipped in resources/."""
    text = resource_path("json-schema", "llmcheck-report.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validator_for(definition: str | None = None, *, strict: bool = False) -> jsonschema.Validator:
    """A draft 2020-12 validator for the whole schema or one of its $defs.

    With ``strict``, every object in the schema refuses keys it does not document, so a test
    can prove the output has no undocumented field (the published schema stays open for
    additions, as the docs promise).
    """
    schema = load_schema()
    if strict:
        schema = _closed(schema)
    if definition is not None:
        schema = {
            "$schema": schema["$schema"],
            "$defs": schema["$defs"],
            "$ref": f"#/$defs/{definition}",
        }
    return jsonschema.Draft202012Validator(schema)


def _closed(node: Any) -> Any:
    node = copy.deepcopy(node)
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "properties" in item:
                item.setdefault("additionalProperties", False)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return node


def fake_measurement(gb_s: float, *, busy: bool = False) -> BandwidthMeasurement:
    """What the robust RAM measurement returns: ``gb_s`` from four rounds (kept unless busy)."""
    return BandwidthMeasurement(
        copy_gb_s=gb_s,
        rounds_gb_s=(gb_s,),
        rounds_total=4,
        rounds_kept=0 if busy else 4,
        busy=busy,
        load_known=True,
        worst_disturbance=0.7 if busy else 0.01,
        steal_fraction=0.0,
        load_1m=0.2,
        threads=2,
        buffer_bytes=64 << 20,
        seconds=0.9,
        measured_at_unix_s=time.time(),
    )


class FakeCopier:
    """The bandwidth cache's copier seam: a fake measurement below the real cache and
    apply_bandwidth. Records the thread of each call; can fail, or wait for an event first."""

    def __init__(
        self,
        gb_s: float,
        *,
        busy: bool = False,
        fails: BaseException | None = None,
        wait_for: threading.Event | None = None,
    ) -> None:
        self.gb_s, self.busy, self.fails, self.wait_for = gb_s, busy, fails, wait_for
        self.on_main_thread: list[bool] = []

    def __call__(self) -> BandwidthMeasurement:
        self.on_main_thread.append(threading.current_thread() is threading.main_thread())
        if self.wait_for is not None:
            self.wait_for.wait(10)
        if self.fails is not None:
            raise self.fails
        return fake_measurement(self.gb_s, busy=self.busy)


def table_bandwidth_laptop(*, live: bool = True) -> SystemSnapshot:
    """The recorded CPU laptop as today's probe reads it: RAM bandwidth from the class table
    (90 GB/s, likely 77-102); ``live`` as read on this machine (measurable), else a file."""
    snapshot = recorded_machine("cpu-laptop")
    memory = replace(
        snapshot.memory,
        bandwidth_gb_s=90.0,
        bandwidth_source=Source.TABLE,
        bandwidth_low_gb_s=77.0,
        bandwidth_high_gb_s=102.0,
    )
    return replace(snapshot, memory=memory, source=Source.MEASURED if live else Source.SNAPSHOT)


def fingerprint(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` -> a digest of its content (folders: "dir")."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def snapshot_arg(name: str) -> str:
    """One recorded snapshot's path, as a command-line argument."""
    return str(snapshot_path(name))


def run_cli(
    argv: list[str], capsys: pytest.CaptureFixture[str], *, no_traceback: bool = False
) -> tuple[int, str, str]:
    """``llmcheck ARGV`` with no display: (exit code, stdout, stderr)."""
    from llmcheck import cli

    code = cli.main(argv, environ={})
    out, err = capsys.readouterr()
    if no_traceback:
        assert "Traceback" not in err
    return code, out, err


def run_cli_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    """``llmcheck ARGV --json``: the exit code and the document, checked against the schema."""
    code, out, _ = run_cli([*argv, "--json"], capsys, no_traceback=True)
    doc = json.loads(out)
    validator_for(strict=True).validate(doc)
    return code, doc
