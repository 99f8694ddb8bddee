"""Forge's build backend: setuptools, plus one config setting, `slim`.

Extras can only add dependencies, so one distribution cannot both install everything on a
plain `pip install .` (what CI, the acceptance checks and the one-file builds rely on) and
let a hub-only machine leave Qt and the solvers out. The `slim` setting picks the base
when the wheel is built; the extras are the same either way (README.md, "Install"):

    pip install .                          # everything: hub, agent, worker's solvers, tray app
    pip install -C slim=1 .                # the hub's dependencies only
    pip install -C slim=1 ".[agent]"       # ... plus what the extras named add

setup.py reads the choice from FORGE_BUILD_SLIM, which only this backend sets: each hook
runs in a process of its own, so the variable lives no longer than the hook.
"""
from __future__ import annotations

import os

from setuptools import build_meta as _setuptools

SETTING = "slim"
ENV = "FORGE_BUILD_SLIM"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _apply(config_settings: dict | None) -> dict | None:
    """Take `slim` out of the settings (setuptools does not know it) into the environment."""
    settings = dict(config_settings or {})
    value = settings.pop(SETTING, None)
    if isinstance(value, list):  # pip passes a repeated -C key as a list
        value = value[-1]
    if value is None:
        os.environ.pop(ENV, None)
    elif str(value).lower() in _TRUE + _FALSE:
        os.environ[ENV] = "1" if str(value).lower() in _TRUE else "0"
    else:
        raise ValueError(f"forge-monitor: config setting slim={value!r}: use slim=1 or slim=0")
    return settings or None


def get_requires_for_build_wheel(config_settings=None):
    return _setuptools.get_requires_for_build_wheel(_apply(config_settings))


def get_requires_for_build_editable(config_settings=None):
    return _setuptools.get_requires_for_build_editable(_apply(config_settings))


def get_requires_for_build_sdist(config_settings=None):
    return _setuptools.get_requires_for_build_sdist(_apply(config_settings))


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return _setuptools.prepare_metadata_for_build_wheel(metadata_directory, _apply(config_settings))


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return _setuptools.prepare_metadata_for_build_editable(metadata_directory, _apply(config_settings))


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _setuptools.build_wheel(wheel_directory, _apply(config_settings), metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _setuptools.build_editable(wheel_directory, _apply(config_settings), metadata_directory)


def build_sdist(sdist_directory, config_settings=None):
    return _setuptools.build_sdist(sdist_directory, _apply(config_settings))
