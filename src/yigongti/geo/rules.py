"""Division codes: 12-digit statistical codes built on the GB/T 2260 six-digit county code.

``PPCCDD`` (GB/T 2260 county) + ``TTT`` (township) + ``VVV`` (village). A code's level follows
from which parts are zero, and a child's code starts with its parent's significant prefix.
"""

from __future__ import annotations

import re

from yigongti.geo.choices import DivisionLevel

# GB/T 2260 province codes (reference/domain-rules.md §9.1 [S]); 71 台湾, 81 香港, 82 澳门.
PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
        "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
        "63", "64", "65", "71", "81", "82",
    }
)  # fmt: skip

_CODE = re.compile(r"^\d{6}(\d{6})?$")


def normalise_code(code: str) -> str:
    """Accept a 6-digit GB/T 2260 code or a 12-digit statistical code; return 12 digits."""
    code = (code or "").strip()
    if not _CODE.match(code):
        raise ValueError(f"区划代码“{code}”格式错误：应为 6 位或 12 位数字")
    if code[:2] not in PROVINCE_CODES:
        raise ValueError(f"区划代码“{code}”的省级代码 {code[:2]} 不存在")
    return code.ljust(12, "0")


def level_of(code: str) -> DivisionLevel:
    code = normalise_code(code)
    if code[2:] == "0" * 10:
        return DivisionLevel.PROVINCE
    if code[4:] == "0" * 8:
        return DivisionLevel.CITY
    if code[6:] == "0" * 6:
        return DivisionLevel.COUNTY
    if code[9:] == "000":
        return DivisionLevel.TOWNSHIP
    return DivisionLevel.VILLAGE


_PREFIX_LENGTH = {
    DivisionLevel.PROVINCE: 2,
    DivisionLevel.CITY: 4,
    DivisionLevel.COUNTY: 6,
    DivisionLevel.TOWNSHIP: 9,
    DivisionLevel.VILLAGE: 12,
}


def prefix_of(code: str) -> str:
    """The significant prefix: every descendant's code starts with it."""
    code = normalise_code(code)
    return code[: _PREFIX_LENGTH[level_of(code)]]


def is_within(child_code: str, ancestor_code: str) -> bool:
    return normalise_code(child_code).startswith(prefix_of(ancestor_code))


def parent_code(code: str) -> str | None:
    code = normalise_code(code)
    level = level_of(code)
    if level == DivisionLevel.PROVINCE:
        return None
    if level == DivisionLevel.CITY:
        return code[:2].ljust(12, "0")
    if level == DivisionLevel.COUNTY:
        return code[:4].ljust(12, "0")
    if level == DivisionLevel.TOWNSHIP:
        return code[:6].ljust(12, "0")
    return code[:9].ljust(12, "0")
