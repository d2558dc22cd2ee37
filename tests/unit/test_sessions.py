from __future__ import annotations

from ap_register.domain import sessions


def test_full_time_and_part_time_patterns() -> None:
    assert sessions.count(sessions.FULL_TIME) == 10
    assert sessions.labels("1100110000") == ["Mon AM", "Mon PM", "Wed AM", "Wed PM"]
    assert sessions.describe("1100110000") == "4 sessions: Mon AM, Mon PM, Wed AM, Wed PM"
    assert sessions.days_attended("1000000001") == 2


def test_invalid_patterns_are_explained() -> None:
    assert sessions.problem("11111") is not None
    assert sessions.problem("11111111x1") is not None
    assert sessions.problem("0000000000") is None


def test_labels_round_trip() -> None:
    pattern = "0110100101"
    assert sessions.from_labels(sessions.labels(pattern)) == pattern
