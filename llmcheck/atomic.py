"""Write a file so that a reader sees the old content or the new, never a part, never nothing.

Every file llmcheck writes for a user (exports, the desktop entry, the bandwidth cache) goes
through :func:`write_atomic`: the data goes to a temporary file in the same folder, is flushed to
disk, then renamed over the target (``os.replace`` is atomic on one file system, POSIX and
Windows alike). If anything fails (a full disk, a name the file system refuses, a lone surrogate
that cannot be encoded) the temporary file is removed and the old file is untouched.

A leaf module: it imports nothing from llmcheck.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["AtomicWriteError", "write_atomic", "write_text_atomic"]


class AtomicWriteError(OSError):
    """The file could not be written; the message says that the old file (if any) is unchanged."""


def write_atomic(path: str | os.PathLike[str], data: bytes | Callable[[Path], None]) -> Path:
    """Put ``data`` at ``path`` atomically; returns the path written.

    ``data`` is the bytes to write, or a function that writes the temporary file it is given
    (for writers that want a path, such as Qt's image saver).

    Raises:
        AtomicWriteError: nothing was changed at ``path``; the message names the cause.
    """
    target = Path(path)
    try:
        folder = target.parent
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except (OSError, ValueError, UnicodeError) as exc:
        raise AtomicWriteError(_message(target, exc)) from None
    temp = Path(temp_name)
    try:
        if callable(data):
            os.close(fd)
            fd = -1
            data(temp)
            with temp.open("rb+") as handle:
                os.fsync(handle.fileno())
        else:
            with os.fdopen(fd, "wb") as handle:
                fd = -1
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        _keep_mode(target, temp)
        os.replace(temp, target)
    except (OSError, ValueError, UnicodeError) as exc:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            temp.unlink()
        raise AtomicWriteError(_message(target, exc)) from None
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`write_atomic` for text, UTF-8. A string that cannot be encoded changes nothing."""
    try:
        data = text.encode("utf-8")
    except UnicodeError as exc:
        raise AtomicWriteError(_message(Path(path), exc)) from None
    return write_atomic(path, data)


def _keep_mode(target: Path, temp: Path) -> None:
    """A replaced file keeps its permission bits; a new one gets the usual 0o666 & ~umask."""
    try:
        mode = target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(temp, mode)


def _message(target: Path, exc: BaseException) -> str:
    why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    existed = "; the existing file is unchanged" if _exists(target) else ""
    return f"could not write {target}: {why}{existed}"


def _exists(target: Path) -> bool:
    try:
        return target.exists()
    except (OSError, ValueError):
        return False
