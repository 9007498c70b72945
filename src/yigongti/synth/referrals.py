"""Generated two-way referrals consistent with the generated encounters (issue #6 item 8).

For ``demo`` and ``county``, after the year of encounters: up-referrals (基层 → 县级) matched to
the encounter data, down-referrals (县级 → 基层, including the 回转 of up-referred patients),
their events, the closed loop's follow-up tasks and the receiving institutions' time-boxed
access, as at ``AS_OF_TIME``.

Calibration, reference/calibration.md §6 [EST, no county report found]: "Counts about 2:1 to
4:1. Up-referrals about 3-6% of THC inpatients; down-referrals about 1-3% of county-hospital
discharges." The figures are the defaults of ``Rates``; every other share there is [I].

- **Up**: a township-centre stay followed by a county-hospital stay of the same resident that
  starts during it or within ``WINDOW_DAYS`` of its discharge, and a county stay preceded by a
  village-clinic or township outpatient visit within ``WINDOW_DAYS``. The encounters are drawn
  independently per setting (synth/encounters.py), so such pairs are only as frequent as chance
  makes them; the township-stay share is capped by the pairs that exist and the rest of the
  up-referrals come from outpatient visits. Submitted on the grassroots day by the encounter's
  doctor, accepted within the deadline (a few late), arrived and admitted on the county
  admission day, completed on discharge, closed when the originating institution's follow-up is
  done. A few percent are rejected (with a reason), expired or cancelled (grassroots encounters
  with no county stay after them), and a few are still open on the as-of day.
- **Down**: ``Rates.down_share`` of county discharges, to the patient's township centre, a share
  of them the 回转 of up-referrals (``parent`` set, the up-referral 已回转). A patient who has a
  grassroots encounter at that centre in the two weeks after discharge arrives on that day;
  the others have not come (the centre's task is overdue, or an older one was recorded
  未到诊).

Writing: the generated doctors have no user accounts, so ``referrals.services`` (which act for
a logged-in user) cannot write these rows; they are written with ``bulk_create`` like the
encounters' bulk path, and the guarantees are kept another way: every referral's events are a
path of ``referrals.rules.MOVES`` made by a side allowed to make each move, with reasons where
required (``check_plans`` asserts it before anything is written), the record's times are read
off its events, and numbers are ``ZZ`` + local creation date + the zero-padded id as
``services.do_create_referral`` makes them. No audit events are written for generated history
(as for generated encounters). Deterministic: one ``Generator(PCG64([seed, SALT]))``, rows read
in key order, no wall clock.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
from django.core.management.color import no_style
from django.db import connection
from django.utils import timezone

from yigongti.core.choices import AccessBasis
from yigongti.core.queries import parameter_resolver
from yigongti.encounters.choices import Setting
from yigongti.encounters.models import Encounter, ExternalSettlement
from yigongti.encounters.queries import get_code_names
from yigongti.organizations.choices import InstitutionType
from yigongti.organizations.models import Institution
from yigongti.referrals import rules
from yigongti.referrals.choices import Direction, Status, TaskKind, TaskStatus, Urgency
from yigongti.referrals.models import FollowUpTask, Referral, ReferralEvent
from yigongti.residents.models import CareRelationship, Resident
from yigongti.staff.choices import Profession
from yigongti.staff.models import Practitioner
from yigongti.synth.personas import AS_OF, AS_OF_TIME

ProgressCallback = Callable[[str, int, int], None]

STAGE = "生成转诊记录"
SALT = 6_0608  # separates this stream from the population's and the encounters'
WINDOW_DAYS = 14  # grassroots encounter → county admission
FOLLOW_ON_DAYS = 14  # county discharge → arrival at the township centre
GAP_SCALE = 3.0  # days: how fast the chance of an outpatient pair falls with its gap [I]
CARE_SOURCE = "referral"  # as referrals.services grants it
SYSTEM_NAME = "referrals"  # by_name of system moves, as services' AuditContext.system
BATCH = 1000
NUMBER = re.compile(r"^ZZ\d{8}\d{6,}$")

COUNTY_TYPES = (
    InstitutionType.GENERAL_HOSPITAL,
    InstitutionType.TCM_HOSPITAL,
    InstitutionType.MCH_HOSPITAL,
)
CENTRE_TYPES = (InstitutionType.TOWNSHIP_HEALTH_CENTRE, InstitutionType.COMMUNITY_HEALTH_CENTRE)
CLINIC_TYPES = (InstitutionType.VILLAGE_CLINIC, InstitutionType.COMMUNITY_HEALTH_STATION)
# Grassroots diagnoses a doctor would refer up (chronic, cardiovascular, respiratory, joints);
# colds, rashes and diarrhoea are not [I].
REFERABLE = frozenset(
    {"I10", "E11.9", "I25.1", "I69.3", "J44.9", "J44.1", "J18.9", "J20.9", "K29.7", "M17.9",
     "M51.2", "M54.5", "K35.8", "K40.9", "S52.5"}
)  # fmt: skip


@dataclass(frozen=True)
class Rates:
    """Target shares. The first three are calibration.md §6 [EST]; the rest [I]."""

    up_from_thc_stays: float = 0.045  # of township-centre stays ("3-6 % of THC inpatients")
    down_share: float = 0.018  # of county-hospital discharges ("1-3 %")
    up_per_down: float = 3.0  # up : down ("2:1 to 4:1")
    return_share: float = 0.4  # of down-referrals: the 回转 of up-referred patients
    rejected: float = 0.03  # of up-referrals
    expired: float = 0.015
    cancelled: float = 0.02
    still_open: float = 0.025  # submitted, received or accepted on the last days
    late_accept: float = 0.05  # of up-referrals admitted two days or more after submission
    task_never_done: float = 0.06  # after-up tasks the originating institution never did
    task_late: float = 0.10  # after-up tasks done after their due day
    down_no_show: float = 0.15  # plain down-referrals whose patient never reached the centre


# Texts (Chinese, user-facing) -----------------------------------------------------------------

UP_REASONS = (
    "{dx}，基层医疗机构诊治条件有限，需上级医院进一步检查和治疗",
    "{dx}，病情较重，需住院治疗",
    "{dx}，诊断不明确，需专科会诊明确诊断",
    "{dx}，经基层治疗效果不佳，病情加重",
)
EMERGENCY_REASON = "{dx}，病情危重，已电话联系接收科室，需立即转上级医院救治"
DOWN_REASON = "住院治疗后病情稳定，转回基层继续治疗与康复"
RETURN_REASON = "上转单 {number} 诊疗结束，病情稳定，转回基层继续治疗与康复"  # as services
FINDINGS = "血常规、生化、影像学等检查已完成，结果详见出院小结"
REJECT_REASONS = (
    "本院相关专科床位已满，建议转往县中医医院",
    "病情稳定，建议在基层继续治疗并观察",
    "转诊资料不全，请补充近期检查结果后重新提交",
    "病情超出本院诊治能力，建议直接转县外上级医院",
)
CANCEL_REASONS = (
    "患者及家属要求暂不转诊",
    "患者病情好转，暂不需要转诊",
    "患者选择自行前往县外医院就诊",
)
EXPIRED_NOTE, EXPIRED_REASON = "超过接收时限", "超过接收时限未接收"  # as services
NO_SHOW_NOTE = "患者出院后未到基层机构接诊"
EMERGENCY_NOTE = "急危重症：提交即接收"  # as services
CLOSE_NOTE = "随访已确认"
UP_TASK_NOTES = (
    "电话随访：已在县级医院住院治疗，病情平稳",
    "电话随访：已出院，遵医嘱服药，症状明显缓解",
    "入户随访：已出院回家，饮食起居正常，已预约基层复诊",
)
DOWN_TASK_NOTES = (
    "患者已到院接诊，按康复方案继续治疗",
    "已建立康复随访计划，首次随访生命体征平稳",
)
# 下一步治疗方案及康复建议 by the first letter of the discharge diagnosis; a small set [I].
REHAB_PLANS = {
    "I": "规律服用降压、抗血小板及调脂药物，监测血压；低盐低脂饮食，循序渐进进行肢体功能"
    "康复训练；2周后基层复诊，如胸闷胸痛、肢体无力加重立即就诊。",
    "J": "按疗程完成口服抗感染治疗，注意休息与保暖，进行呼吸功能锻炼；1周后基层复查血常规"
    "及肺部体征，如发热、气促加重及时复诊。",
    "S": "患肢制动与功能锻炼相结合，按时换药，观察伤口及肢端血运；2周后基层复查，4周后回"
    "县级医院骨科复查影像。",
    "E": "继续降糖治疗，监测空腹及餐后血糖，糖尿病饮食与运动指导；每月基层随访一次，3个月"
    "后复查糖化血红蛋白。",
    "O": "产后康复指导，支持母乳喂养，观察恶露与伤口情况；产后42天到基层或县妇幼保健院复查。",
    "C": "继续对症支持与营养支持治疗，做好疼痛评估与管理；按计划回县级医院复查或继续治疗，"
    "基层每2周随访一次。",
    "": "按出院医嘱继续口服药物治疗，清淡饮食，适量活动；1周后基层复诊，如症状复发或加重及时就诊。",
}
REHAB_PLANS["M"] = REHAB_PLANS["S"]
REHAB_PLANS["Z"] = REHAB_PLANS["C"]


def rehab_plan(code: str) -> str:
    return REHAB_PLANS.get(code[:1], REHAB_PLANS[""])


# Data read from the database --------------------------------------------------------------------


class Enc(NamedTuple):
    id: int
    resident: int
    inst: int
    dept: int | None
    doctor: int | None
    setting: str
    visit: dt.date
    end: dt.date  # discharge for a stay, the visit day otherwise
    dx: str
    external_id: str
    deductible: Decimal
    stay: bool


ENC_FIELDS = (
    "pk",
    "resident_id",
    "institution_id",
    "department_id",
    "doctor_id",
    "setting",
    "visit_date",
    "discharge_date",
    "principal_diagnosis",
    "external_id",
    "deductible",
)


def _enc(row: tuple[Any, ...]) -> Enc:
    stay = row[5] == Setting.INPATIENT
    pk, resident, inst, dept, doctor, setting, visit, discharge, dx, external_id, ded = row
    end = discharge if stay and discharge else visit
    return Enc(pk, resident, inst, dept, doctor, setting, visit, end, dx, external_id, ded, stay)


@dataclass
class Place:
    id: int
    name: str
    inst_type: str
    parent: int | None
    medcom: int | None


@dataclass
class Data:
    places: dict[int, Place]
    county_stays: list[Enc]
    grassroots: list[Enc]  # of residents with a county stay
    by_resident: dict[int, list[Enc]]  # grassroots encounters, by (visit, id)
    stays_by_resident: dict[int, list[Enc]]
    centre_of: dict[int, int]  # resident → township centre
    chronic: dict[int, tuple[bool, bool]]
    doctors: dict[int, list[tuple[int, str, str]]]  # institution → (id, name, phone)
    doctor_info: dict[int, tuple[str, str]]
    contracts: dict[tuple[int, int], list[tuple[dt.date, dt.date | None, int | None]]]
    n_thc_stays: int
    grassroots_ids: frozenset[int]
    thc_pairs: int = 0  # township-stay → county-stay pairs the encounters offer


def _load() -> Data:
    places = {
        i.pk: Place(i.pk, i.name, i.inst_type, i.parent_id, i.medcom_id)
        for i in Institution.objects.filter(medcom__isnull=False, is_active=True).order_by("pk")
    }
    county = [p.id for p in places.values() if p.inst_type in COUNTY_TYPES]
    grassroots = [p.id for p in places.values() if p.inst_type in CENTRE_TYPES + CLINIC_TYPES]
    centres = [p.id for p in places.values() if p.inst_type in CENTRE_TYPES]
    stays_qs = Encounter.objects.filter(setting=Setting.INPATIENT, institution_id__in=county)
    county_stays = [_enc(r) for r in stays_qs.order_by("pk").values_list(*ENC_FIELDS)]
    with_stay = stays_qs.values("resident_id")
    grass = [
        _enc(r)
        for r in Encounter.objects.filter(
            institution_id__in=grassroots,
            resident_id__in=with_stay,
            setting__in=(Setting.OUTPATIENT, Setting.INPATIENT),
        )
        .order_by("pk")
        .values_list(*ENC_FIELDS)
    ]
    by_resident: dict[int, list[Enc]] = {}
    for e in grass:
        by_resident.setdefault(e.resident, []).append(e)
    for rows in by_resident.values():
        rows.sort(key=lambda e: (e.visit, e.id))
    stays_by_resident: dict[int, list[Enc]] = {}
    for e in county_stays:
        stays_by_resident.setdefault(e.resident, []).append(e)
    for rows in stays_by_resident.values():
        rows.sort(key=lambda e: (e.visit, e.id))
    # The resident's township centre, as synth/encounters.py maps it (the township's code).
    centre_by_code = {
        code: pk
        for pk, code in Institution.objects.filter(pk__in=centres)
        .order_by("-pk")
        .values_list("pk", "service_division__code")
        if code
    }
    centre_of: dict[int, int] = {}
    chronic: dict[int, tuple[bool, bool]] = {}
    for pk, code, htn, dm in (
        Resident.objects.filter(pk__in=with_stay)
        .order_by("pk")
        .values_list("pk", "division_code", "has_hypertension", "has_diabetes")
    ):
        centre = centre_by_code.get((code or "")[:9] + "000")
        if centre is not None:
            centre_of[pk] = centre
        chronic[pk] = (htn, dm)
    doctors: dict[int, list[tuple[int, str, str]]] = {}
    doctor_info: dict[int, tuple[str, str]] = {}
    for pk, name, phone, employer in (
        Practitioner.objects.filter(
            employer_id__in=list(places),
            profession__in=(Profession.PHYSICIAN, Profession.VILLAGE_DOCTOR),
        )
        .order_by("employer_id", "code")
        .values_list("pk", "name", "phone", "employer_id")
    ):
        doctors.setdefault(employer, []).append((pk, name, phone))
        doctor_info[pk] = (name, phone)
    contracts: dict[tuple[int, int], list[tuple[dt.date, dt.date | None, int | None]]] = {}
    for resident, inst, start, end, doctor in (
        CareRelationship.objects.filter(kind=AccessBasis.FAMILY_DOCTOR)
        .order_by("pk")
        .values_list("resident_id", "institution_id", "valid_from", "valid_to", "practitioner_id")
    ):
        contracts.setdefault((resident, inst), []).append((start, end, doctor))
    n_thc_stays = Encounter.objects.filter(
        setting=Setting.INPATIENT, institution_id__in=centres
    ).count()
    return Data(
        places=places,
        county_stays=county_stays,
        grassroots=grass,
        by_resident=by_resident,
        stays_by_resident=stays_by_resident,
        centre_of=centre_of,
        chronic=chronic,
        doctors=doctors,
        doctor_info=doctor_info,
        contracts=contracts,
        n_thc_stays=n_thc_stays,
        grassroots_ids=frozenset(grassroots),
    )


# Plans: what will be written, with the events that made each referral ----------------------------


class Ev(NamedTuple):
    from_status: str
    to_status: str
    at: dt.datetime
    side: str  # rules.SENDER | RECEIVER | SYSTEM
    by_name: str
    note: str


@dataclass
class TaskPlan:
    kind: str
    institution: int
    due_on: dt.date
    status: str = TaskStatus.OPEN
    done_at: dt.datetime | None = None
    note: str = ""


@dataclass
class Plan:
    """One referral to write; ``status`` is wherever its events stopped."""

    direction: str
    resident: int
    from_inst: int
    to_inst: int
    urgency: str = Urgency.ROUTINE
    from_doctor: int | None = None
    to_dept: int | None = None
    diagnosis: str = ""
    impression: str = ""
    reason: str = ""
    history: str = ""
    treatment: str = ""
    contact_phone: str = ""
    result_diagnosis: str = ""
    inpatient_number: str = ""
    findings: str = ""
    rehab_plan: str = ""
    green: list[str] = field(default_factory=list)
    deductible: Decimal = Decimal(0)
    parent: Plan | None = None
    kind: str = ""  # thc_stay | outpatient | rejected | expired | cancelled | open | down | return
    source: int | None = None  # the grassroots encounter (up) or the county stay (down)
    stay: int | None = None  # the county stay an up-referral led to
    events: list[Ev] = field(default_factory=list)
    status: str = ""
    deadline_at: dt.datetime | None = None
    end_reason: str = ""
    task: TaskPlan | None = None
    id: int = 0
    number: str = ""
    stopped: bool = False

    def move(self, to: str, at: dt.datetime, side: str, by: str, note: str = "") -> bool:
        """Record a move made at ``at``; a move after the as-of time has not happened (yet),
        and nothing after it has either."""
        if self.stopped or self.status in rules.FINAL:
            return False
        at = at.replace(microsecond=0)
        if at > AS_OF_TIME:
            self.stopped = True
            return False
        if self.events and at < self.events[-1].at:
            raise AssertionError(f"转诊事件时间倒序：{self.kind} {self.status}→{to}")
        self.events.append(Ev(self.status, to, at, side, by[:64], note[:200]))
        self.status = to
        return True

    def at_of(self, status: str) -> dt.datetime | None:
        for e in self.events:
            if e.to_status == status:
                return e.at
        return None

    @property
    def created_at(self) -> dt.datetime:
        return self.events[0].at


TZ = timezone.get_fixed_timezone(8 * 60)  # Asia/Shanghai has had no daylight saving since 1991


def local(day: dt.date, hours: float) -> dt.datetime:
    """A UTC time ``hours`` after local midnight of ``day``."""
    start = dt.datetime(day.year, day.month, day.day, tzinfo=TZ)
    return (start + dt.timedelta(seconds=round(hours * 3600))).astimezone(dt.UTC)


def local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(TZ).date()


class Planner:
    def __init__(self, data: Data, rates: Rates, rng: np.random.Generator):
        self.d = data
        self.rates = rates
        self.rng = rng
        self.r = random.Random(int(rng.integers(0, 2**62)))
        self.names = get_code_names(
            {e.dx for e in data.county_stays} | {e.dx for e in data.grassroots}
        )
        self.accept_hours = parameter_resolver(rules.ACCEPT_HOURS_KEY)
        self.up_days = parameter_resolver(rules.FOLLOW_UP_UP_DAYS_KEY)
        self.down_days = parameter_resolver(rules.FOLLOW_UP_DOWN_DAYS_KEY)
        self.benefits = parameter_resolver(rules.GREEN_CHANNEL_KEY)

    # -- helpers ------------------------------------------------------------------------------

    def u(self, low: float, high: float) -> float:
        return self.r.uniform(low, high)

    def pick(self, options: tuple[str, ...]) -> str:
        return options[self.r.randrange(len(options))]

    def dx_name(self, code: str) -> str:
        return self.names.get(code, code)

    def doctor_name(self, doctor: int | None, inst: int) -> str:
        if doctor is not None and doctor in self.d.doctor_info:
            return self.d.doctor_info[doctor][0]
        return self.d.places[inst].name

    def any_doctor(self, inst: int) -> int | None:
        pool = self.d.doctors.get(inst, [])
        return pool[self.r.randrange(len(pool))][0] if pool else None

    def history(self, resident: int, *codes: str) -> str:
        """主要既往史 from the registry flags and the encounters' own diagnoses."""
        htn, dm = self.d.chronic.get(resident, (False, False))
        htn = htn or any(c.startswith("I10") for c in codes)
        dm = dm or any(c.startswith("E11") for c in codes)
        known = [label for flag, label in ((htn, "高血压"), (dm, "2型糖尿病")) if flag]
        return f"{'、'.join(known)}病史" if known else "否认高血压、糖尿病等慢性病史"

    def green_for(self, resident: int, inst: int, day: dt.date) -> tuple[list[str], int | None]:
        """一免三优先 when the resident's family-doctor contract is with the sending
        institution on that day (rules.green_channel); the contracted doctor refers."""
        for start, end, doctor in self.d.contracts.get((resident, inst), []):
            if start <= day and (end is None or end >= day):
                return rules.green_channel(Direction.UP, True, self.benefits(day)), doctor
        return [], None

    def submit(self, p: Plan, day: dt.date, hours: float, lead: float = 0) -> dt.datetime:
        """Draft ``lead`` minutes before (a few by default), then submit; the follow-up task
        (services._submit for an up-referral, do_return_down for a down-referral)."""
        at = local(day, hours)
        sender = self.doctor_name(p.from_doctor, p.from_inst)
        lead = lead or self.u(3, 20)
        p.move(Status.DRAFT, at - dt.timedelta(minutes=lead), rules.SENDER, sender)
        p.move(Status.SUBMITTED, at, rules.SENDER, sender)
        p.deadline_at = rules.acceptance_deadline(at, p.urgency, int(self.accept_hours(day)))
        if p.direction == Direction.UP:
            p.task = TaskPlan(
                TaskKind.AFTER_UP,
                p.from_inst,
                rules.follow_up_due(day, int(self.up_days(day))),
            )
        else:
            p.task = TaskPlan(
                TaskKind.AFTER_DOWN,
                p.to_inst,
                rules.follow_up_due(day, int(self.down_days(day))),
            )
        return at

    def accept(self, p: Plan, submitted: dt.datetime, delay_h: float, receiver: str) -> None:
        if p.urgency == Urgency.EMERGENCY:
            p.move(Status.ACCEPTED, submitted, rules.SYSTEM, SYSTEM_NAME, EMERGENCY_NOTE)
            return
        accepted = submitted + dt.timedelta(hours=delay_h)
        if self.r.random() < 0.35:  # opened first (已接收), accepted a little later
            seen = submitted + dt.timedelta(hours=delay_h * self.u(0.1, 0.6))
            p.move(Status.RECEIVED, seen, rules.RECEIVER, receiver)
        p.move(Status.ACCEPTED, accepted, rules.RECEIVER, receiver)

    def end(self, p: Plan, status: str, at: dt.datetime, side: str, by: str, reason: str) -> None:
        """A referral that ends without treatment; its open task is cancelled (services)."""
        if p.move(status, at, side, by, reason):
            p.end_reason = reason[:200]
            if p.task is not None and p.task.status == TaskStatus.OPEN:
                p.task.status = TaskStatus.CANCELLED

    # -- up-referrals ----------------------------------------------------------------------------

    def up_base(self, g: Enc, to_inst: int, kind: str, day: dt.date, dx: str) -> Plan:
        green, contract_doctor = self.green_for(g.resident, g.inst, day)
        doctor = contract_doctor if green and contract_doctor else g.doctor
        place = self.d.places[g.inst]
        return Plan(
            direction=Direction.UP,
            resident=g.resident,
            from_inst=g.inst,
            to_inst=to_inst,
            from_doctor=doctor,
            diagnosis=dx,
            impression=self.dx_name(dx)[:200],
            history=self.history(g.resident, g.dx, dx),
            treatment=(
                f"在{place.name}住院治疗{max(1, (day - g.visit).days)}天，病情未见明显好转"
                if g.stay
                else "门诊对症治疗"
            ),
            contact_phone=self.d.doctor_info.get(doctor, ("", ""))[1] if doctor else "",
            green=green,
            deductible=g.deductible if g.stay else Decimal(0),
            kind=kind,
            source=g.id,
        )

    def up_matched(self, g: Enc, k: Enc, kind: str) -> Plan:
        """Submitted on the grassroots day, admitted on the county admission day."""
        day = max(g.visit, min(k.visit, g.end))  # inside a township stay: the transfer day
        gap = (k.visit - day).days
        p = self.up_base(g, k.inst, kind, day, k.dx)
        p.to_dept, p.stay = k.dept, k.id
        u = self.r.random()
        if gap == 0:
            p.urgency = (
                Urgency.EMERGENCY if u < 0.3 else Urgency.URGENT if u < 0.6 else Urgency.ROUTINE
            )
        elif gap <= 2 and u < 0.25:
            p.urgency = Urgency.URGENT
        template = EMERGENCY_REASON if p.urgency == Urgency.EMERGENCY else self.pick(UP_REASONS)
        p.reason = template.format(dx=self.dx_name(k.dx))
        submitted = self.submit(p, day, self.u(9, 15) if g.stay else self.u(8.5, 11.5))
        receiver = self.doctor_name(k.doctor, k.inst)
        assert p.deadline_at is not None
        allowed = (p.deadline_at - submitted).total_seconds() / 3600
        if gap >= 2 and self.r.random() < self.rates.late_accept:
            delay = allowed + self.u(1, 16)  # accepted after the deadline, before the cron ran
        else:
            delay = min(allowed * 0.9, float(np.exp(self.r.gauss(0.3, 0.8))))
        if gap == 0:
            delay = min(delay, 2.0)
            arrival = submitted + dt.timedelta(hours=delay + self.u(0.5, 3))
        else:
            arrival = local(k.visit, self.u(8, 11))
            latest = arrival - dt.timedelta(hours=self.u(0.5, 2))
            delay = min(delay, (latest - submitted).total_seconds() / 3600)
        self.accept(p, submitted, delay, receiver)
        p.move(Status.ARRIVED, arrival, rules.RECEIVER, receiver)
        admitted = arrival + dt.timedelta(minutes=self.u(10, 60))
        p.move(Status.IN_TREATMENT, admitted, rules.RECEIVER, receiver)
        completed = local(k.end, self.u(9, 11.5))
        if p.move(Status.COMPLETED, max(completed, admitted), rules.RECEIVER, receiver):
            p.result_diagnosis = self.dx_name(k.dx)[:200]
            p.inpatient_number = k.external_id[:32]
            p.findings = FINDINGS
        self.up_task(p, submitted)
        return p

    def up_task(self, p: Plan, submitted: dt.datetime) -> None:
        """The originating institution's follow-up: mostly within the two weeks, some late,
        some never (overdue on the management view)."""
        assert p.task is not None
        u = self.r.random()
        if u < self.rates.task_never_done:
            return
        if u < self.rates.task_never_done + self.rates.task_late:
            done = local(p.task.due_on + dt.timedelta(days=self.r.randint(1, 7)), self.u(9, 17))
        else:
            day = local_day(submitted) + dt.timedelta(days=self.r.randint(2, 13))
            done = local(day, self.u(9, 17))
        if done <= AS_OF_TIME:
            p.task.status, p.task.done_at = TaskStatus.DONE, done.replace(microsecond=0)
            p.task.note = self.pick(UP_TASK_NOTES)

    def close(self, p: Plan, side: str, by: str) -> None:
        """关闭（随访已确认） once the treatment is over and the follow-up task is done."""
        if p.status not in (Status.COMPLETED, Status.RETURNED):
            return
        if p.task is None or p.task.done_at is None:
            return
        at = max(p.task.done_at, p.events[-1].at) + dt.timedelta(minutes=self.u(5, 90))
        p.move(Status.CLOSED, at, side, by, CLOSE_NOTE)

    def up_failed(self, g: Enc, outcome: str, to_inst: int) -> Plan:
        """Rejected, expired or cancelled: the patient did not go to a county hospital."""
        day = g.visit if not g.stay else min(g.end, g.visit + dt.timedelta(days=1))
        p = self.up_base(g, to_inst, outcome, day, g.dx)
        p.reason = self.pick(UP_REASONS).format(dx=self.dx_name(g.dx))
        submitted = self.submit(p, day, self.u(8.5, 16))
        assert p.deadline_at is not None
        receiver_id = self.any_doctor(to_inst)
        receiver = self.doctor_name(receiver_id, to_inst)
        sender = self.doctor_name(p.from_doctor, p.from_inst)
        if outcome == Status.REJECTED:
            at = submitted + dt.timedelta(hours=self.u(0.3, 20))
            if self.r.random() < 0.5:
                p.move(Status.RECEIVED, submitted + (at - submitted) / 2, rules.RECEIVER, receiver)
            self.end(p, Status.REJECTED, at, rules.RECEIVER, receiver, self.pick(REJECT_REASONS))
        elif outcome == Status.EXPIRED:
            at = p.deadline_at + dt.timedelta(minutes=self.u(1, 15))  # the 15-minute cron
            if self.r.random() < 0.3:
                seen = submitted + (p.deadline_at - submitted) * self.u(0.1, 0.8)
                p.move(Status.RECEIVED, seen, rules.RECEIVER, receiver)
            p.move(Status.EXPIRED, at, rules.SYSTEM, SYSTEM_NAME, EXPIRED_NOTE)
            p.end_reason = EXPIRED_REASON
            if p.task is not None:
                p.task.status = TaskStatus.CANCELLED
        else:
            at = submitted + dt.timedelta(hours=self.u(1, 30))
            if self.r.random() < 0.3:
                self.accept(p, submitted, (at - submitted).total_seconds() / 3600 / 3, receiver)
            self.end(p, Status.CANCELLED, at, rules.SENDER, sender, self.pick(CANCEL_REASONS))
        return p

    def up_open(self, g: Enc, state: str, to_inst: int) -> Plan:
        """Still in the worklists on the as-of day: submitted or received that day (within
        the deadline), or accepted in the last days and waiting for the admission."""
        day = AS_OF if state != Status.ACCEPTED else g.visit
        p = self.up_base(g, to_inst, "open", day, g.dx)
        p.reason = self.pick(UP_REASONS).format(dx=self.dx_name(g.dx))
        latest = (AS_OF_TIME - local(day, 0)).total_seconds() / 3600 - 1.5
        submitted = self.submit(p, day, self.u(8.5, min(11.5, latest)))
        receiver = self.doctor_name(self.any_doctor(to_inst), to_inst)
        room = (AS_OF_TIME - submitted).total_seconds() / 3600
        if state == Status.RECEIVED:
            seen = submitted + dt.timedelta(hours=self.u(0.1, room))
            p.move(Status.RECEIVED, seen, rules.RECEIVER, receiver)
        elif state == Status.ACCEPTED:
            self.accept(p, submitted, min(self.u(0.3, 4), room * 0.9), receiver)
        return p

    # -- down-referrals --------------------------------------------------------------------------

    def follow_on(self, resident: int, centre: int, discharge: dt.date) -> Enc | None:
        """The first encounter at the township centre, or at one of its village clinics (the
        centre follows up with the village doctor), 1-14 days after the discharge."""
        last = discharge + dt.timedelta(days=FOLLOW_ON_DAYS)
        for e in self.d.by_resident.get(resident, []):
            ours = e.inst == centre or self.d.places[e.inst].parent == centre
            if ours and discharge < e.visit <= last:
                return e
        return None

    def down(self, k: Enc, centre: int, parent: Plan | None, arrive: Enc | None) -> Plan:
        """Sent on the discharge day; arrives on the follow-on encounter's day, or never."""
        sender = self.doctor_name(k.doctor, k.inst)
        p = Plan(
            direction=Direction.DOWN,
            resident=k.resident,
            from_inst=k.inst,
            to_inst=centre,
            from_doctor=k.doctor,
            diagnosis=k.dx,
            impression=self.dx_name(k.dx)[:200],
            history=self.history(k.resident, k.dx),
            treatment=f"县级医院住院治疗{max(1, (k.end - k.visit).days)}天",
            contact_phone=self.d.doctor_info.get(k.doctor, ("", ""))[1] if k.doctor else "",
            result_diagnosis=self.dx_name(k.dx)[:200],
            inpatient_number=k.external_id[:32],
            findings=FINDINGS,
            rehab_plan=rehab_plan(k.dx),
            deductible=parent.deductible if parent is not None else k.deductible,
            parent=parent,
            kind="return" if parent is not None else "down",
            source=k.id,
            reason=DOWN_REASON,
        )
        if parent is not None:
            completed = parent.at_of(Status.COMPLETED)
            assert completed is not None
            at = completed + dt.timedelta(minutes=self.u(10, 90))
            if at > AS_OF_TIME:
                return p
            parent.move(Status.RETURNED, at, rules.RECEIVER, sender)
            # services.do_return_down: the up-referral is 已回转, then the down one is made.
            lead = self.u(0.5, 1.5)
            hours = (at - local(k.end, 0)).total_seconds() / 3600 + (lead + self.u(1, 6)) / 60
        else:
            hours, lead = self.u(9.5, 15), 0
        submitted = self.submit(p, k.end, hours, lead)
        seen_here = arrive is not None and arrive.inst == centre and arrive.doctor
        receiver_id = arrive.doctor if seen_here and arrive else self.any_doctor(centre)
        receiver = self.doctor_name(receiver_id, centre)
        delay = float(np.exp(self.r.gauss(0.7, 0.8)))
        if arrive is not None:
            arrival = local(arrive.visit, self.u(8, 11))
            delay = min(delay, (arrival - submitted).total_seconds() / 3600 * 0.8)
            self.accept(p, submitted, delay, receiver)
            if p.move(Status.ARRIVED, arrival, rules.RECEIVER, receiver):
                assert p.task is not None
                done = arrival + dt.timedelta(hours=self.u(0.2, 2))
                if done <= AS_OF_TIME:
                    p.task.status, p.task.done_at = TaskStatus.DONE, done.replace(microsecond=0)
                    p.task.note = self.pick(DOWN_TASK_NOTES)
                end = (
                    local(arrive.end, self.u(9, 11.5))
                    if arrive.stay
                    else arrival + dt.timedelta(hours=self.u(0.5, 3))
                )
                p.move(Status.COMPLETED, max(end, arrival), rules.RECEIVER, receiver)
                self.close(p, rules.RECEIVER, receiver)
            return p
        self.accept(p, submitted, min(delay, 20.0), receiver)
        assert p.task is not None
        # An older one whose patient never came: the centre recorded 未到诊 two weeks on.
        gone = local(k.end + dt.timedelta(days=FOLLOW_ON_DAYS), self.u(9, 17))
        if p.status == Status.ACCEPTED and gone <= AS_OF_TIME and self.r.random() < 0.5:
            self.end(p, Status.NO_SHOW, gone, rules.RECEIVER, receiver, NO_SHOW_NOTE)
        return p


# Selection ----------------------------------------------------------------------------------------


def _thc_pairs(d: Data) -> list[tuple[Enc, Enc]]:
    """A township-centre stay followed by a county stay of the same resident starting during
    it or within WINDOW_DAYS of its discharge (the first such stay, each used once)."""
    used: set[int] = set()
    pairs = []
    for g in d.grassroots:
        if not g.stay or d.places[g.inst].inst_type not in CENTRE_TYPES:
            continue
        for k in d.stays_by_resident.get(g.resident, []):
            if k.id in used or not _same_medcom(d, g, k):
                continue
            if g.visit <= k.visit <= g.end + dt.timedelta(days=WINDOW_DAYS):
                used.add(k.id)
                pairs.append((g, k))
                break
    return pairs


def _same_medcom(d: Data, g: Enc, k: Enc) -> bool:
    return d.places[g.inst].medcom == d.places[k.inst].medcom


def _outpatient_pairs(d: Data, taken: set[int]) -> list[tuple[Enc, Enc]]:
    """A county stay preceded by a grassroots outpatient visit of the same resident within
    WINDOW_DAYS (the nearest visit, each used once)."""
    used: set[int] = set()
    pairs = []
    for k in d.county_stays:
        if k.id in taken:
            continue
        best = None
        for g in d.by_resident.get(k.resident, []):
            if g.visit > k.visit:
                break
            if (
                not g.stay
                and g.id not in used
                and k.visit - dt.timedelta(days=WINDOW_DAYS) <= g.visit
                and _same_medcom(d, g, k)
            ):
                best = g
        if best is not None:
            used.add(best.id)
            pairs.append((best, k))
    return pairs


def _choose(
    rng: np.random.Generator, n: int, size: int, weights: list[float] | None = None
) -> list[int]:
    """``size`` distinct indices of ``range(n)`` in ascending order (all when too few)."""
    size = max(0, min(size, n))
    if size == n:
        return list(range(n))
    p = None
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        p = w / w.sum()
    return sorted(int(i) for i in rng.choice(n, size=size, replace=False, p=p))


def _county_target(d: Data, g: Enc, r: random.Random) -> int:
    """The county hospital a failed or open up-referral was addressed to (mostly the lead)."""
    medcom = d.places[g.inst].medcom
    county = [p for p in d.places.values() if p.inst_type in COUNTY_TYPES and p.medcom == medcom]
    general = [p for p in county if p.inst_type == InstitutionType.GENERAL_HOSPITAL]
    if general and r.random() < 0.8:
        return general[0].id
    return county[r.randrange(len(county))].id


@dataclass
class ReferralSummary:
    referrals: int = 0
    events: int = 0
    tasks: int = 0
    care_relationships: int = 0
    by_direction_status: dict[str, dict[str, int]] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    tasks_by_status: dict[str, int] = field(default_factory=dict)
    overdue_tasks: int = 0
    green_channel: int = 0
    late_accepted: int = 0
    thc_stays: int = 0
    county_stays: int = 0
    thc_pairs_available: int = 0

    @property
    def up(self) -> int:
        return sum(self.by_direction_status.get(Direction.UP, {}).values())

    @property
    def down(self) -> int:
        return sum(self.by_direction_status.get(Direction.DOWN, {}).values())


def plan_referrals(d: Data, rates: Rates, rng: np.random.Generator) -> list[Plan]:
    """Every referral, in creation order, with ids and numbers (nothing written)."""
    planner = Planner(d, rates, rng)
    r = planner.r
    n_down = round(rates.down_share * len(d.county_stays))
    n_up = round(rates.up_per_down * n_down)
    n_failed = {
        Status.REJECTED: round(rates.rejected * n_up),
        Status.EXPIRED: round(rates.expired * n_up),
        Status.CANCELLED: round(rates.cancelled * n_up),
    }
    n_open = round(rates.still_open * n_up)

    thc_pairs = _thc_pairs(d)
    d.thc_pairs = len(thc_pairs)
    thc_pick = [
        thc_pairs[i]
        for i in _choose(rng, len(thc_pairs), round(rates.up_from_thc_stays * d.n_thc_stays))
    ]
    taken = {k.id for _, k in thc_pick}
    op_pairs = _outpatient_pairs(d, taken)
    n_op = max(0, n_up - len(thc_pick) - sum(n_failed.values()) - n_open)
    # Most referred patients are admitted within days, and for what the grassroots doctor saw
    # (same ICD-10 chapter) [I]: weight by exp(-gap / GAP_SCALE), three times if alike.
    weights = [
        (3.0 if g.dx[:1] == k.dx[:1] else 1.0) * math.exp(-(k.visit - g.visit).days / GAP_SCALE)
        for g, k in op_pairs
    ]
    op_pick = [op_pairs[i] for i in _choose(rng, len(op_pairs), n_op, weights)]

    plans: list[Plan] = []
    for g, k in thc_pick:
        plans.append(planner.up_matched(g, k, "thc_stay"))
    for g, k in op_pick:
        plans.append(planner.up_matched(g, k, "outpatient"))
    used_g = {p.source for p in plans}
    up_stays = {p.stay for p in plans}

    # Grassroots encounters with no county stay after them: the failed and the open ones.
    def unmatched(g: Enc) -> bool:
        if g.id in used_g or g.dx not in REFERABLE:
            return False
        return not any(
            g.visit <= k.visit <= g.end + dt.timedelta(days=WINDOW_DAYS)
            for k in d.stays_by_resident.get(g.resident, [])
        )

    lone = [g for g in d.grassroots if unmatched(g)]
    past = [g for g in lone if g.end <= AS_OF - dt.timedelta(days=3)]
    for outcome, n in n_failed.items():
        for i in _choose(rng, len(past), n):
            g = past[i]
            plans.append(planner.up_failed(g, str(outcome), _county_target(d, g, r)))
        chosen = {p.source for p in plans}
        past = [g for g in past if g.id not in chosen]
    today = [g for g in lone if g.visit == AS_OF and not g.stay]
    recent = [g for g in lone if AS_OF - dt.timedelta(days=2) <= g.visit < AS_OF and not g.stay]
    n_today = min(len(today), round(n_open * 0.6))
    for j, i in enumerate(_choose(rng, len(today), n_today)):
        state = Status.SUBMITTED if j % 3 != 2 else Status.RECEIVED
        plans.append(planner.up_open(today[i], state, _county_target(d, today[i], r)))
    for i in _choose(rng, len(recent), n_open - n_today):
        plans.append(planner.up_open(recent[i], Status.ACCEPTED, _county_target(d, recent[i], r)))

    # 回转: a share of the completed up-referrals, preferring patients seen at the centre after.
    stays = {k.id: k for k in d.county_stays}
    completed = [p for p in plans if p.stay is not None and p.status == Status.COMPLETED]
    arrivals: list[Enc | None] = []
    for p in completed:
        target = _return_target(d, p.from_inst)
        arrivals.append(planner.follow_on(p.resident, target, stays[p.stay or 0].end))
    n_return = min(len(completed), round(rates.return_share * n_down))
    weights = [3.0 if a is not None else 1.0 for a in arrivals]
    downs: list[Plan] = []
    for i in _choose(rng, len(completed), n_return, weights):
        up = completed[i]
        k = stays[up.stay or 0]
        downs.append(planner.down(k, _return_target(d, up.from_inst), up, arrivals[i]))

    # Plain down-referrals of other discharges, to the patient's township centre.
    with_follow: list[tuple[Enc, int, Enc]] = []
    without: list[tuple[Enc, int]] = []
    for k in d.county_stays:
        centre = d.centre_of.get(k.resident)
        if k.id in up_stays or centre is None or d.places[centre].medcom != d.places[k.inst].medcom:
            continue
        arrive = planner.follow_on(k.resident, centre, k.end)
        if arrive is not None:
            with_follow.append((k, centre, arrive))
        else:
            without.append((k, centre))
    n_plain = n_down - len(downs)
    n_without = min(len(without), round(n_plain * rates.down_no_show))
    picked: list[tuple[Enc, int, Enc | None]] = [
        with_follow[i] for i in _choose(rng, len(with_follow), n_plain - n_without)
    ]
    picked += [(*without[i], None) for i in _choose(rng, len(without), n_plain - len(picked))]
    for k, centre, arrive in sorted(picked, key=lambda t: t[0].id):
        downs.append(planner.down(k, centre, None, arrive))
    plans += [p for p in downs if p.events]

    for p in plans:  # up-referrals close after their task (and any 回转)
        if p.direction == Direction.UP:
            planner.close(p, rules.SENDER, planner.doctor_name(p.from_doctor, p.from_inst))
    plans.sort(key=lambda p: (p.created_at, p.direction, p.resident, p.source or 0))
    first = (Referral.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    for i, p in enumerate(plans):
        p.id = first + i
        p.number = f"ZZ{local_day(p.created_at):%Y%m%d}{p.id:06d}"
    for p in plans:
        if p.parent is not None:
            p.reason = RETURN_REASON.format(number=p.parent.number)
    return plans


def _return_target(d: Data, sender: int) -> int:
    """services.default_down_target: a village clinic's patient returns to its centre."""
    place = d.places[sender]
    if place.inst_type in CLINIC_TYPES and place.parent is not None:
        return place.parent
    return sender


# Checks -------------------------------------------------------------------------------------------


def path_refusal(events: Iterable[tuple[str, str, str, str]]) -> str:
    """Why a sequence of (from, to, side, note) is not a path of ``rules.MOVES`` from a new
    draft ("" when it is)."""
    current = None
    for before, after, side, note in events:
        if current is None:
            if (before, after) != ("", Status.DRAFT):
                return f"第一步应为新建草稿，而不是 {before}→{after}"
        else:
            if before != current:
                return f"事件不连续：{current} 之后是 {before}→{after}"
            refusal = rules.move_refusal(before, after, side, note)
            if refusal:
                return refusal
        current = after
    return "" if current is not None else "没有任何事件"


def check_plans(plans: list[Plan], grassroots: frozenset[int]) -> None:
    """The invariants every generated referral obeys (raises AssertionError)."""
    numbers = [p.number for p in plans]
    assert len(set(numbers)) == len(numbers), "转诊单号重复"
    ids = {id(p) for p in plans}
    for p in plans:
        refusal = path_refusal((e.from_status, e.to_status, e.side, e.note) for e in p.events)
        assert not refusal, f"{p.number}: {refusal}"
        assert p.events[-1].to_status == p.status, f"{p.number}: 状态与事件不符"
        times = [e.at for e in p.events]
        assert times == sorted(times) and times[-1] <= AS_OF_TIME, f"{p.number}: 事件时间"
        assert NUMBER.match(p.number) and p.number.endswith(f"{p.id:06d}")
        assert p.number[2:10] == f"{local_day(p.created_at):%Y%m%d}"
        levels = (p.from_inst in grassroots, p.to_inst in grassroots)
        assert rules.direction_allowed(p.direction, *levels) == "", p.number
        assert p.status != Status.DRAFT and p.deadline_at is not None
        if p.status in rules.FINAL - {Status.CLOSED}:
            assert p.end_reason or p.status == Status.NO_SHOW
        if p.parent is not None:
            assert id(p.parent) in ids and p.parent.id < p.id
            assert p.direction == Direction.DOWN and p.parent.direction == Direction.UP
            assert p.parent.resident == p.resident
            assert Status.RETURNED in [e.to_status for e in p.parent.events]
        if p.task is not None and p.task.status == TaskStatus.DONE:
            assert p.task.done_at is not None and p.task.done_at <= AS_OF_TIME
        if p.status == Status.CLOSED:
            assert p.task is not None and p.task.status == TaskStatus.DONE


# Writing ------------------------------------------------------------------------------------------


def _summaries(plans: list[Plan], d: Data) -> dict[int, dict[str, Any]]:
    """近期诊疗摘要 as services._summary builds it, as of each referral's submission: the five
    latest encounters and settlements (up-referrals: not the county stay they led to)."""
    residents = sorted({p.resident for p in plans})
    rows: dict[int, list[tuple[tuple[Any, ...], dict[str, str]]]] = {}
    for start in range(0, len(residents), 500):
        chunk = residents[start : start + 500]
        for e in (
            Encounter.objects.filter(resident_id__in=chunk)
            .order_by("pk")
            .values_list(
                "pk", "resident_id", "visit_date", "discharge_date", "setting",
                "institution__name", "principal_diagnosis", "total_cost",
            )
        ):  # fmt: skip
            rows.setdefault(e[1], []).append(((e[2], True, e[0]), _entry(*e[2:])))
        for s in (
            ExternalSettlement.objects.filter(resident_id__in=chunk)
            .order_by("pk")
            .values_list(
                "pk", "resident_id", "settlement_date", "discharge_date", "setting",
                "institution_name", "principal_diagnosis", "total_cost",
            )
        ):  # fmt: skip
            rows.setdefault(s[1], []).append(((s[2], False, s[0]), _entry(*s[2:])))
    for entries in rows.values():
        entries.sort(key=lambda t: t[0], reverse=True)
    out: dict[int, dict[str, Any]] = {}
    for p in plans:
        day = local_day(p.events[1].at if len(p.events) > 1 else p.created_at)
        recent = [
            entry
            for (date, is_encounter, pk), entry in rows.get(p.resident, [])
            if date <= day and not (is_encounter and pk == p.stay)
        ][:5]
        htn, dm = d.chronic.get(p.resident, (False, False))
        chronic = [label for flag, label in ((htn, "高血压"), (dm, "2型糖尿病")) if flag]
        out[p.id] = {"recent": recent, "chronic": chronic}
    return out


def _entry(
    date: dt.date, end: dt.date | None, setting: str, inst: str, dx: str, cost: Decimal
) -> dict[str, str]:
    return {
        "date": date.isoformat(),
        "end_date": end.isoformat() if end else "",
        "setting": setting,
        "institution": inst,
        "diagnosis": dx,
        "total_cost": str(cost),
    }


def write_plans(plans: list[Plan], d: Data, report: Callable[[int], None]) -> ReferralSummary:
    summaries = _summaries(plans, d)
    access_days = parameter_resolver("access.referral_days_after_close")
    referrals, events, tasks, care = [], [], [], []
    for p in plans:
        closed = next((e.at for e in p.events if e.to_status in rules.FINAL), None)
        referrals.append(
            Referral(
                id=p.id,
                number=p.number,
                direction=p.direction,
                urgency=p.urgency,
                status=p.status,
                resident_id=p.resident,
                from_institution_id=p.from_inst,
                from_practitioner_id=p.from_doctor,
                to_institution_id=p.to_inst,
                to_department_id=p.to_dept,
                parent_id=p.parent.id if p.parent is not None else None,
                diagnosis_code=p.diagnosis,
                impression=p.impression,
                reason=p.reason,
                history=p.history,
                treatment=p.treatment,
                contact_phone=p.contact_phone,
                consent=True,
                result_diagnosis=p.result_diagnosis,
                inpatient_number=p.inpatient_number,
                findings=p.findings,
                rehab_plan=p.rehab_plan,
                green_channel=p.green,
                deductible_paid=p.deductible,
                summary=summaries[p.id],
                created_at=p.created_at,
                submitted_at=p.at_of(Status.SUBMITTED),
                deadline_at=p.deadline_at,
                accepted_at=p.at_of(Status.ACCEPTED),
                arrived_at=p.at_of(Status.ARRIVED),
                completed_at=p.at_of(Status.COMPLETED),
                closed_at=closed,
                end_reason=p.end_reason,
            )
        )
        events += [
            ReferralEvent(
                referral_id=p.id,
                from_status=e.from_status,
                to_status=e.to_status,
                at=e.at,
                by_name=e.by_name,
                note=e.note,
            )
            for e in p.events
        ]
        if p.task is not None:
            t = p.task
            tasks.append(
                FollowUpTask(
                    referral_id=p.id,
                    resident_id=p.resident,
                    institution_id=t.institution,
                    kind=t.kind,
                    due_on=t.due_on,
                    status=t.status,
                    done_at=t.done_at,
                    note=t.note,
                )
            )
        submitted = p.at_of(Status.SUBMITTED)
        assert submitted is not None
        ended = local_day(closed) if closed is not None else None
        care.append(
            CareRelationship(
                resident_id=p.resident,
                institution_id=p.to_inst,
                kind=AccessBasis.REFERRAL,
                source=CARE_SOURCE,
                source_ref=p.number,
                valid_from=local_day(submitted),
                valid_to=ended + dt.timedelta(days=int(access_days(ended))) if ended else None,
            )
        )
    for start in range(0, len(referrals), BATCH):
        Referral.objects.bulk_create(referrals[start : start + BATCH])
        report(len(referrals[start : start + BATCH]))
    ReferralEvent.objects.bulk_create(events, batch_size=BATCH)
    FollowUpTask.objects.bulk_create(tasks, batch_size=BATCH)
    CareRelationship.objects.bulk_create(care, batch_size=BATCH)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Referral]):
            cursor.execute(sql)
    return _summarise(plans, d, len(events), len(tasks), len(care))


def _summarise(plans: list[Plan], d: Data, events: int, tasks: int, care: int) -> ReferralSummary:
    s = ReferralSummary(
        referrals=len(plans),
        events=events,
        tasks=tasks,
        care_relationships=care,
        thc_stays=d.n_thc_stays,
        county_stays=len(d.county_stays),
        thc_pairs_available=d.thc_pairs,
    )
    for p in plans:
        by = s.by_direction_status.setdefault(p.direction, {})
        by[p.status] = by.get(p.status, 0) + 1
        s.by_kind[p.kind] = s.by_kind.get(p.kind, 0) + 1
        if p.green:
            s.green_channel += 1
        accepted = p.at_of(Status.ACCEPTED)
        if accepted is not None and p.deadline_at is not None and accepted > p.deadline_at:
            s.late_accepted += 1
        if p.task is not None:
            s.tasks_by_status[p.task.status] = s.tasks_by_status.get(p.task.status, 0) + 1
            if p.task.status == TaskStatus.OPEN and p.task.due_on < AS_OF:
                s.overdue_tasks += 1
    return s


def build_referrals(
    world: object | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    *,
    rates: Rates | None = None,
) -> ReferralSummary:
    """Generate the referrals of the encounters in the database (the caller owns the
    transaction and has fixed the clock; ``world`` is accepted for symmetry, not needed)."""
    del world
    report = progress or (lambda stage, done, total: None)
    rng = np.random.Generator(np.random.PCG64([seed, SALT]))
    report(STAGE, 0, 1)
    d = _load()
    plans = plan_referrals(d, rates or Rates(), rng)
    check_plans(plans, d.grassroots_ids)
    total = max(1, len(plans))
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        report(STAGE, done, total)

    summary = write_plans(plans, d, tick)
    report(STAGE, total, total)
    return summary


__all__ = [
    "STAGE",
    "Rates",
    "ReferralSummary",
    "build_referrals",
    "check_plans",
    "path_refusal",
    "plan_referrals",
]
