"""The CLI's own error: a readable message for the user."""
from __future__ import annotations


class CliError(Exception):
    """A readable message for the user; exits with status 2."""
