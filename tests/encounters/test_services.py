"""Encounter services: the shipped catalogues, validation against the MPI and the member
institutions, idempotent bulk upserts, care relationships, external settlements, queries."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import pickle
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from yigongti.core.choices import AccessBasis
from yigongti.core.errors import AccessDenied, DomainError
from yigongti.core.models import PolicyParameter
from yigongti.encounters import queries
from yigongti.encounters.models import (
    DiagnosisCode,
    Encounter,
    EncounterProcedure,
    ExternalSettlement,
    ProcedureCode,
)
from yigongti.encounters.services import (
    ROW_FIELDS,
    CleanEncounter,
    EncounterInput,
    EncounterRows,
    ExternalSettlementInput,
    UpsertCounts,
    ValidationContext,
    clean_encounter,
    clean_external_settlement,
    clean_of_row,
    encounter_row,
    upsert_encounters,
    upsert_external_settlements,
)
from yigongti.organizations.choices import InstitutionType
from yigongti.organizations.services import do_add_institution
from yigongti.residents.models import CareRelationship
from yigongti.residents.rules import check_digit
from yigongti.residents.services import do_read_resident

TODAY = dt.date(2025, 12, 31)
D = Decimal
ZHANG = "439901195103150033"  # 张德福, 河口乡桃源村
CHEN = "439901199006120033"  # 陈晓东, 城关镇东门社区

# Every notifiable disease of reference/domain-rules.md §6 (ICD-10 table), as catalogued,
# with its class and one code that must carry it.
NOTIFIABLE = [
    ("霍乱", "甲", "A00.9"),
    ("鼠疫", "甲", "A20.9"),
    ("伤寒和副伤寒", "乙", "A01.0"),
    ("细菌性痢疾", "乙", "A03.9"),
    ("阿米巴性痢疾", "乙", "A06.0"),
    ("其他感染性腹泻病", "丙", "A09"),
    ("肺结核", "乙", "A15.0"),
    ("炭疽", "乙", "A22.1"),
    ("布鲁氏菌病", "乙", "A23.9"),
    ("钩端螺旋体病", "乙", "A27.9"),
    ("麻风病", "丙", "A30.9"),
    ("新生儿破伤风", "乙", "A33"),
    ("白喉", "乙", "A36.9"),
    ("百日咳", "乙", "A37.9"),
    ("猩红热", "乙", "A38"),
    ("流行性脑脊髓膜炎", "乙", "A39.0"),
    ("梅毒", "乙", "A53.9"),
    ("淋病", "乙", "A54.9"),
    ("流行性和地方性斑疹伤寒", "丙", "A75.0"),
    ("脊髓灰质炎", "乙", "A80.9"),
    ("狂犬病", "乙", "A82.9"),
    ("流行性乙型脑炎", "乙", "A83.0"),
    ("登革热", "乙", "A90"),
    ("流行性出血热", "乙", "A98.5"),
    ("猴痘", "乙", "B04"),
    ("麻疹", "乙", "B05.9"),
    ("风疹", "丙", "B06.9"),
    ("手足口病", "丙", "B08.4"),
    ("病毒性肝炎", "乙", "B16.9"),
    ("艾滋病", "乙", "B24"),
    ("流行性腮腺炎", "丙", "B26.9"),
    ("急性出血性结膜炎", "丙", "B30.3"),
    ("疟疾", "乙", "B54"),
    ("黑热病", "丙", "B55.0"),
    ("血吸虫病", "乙", "B65.2"),
    ("包虫病", "丙", "B67.9"),
    ("丝虫病", "丙", "B74.9"),
    ("流行性感冒", "丙", "J11.1"),
    ("人感染高致病性禽流感", "乙", "J09"),
    ("传染性非典型肺炎", "乙", "U04.9"),
    ("新型冠状病毒感染", "乙", "U07.1"),
]


def csv_rows(name: str) -> list[dict[str, str]]:
    text = resources.files("yigongti.encounters").joinpath("data", name).read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def idn(first17: str) -> str:
    return first17 + check_digit(first17)


def enc(**overrides: Any) -> EncounterInput:
    data = EncounterInput(
        source_system="HIS-QH1002",
        external_id="MZ0001",
        id_number=ZHANG,
        patient_name="张德福",
        institution_code="QH1002",
        setting="outpatient",
        visit_date=dt.date(2025, 6, 1),
        principal_diagnosis="I10",
        other_diagnoses=["E11.9"],
        total_cost=D("100.00"),
        drug_cost=D("60.00"),
        exam_cost=D("20.00"),
        service_cost=D("10.00"),
        fund_paid=D("70.00"),
        personal_paid=D("30.00"),
        doctor_code="QH1002-0001",
        department_name="全科",
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def settlement(**overrides: Any) -> ExternalSettlementInput:
    data = ExternalSettlementInput(
        source_system="YBJ",
        external_id="JS0001",
        kind="out_of_county",
        id_number=ZHANG,
        settlement_date=dt.date(2025, 5, 20),
        institution_name="湖南省人民医院",
        total_cost=D("12000.00"),
        setting="inpatient",
        admission_date=dt.date(2025, 5, 10),
        discharge_date=dt.date(2025, 5, 20),
        region_code="430100",
        region_name="长沙市",
        level="3",
        principal_diagnosis="I63.9",
        fund_paid=D("7000.00"),
        personal_paid=D("5000.00"),
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


@pytest.fixture
def ctx(world: Any) -> ValidationContext:
    return ValidationContext.load(today=TODAY)


def clean_all(ctx: ValidationContext, rows: list[EncounterInput]) -> list[CleanEncounter]:
    return [clean_encounter(row, ctx) for row in rows]


@pytest.mark.django_db
class TestCatalogues:
    def test_every_csv_row_is_loaded(self) -> None:
        icd = csv_rows("icd10.csv")
        assert DiagnosisCode.objects.count() == len(icd)
        assert set(DiagnosisCode.objects.values_list("code", flat=True)) == {r["code"] for r in icd}
        procedures = csv_rows("procedures.csv")
        assert ProcedureCode.objects.count() == len(procedures)

    def test_loading_again_adds_nothing_and_keeps_edits(self) -> None:
        from django.apps import apps

        migration = importlib.import_module("yigongti.encounters.migrations.0002_load_catalogues")
        DiagnosisCode.objects.filter(code="I10").update(name="高血压（县内修订）")
        ProcedureCode.objects.filter(code="89.52").delete()
        before = DiagnosisCode.objects.count()
        migration.load_catalogues(apps, None)
        assert DiagnosisCode.objects.count() == before
        assert DiagnosisCode.objects.get(code="I10").name == "高血压（县内修订）"
        assert ProcedureCode.objects.count() == len(csv_rows("procedures.csv"))

    @pytest.mark.parametrize(("disease", "klass", "code"), NOTIFIABLE)
    def test_every_notifiable_disease_is_catalogued(
        self, disease: str, klass: str, code: str
    ) -> None:
        row = DiagnosisCode.objects.get(code=code)
        assert (row.notifiable_disease, row.notifiable_class) == (disease, klass)
        assert set(
            DiagnosisCode.objects.filter(notifiable_disease=disease).values_list(
                "notifiable_class", flat=True
            )
        ) == {klass}

    def test_no_other_notifiable_diseases(self) -> None:
        names = set(
            DiagnosisCode.objects.exclude(notifiable_disease="").values_list(
                "notifiable_disease", flat=True
            )
        )
        assert names == {d for d, _, _ in NOTIFIABLE}

    @pytest.mark.parametrize(
        ("code", "name", "chapter", "chronic"),
        [
            ("J06.9", "急性上呼吸道感染", "X", False),
            ("I10", "特发性（原发性）高血压", "IX", True),
            ("E11.9", "2型糖尿病，不伴有并发症", "IV", True),
            ("K29.7", "胃炎", "XI", False),
            ("J44.9", "慢性阻塞性肺病", "X", True),
            ("I69.3", "脑梗死后遗症", "IX", True),
            ("F20.9", "精神分裂症", "V", True),
            ("N18.9", "慢性肾脏病", "XIV", True),
            ("Z51.1", "肿瘤化学治疗疗程", "XXI", False),
            ("O82.9", "剖宫产", "XV", False),
        ],
    )
    def test_common_codes(self, code: str, name: str, chapter: str, chronic: bool) -> None:
        row = DiagnosisCode.objects.get(code=code)
        assert (row.name, row.chapter, row.is_chronic) == (name, chapter, chronic)

    def test_procedure_grades(self) -> None:
        grades = dict(ProcedureCode.objects.values_list("code", "grade"))
        assert grades["47.09"] == 2
        assert grades["51.23"] == 3
        assert grades["36.06"] == 4
        assert grades["89.52"] is None

    def test_code_names(self) -> None:
        assert queries.get_code_names(["I10", "E11.9", "X00.0", ""]) == {
            "I10": "特发性（原发性）高血压",
            "E11.9": "2型糖尿病，不伴有并发症",
        }


@pytest.mark.django_db
class TestCleanEncounter:
    def test_valid_row_is_normalised(self, world: Any, ctx: ValidationContext) -> None:
        clean = clean_encounter(
            enc(
                principal_diagnosis="i10.x00",
                other_diagnoses=["e11.900", "I10", "E11.9", ""],
                procedures=["89.52", "8659"],
                setting="门诊",
                discharge_date=dt.date(2025, 6, 1),
                drug_cost=D("60"),
            ),
            ctx,
        )
        v = clean.values
        assert v["resident_id"] == world.residents["elderly_patient"].pk
        assert v["institution_id"] == world.institutions["thc_hekou"].pk
        assert v["doctor_id"] == world.practitioners["hekou_doctor"].pk
        assert v["department_id"] == world.institutions["thc_hekou"].departments.get(code="QKY").pk
        assert (v["setting"], v["principal_diagnosis"], v["other_diagnoses"]) == (
            "outpatient",
            "I10",
            ["E11.9"],
        )
        assert v["discharge_date"] is None
        assert v["drug_cost"] == D("60.00")
        assert clean.procedures == (("89.52", None), ("86.59", 1))
        assert len(clean.content_hash) == 64

    def test_procedures_take_grades_from_catalogue(self, ctx: ValidationContext) -> None:
        clean = clean_encounter(enc(procedures=["89.52", "86.59", "47.0900"]), ctx)
        assert clean.procedures == (("89.52", None), ("86.59", 1), ("47.09", 2))

    def test_hash_changes_with_content_only(self, ctx: ValidationContext) -> None:
        a = clean_encounter(enc(), ctx)
        assert clean_encounter(enc(), ctx).content_hash == a.content_hash
        assert clean_encounter(enc(total_cost=D("100.50")), ctx).content_hash != a.content_hash
        assert clean_encounter(enc(procedures=["89.52"]), ctx).content_hash != a.content_hash

    def test_inpatient(self, ctx: ValidationContext) -> None:
        clean = clean_encounter(
            enc(
                setting="inpatient",
                institution_code="QH0001",
                doctor_code="QH0001-0001",
                department_name="心血管内科",
                visit_date=dt.date(2025, 3, 1),
                discharge_date=dt.date(2025, 3, 9),
                principal_diagnosis="I21.9",
                procedures=["36.06"],
            ),
            ctx,
        )
        assert clean.values["discharge_date"] == dt.date(2025, 3, 9)
        assert clean.procedures == (("36.06", 4),)

    @pytest.mark.parametrize(
        ("overrides", "errors"),
        [
            ({"source_system": ""}, {"source_system": ["来源系统不能为空"]}),
            ({"external_id": " "}, {"external_id": ["来源编号不能为空"]}),
            ({"external_id": "x" * 65}, {"external_id": ["来源编号不能超过64个字符"]}),
            ({"id_number": ""}, {"id_number": ["证件号码不能为空"]}),
            (
                {"id_number": "439901195103150034"},
                {"id_number": ["身份证号校验位错误：最后一位应为“3”"]},
            ),
            (
                {"id_number": "43990119510315"},
                {"id_number": ["身份证号应为18位（或旧版15位），当前为14位"]},
            ),
            (
                {"id_number": idn("43990119800101001")},
                {
                    "id_number": [
                        f"证件号码“{idn('43990119800101001')}”在居民主索引中不存在，请先建档"
                    ]
                },
            ),
            ({"id_type": "55"}, {"id_type": ["不支持的证件类型“55”"]}),
            ({"patient_name": "张得福"}, {"patient_name": ["姓名与主索引不符"]}),
            ({"institution_code": ""}, {"institution_code": ["机构代码不能为空"]}),
            (
                {"institution_code": "QH9999"},
                {"institution_code": ["机构代码“QH9999”不存在或不是医共体成员单位"]},
            ),
            ({"setting": ""}, {"setting": ["就诊类型不能为空"]}),
            ({"setting": "体检"}, {"setting": ["就诊类型“体检”无效，应为门诊、急诊或住院"]}),
            ({"visit_date": None}, {"visit_date": ["就诊日期不能为空"]}),
            ({"visit_date": dt.date(2026, 1, 1)}, {"visit_date": ["就诊日期 2026-01-01 晚于今天"]}),
            (
                {"discharge_date": dt.date(2025, 6, 2)},
                {"discharge_date": ["门诊记录不应有出院日期（或应与就诊日期相同）"]},
            ),
            ({"setting": "inpatient"}, {"discharge_date": ["住院记录必须填写出院日期"]}),
            (
                {"setting": "inpatient", "discharge_date": dt.date(2025, 5, 31)},
                {"discharge_date": ["出院日期不能早于入院日期"]},
            ),
            ({"principal_diagnosis": ""}, {"principal_diagnosis": ["主要诊断不能为空"]}),
            (
                {"principal_diagnosis": "X99.9"},
                {"principal_diagnosis": ["诊断编码“X99.9”不在ICD-10字典中"]},
            ),
            (
                {"principal_diagnosis": "高血压"},
                {
                    "principal_diagnosis": [
                        "诊断编码“高血压”格式错误：应为ICD-10编码，如 I10、E11.9"
                    ]
                },
            ),
            (
                {"other_diagnoses": ["E11.9", "Q99.9", "ZZ"]},
                {
                    "other_diagnoses": [
                        "诊断编码“Q99.9”不在ICD-10字典中",
                        "诊断编码“ZZ”格式错误：应为ICD-10编码，如 I10、E11.9",
                    ]
                },
            ),
            (
                {"procedures": ["99.99"]},
                {"procedures": ["手术操作编码“99.99”不在ICD-9-CM3字典中"]},
            ),
            ({"doctor_code": "QH1002-9999"}, {"doctor_code": ["医生工号“QH1002-9999”不存在"]}),
            ({"insurance_type": "商业"}, {"insurance_type": ["参保类型“商业”无效"]}),
            ({"total_cost": None}, {"total_cost": ["总费用不能为空"]}),
            ({"drug_cost": D("-1")}, {"drug_cost": ["药品费不能为负数"]}),
            ({"material_cost": D("0.001")}, {"material_cost": ["耗材费最多保留两位小数"]}),
            (
                {"exam_cost": D("30.01")},
                {"total_cost": ["各分项费用之和 100.01 元超过总费用 100.00 元"]},
            ),
            (
                {"personal_paid": D("28.99")},
                {"fund_paid": ["统筹支付与个人支付之和 98.99 元与总费用 100.00 元相差超过1元"]},
            ),
            (
                {"deductible": D("30.01")},
                {"deductible": ["起付线 30.01 元超过个人支付 30.00 元"]},
            ),
            (
                {"insurance_type": "none"},
                {"fund_paid": ["未参保人员不能有统筹基金支付"]},
            ),
        ],
    )
    def test_refusals(
        self, ctx: ValidationContext, overrides: dict[str, Any], errors: dict[str, list[str]]
    ) -> None:
        with pytest.raises(DomainError) as info:
            clean_encounter(enc(**overrides), ctx)
        assert info.value.field_errors == errors
        assert Encounter.objects.count() == 0

    def test_within_one_yuan_is_accepted(self, ctx: ValidationContext) -> None:
        clean_encounter(enc(personal_paid=D("29.00")), ctx)
        clean_encounter(enc(personal_paid=D("31.00")), ctx)

    def test_all_errors_are_collected(self, ctx: ValidationContext) -> None:
        with pytest.raises(DomainError) as info:
            clean_encounter(
                enc(institution_code="QH9999", principal_diagnosis="", total_cost=None), ctx
            )
        assert set(info.value.field_errors) == {
            "institution_code",
            "principal_diagnosis",
            "total_cost",
        }

    def test_non_member_institution_is_refused(self, world: Any) -> None:
        do_add_institution(
            code="PV0001",
            name="青禾县仁爱诊所",
            inst_type=InstitutionType.PRIVATE,
            is_public=False,
            division=world.townships["城关镇"],
        )
        ctx = ValidationContext.load(today=TODAY)
        with pytest.raises(DomainError) as info:
            clean_encounter(enc(institution_code="PV0001", doctor_code=""), ctx)
        assert info.value.field_errors == {
            "institution_code": ["机构代码“PV0001”不存在或不是医共体成员单位"]
        }

    def test_residents_are_prefetched_in_one_query(
        self, ctx: ValidationContext, django_assert_num_queries: Any
    ) -> None:
        rows = [
            enc(external_id="A"),
            enc(external_id="B", id_number=CHEN, patient_name="陈晓东"),
            enc(external_id="C", id_number="439901195308210044", patient_name=""),
        ]
        with django_assert_num_queries(1):
            ctx.prefetch_residents(rows)
        with django_assert_num_queries(0):
            clean_all(ctx, rows)


@pytest.mark.django_db
class TestUpsertEncounters:
    def rows(self) -> list[EncounterInput]:
        return [
            enc(external_id="MZ0001", procedures=["89.52"]),
            enc(external_id="MZ0002", visit_date=dt.date(2025, 7, 1)),
            enc(
                external_id="ZY0001",
                source_system="HIS-QH0001",
                institution_code="QH0001",
                doctor_code="QH0001-0001",
                department_name="心血管内科",
                setting="inpatient",
                visit_date=dt.date(2025, 3, 1),
                discharge_date=dt.date(2025, 3, 9),
                principal_diagnosis="I63.9",
                procedures=["88.01", "89.52"],
                total_cost=D("8000.00"),
                drug_cost=D("3000.00"),
                fund_paid=D("6000.00"),
                personal_paid=D("2000.00"),
                deductible=D("300.00"),
            ),
        ]

    def test_insert_then_unchanged_then_updated(self, world: Any, ctx: ValidationContext) -> None:
        assert upsert_encounters(clean_all(ctx, self.rows())) == UpsertCounts(3, 0, 0)
        assert Encounter.objects.count() == 3
        assert EncounterProcedure.objects.count() == 3
        first = Encounter.objects.get(external_id="MZ0001")
        assert (first.other_diagnoses, first.total_cost, first.discharge_date, first.is_tcm) == (
            ["E11.9"],
            D("100.00"),
            None,
            False,
        )
        assert first.resident_id == world.residents["elderly_patient"].pk
        stamp = (first.content_hash, first.updated_at, first.created_at)

        assert upsert_encounters(clean_all(ctx, self.rows())) == UpsertCounts(0, 0, 3)
        first.refresh_from_db()
        assert (first.content_hash, first.updated_at, first.created_at) == stamp

        corrected = self.rows()
        corrected[2].procedures = ["36.06"]
        corrected[2].total_cost = D("8000.50")
        corrected[2].personal_paid = D("2000.50")
        assert upsert_encounters(clean_all(ctx, corrected)) == UpsertCounts(0, 1, 2)
        stay = Encounter.objects.get(external_id="ZY0001")
        assert stay.total_cost == D("8000.50")
        assert list(stay.procedures.values_list("seq", "code", "grade")) == [(1, "36.06", 4)]
        assert Encounter.objects.count() == 3
        assert EncounterProcedure.objects.count() == 2

    def test_batch_and_timestamps(self, world: Any, ctx: ValidationContext) -> None:
        from yigongti.core import clock
        from yigongti.encounters.choices import ImportKind
        from yigongti.encounters.models import ImportBatch

        at = dt.datetime(2025, 12, 31, 2, 0, tzinfo=dt.UTC)
        with clock.frozen(at):
            batch = ImportBatch.objects.create(
                kind=ImportKind.ENCOUNTERS,
                source_system="HIS-QH1002",
                file_name="a.csv",
                file_sha256="0" * 64,
                started_at=at,
            )
            upsert_encounters(clean_all(ctx, self.rows()[:1]), batch=batch)
        row = Encounter.objects.get()
        assert (row.batch_id, row.created_at, row.updated_at) == (batch.pk, at, at)

    def test_repeated_key_in_one_call(self, ctx: ValidationContext) -> None:
        rows = [enc(), enc(), enc(total_cost=D("101.00"), personal_paid=D("31.00"))]
        assert upsert_encounters(clean_all(ctx, rows)) == UpsertCounts(1, 1, 1)
        assert Encounter.objects.get().total_cost == D("101.00")

    def test_care_relationship_granted_once(self, world: Any, ctx: ValidationContext) -> None:
        zhang = world.residents["elderly_patient"]
        upsert_encounters(clean_all(ctx, self.rows()))
        upsert_encounters(clean_all(ctx, self.rows()))
        grants = CareRelationship.objects.filter(
            resident=zhang, kind=AccessBasis.TREATING
        ).order_by("institution__code")
        assert [
            (g.institution.code, g.source, g.valid_from, g.valid_to, g.practitioner_id)
            for g in grants
        ] == [
            ("QH0001", "encounter", dt.date(2025, 3, 1), dt.date(2026, 3, 9), None),
            ("QH1002", "encounter", dt.date(2025, 6, 1), dt.date(2026, 7, 1), None),
        ]
        # another visit inside the granted window changes nothing
        upsert_encounters(clean_all(ctx, [enc(external_id="MZ0009")]))
        assert CareRelationship.objects.filter(kind=AccessBasis.TREATING).count() == 2
        # a later visit widens the pair's window instead of adding a row
        upsert_encounters(clean_all(ctx, [enc(external_id="MZ0003", visit_date=TODAY)]))
        grant = CareRelationship.objects.get(
            kind=AccessBasis.TREATING, institution=world.institutions["thc_hekou"]
        )
        assert (grant.valid_from, grant.valid_to) == (dt.date(2025, 6, 1), dt.date(2026, 12, 31))
        # a visit long after the window ends gets a relationship of its own
        later = dt.date(2027, 2, 1)
        upsert_encounters(
            clean_all(
                ValidationContext.load(today=later),
                [enc(external_id="MZ0004", visit_date=later)],
            )
        )
        assert list(
            CareRelationship.objects.filter(
                kind=AccessBasis.TREATING, institution=world.institutions["thc_hekou"]
            )
            .order_by("valid_from")
            .values_list("valid_from", "valid_to")
        ) == [
            (dt.date(2025, 6, 1), dt.date(2026, 12, 31)),
            (dt.date(2027, 2, 1), dt.date(2028, 2, 1)),
        ]
        # a manually granted relationship that does not cover is never widened
        assert CareRelationship.objects.filter(kind=AccessBasis.FAMILY_DOCTOR).get().valid_to == (
            dt.date(2027, 12, 31)
        )

    def test_policy_parameter_sets_the_window(self, world: Any, ctx: ValidationContext) -> None:
        PolicyParameter.objects.create(
            key="access.treating_days_after_encounter",
            effective_from=dt.date(2025, 1, 1),
            value=30,
            source="test",
        )
        upsert_encounters(clean_all(ctx, self.rows()[:1]))
        grant = CareRelationship.objects.get(kind=AccessBasis.TREATING)
        assert (grant.valid_from, grant.valid_to) == (dt.date(2025, 6, 1), dt.date(2025, 7, 1))

    def test_treating_institution_may_read_the_resident(
        self, world: Any, ctx: ValidationContext, actor_for: Any
    ) -> None:
        doctor = actor_for("hekou_doctor")
        mpi = world.residents["elderly_patient"].mpi_id
        with pytest.raises(AccessDenied):
            do_read_resident(doctor, mpi, today=TODAY)
        upsert_encounters(clean_all(ctx, self.rows()[:1]))
        resident, basis = do_read_resident(doctor, mpi, today=TODAY)
        assert (resident.mpi_id, basis) == (mpi, AccessBasis.TREATING)
        # the window closes 365 days after the visit
        with pytest.raises(AccessDenied):
            do_read_resident(doctor, mpi, today=dt.date(2026, 6, 2))

    def test_scope_still_applies(self, world: Any, ctx: ValidationContext, actor_for: Any) -> None:
        upsert_encounters(clean_all(ctx, [enc(id_number=CHEN, patient_name="陈晓东")]))
        assert CareRelationship.objects.filter(
            resident=world.residents["town_resident"], kind=AccessBasis.TREATING
        ).exists()
        with pytest.raises(AccessDenied) as info:
            do_read_resident(
                actor_for("hekou_doctor"), world.residents["town_resident"].mpi_id, today=TODAY
            )
        assert info.value.reason == "该居民不在您的数据范围内"

    def test_queries(self, world: Any, ctx: ValidationContext) -> None:
        upsert_encounters(clean_all(ctx, self.rows()))
        upsert_external_settlements([clean_external_settlement(settlement(), ctx)])
        lead_path = world.lead_hospital.path
        hekou_path = world.institutions["thc_hekou"].path
        ids = lambda qs: [e.external_id for e in qs]  # noqa: E731
        assert ids(queries.list_encounters([lead_path])) == ["MZ0002", "MZ0001", "ZY0001"]
        assert ids(queries.list_encounters([hekou_path])) == ["MZ0002", "MZ0001"]
        assert ids(queries.list_encounters([])) == []
        assert ids(queries.list_encounters(None, setting="inpatient")) == ["ZY0001"]
        assert ids(queries.list_encounters(None, institution_code="QH0001")) == ["ZY0001"]
        assert ids(queries.list_encounters(None, diagnosis_prefix="i6")) == ["ZY0001"]
        assert ids(queries.list_encounters(None, doctor_code="QH1002-0001")) == [
            "MZ0002",
            "MZ0001",
        ]
        assert ids(
            queries.list_encounters(
                None, date_from=dt.date(2025, 6, 1), date_to=dt.date(2025, 6, 30)
            )
        ) == ["MZ0001"]
        timeline = queries.list_resident_timeline(world.residents["elderly_patient"])
        assert [(t.kind, t.date, t.institution_name) for t in timeline] == [
            ("encounter", dt.date(2025, 7, 1), "青禾县河口乡卫生院"),
            ("encounter", dt.date(2025, 6, 1), "青禾县河口乡卫生院"),
            ("external", dt.date(2025, 5, 20), "湖南省人民医院"),
            ("encounter", dt.date(2025, 3, 1), "青禾县人民医院"),
        ]

    def test_new_ids_between_stored_ones(self, ctx: ValidationContext) -> None:
        # A chunk whose ids span a stored one is looked up row by row; one beyond every
        # stored id is known new from a single probe. Both count the same.
        def ids(*names: str) -> list[CleanEncounter]:
            return clean_all(ctx, [enc(external_id=name) for name in names])

        assert upsert_encounters(ids("MZ5")) == UpsertCounts(1, 0, 0)
        assert upsert_encounters(ids("MZ4", "MZ6")) == UpsertCounts(2, 0, 0)
        assert upsert_encounters(ids("MZ7", "MZ8")) == UpsertCounts(2, 0, 0)
        assert upsert_encounters(ids("MZ3", "MZ8")) == UpsertCounts(1, 0, 1)
        assert Encounter.objects.count() == 6

    def test_rows_round_trip_and_pickle_as_columns(self, ctx: ValidationContext) -> None:
        cleaned = clean_all(ctx, self.rows())
        rows = [encounter_row(c) for c in cleaned]
        assert [clean_of_row(r) for r in rows] == cleaned
        # ISO dates, Decimal text and JSON text: what the SQLite driver binds for the values
        inpatient = dict(zip(ROW_FIELDS, rows[2], strict=False))
        assert (inpatient["visit_date"], inpatient["discharge_date"]) == (
            "2025-03-01",
            "2025-03-09",
        )
        assert (inpatient["total_cost"], inpatient["drug_cost"]) == ("8000.00", "3000.00")
        assert dict(zip(ROW_FIELDS, rows[0], strict=False))["other_diagnoses"] == '["E11.9"]'
        packed = EncounterRows(rows)
        back = pickle.loads(pickle.dumps(packed))  # noqa: S301 - our own bytes
        assert len(back) == 3
        assert back.rows() == rows
        assert len(back.columns()) == len(ROW_FIELDS) + 1

    def test_rows_write_what_clean_encounters_write(
        self, world: Any, ctx: ValidationContext
    ) -> None:
        def stored() -> list[tuple[Any, ...]]:
            return list(
                Encounter.objects.order_by("pk").values_list(
                    *(f for f in ROW_FIELDS if f != "content_hash"), "content_hash"
                )
            )

        assert upsert_encounters(clean_all(ctx, self.rows())) == UpsertCounts(3, 0, 0)
        first = stored()
        procedures = list(EncounterProcedure.objects.values_list("encounter__external_id", "seq"))
        Encounter.objects.all().delete()
        rows = EncounterRows.of(clean_all(ctx, self.rows()))
        again = pickle.loads(pickle.dumps(rows))  # noqa: S301 - our own bytes
        assert upsert_encounters(again) == UpsertCounts(3, 0, 0)
        assert stored() == first
        assert (
            list(EncounterProcedure.objects.values_list("encounter__external_id", "seq"))
            == procedures
        )
        assert upsert_encounters(EncounterRows.of(clean_all(ctx, self.rows()))) == UpsertCounts(
            0, 0, 3
        )


@pytest.mark.django_db
class TestExternalSettlements:
    def test_valid_and_idempotent(self, world: Any, ctx: ValidationContext) -> None:
        rows = [
            settlement(),
            settlement(
                external_id="YD0001",
                kind="定点零售药店",
                institution_name="青禾大药房",
                setting="门诊",
                admission_date=None,
                discharge_date=None,
                settlement_date=dt.date(2025, 8, 1),
                region_code="",
                region_name="",
                level="0",
                principal_diagnosis="",
                total_cost=D("86.50"),
                fund_paid=D("50.00"),
                personal_paid=D("36.50"),
            ),
        ]
        clean = [clean_external_settlement(r, ctx) for r in rows]
        assert clean[0].values["resident_id"] == world.residents["elderly_patient"].pk
        assert clean[1].values["kind"] == "pharmacy"
        assert upsert_external_settlements(clean) == UpsertCounts(2, 0, 0)
        assert upsert_external_settlements(clean) == UpsertCounts(0, 0, 2)
        rows[1].total_cost = D("87.50")
        rows[1].personal_paid = D("37.50")
        clean = [clean_external_settlement(r, ctx) for r in rows]
        assert upsert_external_settlements(clean) == UpsertCounts(0, 1, 1)
        assert ExternalSettlement.objects.get(external_id="YD0001").total_cost == D("87.50")
        assert ExternalSettlement.objects.count() == 2
        assert not CareRelationship.objects.filter(kind=AccessBasis.TREATING).exists()

    @pytest.mark.parametrize(
        ("overrides", "errors"),
        [
            ({"external_id": ""}, {"external_id": ["来源编号不能为空"]}),
            ({"kind": "诊所"}, {"kind": ["结算类别“诊所”无效，应为县域外就医或定点零售药店"]}),
            (
                {"kind": "pharmacy"},
                {"setting": ["定点零售药店结算的就诊类型只能是门诊"]},
            ),
            ({"settlement_date": None}, {"settlement_date": ["结算日期不能为空"]}),
            (
                {"settlement_date": dt.date(2026, 1, 1)},
                {"settlement_date": ["结算日期 2026-01-01 晚于今天"]},
            ),
            ({"institution_name": ""}, {"institution_name": ["机构/药店名称不能为空"]}),
            ({"admission_date": None}, {"admission_date": ["住院结算必须填写入院日期"]}),
            ({"discharge_date": None}, {"discharge_date": ["住院结算必须填写出院日期"]}),
            (
                {"discharge_date": dt.date(2025, 5, 9)},
                {"discharge_date": ["出院日期不能早于入院日期"]},
            ),
            (
                {"region_code": "4301"},
                {"region_code": ["所在地区代码“4301”应为6位或12位数字"]},
            ),
            ({"level": "5"}, {"level": ["机构级别“5”无效，应为0（未定级）、1、2或3"]}),
            (
                {"principal_diagnosis": "X99"},
                {"principal_diagnosis": ["诊断编码“X99”不在ICD-10字典中"]},
            ),
            (
                {"id_number": idn("43990119800101001")},
                {
                    "id_number": [
                        f"证件号码“{idn('43990119800101001')}”在居民主索引中不存在，请先建档"
                    ]
                },
            ),
            ({"patient_name": "王五"}, {"patient_name": ["姓名与主索引不符"]}),
            (
                {"fund_paid": D("6998.99")},
                {
                    "fund_paid": [
                        "统筹支付与个人支付之和 11998.99 元与总费用 12000.00 元相差超过1元"
                    ]
                },
            ),
            ({"total_cost": D("-1")}, {"total_cost": ["总费用不能为负数"]}),
        ],
    )
    def test_refusals(
        self, ctx: ValidationContext, overrides: dict[str, Any], errors: dict[str, list[str]]
    ) -> None:
        with pytest.raises(DomainError) as info:
            clean_external_settlement(settlement(**overrides), ctx)
        assert info.value.field_errors == errors
        assert ExternalSettlement.objects.count() == 0
