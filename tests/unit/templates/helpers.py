"""Constants shared by the template tests."""

from itertools import combinations

from message_templates.catalog import KINDS
from message_templates.fit import SMS_MEMBER_SETS as FIT_MEMBER_SETS

LONG_URL = "https://outreach.example-brokerage.com.cn"

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

#: Default SMS that do NOT fit 2 segments (134 UCS-2 units) for the long sample, with the
#: segments they take: (locale, two_way, members) -> segments. Every other (kind or bundle,
#: locale, route) cell fits 2. Units below are for the long sample with LONG_URL (and, in
#: Chinese, the 10-character branch festival). The parts no wording can shorten:
#: signature 【…】 14; honorific 12 (zh) / 14 (en, "Ms. " + the dotted name); festival 10 (zh
#: branch festival) / 20 ("Dragon Boat Festival"); service phone 12; day count 3; opt-out hint
#: "回复TD退订" 6 / "Reply STOP to opt out" 21 (two-way) or "退订：" / "Opt out: " + the 56-unit
#: link = 59 / 65 (one-way). Each cell below is over even in the tersest natural wording we
#: found that keeps every mandated part (the question, the phone on one-way routes, the
#: password warning, a wish per occasion):
SMS_OVER_TWO_SEGMENTS: dict[tuple[str, bool, tuple[str, ...]], int] = {
    # 137 units. Fixed 14 + 12 + 10 + 12 + 59 = 107; then "，" 1, "及生日快乐！" 6,
    # "开户顺利吗？" 6, "欢迎致电" + "。" 5, "我们不索要密码或验证码。" 12 = 137 (136 with a bare
    # "请致电"): no room for even a welcome. With the statutory festivals (3 characters, 130
    # units) it fits: see SMS_OVER_ONLY_WITH_BRANCH_FESTIVAL.
    ("zh-CN", False, ("new_account", "birthday", "holiday")): 3,
    # 145 / 156 units. Fixed 14 + 14 + 20 + 21 = 69, "We never ask for passwords/codes." 33,
    # "Questions? Just reply." 22 -> 124; "Welcome, " 9 and "Happy " 6 -> 139, plus "!" and
    # spaces between the sentences -> 145 (136 even without the welcome); the birthday
    # (" & birthday") adds 11 -> 156.
    ("en", True, ("new_account", "holiday")): 3,
    ("en", True, ("new_account", "birthday", "holiday")): 3,
    # 148 units. Fixed 14 + 14 + 12 + 3 + 65 = 108; ", no trades in … days. " 22 and
    # "Call … . " 7 -> 137 before the question ("Need help? " 11) -> 148.
    # Every dormancy bundle adds its wish to that: 164, 176 and 187 units.
    ("en", False, ("dormancy",)): 3,
    ("en", False, ("dormancy", "birthday")): 3,
    ("en", False, ("dormancy", "holiday")): 3,
    ("en", False, ("dormancy", "birthday", "holiday")): 3,
    # 184 / 196 / 207 units. Fixed 14 + 14 + 12 + 65 = 105, plus the password warning 33
    # = 138 before any welcome, wish or question ("Welcome, … ! Happy …! Questions? Call … .").
    ("en", False, ("new_account", "birthday")): 3,
    ("en", False, ("new_account", "holiday")): 3,
    ("en", False, ("new_account", "birthday", "holiday")): 4,
}

#: Cells of SMS_OVER_TWO_SEGMENTS that fit 2 segments when the branch has only the statutory
#: festivals: they are over only with the 10-character LONG_BRANCH_FESTIVAL.
SMS_OVER_ONLY_WITH_BRANCH_FESTIVAL = frozenset(
    {("zh-CN", False, ("new_account", "birthday", "holiday"))}
)


def sms_over_two_segments(
    festivals: tuple[str, ...],
) -> dict[tuple[str, bool, tuple[str, ...]], int]:
    """The pinned cells for a long sample with these extra festival names (see SMS_SAMPLES)."""
    return {
        cell: segments
        for cell, segments in SMS_OVER_TWO_SEGMENTS.items()
        if festivals or cell not in SMS_OVER_ONLY_WITH_BRANCH_FESTIVAL
    }
