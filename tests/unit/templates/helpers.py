"""Constants shared by the template tests."""

from itertools import combinations

from message_templates.catalog import KINDS
from message_templates.fit import SMS_MEMBER_SETS as FIT_MEMBER_SETS

LONG_URL = "https://outreach.example-broker.com.cn"

#: Every member combination a bundle template must handle, realistic or not.
ALL_MEMBER_SETS = [c for n in (1, 2, 3, 4) for c in combinations(KINDS, n)]

#: What the default SMS must fit into SMS_MAX_SEGMENTS (see message_templates.fit).
SMS_MEMBER_SETS = list(FIT_MEMBER_SETS)

#: A branch festival at the longest Chinese name a branch may configure (10 characters).
LONG_BRANCH_FESTIVAL = "广西壮族三月三歌圩节"

#: (locale, extra festival names) of the long samples the SMS length checks use: Chinese with
#: the statutory festivals only (3 characters at most) and with LONG_BRANCH_FESTIVAL, English
#: with its own festival names (longest "Dragon Boat Festival").
SMS_SAMPLES: list[tuple[str, tuple[str, ...]]] = [
    ("zh-CN", ()),
    ("zh-CN", (LONG_BRANCH_FESTIVAL,)),
    ("en", ()),
]
SMS_SAMPLE_IDS = ["zh", "zh-branch-festival", "en"]

#: The long sample's link costs 3 + 38 + 12 = 53 units: the defaults fit their limits
#: (SMS_MAX_SEGMENTS=2, SMS_MAX_SEGMENTS_EN=3) for a PUBLIC_URL up to len(LONG_URL) characters,
#: and the longest bundle on one-way routes is then exactly at the limit in both locales.
#: Why English gets 3: the parts no wording can shorten are the signature 【…】 14, the
#: honorific 14 ("Ms. " + the dotted name), "Dragon Boat Festival" 20, the service phone 12,
#: the password warning 33 and "Opt out: " + the link 62: 155 units before any welcome,
#: wish or question, over the 134 of 2 UCS-2 segments.
