"""The indicator definitions: metadata as data, numerator and denominator as Ibis expressions.

Each computed indicator has a ``measure(t, period)`` that returns an Ibis table with one row per
contributing record: ``county_id``, ``township_id``, ``institution_id`` (null for what no member
institution did, e.g. a stay outside the county), ``category`` (``""`` unless the indicator is
broken down by a category such as the ICD-10 chapter), ``record_kind`` and ``record_id`` (the
encounter or external settlement behind the row, for drill-down), ``numerator`` and
``denominator``; the engine sums them up to each level the indicator rolls up to, per category. Codes ``nhc-01`` … ``nhc-14`` follow reference/standards.md §2 in order;
the names are verbatim [V], the 口径 (numerator and denominator) are inferred [I] as written there
and in docs/indicators.md. Indicators whose data later work adds are listed with status
``pending`` and no measure: the engine skips them and never invents a value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
from ibis import _

from yigongti.encounters.choices import ExternalKind, Setting
from yigongti.indicators.rules import Period
from yigongti.residents.choices import InsuranceType

MONEY = "decimal(38, 2)"
VISITS = (str(Setting.OUTPATIENT), str(Setting.EMERGENCY))  # 诊疗人次: 门急诊人次 [I]
INPATIENT = str(Setting.INPATIENT)
OUT_OF_COUNTY = str(ExternalKind.OUT_OF_COUNTY)
UNINSURED = str(InsuranceType.NONE)
COUNTY, TOWNSHIP, INSTITUTION = "county", "township", "institution"


@dataclass(frozen=True)
class Tables:
    """The snapshot as Ibis tables (see analytics/services.py for the columns), plus
    ``places``: institution_id → township_id, county_id, grassroots; ``homes``: resident_id →
    county_id."""

    encounters: Any
    settlements: Any
    places: Any
    homes: Any


Measure = Callable[[Tables, Period], Any]


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    dimension: str
    unit: str  # "%" | "元" | "人/万人" | ""
    direction: str  # "higher" | "lower" | ""
    scale: int  # value = numerator / denominator × scale
    target: str  # "" when the seeds set none
    target_source: str
    levels: tuple[str, ...]
    caliber: str  # 口径, in Chinese, as on the dashboard
    source_tag: str  # [V] / [S] / [I]
    status: str  # computed | evidence | pending
    measure: Measure | None = None
    # A category breakdown (e.g. "ICD-10 章"): results per category besides the total ("").
    category_label: str = ""


ENCOUNTER, SETTLEMENT = "encounter", "settlement"


def _shape(
    table: Any,
    numerator: Any,
    denominator: Any,
    *,
    outside: bool = False,
    category: Any = None,
) -> Any:
    """The measure's columns; ``outside`` rows (external settlements, no member institution)
    count for the county only."""
    return table.select(
        county_id=_.county_id.cast("int64"),
        township_id=(ibis.null() if outside else _.township_id).cast("int64"),
        institution_id=(ibis.null() if outside else _.institution_id).cast("int64"),
        category=(ibis.literal("") if category is None else category).cast("string"),
        record_kind=ibis.literal(SETTLEMENT if outside else ENCOUNTER),
        record_id=(_.settlement_id if outside else _.encounter_id).cast("int64"),
        numerator=numerator.cast(MONEY),
        denominator=denominator.cast(MONEY),
    )


def _member(t: Tables) -> Any:
    """Encounters with the place of their institution."""
    return t.encounters.join(t.places, "institution_id")


def _external(t: Tables) -> Any:
    """Out-of-county settlements (pharmacies excluded) with the resident's home county."""
    s = t.settlements.filter(_.kind == OUT_OF_COUNTY)
    return s.join(t.homes, "resident_id")


def _visits(t: Tables, p: Period) -> Any:
    return _member(t).filter(_.setting.isin(VISITS), _.visit_date.between(p.start, p.end))


def grassroots_visit_share(t: Tables, p: Period) -> Any:
    """nhc-07: 基层 诊疗人次 ÷ all 诊疗人次 at member institutions (visit date in period)."""
    v = _visits(t, p)
    return _shape(v, v.grassroots.cast("int64"), ibis.literal(1))


def tcm_visit_share(t: Tables, p: Period) -> Any:
    """nhc-12: 中医类 诊疗人次 ÷ all 诊疗人次 at member institutions."""
    v = _visits(t, p)
    return _shape(v, v.is_tcm.cast("int64"), ibis.literal(1))


def _settled_in(p: Period) -> Any:
    """An encounter is settled on discharge (stays) or on the visit day."""
    return ibis.coalesce(_.discharge_date, _.visit_date).between(p.start, p.end)


def in_county_fund_share(t: Tables, p: Period) -> Any:
    """nhc-08: fund paid at member institutions ÷ (that + fund paid outside the county);
    pharmacies excluded on both sides."""
    inside = _member(t).filter(_settled_in(p))
    outside = _external(t).filter(_.settlement_date.between(p.start, p.end))
    return _shape(inside, inside.fund_paid, inside.fund_paid).union(
        _shape(outside, ibis.literal(0), outside.fund_paid, outside=True), distinct=False
    )


def grassroots_fund_share(t: Tables, p: Period) -> Any:
    """nhc-09: fund paid at 基层 member institutions ÷ fund paid at all member institutions."""
    inside = _member(t).filter(_settled_in(p))
    grassroots_fund = ibis.ifelse(inside.grassroots, inside.fund_paid, 0)
    return _shape(inside, grassroots_fund, inside.fund_paid)


def _insured_stays(t: Tables, p: Period) -> Any:
    return _member(t).filter(
        _.setting == INPATIENT,
        _.insurance_type != UNINSURED,
        _.discharge_date.between(p.start, p.end),
    )


def in_county_cost_per_stay(t: Tables, p: Period) -> Any:
    """nhc-10: total cost of insured residents' in-county stays ÷ those stays (discharged in
    the period); the growth rate compares with the same period a year earlier."""
    s = _insured_stays(t, p)
    return _shape(s, s.total_cost, ibis.literal(1))


def in_county_stay_share(t: Tables, p: Period) -> Any:
    """nhc-11: insured residents' in-county stays ÷ all their stays (in county + out of
    county, by discharge or settlement date in the period)."""
    inside = _insured_stays(t, p)
    outside = _external(t).filter(
        _.setting == INPATIENT,
        _.insurance_type != UNINSURED,
        _.settlement_date.between(p.start, p.end),
    )
    return _shape(inside, ibis.literal(1), ibis.literal(1)).union(
        _shape(outside, ibis.literal(0), ibis.literal(1), outside=True), distinct=False
    )


ALL_LEVELS = (COUNTY, TOWNSHIP, INSTITUTION)
# Targets [V]: seed 002 (县医共体实施方案): "到2026年底…县域就诊率提高至90%…基层医疗卫生机构诊疗
# 人次占总诊疗人次的比例达到65%"; seed 000 set the same 90% / 65% for 2020.
TARGET_SOURCE = "seeds/002：到2026年底县域就诊率90%、基层诊疗人次占比65% [V]"

INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "nhc-01",
        "资源统一管理",
        "紧密型",
        "",
        "",
        1,
        "",
        "",
        (COUNTY,),
        "人事、财务、业务、药品、信息统一管理的制度安排与组织实施佐证",
        "[V]",
        "evidence",
    ),
    Indicator(
        "nhc-02",
        "医共体内部民主决策",
        "紧密型",
        "",
        "",
        1,
        "",
        "",
        (COUNTY,),
        "决策机构与决策记录佐证",
        "[V]",
        "evidence",
    ),
    Indicator(
        "nhc-03",
        "服务协同联动",
        "紧密型",
        "",
        "",
        1,
        "",
        "",
        (COUNTY,),
        "转诊、共享中心、医防协同运行佐证",
        "[V]",
        "evidence",
    ),
    Indicator(
        "nhc-04",
        "二级及以上医疗卫生机构中级及以上医师到基层医疗卫生机构派驻人数（人）/每万常住人口",
        "同质化",
        "人/万人",
        "higher",
        10000,
        "",
        "",
        (COUNTY,),
        "派驻基层的中级及以上医师人数 ÷ 常住人口 × 10000（需派驻台账）",
        "[I]",
        "pending",
    ),
    Indicator(
        "nhc-05",
        "影像心电中心服务开展与心电设备村级覆盖率",
        "同质化",
        "%",
        "higher",
        100,
        "",
        "",
        (COUNTY,),
        "配备联网心电设备的村卫生室 ÷ 全部村卫生室（需设备台账）",
        "[I]",
        "pending",
    ),
    Indicator(
        "nhc-06",
        "基层医疗卫生机构人均收入与牵头医院人均收入的比值",
        "同质化",
        "",
        "higher",
        1,
        "",
        "",
        (COUNTY,),
        "基层人均收入 ÷ 牵头医院人均收入（需薪酬数据）",
        "[I]",
        "pending",
    ),
    Indicator(
        "nhc-07",
        "县域内基层医疗卫生机构诊疗人次数占比",
        "促分工",
        "%",
        "higher",
        100,
        "65",
        TARGET_SOURCE,
        ALL_LEVELS,
        "基层医疗卫生机构（乡镇卫生院、社区卫生服务中心/站、村卫生室）门急诊人次 ÷ 县域内成员机构门急诊人次",
        "[I]",
        "computed",
        grassroots_visit_share,
    ),
    Indicator(
        "nhc-08",
        "医保基金县域内支出占比（不含药店）",
        "促分工",
        "%",
        "higher",
        100,
        "",
        "",
        (COUNTY,),
        "县域内成员机构医保统筹基金支出 ÷（县域内 + 县域外医疗机构统筹基金支出），不含定点药店",
        "[I]",
        "computed",
        in_county_fund_share,
    ),
    Indicator(
        "nhc-09",
        "县域内基层医疗卫生机构医保基金支出占比",
        "促分工",
        "%",
        "higher",
        100,
        "",
        "",
        ALL_LEVELS,
        "基层医疗卫生机构医保统筹基金支出 ÷ 县域内成员机构医保统筹基金支出",
        "[I]",
        "computed",
        grassroots_fund_share,
    ),
    Indicator(
        "nhc-10",
        "参保人在县域内住院人均费用（元）及增长率",
        "提效能",
        "元",
        "lower",
        1,
        "",
        "",
        ALL_LEVELS,
        "参保人县域内住院总费用 ÷ 出院人次（按出院日期），增长率与上年同期比",
        "[I]",
        "computed",
        in_county_cost_per_stay,
    ),
    Indicator(
        "nhc-11",
        "参保人县域内住院人次占比",
        "提效能",
        "%",
        "higher",
        100,
        "90",
        TARGET_SOURCE,
        (COUNTY,),
        "参保人县域内住院人次 ÷（县域内 + 县域外住院人次）",
        "[I]",
        "computed",
        in_county_stay_share,
    ),
    Indicator(
        "nhc-12",
        "县域内中医类诊疗量占比",
        "提效能",
        "%",
        "higher",
        100,
        "",
        "",
        ALL_LEVELS,
        "中医类门急诊人次 ÷ 县域内成员机构门急诊人次",
        "[I]",
        "computed",
        tcm_visit_share,
    ),
    Indicator(
        "nhc-13",
        "县域内慢性病健康管理人群住院率",
        "保健康",
        "%",
        "lower",
        100,
        "",
        "",
        (COUNTY,),
        "纳入管理的高血压、2型糖尿病患者中年内住院者 ÷ 纳入管理人数（需慢病登记）",
        "[I]",
        "pending",
    ),
    Indicator(
        "nhc-14",
        "县域内四类慢性病过早死亡率",
        "保健康",
        "%",
        "lower",
        100,
        "",
        "",
        (COUNTY,),
        "30–70岁人群因心脑血管疾病、癌症、慢性呼吸系统疾病和糖尿病死亡的概率（需死因监测）",
        "[I]",
        "pending",
    ),
)


def get(code: str) -> Indicator:
    for indicator in INDICATORS:
        if indicator.code == code:
            return indicator
    raise KeyError(f"未知指标“{code}”")
