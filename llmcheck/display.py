"""Can a window open here? One answer for ``llmcheck`` (no arguments) and ``llmcheck-gui``.

Qt aborts the whole process (SIGABRT, exit 134, no report) when its platform plugin cannot
reach the display it was told about: a stale ``DISPLAY=:99`` left by ssh or tmux, or a
``WAYLAND_DISPLAY`` whose compositor is gone. So before Qt starts, this module reads the same
variables Qt reads and knocks on the door:

- X11 (``xcb``): ``DISPLAY`` is ``[host]:n[.screen]``. A local display answers on the Unix
  socket ``/tmp/.X11-unix/X<n>`` (Linux also has it in the abstract namespace); ``host:n``
  (ssh's ``localhost:10.0``) on TCP port 6000 + n. This is what libxcb's ``_xcb_open`` tries.
- Wayland: ``WAYLAND_DISPLAY`` (default ``wayland-0``) names a socket under
  ``XDG_RUNTIME_DIR``, or is an absolute path (libwayland-client's ``connect_to_socket``).
- ``QT_QPA_PLATFORM`` may name the plugin (or a ``;`` list Qt tries in order). ``offscreen``
  and ``minimal`` need no display: fine for ``llmcheck-gui`` (tests, packaging smoke runs), but
  a window nobody sees is no answer for ``llmcheck``, which prints its text report instead.
- macOS and Windows always have a window server for a logged-in user.

Qt-free and I/O-light (a connect with a short timeout): no llmcheck imports.
"""

from __future__ import annotations

import ctypes
import importlib.util
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CONNECT_TIMEOUT_S",
    "DisplayCheck",
    "check_display",
    "socket_answers",
]

# Long enough for an ssh-forwarded display across a slow link, short enough not to be noticed.
CONNECT_TIMEOUT_S = 0.5
X11_TCP_BASE_PORT = 6000
X11_SOCKET_DIR = "/tmp/.X11-unix"  # the X11 convention
# Plugins that draw nowhere a person looks; Qt needs no display for them.
HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal"})

# (address family, address) -> does a server accept a connection there?
Connector = Callable[[int, object], bool]
# A Qt platform plugin's name -> why it cannot load, or None.
PluginCheck = Callable[[str], str | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class DisplayCheck:
    """The answer: which Qt platform to use, or why none can be used.

    ``platform`` is the plugin to hand Qt (``"xcb"``, ``"wayland"``, ``"offscreen"``...), or
    None to let Qt choose (macOS, Windows, a plugin llmcheck does not know). ``problem`` is one
    sentence, or None when a window can open. ``visible`` is False for the headless plugins.
    ``named``: the environment named a display or a plugin (so a problem is worth saying: the
    display is stale), rather than naming none (a server, an ssh session without X).
    """

    platform: str | None
    problem: str | None
    visible: bool
    named: bool = True

    @property
    def usable(self) -> bool:
        """A window can open (maybe offscreen)."""
        return self.problem is None

    @property
    def shows_a_window(self) -> bool:
        """A window can open where a person sees it."""
        return self.problem is None and self.visible


def socket_answers(family: int, address: object, *, timeout_s: float = CONNECT_TIMEOUT_S) -> bool:
    """Whether something accepts a stream connection at ``address`` within ``timeout_s``."""
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(address)  # type: ignore[arg-type]
    except (OSError, ValueError, OverflowError, TypeError):
        # Refused, missing, timed out, unresolvable host, a path too long for sun_path ...
        return False
    return True


def check_display(
    environ: Mapping[str, str],
    platform: str | None = None,
    *,
    connect: Connector | None = None,
    plugin_problem: PluginCheck | None = None,
) -> DisplayCheck:
    """Decide, from the environment Qt will read, whether and where a window can open.

    Args:
        environ: the environment (``os.environ``).
        platform: ``sys.platform``; default this one.
        connect: the socket knock, for tests; default :func:`socket_answers`.
        plugin_problem: whether Qt's plugin for a display that answered can load, for tests;
            default :func:`qt_plugin_problem`.
    """
    plat = sys.platform if platform is None else platform
    if plat == "darwin" or plat.startswith(("win", "cygwin")):
        return DisplayCheck(platform=None, problem=None, visible=True)
    knock = connect or _knock
    requested = [p.strip() for p in environ.get("QT_QPA_PLATFORM", "").split(";") if p.strip()]
    candidates = requested or ["wayland", "xcb"]
    reasons: list[str] = []
    for candidate in candidates:
        name = candidate.split(":", 1)[0].lower()  # "xcb:option=value"
        if name in HEADLESS_PLATFORMS:
            return DisplayCheck(platform=candidate, problem=None, visible=False)
        if name == "xcb":
            reason = _x11_problem(environ, knock)
        elif name.startswith("wayland"):
            reason = _wayland_problem(environ, knock, quiet=not requested)
        else:
            # eglfs, linuxfb, vnc, a plugin of the user's own: they asked for it; trust them.
            return DisplayCheck(platform=candidate, problem=None, visible=True)
        if reason is None:
            reason = (plugin_problem or qt_plugin_problem)(name)
        if reason is None:
            return DisplayCheck(platform=candidate, problem=None, visible=True)
        if reason:
            reasons.append(reason)
    if not reasons:
        return DisplayCheck(
            platform=None,
            problem="no display found (DISPLAY and WAYLAND_DISPLAY are unset)",
            visible=False,
            named=False,
        )
    return DisplayCheck(platform=None, problem="; ".join(reasons), visible=False)


def qt_plugin_problem(name: str) -> str | None:
    """Why Qt's platform plugin ``name`` would not load here, or None (also when unknown).

    Qt aborts when its plugin's system libraries are missing: the xcb plugin needs a dozen
    libxcb-* libraries (libxcb-cursor0 since Qt 6.5) that a minimal system or container lacks.
    Loading the plugin library the way Qt would (the dynamic linker, no Qt code run) finds
    that out first. PySide6 is located, not imported.
    """
    platform: str = sys.platform  # a plain str: the check runs on every OS mypy checks for
    if not platform.startswith("linux"):
        return None
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None  # no Qt at all: the window's import says so
    for base in spec.submodule_search_locations:
        plugin = Path(base) / "Qt" / "plugins" / "platforms" / f"libq{name}.so"
        if not plugin.is_file():
            continue
        try:
            ctypes.CDLL(str(plugin))
        except OSError as exc:
            why = str(exc).removeprefix(f"{plugin}: ").removesuffix(": No such file or directory")
            return f"Qt's {name} plugin cannot load ({_shown(why)})"
        return None
    return None


def _knock(family: int, address: object) -> bool:
    return socket_answers(family, address)


def _x11_problem(environ: Mapping[str, str], knock: Connector) -> str | None:
    """None when the X server named by DISPLAY answers; else why not ("" when unset)."""
    value = environ.get("DISPLAY", "")
    if not value:
        return ""
    parsed = _parse_x11_display(value)
    if parsed is None:
        return f"DISPLAY={_shown(value)} is not a display name (expected :0 or host:0)"
    host, number = parsed
    where: list[str] = []
    if host in ("", "unix"):
        path = f"{X11_SOCKET_DIR}/X{number}"
        where.append(path)
        unix_family = getattr(socket, "AF_UNIX", None)
        if unix_family is not None and (
            (sys.platform.startswith("linux") and knock(unix_family, "\0" + path))
            or knock(unix_family, path)
        ):
            return None
        if host == "unix":
            return f"no X server answers at DISPLAY={_shown(value)} ({path})"
        host = "localhost"  # libxcb falls back to TCP for a local display, and so do we
    port = X11_TCP_BASE_PORT + number
    if _tcp_answers(host, port, knock):
        return None
    where.append(f"{_shown(host)} TCP port {port}")
    return f"no X server answers at DISPLAY={_shown(value)} ({', '.join(where)})"


def _tcp_answers(host: str, port: int, knock: Connector) -> bool:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        return False
    return any(knock(family, address) for family, _type, _proto, _name, address in infos)


def _parse_x11_display(value: str) -> tuple[str, int] | None:
    """``[host]:n[.screen]`` -> (host, n); None when it is not one."""
    host, sep, rest = value.rpartition(":")
    if not sep:
        return None
    number = rest.split(".", 1)[0]
    if not number.isascii() or not number.isdigit() or len(number) > 5:
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(number)


def _wayland_problem(environ: Mapping[str, str], knock: Connector, *, quiet: bool) -> str | None:
    """None when the compositor's socket answers; else why not.

    ``quiet``: Wayland was not asked for by name, so an unset WAYLAND_DISPLAY is no problem
    worth naming ("") when X11 is tried next.
    """
    if environ.get("WAYLAND_SOCKET"):
        return None  # an inherited, already connected socket: nothing to knock on
    value = environ.get("WAYLAND_DISPLAY", "")
    if not value:
        return "" if quiet else "QT_QPA_PLATFORM asks for Wayland but WAYLAND_DISPLAY is unset"
    unix_family = getattr(socket, "AF_UNIX", None)
    if unix_family is None:
        return f"WAYLAND_DISPLAY={_shown(value)} needs Unix sockets"
    if value.startswith("/"):
        path = Path(value)
    else:
        runtime = environ.get("XDG_RUNTIME_DIR", "")
        if not runtime:
            return f"WAYLAND_DISPLAY={_shown(value)} but XDG_RUNTIME_DIR is unset"
        path = Path(runtime) / value
    if knock(unix_family, str(path)):
        return None
    return f"no Wayland compositor answers at WAYLAND_DISPLAY={_shown(value)} ({_shown(str(path))})"


def _shown(text: str) -> str:
    """A variable's value for a message: printable, bounded (it comes from the environment)."""
    cleaned = "".join(ch if ch.isprintable() else "\ufffd" for ch in text)
    return cleaned if len(cleaned) <= 80 else cleaned[:79] + "\u2026"
