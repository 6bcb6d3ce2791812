"""What templates exist: kinds, channels, locales, bundles and festivals.

Kept apart from rendering so the planner, the CLI and the validator agree on one
list instead of repeating string literals.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations

from bot.domain.kinds import MARKETING_KINDS

#: Touch kinds that have templates of their own, in the order a bundle mentions them.
KINDS: tuple[str, ...] = ("new_account", "dormancy", "birthday", "holiday")
BUNDLE = "bundle"
TEMPLATE_KINDS: tuple[str, ...] = (*KINDS, BUNDLE)
CHANNELS: tuple[str, ...] = ("sms", "email", "telegram")
LOCALES: tuple[str, ...] = ("zh-CN", "en")


#: Bundles that can really happen: an account cannot be new and dormant at once.
REALISTIC_BUNDLES: tuple[frozenset[str], ...] = tuple(
    frozenset(c)
    for n in (2, 3)
    for c in combinations(KINDS, n)
    if not {"new_account", "dormancy"} <= set(c)
)
#: The bundle the long-sample length check must fit (the wordiest one).
LONGEST_BUNDLE: frozenset[str] = frozenset({"new_account", "birthday", "holiday"})

#: Festival code -> display name per locale. Branch festivals add to this at run time.
FESTIVALS: dict[str, dict[str, str]] = {
    "new_year": {"zh-CN": "元旦", "en": "New Year's Day"},
    "spring_festival": {"zh-CN": "春节", "en": "Spring Festival"},
    "labour_day": {"zh-CN": "劳动节", "en": "Labour Day"},
    "dragon_boat": {"zh-CN": "端午节", "en": "Dragon Boat Festival"},
    "mid_autumn": {"zh-CN": "中秋节", "en": "Mid-Autumn Festival"},
    "national_day": {"zh-CN": "国庆节", "en": "National Day"},
}


def normalize_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """Deduplicate and order member kinds canonically, rejecting unknown ones early."""
    wanted = set(kinds)
    unknown = wanted - set(KINDS)
    if unknown:
        raise ValueError(f"unknown touch kind(s): {', '.join(sorted(unknown))}")
    return tuple(k for k in KINDS if k in wanted)


def is_marketing(kinds: Iterable[str]) -> bool:
    """A message is marketing (needs the opt-out hint) if any member is marketing."""
    return any(k in MARKETING_KINDS for k in kinds)


def is_service_only(kinds: Iterable[str]) -> bool:
    """A message with no marketing in it (a new-account check) must carry no links
    (anti-phishing habit)."""
    ks = set(kinds)
    return bool(ks) and not ks & MARKETING_KINDS


def longest_festival_name(locale: str, extra: Iterable[str] = ()) -> str:
    """The longest festival name a template may meet, for the long-sample check."""
    names = [f[locale] for f in FESTIVALS.values()] + list(extra)
    return max(names, key=len)
