"""UPN validation: the DfE check letter, the LA code, temporary UPNs."""

from __future__ import annotations

import pytest

from ap_register.domain.upn import LETTERS, check_letter, check_upn, make_upn


def test_check_letter_follows_the_dfe_weights() -> None:
    body = "855200125001"
    total = sum(int(c) * w for w, c in enumerate(body, start=2))
    assert check_letter(body) == LETTERS[total % 23]


def test_a_well_formed_upn_is_valid_and_names_its_la() -> None:
    upn = make_upn("855200125001")
    result = check_upn(upn)
    assert result.valid and result.la_code == "855" and not result.temporary


def test_spaces_and_lower_case_are_tidied() -> None:
    upn = make_upn("855200125001")
    assert check_upn(f" {upn[:5].lower()} {upn[5:]} ").upn == upn


UPN = make_upn("855200125001")


@pytest.mark.parametrize("wrong", [c for c in LETTERS if c != UPN[0]])
def test_every_wrong_check_letter_is_refused(wrong: str) -> None:
    upn = UPN
    result = check_upn(wrong + upn[1:])
    assert not result.valid
    assert result.message == f"The check letter is wrong: a UPN ending {upn[1:]} starts with {upn[0]}"


def test_a_temporary_upn_ends_in_a_letter_valued_from_the_table() -> None:
    body = "85520012500B"  # B is worth 1 in the table, at weight 13
    expected = LETTERS[(sum(int(c) * w for w, c in enumerate(body[:-1], start=2)) + 1 * 13) % 23]
    assert check_letter(body) == expected
    result = check_upn(expected + body)
    assert result.valid and result.temporary


@pytest.mark.parametrize(
    ("upn", "message"),
    [
        ("", "Enter a UPN"),
        ("A12345", "A UPN must be 13 characters; this one has 6"),
        ("I855200125001", "A UPN must start with a check letter (A to Z, not I, O or S)"),
        ("A85520012X001", "Characters 2 to 12 of a UPN must be digits"),
        ("A85520012500S", "The last character of a UPN must be a digit or a letter other than I, O or S"),
    ],
)
def test_malformed_upns_say_what_is_wrong(upn: str, message: str) -> None:
    result = check_upn(upn)
    assert not result.valid and result.message == message


def test_an_unknown_la_code_is_refused() -> None:
    result = check_upn(make_upn("999200125001"))
    assert not result.valid
    assert result.message == "Characters 2 to 4 (999) are not an English or Welsh LA code"


@pytest.mark.parametrize("code", ["909", "928", "660", "681"])
def test_former_english_and_welsh_la_codes_are_accepted(code: str) -> None:
    # 909 Cumbria and 928 Northamptonshire were abolished; 660-681 are Welsh authorities.
    assert check_upn(make_upn(f"{code}200125001")).valid


def test_a_code_outside_the_welsh_range_is_refused() -> None:
    assert not check_upn(make_upn("682200125001")).valid
