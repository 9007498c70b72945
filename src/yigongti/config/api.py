"""The JSON API at /api/v1 (django-ninja): each domain contributes a router from its api.py.

Every endpoint requires a bearer token or a logged-in browser session (``accounts.api``);
refusals answer in Chinese in the shapes of ``core.schemas`` (401, 403, 404, 422).
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from yigongti.accounts.api import AUTH
from yigongti.accounts.api import router as accounts_router
from yigongti.core.api import install_error_handlers
from yigongti.organizations.api import router as organizations_router
from yigongti.referrals.api import router as referrals_router
from yigongti.residents.api import router as residents_router
from yigongti.scheduling.api import router as scheduling_router
from yigongti.staff.api import router as staff_router


class ChineseJSONRenderer(JSONRenderer):
    """UTF-8 JSON: Chinese text stays readable instead of \\u escapes."""

    json_dumps_params: dict[str, Any] = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=ChineseJSONRenderer(),
    title="医共体一体化管理平台 API",
    version="1.0.0",
    urls_namespace="api",
    auth=AUTH,
    description=(
        "机构、人员、居民主索引、号源与预约接口。会话认证（浏览器，修改类请求需 CSRF 令牌）"
        "或 Bearer 令牌（机器客户端）。\n\n"
        "错误答复：401 `{detail}`；403 `{detail, can_break_glass}`；404 `{detail}`；"
        '422 `{detail: "提交的数据有误", errors: [{field, message}]}`。'
        "列表用 `limit`（最大 100）与 `offset` 分页，返回 `{count, items}`。"
    ),
)
install_error_handlers(api)

api.add_router("/", accounts_router)
api.add_router("/", organizations_router)
api.add_router("/", staff_router)
api.add_router("/", residents_router)
api.add_router("/", referrals_router)
api.add_router("/", scheduling_router)
