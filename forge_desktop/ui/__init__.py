"""Qt widgets of the desktop app. Domain modules never import this package."""
from .qt_workarounds import install_exit_cleanup, protect_singleton_refcounts

protect_singleton_refcounts()
install_exit_cleanup()
