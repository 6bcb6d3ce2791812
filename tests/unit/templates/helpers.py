"""Constants shared by the template tests."""

from itertools import combinations

from message_templates.catalog import KINDS, LONGEST_BUNDLE, REALISTIC_BUNDLES, normalize_kinds

LONG_URL = "https://outreach.example-brokerage.com.cn"

#: Every member combination a bundle template must handle, realistic or not.
ALL_MEMBER_SETS = [c for n in (1, 2, 3, 4) for c in combinations(KINDS, n)]

#: What the default SMS must fit into SMS_MAX_SEGMENTS: each kind, each realistic bundle
#: and (named on its own, as the issue does) the longest bundle.
SMS_MEMBER_SETS = list(
    dict.fromkeys(
        [(k,) for k in KINDS]
        + [normalize_kinds(b) for b in sorted(REALISTIC_BUNDLES, key=len)]
        + [normalize_kinds(LONGEST_BUNDLE)]
    )
)

#: A branch festival at the longest Chinese name a branch may configure (10 characters).
LONG_BRANCH_FESTIVAL = "广西壮族三月三歌圩节"

#: Default SMS that do NOT fit 2 segments for the long sample, with the segments they take:
#: (locale, two_way, members) -> segments. Every other (kind or bundle, locale, route) fits 2.
#: Fixed parts alone (signature 14, honorific 12-14, branch name 20, service phone 12, the
#: festival, "退订：" + the 56-character link or "Reply STOP to opt out") leave too little of
#: the 134 UCS-2 units of 2 segments for the rest:
#: - one-way routes: the link costs 59-65 units, the service phone 12 more, and bundles keep
#:   the branch name in the body (20);
#: - English: the same ideas take 3-4x the characters, and "We never ask for passwords or
#:   codes." (36) plus the branch name leave no room in new_account bundles even two-way.
SMS_OVER_TWO_SEGMENTS: dict[tuple[str, bool, tuple[str, ...]], int] = {
    ("zh-CN", False, ("dormancy", "birthday")): 3,
    ("zh-CN", False, ("dormancy", "holiday")): 3,
    ("zh-CN", False, ("new_account", "birthday")): 3,
    ("zh-CN", False, ("new_account", "holiday")): 3,
    ("zh-CN", False, ("dormancy", "birthday", "holiday")): 3,
    ("zh-CN", False, ("new_account", "birthday", "holiday")): 3,
    ("en", True, ("dormancy", "holiday")): 3,
    ("en", True, ("new_account", "birthday")): 3,
    ("en", True, ("new_account", "holiday")): 3,
    ("en", True, ("dormancy", "birthday", "holiday")): 3,
    ("en", True, ("new_account", "birthday", "holiday")): 3,
    ("en", False, ("dormancy",)): 3,
    ("en", False, ("birthday", "holiday")): 3,
    ("en", False, ("dormancy", "birthday")): 3,
    ("en", False, ("dormancy", "holiday")): 3,
    ("en", False, ("new_account", "birthday")): 4,
    ("en", False, ("new_account", "holiday")): 4,
    ("en", False, ("dormancy", "birthday", "holiday")): 4,
    ("en", False, ("new_account", "birthday", "holiday")): 4,
}
