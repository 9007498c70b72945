"""Writers of medcoms, institutions, departments and affiliations."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from yigongti.core.errors import DomainError
from yigongti.geo.models import Division
from yigongti.organizations import rules
from yigongti.organizations.choices import (
    InstitutionLevel,
    ManagementUnitKind,
    MedcomKind,
    PatientGroup,
    TreeLink,
)
from yigongti.organizations.models import (
    Affiliation,
    Department,
    Institution,
    ManagementUnit,
    Medcom,
)


def do_create_medcom(
    code: str, name: str, division: Division, kind: str = MedcomKind.COUNTY, **extra: object
) -> Medcom:
    """A medcom with the nine departments of its management centre (seed 002 二(一)3)."""
    if Medcom.objects.filter(code=code).exists():
        raise DomainError(f"医共体编码 {code} 已存在", field="code")
    medcom = Medcom.objects.create(code=code, name=name, division=division, kind=kind, **extra)
    ManagementUnit.objects.bulk_create(
        ManagementUnit(medcom=medcom, kind=unit.value, name=unit.label)
        for unit in ManagementUnitKind
    )
    return medcom


def check_institution(
    *,
    code: str,
    name: str,
    inst_type: str,
    level: str,
    beds: int,
    tree_link: str,
    parent: Institution | None,
    medcom: Medcom | None,
) -> str:
    errors: dict[str, list[str]] = {}
    try:
        code = rules.check_code(code)
    except ValueError as exc:
        errors.setdefault("code", []).append(str(exc))
    else:
        if Institution.objects.filter(code=code).exists():
            errors.setdefault("code", []).append(f"机构代码 {code} 已存在")
    if not name.strip():
        errors.setdefault("name", []).append("机构名称不能为空")
    if beds < 0:
        errors.setdefault("beds", []).append("床位数不能为负数")
    try:
        rules.check_level(inst_type, level)
    except ValueError as exc:
        errors.setdefault("level", []).append(str(exc))
    try:
        rules.check_tree_link(inst_type, tree_link, parent.inst_type if parent else None)
    except ValueError as exc:
        errors.setdefault("parent", []).append(str(exc))
    if parent is not None and medcom is not None and parent.medcom_id != medcom.pk:
        errors.setdefault("parent", []).append("上级机构不属于同一医共体")
    if errors:
        raise DomainError(errors)
    return code


def do_add_institution(
    *,
    code: str,
    name: str,
    inst_type: str,
    division: Division,
    service_division: Division | None = None,
    level: str = InstitutionLevel.UNRATED,
    beds: int = 0,
    medcom: Medcom | None = None,
    parent: Institution | None = None,
    tree_link: str = TreeLink.OTHER,
    **extra: object,
) -> Institution:
    code = check_institution(
        code=code,
        name=name,
        inst_type=inst_type,
        level=level,
        beds=beds,
        tree_link=tree_link,
        parent=parent,
        medcom=medcom,
    )
    try:
        with transaction.atomic():
            return Institution.objects.create(
                code=code,
                name=name.strip(),
                inst_type=inst_type,
                level=level,
                beds=beds,
                division=division,
                service_division=service_division or division,
                medcom=medcom,
                parent=parent,
                tree_link=tree_link,
                path=rules.child_path(parent.path if parent else None, code),
                depth=(parent.depth + 1) if parent else 0,
                **extra,
            )
    except IntegrityError:
        raise DomainError("该医共体已有牵头医院", field="tree_link") from None


def do_add_department(
    institution: Institution,
    code: str,
    name: str,
    beds: int = 0,
    patients: str | None = None,
) -> Department:
    """A department; ``patients`` (接诊对象) defaults to what its name says
    (``rules.patients_by_name``: 儿科 children, 妇产科 women, else all)."""
    patients = rules.patients_by_name(name) if patients is None else patients
    if Department.objects.filter(institution=institution, code=code).exists():
        raise DomainError(f"科室代码 {code} 在 {institution.name} 已存在", field="code")
    if patients not in PatientGroup.values:
        raise DomainError(f"接诊对象“{patients}”无效", field="patients")
    return Department.objects.create(
        institution=institution, code=code, name=name, beds=beds, patients=patients
    )


def do_add_affiliation(
    institution: Institution,
    kind: str,
    *,
    parent_institution: Institution | None = None,
    parent_division: Division | None = None,
    note: str = "",
) -> Affiliation:
    if parent_institution is None and parent_division is None:
        raise DomainError("隶属关系需要指定上级机构或上级区划", field="parent")
    if parent_institution is not None and parent_institution.pk == institution.pk:
        raise DomainError("机构不能隶属于自身", field="parent")
    affiliation, _ = Affiliation.objects.update_or_create(
        institution=institution,
        kind=kind,
        defaults={
            "parent_institution": parent_institution,
            "parent_division": parent_division,
            "note": note,
        },
    )
    return affiliation
