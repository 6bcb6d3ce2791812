"""An aiosmtpd server on 127.0.0.1 that captures envelopes and can refuse recipients."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class CapturedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool = False  # whether the session had switched to TLS (STARTTLS)

    @property
    def message(self) -> EmailMessage:
        return cast(EmailMessage, message_from_bytes(self.data, policy=policy.default))


class SmtpPeer:
    """Outbound SMTP peer: `refuse` maps a recipient to the reply it gets at RCPT.

    With `tls_context` it offers STARTTLS and, like a provider's submission port, requires it
    before AUTH and MAIL."""

    def __init__(self, username: str | None = None, password: str | None = None,
                 tls_context: ssl.SSLContext | None = None) -> None:
        self.credentials = (username, password) if username else None
        self.tls_context = tls_context
        self.refuse: dict[str, str] = {}  # e.g. {"gone@example.com": "550 5.1.1 User unknown"}
        self.mails: list[CapturedMail] = []
        self.host = "127.0.0.1"
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.host, self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _protocol(self) -> SMTP:
        kwargs: dict[str, Any] = {"hostname": "smtp-peer.localhost"}
        if self.tls_context is not None:
            kwargs.update(tls_context=self.tls_context, require_starttls=True)
        if self.credentials:
            # handled=False avoids aiosmtpd's 60 s hang; plain-TCP auth only without TLS
            kwargs.update(authenticator=self._authenticate,
                          auth_require_tls=self.tls_context is not None)
        return SMTP(self, **kwargs)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and (
                auth_data.login.decode(),
                auth_data.password.decode(),
            )
            == self.credentials
        )
        return AuthResult(success=ok, handled=False)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.credentials and not session.authenticated:
            return "530 5.7.0 Authentication required"
        if reply := self.refuse.get(address.lower()):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        self.mails.append(CapturedMail(str(envelope.mail_from), list(envelope.rcpt_tos), data,
                                       tls=session.ssl is not None))
        return "250 2.0.0 Ok: queued"
