"""Build the fake ``libnvidia-ml.so.1`` from ``fake_nvml.c`` for end-to-end tests.

Put the returned file's folder first on ``LD_LIBRARY_PATH`` of a child process and the real
nvidia-ml-py binding loads it (``CDLL("libnvidia-ml.so.1")``), so the whole ctypes path runs.
The file's header comment lists its devices and the environment variables that shape them.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

SOURCE = Path(__file__).with_name("fake_nvml.c")
SONAME = "libnvidia-ml.so.1"


class CompilerMissingError(RuntimeError):
    """No C compiler on PATH (tests skip on it)."""


def find_c_compiler() -> str | None:
    """The first of cc, gcc, clang on PATH."""
    for name in ("cc", "gcc", "clang"):
        path = shutil.which(name)
        if path:
            return path
    return None


def build_fake_libnvml(tmp_path: Path, *, defines: Sequence[str] = ()) -> Path:
    """Compile the fake into ``tmp_path/<variant>/libnvidia-ml.so.1`` and return that file.

    Args:
        tmp_path: a scratch folder (pytest's ``tmp_path``).
        defines: C macros, e.g. ``("FAKE_NVML_NO_V2",)`` for a driver without the _v2 symbols.

    Raises:
        CompilerMissingError: no C compiler; ``subprocess.CalledProcessError`` if it fails.
    """
    compiler = find_c_compiler()
    if compiler is None:
        raise CompilerMissingError("no C compiler (cc, gcc or clang) on PATH")
    folder = tmp_path / (
        "libnvml-" + "-".join(d.lower() for d in defines) if defines else "libnvml"
    )
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / SONAME
    command = [compiler, "-shared", "-fPIC", "-O1", "-Wall", "-Werror"]
    command += [f"-D{d}" for d in defines]
    command += ["-Wl,-soname," + SONAME, "-o", str(target), str(SOURCE)]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
    return target
