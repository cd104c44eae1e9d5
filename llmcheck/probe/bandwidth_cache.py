"""A measured RAM bandwidth, kept for the rest of this boot in the user's cache directory.

One measurement costs every core for about a second, so the window measures once and the CLI
reuses it. The file is ``bandwidth.json`` in:

- Linux and others: ``$XDG_CACHE_HOME/llmcheck``, else ``~/.cache/llmcheck`` (XDG Base Directory
  specification, specifications.freedesktop.org/basedir-spec);
- macOS: ``~/Library/Caches/llmcheck`` (Apple's File System Programming Guide, "Library
  directory": Caches);
- Windows: ``%LOCALAPPDATA%\\llmcheck\\Cache`` (the layout platformdirs uses for
  ``user_cache_dir``).

An entry is valid only for the boot and the CPU it was measured on: a reboot may change the
memory (new DIMMs need one) and a home directory copied to another machine must not carry its
bandwidth along. On Linux the boot is ``/proc/sys/kernel/random/boot_id`` (random per boot,
proc(5)), stored only as a SHA-256 over a random per-file salt and the id: the raw id names this
machine's boot, and the file must not. Elsewhere it is the boot time from psutil (through
:mod:`llmcheck.probe.memory`), matched within :data:`BOOT_TIME_SLACK_S` because Windows derives
it from the uptime and it wobbles by a second.

Reading never raises: a missing, unreadable, corrupt, future-versioned, future-dated, other-boot
or other-CPU file is ignored with a debug log. Writing goes through
:func:`llmcheck.atomic.write_text_atomic`; a failure is a debug log too (the measurement stands).
A measurement taken while the machine was busy is never cached.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from llmcheck.atomic import AtomicWriteError, write_text_atomic
from llmcheck.probe.bandwidth_measure import BandwidthMeasurement, measure_bandwidth

__all__ = [
    "CACHE_FILE",
    "CACHE_VERSION",
    "BootKey",
    "CachedBandwidth",
    "boot_key",
    "cache_dir",
    "cached_or_measured",
    "read_cached_bandwidth",
    "write_cached_bandwidth",
]

log = logging.getLogger(__name__)

CACHE_FILE = "bandwidth.json"
CACHE_VERSION = 1
CACHE_MAX_BYTES = 64 * 1024  # a valid file is ~1 KiB; anything far larger is not ours
BOOT_TIME_SLACK_S = 5.0
FUTURE_SLACK_S = 120.0  # a clock stepped back by NTP a little is not "from the future"
BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BootKey:
    """This boot: the Linux boot id (raw, never written) or the boot time; None when unknown."""

    boot_id: str | None = None
    boot_time_unix_s: float | None = None

    @property
    def known(self) -> bool:
        """Whether either identity was read."""
        return self.boot_id is not None or self.boot_time_unix_s is not None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CachedBandwidth:
    """A measurement and its age: 0 when just measured, else seconds since it was taken."""

    measurement: BandwidthMeasurement
    age_s: float
    from_cache: bool

    @property
    def source_text(self) -> str:
        """``"measured just now"`` / ``"measured 12 min ago"``, for the one-line assumptions."""
        if not self.from_cache or self.age_s < 60:
            return "measured just now"
        minutes = self.age_s / 60
        if minutes < 120:
            return f"measured {minutes:.0f} min ago"
        return f"measured {minutes / 60:.0f} h ago"


def cache_dir(
    *,
    system: str | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Path | None:
    """llmcheck's cache directory for this user (see the module docstring); None if unknown."""
    system = system or {"win32": "Windows", "darwin": "Darwin"}.get(sys.platform, "Linux")
    env = os.environ if env is None else env
    try:
        home = Path.home() if home is None else home
    except (RuntimeError, KeyError, OSError):
        home = None
    if system == "Windows":
        local = env.get("LOCALAPPDATA")
        if local:
            return Path(local) / "llmcheck" / "Cache"
        return home / "AppData" / "Local" / "llmcheck" / "Cache" if home else None
    if system == "Darwin":
        return home / "Library" / "Caches" / "llmcheck" if home else None
    xdg = env.get("XDG_CACHE_HOME", "")
    # The spec: a relative path in an XDG variable is invalid and must be ignored.
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "llmcheck"
    return home / ".cache" / "llmcheck" if home else None


def _boot_time_from_psutil() -> float | None:
    from llmcheck.probe.memory import boot_time_unix_s

    return boot_time_unix_s()


def boot_key(
    *,
    boot_id_path: Path = BOOT_ID_PATH,
    boot_time: Callable[[], float | None] = _boot_time_from_psutil,
) -> BootKey:
    """This boot's identity: the Linux boot id where it exists, else psutil's boot time."""
    try:
        text = boot_id_path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeError):
        text = ""
    if 8 <= len(text) <= 64:
        return BootKey(boot_id=text)
    try:
        value = boot_time()
    except (OSError, RuntimeError, AttributeError) as exc:
        log.debug("boot time unreadable: %s", exc)
        value = None
    if value is not None and math.isfinite(value) and value > 0:
        return BootKey(boot_time_unix_s=float(value))
    return BootKey()


def _salted(salt: str, boot_id: str) -> str:
    return hashlib.sha256(f"llmcheck-boot:{salt}:{boot_id}".encode()).hexdigest()


def _cpu_doc(brand: str | None, logical_cores: int | None) -> dict[str, Any]:
    return {"brand": (brand or "").strip()[:200], "logical_cores": logical_cores}


def write_cached_bandwidth(
    measurement: BandwidthMeasurement,
    *,
    cpu_brand: str | None,
    logical_cores: int | None,
    directory: Path | None = None,
    boot: BootKey | None = None,
) -> Path | None:
    """Store ``measurement`` for this boot and CPU; the path written, or None (logged, never
    raised) when it was busy, the boot is unknown, or the file could not be written."""
    if measurement.busy:
        log.debug("bandwidth cache: a measurement taken on a busy machine is not kept")
        return None
    directory = cache_dir() if directory is None else directory
    boot = boot_key() if boot is None else boot
    if directory is None or not boot.known:
        log.debug("bandwidth cache: no cache directory or boot identity; not kept")
        return None
    boot_doc: dict[str, Any]
    if boot.boot_id is not None:
        salt = secrets.token_hex(16)
        boot_doc = {"salt": salt, "boot_id_sha256": _salted(salt, boot.boot_id)}
    else:
        boot_doc = {"boot_time_unix_s": boot.boot_time_unix_s}
    doc = {
        "version": CACHE_VERSION,
        "what": "llmcheck's last RAM bandwidth measurement on this boot; safe to delete",
        "boot": boot_doc,
        "cpu": _cpu_doc(cpu_brand, logical_cores),
        "measurement": dataclasses.asdict(measurement),
    }
    path = directory / CACHE_FILE
    try:
        directory.mkdir(parents=True, exist_ok=True)
        return write_text_atomic(path, json.dumps(doc, indent=1, allow_nan=False) + "\n")
    except (AtomicWriteError, OSError, ValueError) as exc:
        log.debug("bandwidth cache: not written: %s", exc)
        return None


def read_cached_bandwidth(
    *,
    cpu_brand: str | None,
    logical_cores: int | None,
    directory: Path | None = None,
    boot: BootKey | None = None,
    now: Callable[[], float] = time.time,
) -> CachedBandwidth | None:
    """The measurement cached for this boot and CPU, with its age; None (logged) otherwise."""
    directory = cache_dir() if directory is None else directory
    if directory is None:
        return None
    path = directory / CACHE_FILE
    try:
        with path.open("rb") as handle:
            raw = handle.read(CACHE_MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.debug("bandwidth cache %s unreadable: %s", path, exc)
        return None
    if len(raw) > CACHE_MAX_BYTES:
        log.debug("bandwidth cache %s ignored: larger than %d bytes", path, CACHE_MAX_BYTES)
        return None
    try:
        doc = json.loads(raw.decode("utf-8"))
        reason, measurement = _check(
            doc, cpu_brand, logical_cores, boot_key() if boot is None else boot
        )
    except (ValueError, UnicodeError, TypeError, KeyError, AttributeError) as exc:
        log.debug("bandwidth cache %s ignored: corrupt (%s: %s)", path, type(exc).__name__, exc)
        return None
    if measurement is None:
        log.debug("bandwidth cache %s ignored: %s", path, reason)
        return None
    age = now() - measurement.measured_at_unix_s
    if not math.isfinite(age) or age < -FUTURE_SLACK_S:
        log.debug("bandwidth cache %s ignored: measured in the future", path)
        return None
    return CachedBandwidth(measurement=measurement, age_s=max(0.0, round(age, 1)), from_cache=True)


def _check(
    doc: Any, cpu_brand: str | None, logical_cores: int | None, boot: BootKey
) -> tuple[str, BandwidthMeasurement | None]:
    """(why not, None) or ("", the measurement); raises on a malformed document."""
    if not isinstance(doc, dict):
        return "not a JSON object", None
    version = doc["version"]
    if not isinstance(version, int) or isinstance(version, bool):
        return "no version", None
    if version != CACHE_VERSION:
        return f"version {version}, this llmcheck reads {CACHE_VERSION}", None
    if doc["cpu"] != _cpu_doc(cpu_brand, logical_cores):
        return "measured on another CPU", None
    stored = doc["boot"]
    if boot.boot_id is not None:
        if not isinstance(stored.get("salt"), str) or stored.get("boot_id_sha256") != _salted(
            stored["salt"], boot.boot_id
        ):
            return "measured on another boot", None
    elif boot.boot_time_unix_s is not None:
        then = stored.get("boot_time_unix_s")
        if not isinstance(then, int | float) or abs(then - boot.boot_time_unix_s) > (
            BOOT_TIME_SLACK_S
        ):
            return "measured on another boot", None
    else:
        return "this boot cannot be identified", None
    fields = dict(doc["measurement"])
    fields["rounds_gb_s"] = tuple(fields["rounds_gb_s"])
    measurement = BandwidthMeasurement(**fields)
    _validate(measurement)
    if measurement.busy:
        return "taken on a busy machine", None
    return "", measurement


def _validate(m: BandwidthMeasurement) -> None:
    """Types and ranges of a measurement read from a file; raises ValueError."""
    numbers = (m.copy_gb_s, m.seconds, m.measured_at_unix_s, *m.rounds_gb_s)
    counts = (m.rounds_total, m.rounds_kept, m.threads, m.buffer_bytes)
    if not all(
        isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in numbers
    ):
        raise ValueError("a number field is not a finite number")
    if not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in counts):
        raise ValueError("a count field is not a non-negative integer")
    if not 0 < m.copy_gb_s < 100_000 or not 0 <= m.rounds_kept <= m.rounds_total:
        raise ValueError("copy_gb_s or the round counts are out of range")
    if not all(isinstance(x, bool) for x in (m.busy, m.load_known)):
        raise ValueError("busy / load_known are not booleans")


def cached_or_measured(
    *,
    cpu_brand: str | None,
    logical_cores: int | None,
    force: bool = False,
    measure_if_missing: bool = False,
    usable_bytes: int | None = None,
    measure: Callable[[], BandwidthMeasurement] | None = None,
    directory: Path | None = None,
    boot: BootKey | None = None,
    now: Callable[[], float] = time.time,
) -> CachedBandwidth | None:
    """This boot's cached measurement, or a new one (``force``, or ``measure_if_missing``).

    ``force=True`` (``--measure-bandwidth``, the window's background measurement) always
    measures and caches the result unless the machine was busy. Without either flag only the
    cache is read (the plain CLI: never a second of every core unless asked); None when empty.

    Raises:
        MemoryError: the buffers could not be allocated (only when measuring).
        RuntimeError: no round could be timed (only when measuring).
    """
    boot = boot_key() if boot is None else boot
    if not force:
        cached = read_cached_bandwidth(
            cpu_brand=cpu_brand,
            logical_cores=logical_cores,
            directory=directory,
            boot=boot,
            now=now,
        )
        if cached is not None or not measure_if_missing:
            return cached
    result = (measure or (lambda: measure_bandwidth(usable_bytes=usable_bytes)))()
    write_cached_bandwidth(
        result, cpu_brand=cpu_brand, logical_cores=logical_cores, directory=directory, boot=boot
    )
    return CachedBandwidth(measurement=result, age_s=0.0, from_cache=False)
