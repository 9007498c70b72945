"""Pure rules for practitioners: which licence categories and titles fit which profession."""

from __future__ import annotations

import datetime as dt

from yigongti.staff.choices import PracticeCategory, Profession, TitleGrade

TITLE_NAMES: dict[tuple[str, str], str] = {
    (Profession.PHYSICIAN, TitleGrade.JUNIOR): "医师",
    (Profession.PHYSICIAN, TitleGrade.INTERMEDIATE): "主治医师",
    (Profession.PHYSICIAN, TitleGrade.ASSOCIATE_SENIOR): "副主任医师",
    (Profession.PHYSICIAN, TitleGrade.SENIOR): "主任医师",
    (Profession.NURSE, TitleGrade.JUNIOR): "护师",
    (Profession.NURSE, TitleGrade.INTERMEDIATE): "主管护师",
    (Profession.NURSE, TitleGrade.ASSOCIATE_SENIOR): "副主任护师",
    (Profession.NURSE, TitleGrade.SENIOR): "主任护师",
    (Profession.PHARMACIST, TitleGrade.JUNIOR): "药师",
    (Profession.PHARMACIST, TitleGrade.INTERMEDIATE): "主管药师",
    (Profession.PHARMACIST, TitleGrade.ASSOCIATE_SENIOR): "副主任药师",
    (Profession.PHARMACIST, TitleGrade.SENIOR): "主任药师",
    (Profession.TECHNICIAN, TitleGrade.JUNIOR): "技师",
    (Profession.TECHNICIAN, TitleGrade.INTERMEDIATE): "主管技师",
    (Profession.TECHNICIAN, TitleGrade.ASSOCIATE_SENIOR): "副主任技师",
    (Profession.TECHNICIAN, TitleGrade.SENIOR): "主任技师",
}


def title_name(profession: str, grade: str) -> str:
    return TITLE_NAMES.get((profession, grade), "")


def check_practitioner(
    profession: str, practice_category: str, title_grade: str, birth_date: dt.date | None
) -> dict[str, list[str]]:
    """Field → Chinese messages for an inconsistent practitioner; empty when valid."""
    errors: dict[str, list[str]] = {}
    if profession == Profession.PHYSICIAN and practice_category == PracticeCategory.NONE:
        errors["practice_category"] = ["执业医师必须有执业类别（临床、中医、口腔或公共卫生）"]
    if profession != Profession.PHYSICIAN and practice_category not in (
        PracticeCategory.NONE,
        "",
    ):
        if not (
            profession == Profession.VILLAGE_DOCTOR
            and practice_category
            in (
                PracticeCategory.CLINICAL,
                PracticeCategory.TCM,
            )
        ):
            errors["practice_category"] = ["只有医师（或取得执业资格的乡村医生）才有执业类别"]
    if profession in (Profession.VILLAGE_DOCTOR, Profession.MANAGER) and title_grade in (
        TitleGrade.ASSOCIATE_SENIOR,
        TitleGrade.SENIOR,
    ):
        errors["title_grade"] = ["乡村医生和管理人员不评定卫生系列高级职称"]
    if birth_date is not None and not (dt.date(1930, 1, 1) <= birth_date <= dt.date(2010, 12, 31)):
        errors["birth_date"] = ["出生日期不合理"]
    return errors


def check_primary_sites(primary_flags: list[bool]) -> None:
    """Exactly one primary practice site when a practitioner has any sites at all."""
    if primary_flags and sum(primary_flags) != 1:
        raise ValueError("多点执业必须且只能有一个主要执业机构")
