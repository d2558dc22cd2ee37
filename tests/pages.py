"""Reading pages as a user would: parse the HTML and check the things every page must get right."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bs4 import BeautifulSoup
from flask.testing import FlaskClient

from tests.factories import PASSWORD


def page(response: Any, status: int = 200) -> BeautifulSoup:
    """The parsed page, after checking its status, its single h1, that its title starts with the
    h1 (after "Error: " when the page reports errors), that no id repeats and every form has an action."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.data[:300]!r}"
    soup = BeautifulSoup(response.data, "html.parser")
    headings = soup.find_all("h1")
    assert len(headings) == 1, f"expected one h1, found {[h.get_text(strip=True) for h in headings]}"
    h1 = " ".join(headings[0].get_text(" ", strip=True).split())
    title = " ".join(soup.title.get_text(strip=True).split())
    has_errors = soup.select_one(".govuk-error-summary") is not None
    assert title.startswith(("Error: " if has_errors else "") + h1), f"title {title!r} does not start with {h1!r}"
    assert title.endswith("– AP register") or title == h1 == "AP register", f"title {title!r}"
    ids = Counter(tag["id"] for tag in soup.find_all(id=True))
    assert not [i for i, n in ids.items() if n > 1], f"duplicate ids: {[i for i, n in ids.items() if n > 1]}"
    for form in soup.find_all("form"):
        assert form.get("action"), "a form without an action"
        if form.get("method", "get").lower() == "post":
            assert form.select_one("input[name=csrf_token]"), "a POST form without a CSRF token"
    return soup


def text(soup: BeautifulSoup, selector: str = "main") -> str:
    found = soup.select_one(selector)
    assert found is not None, f"nothing matches {selector}"
    return " ".join(found.get_text(" ", strip=True).split())


def errors(soup: BeautifulSoup) -> list[str]:
    return [a.get_text(strip=True) for a in soup.select(".govuk-error-summary__list a")]


def csrf_token(client: FlaskClient, url: str = "/account") -> str:
    """The session's CSRF token, read from a page's form (by default the account page, which shows
    no child: the home page lists children, and opening it is a view on their audit trail)."""
    soup = BeautifulSoup(client.get(url, follow_redirects=True).data, "html.parser")
    field = soup.select_one("input[name=csrf_token]")
    assert field is not None, f"no CSRF token on {url}"
    return str(field["value"])


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Sign in as this person (signing out whoever was signed in on this client first)."""
    if client.get_cookie("session") is not None:
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/sign-in")})
    token = csrf_token(client, "/sign-in")
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})


def post(client: FlaskClient, url: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """Submit a form as the browser would: with the session's CSRF token."""
    return client.post(url, data={"csrf_token": csrf_token(client), **data}, **kwargs)


def date_fields(name: str, day: Any) -> dict[str, list[str]]:
    """A GOV.UK date input's three boxes, all sent under the field's name."""
    return {name: [str(day.day), str(day.month), str(day.year)]}
