"""`oversized_default_sms`: what `outreach check` reports about the shipped SMS defaults."""

from message_templates.fit import oversized_default_sms
from tests.unit.templates.helpers import LONG_BRANCH_FESTIVAL, LONG_URL, sms_over_two_segments


def _cells(public_url: str, limit: int, festivals: tuple[str, ...] = ()) -> dict:
    return {(o.locale, o.two_way, o.kinds): o.segments
            for o in oversized_default_sms(public_url, limit, {"zh-CN": festivals})}


def test_reports_exactly_the_pinned_cells_for_the_long_url() -> None:
    assert _cells(LONG_URL, 2) == sms_over_two_segments(())
    assert _cells(LONG_URL, 2, (LONG_BRANCH_FESTIVAL,)) == sms_over_two_segments(
        (LONG_BRANCH_FESTIVAL,))


def test_a_shorter_public_url_only_ever_helps_one_way_routes() -> None:
    long, short = _cells(LONG_URL, 2), _cells("https://a.cn", 2)
    assert set(short) < set(long)
    assert {cell for cell in long if cell[1]} == {cell for cell in short if cell[1]}  # two-way


def test_a_higher_limit_reports_nothing() -> None:
    assert _cells(LONG_URL, 4, (LONG_BRANCH_FESTIVAL,)) == {}


def test_describe_names_members_locale_route_and_size() -> None:
    (worst,) = [o for o in oversized_default_sms(LONG_URL, 3)]
    assert worst.describe() == (
        f"new_account+birthday+holiday en one-way: {worst.segments} ({worst.units} units)")
    assert worst.segments == 4
