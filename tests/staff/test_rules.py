from __future__ import annotations

import datetime as dt

import pytest

from yigongti.staff import rules
from yigongti.staff.choices import PracticeCategory as C
from yigongti.staff.choices import Profession as P
from yigongti.staff.choices import TitleGrade as G


@pytest.mark.parametrize(
    ("profession", "grade", "name"),
    [
        (P.PHYSICIAN, G.JUNIOR, "医师"),
        (P.PHYSICIAN, G.INTERMEDIATE, "主治医师"),
        (P.PHYSICIAN, G.ASSOCIATE_SENIOR, "副主任医师"),
        (P.PHYSICIAN, G.SENIOR, "主任医师"),
        (P.NURSE, G.INTERMEDIATE, "主管护师"),
        (P.PHARMACIST, G.SENIOR, "主任药师"),
        (P.VILLAGE_DOCTOR, G.JUNIOR, ""),
    ],
)
def test_title_names(profession: str, grade: str, name: str) -> None:
    assert rules.title_name(profession, grade) == name


def test_valid_physician() -> None:
    assert rules.check_practitioner(P.PHYSICIAN, C.CLINICAL, G.SENIOR, dt.date(1970, 1, 1)) == {}


@pytest.mark.parametrize(
    ("args", "errors"),
    [
        ((P.PHYSICIAN, C.NONE, G.JUNIOR, None), {"practice_category": ["执业医师必须有执业类别（临床、中医、口腔或公共卫生）"]}),
        ((P.NURSE, C.CLINICAL, G.JUNIOR, None), {"practice_category": ["只有医师（或取得执业资格的乡村医生）才有执业类别"]}),
        ((P.VILLAGE_DOCTOR, C.DENTAL, G.JUNIOR, None), {"practice_category": ["只有医师（或取得执业资格的乡村医生）才有执业类别"]}),
        ((P.VILLAGE_DOCTOR, C.CLINICAL, G.SENIOR, None), {"title_grade": ["乡村医生和管理人员不评定卫生系列高级职称"]}),
        ((P.NURSE, C.NONE, G.JUNIOR, dt.date(2015, 1, 1)), {"birth_date": ["出生日期不合理"]}),
    ],
)  # fmt: skip
def test_refusals(args: tuple, errors: dict[str, list[str]]) -> None:  # type: ignore[type-arg]
    assert rules.check_practitioner(*args) == errors


def test_primary_sites() -> None:
    rules.check_primary_sites([])
    rules.check_primary_sites([True, False])
    for flags in ([False, False], [True, True]):
        with pytest.raises(ValueError, match="必须且只能有一个主要执业机构"):
            rules.check_primary_sites(flags)
