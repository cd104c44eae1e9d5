"""The per-boot bandwidth cache: where it lives, what it keys on, what it refuses to believe."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pytest

from llmcheck.probe.bandwidth import apply_bandwidth
from llmcheck.probe.bandwidth_cache import (
    CACHE_FILE,
    BootKey,
    CachedBandwidth,
    boot_key,
    cache_dir,
    cached_or_measured,
    read_cached_bandwidth,
    write_cached_bandwidth,
)
from llmcheck.probe.bandwidth_measure import BandwidthMeasurement
from llmcheck.snapshot import CpuInfo, MemoryInfo, Source

BOOT_ID = "3f1c0d2e-7b9a-4c51-9e0f-2a6d8b4c1e77"
BOOT = BootKey(boot_id=BOOT_ID)
BRAND = "AMD EPYC"
T0 = 1_700_000_000.0


def quiet(copy_gb_s: float = 36.4, *, busy: bool = False, at: float = T0) -> BandwidthMeasurement:
    return BandwidthMeasurement(
        copy_gb_s=copy_gb_s,
        rounds_gb_s=(30.1, copy_gb_s),
        rounds_total=2,
        rounds_kept=0 if busy else 2,
        busy=busy,
        load_known=True,
        worst_disturbance=0.02,
        steal_fraction=0.0,
        load_1m=0.3,
        threads=2,
        buffer_bytes=64 << 20,
        seconds=1.1,
        measured_at_unix_s=at,
    )


def write(
    directory: Path,
    m: BandwidthMeasurement | None = None,
    *,
    boot: BootKey = BOOT,
    brand: str = BRAND,
    cores: int = 2,
) -> Path | None:
    return write_cached_bandwidth(
        m or quiet(), cpu_brand=brand, logical_cores=cores, directory=directory, boot=boot
    )


def read(
    directory: Path,
    *,
    boot: BootKey = BOOT,
    brand: str = BRAND,
    cores: int = 2,
    now: float = T0 + 600,
) -> CachedBandwidth | None:
    return read_cached_bandwidth(
        cpu_brand=brand, logical_cores=cores, directory=directory, boot=boot, now=lambda: now
    )


# --- where ------------------------------------------------------------------------------------


def test_cache_dir_per_platform() -> None:
    home = Path("/home/ana")
    assert cache_dir(system="Linux", env={}, home=home) == home / ".cache" / "llmcheck"
    assert cache_dir(system="Linux", env={"XDG_CACHE_HOME": "/var/c"}, home=home) == Path(
        "/var/c/llmcheck"
    )
    # The XDG spec: relative paths are invalid and ignored.
    assert cache_dir(system="Linux", env={"XDG_CACHE_HOME": "rel"}, home=home) == (
        home / ".cache" / "llmcheck"
    )
    assert cache_dir(system="Darwin", env={"XDG_CACHE_HOME": "/x"}, home=home) == (
        home / "Library" / "Caches" / "llmcheck"
    )
    assert (
        cache_dir(system="Windows", env={"LOCALAPPDATA": r"C:\Users\ana\AppData\Local"}, home=home)
        == Path(r"C:\Users\ana\AppData\Local") / "llmcheck" / "Cache"
    )
    assert cache_dir(system="Windows", env={}, home=home) == (
        home / "AppData" / "Local" / "llmcheck" / "Cache"
    )


# --- the boot ---------------------------------------------------------------------------------


def test_boot_key_reads_the_linux_boot_id_else_the_boot_time(tmp_path: Path) -> None:
    path = tmp_path / "boot_id"
    path.write_text(BOOT_ID + "\n")
    assert boot_key(boot_id_path=path, boot_time=lambda: 1.0) == BOOT
    missing = tmp_path / "nope"
    assert boot_key(boot_id_path=missing, boot_time=lambda: T0) == BootKey(boot_time_unix_s=T0)
    assert not boot_key(boot_id_path=missing, boot_time=lambda: None).known

    def broken() -> float:
        raise OSError("psutil: no access")

    assert boot_key(boot_id_path=missing, boot_time=broken) == BootKey()


def test_the_raw_boot_id_never_reaches_the_file(tmp_path: Path) -> None:
    path = write(tmp_path)
    assert path == tmp_path / CACHE_FILE
    text = path.read_text()
    assert BOOT_ID not in text
    assert BOOT_ID.replace("-", "") not in text
    # A fresh salt each time: two files of the same boot do not share a hash.
    first = json.loads(text)["boot"]["boot_id_sha256"]
    write(tmp_path)
    assert json.loads(path.read_text())["boot"]["boot_id_sha256"] != first


# --- round trip and refusals ------------------------------------------------------------------


def test_round_trip_gives_the_measurement_and_its_age(tmp_path: Path) -> None:
    write(tmp_path)
    cached = read(tmp_path, now=T0 + 754.0)
    assert cached is not None
    assert cached.measurement == quiet()
    assert cached.age_s == 754.0
    assert cached.from_cache
    assert cached.source_text == "measured 13 min ago"


def test_another_boot_or_cpu_is_not_this_one(tmp_path: Path) -> None:
    write(tmp_path)
    assert read(tmp_path, boot=BootKey(boot_id="0" * 36)) is None
    assert read(tmp_path, brand="Intel(R) Core(TM) i7-1165G7") is None
    assert read(tmp_path, cores=8) is None
    assert read(tmp_path, boot=BootKey()) is None
    assert read(tmp_path) is not None


def test_boot_time_matches_within_its_wobble(tmp_path: Path) -> None:
    write(tmp_path, boot=BootKey(boot_time_unix_s=T0 - 86_400))
    assert read(tmp_path, boot=BootKey(boot_time_unix_s=T0 - 86_401)) is not None
    assert read(tmp_path, boot=BootKey(boot_time_unix_s=T0 - 80_000)) is None
    assert read(tmp_path, boot=BOOT) is None  # a boot-time file is no proof of a boot id


def test_a_measurement_from_the_future_is_ignored(tmp_path: Path) -> None:
    write(tmp_path, quiet(at=T0 + 3600))
    assert read(tmp_path, now=T0) is None
    write(tmp_path, quiet(at=T0 + 30))  # a clock stepped back a little: age 0
    cached = read(tmp_path, now=T0)
    assert cached is not None
    assert cached.age_s == 0.0


def _doc(tmp_path: Path) -> dict[str, object]:
    write(tmp_path)
    doc: dict[str, object] = json.loads((tmp_path / CACHE_FILE).read_text())
    return doc


def _measurement_with(tmp_path: Path, **changes: object) -> dict[str, object]:
    doc = _doc(tmp_path)
    m = dict(doc["measurement"])  # type: ignore[call-overload]
    m.update(changes)
    doc["measurement"] = m
    return doc


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: b"{not json",
        lambda d: b"\xff\xfe\x00garbage",
        lambda d: b"[]",
        lambda d: b"",
        lambda d: json.dumps({**_doc(d), "version": 2}).encode(),
        lambda d: json.dumps({**_doc(d), "version": "1"}).encode(),
        lambda d: json.dumps({**_doc(d), "version": True}).encode(),
        lambda d: json.dumps({k: v for k, v in _doc(d).items() if k != "boot"}).encode(),
        lambda d: json.dumps({**_doc(d), "boot": "x"}).encode(),
        lambda d: json.dumps(_measurement_with(d, copy_gb_s=-1.0)).encode(),
        lambda d: json.dumps(_measurement_with(d, copy_gb_s="36")).encode(),
        lambda d: json.dumps(_measurement_with(d, rounds_kept=9)).encode(),
        lambda d: json.dumps(_measurement_with(d, busy=1)).encode(),
        lambda d: json.dumps(_measurement_with(d, threads=2.5)).encode(),
        lambda d: json.dumps(_measurement_with(d, surprise=1)).encode(),
        lambda d: json.dumps(_measurement_with(d, rounds_gb_s=7)).encode(),
        lambda d: json.dumps(_measurement_with(d, busy=True, rounds_kept=0)).encode(),
        lambda d: b" " * (70 * 1024),
    ],
)
def test_a_spoilt_file_is_ignored_with_a_debug_line(
    tmp_path: Path, spoil: object, caplog: pytest.LogCaptureFixture
) -> None:
    data = spoil(tmp_path)  # type: ignore[operator]
    (tmp_path / CACHE_FILE).write_bytes(data)
    with caplog.at_level(logging.DEBUG, logger="llmcheck.probe.bandwidth_cache"):
        assert read(tmp_path) is None
    assert "ignored" in caplog.text


def test_an_unreadable_cache_is_none(tmp_path: Path) -> None:
    (tmp_path / CACHE_FILE).mkdir()  # a folder where the file should be: EISDIR
    assert read(tmp_path) is None
    assert read(tmp_path / "never-made") is None


def test_busy_measurements_and_unwritable_folders_are_not_cached(tmp_path: Path) -> None:
    assert write(tmp_path, quiet(busy=True)) is None
    assert not (tmp_path / CACHE_FILE).exists()
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert write(blocker / "sub") is None  # parent is a file: logged, not raised
    assert write(tmp_path, boot=BootKey()) is None


# --- cached_or_measured -----------------------------------------------------------------------


class Meter:
    def __init__(self, *results: BandwidthMeasurement) -> None:
        self.results = list(results)
        self.calls = 0

    def __call__(self) -> BandwidthMeasurement:
        self.calls += 1
        return self.results.pop(0)


def ask(tmp_path: Path, meter: Meter, **flags: bool) -> CachedBandwidth | None:
    return cached_or_measured(
        cpu_brand=BRAND,
        logical_cores=2,
        measure=meter,
        directory=tmp_path,
        boot=BOOT,
        now=lambda: T0 + 60,
        **flags,
    )


def test_plain_runs_only_read_the_cache(tmp_path: Path) -> None:
    meter = Meter(quiet(30.0))
    assert ask(tmp_path, meter) is None
    assert meter.calls == 0
    fresh = ask(tmp_path, meter, measure_if_missing=True)
    assert fresh is not None
    assert (fresh.measurement.copy_gb_s, fresh.age_s, fresh.from_cache) == (30.0, 0.0, False)
    again = ask(tmp_path, meter, measure_if_missing=True)
    assert again is not None
    assert again.from_cache
    assert again.age_s == 60.0
    assert meter.calls == 1


def test_force_measures_again_and_a_busy_one_keeps_the_old_entry(tmp_path: Path) -> None:
    write(tmp_path, quiet(36.0))
    meter = Meter(quiet(38.0, at=T0 + 10), quiet(12.0, busy=True, at=T0 + 20))
    forced = ask(tmp_path, meter, force=True)
    assert forced is not None
    assert forced.measurement.copy_gb_s == 38.0
    busy = ask(tmp_path, meter, force=True)
    assert busy is not None
    assert busy.measurement.busy  # the caller hears it was too busy ...
    cached = ask(tmp_path, meter)
    assert cached is not None
    assert cached.measurement.copy_gb_s == 38.0  # ... and the cache keeps the quiet one
    assert meter.calls == 2


# --- apply_bandwidth with what the cache gives ------------------------------------------------


EPYC = CpuInfo(brand=BRAND, physical_cores=2, logical_cores=2)


def test_a_cached_measurement_is_measured_source(tmp_path: Path) -> None:
    cached = CachedBandwidth(measurement=quiet(36.4), age_s=754.0, from_cache=True)
    mem, issues = apply_bandwidth(
        MemoryInfo(), EPYC, system="Linux", linux_devices=list, measure=lambda: cached
    )
    assert (mem.bandwidth_gb_s, mem.bandwidth_source) == (36.4, Source.MEASURED)
    assert issues == ()


def test_a_busy_measurement_yields_to_the_class_with_an_issue() -> None:
    busy = quiet(9.8, busy=True)
    mem, issues = apply_bandwidth(
        MemoryInfo(), EPYC, system="Linux", linux_devices=list, measure=lambda: busy
    )
    assert mem.bandwidth_source is Source.TABLE
    assert [i.code for i in issues] == ["bandwidth_machine_busy"]
    assert "too busy: 2 of 2 rounds under load" in issues[0].message


def test_a_busy_measurement_is_never_the_bandwidth() -> None:
    """Not even when nothing else is known: it would call a busy machine a slow one."""
    weird = dataclasses.replace(EPYC, brand="Some Weird CPU")
    mem, issues = apply_bandwidth(
        MemoryInfo(),
        weird,
        system="Linux",
        linux_devices=list,
        measure=lambda: quiet(9.8, busy=True),
    )
    assert (mem.bandwidth_gb_s, mem.bandwidth_source) == (None, None)
    assert [i.code for i in issues] == ["bandwidth_machine_busy"]


def test_the_number_only_measurement_raises_busy_and_apply_reports_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The float API (the probe's and the window's today) cannot carry "busy": it raises."""
    import llmcheck.probe.bandwidth as bw

    monkeypatch.setattr(bw, "measure_bandwidth", lambda **kw: quiet(9.8, busy=True))
    with pytest.raises(bw.MachineBusyError, match="too busy: 2 of 2"):
        bw.measure_memory_bandwidth(usable_bytes=1 << 30)
    mem, issues = apply_bandwidth(
        MemoryInfo(),
        EPYC,
        system="Linux",
        linux_devices=list,
        measure=lambda: bw.measure_memory_bandwidth(usable_bytes=1),
    )
    assert mem.bandwidth_source is Source.TABLE
    assert [i.code for i in issues] == ["bandwidth_machine_busy"]


def test_an_empty_cache_falls_through_to_the_class() -> None:
    mem, issues = apply_bandwidth(
        MemoryInfo(), EPYC, system="Linux", linux_devices=list, measure=lambda: None
    )
    assert mem.bandwidth_source is Source.TABLE
    assert issues == ()
