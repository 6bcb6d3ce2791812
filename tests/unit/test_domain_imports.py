"""`bot.domain` (rules, reply understanding, queue logic) imports the standard library and
itself only: no SDK, web framework or database (DESIGN.md; libraries enter via bot.calendars)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import bot.domain

DOMAIN = Path(bot.domain.__file__).parent


def test_domain_imports_only_the_standard_library() -> None:
    files = sorted(DOMAIN.rglob("*.py"))
    assert any(p.name == "rules.py" for p in files) and any(p.parent.name == "replies" for p in files)
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                ok = top in sys.stdlib_module_names or name.startswith("bot.domain")
                assert ok, f"{path.relative_to(DOMAIN)} imports {name}"
