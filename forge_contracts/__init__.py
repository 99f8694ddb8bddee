"""Forge's wire contracts: the typed payloads the hub, the agent and the desktop app exchange.

Depends only on msgspec and the standard library, so every part can import it.
"""

__version__ = "0.1.0"
