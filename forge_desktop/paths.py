"""Where Forge keeps its state: the platform's config and data folders, or FORGE_DATA_DIR for all of it."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "forge"


def data_dir() -> Path:
    root = os.environ.get("FORGE_DATA_DIR")
    return Path(root) if root else Path(platformdirs.user_data_dir(APP, appauthor=False))


def config_dir() -> Path:
    root = os.environ.get("FORGE_DATA_DIR")
    return Path(root) / "config" if root else Path(platformdirs.user_config_dir(APP, appauthor=False))


def hub_data_dir() -> Path:
    return data_dir() / "hub"
