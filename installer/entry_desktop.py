"""PyInstaller entry of the `forge-desktop` binary: the tray app."""
import multiprocessing
import sys

from forge_desktop.cli import desktop_main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(desktop_main())
