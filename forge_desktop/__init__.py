"""Forge desktop: the agent, worker and tray app that run on every machine."""

__version__ = "0.1.0"
