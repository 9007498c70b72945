from __future__ import annotations

import pytest

from yigongti.geo import rules
from yigongti.geo.choices import DivisionLevel


@pytest.mark.parametrize(
    ("code", "level", "prefix", "parent"),
    [
        ("430000", DivisionLevel.PROVINCE, "43", None),
        ("439900", DivisionLevel.CITY, "4399", "430000000000"),
        ("439901", DivisionLevel.COUNTY, "439901", "439900000000"),
        ("439901002000", DivisionLevel.TOWNSHIP, "439901002", "439901000000"),
        ("439901002002", DivisionLevel.VILLAGE, "439901002002", "439901002000"),
    ],
)
def test_levels_prefixes_parents(
    code: str, level: DivisionLevel, prefix: str, parent: str | None
) -> None:
    assert rules.level_of(code) == level
    assert rules.prefix_of(code) == prefix
    assert rules.parent_code(code) == parent


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("4399", "区划代码“4399”格式错误：应为 6 位或 12 位数字"),
        ("43990100200A", "区划代码“43990100200A”格式错误：应为 6 位或 12 位数字"),
        ("999901", "区划代码“999901”的省级代码 99 不存在"),
    ],
)
def test_bad_codes(code: str, message: str) -> None:
    with pytest.raises(ValueError) as exc:
        rules.normalise_code(code)
    assert str(exc.value) == message


def test_within() -> None:
    assert rules.is_within("439901002002", "439901")
    assert rules.is_within("439901002002", "439901002000")
    assert not rules.is_within("439901001001", "439901002000")
    assert not rules.is_within("439902002002", "439901")
