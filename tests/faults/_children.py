"""GPU-probe children that misbehave in the ways real drivers make them (spawn imports these).

Each has the signature of ``llmcheck.probe._child``: ``(conn, system, ram_total_bytes)``.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any


def hang_in_nvml_init(conn: Any, system: str, ram_total_bytes: int | None) -> None:
    """Run the real GPU probe with a binding whose nvmlInit never returns (a wedged driver)."""
    import llmcheck.probe.nvidia as nvidia
    from llmcheck.probe import probe_gpus
    from tests.fakes.nvml import FakeNvml, one_h100

    class Wedged(FakeNvml):
        def nvmlInit(self) -> None:
            threading.Event().wait()

    nvidia._load_nvml = lambda: Wedged(one_h100())  # type: ignore[assignment]
    conn.send(probe_gpus(system=system, ram_total_bytes=ram_total_bytes))


def segfault(conn: Any, system: str, ram_total_bytes: int | None) -> None:
    """Die of SIGSEGV, as a native library bug does."""
    os.kill(os.getpid(), signal.SIGSEGV)


def killed(conn: Any, system: str, ram_total_bytes: int | None) -> None:
    """Be killed (the OOM killer, a user's kill -9)."""
    os.kill(os.getpid(), signal.SIGKILL)


def exit_silently(conn: Any, system: str, ram_total_bytes: int | None) -> None:
    """Exit 0 without a word."""
    conn.close()
    os._exit(0)


def answer_garbage(conn: Any, system: str, ram_total_bytes: int | None) -> None:
    """Answer with GPUs that are not snapshot dicts (a version skew between parent and child)."""
    conn.send(
        {
            "gpus": [{"index": -5, "vendor": "martian", "total_bytes": 1 << 70}],
            "issues": "not a list",
        }
    )
    conn.close()


def answer_not_a_dict(conn: Any, system: str, ram_total_bytes: int | None) -> None:
    """Answer with something that is not a dict at all."""
    conn.send(["gpus", 1, 2, 3])
    conn.close()


def raise_in_child(conn: Any, system: str, ram_total_bytes: int | None) -> None:
    """Raise before answering (the traceback goes to the child's stderr, which is discarded)."""
    raise RuntimeError("boom in the GPU probe child")


def _wedged_memory(conn: Any, system: str, ram_total_bytes: int | None, *, crash: bool) -> None:
    """The real child (``llmcheck.probe._child``) with a binding whose memory query never returns
    (or segfaults): the GPU was named before, so it must come back present and unknown."""
    import llmcheck.probe as dispatcher
    import llmcheck.probe.nvidia as nvidia
    from tests.fakes.nvml import FakeNvml, one_h100

    class Wedged(FakeNvml):
        def nvmlDeviceGetMemoryInfo(self, handle: Any, **kwargs: Any) -> Any:
            if crash:
                os.kill(os.getpid(), signal.SIGSEGV)
            threading.Event().wait()

    nvidia._load_nvml = lambda: Wedged(one_h100())  # type: ignore[assignment]
    dispatcher._child(conn, system, ram_total_bytes)


def hang_in_memory_query(conn: Any, system: str, ram_total_bytes: int | None) -> None:
    """NVML names the GPU, then its memory query hangs (a wedged driver, issue #13 item 1)."""
    _wedged_memory(conn, system, ram_total_bytes, crash=False)


def segfault_in_memory_query(conn: Any, system: str, ram_total_bytes: int | None) -> None:
    """NVML names the GPU, then its memory query segfaults."""
    _wedged_memory(conn, system, ram_total_bytes, crash=True)
