"""Writers of the division table."""

from __future__ import annotations

from yigongti.core.errors import DomainError
from yigongti.geo import rules
from yigongti.geo.choices import DivisionKind
from yigongti.geo.models import Division


def check_division(code: str, name: str, parent: Division | None) -> str:
    try:
        code = rules.normalise_code(code)
    except ValueError as exc:
        raise DomainError(str(exc), field="code") from None
    if not name.strip():
        raise DomainError("名称不能为空", field="name")
    if parent is not None and not rules.is_within(code, parent.code):
        raise DomainError(f"区划代码 {code} 不属于上级区划 {parent.code}", field="code")
    if Division.objects.filter(code=code).exists():
        raise DomainError(f"区划代码 {code} 已存在", field="code")
    return code


def do_create_division(
    code: str,
    name: str,
    parent: Division | None = None,
    *,
    kind: str = DivisionKind.OTHER,
    is_urban: bool = False,
    population: int | None = None,
    is_fictional: bool = False,
) -> Division:
    code = check_division(code, name, parent)
    full_name = f"{parent.full_name or parent.name}{name}" if parent else name
    return Division.objects.create(
        code=code,
        prefix=rules.prefix_of(code),
        name=name,
        full_name=full_name,
        level=rules.level_of(code),
        kind=kind,
        is_urban=is_urban,
        parent=parent,
        population=population,
        is_fictional=is_fictional,
    )
