"""One typed settings object read from ``YIGONGTI_*`` environment variables.

Bad values are refused at start-up with a message in Chinese and English that names the
variable. The ``demo`` profile (the default) needs no variables; ``production`` refuses to
start without a secret key and a database URL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from yigongti.analytics.rules import is_spark_master

PROFILES = ("demo", "test", "production")
DEMO_SECRET_KEY = "demo-insecure-key-do-not-use-in-production-3f9a1c"  # noqa: S105


class SettingsError(ValueError):
    """A YIGONGTI_* variable holds a value the platform cannot run with."""


def _bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(
        f"环境变量 {name} 的值“{raw}”无效：只能是 true/false/1/0 ({name}={raw!r} is not a boolean)"
    )


def _int(name: str, raw: str, lo: int, hi: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(
            f"环境变量 {name} 的值“{raw}”不是整数 ({name}={raw!r} is not an integer)"
        ) from None
    if not lo <= value <= hi:
        raise SettingsError(
            f"环境变量 {name} 必须在 {lo} 到 {hi} 之间，当前为 {value} "
            f"({name} must be between {lo} and {hi})"
        )
    return value


@dataclass(frozen=True)
class Settings:
    profile: str = "demo"
    secret_key: str = DEMO_SECRET_KEY
    database_url: str = ""
    debug: bool = False
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]")
    data_dir: Path = field(default_factory=lambda: Path.cwd() / "var")
    login_failure_limit: int = 5
    login_lockout_minutes: int = 15
    secure_cookies: bool = False
    spark_master: str = "local[2]"  # the Spark engine's master (local mode or a cluster URL)

    @property
    def is_production(self) -> bool:
        return self.profile == "production"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "yigongti.sqlite3"


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the YIGONGTI_* variables; raise SettingsError on a bad value."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        value = env.get(f"YIGONGTI_{name}")
        return None if value is None else value.strip()

    profile = get("PROFILE") or "demo"
    if profile not in PROFILES:
        raise SettingsError(
            f"环境变量 YIGONGTI_PROFILE 的值“{profile}”无效，可选：{'、'.join(PROFILES)} "
            f"(YIGONGTI_PROFILE must be one of {', '.join(PROFILES)})"
        )
    kwargs: dict[str, object] = {"profile": profile}

    secret_key = get("SECRET_KEY")
    database_url = get("DATABASE_URL")
    if profile == "production":
        if not secret_key:
            raise SettingsError(
                "生产环境必须设置 YIGONGTI_SECRET_KEY (production needs YIGONGTI_SECRET_KEY)"
            )
        if not database_url:
            raise SettingsError(
                "生产环境必须设置 YIGONGTI_DATABASE_URL (production needs YIGONGTI_DATABASE_URL)"
            )
        kwargs["secure_cookies"] = True
    if secret_key is not None and secret_key != "":
        if len(secret_key) < 32 or (secret_key == DEMO_SECRET_KEY and profile == "production"):
            raise SettingsError(
                "YIGONGTI_SECRET_KEY 至少需要 32 个字符且不能使用演示密钥 "
                "(YIGONGTI_SECRET_KEY must be at least 32 characters and not the demo key)"
            )
        kwargs["secret_key"] = secret_key
    if database_url:
        scheme = database_url.split(":", 1)[0]
        if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
            raise SettingsError(
                f"YIGONGTI_DATABASE_URL 只支持 sqlite:// 或 postgresql://，当前为“{scheme}” "
                "(YIGONGTI_DATABASE_URL must be sqlite:// or postgresql://)"
            )
        kwargs["database_url"] = database_url

    debug = get("DEBUG")
    if debug is not None:
        kwargs["debug"] = _bool("YIGONGTI_DEBUG", debug)
        if kwargs["debug"] and profile == "production":
            raise SettingsError(
                "生产环境不能开启 YIGONGTI_DEBUG (YIGONGTI_DEBUG is refused in production)"
            )
    hosts = get("ALLOWED_HOSTS")
    if hosts:
        kwargs["allowed_hosts"] = tuple(h.strip() for h in hosts.split(",") if h.strip())
    data_dir = get("DATA_DIR")
    if data_dir:
        kwargs["data_dir"] = Path(data_dir).expanduser().resolve()
    limit = get("LOGIN_FAILURE_LIMIT")
    if limit:
        kwargs["login_failure_limit"] = _int("YIGONGTI_LOGIN_FAILURE_LIMIT", limit, 1, 100)
    lockout = get("LOGIN_LOCKOUT_MINUTES")
    if lockout:
        kwargs["login_lockout_minutes"] = _int("YIGONGTI_LOGIN_LOCKOUT_MINUTES", lockout, 1, 1440)
    secure = get("SECURE_COOKIES")
    if secure is not None:
        kwargs["secure_cookies"] = _bool("YIGONGTI_SECURE_COOKIES", secure)
    master = get("SPARK_MASTER")
    if master:
        if not is_spark_master(master):
            raise SettingsError(
                f"环境变量 YIGONGTI_SPARK_MASTER 的值“{master}”无效：应为 local[N] 或 "
                "spark://主机:端口 等集群地址 (YIGONGTI_SPARK_MASTER must be local[N] or a "
                "cluster URL such as spark://host:7077)"
            )
        kwargs["spark_master"] = master
    return Settings(**kwargs)  # type: ignore[arg-type]
