"""Analysis inputs both PyInstaller specs share (imported by the .spec files)."""
from __future__ import annotations

from pathlib import Path

from PyInstaller.utils.hooks import collect_all, collect_data_files, collect_submodules, copy_metadata

ROOT = Path(__file__).resolve().parent.parent

# Modules neither build needs; the solvers and the hub stay in. botocore and pydantic
# are optional imports of pandas and yarl (found only if installed): 15 MB for nothing.
EXCLUDES = ["tkinter", "matplotlib", "IPython", "pytest", "playwright", "scipy", "sphinx", "notebook",
            "botocore", "boto3", "s3transfer", "s3fs", "fsspec", "pydantic", "pydantic_core"]
# Qt parts the tray app and pyqtgraph never load (each is megabytes).
QT_EXCLUDES = [f"PySide6.{m}" for m in (
    "QtWebEngineCore", "QtWebEngineWidgets", "QtWebEngineQuick", "QtWebChannel", "QtWebSockets",
    "Qt3DCore", "Qt3DRender", "Qt3DExtras", "Qt3DInput", "Qt3DLogic", "Qt3DAnimation",
    "QtQuick3D", "QtMultimedia", "QtMultimediaWidgets", "QtCharts", "QtDataVisualization",
    "QtGraphs", "QtPdf", "QtPdfWidgets", "QtBluetooth", "QtNfc", "QtSensors", "QtSerialPort",
    "QtPositioning", "QtLocation", "QtTextToSpeech", "QtDesigner", "QtHelp", "QtRemoteObjects",
    "QtScxml", "QtSpatialAudio", "QtHttpServer")]


def package_inputs() -> tuple[list, list, list]:
    """(datas, binaries, hiddenimports) for forge_desktop, hub, the solvers and the keyring."""
    datas = collect_data_files("hub") + collect_data_files("forge_desktop")
    binaries: list = []
    hidden = collect_submodules("hub") + collect_submodules("forge_desktop")
    for package in ("ortools", "highspy"):
        d, b, h = collect_all(package)
        datas, binaries, hidden = datas + d, binaries + b, hidden + h
    for package in ("keyring", "keyrings.alt"):
        datas += copy_metadata(package)
        hidden += collect_submodules(package)
    # Apprise finds its ~100 notification plugins by listing its plugins folder at run time,
    # so their sources must be on disk in the bundle, not only compiled into the archive.
    d, b, h = collect_all("apprise")
    datas, binaries, hidden = datas + d + collect_data_files("apprise", include_py_files=True), binaries + b, hidden + h
    hidden += collect_submodules("cryptography")
    return datas, binaries, hidden
