"""PyInstaller entry of the `forge` binary: the CLI, which also starts the hub and the agent."""
import multiprocessing
import sys

from forge_desktop.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
