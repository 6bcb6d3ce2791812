"""`outreach simulate reply`: a customer's reply through the real inbound path, log mode only."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli import app as cli

runner = CliRunner()


def outreach(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.fixture
def customer(cli_env: dict[str, str], tmp_path: object) -> str:
    from pathlib import Path

    csv = Path(str(tmp_path)) / "c.csv"
    csv.write_text("customer_id,name,branch,phone,email\n"
                   "C1,张三,SH01,+8613812345678,zhang@example.com\n", encoding="utf-8")
    code, output = outreach("import", "customers", str(csv))
    assert code == 0, output
    return "C1"


def test_a_simulated_complaint_opens_a_p1_callback(customer: str) -> None:
    code, output = outreach("simulate", "reply", "--customer", customer, "--channel", "sms",
                            "你们的服务太差了，我要投诉到证监会")
    assert code == 0, output
    assert "complaint" in output and "callback 1" in output
    [item] = json.loads(outreach("queue", "--json")[1])
    assert (item["customer_id"], item["priority"], item["reasons"]) == ("C1", "P1", ["complaint"])
    timeline = json.loads(outreach("customer", customer, "--json")[1])["timeline"]
    assert "reply.classified" in [t["type"] for t in timeline]


def test_a_simulated_opt_out_withdraws_consent_on_every_channel(customer: str) -> None:
    code, output = outreach("simulate", "reply", "--customer", customer, "--channel", "email",
                            "TD")
    assert code == 0, output
    consent = json.loads(outreach("customer", customer, "--json")[1])["consent"]
    assert consent["marketing"] is False and consent["channel"] == "email"


def test_a_live_channel_refuses_simulated_replies(
    customer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("OUTREACH_EMAIL_FROM", "care@example.com")
    code, output = outreach("simulate", "reply", "--customer", customer, "--channel", "email",
                            "我要投诉")
    assert code == 2 and "email is live" in output
    assert json.loads(outreach("queue", "--json")[1]) == []


@pytest.mark.parametrize(("args", "message"), [
    (("--customer", "NOPE"), "no customer NOPE"),
    (("--customer", "C1", "--channel", "telegram"), "has no telegram address"),
    (("--customer", "C1", "--channel", "fax"), "choose one of sms, email, telegram"),
])
def test_bad_simulations_say_why(customer: str, args: tuple[str, ...], message: str) -> None:
    code, output = outreach("simulate", "reply", *args, "hello")
    assert code == 2 and message in output
