"""MPI services: registration and its refusals, duplicates, care relationships, the read gate."""

from __future__ import annotations

import datetime as dt

import pytest

from yigongti.core.choices import AccessBasis, AuditAction
from yigongti.core.errors import AccessDenied, DomainError
from yigongti.core.models import AuditEvent
from yigongti.core.queries import verify_audit_chain
from yigongti.residents.choices import DuplicateStatus, IdType, InsuranceType, Relation
from yigongti.residents.models import CareRelationship, DuplicateCandidate, Resident
from yigongti.residents.rules import check_digit
from yigongti.residents.services import (
    ResidentInput,
    bulk_register_residents,
    do_grant_care_relationship,
    do_keep_apart,
    do_merge_duplicate,
    do_read_resident,
    do_register_resident,
    do_reveal_field,
)

TODAY = dt.date(2025, 12, 31)
HEKOU = "439901002001"
TAOYUAN = "439901002002"


def idn(first17: str) -> str:
    return first17 + check_digit(first17)


def valid_input(**overrides: object) -> ResidentInput:
    data = ResidentInput(
        name="刘桂兰",
        id_number=idn("43990119620704002"),
        division_code=HEKOU,
        phone="13907311234",
        insurance_type=InsuranceType.RESIDENT,
        insurance_number="Q0001",
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


@pytest.mark.django_db
class TestRegister:
    def test_valid_registration_derives_sex_birth_pinyin_and_audits(self, world, actor_for) -> None:
        admin = actor_for("county_admin")
        before = AuditEvent.objects.count()
        resident = do_register_resident(admin, valid_input(), today=TODAY)
        assert (resident.sex, resident.birth_date) == ("F", dt.date(1962, 7, 4))
        assert (resident.name_pinyin, resident.name_initials) == ("liuguilan", "lgl")
        assert resident.mpi_id == "R00000000004"
        assert resident.division_code == HEKOU
        assert resident.is_sensitive is False
        event = AuditEvent.objects.order_by("-seq").first()
        assert AuditEvent.objects.count() == before + 1
        assert (event.action, event.actor_username, event.subject_resident_id, event.basis) == (
            AuditAction.CREATE,
            "admin",
            resident.pk,
            AccessBasis.DATA_ENTRY,
        )

    def test_legacy_15_digit_is_stored_as_18(self, world) -> None:
        resident = do_register_resident(None, valid_input(id_number="439901620704002"), today=TODAY)
        assert resident.id_number == "43990119620704002" + check_digit("43990119620704002")

    def test_minor_is_sensitive(self, world) -> None:
        resident = do_register_resident(
            None,
            valid_input(id_number=idn("43990120150101002"), phone="", insurance_number="Q9"),
            today=TODAY,
        )
        assert resident.is_sensitive is True

    def test_every_bad_field_is_reported_and_nothing_written(self, world) -> None:
        count, audits = Resident.objects.count(), AuditEvent.objects.count()
        with pytest.raises(DomainError) as exc:
            do_register_resident(
                None,
                valid_input(
                    name="X",
                    id_number="439901196207040021",
                    phone="12345",
                    division_code="439901009009",
                    insurance_number="",
                ),
                today=TODAY,
            )
        assert exc.value.field_errors == {
            "name": ["姓名只能包含汉字、间隔号或字母，长度2–20"],
            "id_number": [f"身份证号校验位错误：最后一位应为“{check_digit('43990119620704002')}”"],
            "sex": ["性别必须是“男”或“女”"],
            "birth_date": ["出生日期不能为空"],
            "phone": ["电话号码“12345”格式错误：手机号应为1开头的11位数字，座机如0731-1234567"],
            "division_code": ["区划代码“439901009009”不存在或不是村（社区）级"],
            "insurance_number": ["已参保居民必须填写医保号"],
        }
        assert (Resident.objects.count(), AuditEvent.objects.count()) == (count, audits)

    def test_sex_and_birth_must_match_the_id(self, world) -> None:
        with pytest.raises(DomainError) as exc:
            do_register_resident(
                None, valid_input(sex="M", birth_date=dt.date(1962, 7, 5)), today=TODAY
            )
        assert exc.value.field_errors == {
            "sex": ["性别与身份证号不符：身份证号显示为女"],
            "birth_date": ["出生日期与身份证号不符：身份证号显示为 1962-07-04"],
        }

    def test_township_code_is_not_a_village(self, world) -> None:
        with pytest.raises(DomainError) as exc:
            do_register_resident(None, valid_input(division_code="439901002000"), today=TODAY)
        assert exc.value.field_errors == {
            "division_code": ["区划代码“439901002000”不存在或不是村（社区）级"]
        }

    def test_duplicate_identity_number_is_refused(self, world) -> None:
        count = Resident.objects.count()
        with pytest.raises(DomainError) as exc:
            do_register_resident(None, valid_input(id_number="439901195103150033"), today=TODAY)
        assert exc.value.field_errors == {
            "id_number": ["该证件号码已建档，一个证件只能对应一名居民"]
        }
        assert Resident.objects.count() == count

    def test_passport_holder(self, world) -> None:
        resident = do_register_resident(
            None,
            valid_input(
                id_type=IdType.PASSPORT,
                id_number="e12345678",
                sex="M",
                birth_date=dt.date(1980, 1, 1),
            ),
            today=TODAY,
        )
        assert (resident.id_type, resident.id_number) == (IdType.PASSPORT, "E12345678")

    def test_unknown_household(self, world) -> None:
        with pytest.raises(DomainError) as exc:
            do_register_resident(None, valid_input(household_code="H-NONE"), today=TODAY)
        assert exc.value.field_errors == {"household_code": ["户编号 H-NONE 不存在"]}


@pytest.mark.django_db
class TestBulk:
    def test_bulk_applies_the_same_validation(self, world) -> None:
        rows = [
            valid_input(),
            valid_input(name="刘二", id_number="439901196207040021"),
            valid_input(name="刘三", id_number=idn("43990119620704002")),  # same as row 0
            valid_input(name="张四", id_number="439901195103150033"),  # already registered
            valid_input(name="刘五", id_number=idn("43990119700101003"), insurance_number="Q5"),
        ]
        result = bulk_register_residents(
            rows,
            today=TODAY,
            now=dt.datetime(2025, 12, 31, tzinfo=dt.UTC),
            first_mpi_number=100,
        )
        assert result.inserted == 2
        assert [index for index, _ in result.rejected] == [1, 2, 3]
        assert result.rejected[1][1] == {"id_number": ["该证件号码在本批次中重复"]}
        assert result.rejected[2][1] == {"id_number": ["证件号码 439901195103150033 已建档"]}
        assert sorted(
            Resident.objects.filter(mpi_id__gte="R00000000100").values_list("mpi_id", "name")
        ) == [
            ("R00000000100", "刘桂兰"),
            ("R00000000101", "刘五"),
        ]


@pytest.mark.django_db
class TestDuplicates:
    def _twin(self, world) -> Resident:
        return do_register_resident(
            None,
            valid_input(
                name="张德福",
                id_type=IdType.OTHER,
                id_number="TEMP-0001",
                sex="M",
                birth_date=dt.date(1951, 3, 15),
                division_code=TAOYUAN,
            ),
            today=TODAY,
        )

    def test_look_alike_is_queued(self, world) -> None:
        twin = self._twin(world)
        candidate = DuplicateCandidate.objects.get()
        original = world.residents["elderly_patient"]
        assert (candidate.resident_a_id, candidate.resident_b_id) == (original.pk, twin.pk)
        assert candidate.status == DuplicateStatus.OPEN

    def test_merge_moves_relationships_and_audits(self, world, actor_for) -> None:
        twin = self._twin(world)
        original = world.residents["elderly_patient"]
        do_grant_care_relationship(
            twin,
            world.institutions["thc_hekou"],
            AccessBasis.TREATING,
            source="test",
            valid_from=TODAY,
        )
        candidate = DuplicateCandidate.objects.get()
        survivor = do_merge_duplicate(actor_for("county_admin"), candidate, original.pk, "同一人")
        assert survivor.pk == original.pk
        twin.refresh_from_db()
        assert twin.merged_into_id == original.pk
        assert CareRelationship.objects.filter(resident=twin).count() == 0
        assert CareRelationship.objects.filter(resident=original).count() == 2
        candidate.refresh_from_db()
        assert candidate.status == DuplicateStatus.MERGED
        event = AuditEvent.objects.order_by("-seq").first()
        assert (event.action, event.purpose, event.detail["retired_resident_id"]) == (
            AuditAction.MERGE,
            "同一人",
            twin.pk,
        )

    def test_second_decision_is_refused(self, world, actor_for) -> None:
        self._twin(world)
        candidate = DuplicateCandidate.objects.get()
        do_keep_apart(actor_for("county_admin"), candidate, "不同人")
        candidate.refresh_from_db()
        with pytest.raises(DomainError, match="已处理"):
            do_merge_duplicate(actor_for("county_admin"), candidate, candidate.resident_a_id)
        assert Resident.objects.filter(merged_into__isnull=False).count() == 0

    def test_doctor_cannot_merge(self, world, actor_for) -> None:
        self._twin(world)
        candidate = DuplicateCandidate.objects.get()
        with pytest.raises(AccessDenied, match="只有县级管理员或机构管理员"):
            do_merge_duplicate(actor_for("hekou_doctor"), candidate, candidate.resident_a_id)
        candidate.refresh_from_db()
        assert candidate.status == DuplicateStatus.OPEN


@pytest.mark.django_db
class TestReadGate:
    """Who may read 张德福 (桃源村, 河口乡), and what the audit log says afterwards."""

    @pytest.mark.parametrize(
        ("persona", "purpose", "basis"),
        [
            ("family_doctor", "", AccessBasis.FAMILY_DOCTOR),
            ("public_health", "", AccessBasis.PUBLIC_HEALTH),
            ("county_admin", "质控抽查", AccessBasis.BREAK_GLASS),
            ("hekou_doctor", "急诊", AccessBasis.BREAK_GLASS),
            ("cardiologist", "会诊", AccessBasis.BREAK_GLASS),
            ("institution_admin", "核对档案", AccessBasis.BREAK_GLASS),
        ],
    )
    def test_allowed(self, world, actor_for, persona: str, purpose: str, basis: str) -> None:
        patient = world.residents["elderly_patient"]
        resident, used = do_read_resident(
            actor_for(persona), patient.mpi_id, purpose=purpose, today=TODAY
        )
        assert resident.pk == patient.pk and used == basis
        event = AuditEvent.objects.order_by("-seq").first()
        assert (event.action, event.basis, event.subject_resident_id, event.purpose) == (
            AuditAction.READ,
            basis,
            patient.pk,
            purpose,
        )

    @pytest.mark.parametrize(
        ("persona", "purpose", "reason", "can_break"),
        [
            ("township_doctor", "", "该居民不在您的数据范围内", False),
            ("township_doctor", "急诊", "该居民不在您的数据范围内", False),
            ("auditor", "", "您的角色只能查看去标识化的汇总数据，不能查看个人档案", False),
            ("centre_staff", "", "您的角色只能查看去标识化的汇总数据，不能查看个人档案", False),
            ("pharmacist", "x", "您的角色只能查看去标识化的汇总数据，不能查看个人档案", False),
            (
                "insurance_reviewer",
                "",
                "您的角色只能查看去标识化的汇总数据，不能查看个人档案",
                False,
            ),
            (
                "county_admin",
                "",
                "您与该居民没有诊疗、签约、转诊或公共卫生服务关系；如确需查阅，请填写查阅事由（将被审计复核）",
                True,
            ),
            (
                "hekou_doctor",
                "  ",
                "您与该居民没有诊疗、签约、转诊或公共卫生服务关系；如确需查阅，请填写查阅事由（将被审计复核）",
                True,
            ),
        ],
    )
    def test_denied_and_audited(
        self, world, actor_for, persona: str, purpose: str, reason: str, can_break: bool
    ) -> None:
        patient = world.residents["elderly_patient"]
        before = AuditEvent.objects.count()
        with pytest.raises(AccessDenied) as exc:
            do_read_resident(actor_for(persona), patient.mpi_id, purpose=purpose, today=TODAY)
        assert (exc.value.reason, exc.value.can_break_glass) == (reason, can_break)
        assert AuditEvent.objects.count() == before + 1
        event = AuditEvent.objects.order_by("-seq").first()
        assert (event.action, event.subject_resident_id, event.detail) == (
            AuditAction.DENIED,
            patient.pk,
            {"reason": reason},
        )

    def test_unknown_id_is_denied_like_out_of_scope(self, world, actor_for) -> None:
        with pytest.raises(AccessDenied, match="该居民不在您的数据范围内"):
            do_read_resident(actor_for("county_admin"), "R99999999999", purpose="x", today=TODAY)
        assert AuditEvent.objects.order_by("-seq").first().resource_id == "R99999999999"

    def test_expired_relationship_no_longer_counts(self, world, actor_for) -> None:
        patient = world.residents["elderly_patient"]
        with pytest.raises(AccessDenied):
            do_read_resident(actor_for("family_doctor"), patient.mpi_id, today=dt.date(2028, 1, 1))

    def test_sensitive_record_refuses_admin_break_glass(self, world, actor_for) -> None:
        patient = world.residents["elderly_patient"]
        Resident.objects.filter(pk=patient.pk).update(is_sensitive=True)
        with pytest.raises(AccessDenied) as exc:
            do_read_resident(actor_for("county_admin"), patient.mpi_id, purpose="抽查", today=TODAY)
        assert exc.value.can_break_glass is False
        _, basis = do_read_resident(
            actor_for("hekou_doctor"), patient.mpi_id, purpose="急诊", today=TODAY
        )
        assert basis == AccessBasis.BREAK_GLASS

    def test_treating_relationship_of_another_institution_does_not_help(
        self, world, actor_for
    ) -> None:
        patient = world.residents["elderly_patient"]
        do_grant_care_relationship(
            patient,
            world.institutions["thc_chengguan"],
            AccessBasis.TREATING,
            source="t",
            valid_from=TODAY,
        )
        with pytest.raises(AccessDenied, match="不在您的数据范围内"):
            do_read_resident(actor_for("township_doctor"), patient.mpi_id, today=TODAY)

    def test_reveal_is_audited_and_chain_stays_valid(self, world, actor_for) -> None:
        patient = world.residents["elderly_patient"]
        actor = actor_for("family_doctor")
        resident, basis = do_read_resident(actor, patient.mpi_id, today=TODAY)
        assert do_reveal_field(actor, resident, "id_number", basis) == "439901195103150033"
        event = AuditEvent.objects.order_by("-seq").first()
        assert (event.action, event.detail) == (AuditAction.REVEAL, {"field": "id_number"})
        with pytest.raises(DomainError):
            do_reveal_field(actor, resident, "name", basis)
        assert verify_audit_chain().ok


@pytest.mark.django_db
def test_care_relationship_refusals(world) -> None:
    patient = world.residents["elderly_patient"]
    inst = world.institutions["thc_hekou"]
    with pytest.raises(DomainError, match="不能授予查阅权限"):
        do_grant_care_relationship(
            patient, inst, AccessBasis.BREAK_GLASS, source="x", valid_from=TODAY
        )
    with pytest.raises(DomainError, match="结束日期不能早于开始日期"):
        do_grant_care_relationship(
            patient,
            inst,
            AccessBasis.TREATING,
            source="x",
            valid_from=TODAY,
            valid_to=dt.date(2025, 1, 1),
        )


@pytest.mark.django_db
def test_household_relations(world) -> None:
    head = world.residents["elderly_patient"]
    spouse = world.residents["elderly_spouse"]
    assert head.household_id == spouse.household_id
    assert (head.relation_to_head, spouse.relation_to_head) == (Relation.HEAD, Relation.SPOUSE)


@pytest.mark.django_db
def test_bulk_ensure_care_relationships(world) -> None:
    from yigongti.residents.services import bulk_ensure_care_relationships

    patient = world.residents["elderly_patient"]
    inst = world.institutions["thc_hekou"]
    key = (patient.pk, inst.pk)
    jan = (dt.date(2025, 1, 1), dt.date(2025, 12, 31), "enc:1")
    assert bulk_ensure_care_relationships(
        {key: jan}, kind=AccessBasis.TREATING, source="encounter"
    ) == (1, 0)
    # covered → nothing; adjoining → widened; same pair keeps one row
    assert bulk_ensure_care_relationships(
        {key: jan}, kind=AccessBasis.TREATING, source="encounter"
    ) == (0, 0)
    later = (dt.date(2026, 1, 1), dt.date(2026, 6, 30), "enc:2")
    assert bulk_ensure_care_relationships(
        {key: later}, kind=AccessBasis.TREATING, source="encounter"
    ) == (0, 1)
    row = CareRelationship.objects.get(
        resident=patient, institution=inst, kind=AccessBasis.TREATING
    )
    assert (row.valid_from, row.valid_to) == (dt.date(2025, 1, 1), dt.date(2026, 6, 30))
    with pytest.raises(DomainError, match="不能授予查阅权限"):
        bulk_ensure_care_relationships({key: jan}, kind=AccessBasis.BREAK_GLASS, source="x")
    with pytest.raises(DomainError, match="结束日期不能早于开始日期"):
        bulk_ensure_care_relationships(
            {key: (dt.date(2025, 2, 1), dt.date(2025, 1, 1), "x")},
            kind=AccessBasis.TREATING,
            source="x",
        )
