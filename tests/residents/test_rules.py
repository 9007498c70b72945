"""Identity documents (GB 11643), phones, names, pinyin keys, ages: exhaustive and property tests."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yigongti.residents import rules
from yigongti.residents.choices import IdType

TODAY = dt.date(2025, 12, 31)


def make_id(area: str, birth: dt.date, seq: int) -> str:
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + rules.check_digit(first17)


class TestParseIdNumber:
    def test_known_valid_number(self) -> None:
        # The GB 11643 worked example: 11010519491231002X (female, 1949-12-31, 110105).
        info = rules.parse_id_number("11010519491231002X")
        assert info == rules.IdInfo(
            number="11010519491231002X",
            birth_date=dt.date(1949, 12, 31),
            sex="F",
            area_code="110105",
        )

    def test_lower_case_x_is_accepted_and_normalised(self) -> None:
        assert rules.parse_id_number("11010519491231002x").number == "11010519491231002X"

    def test_male_from_odd_17th_digit(self) -> None:
        info = rules.parse_id_number("439901195103150033")
        assert (info.sex, info.birth_date, info.area_code) == ("M", dt.date(1951, 3, 15), "439901")

    def test_surrounding_whitespace_is_ignored(self) -> None:
        assert rules.parse_id_number("  439901195103150033 ").number == "439901195103150033"

    def test_legacy_15_digit_is_converted(self) -> None:
        # 15-digit 110105491231002 → 11010519491231002X
        info = rules.parse_id_number("110105491231002")
        assert info.number == "11010519491231002X"
        assert info.birth_date == dt.date(1949, 12, 31)
        assert info.sex == "F"

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", "身份证号不能为空"),
            ("   ", "身份证号不能为空"),
            ("4399011951031500", "身份证号应为18位（或旧版15位），当前为16位"),
            ("4399011951031500333", "身份证号应为18位（或旧版15位），当前为19位"),
            ("43990119510315003A", "身份证号最后一位只能是数字或X"),
            ("4399011951O3150033", "身份证号前17位必须是数字"),
            ("11010549123100A", "15位身份证号必须全部是数字"),
            ("439901195103150034", "身份证号校验位错误：最后一位应为“3”"),
            ("00990119510315003X", "身份证号前两位“00”不是有效的省级行政区划代码"),
            ("999901195103150033", "身份证号前两位“99”不是有效的省级行政区划代码"),
        ],
    )
    def test_refusals_have_exact_chinese_messages(self, text: str, message: str) -> None:
        with pytest.raises(ValueError) as exc:
            rules.parse_id_number(text)
        assert str(exc.value) == message

    def test_impossible_date_is_refused(self) -> None:
        first17 = "43990119510230003"  # 30 February
        with pytest.raises(ValueError, match="不是真实日期"):
            rules.parse_id_number(first17 + rules.check_digit(first17))

    def test_birth_before_1880_is_refused(self) -> None:
        with pytest.raises(ValueError, match="早于1880年"):
            rules.parse_id_number(make_id("439901", dt.date(1879, 12, 31), 1))

    def test_birth_after_today_is_refused(self) -> None:
        with pytest.raises(ValueError, match="晚于今天"):
            rules.parse_id_number(make_id("439901", dt.date(2026, 1, 1), 1), today=TODAY)

    def test_birth_today_is_accepted(self) -> None:
        assert rules.parse_id_number(make_id("439901", TODAY, 2), today=TODAY).birth_date == TODAY

    def test_merged_county_code_is_still_valid(self) -> None:
        # 430121 (the old 长沙县 code pattern) or any county later renamed: only the province counts.
        number = make_id("439999", dt.date(1960, 1, 1), 5)
        assert rules.parse_id_number(number).area_code == "439999"

    def test_non_string_is_refused(self) -> None:
        with pytest.raises(ValueError, match="必须是文本"):
            rules.parse_id_number(12345)  # type: ignore[arg-type]


@st.composite
def valid_ids(draw: st.DrawFn) -> tuple[str, dt.date, int, str]:
    province = draw(st.sampled_from(sorted(rules.PROVINCE_PREFIXES)))
    rest = draw(st.integers(min_value=0, max_value=9999))
    area = f"{province}{rest:04d}"
    birth = draw(st.dates(min_value=dt.date(1880, 1, 1), max_value=TODAY))
    seq = draw(st.integers(min_value=0, max_value=999))
    return make_id(area, birth, seq), birth, seq, area


class TestIdProperties:
    @given(valid_ids())
    @settings(max_examples=300, deadline=None)
    def test_every_well_formed_number_parses_back(
        self, case: tuple[str, dt.date, int, str]
    ) -> None:
        number, birth, seq, area = case
        info = rules.parse_id_number(number, today=TODAY)
        assert info.number == number
        assert info.birth_date == birth
        assert info.area_code == area
        assert info.sex == ("M" if seq % 2 == 1 else "F")

    @given(
        valid_ids(), st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9)
    )
    @settings(max_examples=300, deadline=None)
    def test_any_single_digit_change_is_caught(
        self, case: tuple[str, dt.date, int, str], position: int, delta: int
    ) -> None:
        number = case[0]
        changed = (
            number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
        )
        with pytest.raises(ValueError):
            # MOD 11-2 detects every single-digit substitution: the parse must fail somewhere
            # (check digit, date, or province), never return a different person.
            rules.parse_id_number(changed, today=TODAY)

    @given(valid_ids())
    @settings(max_examples=200, deadline=None)
    def test_15_digit_form_of_a_1900s_number_converts_to_it(
        self, case: tuple[str, dt.date, int, str]
    ) -> None:
        number, birth, _, _ = case
        if not 1900 <= birth.year <= 1999:
            return
        legacy = number[:6] + number[8:17]
        assert rules.convert_15_to_18(legacy) == number

    @given(st.text(max_size=25))
    @settings(max_examples=300, deadline=None)
    def test_arbitrary_text_never_crashes(self, text: str) -> None:
        try:
            info = rules.parse_id_number(text)
        except ValueError as exc:
            assert str(exc)  # a Chinese message, never an empty one
        else:
            assert len(info.number) == 18


class TestOtherDocuments:
    def test_hmt_residence_permit(self) -> None:
        number = make_id("810000", dt.date(1990, 5, 5), 11)
        assert rules.check_document(IdType.HMT_RESIDENCE, number) == number

    def test_hmt_refuses_mainland_prefix(self) -> None:
        with pytest.raises(ValueError, match="81、82或83开头"):
            rules.check_document(IdType.HMT_RESIDENCE, "439901195103150033")

    def test_foreign_permanent_new_format(self) -> None:
        first17 = "93315619900101002"
        number = first17 + rules.check_digit(first17)
        assert rules.check_document(IdType.FOREIGN_PERMANENT, number) == number

    def test_foreign_permanent_bad_check(self) -> None:
        first17 = "93315619900101002"
        wrong = "0" if rules.check_digit(first17) != "0" else "1"
        with pytest.raises(ValueError, match="校验位错误"):
            rules.check_document(IdType.FOREIGN_PERMANENT, first17 + wrong)

    def test_foreign_permanent_old_format(self) -> None:
        assert (
            rules.check_document(IdType.FOREIGN_PERMANENT, "usa110012345678") == "USA110012345678"
        )

    @pytest.mark.parametrize(
        ("value", "ok"), [("E12345678", True), ("ab1", False), ("A" * 18, False)]
    )
    def test_passport(self, value: str, ok: bool) -> None:
        if ok:
            assert rules.check_document(IdType.PASSPORT, value) == value
        else:
            with pytest.raises(ValueError, match="护照号码应为5–17位字母或数字"):
                rules.check_document(IdType.PASSPORT, value)

    def test_birth_certificate(self) -> None:
        assert rules.check_document(IdType.BIRTH_CERTIFICATE, "o430012345") == "O430012345"
        with pytest.raises(ValueError, match="出生医学证明编号"):
            rules.check_document(IdType.BIRTH_CERTIFICATE, "4300123456")

    def test_unknown_type(self) -> None:
        with pytest.raises(ValueError, match="不支持的证件类型“42”"):
            rules.check_document("42", "X")


class TestPhone:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("13812345678", "13812345678"),
            ("+86 138 1234 5678", "13812345678"),
            ("008613812345678", "13812345678"),
            ("0731-84561234", "0731-84561234"),
            ("073184561234", "073184561234"),
            ("", ""),
        ],
    )
    def test_accepted(self, text: str, expected: str) -> None:
        assert rules.normalise_phone(text) == expected

    @pytest.mark.parametrize("text", ["12812345678", "1381234567", "138123456789", "abc", "110"])
    def test_refused(self, text: str) -> None:
        with pytest.raises(ValueError, match=r"电话号码“.*”格式错误"):
            rules.normalise_phone(text)


class TestNamesAndKeys:
    def test_pinyin_keys(self) -> None:
        assert rules.pinyin_keys("张德福") == ("zhangdefu", "zdf")

    def test_name_with_interpunct(self) -> None:
        assert rules.check_name("阿依古丽·买买提") == "阿依古丽·买买提"

    @pytest.mark.parametrize("text", ["", "张", "张3", "<script>"])
    def test_bad_names(self, text: str) -> None:
        with pytest.raises(ValueError):
            rules.check_name(text)


class TestAgesAndConsistency:
    @pytest.mark.parametrize(
        ("birth", "today", "age"),
        [
            (dt.date(1951, 3, 15), dt.date(2025, 3, 14), 73),
            (dt.date(1951, 3, 15), dt.date(2025, 3, 15), 74),
            (dt.date(2000, 2, 29), dt.date(2025, 2, 28), 24),
            (dt.date(2000, 2, 29), dt.date(2025, 3, 1), 25),
        ],
    )
    def test_age_on(self, birth: dt.date, today: dt.date, age: int) -> None:
        assert rules.age_on(birth, today) == age

    @pytest.mark.parametrize(
        ("birth", "on", "band"),
        [
            (dt.date(1951, 3, 15), dt.date(2021, 3, 14), "60–69岁"),
            (dt.date(1951, 3, 15), dt.date(2021, 3, 15), "70–79岁"),
            (dt.date(2025, 1, 1), dt.date(2025, 12, 31), "未满1岁"),
            (dt.date(2025, 1, 1), dt.date(2026, 1, 1), "1–9岁"),  # not "0–9岁" beside 未满1岁
            (dt.date(2015, 1, 1), dt.date(2025, 1, 1), "10–19岁"),
            (dt.date(1925, 6, 1), dt.date(2025, 5, 31), "90–99岁"),
            (dt.date(1925, 6, 1), dt.date(2025, 6, 1), "100岁及以上"),
        ],
    )
    def test_age_band(self, birth: dt.date, on: dt.date, band: str) -> None:
        assert rules.age_band(birth, on) == band

    @given(
        st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2025, 12, 31)),
        st.integers(min_value=0, max_value=45000),
    )
    @settings(max_examples=300)
    def test_age_band_holds_the_age_and_never_the_birth_year(
        self, birth: dt.date, days: int
    ) -> None:
        on = birth + dt.timedelta(days=days)
        band, age = rules.age_band(birth, on), rules.age_on(birth, on)
        assert str(birth.year) not in band
        if 1 <= age < 100:
            low, high = (int(x) for x in band.removesuffix("岁").split("–"))
            # ten-year bands, the first one from 1 (未满1岁 comes before it)
            assert (high % 10, low) == (9, max(high - 9, 1)) and low <= age <= high
        else:
            assert band == ("未满1岁" if age < 1 else "100岁及以上")

    def test_minor_boundary(self) -> None:
        assert rules.is_minor(dt.date(2007, 12, 31), TODAY) is False
        assert rules.is_minor(dt.date(2008, 1, 1), TODAY) is True

    def test_consistency_messages(self) -> None:
        info = rules.parse_id_number("439901195103150033")
        assert rules.check_consistency(info, sex="M", birth_date=dt.date(1951, 3, 15)) == {}
        assert rules.check_consistency(info, sex="F", birth_date=dt.date(1951, 3, 16)) == {
            "sex": ["性别与身份证号不符：身份证号显示为男"],
            "birth_date": ["出生日期与身份证号不符：身份证号显示为 1951-03-15"],
        }

    def test_duplicate_key(self) -> None:
        assert rules.duplicate_key(" 张德福 ", dt.date(1951, 3, 15), "439901002002") == (
            "张德福",
            "1951-03-15",
            "439901002002",
        )
