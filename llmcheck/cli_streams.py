"""The command line's standard streams: write the answer, fail in one line, log to stderr.

``llmcheck.cli`` defines what each failure means (its exit codes); this module only makes the
streams unable to raise past it: a closed or failing stdout is :class:`OutputError`, a closed
stderr is silence, text a terminal cannot encode prints as "?" (see ``llmcheck.cli``'s
docstring for the whole contract).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys

from llmcheck.units import clean_text

__all__ = [
    "OutputError",
    "configure_logging",
    "fail",
    "prepare_streams",
    "silence_stdout",
    "write_stderr",
    "write_stdout",
]

PROG = "llmcheck"

log = logging.getLogger("llmcheck")


class OutputError(Exception):
    """The answer could not be written to stdout (closed, or a full disk): exit 5."""


def write_stdout(text: str) -> None:
    """Write the answer. A reader that went away is quiet; a stdout that fails is OutputError."""
    out = sys.stdout
    if out is None:  # file descriptor 1 was closed before Python started (`llmcheck >&-`)
        if not text:
            return
        raise OutputError("cannot write the answer: standard output is closed")
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        # `llmcheck check X -q Q | head -c1`: the reader has what it wanted; the exit code
        # still carries the answer.
        silence_stdout()
    except ValueError:  # "I/O operation on closed file"
        raise OutputError("cannot write the answer: standard output is closed") from None
    except OSError as exc:  # ENOSPC (/dev/full, a full disk), EIO, EBADF
        silence_stdout()
        reason = exc.strerror or type(exc).__name__
        raise OutputError(f"cannot write the answer to standard output: {reason}") from None


def fail(code: int, message: str) -> int:
    write_stderr(f"{PROG}: error: {clean_text(message, limit=2000)}\n")
    return code


def write_stderr(text: str) -> None:
    # sys.stderr is None when descriptor 2 was closed (`2>&-`): the exit code still answers.
    err = sys.stderr
    if err is None:
        return
    with contextlib.suppress(OSError, ValueError):
        err.write(text)
        err.flush()


def prepare_streams() -> None:
    """Make stdout and stderr unable to fail on text they cannot encode.

    Under LC_ALL=C (without UTF-8 mode), an ISO-8859-1 or EUC-JP locale or PYTHONIOENCODING=ascii,
    a GPU named "...(TM)" with a real U+2122 would raise UnicodeEncodeError in the middle of the
    report: print "?" in its place instead. A closed standard file descriptor is reopened on
    the null device, so no file llmcheck opens later (a snapshot, a desktop entry being written)
    can take its number and receive stray output; ``sys.stdout`` / ``sys.stderr`` stay None, so
    the CLI still knows the stream was closed.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            with contextlib.suppress(OSError):
                null = os.open(os.devnull, os.O_RDWR)
                if null != fd:
                    os.dup2(null, fd)
                    os.close(null)
    for stream, errors in ((sys.stdout, "replace"), (sys.stderr, "backslashreplace")):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(OSError, ValueError, TypeError):
                reconfigure(errors=errors)


def silence_stdout() -> None:
    # Python would report the broken pipe again when it flushes stdout at exit: point the file
    # descriptor at devnull (https://docs.python.org/3/library/signal.html#note-on-sigpipe).
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is now (tests swap it), never to stdout."""

    def emit(self, record: logging.LogRecord) -> None:
        # The message is one clean line (it may quote the machine); a traceback (-v) keeps its
        # lines, each cleaned.
        text = f"{PROG}: {record.levelname}: {clean_text(record.getMessage(), limit=4000)}\n"
        if record.exc_info:
            trace = logging.Formatter().formatException(record.exc_info)
            text += "".join(f"  {clean_text(line, limit=4000)}\n" for line in trace.splitlines())
        write_stderr(text)


def configure_logging(*, verbose: bool) -> None:
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        handler = _StderrHandler()
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(logging.DEBUG if verbose else logging.WARNING)
