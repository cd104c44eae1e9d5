"""Property tests over every parser: hostile text in, a value or the documented error out.

Each parser is fed hypothesis-generated input (and mutations of the real recorded files); the
property is that it returns its documented type with sane values, or raises only its documented
error (SnapshotError, CatalogError, UsageError, ValueError for the shipped tables), never anything
else. ``benchmarks/fuzz.py`` runs the same targets for thousands of inputs and counts crashes.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import string
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmcheck import cli
from llmcheck.catalog import CatalogError, load_catalog_from
from llmcheck.gui.machines import MachineCatalogError, load_machines
from llmcheck.probe.apple import parse_apple_table
from llmcheck.probe.cpu import parse_mac_sysctl, parse_proc_cpuinfo
from llmcheck.probe.linux_gpu import _parse_uevent, parse_pci_table
from llmcheck.probe.memory import (
    _parse_stat,
    parse_meminfo,
    parse_mountinfo,
    parse_proc_cgroup,
    read_cgroup_memory,
)
from llmcheck.probe.platform_info import parse_byte_count, parse_int, parse_sysctl
from llmcheck.probe.windows import parse_reg_export
from llmcheck.resources import resource_path
from llmcheck.snapshot import MAX_PLAUSIBLE_BYTES, SnapshotError, snapshot_from_dict

DATA = Path(__file__).resolve().parent / "data"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(call: Callable[[], Any], error: type[Exception]) -> tuple[Any, str | None]:
    """``(call(), None)``, or ``(None, message)`` when it raised the documented ``error``."""
    try:
        return call(), None
    except error as exc:
        return None, str(exc)


# --- input strategies -------------------------------------------------------------------------

_NUMBERS = st.sampled_from(
    [
        "0",
        "-1",
        "18446744073709551616",
        "18446744073709551615",
        "9" * 5000,
        "\u00b2",
        "1e9",
        "nan",
        "inf",
        "0x10",
        " 42 ",
        "\u0661\u0662",
        "max",
        "",
    ]
)
_TOKENS = st.one_of(
    _NUMBERS,
    st.text(alphabet=string.printable, max_size=20),
    st.text(max_size=8),  # any unicode, surrogates excluded by hypothesis
    st.sampled_from(
        [
            ":",
            " - ",
            "=",
            "kB",
            "MemTotal",
            "0::",
            "memory",
            "cgroup2",
            "\\",
            '"',
            "[",
            "]",
            "hex:",
            "dword:",
            "hex(b):",
            "\x00",
            "\n",
            "\t",
            "\r\n",
        ]
    ),
)
KERNEL_TEXT = st.lists(_TOKENS, max_size=60).map(" ".join) | st.lists(_TOKENS, max_size=60).map(
    "\n".join
)


def recorded_lines(*names: str) -> list[str]:
    """Lines of real recorded files, to mutate."""
    lines: list[str] = []
    for name in names:
        lines += (DATA / name).read_text(encoding="utf-8").splitlines()
    return lines


def mutated(lines: list[str]) -> st.SearchStrategy[str]:
    """A recorded file with lines dropped, duplicated, cut, or their numbers swapped for junk."""
    line = st.sampled_from(lines)
    mutant = st.one_of(
        line,
        st.tuples(line, st.integers(0, 80)).map(lambda t: t[0][: t[1]]),
        st.tuples(line, _NUMBERS).map(lambda t: "".join(t[1] if c.isdigit() else c for c in t[0])),
        st.tuples(line, _TOKENS).map(lambda t: t[0] + t[1]),
    )
    return st.lists(mutant, max_size=40).map("\n".join)


def json_values(depth: int = 4) -> st.SearchStrategy[Any]:
    """Any JSON value, with the numbers that hurt (NaN, huge, negative)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
        ),
        max_leaves=30,
    )


def _good_doc() -> dict[str, Any]:
    return json.loads((DATA / "snapshots" / "two-gpus.json").read_text(encoding="utf-8"))


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


GOOD_PATHS = _paths(_good_doc())[1:]


@st.composite
def damaged_snapshot(draw: st.DrawFn) -> Any:
    """A real snapshot with one to three fields replaced by hostile JSON values."""
    doc = _good_doc()
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(GOOD_PATHS))
        node = doc
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = draw(json_values())
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the path
    return doc


# --- probe text parsers: never raise -----------------------------------------------------------

NEVER_RAISE: dict[str, tuple[Callable[[str], object], list[str]]] = {
    "parse_meminfo": (parse_meminfo, recorded_lines("proc/meminfo_vm24g.txt")),
    "parse_mountinfo": (parse_mountinfo, recorded_lines("cgroup/v1_nested/proc/self/mountinfo")),
    "parse_proc_cgroup": (parse_proc_cgroup, recorded_lines("cgroup/v1_nested/proc/self/cgroup")),
    "_parse_stat": (
        _parse_stat,
        recorded_lines("cgroup/v2_numeric/sys/fs/cgroup/system.slice/llm.service/memory.stat"),
    ),
    "parse_sysctl": (parse_sysctl, recorded_lines("sysctl/m2max_38_default.txt")),
    "parse_proc_cpuinfo": (parse_proc_cpuinfo, recorded_lines("proc/cpuinfo_epyc_vm.txt")),
    "parse_reg_export": (parse_reg_export, recorded_lines("registry/rx7900xtx_uhd770.reg")),
    "_parse_uevent": (
        _parse_uevent,
        recorded_lines("sysfs/rx7900xtx/class/drm/card0/device/uevent"),
    ),
    "parse_byte_count": (parse_byte_count, ["24576", "0"]),
    "parse_int": (parse_int, ["1", "18446744073709551615"]),
    "parse_mac_sysctl": (
        lambda t: parse_mac_sysctl(parse_sysctl(t)),
        recorded_lines("sysctl/m4pro_20.txt"),
    ),
}


@pytest.mark.parametrize("name", sorted(NEVER_RAISE))
def test_probe_parser_never_raises(name: str) -> None:
    parse, lines = NEVER_RAISE[name]

    @FUZZ
    @given(text=KERNEL_TEXT | mutated(lines))
    def run(text: str) -> None:
        result = parse(text)
        if name == "parse_meminfo":
            assert all(isinstance(v, int) and 0 <= v < 10**20 * 1024 for v in result.values())
        if name in ("parse_byte_count",):
            assert result is None or 0 < result <= MAX_PLAUSIBLE_BYTES
        if name == "parse_int":
            assert result is None or 0 <= result < 10**20

    run()


@FUZZ
@given(
    files=st.dictionaries(
        st.sampled_from(["memory.max", "memory.current", "memory.stat", "cgroup", "mountinfo"]),
        KERNEL_TEXT,
        max_size=5,
    )
)
def test_cgroup_reader_gives_a_plausible_limit_or_none(files: dict[str, str]) -> None:
    base = DATA / "cgroup" / "v2_numeric"
    real = {
        p.relative_to(base): p.read_text(encoding="utf-8") for p in base.rglob("*") if p.is_file()
    }
    leaf = Path("sys/fs/cgroup/system.slice/llm.service")
    where = {
        "memory.max": leaf / "memory.max",
        "memory.current": leaf / "memory.current",
        "memory.stat": leaf / "memory.stat",
        "cgroup": Path("proc/self/cgroup"),
        "mountinfo": Path("proc/self/mountinfo"),
    }
    for key, text in files.items():
        real[where[key]] = text

    def read_text(path: Path) -> str:
        rel = path.relative_to("/r")
        if rel not in real:
            raise FileNotFoundError(str(path))
        return real[rel]

    found = read_cgroup_memory(root=Path("/r"), read_text=read_text)
    assert found.limit_bytes is None or 0 < found.limit_bytes <= MAX_PLAUSIBLE_BYTES
    assert found.working_set_bytes is None or found.working_set_bytes >= 0


# --- shipped tables: ValueError (with a name) or a table ----------------------------------------

TOML_ATOMS = st.sampled_from(
    [
        '"x"',
        "1",
        "-1",
        "1e400",
        "nan",
        "true",
        "[]",
        "[1, 2]",
        "{}",
        '{ name = "x" }',
        '"1002:744c"',
        '"discrete"',
        "1979-05-27",
        "[[1]]",
    ]
)


@st.composite
def toml_text(draw: st.DrawFn, keys: list[str], tables: list[str]) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            lines.append(f"[[{draw(st.sampled_from(tables))}]]")
        elif kind == 1:
            lines.append(f"{draw(st.sampled_from(keys))} = {draw(TOML_ATOMS)}")
        elif kind == 2:
            lines.append(draw(st.text(alphabet=string.printable, max_size=20)))
        else:
            lines.append(f"[{draw(st.sampled_from(tables))}]")
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("parse", "keys", "tables"),
    [
        (
            parse_pci_table,
            ["pci_id", "kind", "name", "bandwidth_gb_s", "vram_gib", "gpu", "variant"],
            ["gpu", "gpu.variant"],
        ),
        (
            parse_apple_table,
            ["name", "bandwidth_gb_s", "gpu_cores", "chip", "bin"],
            ["chip", "chip.bin"],
        ),
    ],
    ids=["pci.toml", "apple.toml"],
)
def test_shipped_table_parsers_raise_only_value_error(
    parse: Callable[[str], object], keys: list[str], tables: list[str]
) -> None:
    @FUZZ
    @given(text=toml_text(keys, tables))
    def run(text: str) -> None:
        with contextlib.suppress(ValueError):
            parse(text)

    run()


@FUZZ
@given(
    text=toml_text(
        [
            "id",
            "name",
            "kind",
            "vendor",
            "vram_gib",
            "memory_gib",
            "bandwidth_gb_s",
            "host_ram_gib",
            "host_ram_bandwidth_gb_s",
            "os_reserved_gib",
            "source",
            "machine",
            "defaults",
        ],
        ["machine", "defaults"],
    )
)
def test_what_if_machine_catalog_raises_only_its_error(text: str) -> None:
    try:
        machines = load_machines(text)
    except MachineCatalogError:
        return
    for m in machines:
        assert m.device_memory_bytes > 0
        assert math.isfinite(m.bandwidth_gb_s)


# --- the model catalog through the real loader ---------------------------------------------------

CATALOG_FILES = {
    p.name: p.read_text(encoding="utf-8")
    for p in Path(str(resource_path("catalog"))).glob("*.toml")
}


@st.composite
def damaged_catalog(draw: st.DrawFn) -> dict[str, str]:
    """The shipped catalog with lines of one file dropped, cut or given hostile values."""
    files = dict(CATALOG_FILES)
    name = draw(st.sampled_from(sorted(files)))
    lines = files[name].splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        how = draw(st.integers(0, 3))
        if how == 0:
            del lines[i]
        elif how == 1:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif how == 2 and "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            lines[i] = f"{key}= {draw(TOML_ATOMS)}"
        else:
            lines.insert(i, draw(st.text(alphabet=string.printable, max_size=30)))
    files[name] = "\n".join(lines)
    return files


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=damaged_catalog())
def test_catalog_loader_raises_only_catalog_error(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for name, text in files.items():
            (Path(folder) / name).write_text(text, encoding="utf-8")
        catalog, error = outcome(lambda: load_catalog_from(Path(folder)), CatalogError)
        if error is not None:
            assert error.split(":", 1)[0].endswith(".toml") or folder in error
            return
        assert catalog.variants


def test_catalog_loader_names_the_file_of_a_binary_or_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no catalog files"):
        load_catalog_from(tmp_path)
    (tmp_path / "x.toml").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CatalogError, match=r"x\.toml: cannot read"):
        load_catalog_from(tmp_path)


# --- snapshot documents ------------------------------------------------------------------------


@FUZZ
@given(doc=json_values() | damaged_snapshot())
def test_snapshot_reader_raises_only_snapshot_error(doc: Any) -> None:
    snap, error = outcome(lambda: snapshot_from_dict(doc), SnapshotError)
    if error is not None:
        assert error
        return
    for gpu in snap.gpus:
        assert gpu.total_bytes is None or 0 <= gpu.total_bytes <= MAX_PLAUSIBLE_BYTES
    assert snap.memory.total_bytes is None or snap.memory.total_bytes <= MAX_PLAUSIBLE_BYTES


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=200),
        damaged_snapshot().map(lambda d: json.dumps(d).encode()),
        damaged_snapshot().map(lambda d: json.dumps(d).encode()[: len(json.dumps(d)) // 2]),
    )
)
def test_load_snapshot_gives_one_usage_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "snap.json"
        path.write_bytes(data)
        _snap, error = outcome(lambda: cli.load_snapshot(str(path)), cli.UsageError)
        if error is not None:
            assert "\n" not in error
            assert str(path) in error


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, '{"a":' * 100_000, "1" * 100_000, '{"machine": NaN}', "\ufeff{}", ""],
    ids=["deep-list", "deep-object", "huge-number", "nan", "bom", "empty"],
)
def test_load_snapshot_hostile_documents(text: str) -> None:
    with pytest.raises(cli.UsageError) as info:
        cli.load_snapshot("-", stdin=io.StringIO(text))
    assert "\n" not in str(info.value)


def test_load_snapshot_size_cap_reads_no_more_than_the_cap() -> None:
    class Endless(io.StringIO):
        """100 MB of spaces, served lazily; counts what was read."""

        read_total = 0

        def read(self, size: int | None = -1) -> str:
            n = 100 << 20 if size is None or size < 0 else min(size, 100 << 20)
            self.read_total += n
            return " " * n

    stream = Endless()
    with pytest.raises(cli.UsageError, match="larger than 16 MiB"):
        cli.load_snapshot("-", stdin=stream)
    assert stream.read_total <= cli.MAX_SNAPSHOT_FILE_BYTES + 1


# --- command-line values ---------------------------------------------------------------------

CONTEXTS = st.one_of(
    st.integers(-(2**80), 2**80).map(str),
    st.text(max_size=12),
    st.sampled_from(
        [
            "0",
            "-1",
            "1k",
            "32K",
            "128k",
            "1e6",
            "0x1000",
            "4096.0",
            "١٠٢٤",
            "\u00b2",
            "9" * 40,
            " 4096 ",
            "nan",
            "inf",
            "16777217",
        ]
    ),
    # "9" * 5000 has its own test below (it takes Python's int-size limit to read).
)


@FUZZ
@given(text=CONTEXTS)
def test_parse_context_gives_tokens_or_one_usage_error(text: str) -> None:
    tokens, error = outcome(lambda: cli.parse_context(text), cli.UsageError)
    if error is not None:
        assert "\n" not in error
        return
    assert 1 <= tokens <= cli.MAX_CONTEXT_TOKENS_ANY


def test_parse_context_with_thousands_of_digits_is_a_usage_error() -> None:
    """A pasted run of digits is bad usage (exit 2), not an internal error (exit 4)."""
    with pytest.raises(cli.UsageError):
        cli.parse_context("9" * 5000)


# --- the whole command line: a documented exit code and one line, never a traceback ------------

SNAPSHOT = DATA / "snapshots" / "two-gpus.json"
HOSTILE = st.one_of(
    st.text(max_size=10),
    st.sampled_from(
        [
            "-1",
            "0",
            "1e9",
            "9" * 30,
            "\u202e",
            "\U0001f600",
            "gpu:99",
            "gpu:-1",
            "Q4_K_M",
            "q4_k_m",
            "Q9_Z",
            "lfm2-1.2b",
            "LFM2-1.2B",
            "lfm9",
            "--json",
            "",
            " ",
            "\x00",
            "\ud7ff",
            "auto",
            "cpu",
            "f16",
            "q4_0",
            "on",
            "off",
        ]
    ),
)


@st.composite
def argv(draw: st.DrawFn) -> list[str]:
    args = ["check", draw(HOSTILE), "--quant", draw(HOSTILE), "--snapshot", str(SNAPSHOT)]
    for option in ("--ctx", "--device", "--parallel", "--ubatch", "--kv-type", "--flash-attn"):
        if draw(st.booleans()):
            args += [option, draw(HOSTILE | CONTEXTS)]
    if draw(st.booleans()):
        args.append("--json")
    return args


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=argv())
def test_cli_answers_hostile_arguments_with_a_documented_code(args: list[str]) -> None:
    import contextlib

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(args, probe=_no_probe, environ={})
    assert code in (cli.EXIT_OK, cli.EXIT_WONT_FIT, cli.EXIT_USAGE, cli.EXIT_BUDGET_UNKNOWN), (
        args,
        err.getvalue(),
    )
    assert "Traceback" not in err.getvalue()
    if code == cli.EXIT_USAGE:
        assert err.getvalue().count("\n") == 1, err.getvalue()
    elif "--json" in args:
        json.loads(out.getvalue())


def _no_probe() -> Any:
    raise AssertionError("--snapshot was given: the machine must not be probed")


# tomllib raises plain ValueError for this (int max-str-digits), not TOMLDecodeError.
HUGE_TOML_INT = "9" * 5000


def test_catalog_with_a_huge_integer_is_a_catalog_error(tmp_path: Path) -> None:
    for name, text in CATALOG_FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "quants.toml").write_text(
        CATALOG_FILES["quants.toml"] + f"\n# appended\n[ggml_types.X]\nid = {HUGE_TOML_INT}\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError):
        load_catalog_from(tmp_path)


def test_what_if_catalog_with_a_huge_integer_is_its_error() -> None:
    with pytest.raises(MachineCatalogError):
        load_machines(f"[[machine]]\nid = {HUGE_TOML_INT}\n")


@pytest.mark.parametrize(
    "text",
    [
        "defaults = 1\n[[machine]]\nid = 'x'\n",
        "[[defaults]]\nkind = 'gpu'\n[[machine]]\nid = 'x'\n",
        "[[machine]]\nid = 'x'\nname = 'X'\nkind = 'cpu'\nmemory_gib = 16\nbandwidth_gb_s = inf\n",
        "[[machine]]\nid = 'x'\nname = 'X'\nkind = 'cpu'\nmemory_gib = nan\nbandwidth_gb_s = 50\n",
        f"[[machine]]\nid = 'x'\nname = 'X'\nkind = 'cpu'\nmemory_gib = {'9' * 400}\n"
        "bandwidth_gb_s = 50\n",
    ],
    ids=["defaults-integer", "defaults-array", "inf-bandwidth", "nan-memory", "400-digit-memory"],
)
def test_what_if_catalog_odd_shapes_are_its_error(text: str) -> None:
    with pytest.raises(MachineCatalogError):
        load_machines(text)
