"""SMS_ROUTES: which SMS provider serves a destination number.

Mainland numbers need a licensed domestic provider (DOMAIN.md), so SMS routes by
E.164 prefix, e.g. ``+86:log,*:twilio``. The longest matching prefix wins; ``*``
is the fallback; a number nothing matches is unroutable (skipped like a
missing address).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_PREFIX = re.compile(r"\+[0-9]{1,15}")
_PROVIDER = re.compile(r"[a-z][a-z0-9_]*")
_NUMBER = re.compile(r"\+[0-9]{4,15}")


@dataclass(frozen=True, slots=True)
class SmsRoutes:
    """Parsed routes, longest prefix first; build with `parse_sms_routes`."""

    routes: tuple[tuple[str, str], ...]  # (prefix, provider), longest prefix first
    fallback: str | None  # the "*" route

    def provider_for(self, number: str) -> str | None:
        """Provider name for an E.164 number, or None when no route covers it."""
        if not _NUMBER.fullmatch(number):
            raise ValueError(f"not an E.164 number: {number!r}")
        for prefix, provider in self.routes:
            if number.startswith(prefix):
                return provider
        return self.fallback

    def providers(self) -> frozenset[str]:
        """Every provider named, so start-up can check each one is configured."""
        names = {provider for _, provider in self.routes}
        if self.fallback:
            names.add(self.fallback)
        return frozenset(names)


def parse_sms_routes(spec: str, known_providers: Iterable[str] | None = None) -> SmsRoutes:
    """Parse ``"+86:log,*:twilio"``; raise ValueError naming the bad part.

    `known_providers`, when given, rejects routes to providers that do not exist.
    """
    known = frozenset(known_providers) if known_providers is not None else None
    entries = [part.strip() for part in spec.split(",")]
    if not any(entries):
        raise ValueError("SMS_ROUTES is empty: expected e.g. '+86:log,*:twilio'")
    routes: dict[str, str] = {}
    fallback: str | None = None
    for entry in entries:
        if not entry:
            raise ValueError(f"SMS_ROUTES {spec!r}: empty entry (stray comma?)")
        prefix, sep, provider = (s.strip() for s in entry.partition(":"))
        if not sep:
            raise ValueError(f"SMS_ROUTES entry {entry!r}: expected '<prefix>:<provider>'")
        if prefix != "*" and not _PREFIX.fullmatch(prefix):
            raise ValueError(
                f"SMS_ROUTES entry {entry!r}: prefix must be '*' or '+' and digits, e.g. '+852'"
            )
        if not _PROVIDER.fullmatch(provider):
            raise ValueError(
                f"SMS_ROUTES entry {entry!r}: provider must be a lower-case name, e.g. 'twilio'"
            )
        if known is not None and provider not in known:
            raise ValueError(
                f"SMS_ROUTES entry {entry!r}: unknown provider {provider!r} "
                f"(known: {', '.join(sorted(known))})"
            )
        if prefix == "*":
            if fallback is not None:
                raise ValueError(f"SMS_ROUTES {spec!r}: '*' given twice")
            fallback = provider
            continue
        if prefix in routes:
            raise ValueError(f"SMS_ROUTES {spec!r}: prefix {prefix!r} given twice")
        routes[prefix] = provider
    ordered = tuple(sorted(routes.items(), key=lambda item: len(item[0]), reverse=True))
    return SmsRoutes(routes=ordered, fallback=fallback)
