"""py-cpuinfo is the fallback only where no native CPU reader answers, and it never blocks.

A fake ``cpuinfo.cpuinfo`` module stands in below the real code (``load_cpuinfo`` seam); one test
runs the real package on this machine.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from llmcheck.probe.cpu import cpuinfo_fallback, probe_cpu
from llmcheck.snapshot import Source


class _FakeCpuinfo(SimpleNamespace):
    def __init__(self, answer: Any) -> None:
        super().__init__(DataSource=SimpleNamespace(can_cpuid=True), calls=0)
        self._answer = answer

    def _get_cpu_info_internal(self) -> Any:
        self.calls += 1
        if isinstance(self._answer, Exception):
            raise self._answer
        return self._answer


FREEBSD = {
    "brand_raw": "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz",
    "count": 8,
    "flags": ["sse3", "ssse3", "avx", "avx2", "fma", "f16c", "pni"],
}


def test_unknown_os_uses_py_cpuinfo_without_cpuid() -> None:
    fake = _FakeCpuinfo(FREEBSD)
    info, issues = probe_cpu(
        system="FreeBSD", machine="amd64", proc_root=Path("/nonexistent"), load_cpuinfo=lambda: fake
    )
    assert fake.DataSource.can_cpuid is False  # no CPUID child, no 1 s clock measurement
    assert info.brand == "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz"
    assert info.features == ("sse3", "ssse3", "avx", "avx2", "fma", "f16c")
    assert info.logical_cores == 8
    assert info.source is Source.PY_CPUINFO
    assert [i.code for i in issues] == ["cpu_unknown_os"]


def test_native_answer_never_calls_py_cpuinfo(tmp_path: Path) -> None:
    """Also when the native source fails: py-cpuinfo would read the same file."""
    (tmp_path / "cpuinfo").write_text(
        "processor\t: 0\nmodel name\t: AMD Ryzen 7 7840U\nflags\t\t: avx avx2 fma\n\n",
        encoding="utf-8",
    )
    fake = _FakeCpuinfo(FREEBSD)
    info, _ = probe_cpu(
        system="Linux", machine="x86_64", proc_root=tmp_path, load_cpuinfo=lambda: fake
    )
    assert fake.calls == 0
    assert info.brand == "AMD Ryzen 7 7840U"
    _, issues = probe_cpu(
        system="Linux", machine="x86_64", proc_root=tmp_path / "missing", load_cpuinfo=lambda: fake
    )
    assert fake.calls == 0
    assert [i.code for i in issues] == ["cpuinfo_unreadable"]


def test_a_failing_or_odd_py_cpuinfo_is_an_issue_not_a_crash() -> None:
    for answer in (RuntimeError("boom"), None, {"flags": "not a list", "count": -3}):
        info, issue = cpuinfo_fallback(lambda a=answer: _FakeCpuinfo(a))
        if info is None:
            assert issue is not None
            assert issue.code == "cpuinfo_fallback_failed"
        else:
            assert info.features == ()
            assert info.logical_cores is None
    info, issue = cpuinfo_fallback(lambda: (_ for _ in ()).throw(ImportError("no cpuinfo")))
    assert info is None
    assert issue is not None
    assert "ImportError" in issue.message


def test_real_py_cpuinfo_on_this_machine_agrees_with_proc_cpuinfo() -> None:
    info, issue = cpuinfo_fallback()
    assert issue is None
    assert info is not None
    native, _ = probe_cpu()
    assert set(native.features) <= set(info.features) | {"amx", "neon"}
