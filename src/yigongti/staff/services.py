"""Writers of practitioners and practice sites."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from yigongti.core.errors import DomainError
from yigongti.organizations.models import Department, Institution
from yigongti.staff import rules
from yigongti.staff.choices import PracticeCategory, TitleGrade
from yigongti.staff.models import PracticeSite, Practitioner


def do_create_practitioner(
    *,
    code: str,
    name: str,
    sex: str,
    profession: str,
    employer: Institution,
    practice_category: str = PracticeCategory.NONE,
    title_grade: str = TitleGrade.NONE,
    birth_date: dt.date | None = None,
    department: Department | None = None,
    start_date: dt.date,
    **extra: object,
) -> Practitioner:
    """A practitioner with a primary practice site at the employer."""
    errors = rules.check_practitioner(profession, practice_category, title_grade, birth_date)
    if not name.strip():
        errors.setdefault("name", []).append("姓名不能为空")
    if Practitioner.objects.filter(code=code).exists():
        errors.setdefault("code", []).append(f"工号 {code} 已存在")
    if department is not None and department.institution_id != employer.pk:
        errors.setdefault("department", []).append("科室不属于人事所在机构")
    if errors:
        raise DomainError(errors)
    with transaction.atomic():
        practitioner = Practitioner.objects.create(
            code=code,
            name=name.strip(),
            sex=sex,
            profession=profession,
            practice_category=practice_category,
            title_grade=title_grade,
            title_name=rules.title_name(profession, title_grade),
            birth_date=birth_date,
            employer=employer,
            department=department,
            **extra,
        )
        PracticeSite.objects.create(
            practitioner=practitioner, institution=employer, is_primary=True, start_date=start_date
        )
    return practitioner


def do_add_practice_site(
    practitioner: Practitioner,
    institution: Institution,
    start_date: dt.date,
    *,
    make_primary: bool = False,
) -> PracticeSite:
    """Register another site (多点执业); optionally move the primary flag to it."""
    if PracticeSite.objects.filter(practitioner=practitioner, institution=institution).exists():
        raise DomainError(f"{practitioner.name} 已在 {institution.name} 注册执业", field="institution")
    with transaction.atomic():
        if make_primary:
            PracticeSite.objects.filter(practitioner=practitioner, is_primary=True).update(
                is_primary=False
            )
        return PracticeSite.objects.create(
            practitioner=practitioner,
            institution=institution,
            is_primary=make_primary,
            start_date=start_date,
        )
