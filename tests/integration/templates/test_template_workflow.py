"""Branch template overrides: draft → approval by a second person → active; rollback; audit."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()
GOOD = "【{{ sms_signature }}】{{ honorific }}，{{ festival_name }}快乐！{{ branch_name }}敬上。{{ opt_out_hint }}"


def outreach(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


@pytest.fixture
def staff(cli_env: dict[str, str]) -> None:
    for args in (("branch", "add", "SH01", "--sms-signature", "华东证券", "--name", "上海营业部"),
                 ("branch", "add", "GZ01")):
        assert outreach(*args)[0] == 0
    for user, role, branch in (("admin1", "branch_admin", "SH01"), ("comp_sh", "compliance", "SH01"),
                               ("comp_gz", "compliance", "GZ01"), ("comp_hq", "compliance", None),
                               ("agent1", "agent", "SH01"), ("admin_gz", "branch_admin", "GZ01")):
        args = ["staff", "add", user, "--role", role] + (["--branch", branch] if branch else [])
        assert outreach(*args, stdin="a-long-password\n")[0] == 0


def holiday(*extra: str, stdin: str | None = None) -> tuple[int, str]:
    return outreach("templates", *extra[:1], "holiday", "sms", "zh-CN", *extra[1:], stdin=stdin)


def test_draft_needs_a_second_person_from_compliance(staff: None) -> None:
    assert holiday("set", "--branch", "SH01", "--as", "admin1", stdin=GOOD)[0] == 0
    code, out = holiday("show", "--branch", "SH01")
    assert "default" in out  # a draft is not used
    for user, fragment in (("admin1", "only compliance"), ("comp_gz", "compliance for branch GZ01"),
                           ("agent1", "only compliance")):
        code, out = holiday("approve", "--branch", "SH01", "--as", user)
        assert code == 2 and fragment in out
    code, out = holiday("approve", "--branch", "SH01", "--as", "comp_sh")
    assert code == 0 and "v1 approved" in out
    code, out = holiday("show", "--branch", "SH01")
    assert "branch v1" in out and "敬上" in out


def test_compliance_author_cannot_approve_own_draft(staff: None) -> None:
    # An admin drafts as the branch admin; a compliance user who authored cannot approve it:
    # here the HQ compliance user tries to save (refused: not an editor), then approves admin1's.
    code, out = holiday("set", "--branch", "SH01", "--as", "comp_hq", stdin=GOOD)
    assert code == 2 and "may not edit" in out
    assert holiday("set", "--branch", "SH01", "--as", "admin1", stdin=GOOD)[0] == 0
    assert holiday("approve", "--branch", "SH01", "--as", "comp_hq")[0] == 0


def test_branch_admin_edits_only_own_branch(staff: None) -> None:
    code, out = holiday("set", "--branch", "SH01", "--as", "admin_gz", stdin=GOOD)
    assert code == 2 and "may not edit templates of branch SH01" in out


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("【{{ sms_signature }}】{{ honorific }}{% if %}", "第1行"),
        ("【{{ sms_signature }}】{{ nmae }}，节日快乐！{{ opt_out_hint }}", "nmae"),
        ("{{ honorific }}，节日快乐！{{ opt_out_hint }}", "【"),
        ("【{{ sms_signature }}】{{ honorific }}，节日快乐！", "退订"),
        ("【{{ sms_signature }}】{{ ''.__class__.__mro__ }}{{ opt_out_hint }}", "__"),
    ],
)
def test_invalid_drafts_are_refused_with_reasons(staff: None, source: str, fragment: str) -> None:
    code, out = holiday("set", "--branch", "SH01", "--as", "admin1", stdin=source)
    assert code == 1, out
    assert fragment in out
    assert "v1" not in holiday("history", "--branch", "SH01")[1]


def test_too_long_for_two_segments_is_refused(staff: None) -> None:
    long_text = GOOD.replace("敬上", "全体员工" * 20 + "敬上")
    code, out = holiday("set", "--branch", "SH01", "--as", "admin1", stdin=long_text)
    assert code == 1 and "超过上限 2 条" in out


def test_english_sms_may_take_sms_max_segments_en(
        staff: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three segments pass in English (SMS_MAX_SEGMENTS_EN=3) and fail once it is set to 2."""
    three = ("【{{ sms_signature }}】Happy {{ festival_name }}, {{ honorific }}! "
             + "Best wishes from all of us at {{ branch_name }}. {{ opt_out_hint }}")
    args = ("templates", "set", "holiday", "sms", "en", "--branch", "SH01", "--as", "admin1")
    code, out = outreach(*args, stdin=three)
    assert code == 0, out
    monkeypatch.setenv("OUTREACH_SMS_MAX_SEGMENTS_EN", "2")
    code, out = outreach(*args, stdin=three)
    assert code == 1 and "over the limit of 2" in out


def test_reject_rollback_and_audit_trail(staff: None) -> None:
    holiday("set", "--branch", "SH01", "--as", "admin1", stdin=GOOD)
    holiday("approve", "--branch", "SH01", "--as", "comp_sh")
    holiday("set", "--branch", "SH01", "--as", "admin1", stdin=GOOD.replace("敬上", "谨上"))
    code, out = holiday("reject", "--branch", "SH01", "--as", "comp_sh", "--reason", "措辞")
    assert code == 0 and "v2 rejected" in out
    holiday("set", "--branch", "SH01", "--as", "admin1", stdin=GOOD.replace("敬上", "恭贺"))
    holiday("approve", "--branch", "SH01", "--as", "comp_hq")
    assert "恭贺" in holiday("show", "--branch", "SH01")[1]
    code, out = holiday("rollback", "--branch", "SH01", "--as", "admin1", "--version", "1")
    assert code == 0 and "v1" in out
    assert "敬上" in holiday("show", "--branch", "SH01")[1]
    code, out = holiday("rollback", "--branch", "SH01", "--as", "admin1", "--version", "2")
    assert code == 2 and "never approved" in out
    assert holiday("rollback", "--branch", "SH01", "--as", "admin1")[0] == 0
    assert "default" in holiday("show", "--branch", "SH01")[1]
    history = holiday("history", "--branch", "SH01")[1]
    assert "rejected" in history and "comp_hq" in history
    import asyncio

    from sqlmodel import select

    from bot.bootstrap import open_app
    from bot.db.models import Event

    async def kinds() -> list[str]:
        async with open_app() as a, a.sessions() as s:
            return [e.type for e in (await s.exec(select(Event))).all() if e.type.startswith("template")]

    assert asyncio.run(kinds()) == [
        "template.draft", "template.approved", "template.draft", "template.rejected",
        "template.draft", "template.approved", "template.rolled_back", "template.rolled_back"]


def test_preview_shows_sms_encoding_and_segments(staff: None) -> None:
    code, out = outreach("templates", "preview", "bundle", "sms", "en", "--kinds",
                         "holiday,birthday", "--long")
    assert code == 0
    assert "[sms] UCS-2" in out  # 【】 forces UCS-2 even in English
    assert out.rstrip().endswith("(limit 3)")  # SMS_MAX_SEGMENTS_EN
    code, out = outreach("templates", "preview", "holiday", "sms", "zh-CN")
    assert code == 0 and out.rstrip().endswith("1 segment(s) (limit 2)")
    code, out = outreach("templates", "vars")
    assert code == 0 and "honorific" in out and "unsubscribe_link" in out


def test_rollback_without_version_undoes_one_approval_at_a_time(staff: None) -> None:
    """v1 approved, v2 approved: rollback → v1, rollback → the default, then nothing left."""
    for text in ("敬上", "谨上"):
        holiday("set", "--branch", "SH01", "--as", "admin1", stdin=GOOD.replace("敬上", text))
        assert holiday("approve", "--branch", "SH01", "--as", "comp_sh")[0] == 0
    assert "谨上" in holiday("show", "--branch", "SH01")[1]
    code, out = holiday("rollback", "--branch", "SH01", "--as", "admin1")
    assert code == 0 and "rolled back to v1" in out
    assert "敬上" in holiday("show", "--branch", "SH01")[1]
    code, out = holiday("rollback", "--branch", "SH01", "--as", "admin1")
    assert code == 0 and "rolled back to the default" in out
    code, out = holiday("rollback", "--branch", "SH01", "--as", "admin1")
    assert code == 2 and "already uses the default" in out
