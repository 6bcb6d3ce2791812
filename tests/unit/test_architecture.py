"""The shape of the code (README "Architecture"): imports point inward, SDKs stay in
`channels/`, service packages form a ladder, modules stay small. Read from the source, no I/O
beyond the files themselves."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("bot", "channels", "message_templates", "scheduler")
#: Service packages from the bottom up: each may import only those before it.
LADDER = ("customers", "callbacks", "planning", "admin", "dispatch", "inbound")
SHARED = frozenset({"events", "tokens", "calendar"})
SDKS = ("twilio", "aiogram", "aiohttp", "aiosmtplib", "aiosmtpd", "alibabacloud",
        "tencentcloud", "Tea", "darabonba")
ADAPTERS = frozenset({"TwilioSmsChannel", "SmtpEmailChannel", "TelegramChannel", "LogChannel"})


def _files(*tops: str) -> Iterator[Path]:
    for top in tops:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _where(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_domain_imports_only_the_standard_library() -> None:
    files = list(_files("bot/domain"))
    assert any(p.name == "kinds.py" for p in files) and any(p.parent.name == "replies" for p in files)
    for path in files:
        for name in _imports(path):
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or name.startswith("bot.domain"), (
                f"{_where(path)} imports {name}")


@pytest.mark.parametrize("forbidden", ["bot.web", "bot.run", "bot.commands", "bot.bootstrap",
                                       "bot.cli", "scheduler"])
def test_service_never_imports_its_callers(forbidden: str) -> None:
    for path in _files("bot/service"):
        for name in _imports(path):
            assert not (name == forbidden or name.startswith(forbidden + ".")), (
                f"{_where(path)} imports {name}")


def test_channels_never_import_bot() -> None:
    for path in _files("channels"):
        for name in _imports(path):
            assert name.split(".")[0] != "bot", f"{_where(path)} imports {name}"


def test_provider_sdks_only_in_channels() -> None:
    for path in _files(*PRODUCT):
        if path.parts[len(ROOT.parts)] == "channels":
            continue
        for name in _imports(path):
            assert name.split(".")[0] not in SDKS, f"{_where(path)} imports {name}"


def test_only_the_composition_root_builds_adapters() -> None:
    for path in _files("bot", "scheduler", "message_templates"):
        if _where(path) == "bot/bootstrap.py":
            continue
        used = {n.rsplit(".", 1)[-1] for n in _imports(path)} & ADAPTERS
        assert not used, f"{_where(path)} imports {sorted(used)}: ask bot.bootstrap"


def test_service_packages_form_a_ladder() -> None:
    for path in _files("bot/service"):
        parts = path.relative_to(ROOT / "bot/service").parts
        own = parts[0] if len(parts) > 1 else path.stem
        allowed = SHARED | set(LADDER[:LADDER.index(own)] if own in LADDER else ())
        for name in _imports(path):
            if not name.startswith("bot.service."):
                continue
            target = name.split(".")[2]
            assert target == own or target in allowed, (
                f"{_where(path)} imports {name}: {own} may import {sorted(allowed)}")


def test_every_service_package_says_what_it_may_import() -> None:
    for package in LADDER:
        doc = ast.get_docstring(ast.parse((ROOT / "bot/service" / package / "__init__.py")
                                          .read_text(encoding="utf-8")))
        assert doc and "import" in doc, f"bot/service/{package} has no docstring on imports"


def test_no_product_module_over_400_lines() -> None:
    long = {_where(p): n for p in _files(*PRODUCT)
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long, f"split these modules: {long}"


def test_one_definition_per_kind_set() -> None:
    """`CALLBACK_TYPE_KINDS` and the other kind sets are defined in bot.domain.kinds only."""
    for path in _files(*PRODUCT):
        if _where(path) == "bot/domain/kinds.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = (node.targets if isinstance(node, ast.Assign)
                       else [node.target] if isinstance(node, ast.AnnAssign) else [])
            for target in targets:
                if (isinstance(target, ast.Name) and target.id.endswith("_KINDS")
                        and target.id != "TEMPLATE_KINDS"):  # template slots, not a kind set
                    raise AssertionError(f"{_where(path)} defines {target.id}")
