"""Branch template overrides: drafts, approval by a second person, rollbacks, history."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Branch, Staff, Template, utcnow
from bot.service import events
from bot.service.admin.errors import AdminError
from bot.service.calendar import festivals_from_json
from bot.settings import Settings
from message_templates import CHANNELS, LOCALES, TEMPLATE_KINDS, default_source, validate
from message_templates.fit import Oversize, oversized_default_sms
from message_templates.sms import SegmentLimits


class TemplateError(AdminError):
    """A template operation refused; the message says why."""


class TemplateInvalid(TemplateError):
    """Validation problems of a submitted source (one message per problem)."""

    rejected_input = True

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Slot:
    """Which template: branch × kind × channel × locale."""

    branch: str
    kind: str
    channel: str
    locale: str

    def check(self) -> Slot:
        for value, allowed, name in ((self.kind, TEMPLATE_KINDS, "kind"),
                                     (self.channel, CHANNELS, "channel"),
                                     (self.locale, LOCALES, "locale")):
            if value not in allowed:
                raise TemplateError(f"{name} {value!r}: choose one of {', '.join(allowed)}")
        return self

    def __str__(self) -> str:
        return f"{self.branch}/{self.kind}/{self.channel}/{self.locale}"


def _may_edit(staff: Staff, branch: str) -> None:
    if staff.role == "admin" or (staff.role == "branch_admin" and staff.branch_code == branch):
        return
    raise TemplateError(f"{staff.username} ({staff.role}) may not edit templates of branch {branch}")


def _may_decide(staff: Staff, branch: str) -> None:
    if staff.role != "compliance":
        raise TemplateError(f"only compliance staff approve or reject templates; {staff.username} is {staff.role}")
    if staff.branch_code not in (None, branch):
        raise TemplateError(f"{staff.username} is compliance for branch {staff.branch_code}, not {branch}")


async def _branch(session: AsyncSession, code: str) -> Branch:
    branch = await session.get(Branch, code)
    if branch is None:
        raise TemplateError(f"no branch {code}")
    return branch


async def _slot_rows(session: AsyncSession, slot: Slot) -> list[Template]:
    return list((await session.exec(select(Template).where(
        Template.branch_code == slot.branch, Template.kind == slot.kind,
        Template.channel == slot.channel, Template.locale == slot.locale,
    ).order_by(col(Template.version)))).all())


def problems_for(source: str, slot: Slot, branch: Branch, settings: Settings) -> list[str]:
    """Validation as the branch will use it: its festival names, our limits and URL."""
    festivals, _ = festivals_from_json(branch.festivals_json)
    names = [f.name(slot.locale) for f in festivals]
    return validate(source, slot.kind, slot.channel, slot.locale,
                    max_segments=settings.sms_max_segments,
                    max_segments_en=settings.sms_max_segments_en, public_url=settings.public_url,
                    festival_names=names)


def sms_limits(settings: Settings) -> SegmentLimits:
    """The installation's SMS segment limits per locale."""
    return SegmentLimits(settings.sms_max_segments, settings.sms_max_segments_en)


async def oversized_sms_defaults(session: AsyncSession, settings: Settings) -> list[Oversize]:
    """Default SMS that need more than SMS_MAX_SEGMENTS(_EN) for the long sample with this
    PUBLIC_URL and every branch's festival names (`outreach check` warns about them)."""
    names: dict[str, list[str]] = {locale: [] for locale in LOCALES}
    for branch in (await session.exec(select(Branch))).all():
        festivals, _ = festivals_from_json(branch.festivals_json)
        for locale in LOCALES:
            names[locale] += [f.name(locale) for f in festivals]
    return oversized_default_sms(settings.public_url, sms_limits(settings), names)


async def save_draft(session: AsyncSession, slot: Slot, source: str, author: Staff,
                     settings: Settings) -> Template:
    """Validate and store a new draft version; it is not used until approved."""
    slot.check()
    branch = await _branch(session, slot.branch)
    _may_edit(author, slot.branch)
    problems = problems_for(source, slot, branch, settings)
    if problems:
        raise TemplateInvalid(problems)
    latest = (await session.exec(select(func.max(Template.version)).where(
        Template.branch_code == slot.branch, Template.kind == slot.kind,
        Template.channel == slot.channel, Template.locale == slot.locale))).one()
    draft = Template(branch_code=slot.branch, kind=slot.kind, channel=slot.channel,
                     locale=slot.locale, version=(latest or 0) + 1, source=source,
                     author_id=author.id)  # type: ignore[arg-type]
    session.add(draft)
    await session.flush()
    events.record(session, "template.draft", f"template {slot} v{draft.version} saved as draft",
                  branch_code=slot.branch, actor=author.username,
                  payload={"template_id": draft.id, "version": draft.version})
    return draft


async def _draft(session: AsyncSession, slot: Slot, version: int | None) -> Template:
    drafts = [t for t in await _slot_rows(session, slot) if t.status == "draft"]
    if version is not None:
        drafts = [t for t in drafts if t.version == version]
    if not drafts:
        raise TemplateError(f"no draft of {slot}" + (f" v{version}" if version else ""))
    return drafts[-1]


async def approve(session: AsyncSession, slot: Slot, approver: Staff, settings: Settings,
                  version: int | None = None) -> Template:
    """A compliance user other than the author makes the draft active (the old one retires)."""
    slot.check()
    branch = await _branch(session, slot.branch)
    _may_decide(approver, slot.branch)
    draft = await _draft(session, slot, version)
    if draft.author_id == approver.id:
        raise TemplateError("the author cannot approve their own draft: a second person must (四眼原则)")
    problems = problems_for(draft.source, slot, branch, settings)
    if problems:  # settings (URL, segment limit, festivals) may have changed since the draft
        raise TemplateInvalid(problems)
    for row in await _slot_rows(session, slot):
        if row.status == "active":
            row.status = "retired"
            session.add(row)
    draft.status, draft.decided_by, draft.decided_at = "active", approver.id, utcnow()
    session.add(draft)
    events.record(session, "template.approved", f"template {slot} v{draft.version} approved",
                  branch_code=slot.branch, actor=approver.username,
                  payload={"template_id": draft.id, "version": draft.version})
    return draft


async def reject(session: AsyncSession, slot: Slot, approver: Staff, reason: str,
                 version: int | None = None) -> Template:
    """Compliance turns a draft down with a reason."""
    slot.check()
    await _branch(session, slot.branch)
    _may_decide(approver, slot.branch)
    draft = await _draft(session, slot, version)
    draft.status, draft.decided_by, draft.decided_at = "rejected", approver.id, utcnow()
    session.add(draft)
    events.record(session, "template.rejected",
                  f"template {slot} v{draft.version} rejected: {reason}",
                  branch_code=slot.branch, actor=approver.username,
                  payload={"template_id": draft.id, "version": draft.version, "reason": reason})
    return draft


async def rollback(session: AsyncSession, slot: Slot, actor: Staff,
                   version: int | None = None) -> Template | None:
    """Go back to approved version `version`; without one, to the approved version before
    the active one (the shipped default when there is none), as "undo" is expected to."""
    slot.check()
    await _branch(session, slot.branch)
    if actor.role not in ("admin", "branch_admin", "compliance") or (
        actor.branch_code not in (None, slot.branch)
    ):
        raise TemplateError(f"{actor.username} ({actor.role}) may not roll back templates of {slot.branch}")
    rows = await _slot_rows(session, slot)
    approved = [t for t in rows if t.decided_by is not None and t.status in ("retired", "active")]
    target = None
    if version is not None:
        matches = [t for t in approved if t.version == version]
        if not matches:
            raise TemplateError(f"{slot} v{version} was never approved; only approved versions return")
        target = matches[0]
    else:
        active = next((t for t in approved if t.status == "active"), None)
        if active is None:
            raise TemplateError(f"{slot} already uses the default; nothing to roll back")
        earlier = [t for t in approved if t.version < active.version]
        target = earlier[-1] if earlier else None
    for row in rows:
        if row.status == "active" and row is not target:
            row.status = "retired"
            session.add(row)
    if target is not None:
        target.status = "active"
        session.add(target)
    what = f"v{target.version}" if target else "the default"
    events.record(session, "template.rolled_back", f"template {slot} rolled back to {what}",
                  branch_code=slot.branch, actor=actor.username,
                  payload={"version": target.version if target else None})
    return target


async def active_source(session: AsyncSession, slot: Slot) -> tuple[str, str]:
    """The source used for the branch's customers, and where it comes from."""
    for row in reversed(await _slot_rows(session, slot)):
        if row.status == "active":
            return row.source, f"branch v{row.version}"
    return default_source(slot.kind, slot.channel, slot.locale), "default"


async def history(session: AsyncSession, slot: Slot) -> list[Template]:
    """Every version of the slot, oldest first."""
    slot.check()
    return await _slot_rows(session, slot)


async def overview(session: AsyncSession, branch: str | None) -> list[tuple[str, str, str, str, str]]:
    """(branch, kind, channel, locale, state) for every slot that has branch versions."""
    query = select(Template).order_by(col(Template.branch_code), col(Template.kind),
                                      col(Template.channel), col(Template.locale),
                                      col(Template.version))
    if branch:
        query = query.where(Template.branch_code == branch)
    states: dict[tuple[str, str, str, str], list[str]] = {}
    for row in (await session.exec(query)).all():
        key = (row.branch_code, row.kind, row.channel, row.locale)
        states.setdefault(key, []).append(f"v{row.version} {row.status}")
    return [(*key, ", ".join(v)) for key, v in states.items()]
