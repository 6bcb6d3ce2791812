"""Which shipped SMS defaults exceed their locale's segment limit for the long sample.

A one-way route's unsubscribe link is `PUBLIC_URL/u/<id>`, so whether every default SMS fits
`SMS_MAX_SEGMENTS` / `SMS_MAX_SEGMENTS_EN` depends on the installation's PUBLIC_URL and
limits: `outreach check` names any that do not (the defaults fit the defaults, and a
41-character PUBLIC_URL, with room to spare only in Chinese).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from message_templates.catalog import (
    KINDS,
    LOCALES,
    LONGEST_BUNDLE,
    REALISTIC_BUNDLES,
    normalize_kinds,
)
from message_templates.render import render
from message_templates.sms import SegmentLimits
from message_templates.variables import sample_variables

#: Each kind on its own, each realistic bundle and (named on its own, as the issue does)
#: the longest bundle: what the default SMS must fit.
SMS_MEMBER_SETS: tuple[tuple[str, ...], ...] = tuple(
    dict.fromkeys(
        [(k,) for k in KINDS]
        + [normalize_kinds(b) for b in sorted(REALISTIC_BUNDLES, key=len)]
        + [normalize_kinds(LONGEST_BUNDLE)]
    )
)


@dataclass(frozen=True)
class Oversize:
    """A default SMS (members × locale × route) longer than the limit for the long sample."""

    locale: str
    two_way: bool
    kinds: tuple[str, ...]
    units: int
    segments: int

    def describe(self) -> str:
        route = "two-way" if self.two_way else "one-way"
        return f"{'+'.join(self.kinds)} {self.locale} {route}: {self.segments} ({self.units} units)"


def oversized_default_sms(public_url: str, limits: SegmentLimits,
                          festival_names: Mapping[str, Iterable[str]] | None = None
                          ) -> list[Oversize]:
    """Every default SMS cell that needs more than its locale's limit for the long sample;
    `festival_names` adds branch festivals' display names per locale to the sample."""
    out = []
    for locale in LOCALES:
        max_segments = limits.for_locale(locale)
        festivals = tuple((festival_names or {}).get(locale, ()))
        for two_way in (True, False):
            for kinds in SMS_MEMBER_SETS:
                variables = sample_variables(locale, long=True, public_url=public_url,
                                             two_way_sms=two_way, bundle_kinds=kinds,
                                             festival_names=festivals)
                info = render(kinds, "sms", locale, variables).sms
                if info is not None and info.segments > max_segments:
                    out.append(Oversize(locale, two_way, kinds, info.units, info.segments))
    return out
