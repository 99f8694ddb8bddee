"""Forge desktop: the agent, worker and tray app that run on every machine."""

from forge_contracts import __version__

__all__ = ["__version__"]
