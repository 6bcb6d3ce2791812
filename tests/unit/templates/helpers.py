"""Constants shared by the template tests."""

from itertools import combinations

from message_templates.catalog import KINDS

LONG_URL = "https://outreach.example-brokerage.com.cn"

#: Every member combination a bundle template must handle, realistic or not.
ALL_MEMBER_SETS = [c for n in (1, 2, 3, 4) for c in combinations(KINDS, n)]

#: A branch festival at the longest Chinese name a branch may configure (10 characters).
LONG_BRANCH_FESTIVAL = "广西壮族三月三歌圩节"
