"""The planning domain stays standard-library only (libraries enter via bot.calendars)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import bot.domain

DOMAIN = Path(bot.domain.__file__).parent


def test_calendar_festivals_and_rules_import_only_the_standard_library() -> None:
    for name in ("calendar.py", "festivals.py", "rules.py"):
        tree = ast.parse((DOMAIN / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = [node.module]
            else:
                continue
            for module in roots:
                top = module.split(".")[0]
                ok = top in sys.stdlib_module_names or module.startswith("bot.domain")
                assert ok, f"{name} imports {module}"
