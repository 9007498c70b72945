"""The API kernel: error answers in one shape, pagination, scope filters, the client address.

Domain routers import from here; ``config.api`` installs the handlers on the one NinjaAPI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, Protocol, TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from yigongti.core.errors import AccessDenied, DomainError
from yigongti.core.queries import prefix_q
from yigongti.core.schemas import DeniedOut, ErrorOut, ValidationErrorOut

M = TypeVar("M", bound=Model)

INVALID_INPUT = "提交的数据有误"
UNAUTHENTICATED = "未登录或令牌无效：请先登录，或在 Authorization 头中提供有效的 Bearer 令牌"

# Answers every authenticated endpoint may give, for the OpenAPI document.
COMMON_ERRORS: dict[int, Any] = {401: ErrorOut, 422: ValidationErrorOut}
DENIABLE = {**COMMON_ERRORS, 403: DeniedOut}
DENIABLE_OR_MISSING = {**DENIABLE, 404: ErrorOut}


class ApiScope(Protocol):
    """What the API needs of a data scope (``accounts.rules.Scope`` satisfies it)."""

    @property
    def institution_paths(self) -> tuple[str, ...] | None: ...

    @property
    def exact(self) -> bool: ...

    def covers_institution(self, path: str) -> bool: ...


class ApiActor(Protocol):
    """What lower domains' routers need of the acting user (``accounts.queries.Actor``)."""

    @property
    def role(self) -> str: ...

    @property
    def scope(self) -> ApiScope: ...


class NotFound(Http404):
    """A record the caller asked for by id does not exist; the message is in Chinese."""


def request_actor(request: HttpRequest) -> ApiActor:
    """The actor the authentication classes put on the request."""
    actor: ApiActor = request.auth  # type: ignore[attr-defined]
    return actor


def client_ip(request: HttpRequest) -> str:
    """The peer address (forwarded headers are not trusted here)."""
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


def scope_q(field: str, scope: ApiScope) -> Q:
    """Rows whose institution ``field`` (a tree path) the scope covers."""
    paths = scope.institution_paths
    if paths is None:
        return Q()
    if scope.exact:
        return Q(**{f"{field}__in": list(paths)})
    return prefix_q(field, paths)


def paginate(
    qs: QuerySet[M], limit: int, offset: int, row: Callable[[M], Mapping[str, Any]]
) -> dict[str, Any]:
    return {"count": qs.count(), "items": [row(obj) for obj in qs[offset : offset + limit]]}


# ---------------------------------------------------------------------------
# Error answers
# ---------------------------------------------------------------------------

_TYPE_MESSAGES = {
    "missing": "必填",
    "string_type": "类型错误：应为字符串",
    "int_type": "类型错误：应为整数",
    "int_parsing": "类型错误：应为整数",
    "int_from_float": "类型错误：应为整数",
    "float_type": "类型错误：应为数字",
    "float_parsing": "类型错误：应为数字",
    "bool_type": "类型错误：应为布尔值（true 或 false）",
    "bool_parsing": "类型错误：应为布尔值（true 或 false）",
    "date_type": "类型错误：应为日期（YYYY-MM-DD）",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_inexact": "日期不能带时间部分",
    "dict_type": "类型错误：应为对象",
    "model_type": "类型错误：应为对象",
    "model_attributes_type": "类型错误：应为对象",
    "list_type": "类型错误：应为数组",
    "json_invalid": "请求体不是有效的 JSON",
    "json_type": "请求体不是有效的 JSON",
    "extra_forbidden": "不允许的字段",
    "string_pattern_mismatch": "格式不正确",
    "string_unicode": "应为有效的 Unicode 文本",
    "too_long": "条目过多",
}


def _message(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    if kind == "string_too_short":
        return f"长度不能少于 {ctx.get('min_length')} 个字符"
    if kind == "string_too_long":
        return f"长度不能超过 {ctx.get('max_length')} 个字符"
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}"
    if kind == "greater_than":
        return f"必须大于 {ctx.get('gt')}"
    if kind == "less_than_equal":
        return f"不能大于 {ctx.get('le')}"
    if kind == "less_than":
        return f"必须小于 {ctx.get('lt')}"
    if kind in ("literal_error", "enum"):
        return f"取值无效，可选值：{ctx.get('expected', '')}"
    if kind == "value_error":
        return str(ctx.get("error", "")) or "取值无效"
    return "取值无效"


def _field(loc: Iterable[Any]) -> str:
    """``("body", "payload", "id_number")`` → ``id_number``; ``("query", "limit")`` → ``limit``."""
    parts = list(loc)
    source = parts[0] if parts else ""
    rest = parts[2:] if source == "body" else parts[1:]
    if source == "body" and not rest:
        return "body"
    return ".".join(str(p) for p in rest) or str(source) or "__all__"


def field_errors_from_validation(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    return [{"field": _field(e.get("loc", ())), "message": _message(e)} for e in errors]


def _invalid(api: NinjaAPI, request: HttpRequest, errors: list[dict[str, str]]) -> HttpResponse:
    return api.create_response(request, {"detail": INVALID_INPUT, "errors": errors}, status=422)


def _on_domain_error(request: HttpRequest, exc: DomainError, *, api: NinjaAPI) -> HttpResponse:
    errors = [
        {"field": name, "message": message}
        for name, messages in exc.field_errors.items()
        for message in messages
    ]
    return _invalid(api, request, errors)


def _on_validation_error(
    request: HttpRequest, exc: NinjaValidationError, *, api: NinjaAPI
) -> HttpResponse:
    return _invalid(api, request, field_errors_from_validation(exc.errors))


def _on_access_denied(request: HttpRequest, exc: AccessDenied, *, api: NinjaAPI) -> HttpResponse:
    body = {"detail": exc.reason, "can_break_glass": exc.can_break_glass}
    return api.create_response(request, body, status=403)


def _on_not_found(request: HttpRequest, exc: Http404, *, api: NinjaAPI) -> HttpResponse:
    detail = str(exc) if isinstance(exc, NotFound) and str(exc) else "请求的资源不存在"
    return api.create_response(request, {"detail": detail}, status=404)


def _on_unauthenticated(
    request: HttpRequest, exc: AuthenticationError, *, api: NinjaAPI
) -> HttpResponse:
    return api.create_response(request, {"detail": UNAUTHENTICATED}, status=401)


_HTTP_MESSAGES = {
    400: "请求格式有误",
    401: UNAUTHENTICATED,
    403: "没有权限执行此操作",
    404: "请求的资源不存在",
    405: "不支持该请求方法",
    429: "请求过于频繁，请稍后再试",
}


def _on_http_error(request: HttpRequest, exc: HttpError, *, api: NinjaAPI) -> HttpResponse:
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        return _invalid(api, request, [{"field": "body", "message": "请求体不是有效的 JSON"}])
    if exc.status_code == 403:
        body = {"detail": _HTTP_MESSAGES[403], "can_break_glass": False}
        return api.create_response(request, body, status=403)
    detail = _HTTP_MESSAGES.get(exc.status_code, "请求无法处理")
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


def install_error_handlers(api: NinjaAPI) -> None:
    """Every refusal answers in Chinese, in the shapes documented in ``core.schemas``."""
    api.add_exception_handler(DomainError, partial(_on_domain_error, api=api))
    api.add_exception_handler(NinjaValidationError, partial(_on_validation_error, api=api))
    api.add_exception_handler(AccessDenied, partial(_on_access_denied, api=api))
    api.add_exception_handler(Http404, partial(_on_not_found, api=api))
    api.add_exception_handler(AuthenticationError, partial(_on_unauthenticated, api=api))
    api.add_exception_handler(HttpError, partial(_on_http_error, api=api))
