"""Templates cannot stall the process: sizes, widths and intermediate strings are bounded."""

import time

import pytest

from message_templates import validate

BASE = "【{{ sms_signature }}】{{ honorific }}，{}{{ opt_out_hint }}"
BIG = 300_000_000

BOMBS = [
    f"{{{{ honorific|center({BIG}) }}}}",
    f"{{{{ honorific.center({BIG}) }}}}",
    f"{{{{ honorific|attr('ljust')({BIG}) }}}}",
    f"{{{{ honorific.rjust({BIG}) }}}}",
    f"{{{{ 'a'.zfill({BIG}) }}}}",
    f"{{{{ 'a\\t'.expandtabs({BIG}) }}}}",
    f"{{{{ honorific|indent({BIG}) }}}}",
    f"{{{{ honorific|indent(width={BIG}) }}}}",
    f"{{{{ honorific|wordwrap({BIG}) }}}}",
    f"{{{{ honorific|truncate({BIG}) }}}}",
    f"{{{{ honorific|replace('a', 'b', {BIG}) }}}}",
    f"{{{{ [1]|batch({BIG}, 0)|list }}}}",
    f"{{{{ [1]|slice({BIG})|list }}}}",
    f"{{{{ '%0{BIG}d'|format(1) }}}}",
    f"{{{{ '%.{BIG}f'|format(1.0) }}}}",
    f"{{{{ '%0{BIG}d' % 1 }}}}",
    f"{{{{ '%*d' % ({BIG}, 1) }}}}",
    f"{{{{ '{{:>{BIG}}}'.format(1) }}}}",
    f"{{{{ '{{:>{{w}}}}'.format(1, w={BIG}) }}}}",
    f"{{{{ '{{x:>{BIG}}}'.format_map({{'x': 1}}) }}}}",
    "{{ 'aaaa'" + "|replace('a', 'aaaaaaaaaa')" * 9 + " }}",
    "{{ ('x' * 2000).replace('x', 'x' * 2000) }}",
    "{% set a = 'x' * 1000 %}" + "{% set a = a ~ a %}" * 40 + "{{ a|length }}",
    "{% set a = 'x' * 1000 %}" + "{% set a = a + a %}" * 40 + "{{ a|length }}",
    "{% set a = 'x' * 1000 %}" + "{% set a = [a, a]|join %}" * 40 + "{{ a|length }}",
    "{% set a = '{0}{0}' %}" + "{% set a = a.format(a) %}" * 40 + "{{ a|length }}",
    "{% set a = 'x' * 1000 %}" + "{% set a = '%s%s' % (a, a) %}" * 40 + "{{ a|length }}",
]


@pytest.mark.parametrize("inner", BOMBS)
def test_resource_bombs_are_refused_quickly(inner: str) -> None:
    start = time.perf_counter()
    problems = validate(BASE.replace("{}", inner), "birthday", "sms", "zh-CN")
    assert time.perf_counter() - start < 1.0
    assert len(problems) == 1, problems
    assert problems[0].startswith("第1行：模板运算超出限制：")
    assert " / line 1: the template asks for too much work or memory: " in problems[0]


@pytest.mark.parametrize(
    "inner",
    [
        "{{ honorific|replace('女士', '女士您好') }}",
        "{{ honorific.replace('女士', '女士您好') }}",
        "{{ '%s您好'|format(honorific) }}",
        "{{ '%05.2f' % 3.14159 }}",
        "{{ '{:,}'.format(1234567) }}",
        "{{ '{:>8}'.format(honorific) }}",
        "{{ honorific|center(20) }}",
        "{{ ['a', 'b']|join('、') }}",
        "{{ honorific ~ '您好' }}",
    ],
)
def test_ordinary_string_building_still_works(inner: str) -> None:
    assert validate(BASE.replace("{}", inner), "birthday", "sms", "zh-CN") == []


@pytest.mark.parametrize(
    "inner",
    [
        "{% set x = [1] * 2000 %}{% for a in x %}{% for b in x %}{% for c in x %}{% endfor %}"
        "{% endfor %}{% endfor %}",
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}",
    ],
)
def test_nested_loops_and_exponential_recursion_are_refused_quickly(inner: str) -> None:
    start = time.perf_counter()
    problems = validate(BASE.replace("{}", inner), "birthday", "sms", "zh-CN")
    assert time.perf_counter() - start < 1.0
    assert len(problems) == 1 and "循环次数与调用次数过多" in problems[0], problems


@pytest.mark.parametrize(
    "inner",
    [
        "{% for k in bundle_kinds %}{{ loop.index }}{{ k }}{{ loop.length }}{% else %}无{% endfor %}",
        "{% for a in [1, 2, 3] if a > 1 %}{{ a }}{% endfor %}",
        "{% for a in [[1], [2, [3]]] recursive %}{% if a is sequence %}{{ loop(a) }}{% else %}"
        "{{ a }}{% endif %}{% endfor %}",
    ],
)
def test_ordinary_loops_still_work(inner: str) -> None:
    assert validate(BASE.replace("{}", inner), "birthday", "sms", "zh-CN") == []
