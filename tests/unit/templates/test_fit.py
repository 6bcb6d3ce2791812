"""`oversized_default_sms`: what `outreach check` reports about the shipped SMS defaults."""

from message_templates.fit import oversized_default_sms
from message_templates.sms import SegmentLimits
from tests.unit.templates.helpers import LONG_BRANCH_FESTIVAL, LONG_URL

DEFAULT = SegmentLimits()


def _cells(public_url: str, limits: SegmentLimits = DEFAULT,
           festivals: tuple[str, ...] = (LONG_BRANCH_FESTIVAL,)) -> dict:
    return {(o.locale, o.two_way, o.kinds): o.segments
            for o in oversized_default_sms(public_url, limits, {"zh-CN": festivals})}


def test_every_default_fits_up_to_the_long_url() -> None:
    assert _cells("http://127.0.0.1:8000") == {}
    assert _cells(LONG_URL) == {}


def test_one_character_more_and_the_longest_one_way_bundles_are_named() -> None:
    assert _cells(LONG_URL + "x") == {
        ("zh-CN", False, ("new_account", "birthday", "holiday")): 3,
        ("en", False, ("new_account", "birthday", "holiday")): 4,
    }
    # Without the 10-character branch festival the Chinese one still fits.
    assert set(_cells(LONG_URL + "x", festivals=())) == {
        ("en", False, ("new_account", "birthday", "holiday"))}


def test_a_stricter_english_limit_names_english_cells_only() -> None:
    cells = _cells(LONG_URL, SegmentLimits(2, 2))
    assert cells and {locale for locale, _, _ in cells} == {"en"}
    assert ("en", True, ("new_account", "birthday", "holiday")) in cells  # two-way too


def test_describe_names_members_locale_route_and_size() -> None:
    (worst,) = oversized_default_sms(LONG_URL + "x", DEFAULT, {})
    assert worst.describe() == "new_account+birthday+holiday en one-way: 4 (202 units)"
