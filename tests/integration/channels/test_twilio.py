"""Twilio SMS adapter against the local Messages API peer."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from channels.base import (
    ConfigurationError,
    OutboundMessage,
    PermanentDeliveryError,
    RecipientOptedOut,
    TransientDeliveryError,
)
from channels.sms_twilio import (
    TwilioConfig,
    TwilioSmsChannel,
    parse_twilio_inbound,
    parse_twilio_status,
    status_from_twilio,
    twiml_empty,
    twiml_message,
    verify_twilio_signature,
)
from tests.peers.http import WebhookSink
from tests.peers.twilio_api import TwilioPeer

PUBLIC_URL = "https://bot.example.com"
HK = "+85291234567"


def channel(
    peer: TwilioPeer, client: httpx.AsyncClient, *, public_url: str = PUBLIC_URL, **kw: str
) -> TwilioSmsChannel:
    settings = {"from_number": "+15005550006", "api_base": peer.base_url, **kw}
    if "messaging_service_sid" in kw:
        settings.pop("from_number")
    token = settings.pop("auth_token", peer.auth_token)
    return TwilioSmsChannel(TwilioConfig(peer.account_sid, token, public_url, **settings), client)


def sms(
    to: str = HK, body: str = "张先生，祝您生日快乐！", message_id: str = "m-1"
) -> OutboundMessage:
    return OutboundMessage(message_id=message_id, channel="sms", to=to, body=body)


async def test_send_returns_sid_and_registers_status_callback(
    twilio_peer: TwilioPeer, http_client: httpx.AsyncClient
) -> None:
    result = await channel(twilio_peer, http_client).send(sms())
    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34
    assert result.status == "queued" and result.segments == 1
    assert result.sent_at.tzinfo is not None
    [stored] = twilio_peer.messages
    assert (stored["to"], stored["from"], stored["body"]) == (HK, "+15005550006", sms().body)
    assert twilio_peer.callback_urls[result.provider_id] == (
        f"{PUBLIC_URL}/webhooks/twilio/status?m=m-1"
    )


async def test_messaging_service_sid_replaces_from(
    twilio_peer: TwilioPeer, http_client: httpx.AsyncClient
) -> None:
    ch = channel(twilio_peer, http_client, messaging_service_sid="MG" + "2" * 32)
    result = await ch.send(sms())
    assert result.status == "queued"  # Twilio's "accepted", in our words
    assert twilio_peer.messages[0]["messaging_service_sid"] == "MG" + "2" * 32
    assert twilio_peer.messages[0]["from"] is None


def test_config_needs_exactly_one_sender() -> None:
    with pytest.raises(ConfigurationError):
        TwilioConfig("AC1", "tok", PUBLIC_URL)
    with pytest.raises(ConfigurationError):
        TwilioConfig("AC1", "tok", PUBLIC_URL, from_number="+1", messaging_service_sid="MG1")


@pytest.mark.parametrize(
    ("status", "code", "retry_after", "expected_type", "expected_retry", "unusable"),
    [
        (429, 20429, "3", TransientDeliveryError, 3.0, None),
        (503, None, "7", TransientDeliveryError, 7.0, None),
        (500, None, None, TransientDeliveryError, None, None),
        (400, 21610, None, RecipientOptedOut, None, True),
        (400, 21211, None, PermanentDeliveryError, None, True),
        (400, 21614, None, PermanentDeliveryError, None, True),
        (400, 21617, None, PermanentDeliveryError, None, False),
        (400, 21408, None, PermanentDeliveryError, None, False),  # region: next channel
        (401, 20003, None, ConfigurationError, None, None),
    ],
)
async def test_error_mapping(
    twilio_peer: TwilioPeer,
    http_client: httpx.AsyncClient,
    status: int,
    code: int | None,
    retry_after: str | None,
    expected_type: type[Exception],
    expected_retry: float | None,
    unusable: bool | None,
) -> None:
    twilio_peer.fail_next(1, status, code, retry_after=retry_after)
    with pytest.raises(expected_type) as caught:
        await channel(twilio_peer, http_client).send(sms())
    assert type(caught.value) is expected_type
    if isinstance(caught.value, TransientDeliveryError):
        assert caught.value.retry_after == expected_retry
        assert not caught.value.outcome_unknown
    if isinstance(caught.value, PermanentDeliveryError):
        assert caught.value.address_unusable is unusable
        assert caught.value.code == code
    assert twilio_peer.messages == []


async def test_retry_after_as_http_date(
    twilio_peer: TwilioPeer, http_client: httpx.AsyncClient
) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    twilio_peer.fail_next(1, 503, retry_after=later)
    with pytest.raises(TransientDeliveryError) as caught:
        await channel(twilio_peer, http_client).send(sms())
    assert caught.value.retry_after is not None and 8 <= caught.value.retry_after <= 10


async def test_429_then_success_sends_once(
    twilio_peer: TwilioPeer, http_client: httpx.AsyncClient
) -> None:
    ch = channel(twilio_peer, http_client)
    twilio_peer.fail_next(1, 429, 20429, retry_after="1")
    with pytest.raises(TransientDeliveryError):
        await ch.send(sms())
    await ch.send(sms())
    assert len(twilio_peer.messages) == 1 and twilio_peer.requests == 2


async def test_peer_validation_maps_like_twilio(
    twilio_peer: TwilioPeer, http_client: httpx.AsyncClient
) -> None:
    ch = channel(twilio_peer, http_client)
    with pytest.raises(PermanentDeliveryError) as invalid:
        await ch.send(sms(to="+12"))
    assert invalid.value.code == 21211 and invalid.value.address_unusable
    twilio_peer.landlines.add("+85221234567")
    with pytest.raises(PermanentDeliveryError) as landline:
        await ch.send(sms(to="+85221234567"))
    assert landline.value.code == 21614 and landline.value.address_unusable
    twilio_peer.opted_out.add(HK)
    with pytest.raises(RecipientOptedOut):
        await ch.send(sms())


async def test_bad_credentials_are_configuration(
    twilio_peer: TwilioPeer, http_client: httpx.AsyncClient
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        await channel(twilio_peer, http_client, auth_token="wrong").send(sms())
    assert caught.value.code == 20003


async def test_connection_refused_is_transient_and_not_sent(http_client: httpx.AsyncClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = TwilioConfig(
        "AC1", "tok", PUBLIC_URL, from_number="+1500", api_base=f"http://127.0.0.1:{port}"
    )
    with pytest.raises(TransientDeliveryError) as caught:
        await TwilioSmsChannel(config, http_client).send(sms())
    assert not caught.value.outcome_unknown


async def test_read_timeout_marks_outcome_unknown(twilio_peer: TwilioPeer) -> None:
    twilio_peer.fail_next(1, 500, delay=0.3)
    async with httpx.AsyncClient(timeout=0.1, trust_env=False) as client:
        with pytest.raises(TransientDeliveryError) as caught:
            await channel(twilio_peer, client).send(sms())
    assert caught.value.outcome_unknown


async def test_list_messages_for_reconciliation(
    twilio_peer: TwilioPeer, http_client: httpx.AsyncClient
) -> None:
    ch = channel(twilio_peer, http_client)
    before = datetime.now(UTC) - timedelta(minutes=1)
    sids = [
        (await ch.send(sms(body=f"第{i}条", message_id=f"m-{i}"))).provider_id for i in range(3)
    ]
    await ch.send(sms(to="+85298765432"))
    found = await ch.list_messages(HK, before, page_size=2)  # three answers over two pages
    assert [m.sid for m in found] == list(reversed(sids))
    assert {m.to for m in found} == {HK} and found[0].body == "第2条"
    assert found[0].date_created.tzinfo is not None
    assert before <= found[0].date_created <= datetime.now(UTC) + timedelta(seconds=1)
    assert "status_callback" not in found[0].raw  # Twilio never echoes it
    assert await ch.list_messages(HK, datetime.now(UTC) + timedelta(days=1)) == []


async def test_signed_status_callbacks_reach_the_url_with_our_id(
    http_client: httpx.AsyncClient, webhook_sink: WebhookSink
) -> None:
    peer = TwilioPeer(auto_status=("sent", "undelivered"))
    await peer.start()
    try:
        ch = channel(peer, http_client, public_url=webhook_sink.base_url)
        sid = (await ch.send(sms(message_id="msg-42"))).provider_id
        first, second = await webhook_sink.wait_for(2)
        assert first.url == f"{webhook_sink.base_url}/webhooks/twilio/status?m=msg-42"
        for request in (first, second):
            signature = request.headers["X-Twilio-Signature"]
            assert verify_twilio_signature(peer.auth_token, request.url, request.form, signature)
        callback = parse_twilio_status(second.form)
        assert callback.message_sid == sid and callback.update.status == "undelivered"
    finally:
        await peer.stop()


async def test_signature_rejects_tampering(
    twilio_peer: TwilioPeer, http_client: httpx.AsyncClient, webhook_sink: WebhookSink
) -> None:
    sid = (await channel(twilio_peer, http_client).send(sms())).provider_id
    url = f"{webhook_sink.base_url}/webhooks/twilio/status?m=m-1"
    await twilio_peer.post_status_callback(sid, "failed", error_code=30005, url=url)
    [request] = webhook_sink.requests
    signature = request.headers["X-Twilio-Signature"]
    token = twilio_peer.auth_token
    assert verify_twilio_signature(token, url, request.form, signature)
    assert not verify_twilio_signature(token, url.split("?")[0], request.form, signature)
    assert not verify_twilio_signature(token, url.replace("m-1", "m-2"), request.form, signature)
    assert not verify_twilio_signature(token, url, {**request.form, "ErrorCode": "0"}, signature)
    assert not verify_twilio_signature("other-token", url, request.form, signature)
    assert not verify_twilio_signature(token, url, request.form, None)
    update = parse_twilio_status(request.form).update
    assert update.permanent_failure and update.address_unusable and update.error_code == 30005


async def test_inbound_sms_parsed_and_twiml(
    twilio_peer: TwilioPeer, webhook_sink: WebhookSink
) -> None:
    url = f"{webhook_sink.base_url}/webhooks/twilio/sms"
    await twilio_peer.post_inbound_sms(url, HK, "+15005550006", "STOP", OptOutType="STOP")
    [request] = webhook_sink.requests
    assert verify_twilio_signature(
        twilio_peer.auth_token, request.url, request.form, request.headers["X-Twilio-Signature"]
    )
    inbound = parse_twilio_inbound(request.form)
    assert (inbound.channel, inbound.from_address, inbound.to_address) == (
        "sms",
        HK,
        "+15005550006",
    )
    assert inbound.text == "STOP" and inbound.provider_opt_out == "STOP"
    assert inbound.provider_id.startswith("SM") and inbound.received_at.tzinfo is not None
    assert twiml_empty() == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    assert "<Message>回复 TD 退订</Message>" in twiml_message("回复 TD 退订")


@pytest.mark.parametrize(
    ("status", "code", "expected", "final", "permanent", "unusable", "opted_out"),
    [
        ("queued", None, "queued", False, False, False, False),
        ("sending", None, "queued", False, False, False, False),
        ("sent", None, "sent", False, False, False, False),
        ("delivered", None, "delivered", True, False, False, False),
        ("undelivered", "30003", "undelivered", True, True, True, False),
        ("undelivered", 30005, "undelivered", True, True, True, False),
        ("failed", 30006, "failed", True, True, True, False),
        ("undelivered", 30007, "undelivered", True, True, False, False),
        ("failed", 21610, "failed", True, True, True, True),
        ("undelivered", 30008, "undelivered", True, False, False, False),
    ],
)
def test_status_from_twilio(
    status: str,
    code: int | str | None,
    expected: str,
    final: bool,
    permanent: bool,
    unusable: bool,
    opted_out: bool,
) -> None:
    update = status_from_twilio(status, code)
    assert (update.status, update.final, update.permanent_failure) == (expected, final, permanent)
    assert (update.address_unusable, update.opted_out) == (unusable, opted_out)


def test_status_from_twilio_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="unknown Twilio MessageStatus"):
        status_from_twilio("exploded")
