"""Packaging: the bundle filter, the spec's platform branches, icons, metainfo, wheel and bundle.

The fast tests run the real spec file against recording stand-ins for PyInstaller's build
classes, so each OS branch (Linux, Windows, macOS) is checked here, where only Linux can build.
The slow ones (``-m slow``) build a wheel into a clean venv and the Linux bundle itself.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import platform
import shutil
import struct
import subprocess
import sys
import venv
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest

import llmcheck
from llmcheck.desktop_entry import DESKTOP_FILE_NAME, ICON_SIZES_PX

REPO = Path(__file__).resolve().parent.parent
PACKAGING = REPO / "packaging"
ICONS = REPO / "resources" / "icons"
METAINFO = "io.github.llmcheck.metainfo.xml"
SCHEMA = REPO / "resources" / "json-schema" / "llmcheck-report.schema.json"


def _load(name: str) -> ModuleType:
    """Import a packaging/ helper by path (packaging/ is not a package: it would shadow PyPI's)."""
    spec = importlib.util.spec_from_file_location(f"_llmcheck_{name}", PACKAGING / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building classes
    spec.loader.exec_module(module)
    return module


plan = _load("bundle_plan")
icons = _load("make_icons")


# --- what the bundle keeps -------------------------------------------------------------------


@pytest.mark.parametrize(
    "dest",
    [
        "libnvidia-ml.so.1",
        "libnvidia-ml.so.580.95.05",
        "nvml.dll",
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6/Qt/plugins/platforms/libqwayland-egl.so",
        "PySide6/Qt/plugins/platforms/libqeglfs.so",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "PySide6/Qt/plugins/tls/libqopensslbackend.so",
        "PySide6/Qt/plugins/imageformats/libqjpeg.so",
        "PySide6/Qt/plugins/wayland-shell-integration/libxdg-shell.so",
        "PySide6/Qt/lib/libQt6Network.so.6",
        "PySide6/Qt/lib/libQt6Qml.so.6",
        "libgtk-3.so.0",
        "libssl.so.3",
        "PySide6\\plugins\\imageformats\\qjpeg.dll",
        "PySide6\\Qt6Network.dll",
        "PySide6\\translations\\qtbase_fr.qm",
    ],
)
def test_bundle_drops_nvml_and_unused_qt_parts(dest: str) -> None:
    assert not plan.keep_in_bundle(dest)


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/lib/libQt6Core.so.6",
        "PySide6/Qt/lib/libQt6Gui.so.6",
        "PySide6/Qt/lib/libQt6Widgets.so.6",
        "PySide6/Qt/lib/libQt6Svg.so.6",
        "PySide6/Qt/lib/libQt6XcbQpa.so.6",
        "PySide6/Qt/lib/libQt6DBus.so.6",
        "PySide6/Qt/lib/libicudata.so.73",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/platforms/libqminimal.so",
        "PySide6/Qt/plugins/imageformats/libqsvg.so",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "PySide6/Qt/plugins/xcbglintegrations/libqxcb-glx-integration.so",
        "PySide6\\plugins\\platforms\\qwindows.dll",
        "PySide6\\plugins\\imageformats\\qsvg.dll",
        "PySide6/Qt/plugins/platforms/libqcocoa.dylib",
        "llmcheck/resources/json-schema/llmcheck-report.schema.json",
        "llmcheck/resources/icons/llmcheck.png",
        "libpython3.11.so.1.0",
        "psutil/_psutil_linux.abi3.so",
    ],
)
def test_bundle_keeps_what_the_app_loads(dest: str) -> None:
    assert plan.keep_in_bundle(dest)


def test_split_scripts_gives_each_executable_the_hooks_and_its_own_entry() -> None:
    scripts = [
        ("pyiboot01_bootstrap", "/b.py", "PYSOURCE"),
        ("pyi_rth_multiprocessing", "/m.py", "PYSOURCE"),
        ("pyi_rth_pyside6", "/q.py", "PYSOURCE"),
        ("pyi_rth_llmcheck_cli", "/l.py", "PYSOURCE"),
        ("entry_gui", "/g.py", "PYSOURCE"),
        ("entry_cli", "/c.py", "PYSOURCE"),
    ]
    split = plan.split_scripts(scripts, ("entry_gui", "entry_cli"))
    assert [n for n, _p, _k in split["entry_gui"]] == [
        "pyiboot01_bootstrap",
        "pyi_rth_multiprocessing",
        "pyi_rth_pyside6",
        "entry_gui",
    ]
    # The console executable does not import QtCore at start-up (PySide6's hook does).
    assert [n for n, _p, _k in split["entry_cli"]] == [
        "pyiboot01_bootstrap",
        "pyi_rth_multiprocessing",
        "pyi_rth_llmcheck_cli",
        "entry_cli",
    ]
    with pytest.raises(ValueError, match="entry_cli"):
        plan.split_scripts(scripts[:5], ("entry_gui", "entry_cli"))


# --- the spec, run against recording stand-ins for PyInstaller -------------------------------


class _Recorder:
    """Stands in for one PyInstaller build class and records how the spec called it."""

    def __init__(self, kind: str, calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]]):
        self.kind = kind
        self.calls = calls

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((self.kind, args, kwargs))
        if self.kind == "Analysis":
            return _FakeAnalysis(args[0], kwargs["runtime_hooks"])
        return (self.kind, kwargs.get("name"))


class _FakeAnalysis:
    def __init__(self, scripts: list[str], runtime_hooks: list[str]) -> None:
        self.scripts = [
            (Path(s).stem, s, "PYSOURCE")
            for s in [
                "/boot/pyiboot01_bootstrap.py",
                "/hooks/pyi_rth_pyside6.py",
                *runtime_hooks,
                *scripts,
            ]
        ]
        self.pure: list[tuple[str, str, str]] = []
        self.binaries = [
            ("libnvidia-ml.so.1", "/usr/lib/libnvidia-ml.so.1", "BINARY"),
            ("PySide6/Qt/lib/libQt6Core.so.6", "/x/libQt6Core.so.6", "BINARY"),
        ]
        self.datas = [("PySide6/Qt/translations/qt_de.qm", "/x/qt_de.qm", "DATA")]


def _run_spec(
    system: str, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(platform, "system", lambda: system)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the spec prepends packaging/
    namespace: dict[str, Any] = {"SPECPATH": str(PACKAGING), "__name__": "__main__"}
    for kind in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE"):
        namespace[kind] = _Recorder(kind, calls)
    code = compile((PACKAGING / "llmcheck.spec").read_text(encoding="utf-8"), "spec", "exec")
    exec(code, namespace)
    assert not any(entry[0].startswith("libnvidia-ml") for entry in namespace["a"].binaries)
    assert namespace["a"].datas == []  # Qt translations dropped
    return calls


def _of(calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]], kind: str) -> list[Any]:
    return [(args, kwargs) for k, args, kwargs in calls if k == kind]


def test_spec_linux_builds_two_stripped_executables_in_one_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _run_spec("Linux", monkeypatch)
    ((analysis_args, analysis_kwargs),) = _of(calls, "Analysis")
    assert [Path(s).name for s in analysis_args[0]] == ["entry_gui.py", "entry_cli.py"]
    assert analysis_kwargs["datas"] == [(str(REPO / "resources"), "llmcheck/resources")]
    exes = {kw["name"]: (args, kw) for args, kw in _of(calls, "EXE")}
    assert set(exes) == {"llmcheck-gui", "llmcheck"}
    assert exes["llmcheck"][1]["console"] is True
    assert exes["llmcheck-gui"][1]["console"] is False
    assert [s[0] for s in exes["llmcheck"][0][1]] == [
        "pyiboot01_bootstrap",
        "pyi_rth_llmcheck_cli",
        "entry_cli",
    ]
    assert [s[0] for s in exes["llmcheck-gui"][0][1]] == [
        "pyiboot01_bootstrap",
        "pyi_rth_pyside6",
        "entry_gui",
    ]
    assert Path(analysis_kwargs["runtime_hooks"][0]).is_file()
    assert all(kw["strip"] and kw["icon"] is None for _a, kw in exes.values())
    ((collect_args, collect_kwargs),) = _of(calls, "COLLECT")
    assert collect_kwargs["name"] == "llmcheck"
    assert collect_args[:2] == (("EXE", "llmcheck-gui"), ("EXE", "llmcheck"))
    assert _of(calls, "BUNDLE") == []


def test_spec_windows_has_no_console_behind_the_gui_and_an_ico(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exes = {kw["name"]: kw for _a, kw in _of(_run_spec("Windows", monkeypatch), "EXE")}
    assert exes["llmcheck-gui"]["console"] is False
    assert exes["llmcheck"]["console"] is True
    assert {kw["icon"] for kw in exes.values()} == {str(ICONS / "llmcheck.ico")}
    assert not any(kw["strip"] for kw in exes.values())


def test_spec_macos_makes_an_app_with_the_gui_only(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _run_spec("Darwin", monkeypatch)
    assert [kw["name"] for _a, kw in _of(calls, "EXE")] == ["llmcheck-gui"]
    ((bundle_args, bundle_kwargs),) = _of(calls, "BUNDLE")
    assert bundle_args == (("COLLECT", "llmcheck"),)
    assert bundle_kwargs["name"] == "llmcheck.app"
    assert bundle_kwargs["icon"] == str(ICONS / "llmcheck.icns")
    assert bundle_kwargs["version"] == llmcheck.__version__


@pytest.mark.parametrize("script", ["entry_cli.py", "entry_gui.py"])
def test_entry_scripts_call_freeze_support_first(script: str) -> None:
    """py-cpuinfo and the isolated GPU probe start child processes, which re-run the entry."""
    tree = ast.parse((PACKAGING / script).read_text(encoding="utf-8"))
    (main_block,) = [n for n in tree.body if isinstance(n, ast.If)]
    first = main_block.body[0]
    assert isinstance(first, ast.Expr)
    assert ast.unparse(first) == "multiprocessing.freeze_support()"


# --- icons -----------------------------------------------------------------------------------


def _png(size: int) -> bytes:
    """A PNG signature and IHDR chunk: all the container writers read."""
    ihdr = struct.pack(">II", size, size) + bytes([8, 6, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\0" * 4


def _read_ico(data: bytes) -> dict[int, bytes]:
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1)
    out = {}
    for i in range(count):
        w, h, _c, _r, planes, bpp, size, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        assert w == h
        assert (planes, bpp) == (1, 32)
        out[w or 256] = data[offset : offset + size]
    return out


def _read_icns(data: bytes) -> dict[bytes, bytes]:
    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)
    out, pos = {}, 8
    while pos < len(data):
        kind, length = data[pos : pos + 4], struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        out[kind] = data[pos + 8 : pos + length]
        pos += length
    return out


def test_ico_writer_round_trips_every_size() -> None:
    pngs = {size: _png(size) for size in (16, 32, 256)}
    assert _read_ico(icons.ico_bytes(pngs)) == pngs


def test_icns_writer_round_trips_with_apple_type_codes() -> None:
    pngs = {size: _png(size) for size in (16, 128, 512)}
    assert _read_icns(icons.icns_bytes(pngs)) == {
        b"icp4": pngs[16],
        b"ic07": pngs[128],
        b"ic09": pngs[512],
    }


@pytest.mark.parametrize(
    ("writer", "pngs"),
    [
        ("ico_bytes", {512: _png(512)}),
        ("ico_bytes", {32: _png(48)}),
        ("icns_bytes", {24: _png(24)}),
        ("icns_bytes", {32: b"GIF89a not a png at all"}),
    ],
)
def test_icon_writers_refuse_wrong_sizes(writer: str, pngs: dict[int, bytes]) -> None:
    with pytest.raises(ValueError, match=r"PNG|entry"):
        getattr(icons, writer)(pngs)


def test_committed_icons_have_every_size_the_desktop_entry_installs() -> None:
    for size in ICON_SIZES_PX:
        assert icons.png_size_px((ICONS / icons.png_name(size)).read_bytes()) == (size, size)
    ico = _read_ico((ICONS / "llmcheck.ico").read_bytes())
    assert sorted(ico) == sorted(icons.ICO_SIZES_PX)
    assert all(icons.png_size_px(png) == (s, s) for s, png in ico.items())
    assert set(_read_icns((ICONS / "llmcheck.icns").read_bytes())) == set(icons.ICNS_TYPES.values())
    ET.parse(ICONS / "llmcheck.svg")  # well-formed XML


def test_icons_render_from_the_svg_master(request: pytest.FixtureRequest) -> None:
    """The generator's QtSvg path yields PNGs of the asked sizes (what make_icons.py commits)."""
    # pytest-qt's QApplication, so this test never leaves a bare QGuiApplication behind for
    # the widget tests; the Qt-less core job skips it.
    pytest.importorskip("pytestqt")
    request.getfixturevalue("qapp")
    rendered = icons.render_pngs(ICONS / "llmcheck.svg", (16, 64))
    assert {size: icons.png_size_px(png) for size, png in rendered.items()} == {
        16: (16, 16),
        64: (64, 64),
    }


# --- AppStream -------------------------------------------------------------------------------


def test_metainfo_names_the_desktop_entry_and_this_version() -> None:
    root = ET.parse(PACKAGING / "linux" / "io.github.llmcheck.metainfo.xml").getroot()
    assert root.findtext("launchable") == DESKTOP_FILE_NAME
    assert {b.text for b in root.iter("binary")} == {"llmcheck", "llmcheck-gui"}
    releases = [r.get("version") for r in root.iter("release")]
    assert releases[0] == llmcheck.__version__, "add a <release> for the new version"


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream not installed")
def test_metainfo_passes_appstreamcli() -> None:
    result = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(PACKAGING / "linux" / METAINFO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- slow: the wheel in a clean venv, the bundle ---------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("llmcheck-*.whl")
    return built


@pytest.mark.slow
def test_wheel_holds_every_resource_and_both_commands(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        entry_text = zf.read(entry_points).decode()
    tracked = subprocess.run(
        ["git", "ls-files", "resources"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked, "no resources tracked?"
    missing = [f for f in tracked if "llmcheck/" + f not in names]
    assert missing == []
    assert "[console_scripts]\nllmcheck = llmcheck.cli:entry" in entry_text
    assert "[gui_scripts]\nllmcheck-gui = llmcheck.gui.app:entry" in entry_text


@pytest.mark.slow
def test_wheel_in_a_clean_venv_answers_json(wheel: Path, tmp_path: Path) -> None:
    """pip install of the built wheel (deps from pip's configured index) runs llmcheck --json."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    # The same dependency versions as the dev venv: what the rest of the suite tested.
    pins = [
        f"{name}=={importlib.metadata.version(name)}"
        for name in ("psutil", "nvidia-ml-py", "py-cpuinfo", "PySide6-Essentials")
    ]
    (tmp_path / "pins.txt").write_text("\n".join(pins) + "\n", encoding="utf-8")
    install = subprocess.run(
        [
            str(bin_dir / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--prefer-binary",
            "-c",
            str(tmp_path / "pins.txt"),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    assert (bin_dir / "llmcheck-gui").is_file()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    result = subprocess.run(
        [str(bin_dir / "llmcheck"), "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schema_version"] == "1"
    site = next((env_dir / "lib").glob("python3*/site-packages"))
    installed_schema = site / "llmcheck" / "resources" / "json-schema" / SCHEMA.name
    jsonschema.validate(report, json.loads(installed_schema.read_text(encoding="utf-8")))

    where = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "from llmcheck.resources import resource_root; print(resource_root())",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where) == site / "llmcheck" / "resources"


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the Linux bundle")
def test_linux_bundle_smoke_test_passes() -> None:
    """packaging/smoke_test.sh: build, unpack, --json against the schema, GUI --smoke-test."""
    result = subprocess.run(
        ["bash", str(PACKAGING / "smoke_test.sh")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    assert "smoke_test: PASS" in result.stdout
