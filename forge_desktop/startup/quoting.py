"""Turning an argument vector into the command-line syntax of each file format."""
from __future__ import annotations

import re
import subprocess
from typing import Sequence
from xml.sax.saxutils import escape

_SYSTEMD_PLAIN = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")
_DESKTOP_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def systemd_exec(argv: Sequence[str]) -> str:
    """ExecStart= syntax: words quoted when needed, `%` and `$` doubled (no expansion)."""
    words = []
    for arg in argv:
        arg = arg.replace("%", "%%").replace("$", "$$")
        if _SYSTEMD_PLAIN.match(arg):
            words.append(arg)
        else:
            words.append('"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return " ".join(words)


def systemd_environment(key: str, value: str) -> str:
    """Environment= assignment: quoted, `%` doubled (systemd does not expand `$` here)."""
    pair = f"{key}={value}".replace("%", "%%").replace("\\", "\\\\").replace('"', '\\"')
    return f'"{pair}"'


def desktop_exec(argv: Sequence[str]) -> str:
    """Exec= key of the XDG Desktop Entry spec, already escaped as a string value."""
    words = []
    for arg in argv:
        arg = arg.replace("%", "%%")
        if arg and not (_DESKTOP_RESERVED & set(arg)):
            words.append(arg)
        else:
            inner = re.sub(r'(["`$\\])', r"\\\1", arg)
            words.append(f'"{inner}"')
    return " ".join(words).replace("\\", "\\\\")


def windows_command_line(argv: Sequence[str]) -> str:
    """The string CreateProcess parses back into `argv` (used for the Run key)."""
    return subprocess.list2cmdline(list(argv))


_BATCH_SPECIAL = set("&|<>^()")


def batch_command_line(argv: Sequence[str]) -> str:
    """A command line inside a .cmd file: cmd's operators quoted, `%` doubled."""
    words = []
    for arg in argv:
        word = windows_command_line([arg])
        if _BATCH_SPECIAL & set(arg) and not word.startswith('"'):
            word = '"' + word + '"'
        words.append(word.replace("%", "%%"))
    return " ".join(words)


def plist_strings(argv: Sequence[str], indent: str = "\t\t") -> str:
    return "\n".join(f"{indent}<string>{escape(arg)}</string>" for arg in argv)
