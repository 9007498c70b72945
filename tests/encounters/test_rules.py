"""Pure encounter rules: every refusal with its exact Chinese message, and money properties."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yigongti.encounters import rules

TODAY = dt.date(2025, 12, 31)
D = Decimal


def csv_rows(name: str) -> list[dict[str, str]]:
    text = resources.files("yigongti.encounters").joinpath("data", name).read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


class TestEnumerations:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("outpatient", "outpatient"),
            ("门诊", "outpatient"),
            (" 急诊 ", "emergency"),
            ("INPATIENT", "inpatient"),
            ("住院", "inpatient"),
        ],
    )
    def test_setting_accepted(self, text: str, expected: str) -> None:
        assert rules.check_setting(text) == expected

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", "就诊类型不能为空"),
            ("  ", "就诊类型不能为空"),
            ("体检", "就诊类型“体检”无效，应为门诊、急诊或住院"),
            ("home", "就诊类型“home”无效，应为门诊、急诊或住院"),
        ],
    )
    def test_setting_refused(self, text: str, message: str) -> None:
        with pytest.raises(ValueError, match=f"^{message}$"):
            rules.check_setting(text)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("resident", "resident"),
            ("employee", "employee"),
            ("none", "none"),
            ("职工基本医疗保险", "employee"),
            ("城乡居民基本医疗保险", "resident"),
        ],
    )
    def test_insurance_type_accepted(self, text: str, expected: str) -> None:
        assert rules.check_insurance_type(text) == expected

    @pytest.mark.parametrize("text", ["", "商业保险", "nhs"])
    def test_insurance_type_refused(self, text: str) -> None:
        with pytest.raises(ValueError, match=f"^参保类型“{text}”无效$"):
            rules.check_insurance_type(text)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("out_of_county", "out_of_county"),
            ("县域外就医", "out_of_county"),
            ("pharmacy", "pharmacy"),
            ("定点零售药店", "pharmacy"),
        ],
    )
    def test_external_kind(self, text: str, expected: str) -> None:
        assert rules.check_external_kind(text) == expected

    def test_external_kind_refused(self) -> None:
        with pytest.raises(ValueError, match=r"^结算类别“诊所”无效，应为县域外就医或定点零售药店$"):
            rules.check_external_kind("诊所")

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("", "来源系统不能为空"),
            (None, "来源系统不能为空"),
            (" ", "来源系统不能为空"),
            ("x" * 65, "来源系统不能超过64个字符"),
        ],
    )
    def test_required(self, value: str | None, message: str) -> None:
        with pytest.raises(ValueError, match=f"^{message}$"):
            rules.check_required(value, "来源系统", 64)

    def test_required_strips(self) -> None:
        assert rules.check_required(" HIS ", "来源系统", 64) == "HIS"


DIAGNOSES = frozenset({"E11.9", "I10", "J06.9", "A09", "A09.0", "U07.1"})
PROCEDURES = {"47.09": 2, "89.52": None, "81.54": 4}


class TestCodes:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("E11.9", "E11.9"),
            ("e11.900", "E11.9"),
            (" E119 ", "E11.9"),
            ("Ｅ１１．９", "E11.9"),
            ("E11.9。", "E11.9"),
            ("I10", "I10"),
            ("i10.x00", "I10"),
            ("I10.X", "I10"),
            ("I10x00", "I10"),
            ("J06.900x003", "J06.9"),
            ("A09.000", "A09.0"),
            ("A09.901", "A09"),
            ("u07.100", "U07.1"),
        ],
    )
    def test_diagnosis_normalised(self, text: str, expected: str) -> None:
        assert rules.resolve_diagnosis(text, DIAGNOSES) == expected

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", "诊断编码“”格式错误：应为ICD-10编码，如 I10、E11.9"),
            ("E1", "诊断编码“E1”格式错误：应为ICD-10编码，如 I10、E11.9"),
            ("119", "诊断编码“119”格式错误：应为ICD-10编码，如 I10、E11.9"),
            ("高血压", "诊断编码“高血压”格式错误：应为ICD-10编码，如 I10、E11.9"),
            ("E11.9-1", "诊断编码“E11.9-1”格式错误：应为ICD-10编码，如 I10、E11.9"),
            ("X99.9", "诊断编码“X99.9”不在ICD-10字典中"),
            ("E10.9", "诊断编码“E10.9”不在ICD-10字典中"),
            ("E11", "诊断编码“E11”不在ICD-10字典中"),
        ],
    )
    def test_diagnosis_refused(self, text: str, message: str) -> None:
        with pytest.raises(ValueError) as info:
            rules.resolve_diagnosis(text, DIAGNOSES)
        assert str(info.value) == message

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("47.09", ("47.09", 2)),
            ("4709", ("47.09", 2)),
            ("47.0900", ("47.09", 2)),
            (" 81.54 ", ("81.54", 4)),
            ("89.52", ("89.52", None)),
        ],
    )
    def test_procedure(self, text: str, expected: tuple[str, int | None]) -> None:
        assert rules.resolve_procedure(text, PROCEDURES) == expected

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("99.99", "手术操作编码“99.99”不在ICD-9-CM3字典中"),
            ("A1.2", "手术操作编码“A1.2”格式错误：应为ICD-9-CM3编码，如 47.09"),
            ("阑尾切除", "手术操作编码“阑尾切除”格式错误：应为ICD-9-CM3编码，如 47.09"),
        ],
    )
    def test_procedure_refused(self, text: str, message: str) -> None:
        with pytest.raises(ValueError) as info:
            rules.resolve_procedure(text, PROCEDURES)
        assert str(info.value) == message

    @pytest.mark.parametrize(
        ("code", "chapter"),
        [
            ("A00.9", "I"),
            ("B99", "I"),
            ("C16.9", "II"),
            ("D48", "II"),
            ("D50.9", "III"),
            ("E11.9", "IV"),
            ("F20.9", "V"),
            ("G40.9", "VI"),
            ("H10.9", "VII"),
            ("H66.9", "VIII"),
            ("I10", "IX"),
            ("J06.9", "X"),
            ("K29.7", "XI"),
            ("L30.9", "XII"),
            ("M54.5", "XIII"),
            ("N39.0", "XIV"),
            ("O80.0", "XV"),
            ("P07.3", "XVI"),
            ("Q21.1", "XVII"),
            ("R50.9", "XVIII"),
            ("S72.0", "XIX"),
            ("T14.2", "XIX"),
            ("W19", "XX"),
            ("Z51.1", "XXI"),
            ("U07.1", "XXII"),
        ],
    )
    def test_chapter(self, code: str, chapter: str) -> None:
        assert rules.icd10_chapter(code) == chapter

    def test_shipped_catalogue_is_consistent(self) -> None:
        rows = csv_rows("icd10.csv")
        assert 250 <= len(rows) <= 450
        codes = [r["code"] for r in rows]
        assert len(set(codes)) == len(codes)
        for row in rows:
            assert rules.ICD10_FORMAT.match(row["code"]), row
            assert rules.icd10_chapter(row["code"]) == row["chapter"], row
            assert row["name"] and row["chapter_name"], row
            assert row["notifiable_class"] in ("", "甲", "乙", "丙"), row
            assert bool(row["notifiable_disease"]) == bool(row["notifiable_class"]), row
            assert row["is_chronic"] in ("0", "1"), row

    def test_shipped_procedures_are_consistent(self) -> None:
        rows = csv_rows("procedures.csv")
        assert 80 <= len(rows) <= 160
        codes = [r["code"] for r in rows]
        assert len(set(codes)) == len(codes)
        for row in rows:
            assert rules.ICD9CM3_FORMAT.match(row["code"]), row
            assert row["grade"] in ("", "1", "2", "3", "4"), row
        grades = {r["code"]: r["grade"] for r in rows}
        assert grades["47.09"] == "2"
        assert grades["51.23"] == "3"
        assert grades["36.06"] == "4"
        assert grades["81.54"] == "4"
        assert grades["74.1"] == "3"
        assert grades["86.59"] == "1"
        assert grades["89.52"] == ""
        assert grades["88.01"] == ""


class TestDates:
    @pytest.mark.parametrize(
        ("setting", "visit", "discharge"),
        [
            ("outpatient", TODAY, None),
            ("outpatient", TODAY, TODAY),
            ("emergency", dt.date(2025, 1, 1), None),
            ("inpatient", dt.date(2025, 12, 1), dt.date(2025, 12, 8)),
            ("inpatient", TODAY, TODAY),
        ],
    )
    def test_accepted(self, setting: str, visit: dt.date, discharge: dt.date | None) -> None:
        assert rules.check_encounter_dates(setting, visit, discharge, TODAY) == {}

    @pytest.mark.parametrize(
        ("setting", "visit", "discharge", "errors"),
        [
            ("outpatient", None, None, {"visit_date": ["就诊日期不能为空"]}),
            (
                "outpatient",
                dt.date(2026, 1, 1),
                None,
                {"visit_date": ["就诊日期 2026-01-01 晚于今天"]},
            ),
            (
                "outpatient",
                dt.date(2025, 12, 1),
                dt.date(2025, 12, 2),
                {"discharge_date": ["门诊记录不应有出院日期（或应与就诊日期相同）"]},
            ),
            (
                "emergency",
                dt.date(2025, 12, 1),
                dt.date(2025, 11, 30),
                {"discharge_date": ["急诊记录不应有出院日期（或应与就诊日期相同）"]},
            ),
            ("inpatient", None, TODAY, {"visit_date": ["入院日期不能为空"]}),
            ("inpatient", TODAY, None, {"discharge_date": ["住院记录必须填写出院日期"]}),
            (
                "inpatient",
                dt.date(2025, 12, 10),
                dt.date(2025, 12, 9),
                {"discharge_date": ["出院日期不能早于入院日期"]},
            ),
            (
                "inpatient",
                dt.date(2025, 12, 30),
                dt.date(2026, 1, 3),
                {"discharge_date": ["出院日期 2026-01-03 晚于今天"]},
            ),
            (
                "inpatient",
                dt.date(2026, 1, 2),
                dt.date(2026, 1, 1),
                {
                    "visit_date": ["入院日期 2026-01-02 晚于今天"],
                    "discharge_date": ["出院日期不能早于入院日期"],
                },
            ),
            (None, None, None, {"visit_date": ["就诊日期不能为空"]}),
        ],
    )
    def test_refused(
        self,
        setting: str | None,
        visit: dt.date | None,
        discharge: dt.date | None,
        errors: dict[str, list[str]],
    ) -> None:
        assert rules.check_encounter_dates(setting, visit, discharge, TODAY) == errors

    def test_stay_dates(self) -> None:
        assert rules.check_stay_dates(dt.date(2025, 3, 2), dt.date(2025, 3, 1)) == {
            "discharge_date": ["出院日期不能早于入院日期"]
        }
        assert rules.check_stay_dates(dt.date(2025, 3, 1), dt.date(2025, 3, 1)) == {}
        assert rules.check_stay_dates(None, dt.date(2025, 3, 1)) == {}

    def test_date_not_future(self) -> None:
        rules.check_date_not_future(TODAY, "结算日期", TODAY)
        with pytest.raises(ValueError, match=r"^结算日期不能为空$"):
            rules.check_date_not_future(None, "结算日期", TODAY)
        with pytest.raises(ValueError, match=r"^结算日期 2026-01-01 晚于今天$"):
            rules.check_date_not_future(dt.date(2026, 1, 1), "结算日期", TODAY)

    @pytest.mark.parametrize(
        ("visit", "discharge", "days", "expected"),
        [
            (dt.date(2025, 3, 1), None, 365, dt.date(2026, 3, 1)),
            (dt.date(2024, 3, 1), None, 365, dt.date(2025, 3, 1)),
            (dt.date(2025, 3, 1), dt.date(2025, 3, 10), 365, dt.date(2026, 3, 10)),
            (dt.date(2025, 3, 1), None, 0, dt.date(2025, 3, 1)),
        ],
    )
    def test_treating_valid_to(
        self, visit: dt.date, discharge: dt.date | None, days: int, expected: dt.date
    ) -> None:
        assert rules.treating_valid_to(visit, discharge, days) == expected


class TestMoney:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (D("0"), D("0.00")),
            (D("12.3"), D("12.30")),
            (D("12.30"), D("12.30")),
            (D("12.300"), D("12.30")),
            ("99.99", D("99.99")),
            (5, D("5.00")),
            (None, D("0.00")),
            ("", D("0.00")),
            (D("9999999999.99"), D("9999999999.99")),
        ],
    )
    def test_accepted(self, value: object, expected: Decimal) -> None:
        result = rules.check_money(value, "药品费")
        assert result == expected
        assert result.as_tuple().exponent == -2

    @pytest.mark.parametrize(
        ("value", "required", "message"),
        [
            (None, True, "总费用不能为空"),
            ("", True, "总费用不能为空"),
            (D("-0.01"), False, "总费用不能为负数"),
            (D("1.234"), False, "总费用最多保留两位小数"),
            ("abc", False, "总费用“abc”不是有效金额"),
            (D("NaN"), False, "总费用“NaN”不是有效金额"),
            (D("Infinity"), False, "总费用“Infinity”不是有效金额"),
            (1.5, False, "总费用必须是精确的十进制金额"),
            (True, False, "总费用必须是精确的十进制金额"),
            (D("10000000000"), False, "总费用超出允许范围"),
        ],
    )
    def test_refused(self, value: object, required: bool, message: str) -> None:
        with pytest.raises(ValueError) as info:
            rules.check_money(value, "总费用", required=required)
        assert str(info.value) == message

    def test_split_accepted(self) -> None:
        parts = {"drug_cost": D("60.00"), "exam_cost": D("40.00")}
        assert rules.check_cost_split(D("100.00"), parts, D("70.00"), D("30.00"), D("0")) == {}
        # within one yuan either way, and exactly one yuan
        assert rules.check_cost_split(D("100.00"), {}, D("70.00"), D("29.00")) == {}
        assert rules.check_cost_split(D("100.00"), {}, D("70.00"), D("31.00")) == {}

    @pytest.mark.parametrize(
        ("total", "parts", "fund", "personal", "deductible", "errors"),
        [
            (
                D("100.00"),
                {"drug_cost": D("60.00"), "exam_cost": D("40.01")},
                D("70.00"),
                D("30.00"),
                D("0"),
                {"total_cost": ["各分项费用之和 100.01 元超过总费用 100.00 元"]},
            ),
            (
                D("100"),
                {},
                D("70.00"),
                D("28.99"),
                D("0"),
                {"fund_paid": ["统筹支付与个人支付之和 98.99 元与总费用 100.00 元相差超过1元"]},
            ),
            (
                D("100"),
                {},
                D("70.00"),
                D("31.01"),
                None,
                {"fund_paid": ["统筹支付与个人支付之和 101.01 元与总费用 100.00 元相差超过1元"]},
            ),
            (
                D("100"),
                {},
                D("70.00"),
                D("30.00"),
                D("30.01"),
                {"deductible": ["起付线 30.01 元超过个人支付 30.00 元"]},
            ),
            (
                D("10"),
                {"service_cost": D("20")},
                D("0"),
                D("0"),
                D("5"),
                {
                    "total_cost": ["各分项费用之和 20.00 元超过总费用 10.00 元"],
                    "fund_paid": ["统筹支付与个人支付之和 0.00 元与总费用 10.00 元相差超过1元"],
                    "deductible": ["起付线 5.00 元超过个人支付 0.00 元"],
                },
            ),
        ],
    )
    def test_split_refused(
        self,
        total: Decimal,
        parts: dict[str, Decimal],
        fund: Decimal,
        personal: Decimal,
        deductible: Decimal | None,
        errors: dict[str, list[str]],
    ) -> None:
        assert rules.check_cost_split(total, parts, fund, personal, deductible) == errors

    def test_uninsured_fund(self) -> None:
        assert rules.check_uninsured_fund("none", D("0")) == {}
        assert rules.check_uninsured_fund("resident", D("10")) == {}
        assert rules.check_uninsured_fund("none", D("0.01")) == {
            "fund_paid": ["未参保人员不能有统筹基金支付"]
        }


cents = st.integers(min_value=0, max_value=10_000_000)


def yuan(n: int) -> Decimal:
    return (Decimal(n) / 100).quantize(Decimal("0.01"))


@st.composite
def consistent_split(draw: st.DrawFn) -> tuple[Decimal, list[Decimal], Decimal, Decimal]:
    total = draw(cents)
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=4, max_size=4)))
    slack = draw(st.integers(0, total))  # unallocated remainder (other costs)
    bounds = [0, *cuts]
    parts = [bounds[i + 1] - bounds[i] for i in range(4)]
    scale_down = max(sum(parts) - (total - slack), 0)
    parts[-1] = max(parts[-1] - scale_down, 0)
    fund = draw(st.integers(0, total))
    return yuan(total), [yuan(p) for p in parts], yuan(fund), yuan(total - fund)


class TestMoneyProperties:
    @given(consistent_split())
    def test_any_consistent_split_is_accepted(
        self, split: tuple[Decimal, list[Decimal], Decimal, Decimal]
    ) -> None:
        total, parts, fund, personal = split
        named = dict(
            zip(("drug_cost", "material_cost", "exam_cost", "service_cost"), parts, strict=True)
        )
        assert sum(parts) <= total
        assert rules.check_cost_split(total, named, fund, personal, personal) == {}

    @given(consistent_split(), st.integers(min_value=1, max_value=1_000_000))
    def test_parts_above_total_are_refused(
        self, split: tuple[Decimal, list[Decimal], Decimal, Decimal], extra: int
    ) -> None:
        total, parts, fund, personal = split
        over = total - sum(parts[1:]) + yuan(extra)  # the first part pushes the sum over
        named = {"drug_cost": over, "service_cost": sum(parts[1:], Decimal("0"))}
        errors = rules.check_cost_split(total, named, fund, personal)
        assert list(errors) == ["total_cost"]
        assert errors["total_cost"][0].startswith("各分项费用之和 ")

    @given(consistent_split(), st.integers(min_value=101, max_value=1_000_000), st.booleans())
    def test_paid_off_by_more_than_one_yuan_is_refused(
        self, split: tuple[Decimal, list[Decimal], Decimal, Decimal], off: int, up: bool
    ) -> None:
        total, _, fund, personal = split
        shift = yuan(off)
        if not up and personal < shift:
            fund, personal = fund + personal - shift, Decimal("0.00")
            if fund < 0:
                return  # cannot go below zero paid; nothing to test
        else:
            personal = personal + shift if up else personal - shift
        errors = rules.check_cost_split(total, {}, fund, personal)
        assert list(errors) == ["fund_paid"]

    @given(consistent_split(), st.integers(min_value=0, max_value=100), st.booleans())
    def test_paid_within_one_yuan_is_accepted(
        self, split: tuple[Decimal, list[Decimal], Decimal, Decimal], off: int, up: bool
    ) -> None:
        total, _, fund, personal = split
        shift = yuan(off)
        personal = personal + shift if up or personal < shift else personal - shift
        assert rules.check_cost_split(total, {}, fund, personal) == {}

    @given(cents, st.integers(min_value=3, max_value=6))
    def test_more_than_two_decimals_refused(self, n: int, places: int) -> None:
        value = Decimal(n) / Decimal(10**places) + Decimal(1) / Decimal(10**places)
        if value == value.quantize(Decimal("0.01")):
            return
        with pytest.raises(ValueError, match=r"^药品费最多保留两位小数$"):
            rules.check_money(value, "药品费")


class TestContentHash:
    def test_stable_and_canonical(self) -> None:
        a = {"total_cost": D("12.3"), "visit_date": dt.date(2025, 1, 2), "codes": ["I10"]}
        b = {"codes": ["I10"], "visit_date": dt.date(2025, 1, 2), "total_cost": D("12.30")}
        assert rules.content_hash(a) == rules.content_hash(b)
        assert len(rules.content_hash(a)) == 64

    def test_sensitive_to_any_change(self) -> None:
        a = {"total_cost": D("12.30"), "codes": ["I10"]}
        assert rules.content_hash(a) != rules.content_hash({**a, "total_cost": D("12.31")})
        assert rules.content_hash(a) != rules.content_hash({**a, "codes": ["I10", "E11.9"]})
