"""The JSON API at /api/v1 (django-ninja): each domain contributes a router from its api.py."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(
    title="医共体一体化管理平台 API",
    version="1.0.0",
    urls_namespace="api",
    description="机构、人员、居民主索引接口。会话认证（浏览器）或 Bearer 令牌（机器客户端）。",
)
