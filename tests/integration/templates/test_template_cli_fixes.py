"""`templates set --file` with a BOM, and `templates preview` for customers, bundles and locales."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration.templates.test_template_workflow import GOOD, outreach, staff  # noqa: F401


def _customer(tmp_path: Path, locale: str = "zh-CN") -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        "customer_id,name,branch,salutation,locale,phone\n"
        f"P1,欧阳晓燕,SH01,女士,{locale},13812345678\n",
        encoding="utf-8",
    )
    code, out = outreach("import", "customers", str(path))
    assert code == 0, out


def _approve(source: str) -> None:
    code, out = outreach("templates", "set", "holiday", "sms", "zh-CN", "--branch", "SH01",
                         "--as", "admin1", stdin=source)
    assert code == 0, out
    code, out = outreach("templates", "approve", "holiday", "sms", "zh-CN", "--branch", "SH01",
                         "--as", "comp_sh")
    assert code == 0, out


@pytest.mark.usefixtures("staff")
def test_template_file_saved_with_a_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "notepad.j2"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    code, out = outreach("templates", "set", "holiday", "sms", "zh-CN", "--branch", "SH01",
                         "--as", "admin1", "--file", str(path))
    assert code == 0, out
    assert "draft v1 saved" in out
    code, out = outreach("templates", "preview", "holiday", "sms", "zh-CN", "--file", str(path))
    assert code == 0, out
    assert "\ufeff" not in out and out.startswith("【示例证券】")


@pytest.mark.usefixtures("staff")
def test_template_piped_with_a_bom_is_accepted() -> None:
    code, out = outreach("templates", "set", "holiday", "sms", "zh-CN", "--branch", "SH01",
                         "--as", "admin1", stdin="\ufeff" + GOOD)
    assert code == 0, out


@pytest.mark.usefixtures("staff")
def test_customer_preview_uses_the_customers_branch_template(tmp_path: Path) -> None:
    _customer(tmp_path)
    _approve(GOOD)
    code, out = outreach("templates", "preview", "holiday", "sms", "zh-CN", "--customer", "P1")
    assert code == 0, out
    assert "敬上" in out and "欧阳女士" in out


@pytest.mark.parametrize("kinds", [None, "holiday,foo", ","])
@pytest.mark.usefixtures("staff")
def test_bundle_preview_without_valid_kinds_is_a_usage_error(kinds: str | None) -> None:
    extra = ["--kinds", kinds] if kinds is not None else []
    code, out = outreach("templates", "preview", "bundle", "sms", "zh-CN", *extra)
    assert code == 2, out
    assert "Traceback" not in out
    flat = re.sub(r"[\s│]", "", out)  # the usage error is boxed and wrapped by rich
    assert "validkinds:new_account,dormancy,birthday,holiday" in flat


@pytest.mark.usefixtures("staff")
def test_unknown_kind_in_kinds_is_refused_for_a_single_kind_too() -> None:
    code, out = outreach("templates", "preview", "holiday", "sms", "zh-CN", "--kinds", "foo")
    assert code == 2 and "foo" in out


@pytest.mark.usefixtures("staff")
def test_customer_preview_festival_name_follows_the_preview_locale(tmp_path: Path) -> None:
    _customer(tmp_path, locale="zh-CN")
    code, out = outreach("templates", "preview", "holiday", "sms", "en", "--customer", "P1")
    assert code == 0, out
    assert "中秋" not in out and "Mid-Autumn" in out
    code, out = outreach("templates", "preview", "holiday", "sms", "zh-CN", "--customer", "P1")
    assert code == 0, out
    assert "中秋" in out
