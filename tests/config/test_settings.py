"""The typed settings object: defaults for the demo, refusals for bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from yigongti.config.env import DEMO_SECRET_KEY, SettingsError, load

GOOD_KEY = "k" * 40


def test_demo_needs_no_variables() -> None:
    settings = load({})
    assert (settings.profile, settings.secret_key, settings.database_url) == (
        "demo",
        DEMO_SECRET_KEY,
        "",
    )
    assert settings.debug is False
    assert settings.sqlite_path.name == "yigongti.sqlite3"
    assert settings.spark_master == "local[2]"


@pytest.mark.parametrize(
    "master", ["local", "local[*]", "local[4,2]", "spark://10.0.0.5:7077", "yarn"]
)
def test_spark_master_accepts_local_mode_and_cluster_urls(master: str) -> None:
    assert load({"YIGONGTI_SPARK_MASTER": master}).spark_master == master


def test_production_with_everything() -> None:
    settings = load(
        {
            "YIGONGTI_PROFILE": "production",
            "YIGONGTI_SECRET_KEY": GOOD_KEY,
            "YIGONGTI_DATABASE_URL": "postgresql://u:p@db/yigongti",
            "YIGONGTI_ALLOWED_HOSTS": "ygt.example.cn, 10.0.0.1",
        }
    )
    assert settings.is_production and settings.secure_cookies
    assert settings.allowed_hosts == ("ygt.example.cn", "10.0.0.1")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"YIGONGTI_PROFILE": "prod"}, "环境变量 YIGONGTI_PROFILE 的值“prod”无效"),
        ({"YIGONGTI_PROFILE": "production"}, "生产环境必须设置 YIGONGTI_SECRET_KEY"),
        (
            {"YIGONGTI_PROFILE": "production", "YIGONGTI_SECRET_KEY": GOOD_KEY},
            "生产环境必须设置 YIGONGTI_DATABASE_URL",
        ),
        ({"YIGONGTI_SECRET_KEY": "short"}, "YIGONGTI_SECRET_KEY 至少需要 32 个字符"),
        (
            {"YIGONGTI_DATABASE_URL": "mysql://x/y"},
            "只支持 sqlite:// 或 postgresql://，当前为“mysql”",
        ),
        ({"YIGONGTI_DEBUG": "maybe"}, "环境变量 YIGONGTI_DEBUG 的值“maybe”无效"),
        ({"YIGONGTI_SPARK_MASTER": "local[two]"}, "YIGONGTI_SPARK_MASTER 的值“local[two]”无效"),
        (
            {"YIGONGTI_SPARK_MASTER": "http://x:7077"},
            "YIGONGTI_SPARK_MASTER 的值“http://x:7077”无效",
        ),
        (
            {
                "YIGONGTI_PROFILE": "production",
                "YIGONGTI_SECRET_KEY": GOOD_KEY,
                "YIGONGTI_DATABASE_URL": "postgresql://x/y",
                "YIGONGTI_DEBUG": "true",
            },
            "生产环境不能开启 YIGONGTI_DEBUG",
        ),
        ({"YIGONGTI_LOGIN_FAILURE_LIMIT": "abc"}, "YIGONGTI_LOGIN_FAILURE_LIMIT 的值“abc”不是整数"),
        (
            {"YIGONGTI_LOGIN_FAILURE_LIMIT": "0"},
            "YIGONGTI_LOGIN_FAILURE_LIMIT 必须在 1 到 100 之间，当前为 0",
        ),
    ],
)
def test_refusals(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as exc:
        load(env)
    assert message in str(exc.value)


def test_production_server_refuses_to_start_without_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIGONGTI_")}
    env.update(YIGONGTI_PROFILE="production", YIGONGTI_DATA_DIR=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "yigongti.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0
    assert "生产环境必须设置 YIGONGTI_SECRET_KEY" in proc.stderr
