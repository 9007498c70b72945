"""Masking, the audit hash chain and policy-parameter resolution (pure)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yigongti.core import rules


class TestMasking:
    @pytest.mark.parametrize(
        ("value", "masked"),
        [
            ("11010519491231002X", "110105********002X"),
            ("439901195103150033", "439901********0033"),
            ("110105491231002", "110105*****1002"),
            ("E12345678", "E1*******"),
            ("", ""),
            (None, ""),
        ],
    )
    def test_id_number(self, value: str | None, masked: str) -> None:
        assert rules.mask_id_number(value) == masked

    @pytest.mark.parametrize(
        ("value", "masked"),
        [
            ("13812345678", "138****5678"),
            ("0731-84561234", "0731-****1234"),
            ("", ""),
            ("123", "***"),
        ],
    )
    def test_phone(self, value: str, masked: str) -> None:
        assert rules.mask_phone(value) == masked

    @pytest.mark.parametrize(
        ("value", "masked"),
        [("张三", "张*"), ("张小明", "张*明"), ("欧阳小明", "欧**明"), ("李", "李"), ("", "")],
    )
    def test_name(self, value: str, masked: str) -> None:
        assert rules.mask_name(value) == masked

    def test_address_stops_at_township(self) -> None:
        assert rules.mask_address("河口乡") == "河口乡***"
        assert rules.mask_address("") == ""

    @given(st.text(alphabet="0123456789X", min_size=15, max_size=18))
    def test_masked_id_never_shows_the_birth_date(self, value: str) -> None:
        masked = rules.mask_id_number(value)
        assert len(masked) == len(value)
        assert masked[6:-4] == "*" * (len(value) - 10)


def _event(seq: int, prev: str, **overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "seq": seq,
        "occurred_at": dt.datetime(2025, 1, 1, 8, 0, seq, tzinfo=dt.UTC),
        "actor_username": "admin",
        "actor_role": "county_admin",
        "actor_institution_code": "QH0001",
        "action": "read",
        "resource_type": "resident",
        "resource_id": f"R{seq:011d}",
        "subject_resident_id": seq,
        "basis": "break_glass",
        "purpose": "质控抽查",
        "detail": {"k": seq},
        "client_ip": "127.0.0.1",
        "channel": "web",
    }
    fields.update(overrides)
    fields["prev_hash"] = prev
    fields["hash"] = rules.audit_hash(prev, fields)
    return fields


def _chain(n: int) -> list[dict[str, object]]:
    events, prev = [], rules.GENESIS_HASH
    for seq in range(1, n + 1):
        event = _event(seq, prev)
        events.append(event)
        prev = str(event["hash"])
    return events


class TestAuditChain:
    def test_hash_is_stable_and_order_independent_for_detail_keys(self) -> None:
        a = _event(1, rules.GENESIS_HASH, detail={"a": 1, "b": 2})
        b = _event(1, rules.GENESIS_HASH, detail={"b": 2, "a": 1})
        assert a["hash"] == b["hash"]
        assert len(str(a["hash"])) == 64

    def test_timezone_does_not_change_the_hash(self) -> None:
        utc = dt.datetime(2025, 1, 1, 0, 0, tzinfo=dt.UTC)
        shanghai = utc.astimezone(dt.timezone(dt.timedelta(hours=8)))
        assert (
            _event(1, rules.GENESIS_HASH, occurred_at=utc)["hash"]
            == _event(1, rules.GENESIS_HASH, occurred_at=shanghai)["hash"]
        )

    def test_intact_chain_verifies(self) -> None:
        assert rules.verify_chain(_chain(5)) == rules.ChainVerdict(True, 5)

    def test_empty_chain_verifies(self) -> None:
        assert rules.verify_chain([]) == rules.ChainVerdict(True, 0)

    def test_altered_field_is_found(self) -> None:
        events = _chain(5)
        events[2]["purpose"] = "改过的事由"
        verdict = rules.verify_chain(events)
        assert (verdict.ok, verdict.checked, verdict.first_bad_seq) == (False, 2, 3)
        assert verdict.reason == "第 3 条内容与其哈希不符（可能被篡改）"

    def test_deleted_row_is_found(self) -> None:
        events = _chain(5)
        del events[1]
        verdict = rules.verify_chain(events)
        assert (verdict.ok, verdict.first_bad_seq) == (False, 3)
        assert verdict.reason == "序号不连续：应为 2，实为 3"

    def test_rehashed_row_breaks_the_next_link(self) -> None:
        events = _chain(4)
        forged = _event(2, str(events[0]["hash"]), purpose="伪造")
        events[1] = forged
        verdict = rules.verify_chain(events)
        assert (verdict.ok, verdict.first_bad_seq) == (False, 3)
        assert verdict.reason == "第 3 条的前序哈希与上一条不符"


class TestPolicyParameters:
    versions = (
        rules.ParameterVersion("x", "", dt.date(2020, 1, 1), dt.date(2023, 12, 31), 1, "国家"),
        rules.ParameterVersion("x", "", dt.date(2024, 1, 1), None, 2, "国家2024"),
        rules.ParameterVersion("x", "43", dt.date(2024, 6, 1), None, 3, "湖南"),
        rules.ParameterVersion("x", "439901", dt.date(2025, 1, 1), None, 4, "青禾县"),
        rules.ParameterVersion("y", "", dt.date(2020, 1, 1), None, 9, "其他"),
    )

    @pytest.mark.parametrize(
        ("on", "region", "value"),
        [
            (dt.date(2019, 12, 31), "", None),
            (dt.date(2020, 1, 1), "", 1),
            (dt.date(2023, 12, 31), "439901001", 1),
            (dt.date(2024, 1, 1), "439901", 2),
            (dt.date(2024, 6, 1), "439901", 3),
            (dt.date(2024, 6, 1), "110105", 2),
            (dt.date(2025, 1, 1), "439901002002", 4),
            (dt.date(2025, 1, 1), "430121", 3),
        ],
    )
    def test_resolution(self, on: dt.date, region: str, value: int | None) -> None:
        found = rules.resolve_parameter(self.versions, "x", on, region)
        assert (found.value if found else None) == value

    def test_every_default_cites_a_source(self) -> None:
        assert rules.DEFAULT_PARAMETERS
        for version in rules.DEFAULT_PARAMETERS:
            assert version.source.strip(), version.key
