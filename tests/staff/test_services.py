from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from yigongti.core.errors import DomainError
from yigongti.staff.choices import PracticeCategory, Profession, Sex, TitleGrade
from yigongti.staff.models import PracticeSite, Practitioner
from yigongti.staff.queries import count_by_institution, list_practitioners
from yigongti.staff.services import do_add_practice_site, do_create_practitioner

START = dt.date(2024, 1, 1)


@pytest.mark.django_db
class TestPractitioners:
    def test_created_with_title_name_and_primary_site(self, world) -> None:
        p = do_create_practitioner(
            code="QH1002-0009",
            name="何芳",
            sex=Sex.FEMALE,
            profession=Profession.NURSE,
            title_grade=TitleGrade.INTERMEDIATE,
            employer=world.institutions["thc_hekou"],
            start_date=START,
        )
        assert p.title_name == "主管护师"
        assert list(p.sites.values_list("institution__code", "is_primary")) == [("QH1002", True)]

    def test_refusals(self, world) -> None:
        count = Practitioner.objects.count()
        with pytest.raises(DomainError) as exc:
            do_create_practitioner(
                code="QH0001-0001",
                name="",
                sex=Sex.MALE,
                profession=Profession.PHYSICIAN,
                practice_category=PracticeCategory.NONE,
                employer=world.institutions["thc_hekou"],
                department=world.lead_hospital.departments.get(code="XNK"),
                start_date=START,
            )
        assert exc.value.field_errors == {
            "practice_category": ["执业医师必须有执业类别（临床、中医、口腔或公共卫生）"],
            "name": ["姓名不能为空"],
            "code": ["工号 QH0001-0001 已存在"],
            "department": ["科室不属于人事所在机构"],
        }
        assert Practitioner.objects.count() == count

    def test_multi_site_practice_moves_primary(self, world) -> None:
        doc = world.practitioners["cardiologist"]
        assert doc.sites.count() == 2
        do_add_practice_site(doc, world.institutions["thc_chengguan"], START, make_primary=True)
        assert list(
            doc.sites.filter(is_primary=True).values_list("institution__code", flat=True)
        ) == ["QH1001"]
        with pytest.raises(DomainError, match="已在"):
            do_add_practice_site(doc, world.institutions["thc_chengguan"], START)

    def test_database_refuses_two_primary_sites(self, world) -> None:
        doc = world.practitioners["township_doctor"]
        with pytest.raises(IntegrityError), transaction.atomic():
            PracticeSite.objects.create(
                practitioner=doc, institution=world.lead_hospital, is_primary=True, start_date=START
            )

    def test_queries(self, world) -> None:
        assert list(
            list_practitioners(within_paths=["QH0001/QH1002/"]).values_list("name", flat=True)
        ) == ["陈立", "周卫民", "王建国"]
        assert list(
            list_practitioners(title_grade=TitleGrade.ASSOCIATE_SENIOR).values_list(
                "name", flat=True
            )
        ) == ["李心远"]
        counts = count_by_institution()
        assert counts[world.lead_hospital.pk] == 2
