"""Qt widgets of the desktop app. Domain modules never import this package."""
from .qt_workarounds import protect_bool_refcounts

protect_bool_refcounts()
