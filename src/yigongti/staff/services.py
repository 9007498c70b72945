"""Writers of practitioners and practice sites."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

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
        raise DomainError(
            f"{practitioner.name} 已在 {institution.name} 注册执业", field="institution"
        )
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


@dataclass
class PractitionerInput:
    """One row for ``bulk_create_practitioners``: the fields ``do_create_practitioner`` takes."""

    code: str
    name: str
    sex: str
    profession: str
    employer: Institution
    start_date: dt.date
    practice_category: str = PracticeCategory.NONE
    title_grade: str = TitleGrade.NONE
    birth_date: dt.date | None = None
    department: Department | None = None
    specialty: str = ""
    is_general_practitioner: bool = False
    licence_number: str = ""
    phone: str = ""


def bulk_create_practitioners(
    rows: Sequence[PractitionerInput], *, batch_size: int = 2000
) -> list[Practitioner]:
    """The generator's fast path: the checks of ``do_create_practitioner`` on every row, then
    one bulk insert of practitioners and one of their primary practice sites.

    Any invalid row refuses the whole batch (nothing is written) with the row number in the
    Chinese message. The caller owns the transaction.
    """
    errors: dict[str, list[str]] = {}
    codes = [row.code for row in rows]
    taken: set[str] = set()
    for start in range(0, len(codes), 900):
        taken.update(
            Practitioner.objects.filter(code__in=codes[start : start + 900]).values_list(
                "code", flat=True
            )
        )
    seen: set[str] = set()
    for index, row in enumerate(rows, start=1):
        row_errors = rules.check_practitioner(
            row.profession, row.practice_category, row.title_grade, row.birth_date
        )
        if not row.name.strip():
            row_errors.setdefault("name", []).append("姓名不能为空")
        if row.code in taken:
            row_errors.setdefault("code", []).append(f"工号 {row.code} 已存在")
        elif row.code in seen:
            row_errors.setdefault("code", []).append(f"工号 {row.code} 在本批次中重复")
        seen.add(row.code)
        if row.department is not None and row.department.institution_id != row.employer.pk:
            row_errors.setdefault("department", []).append("科室不属于人事所在机构")
        for name, messages in row_errors.items():
            errors.setdefault(name, []).extend(f"第{index}行：{m}" for m in messages)
    if errors:
        raise DomainError(errors)
    practitioners = [
        Practitioner(
            code=row.code,
            name=row.name.strip(),
            sex=row.sex,
            profession=row.profession,
            practice_category=row.practice_category,
            title_grade=row.title_grade,
            title_name=rules.title_name(row.profession, row.title_grade),
            birth_date=row.birth_date,
            employer=row.employer,
            department=row.department,
            specialty=row.specialty,
            is_general_practitioner=row.is_general_practitioner,
            licence_number=row.licence_number,
            phone=row.phone,
        )
        for row in rows
    ]
    with transaction.atomic():
        Practitioner.objects.bulk_create(practitioners, batch_size=batch_size)
        if any(p.pk is None for p in practitioners):  # backends without RETURNING
            by_code = dict(Practitioner.objects.filter(code__in=codes).values_list("code", "pk"))
            for p in practitioners:
                p.pk = by_code[p.code]
        PracticeSite.objects.bulk_create(
            [
                PracticeSite(
                    practitioner=p,
                    institution=row.employer,
                    is_primary=True,
                    start_date=row.start_date,
                )
                for p, row in zip(practitioners, rows, strict=True)
            ],
            batch_size=batch_size,
        )
    return practitioners
