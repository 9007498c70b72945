"""Pure kernel rules: masking, the audit hash chain, policy-parameter resolution.

No ORM, no clock, no HTTP: everything the functions need is passed in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64

# ---------------------------------------------------------------------------
# Masking (DESIGN.md "Security model"; domain-rules.md §9.3 rule 3)
# ---------------------------------------------------------------------------


def mask_id_number(value: str | None) -> str:
    """``110101199003071234`` → ``110101********1234`` (first 6 and last 4 kept)."""
    if not value:
        return ""
    value = value.strip()
    if len(value) <= 10:
        return value[:2] + "*" * max(len(value) - 2, 0)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """``13812345678`` → ``138****5678``; a landline keeps its area code and last 4."""
    if not value:
        return ""
    value = value.strip()
    if len(value) == 11 and value.isdigit():
        return value[:3] + "****" + value[-4:]
    if len(value) <= 4:
        return "*" * len(value)
    return value[: max(len(value) - 8, 0)] + "****" + value[-4:]


def mask_name(value: str | None) -> str:
    """``张三`` → ``张*``; ``张小明`` → ``张*明``; ``欧阳小明`` → ``欧**明``."""
    if not value:
        return ""
    value = value.strip()
    if len(value) == 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_address(township_name: str | None) -> str:
    """Addresses in lists and exports stop at the township (乡镇/街道)."""
    return (township_name or "") + "***" if township_name else ""


# ---------------------------------------------------------------------------
# Audit hash chain
# ---------------------------------------------------------------------------

AUDIT_HASH_FIELDS = (
    "seq",
    "occurred_at",
    "actor_username",
    "actor_role",
    "actor_institution_code",
    "action",
    "resource_type",
    "resource_id",
    "subject_resident_id",
    "basis",
    "purpose",
    "detail",
    "client_ip",
    "channel",
)


def _canonical(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def audit_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and the event's fields in a canonical JSON form."""
    payload = {name: _canonical(fields.get(name)) for name in AUDIT_HASH_FIELDS}
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + "|" + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def verify_chain(events: Iterable[Mapping[str, Any]]) -> ChainVerdict:
    """Walk events in ascending ``seq``; report the first gap, reordering or altered row."""
    prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in events:
        seq = event["seq"]
        if seq != expected_seq:
            return ChainVerdict(False, checked, seq, f"序号不连续：应为 {expected_seq}，实为 {seq}")
        if event["prev_hash"] != prev:
            return ChainVerdict(False, checked, seq, f"第 {seq} 条的前序哈希与上一条不符")
        if audit_hash(prev, event) != event["hash"]:
            return ChainVerdict(False, checked, seq, f"第 {seq} 条内容与其哈希不符（可能被篡改）")
        prev = event["hash"]
        expected_seq += 1
        checked += 1
    return ChainVerdict(True, checked)


# ---------------------------------------------------------------------------
# Policy parameters: versioned values, resolved for the date of the event judged
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ParameterVersion:
    key: str
    region_code: str
    effective_from: dt.date
    effective_to: dt.date | None
    value: Any
    source: str


def resolve_parameter(
    versions: Iterable[ParameterVersion], key: str, on: dt.date, region_code: str = ""
) -> ParameterVersion | None:
    """The version in force on ``on``; the most specific region (longest matching prefix) wins."""
    best: ParameterVersion | None = None
    for version in versions:
        if version.key != key:
            continue
        if version.region_code and not region_code.startswith(version.region_code):
            continue
        if version.effective_from > on:
            continue
        if version.effective_to is not None and version.effective_to < on:
            continue
        if best is None or (len(version.region_code), version.effective_from) > (
            len(best.region_code),
            best.effective_from,
        ):
            best = version
    return best


# The defaults the platform ships; each cites where its value comes from. Counties edit or
# add versions in the admin; the `policyparams` command loads these.
DEFAULT_PARAMETERS: tuple[ParameterVersion, ...] = (
    ParameterVersion(
        "audit.retention_days",
        "",
        dt.date(2017, 6, 1),
        None,
        184,
        "网络安全法第二十一条：网络日志留存不少于六个月；六个自然月最长 184 天 "
        "(reference/domain-rules.md §9.3 [V]/[S])",
    ),
    ParameterVersion(
        "access.referral_days_after_close",
        "",
        dt.date(2020, 1, 1),
        None,
        30,
        "转诊接收机构在转诊关闭后限时查阅，示例为关闭后 30 天 (reference/domain-rules.md §9.3 rule 2 [I])",
    ),
    ParameterVersion(
        "access.treating_days_after_encounter",
        "",
        dt.date(2020, 1, 1),
        None,
        365,
        "诊疗机构在就诊（出院）后限时查阅居民档案，平台默认 365 天 "
        "(DESIGN.md, Security model: treating encounter; platform default [I])",
    ),
    ParameterVersion(
        "indicators.amber_band",
        "",
        dt.date(2020, 1, 1),
        None,
        "0.9",
        "指标看板红黄绿：达到目标为绿，达到目标的 90% 为黄，其余为红；越低越好的指标反之 "
        "(platform default [I]; issue #5 asks for red/amber/green against targets)",
    ),
    ParameterVersion(
        "indicators.evidence_max_mb",
        "",
        dt.date(2020, 1, 1),
        None,
        20,
        "证据登记（nhc-01…03）单个文件大小上限 20 MB：扫描版制度文件、会议纪要可容纳，"
        "又不致拖慢乡镇网络 (product default [I]; issue #5 item 2)",
    ),
    ParameterVersion(
        "scheduling.reserved_slot_share",
        "",
        dt.date(2023, 1, 1),
        None,
        "1/3",
        "牵头医院至少将 1/3 的门诊号源预留家庭医生签约服务团队或基层医疗卫生机构 "
        "(seeds/004 §9 [V])",
    ),
    ParameterVersion(
        "scheduling.reserved_bed_share",
        "",
        dt.date(2023, 1, 1),
        None,
        "1/4",
        "牵头医院至少将 1/4 的住院床位预留家庭医生签约服务团队或基层医疗卫生机构 "
        "(seeds/004 §9 [V])",
    ),
    ParameterVersion(
        "scheduling.child_max_age",
        "",
        dt.date(2020, 1, 1),
        None,
        14,
        "儿科接诊 14 周岁及以下的患者，年龄按就诊日计 (common hospital practice: 儿科 sees "
        "children aged 0–14; no seed sets it; platform default [I])",
    ),
    ParameterVersion(
        "scheduling.bed_hold_grace_days",
        "",
        dt.date(2020, 1, 1),
        None,
        1,
        "预留床位保留至预计入院日后 1 天，逾期未入院不再占用床位 (common hospital practice; "
        "no seed sets it; platform default [I])",
    ),
    ParameterVersion(
        "scheduling.public_release_days",
        "",
        dt.date(2020, 1, 1),
        None,
        7,
        "公众号源提前 7 天放号 (common hospital practice; platform default [I])",
    ),
    ParameterVersion(
        "scheduling.reserved_lead_days",
        "",
        dt.date(2020, 1, 1),
        None,
        7,
        "基层预留号源比公众号源再提前 7 天开放 (issue #6: released N days earlier; "
        "platform default [I])",
    ),
    ParameterVersion(
        "scheduling.reserved_cutoff_hours",
        "",
        dt.date(2020, 1, 1),
        None,
        24,
        "就诊前 24 小时仍未约出的预留号源转为公众号源 (issue #6: unused reserved slots return "
        "at a cut-off; platform default [I])",
    ),
    ParameterVersion(
        "scheduling.no_show_grace_minutes",
        "",
        dt.date(2020, 1, 1),
        None,
        30,
        "就诊时间后 30 分钟未到诊方可登记爽约 (domain-rules.md §3.3 no-show window; "
        "platform default [I])",
    ),
    ParameterVersion(
        "referrals.acceptance_hours",
        "",
        dt.date(2020, 1, 1),
        None,
        24,
        "转诊接收时限：普通转诊 24 小时（加急为其四分之一），急危重症提交即接收 "
        "(reference/domain-rules.md §3.3 acceptance SLA e.g. 24 h [I]; issue #6)",
    ),
    ParameterVersion(
        "referrals.no_show_hours",
        "",
        dt.date(2020, 1, 1),
        None,
        48,
        "预约就诊或入院时间后 48 小时未到诊记为未到诊 (domain-rules.md §3.3 no-show window; "
        "platform default [I])",
    ),
    ParameterVersion(
        "referrals.follow_up_days_after_up",
        "",
        dt.date(2017, 1, 1),
        None,
        14,
        "上转后原基层机构 2 周内随访 (国家基本公共卫生服务规范第三版，高血压/糖尿病转诊后 2 周内"
        "主动随访；domain-rules.md §3.3 [V])",
    ),
    ParameterVersion(
        "referrals.follow_up_days_after_down",
        "",
        dt.date(2020, 1, 1),
        None,
        7,
        "下转接收机构 7 天内随访接诊 (domain-rules.md §3.3: receiver should see the patient "
        "within N days [I])",
    ),
    ParameterVersion(
        "referrals.green_channel_benefits",
        "",
        dt.date(2024, 1, 1),
        None,
        ["免挂号费", "优先接诊", "优先检查", "优先住院"],
        "经家庭医生上转的患者享受“一免三优先”：免挂号费、优先接诊、优先检查、优先住院 "
        "(seeds/002 [V])",
    ),
    ParameterVersion(
        "insurance.inpatient_benefit_table",
        "",
        dt.date(2024, 1, 1),
        None,
        [
            {
                "insurance": "resident",
                "level": "grassroots",
                "referred": True,
                "deductible": "200",
                "rate": "0.90",
                "cap": "150000",
            },
            {
                "insurance": "resident",
                "level": "grassroots",
                "referred": False,
                "deductible": "200",
                "rate": "0.90",
                "cap": "150000",
            },
            {
                "insurance": "resident",
                "level": "county",
                "referred": True,
                "deductible": "500",
                "rate": "0.80",
                "cap": "150000",
            },
            {
                "insurance": "resident",
                "level": "county",
                "referred": False,
                "deductible": "500",
                "rate": "0.80",
                "cap": "150000",
            },
            {
                "insurance": "resident",
                "level": "city",
                "referred": True,
                "deductible": "1000",
                "rate": "0.65",
                "cap": "150000",
            },
            {
                "insurance": "resident",
                "level": "city",
                "referred": False,
                "deductible": "1000",
                "rate": "0.55",
                "cap": "150000",
            },
            {
                "insurance": "resident",
                "level": "province",
                "referred": True,
                "deductible": "1500",
                "rate": "0.60",
                "cap": "150000",
            },
            {
                "insurance": "resident",
                "level": "province",
                "referred": False,
                "deductible": "1500",
                "rate": "0.50",
                "cap": "150000",
            },
            {
                "insurance": "employee",
                "level": "grassroots",
                "referred": True,
                "deductible": "300",
                "rate": "0.92",
                "cap": "300000",
            },
            {
                "insurance": "employee",
                "level": "grassroots",
                "referred": False,
                "deductible": "300",
                "rate": "0.92",
                "cap": "300000",
            },
            {
                "insurance": "employee",
                "level": "county",
                "referred": True,
                "deductible": "600",
                "rate": "0.88",
                "cap": "300000",
            },
            {
                "insurance": "employee",
                "level": "county",
                "referred": False,
                "deductible": "600",
                "rate": "0.88",
                "cap": "300000",
            },
            {
                "insurance": "employee",
                "level": "city",
                "referred": True,
                "deductible": "1000",
                "rate": "0.85",
                "cap": "300000",
            },
            {
                "insurance": "employee",
                "level": "city",
                "referred": False,
                "deductible": "1000",
                "rate": "0.75",
                "cap": "300000",
            },
            {
                "insurance": "employee",
                "level": "province",
                "referred": True,
                "deductible": "1200",
                "rate": "0.80",
                "cap": "300000",
            },
            {
                "insurance": "employee",
                "level": "province",
                "referred": False,
                "deductible": "1200",
                "rate": "0.70",
                "cap": "300000",
            },
        ],
        "住院报销：险种 × 机构级别 × 是否转诊 → 起付线、报销比例、年度封顶；城乡居民基层 85–90% > "
        "县级 75–80% > 市级 60–70%，起付线逐级提高；未经转诊到县外降低 10 个百分点 "
        "(reference/domain-rules.md §3.4 [M]，各县以当地医保政策为准)",
    ),
    ParameterVersion(
        "insurance.readmission_check_days",
        "",
        dt.date(2020, 1, 1),
        None,
        28,
        "两次住院间隔 28 天内核查分解住院；转诊往返不受此限 (domain-rules.md §3.3 长沙 rule [V])",
    ),
    ParameterVersion(
        "mpi.duplicate_rule",
        "",
        dt.date(2020, 1, 1),
        None,
        ["name", "birth_date", "village_code"],
        "主索引疑似重复：姓名、出生日期、所在村相同 (issue #3)",
    ),
)
