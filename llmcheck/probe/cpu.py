"""The CPU: brand, cores and the ISA features llama.cpp's CPU kernels key on.

Read natively per OS in well under 10 ms: ``/proc/cpuinfo`` on Linux, ``sysctl`` on macOS, the
registry and ``IsProcessorFeaturePresent`` on Windows. py-cpuinfo's ``get_cpu_info()`` is never
called: it sleeps a second to count ticks and starts subprocesses (1.2-1.6 s measured,
https://github.com/workhorsy/py-cpuinfo/issues/205), and in frozen apps it can relaunch the
program (https://github.com/workhorsy/py-cpuinfo/issues/174).

Feature names are normalised to one vocabulary (:data:`FEATURES`) whatever the OS calls them.
Issue codes (source "cpu"): ``cpuinfo_unreadable``, ``sysctl_failed``, ``registry_unreadable``,
``cpu_unknown_os``, ``rosetta``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from llmcheck.probe.memory import physical_core_count
from llmcheck.probe.platform_info import (
    ReadText,
    Run,
    parse_int,
    read_sysctl,
    read_text_file,
    run_command,
)
from llmcheck.snapshot import CpuInfo, Issue, Source

SOURCE = "cpu"

# What llama.cpp's backends choose between (ggml/src/ggml-cpu/arch/{x86,arm}/cpu-feats.cpp), in
# the order reported.
FEATURES: tuple[str, ...] = (
    "sse3",
    "ssse3",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512vnni",
    "avx512bf16",
    "avxvnni",
    "amx",
    "neon",
    "dotprod",
    "i8mm",
    "fp16",
    "sve",
    "sve2",
    "sme",
)

# Linux /proc/cpuinfo spellings (x86 "flags", arm64 "Features") -> our names. The kernel already
# hides features the OS or hypervisor disabled (e.g. AVX-512 without XSAVE support).
_LINUX_FLAGS = {
    "pni": "sse3",
    "ssse3": "ssse3",
    "avx": "avx",
    "avx2": "avx2",
    "fma": "fma",
    "f16c": "f16c",
    "avx512f": "avx512f",
    "avx512bw": "avx512bw",
    "avx512vl": "avx512vl",
    "avx512_vnni": "avx512vnni",
    "avx512_bf16": "avx512bf16",
    "avx_vnni": "avxvnni",
    "amx_tile": "amx",
    "asimd": "neon",
    "asimddp": "dotprod",
    "i8mm": "i8mm",
    "asimdhp": "fp16",
    "sve": "sve",
    "sve2": "sve2",
    "sme": "sme",
}

# macOS: arm64 hw.optional.* keys (value "1") and x86 machdep.cpu.{features,leaf7_features} words.
_MAC_ARM_KEYS = {
    "hw.optional.AdvSIMD": "neon",
    "hw.optional.neon": "neon",
    "hw.optional.arm.FEAT_DotProd": "dotprod",
    "hw.optional.arm.FEAT_I8MM": "i8mm",
    "hw.optional.arm.FEAT_FP16": "fp16",
    "hw.optional.arm.FEAT_SME": "sme",
}
_MAC_X86_WORDS = {
    "SSE3": "sse3",
    "SSSE3": "ssse3",
    "AVX1.0": "avx",
    "AVX2": "avx2",
    "FMA": "fma",
    "F16C": "f16c",
    "AVX512F": "avx512f",
    "AVX512BW": "avx512bw",
    "AVX512VL": "avx512vl",
    "AVX512VNNI": "avx512vnni",
    "AVX512BF16": "avx512bf16",
}
_MAC_KEYS = [
    "machdep.cpu.brand_string",
    "hw.physicalcpu",
    "hw.logicalcpu",
    "hw.perflevel0.physicalcpu",
    "sysctl.proc_translated",
    "machdep.cpu.features",
    "machdep.cpu.leaf7_features",
    *_MAC_ARM_KEYS,
]

# Windows IsProcessorFeaturePresent constants (Microsoft docs, winnt.h). Builds that predate a
# constant answer FALSE, so absence there means "not reported", which we accept as absent.
_WIN_FEATURES = {
    13: "sse3",
    36: "ssse3",
    39: "avx",
    40: "avx2",
    41: "avx512f",
    19: "neon",
    43: "dotprod",
    46: "sve",
}

FeaturePresent = Callable[[int], bool]
RegistryString = Callable[[str, str], str]


def _ordered(found: set[str]) -> tuple[str, ...]:
    return tuple(f for f in FEATURES if f in found)


def parse_proc_cpuinfo(text: str) -> CpuInfo:
    """Brand, cores and features from Linux ``/proc/cpuinfo`` (x86 or arm64)."""
    brand: str | None = None
    flags: set[str] = set()
    logical = 0
    cores: set[tuple[str, str]] = set()
    physical_id = core_id = None
    for line in [*text.splitlines(), ""]:
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep:
            if physical_id is not None and core_id is not None:
                cores.add((physical_id, core_id))
            physical_id = core_id = None
            continue
        if key == "processor":
            logical += 1
        elif key in ("model name", "Model Name", "Hardware") and value and brand is None:
            brand = value
        elif key in ("flags", "Features"):
            flags.update(_LINUX_FLAGS[w] for w in value.split() if w in _LINUX_FLAGS)
        elif key == "physical id":
            physical_id = value
        elif key == "core id":
            core_id = value
    return CpuInfo(
        brand=brand,
        physical_cores=len(cores) or None,
        logical_cores=logical or None,
        features=_ordered(flags),
        source=Source.PROCFS,
    )


def parse_mac_sysctl(values: dict[str, str]) -> CpuInfo:
    """Brand, cores and features from macOS ``sysctl`` values (see :data:`_MAC_KEYS`)."""
    found = {name for key, name in _MAC_ARM_KEYS.items() if values.get(key) == "1"}
    for key in ("machdep.cpu.features", "machdep.cpu.leaf7_features"):
        found.update(_MAC_X86_WORDS[w] for w in values.get(key, "").split() if w in _MAC_X86_WORDS)
    return CpuInfo(
        brand=values.get("machdep.cpu.brand_string") or None,
        physical_cores=_pos_int(values.get("hw.physicalcpu")),
        logical_cores=_pos_int(values.get("hw.logicalcpu")),
        features=_ordered(found),
        source=Source.SYSCTL,
    )


def _pos_int(text: str | None) -> int | None:
    n = None if text is None else parse_int(text)
    return n if n is not None and 0 < n <= 1_000_000 else None


def probe_cpu(
    *,
    system: str | None = None,
    machine: str | None = None,
    proc_root: Path = Path("/proc"),
    read_text: ReadText = read_text_file,
    run: Run = run_command,
    feature_present: FeaturePresent | None = None,
    registry_string: RegistryString | None = None,
    load_cpuinfo: Callable[[], ModuleType] | None = None,
) -> tuple[CpuInfo, tuple[Issue, ...]]:
    """The CPU as the OS reports it. Never raises; what it cannot read stays None.

    Args:
        system: ``platform.system()`` value; read when None.
        machine: ``platform.machine()`` value; read when None.
        proc_root: where ``cpuinfo`` lives (Linux).
        read_text: file reader seam.
        run: subprocess seam (macOS ``sysctl``).
        feature_present: Windows ``IsProcessorFeaturePresent`` seam.
        registry_string: Windows ``(key, value) -> str`` registry seam.
        load_cpuinfo: imports py-cpuinfo's module, the fallback when nothing native answered.
    """
    import platform

    system = system or platform.system()
    machine = machine or platform.machine() or None
    issues: list[Issue] = []
    info = CpuInfo()
    has_procfs = (proc_root / "cpuinfo").exists()
    if system == "Linux" or (system not in ("Darwin", "Windows") and has_procfs):
        try:
            info = parse_proc_cpuinfo(read_text(proc_root / "cpuinfo"))
        except (OSError, UnicodeDecodeError) as exc:
            issues.append(
                Issue(
                    source=SOURCE,
                    code="cpuinfo_unreadable",
                    message=f"Could not read {proc_root / 'cpuinfo'}: {exc}",
                    hint="CPU features are unknown; llmcheck assumes none.",
                )
            )
        if machine in ("aarch64", "arm64") and "neon" not in info.features and info.features:
            # AdvSIMD is mandatory on AArch64; old kernels list only "fp asimd"-less sets.
            info = _replace(info, features=_ordered({*info.features, "neon"}))
    elif system == "Darwin":
        values, error = read_sysctl(_MAC_KEYS, run)
        if error is not None or not values:
            issues.append(
                Issue(
                    source=SOURCE,
                    code="sysctl_failed",
                    message=f"sysctl gave no CPU facts: {error or 'empty output'}",
                    hint="CPU features are unknown; llmcheck assumes none.",
                )
            )
        else:
            info = parse_mac_sysctl(values)
            if values.get("sysctl.proc_translated") == "1":
                # Rosetta: platform.machine() says x86_64, but the chip is Apple silicon.
                machine = "arm64"
                issues.append(
                    Issue(
                        source=SOURCE,
                        code="rosetta",
                        message="Python runs under Rosetta 2 (x86_64 on Apple silicon).",
                        hint="Install a native arm64 Python for llama.cpp's fast paths.",
                    )
                )
    elif system == "Windows":
        info, win_issues = _windows_cpu(feature_present, registry_string)
        issues.extend(win_issues)
    else:
        issues.append(
            Issue(
                source=SOURCE,
                code="cpu_unknown_os",
                message=f"No native CPU reader for {system!r}; asking py-cpuinfo.",
                hint="Results for this OS are a best effort.",
            )
        )
        # py-cpuinfo knows more platforms (BSDs, Solaris, Haiku ...) and costs ~20 ms here. On
        # Linux, macOS and Windows it would read the same sources the native readers did.
        fallback, fallback_issue = cpuinfo_fallback(load_cpuinfo)
        if fallback is not None:
            info = fallback
        if fallback_issue is not None:
            issues.append(fallback_issue)
    logical = info.logical_cores or os.cpu_count()
    physical = info.physical_cores or physical_core_count()
    return _replace(info, arch=machine, logical_cores=logical, physical_cores=physical), tuple(
        issues
    )


def _load_cpuinfo() -> ModuleType:
    """Import py-cpuinfo's ``cpuinfo.cpuinfo`` (lazily: it costs ~90 ms and is rarely needed)."""
    import cpuinfo.cpuinfo

    # py-cpuinfo ships no type hints, so mypy types the import as Any; name what it is.
    module: ModuleType = cpuinfo.cpuinfo
    return module


def cpuinfo_fallback(
    load: Callable[[], ModuleType] | None = None,
) -> tuple[CpuInfo | None, Issue | None]:
    """Brand and features from py-cpuinfo, for machines no native reader covers. Never raises.

    py-cpuinfo's public ``get_cpu_info()`` is not used: it starts a child Python and sleeps a
    second to time the clock (https://github.com/workhorsy/py-cpuinfo/issues/205), and in
    frozen apps its child can relaunch the program (issue 174). Its in-process reader with the
    CPUID probe turned off takes ~20 ms and reads the OS's own tables (sysctl, /proc, lscpu ...).
    That reader is private API, pinned to py-cpuinfo 9 in pyproject.toml.
    """
    try:
        module = (load or _load_cpuinfo)()
        module.DataSource.can_cpuid = False
        raw = module._get_cpu_info_internal()
    except Exception as exc:  # noqa: BLE001 - a third-party boundary: any failure is an issue
        return None, Issue(
            source=SOURCE,
            code="cpuinfo_fallback_failed",
            message=f"py-cpuinfo could not read the CPU either: {type(exc).__name__}: {exc}",
            hint="CPU features are unknown; llmcheck assumes none.",
        )
    if not isinstance(raw, dict):
        return None, Issue(
            source=SOURCE,
            code="cpuinfo_fallback_failed",
            message="py-cpuinfo returned no CPU description.",
            hint="CPU features are unknown; llmcheck assumes none.",
        )
    flags = raw.get("flags")
    words = {str(f).lower() for f in flags} if isinstance(flags, list) else set()
    found = {_LINUX_FLAGS[w] for w in words if w in _LINUX_FLAGS}
    found |= {w for w in words if w in FEATURES}
    brand = raw.get("brand_raw")
    count = raw.get("count")
    return CpuInfo(
        brand=brand.strip() or None if isinstance(brand, str) else None,
        features=_ordered(found),
        logical_cores=count if isinstance(count, int) and 0 < count < 100_000 else None,
        source=Source.PY_CPUINFO,
    ), None


def _replace(info: CpuInfo, **changes: object) -> CpuInfo:
    import dataclasses

    return dataclasses.replace(info, **changes)  # type: ignore[arg-type]


_WIN_CPU_KEY = r"HARDWARE\DESCRIPTION\System\CentralProcessor\0"


def _windows_cpu(
    feature_present: FeaturePresent | None, registry_string: RegistryString | None
) -> tuple[CpuInfo, tuple[Issue, ...]]:
    issues: list[Issue] = []
    if feature_present is None:
        feature_present = _win_feature_present()
    if registry_string is None:
        registry_string = _win_registry_string
    brand: str | None = None
    try:
        brand = registry_string(_WIN_CPU_KEY, "ProcessorNameString").strip() or None
    except OSError as exc:
        issues.append(
            Issue(
                source=SOURCE,
                code="registry_unreadable",
                message=f"Could not read the CPU name from the registry: {exc}",
                hint="The CPU's name is unknown; its features are still read.",
            )
        )
    found: set[str] = set()
    if feature_present is not None:
        for constant, name in _WIN_FEATURES.items():
            try:
                if feature_present(constant):
                    found.add(name)
            except OSError:
                continue
    return CpuInfo(brand=brand, features=_ordered(found), source=Source.REGISTRY), tuple(issues)


# ctypes.windll exists on Windows only. A module-level platform check is one mypy reads (typeshed
# declares windll for win32 only), so each platform's definition is type-checked on its platform.
if sys.platform == "win32":

    def _win_feature_present() -> FeaturePresent | None:
        try:
            import ctypes

            fn = ctypes.windll.kernel32.IsProcessorFeaturePresent
        except (ImportError, AttributeError, OSError):
            return None
        return lambda constant: bool(fn(constant))

else:

    def _win_feature_present() -> FeaturePresent | None:
        return None


def _win_registry_string(key: str, value: str) -> str:
    # A platform check rather than `except ImportError`: mypy reads it (typeshed declares winreg's
    # functions for Windows only).
    if sys.platform == "win32":
        import winreg

        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key) as handle:
            data, _kind = winreg.QueryValueEx(handle, value)
        return str(data)
    raise OSError("winreg is not available")
