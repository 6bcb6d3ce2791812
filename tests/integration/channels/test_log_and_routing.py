"""Log mode never prints a full address; SMS_ROUTES picks the longest prefix."""

from __future__ import annotations

import logging
import re

import pytest

from bot.domain.masking import mask_address, mask_chat_id, mask_email, mask_phone
from channels.base import OutboundMessage
from channels.log import LogChannel
from channels.routing import parse_sms_routes


@pytest.mark.parametrize(
    ("channel", "address", "masked"),
    [
        ("sms", "+8613812345678", "138****5678"),
        ("sms", "13812345678", "138****5678"),
        ("sms", "+85291234567", "+852****4567"),
        ("email", "zhang.san@example.com", "z***@example.com"),
        ("email", "a@example.com", "***@example.com"),
        ("telegram", "555123456", "******456"),
        ("telegram", "-1001234567890", "***********890"),
        ("telegram", "42", "**"),
    ],
)
def test_masking(channel: str, address: str, masked: str) -> None:
    assert mask_address(channel, address) == masked


def test_mask_helpers_never_return_the_input() -> None:
    for value in ("+8613812345678", "x@y.z", "12345678"):
        assert value not in (mask_phone(value), mask_email(value), mask_chat_id(value))


@pytest.mark.parametrize(
    ("channel", "address"),
    [("sms", "+8613812345678"), ("email", "zhang.san@example.com"), ("telegram", "555123456")],
)
async def test_log_channel_logs_one_masked_line(
    caplog: pytest.LogCaptureFixture, channel: str, address: str
) -> None:
    body = "张三先生，祝您生日快乐！"
    msg = OutboundMessage(message_id="m-1", channel=channel, to=address, body=body)
    with caplog.at_level(logging.INFO):
        result = await LogChannel(channel, mask=mask_address).send(msg)
    assert result.status == "logged" and result.provider_id == "log:m-1"
    assert result.sent_at.tzinfo is not None
    [record] = caplog.records
    line = record.getMessage()
    assert mask_address(channel, address) in line and "m-1" in line
    assert address not in caplog.text and "张三" not in caplog.text


def test_routes_longest_prefix_wins() -> None:
    routes = parse_sms_routes("+86:log, +852:twilio,+8529:hk2 ,*:twilio")
    assert routes.provider_for("+8613812345678") == "log"
    assert routes.provider_for("+85291234567") == "hk2"
    assert routes.provider_for("+85261234567") == "twilio"
    assert routes.provider_for("+14155550100") == "twilio"
    assert routes.providers() == {"log", "twilio", "hk2"}


def test_default_routes_and_unroutable() -> None:
    assert parse_sms_routes("+86:log,*:twilio").provider_for("+8613812345678") == "log"
    only_hk = parse_sms_routes("+852:twilio")
    assert only_hk.provider_for("+8613812345678") is None
    with pytest.raises(ValueError, match=r"E\.164"):
        only_hk.provider_for("13812345678")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty"),
        ("+86:log,", "stray comma"),
        ("+86 log", "expected '<prefix>:<provider>'"),
        ("86:log", "prefix must be"),
        ("+86:Twilio!", "provider must be"),
        ("+86:log,+86:twilio", "given twice"),
        ("*:log,*:twilio", "given twice"),
        ("+86:aliyun", "unknown provider 'aliyun'"),
    ],
)
def test_invalid_routes(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_sms_routes(spec, known_providers={"log", "twilio"})
