from __future__ import annotations

from ap_register.domain import week_pattern


def test_full_time_and_part_time_patterns() -> None:
    assert week_pattern.count(week_pattern.FULL_TIME) == 10
    assert week_pattern.labels("1100110000") == ["Mon AM", "Mon PM", "Wed AM", "Wed PM"]
    assert week_pattern.describe("1100110000") == "4 sessions: Mon AM, Mon PM, Wed AM, Wed PM"
    assert week_pattern.days_attended("1000000001") == 2


def test_invalid_patterns_are_explained() -> None:
    assert week_pattern.problem("11111") is not None
    assert week_pattern.problem("11111111x1") is not None
    assert week_pattern.problem("0000000000") is None


def test_labels_round_trip() -> None:
    pattern = "0110100101"
    assert week_pattern.from_labels(week_pattern.labels(pattern)) == pattern
