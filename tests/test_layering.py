"""Which part may import which (issue 12): the hub never imports the desktop package, and
the Qt side (forge_desktop/ui) never imports the desktop logic it drives, so the logic
and its tests run without Qt and no import circle forms."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent


def imported_modules(path: Path, package: str) -> set[str]:
    """Absolute names of every module `path` imports (relative imports resolved)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{a.name}" for a in node.names)
    return names


def package_of(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    else:
        parts[-1:] = []
    return ".".join(parts)


def offenders(folder: str, forbidden: str) -> list[str]:
    return sorted(f"{p.relative_to(ROOT)} imports {m}" for p in (ROOT / folder).rglob("*.py")
                  for m in imported_modules(p, package_of(p)) if m == forbidden or m.startswith(forbidden + "."))


def test_the_hub_never_imports_the_desktop_package():
    assert offenders("hub", "forge_desktop") == []


def test_the_qt_side_never_imports_the_desktop_logic():
    assert offenders("forge_desktop/ui", "forge_desktop.desktop") == []


def test_the_check_sees_relative_imports():
    """The rule above would pass vacuously if relative imports were not resolved."""
    assert "forge_desktop.settings.SettingsError" in imported_modules(
        ROOT / "forge_desktop/ui/onboarding_dialog.py", "forge_desktop.ui")
