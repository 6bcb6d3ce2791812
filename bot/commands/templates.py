"""`outreach templates list|show|set|preview|vars|history|approve|reject|rollback`."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from sqlmodel import select

from bot.bootstrap import App
from bot.commands.common import EXIT_REJECTED, err, out, with_app
from bot.db.models import Branch, Customer, Staff
from bot.service.admin import templates as svc
from bot.service.dispatch.variables import customer_variables, festival_display
from message_templates import (
    BUNDLE,
    CHANNELS,
    KINDS,
    LOCALES,
    TEMPLATE_KINDS,
    VARIABLES,
    TemplateRenderError,
    render,
    sample_variables,
)

app = typer.Typer(help="Message templates: defaults, branch drafts, approval, preview.",
                  no_args_is_help=True)

Kind = Annotated[str, typer.Argument(help=f"{'|'.join(TEMPLATE_KINDS)}")]
Channel = Annotated[str, typer.Argument(help=f"{'|'.join(CHANNELS)}")]
Locale = Annotated[str, typer.Argument(help=f"{'|'.join(LOCALES)}")]
BranchOpt = Annotated[str, typer.Option("--branch", help="branch code")]
AsUser = Annotated[str, typer.Option("--as", help="act as this staff user (role and branch enforced)")]
Version = Annotated[int | None, typer.Option("--version", help="a specific version")]
ERRORS = (svc.TemplateError,)


async def _staff(a: App, username: str) -> Staff:
    async with a.sessions() as s:
        staff = (await s.exec(select(Staff).where(Staff.username == username))).first()
    if staff is None or not staff.active:
        raise svc.TemplateError(f"no active staff {username}")
    return staff


@app.command("vars")
def vars_() -> None:
    """The variables a template may use (anything else is refused)."""
    table = Table("variable", "含义", "meaning", "example")
    for name, var in VARIABLES.items():
        table.add_row(name, var.zh, var.en, var.example)
    out.print(table)


@app.command("list")
def list_(branch: Annotated[str | None, typer.Option("--branch")] = None) -> None:
    """Branch versions per slot; every slot without one uses the shipped default."""

    async def work(a: App) -> list[tuple[str, str, str, str, str]]:
        async with a.sessions() as s:
            return await svc.overview(s, branch)

    rows = with_app(work)
    table = Table("branch", "kind", "channel", "locale", "versions")
    for row in rows:
        table.add_row(*row)
    out.print(table)
    out.print(f"defaults: {len(TEMPLATE_KINDS)} kinds x {len(CHANNELS)} channels x "
              f"{len(LOCALES)} locales, pre-approved; see `outreach templates show`")


@app.command("show")
def show(kind: Kind, channel: Channel, locale: Locale,
         branch: Annotated[str | None, typer.Option("--branch")] = None) -> None:
    """Print the template in use (the branch's active version, else the default)."""

    async def work(a: App) -> tuple[str, str]:
        async with a.sessions() as s:
            slot = svc.Slot(branch or "", kind, channel, locale).check()
            if not branch:
                from message_templates import default_source

                return default_source(kind, channel, locale), "default"
            return await svc.active_source(s, slot)

    source, origin = with_app(work, user_errors=ERRORS)
    err.print(f"# {kind}/{channel}/{locale}: {origin}")
    out.print(source, markup=False, highlight=False)


@app.command("set")
def set_(kind: Kind, channel: Channel, locale: Locale, branch: BranchOpt, as_user: AsUser,
         file: Annotated[Path | None, typer.Option("--file", exists=True, dir_okay=False,
                                                   help="template source (default: stdin)")] = None,
         ) -> None:
    """Save a branch draft (validated); compliance must approve it before it is used."""
    # utf-8-sig: Windows Notepad saves a byte-order mark that would hide the leading 【signature】.
    source = file.read_text(encoding="utf-8-sig") if file else sys.stdin.read().removeprefix("\ufeff")

    async def work(a: App) -> int:
        author = await _staff(a, as_user)
        async with a.sessions() as s:
            draft = await svc.save_draft(s, svc.Slot(branch, kind, channel, locale), source,
                                         author, a.settings)
            await s.commit()
            return draft.version

    version = with_app(work, user_errors=(svc.TemplateError,))
    out.print(f"draft v{version} saved; it is used once a compliance user approves it")


def _decide(action: str, kind: str, channel: str, locale: str, branch: str, as_user: str,
            version: int | None, reason: str | None = None) -> None:
    async def work(a: App) -> str:
        staff = await _staff(a, as_user)
        slot = svc.Slot(branch, kind, channel, locale)
        async with a.sessions() as s:
            if action == "approve":
                row = await svc.approve(s, slot, staff, a.settings, version)
                text = f"v{row.version} approved and active"
            elif action == "reject":
                row = await svc.reject(s, slot, staff, reason or "", version)
                text = f"v{row.version} rejected"
            else:
                target = await svc.rollback(s, slot, staff, version)
                text = f"rolled back to {'v' + str(target.version) if target else 'the default'}"
            await s.commit()
            return text

    out.print(with_app(work, user_errors=ERRORS))


@app.command("approve")
def approve(kind: Kind, channel: Channel, locale: Locale, branch: BranchOpt, as_user: AsUser,
            version: Version = None) -> None:
    """Approve the latest draft (compliance; never the draft's author)."""
    _decide("approve", kind, channel, locale, branch, as_user, version)


@app.command("reject")
def reject(kind: Kind, channel: Channel, locale: Locale, branch: BranchOpt, as_user: AsUser,
           reason: Annotated[str, typer.Option("--reason", help="why, for the author")],
           version: Version = None) -> None:
    """Reject the latest draft with a reason (compliance)."""
    _decide("reject", kind, channel, locale, branch, as_user, version, reason)


@app.command("rollback")
def rollback(kind: Kind, channel: Channel, locale: Locale, branch: BranchOpt, as_user: AsUser,
             version: Version = None) -> None:
    """Return to approved version --version; without it, to the approved version before the
    active one (the default when there is none)."""
    _decide("rollback", kind, channel, locale, branch, as_user, version)


@app.command("history")
def history(kind: Kind, channel: Channel, locale: Locale, branch: BranchOpt) -> None:
    """Every version with author, decision and time."""

    async def work(a: App) -> list[tuple[str, ...]]:
        async with a.sessions() as s:
            staff = {st.id: st.username for st in (await s.exec(select(Staff))).all()}
            return [(f"v{t.version}", t.status, staff.get(t.author_id, "?"),
                     staff.get(t.decided_by, "") if t.decided_by else "",
                     t.created_at.isoformat(timespec="seconds"))
                    for t in await svc.history(s, svc.Slot(branch, kind, channel, locale))]

    table = Table("version", "status", "author", "decided by", "saved at")
    for row in with_app(work, user_errors=ERRORS):
        table.add_row(*row)
    out.print(table)


@app.command("preview")
def preview(
    kind: Kind, channel: Channel, locale: Locale,
    branch: Annotated[str | None, typer.Option("--branch")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="render for this customer")] = None,
    kinds: Annotated[str | None, typer.Option("--kinds", help="bundle members, e.g. holiday,birthday")] = None,
    long: Annotated[bool, typer.Option("--long", help="the long sample used by validation")] = False,
    one_way: Annotated[bool, typer.Option("--one-way", help="an SMS route that takes no replies")] = False,
    draft: Annotated[Path | None, typer.Option("--file", exists=True, dir_okay=False,
                                               help="preview this source instead")] = None,
) -> None:
    """Render a template for a sample or a customer; SMS shows encoding and segments."""
    members = [k.strip() for k in kinds.split(",") if k.strip()] if kinds else []
    unknown = [k for k in members if k not in KINDS]
    if unknown or (kind == BUNDLE and not members):
        problem = f"unknown kind(s) {', '.join(unknown)}" if unknown else "a bundle needs --kinds"
        raise typer.BadParameter(f"{problem}; valid kinds: {', '.join(KINDS)} "
                                 f"(e.g. --kinds holiday,birthday)", param_hint="--kinds")
    if not members and kind in KINDS:
        members = [kind]
    festival = "mid_autumn"

    async def work(a: App) -> tuple[str, dict[str, object], int]:
        async with a.sessions() as s:
            row = await s.get(Customer, customer) if customer else None
            if customer and row is None:
                raise svc.TemplateError(f"no customer {customer}")
            # A customer's preview uses their branch's approved template unless --branch says otherwise.
            branch_code = branch or (row.branch_code if row is not None else None)
            source = draft.read_text(encoding="utf-8-sig") if draft else None
            if source is None and branch_code:
                slot = svc.Slot(branch_code, kind, channel, locale).check()
                src, origin = await svc.active_source(s, slot)
                source = src if origin != "default" else None
            if row is not None:
                br = await s.get(Branch, row.branch_code)
                assert br is not None
                variables: dict[str, object] = customer_variables(
                    row, br, today=datetime.now(ZoneInfo(a.settings.timezone)).date(), kinds=members,
                    festival=festival,
                    links={"unsubscribe": f"{a.settings.public_url}/u/XXXXXXXXXXXX",
                           "telegram": f"{a.settings.public_url}/t/XXXXXXXXXXXX"},
                    two_way_sms=not one_way)
                # The preview's locale, not the customer's, decides the festival's language.
                variables["festival_name"] = festival_display(br, festival, locale)
            else:
                variables = sample_variables(locale, long=long, public_url=a.settings.public_url,
                                             two_way_sms=not one_way, bundle_kinds=members)
            return source or "", variables, svc.sms_limits(a.settings).for_locale(locale)

    source, variables, limit = with_app(work, user_errors=ERRORS)
    try:
        message = render(kind if kind != "bundle" else "bundle", channel, locale, variables,
                         source=source or None)
    except TemplateRenderError as exc:
        for line in exc.messages:
            err.print(line, markup=False)
        raise typer.Exit(EXIT_REJECTED) from None
    if message.subject:
        out.print(f"subject: {message.subject}", markup=False)
    out.print(message.html if channel == "telegram" and message.html else message.text, markup=False)
    if message.buttons:
        out.print("buttons: " + " | ".join(b.label for b in message.buttons), markup=False)
    if message.sms:
        out.print(f"[sms] {message.sms.encoding}, {message.sms.units} units, "
                  f"{message.sms.segments} segment(s) (limit {limit})", markup=False)

