"""Pure MPI rules: identity documents (GB 11643), phones, pinyin keys, duplicate keys, ages.

No ORM, no clock: ``today`` is an argument wherever a rule depends on the date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from yigongti.residents.choices import IdType, Sex

# ---------------------------------------------------------------------------
# GB 11643-1999 citizen identity number (reference/domain-rules.md §9.1 [V])
# ---------------------------------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CODES = "10X98765432"
# GB/T 2260 province prefixes (domain-rules.md §9.1 [S]); 71 台湾, 81 香港, 82 澳门.
PROVINCE_PREFIXES = frozenset(
    {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
        "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
        "63", "64", "65", "71", "81", "82",
    }
)  # fmt: skip
# 港澳台居民居住证 use 810000 (HK), 820000 (Macao), 830000 (Taiwan) as their area code.
HMT_PREFIXES = frozenset({"81", "82", "83"})
EARLIEST_BIRTH = dt.date(1880, 1, 1)


@dataclass(frozen=True)
class IdInfo:
    """What an identity number says about its holder."""

    number: str  # normalised 18-character form (upper-case X)
    birth_date: dt.date
    sex: str  # "M" or "F"
    area_code: str  # the six-digit GB/T 2260 code of first registration


def check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("身份证号前17位必须是数字")
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CODES[total % 11]


def convert_15_to_18(number: str) -> str:
    """Legacy 15-digit numbers (pre-1999): insert "19" before YYMMDD and add the check digit."""
    if len(number) != 15 or not number.isdigit():
        raise ValueError("15位身份证号必须全部是数字")
    first17 = number[:6] + "19" + number[6:]
    return first17 + check_digit(first17)


def _parse_birth(text: str) -> dt.date | None:
    try:
        return dt.date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def parse_id_number(
    text: str, *, today: dt.date | None = None, prefixes: frozenset[str] = PROVINCE_PREFIXES
) -> IdInfo:
    """Validate a citizen identity number and return birth date, sex and area code.

    Accepts 18 characters (the last may be ``x``/``X``) or a legacy 15-digit number, which is
    converted. Raises ``ValueError`` with a Chinese message on any invalid input. The area code
    is checked only at the province level: a county later merged or renamed keeps its people's
    numbers valid. ``today`` bounds the birth date (defaults to no upper bound beyond the
    calendar, for pure use; services always pass it).
    """
    if not isinstance(text, str):
        raise ValueError("身份证号必须是文本")
    number = text.strip().replace(" ", "").upper()
    if not number:
        raise ValueError("身份证号不能为空")
    if len(number) == 15:
        if not number.isdigit():
            raise ValueError("15位身份证号必须全部是数字")
        number = convert_15_to_18(number)
    elif len(number) != 18:
        raise ValueError(f"身份证号应为18位（或旧版15位），当前为{len(number)}位")
    if not number[:17].isdigit():
        raise ValueError("身份证号前17位必须是数字")
    if not (number[17].isdigit() or number[17] == "X"):
        raise ValueError("身份证号最后一位只能是数字或X")
    if number[:2] not in prefixes:
        raise ValueError(f"身份证号前两位“{number[:2]}”不是有效的省级行政区划代码")
    birth = _parse_birth(number[6:14])
    if birth is None:
        raise ValueError(f"身份证号中的出生日期“{number[6:14]}”不是真实日期")
    if birth < EARLIEST_BIRTH:
        raise ValueError(f"身份证号中的出生日期 {birth.isoformat()} 早于1880年")
    if today is not None and birth > today:
        raise ValueError(f"身份证号中的出生日期 {birth.isoformat()} 晚于今天")
    expected = check_digit(number[:17])
    if number[17] != expected:
        raise ValueError(f"身份证号校验位错误：最后一位应为“{expected}”")
    sex = Sex.MALE if int(number[16]) % 2 == 1 else Sex.FEMALE
    return IdInfo(number=number, birth_date=birth, sex=str(sex), area_code=number[:6])


_PASSPORT = re.compile(r"^[A-Z0-9]{5,17}$")
_BIRTH_CERT = re.compile(r"^[A-Z]\d{9}$")
_FOREIGN_OLD = re.compile(r"^[A-Z]{3}\d{12}$")


def check_document(id_type: str, text: str, *, today: dt.date | None = None) -> str:
    """Validate any supported document; return its normalised form or raise ValueError."""
    value = (text or "").strip().replace(" ", "").upper()
    if id_type == IdType.RESIDENT_ID:
        return parse_id_number(value, today=today).number
    if id_type == IdType.HMT_RESIDENCE:
        if len(value) != 18 or value[:2] not in HMT_PREFIXES:
            raise ValueError("港澳台居民居住证号码应为18位，且以81、82或83开头")
        return parse_id_number(value, today=today, prefixes=HMT_PREFIXES).number
    if id_type == IdType.FOREIGN_PERMANENT:
        if len(value) == 18 and value.startswith("9"):
            if not value[:17].isdigit() or check_digit(value[:17]) != value[17]:
                raise ValueError("外国人永久居留身份证号码校验位错误")
            return value
        if _FOREIGN_OLD.match(value):
            return value
        raise ValueError("外国人永久居留身份证号码应为以9开头的18位或旧版15位（3位字母+12位数字）")
    if id_type == IdType.PASSPORT:
        if not _PASSPORT.match(value):
            raise ValueError("护照号码应为5–17位字母或数字")
        return value
    if id_type == IdType.BIRTH_CERTIFICATE:
        if not _BIRTH_CERT.match(value):
            raise ValueError("出生医学证明编号应为1位字母加9位数字")
        return value
    if id_type == IdType.OTHER:
        if not 2 <= len(value) <= 32:
            raise ValueError("证件号码长度应为2–32位")
        return value
    raise ValueError(f"不支持的证件类型“{id_type}”")


# ---------------------------------------------------------------------------
# Phone (domain-rules.md §9.2 [S/I])
# ---------------------------------------------------------------------------

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def normalise_phone(text: str) -> str:
    """Strip spaces and a +86/0086 prefix, then require a mobile or landline number."""
    value = (text or "").strip().replace(" ", "").replace("\u3000", "")
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :].lstrip("-")
    if not value:
        return ""
    if MOBILE.match(value) or LANDLINE.match(value):
        return value
    raise ValueError(f"电话号码“{text}”格式错误：手机号应为1开头的11位数字，座机如0731-1234567")


# ---------------------------------------------------------------------------
# Names and search keys
# ---------------------------------------------------------------------------

_NAME = re.compile(r"^[\u3400-\u9fff\u00b7·A-Za-z]{2,20}$")


def check_name(text: str) -> str:
    value = (text or "").strip()
    if not value:
        raise ValueError("姓名不能为空")
    if not _NAME.match(value):
        raise ValueError("姓名只能包含汉字、间隔号或字母，长度2–20")
    return value


@lru_cache(maxsize=65536)
def pinyin_keys(name: str) -> tuple[str, str]:
    """Full pinyin (``zhangdaye``) and initials (``zdy``) for search."""
    syllables = lazy_pinyin(name, style=Style.NORMAL, errors="ignore")
    full = "".join(syllables).lower()
    initials = "".join(s[0] for s in syllables if s).lower()
    return full, initials


# ---------------------------------------------------------------------------
# Ages, duplicates, consistency
# ---------------------------------------------------------------------------


def age_on(birth_date: dt.date, today: dt.date) -> int:
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def age_band(birth_date: dt.date, on: dt.date) -> str:
    """The ten-year age band on a day, as de-identified views show it ("60–69岁"; "未满1岁"
    before the first birthday, then "1–9岁", so no two bands overlap; "100岁及以上"): never
    the birth date itself."""
    age = age_on(birth_date, on)
    if age < 1:
        return "未满1岁"
    if age >= 100:
        return "100岁及以上"
    low = age // 10 * 10
    return f"{max(low, 1)}–{low + 9}岁"


def is_minor(birth_date: dt.date, today: dt.date) -> bool:
    """Minors' records are a sensitive category (PIPL art. 28/31; DESIGN.md)."""
    return age_on(birth_date, today) < 18


def duplicate_key(name: str, birth_date: dt.date, village_code: str) -> tuple[str, str, str]:
    """Records that look alike: same name, birth date and village (issue #3)."""
    return (name.strip(), birth_date.isoformat(), village_code)


def check_consistency(
    info: IdInfo, *, sex: str | None, birth_date: dt.date | None
) -> dict[str, list[str]]:
    """Entered sex and birth date must agree with what the identity number says."""
    errors: dict[str, list[str]] = {}
    if sex and sex != info.sex:
        errors["sex"] = [f"性别与身份证号不符：身份证号显示为{Sex(info.sex).label}"]
    if birth_date and birth_date != info.birth_date:
        errors["birth_date"] = [
            f"出生日期与身份证号不符：身份证号显示为 {info.birth_date.isoformat()}"
        ]
    return errors
