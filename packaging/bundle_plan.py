"""What goes into the PyInstaller bundle, per platform: pure decisions that llmcheck.spec applies.

Kept out of the spec so ``tests/test_packaging.py`` can check them without running PyInstaller.
The size rules come from a measured trial (packaging/README.md, "Where the size rules come
from"): a default one-folder PySide6 bundle was 163 MB; dropping unused Qt plugins, translations
and the libraries only they pull in, and stripping, gave 110 MB.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

# Qt plugin folders the app never loads: alternative windowing back-ends (eglfs, Wayland: Wayland
# desktops run the xcb plugin through XWayland), network plugins, and platform themes (the gtk3
# theme alone drags in the build machine's GTK, cairo, pango and harfbuzz).
DROP_PLUGIN_DIRS = frozenset(
    {
        "egldeviceintegrations",
        "wayland-decoration-client",
        "wayland-graphics-integration-client",
        "wayland-graphics-integration-server",
        "wayland-shell-integration",
        "networkinformation",
        "tls",
        "generic",
        "platformthemes",
        "platforminputcontexts",
        "qmltooling",
        "sqldrivers",
        "designer",
        "printsupport",
        "vectorimageformats",
    }
)
# Platform plugins kept: xcb (X11 and XWayland), offscreen (smoke test), minimal, and the Windows
# and macOS ones (qwindows, qcocoa), which these rules never name.
DROP_PLATFORMS = ("qeglfs", "qlinuxfb", "qminimalegl", "qvkkhrdisplay", "qvnc", "qwayland")
# Image formats kept: SVG (the icon and any drawn glyphs) and ICO; PNG is built into QtGui.
KEEP_IMAGEFORMATS = ("qsvg", "qico")
# Libraries only the dropped plugins and Python modules need, by file-name prefix.
DROP_LIBS = (
    "libgtk-3",
    "libgdk-3",
    "libatk-",
    "libcairo",
    "libpango",
    "libharfbuzz",
    "libpixman",
    "libthai",
    "libdatrie",
    "libfribidi",
    "libgraphite2",
    "libgdk_pixbuf",
    "libQt6WaylandClient",
    "libQt6WaylandEglClientHwIntegration",
    "libQt6WlShellIntegration",
    "libQt6EglFSDeviceIntegration",
    "libQt6EglFsKmsSupport",
    "libQt6Network",
    "libQt6Qml",
    "libQt6Quick",
    "libQt6Pdf",
    "libQt6VirtualKeyboard",
    "libssl",
    "libcrypto",
    "libkrb5",
    "libgssapi",
    "libk5crypto",
    "libcom_err",
    "libkeyutils",
)
# NVML comes with the user's NVIDIA driver and must match it: never ship the build machine's.
# pynvml names it in a ctypes call, which PyInstaller's binary analysis can pick up.
NVML_LIBS = ("nvidia-ml", "nvml")  # compared without "lib": libnvidia-ml.so.1, nvml.dll

# Python modules the app does not use but that the analysis might follow.
EXCLUDED_MODULES = (
    "tkinter",
    "unittest",
    "pydoc",
    "pytest",
    "_pytest",
    "hypothesis",
    "PyInstaller",
    "PySide6.QtNetwork",
    "PySide6.QtDBus",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtSql",
    "PySide6.QtPrintSupport",
    "PySide6.QtUiTools",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtXml",
    "PySide6.QtConcurrent",
)


def _bare_name(file_name: str) -> str:
    """A library or plugin name without the ``lib`` prefix that only Unix file names carry."""
    return file_name[3:] if file_name.startswith("lib") else file_name


# Windows names the same libraries without "lib" (Qt6Network.dll, libssl-3-x64.dll both match).
_DROP_LIBS_BARE = tuple(_bare_name(name) for name in DROP_LIBS)


def keep_in_bundle(dest_name: str) -> bool:
    """Whether one ``a.binaries`` / ``a.datas`` entry, by its path inside the bundle, is kept."""
    parts = PurePath(dest_name.replace("\\", "/")).parts
    if not parts:
        return True
    name = parts[-1]
    if _bare_name(name).startswith(NVML_LIBS):
        return False
    # Qt's own translations (7 MB): the app's text is English.
    if "translations" in parts and "PySide6" in parts:
        return False
    if "plugins" in parts:
        index = parts.index("plugins")
        kind = parts[index + 1] if len(parts) > index + 1 else ""
        if kind in DROP_PLUGIN_DIRS:
            return False
        if kind == "platforms" and _bare_name(name).startswith(DROP_PLATFORMS):
            return False
        if kind == "imageformats" and not _bare_name(name).startswith(KEEP_IMAGEFORMATS):
            return False
    return not _bare_name(name).startswith(_DROP_LIBS_BARE)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlatformPlan:
    """How the spec builds on one OS (``platform.system()``)."""

    icon_file: str | None  # under resources/icons; None where the executable has no icon
    gui_console: bool  # False: no console window behind the GUI (Windows)
    app_bundle: bool  # macOS: a .app holding only the GUI executable
    include_cli: bool  # the console ``llmcheck`` executable in the same folder
    strip: bool  # strip symbols (Linux: 163 -> 110 MB with the filter; breaks macOS signing)
    exe_suffix: str


def platform_plan(system: str) -> PlatformPlan:
    """The plan for ``system`` ("Linux", "Windows", "Darwin"); other Unixes build like Linux."""
    if system == "Windows":
        return PlatformPlan(
            icon_file="llmcheck.ico",
            gui_console=False,
            app_bundle=False,
            include_cli=True,
            strip=False,
            exe_suffix=".exe",
        )
    if system == "Darwin":
        # The .app is for double-clicking; terminal users on macOS install with pipx.
        return PlatformPlan(
            icon_file="llmcheck.icns",
            gui_console=False,
            app_bundle=True,
            include_cli=False,
            strip=False,
            exe_suffix="",
        )
    return PlatformPlan(
        icon_file=None,  # Linux executables carry no icon: the .desktop entry names it
        gui_console=False,
        app_bundle=False,
        include_cli=True,
        strip=True,
        exe_suffix="",
    )


# Runtime hooks that only some executables run, by entry script: the console executable swaps
# PySide6's hook (imports QtCore + ICU at each start) for one that only sets the plugin path.
CLI_RUNTIME_HOOK = "pyi_rth_llmcheck_cli"
HOOKS_LEFT_OUT = {
    "entry_gui": frozenset({CLI_RUNTIME_HOOK}),
    "entry_cli": frozenset({"pyi_rth_pyside6"}),
}


def split_scripts(
    scripts: list[tuple[str, str, str]], entry_names: tuple[str, ...]
) -> dict[str, list[tuple[str, str, str]]]:
    """One shared Analysis of both entry scripts -> each executable's script list.

    ``a.scripts`` holds PyInstaller's bootstrap and runtime hooks followed by every entry
    script; each executable keeps the hooks (less those :data:`HOOKS_LEFT_OUT` names for it)
    and only its own entry script.

    Raises:
        ValueError: an entry script is missing from the analysis.
    """
    names = {entry[0] for entry in scripts}
    missing = [name for name in entry_names if name not in names]
    if missing:
        raise ValueError(f"entry scripts missing from the analysis: {missing}")
    out = {}
    for name in entry_names:
        left_out = HOOKS_LEFT_OUT.get(name, frozenset()) | (set(entry_names) - {name})
        out[name] = [entry for entry in scripts if entry[0] not in left_out]
    return out
