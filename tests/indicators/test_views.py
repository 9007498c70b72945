"""The indicator dashboard: stored results against targets, trends, ranking, refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from yigongti.indicators.services import do_compute

pytestmark = pytest.mark.django_db


def client_for(world: Any, key: str) -> Client:
    client = Client()
    client.force_login(world.users[key])
    return client


def test_dashboard_shows_values_targets_status_and_stamp(
    world: Any,
    county: Path,
    settings: Any,
) -> None:
    settings.SNAPSHOT_ROOT = county
    do_compute("2025", root=county, breakdown=True)
    page = client_for(world, "county_admin").get("/indicators/?period=2025").content.decode()
    assert "数据截至 2025-07" in page  # the last month with encounters (S3)
    row = page.split('data-code="nhc-07"')[1].split("</tr>")[0]
    assert "50.00%" in row and "65%" in row and "未达标" in row and "2 / 4" in row
    row11 = page.split('data-code="nhc-11"')[1].split("</tr>")[0]
    assert "66.67%" in row11 and "未达标" in row11
    row13 = page.split('data-code="nhc-13"')[1].split("</tr>")[0]
    assert "—" in row13 and "待接入数据" in row13
    assert '"months": ["2025-01"' in page and '"target": 65.0' in page
    ranking = page.split('id="ranking"')[1].split("</table>")[0]
    assert "河口乡" in ranking  # townships first
    assert "echarts.min.js" in page


def test_ranking_by_township_and_lower_is_better(world: Any, county: Path, settings: Any) -> None:
    settings.SNAPSHOT_ROOT = county
    do_compute("2025", root=county)
    client = client_for(world, "county_admin")
    page = client.get("/indicators/?period=2025&indicator=nhc-07&level=township").content.decode()
    ranking = page.split('id="ranking"')[1].split("</table>")[0]
    assert "河口乡" in ranking and "100.00" in ranking
    page = client.get(
        "/indicators/?period=2025&indicator=nhc-10&level=institution"
    ).content.decode()
    ranking = page.split('id="ranking"')[1].split("</table>")[0]
    # lower is better: 河口乡卫生院 (2,000) before 县人民医院 (8,000)
    assert ranking.index("河口乡卫生院") < ranking.index("县人民医院")


def test_refused_for_clinical_roles_and_empty_without_results(world: Any) -> None:
    response = client_for(world, "family_doctor").get("/indicators/")
    assert response.status_code == 403
    assert "监测指标看板供县级管理员" in response.content.decode()
    page = client_for(world, "county_admin").get("/indicators/").content.decode()
    assert "还没有计算结果" in page
