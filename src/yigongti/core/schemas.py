"""Shapes shared by every API endpoint: errors, pages, and safe text input."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from ninja import Schema
from pydantic import AfterValidator, Field

T = TypeVar("T")


def _no_control_characters(value: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("不能包含控制字符")
    return value


# Free text from a client: no control characters (PostgreSQL refuses NUL in text columns).
SafeStr = Annotated[str, AfterValidator(_no_control_characters)]


class ErrorOut(Schema):
    """401 and 404 answers."""

    detail: str = Field(..., description="原因（中文）")


class DeniedOut(Schema):
    """403: the caller may not see or change this record."""

    detail: str = Field(..., description="拒绝原因（中文）")
    can_break_glass: bool = Field(
        False, description="为真时，可填写查阅事由（purpose）后再次请求（紧急/事由查阅，事后复核）"
    )


class FieldErrorOut(Schema):
    field: str = Field(..., description="字段名；“__all__”表示与具体字段无关")
    message: str = Field(..., description="错误说明（中文）")


class ValidationErrorOut(Schema):
    """422: bad input, one entry per problem; nothing was written."""

    detail: str = Field(..., description="固定为“提交的数据有误”")
    errors: list[FieldErrorOut]


class Page(Schema, Generic[T]):
    """One page of a list: the total ``count`` and up to ``limit`` ``items``."""

    count: int
    items: list[T]


class PageParams(Schema):
    limit: int = Field(20, ge=1, le=100, description="每页条数（1–100）")
    offset: int = Field(0, ge=0, le=1_000_000, description="跳过的条数")
