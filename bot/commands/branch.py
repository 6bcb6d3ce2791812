"""`outreach branch add|set|show CODE`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from bot.bootstrap import App
from bot.commands.common import fail, out, with_app
from bot.db.models import Branch
from bot.service.admin.branches import (
    BranchChanges,
    BranchError,
    FestivalChanges,
    add_branch,
    set_branch,
)
from bot.service.admin.festivals import describe_festivals

app = typer.Typer(help="Branches (营业部): signature, windows, consent default, manager contacts.",
                  no_args_is_help=True)

Name = Annotated[str | None, typer.Option("--name", help="display name, e.g. 上海浦东南路营业部")]
Signature = Annotated[str | None, typer.Option(
    "--sms-signature", help="carrier-registered signature inside 【】, 2-12 characters, e.g. XX证券")]
ServicePhone = Annotated[str | None, typer.Option(
    "--service-phone", help="customer service phone shown in messages and HELP replies")]
Tz = Annotated[str | None, typer.Option("--timezone", help="IANA zone, e.g. Asia/Shanghai")]
Window = Annotated[str | None, typer.Option("--send-window", help="HH:MM-HH:MM, e.g. 09:00-20:00")]
Hours = Annotated[str | None, typer.Option("--working-hours", help="HH:MM-HH:MM, e.g. 09:00-17:30")]
Consent = Annotated[bool | None, typer.Option(
    "--assume-consent/--require-consent",
    help="treat customers without a consent column as consenting to greetings (or not)")]
Recording = Annotated[bool | None, typer.Option(
    "--recording-required/--recording-optional",
    help="phone callbacks must carry a call-recording reference")]
MgrEmail = Annotated[str | None, typer.Option("--manager-email", help="alerts only; never shown to customers")]
MgrPhone = Annotated[str | None, typer.Option("--manager-phone", help="alerts only; never shown to customers")]
FestivalSwitch = Annotated[list[str] | None, typer.Option(
    "--festival", help="turn a festival on or off: CODE=on|off (e.g. dragon_boat=on); repeatable")]
AddFestival = Annotated[list[str] | None, typer.Option(
    "--add-festival",
    help="the branch's own festival: CODE,中文名,English name,solar:MM-DD or lunar:M-D")]
RemoveFestival = Annotated[list[str] | None, typer.Option(
    "--remove-festival", help="remove one of the branch's own festivals by CODE")]
Offset = Annotated[int | None, typer.Option(
    "--festival-offset", help="greet N working days before the festival (0 = on the day, -1 = the working day before)")]


def _changes(**kwargs: object) -> BranchChanges:
    return BranchChanges(**kwargs)  # type: ignore[arg-type]


@app.command("add")
def add(code: str, name: Name = None, sms_signature: Signature = None,
        service_phone: ServicePhone = None, timezone: Tz = None, send_window: Window = None,
        working_hours: Hours = None, assume_consent: Consent = None,
        recording_required: Recording = None, manager_email: MgrEmail = None,
        manager_phone: MgrPhone = None) -> None:
    """Add a branch; unset options take the installation's defaults."""
    changes = _changes(name=name or code, sms_signature=sms_signature, service_phone=service_phone,
                       timezone=timezone, send_window=send_window, working_hours=working_hours,
                       assume_consent=assume_consent, recording_ref_required=recording_required,
                       manager_email=manager_email, manager_phone=manager_phone)

    async def work(a: App) -> None:
        async with a.sessions() as s:
            await add_branch(s, code, changes, a.settings, actor="cli")
            await s.commit()

    with_app(work, user_errors=(BranchError,))
    out.print(f"branch {code} added")


@app.command("set")
def set_(code: str, name: Name = None, sms_signature: Signature = None,
         service_phone: ServicePhone = None, timezone: Tz = None, send_window: Window = None,
         working_hours: Hours = None, assume_consent: Consent = None,
         recording_required: Recording = None, manager_email: MgrEmail = None,
         manager_phone: MgrPhone = None, festival: FestivalSwitch = None,
         add_festival: AddFestival = None, remove_festival: RemoveFestival = None,
         festival_offset: Offset = None) -> None:
    """Change some settings of a branch; the change is recorded in the audit trail.

    Festivals: 元旦 new_year, 春节 spring_festival, 劳动节 labour_day, 中秋 mid_autumn and
    国庆 national_day are on by default; 端午 dragon_boat is off; 清明 is never offered.
    """
    fest = FestivalChanges(switches=festival or [], add=add_festival or [],
                           remove=remove_festival or [], offset=festival_offset)
    changes = _changes(name=name, sms_signature=sms_signature, service_phone=service_phone,
                       timezone=timezone, send_window=send_window, working_hours=working_hours,
                       assume_consent=assume_consent, recording_ref_required=recording_required,
                       manager_email=manager_email, manager_phone=manager_phone)

    async def work(a: App) -> None:
        async with a.sessions() as s:
            await set_branch(s, code, changes, actor="cli", festivals=fest)
            await s.commit()

    with_app(work, user_errors=(BranchError,))
    out.print(f"branch {code} updated")


@app.command("show")
def show(code: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a branch's settings."""

    async def work(a: App) -> Branch | None:
        async with a.sessions() as s:
            return await s.get(Branch, code)

    branch = with_app(work)
    if branch is None:
        fail(f"no branch {code}")
    data = branch.model_dump(mode="json", exclude={"festivals_json"})
    data["festivals"] = describe_festivals(branch)
    if as_json:
        out.print_json(json.dumps(data, ensure_ascii=False))
        return
    table = Table(title=f"branch {code}", show_header=False)
    for key, value in data.items():
        if key == "festivals":
            value = ", ".join(f"{f['name']}({f['code']}{'' if f['enabled'] else ' off'})"
                              for f in data["festivals"])
        table.add_row(key, "" if value is None else str(value))
    out.print(table)
