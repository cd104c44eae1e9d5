"""Any machine on the command line (issue #11): --gpu-memory / --ram / --bandwidth overrides and
the fleet view (several --snapshot files or a folder; text, --json kind "fleet", --csv)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from llmcheck import cli
from llmcheck.machine_spec import (
    MAX_FLEET_MACHINES,
    Overrides,
    SpecError,
    apply_overrides,
    parse_bandwidth,
    parse_gpu_memory,
    parse_size,
    snapshot_labels,
    snapshot_paths,
)
from llmcheck.render.fleet import CSV_HEADERS, csv_cell
from llmcheck.snapshot import read_snapshot_file
from tests.helpers import SNAPSHOT_NAMES, run_cli
from tests.helpers import run_cli_json as run_json
from tests.helpers import snapshot_arg as snap

GIB = 1 << 30


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return run_cli(argv, capsys, no_traceback=True)


# --- sizes and overrides -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("24G", 24 * GIB),
        ("24GB", 24 * GIB),
        ("24GiB", 24 * GIB),
        ("24 gib", 24 * GIB),
        ("24576M", 24 * GIB),
        ("24576MiB", 24 * GIB),
        ("1.5T", 3 * (1 << 39)),
        ("8gb", 8 * GIB),
        ("512K", 512 * 1024),
    ],
)
def test_sizes_are_binary_whatever_the_spelling(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    "text",
    ["24", "", "G", "-4G", "0G", "24X", "24 GB GB", "9" * 40 + "G", "2000000T", "24G\n--ram"],
)
def test_bad_sizes_are_refused(text: str) -> None:
    with pytest.raises(SpecError):
        parse_size(text)


def test_gpu_memory_and_bandwidth_keys() -> None:
    assert parse_gpu_memory(["24G", "gpu:1=12G"]) == {None: 24 * GIB, 1: 12 * GIB}
    assert parse_bandwidth(["936", "gpu:1=360", "ram=68.5", "cpu=70"]) == {
        "gpu": 936.0,
        "gpu:1": 360.0,
        "ram": 70.0,
    }
    for bad in ("fast", "0", "gpu:x=3", "ram=", "100001"):
        with pytest.raises(SpecError):
            parse_bandwidth([bad])


def test_overrides_replace_numbers_and_say_the_user_gave_them() -> None:
    two = read_snapshot_file(snap("two-gpus"))
    out = apply_overrides(
        two,
        Overrides(
            gpu_bytes={None: 8 * GIB, 1: 4 * GIB},
            ram_bytes=16 * GIB,
            bandwidth_gb_s={"gpu:0": 500.0, "ram": 50.0},
        ),
    )
    assert [(g.total_bytes, g.free_bytes, str(g.memory_source)) for g in out.gpus] == [
        (8 * GIB, 8 * GIB, "user"),
        (4 * GIB, 4 * GIB, "user"),
    ]
    assert [g.bandwidth_gb_s for g in out.gpus] == [500.0, two.gpus[1].bandwidth_gb_s]
    assert str(out.gpus[0].bandwidth_source) == "user"
    assert (out.memory.available_bytes, str(out.memory.source)) == (16 * GIB, "user")
    assert (out.memory.bandwidth_gb_s, str(out.memory.bandwidth_source)) == (50.0, "user")
    assert out.memory.limit_bytes is None
    assert [g.name for g in out.gpus] == [g.name for g in two.gpus]  # the rest as read
    with pytest.raises(SpecError, match="no gpu:5"):
        apply_overrides(two, Overrides(gpu_bytes={5: GIB}))


def test_a_machine_without_a_gpu_gets_the_one_given() -> None:
    laptop = read_snapshot_file(snap("cpu-laptop"))
    out = apply_overrides(
        laptop, Overrides(gpu_bytes={None: 12 * GIB}, bandwidth_gb_s={"gpu": 360.0})
    )
    assert len(out.gpus) == 1
    assert (out.gpus[0].total_bytes, out.gpus[0].bandwidth_gb_s) == (12 * GIB, 360.0)
    # A bare bandwidth on a machine without a GPU is the RAM's.
    ram = apply_overrides(laptop, Overrides(bandwidth_gb_s={"gpu": 90.0}))
    assert (ram.gpus, ram.memory.bandwidth_gb_s) == ((), 90.0)


def test_overrides_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["check", "lfm2-8b-a1b", "-q", "Q4_K_M", "--snapshot", snap("one-nvidia")]
    code, big = run_json(argv, capsys)
    assert code == cli.EXIT_OK
    assert big["model"]["placement"] == "gpu"
    code, small = run_json([*argv, "--gpu-memory", "2G", "--ram", "3GB"], capsys)
    assert code == cli.EXIT_WONT_FIT
    gpu = small["machine"]["gpus"][0]
    assert (gpu["total_bytes"], gpu["free_bytes"], gpu["source"]) == (2 * GIB, 2 * GIB, "user")
    assert small["machine"]["memory"]["available_bytes"] == 3 * GIB
    assert small["machine"]["memory"]["source"] == "user"
    assert "(user)" in next(b["source"] for b in small["budgets"] if b["device"] == "gpu:0")
    _, out, _ = run([*argv, "--gpu-memory", "gpu:0=2G", "--ram", "3G"], capsys)
    assert "GPU 0:  NVIDIA GeForce RTX 4090: 2.00 GiB discrete, 2.00 GiB free (user)" in out
    assert "Memory: 3.00 GiB total, 3.00 GiB available (user)" in out
    _, out, _ = run([*argv, "--bandwidth", "ram=80", "--bandwidth", "500"], capsys)
    assert "bandwidth 80\u00a0GB/s (user)" in out
    assert "500\u00a0GB/s (user)" in next(x for x in out.splitlines() if x.startswith("GPU 0:"))


@pytest.mark.parametrize(
    "extra",
    [
        ["--gpu-memory", "24"],
        ["--ram", "lots"],
        ["--bandwidth", "fast"],
        ["--gpu-memory", "gpu:3=8G"],
        ["--bandwidth", "gpu:7=100"],
    ],
)
def test_bad_overrides_are_one_line_and_exit_2(
    extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["--snapshot", snap("one-nvidia"), *extra], capsys)
    assert code == cli.EXIT_USAGE
    assert out == ""
    assert len(err.strip().splitlines()) == 1


def test_help_says_how_sizes_are_read(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["--help"], capsys)
    flat = " ".join(out.split())
    for needle in (
        "--gpu-memory SIZE",
        "--ram SIZE",
        "--bandwidth GB/S",
        "G, GB and GiB all mean 2^30 bytes",
    ):
        assert needle in flat


# --- the fleet -------------------------------------------------------------------------------

QUESTION = ["check", "lfm2-24b-a2b", "-q", "Q4_K_M", "--ctx", "32k"]


def every_snapshot() -> list[str]:
    return [a for name in SNAPSHOT_NAMES for a in ("--snapshot", snap(name))]


def test_fleet_json_one_row_per_machine(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json([*QUESTION, *every_snapshot()], capsys)
    assert doc["kind"] == "fleet"
    assert [r["label"] for r in doc["machines"]] == list(SNAPSHOT_NAMES)
    # Each row is the single-machine check's answer.
    for row, name in zip(doc["machines"], SNAPSHOT_NAMES, strict=True):
        single_code, single = run_json([*QUESTION, "--snapshot", snap(name)], capsys)
        model = single["model"]
        assert single_code == cli.exit_code_for(model["verdict"])
        assert (row["verdict"], row["placement"], row["total_bytes"], row["max_context"]) == (
            model["verdict"],
            model["placement"],
            model["memory"]["total_bytes"],
            model["max_context"],
        )
        assert row["shortfall_bytes"] == model["shortfall_bytes"]
        fits = model["verdict"] in ("runs_great", "tight")
        assert row["llama_cpp_command"] == (model["llama_cpp_command"] if fits else None)
    assert doc["fits_on"] == sum(r["verdict"] in ("runs_great", "tight") for r in doc["machines"])
    assert 0 < doc["fits_on"] < len(SNAPSHOT_NAMES)
    assert code == cli.EXIT_OK


def test_fleet_text_and_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("one-nvidia", "cpu-laptop"):
        shutil.copy(snap(name), tmp_path / f"{name}.json")
    (tmp_path / "notes.txt").write_text("not a machine", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    shutil.copy(snap("two-gpus"), tmp_path / "sub" / "two-gpus.json")  # not read: not recursive
    code, out, _ = run([*QUESTION, "--snapshot", str(tmp_path)], capsys)
    lines = out.splitlines()
    assert lines[0] == "LFM2-24B-A2B Q4_K_M at 32,768 tokens of context: fits on 1 of 2 machines"
    rows = [line for line in lines[4:] if line]
    assert [r.split()[0] for r in rows] == ["cpu-laptop", "one-nvidia"]
    assert "won't fit" in rows[0]
    assert "short)" in rows[0]
    assert code == cli.EXIT_OK


def test_fleet_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    none_fit = [
        "check",
        "lfm2-24b-a2b",
        "-q",
        "F16",
        "--snapshot",
        snap("cpu-laptop"),
        "--snapshot",
        snap("container-limited"),
    ]
    assert run(none_fit, capsys)[0] == cli.EXIT_WONT_FIT
    unknown = [
        "check",
        "lfm2-350m",
        "-q",
        "Q4_0",
        "--snapshot",
        snap("unknown-budget"),
        "--snapshot",
        snap("unknown-budget"),
    ]
    code, doc = run_json(unknown, capsys)
    assert code == cli.EXIT_BUDGET_UNKNOWN
    assert [r["label"] for r in doc["machines"]] == ["unknown-budget", "unknown-budget (2)"]
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    code, doc = run_json(
        [
            "check",
            "lfm2-350m",
            "-q",
            "Q4_0",
            "--snapshot",
            str(broken),
            "--snapshot",
            snap("one-nvidia"),
        ],
        capsys,
    )
    assert code == cli.EXIT_OK  # one unreadable file is a row, not an error
    assert doc["machines"][0]["verdict"] is None
    assert doc["machines"][0]["error"]
    code, out, err = run(
        [
            "check",
            "lfm2-350m",
            "-q",
            "Q4_0",
            "--snapshot",
            str(broken),
            "--snapshot",
            str(tmp_path / "missing.json"),
        ],
        capsys,
    )
    assert code == cli.EXIT_USAGE
    assert out == ""
    assert "no machine could be judged" in err
    single = tmp_path / "single"
    single.mkdir()
    shutil.copy(snap("one-nvidia"), single / "only.json")
    code, doc = run_json(["check", "lfm2-350m", "-q", "Q4_0", "--snapshot", str(single)], capsys)
    assert (code, doc["kind"], [r["label"] for r in doc["machines"]]) == (
        cli.EXIT_OK,
        "fleet",
        ["only"],
    )
    assert run(["--snapshot", str(single)], capsys)[0] == cli.EXIT_USAGE
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(["check", "lfm2-350m", "-q", "Q4_0", "--snapshot", str(empty)], capsys)[0] == (
        cli.EXIT_USAGE
    )
    # The report answers one machine: several are a usage error pointing to check.
    code, _, err = run(["--snapshot", snap("one-nvidia"), "--snapshot", snap("cpu-laptop")], capsys)
    assert code == cli.EXIT_USAGE
    assert "llmcheck check" in err


def test_fleet_csv_is_rfc_4180_and_defuses_formulas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = json.loads(Path(snap("one-nvidia")).read_text(encoding="utf-8"))
    hostile["machine"]["gpus"][0]["name"] = '=HYPERLINK("http://x")\x1b[31m,"red"\nrow'
    (tmp_path / "=cmd.json").write_text(json.dumps(hostile), encoding="utf-8")
    (tmp_path / "@sum.json").write_text(json.dumps(hostile), encoding="utf-8")
    shutil.copy(snap("cpu-laptop"), tmp_path / "laptop.json")
    code, out, _ = run([*QUESTION, "--snapshot", str(tmp_path), "--csv"], capsys)
    assert code == cli.EXIT_OK
    assert out.endswith("\r\n")
    assert "\x1b" not in out
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert rows[0] == list(CSV_HEADERS)
    assert len(rows) == 4
    assert all(len(r) == len(CSV_HEADERS) for r in rows)
    by_label = {r[0]: dict(zip(CSV_HEADERS, r, strict=True)) for r in rows[1:]}
    assert set(by_label) == {"'=cmd", "'@sum", "laptop"}
    assert by_label["'=cmd"]["hardware"].startswith("'=HYPERLINK(")
    assert "\n" not in by_label["'=cmd"]["hardware"]
    assert by_label["laptop"]["verdict"] == "wont_fit"
    assert int(by_label["laptop"]["shortfall_bytes"]) > 0
    assert by_label["laptop"]["decode_low_tok_s"] == ""
    assert run([*QUESTION, "--snapshot", str(tmp_path), "--csv", "--json"], capsys)[0] == (
        cli.EXIT_USAGE
    )


def test_csv_cells() -> None:
    assert [csv_cell(v) for v in (None, 3, 2.5, True, "-1", "+a", "ok", "a\tb")] == [
        "",
        "3",
        "2.5",
        "true",
        "'-1",
        "'+a",
        "ok",
        "a b",
    ]


def test_fleet_paths_are_bounded(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"m{i}.json").write_text("{}", encoding="utf-8")
    assert snapshot_paths([str(tmp_path)]) == [str(tmp_path / f"m{i}.json") for i in range(3)]
    with pytest.raises(SpecError, match="more than 2"):
        snapshot_paths([str(tmp_path)], limit=2)
    assert MAX_FLEET_MACHINES == 1000
    assert snapshot_labels(["a/x.json", "b/x.json", "y.JSON", "-"]) == ["x", "x (2)", "y", "-"]


# --- --what-if: a machine of the what-if catalog (llmcheck.machines) --------------------------


def test_what_if_judges_a_catalogued_machine(capsys: pytest.CaptureFixture[str]) -> None:
    from llmcheck.catalog import load_catalog
    from llmcheck.estimate import RunConfig, estimate_all
    from llmcheck.machines import load_machines, machine_snapshot
    from llmcheck.recommend import recommend

    code, doc = run_json(["--what-if", "RTX-4090"], capsys)
    assert code == cli.EXIT_OK
    gpu = doc["machine"]["gpus"][0]
    assert (gpu["name"], gpu["source"]) == ("NVIDIA GeForce RTX 4090 24 GiB", "table")
    catalog = load_catalog()
    machine = next(m for m in load_machines() if m.id == "rtx-4090")
    rec = recommend(estimate_all(catalog, machine_snapshot(machine), RunConfig()), catalog)
    assert rec.best is not None
    best = doc["recommendations"]["best"]
    assert (best["variant"], best["quant"]) == (rec.best.variant_id, rec.best.quant)
    # Overrides apply on top of it.
    _, small = run_json(["--what-if", "rtx-4090", "--gpu-memory", "8G"], capsys)
    assert (small["machine"]["gpus"][0]["total_bytes"], small["machine"]["gpus"][0]["source"]) == (
        8 * GIB,
        "user",
    )


def test_what_if_machines_join_a_fleet(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(
        [
            *QUESTION,
            "--what-if",
            "4090",
            "--what-if",
            "rtx-3060-12g",
            "--snapshot",
            snap("cpu-laptop"),
        ],
        capsys,
    )
    assert [r["label"] for r in doc["machines"]] == ["cpu-laptop", "rtx-4090", "rtx-3060-12g"]
    assert [r["verdict"] for r in doc["machines"]][:2] == ["wont_fit", "runs_great"]
    assert code == cli.EXIT_OK


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--what-if", "rtx"], "matches 8 machines"),
        (["--what-if", "rtx-4091"], "did you mean rtx-4090"),
        (["--what-if", "zzz"], "known: rtx-3060-12g"),
        (["--what-if", "rtx-4090", "--measure-bandwidth"], "--measure-bandwidth measures"),
        (["--what-if", "rtx-4090", "--what-if", "l4"], "several machines answer one question"),
    ],
)
def test_what_if_usage_errors(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(argv, capsys)
    assert code == cli.EXIT_USAGE
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert needle in err
