"""A branch's festival settings: switches, its own festivals, and the working-day offset."""

from __future__ import annotations

import json
from typing import Any

from bot.db.models import Branch
from bot.domain.festivals import ForbiddenFestivalError, check_offset
from bot.service.admin.errors import AdminError
from bot.service.calendar import festivals_from_json


class FestivalError(AdminError):
    """A festival setting that cannot be accepted; the message says which and why."""


def parse_switch(text: str) -> tuple[str, bool]:
    """`dragon_boat=on` → ("dragon_boat", True)."""
    code, sep, value = text.partition("=")
    if not sep or value.strip().lower() not in ("on", "off"):
        raise FestivalError(f"--festival {text!r}: write CODE=on or CODE=off, e.g. dragon_boat=on")
    return code.strip(), value.strip().lower() == "on"


def parse_custom(text: str) -> dict[str, Any]:
    """`code,中文名,English name,solar:MM-DD` or `…,lunar:M-D` → a stored festival."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4 or not parts[3].startswith(("solar:", "lunar:")):
        raise FestivalError(
            f"--add-festival {text!r}: write CODE,中文名,English name,solar:MM-DD (or lunar:M-D)")
    code, name_zh, name_en, when = parts
    kind, _, value = when.partition(":")
    item: dict[str, Any] = {"code": code, "name_zh": name_zh, "name_en": name_en, "enabled": True}
    if kind == "lunar":
        month, _, day = value.partition("-")
        if not (month.isdigit() and day.isdigit()):
            raise FestivalError(f"--add-festival {text!r}: lunar date as M-D, e.g. lunar:1-15")
        item["lunar"] = f"{int(month)}-{int(day)}"
    else:
        item["solar"] = value
    return item


def apply_festival_changes(
    branch: Branch,
    switches: list[str],
    add: list[str],
    remove: list[str],
    offset: int | None,
) -> list[str]:
    """Change the branch's festival settings after checking the result as a whole."""
    data: dict[str, Any] = json.loads(branch.festivals_json) if branch.festivals_json else {}
    switch_map: dict[str, bool] = dict(data.get("switches", {}))
    custom: list[dict[str, Any]] = list(data.get("custom", []))
    changed = []
    for code in remove:
        kept = [c for c in custom if c["code"] != code]
        if len(kept) == len(custom):
            raise FestivalError(f"--remove-festival {code}: the branch has no own festival {code}")
        custom = kept
        switch_map.pop(code, None)
        changed.append(f"removed {code}")
    for text in add:
        custom.append(parse_custom(text))
        changed.append(f"added {custom[-1]['code']}")
    for text in switches:
        code, on = parse_switch(text)
        switch_map[code] = on
        changed.append(f"{code} {'on' if on else 'off'}")
    candidate = json.dumps({"switches": switch_map, "custom": custom}, ensure_ascii=False)
    try:
        festivals_from_json(candidate)
        if offset is not None:
            check_offset(offset)
    except ForbiddenFestivalError as exc:
        raise FestivalError(str(exc)) from exc
    except ValueError as exc:
        raise FestivalError(str(exc)) from exc
    branch.festivals_json = candidate if (switch_map or custom) else None
    if offset is not None:
        branch.festival_offset_working_days = offset
        changed.append(f"offset {offset} working days")
    return changed


def describe_festivals(branch: Branch) -> list[dict[str, Any]]:
    """The branch's festivals as shown by `branch show`."""
    festivals, _ = festivals_from_json(branch.festivals_json)
    return [
        {"code": f.code, "name": f.name_zh, "name_en": f.name_en, "enabled": f.enabled,
         "date": (f"solar {f.solar[0]:02d}-{f.solar[1]:02d}" if f.solar
                  else f"lunar {f.lunar[0]}-{f.lunar[1]}" if f.lunar else "")}
        for f in festivals
    ]
