"""Password rules as the NCSC advises: a minimum length and a deny-list of the passwords guessers
try first, and no rules about kinds of character."""

from __future__ import annotations

import pytest

from ap_register.accounts.users import common_passwords, normalise_email, password_problem

EMAIL = "robin.admin@example.org"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("eleven chars", None),  # 12 with the space: long enough, nothing else asked
        ("short one", "Password must be 12 characters or more"),
        ("x" * 129, "Password must be 128 characters or fewer"),
        ("password1234", "Password is one of the most common passwords"),
        ("Password!2024", "Password is one of the most common passwords"),  # a common word, dressed up
        ("!!qwertyuiop12", "Password is one of the most common passwords"),
        ("aaaaaaaaaaaaaa", "Password repeats a few characters"),
        ("abcabcabcabcab", "Password repeats a few characters"),
        ("robin.admin1234", "Password must not contain your email address"),
        ("ApRegister2026!", "Password is too close to a common word or this service's name"),
        ("correct horse battery staple", None),
        ("all lower case letters", None),  # no composition rules
        ("zd8!Qm2#pL0v", None),
    ],
)
def test_passwords_are_judged_by_length_and_a_deny_list(password: str, problem: str | None) -> None:
    found = password_problem(password, EMAIL)
    assert (found is None) if problem is None else (found or "").startswith(problem), found


def test_the_deny_list_is_the_real_list_of_common_passwords() -> None:
    listed = common_passwords()
    assert len(listed) == 30_000 and {"123456", "password", "qwerty", "iloveyou"} <= listed


def test_an_address_is_one_account_however_it_is_typed() -> None:
    assert {
        normalise_email(a)
        for a in ("Robin.Admin@Example.org", "  robin.admin@example.org\t", "ＲＯＢＩＮ.admin@example.org")
    } == {"robin.admin@example.org"}
