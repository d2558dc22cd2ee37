"""The autocompletes as people use them: the pupil search by keyboard (a few letters of a name,
arrow down, Enter), a setting chosen by typing part of its name and cleared by emptying the box,
an error read with the box that has it, and the same pages without JavaScript."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from ap_register.domain.vocab import Role, SettingKind
from ap_register.extensions import db
from tests import factories
from tests.browser.conftest import setting_box, sign_in
from tests.conftest import build_world

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def area(live_app: Any) -> dict[str, Any]:
    with live_app.app_context():
        world = build_world(db.session)
        home = world["home"]
        # A name as a settings file could bring it: shown as the text it is, never as markup.
        factories.setting(db.session, home["la"], SettingKind.PRU, name='<b>Bold</b> <input name="setting" value="1">')
        db.session.commit()
        found = {
            "officer": home["users"][Role.ATTENDANCE_OFFICER].email,
            "lead": home["users"][Role.SCHOOL_LEAD].email,
            "pupil_id": home["pupil"].id,
            "upn": home["pupil"].upn,
            "pru_id": home["pru"].id,
        }
        db.session.remove()
    return found


def test_the_pupil_search_by_keyboard(page: Any, axe: Any, area: dict[str, Any]) -> None:
    sign_in(page, area["officer"], factories.PASSWORD)
    page.goto("/pupils")
    search = page.get_by_role("combobox", name="UPN or name")
    search.focus()
    page.keyboard.type("homec")
    suggestion = page.get_by_role("option").filter(has_text="Robin Homechild")
    expect(suggestion).to_be_visible()
    expect(suggestion).to_contain_text(area["upn"])
    expect(page.get_by_role("option")).to_have_count(1)  # not Casey Homebystander: "homec" is not in it
    axe.check(page)  # with the list open
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(search).to_have_value(area["upn"])
    expect(search).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/pupils\?q=" + area["upn"]))
    expect(page.get_by_role("link", name="Homechild, Robin")).to_be_visible()

    # Enter with the list open and nothing chosen searches for what was typed.
    search = page.get_by_role("combobox", name="UPN or name")
    search.fill("")
    search.press_sequentially("home")
    expect(page.get_by_role("option")).to_have_count(2)
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/pupils\?q=home&"))
    expect(page.get_by_role("link", name="Homebystander, Casey")).to_be_visible()
    expect(page.get_by_role("link", name="Homechild, Robin")).to_be_visible()


def test_a_setting_is_chosen_by_typing_and_cleared_by_emptying_the_box(page: Any, area: dict[str, Any]) -> None:
    sign_in(page, area["officer"], factories.PASSWORD)
    page.goto("/placements")
    box = setting_box(page, "Setting")
    box.press_sequentially("pru")
    page.get_by_role("option", name="Home PRU (Pupil referral unit)").click()
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"setting={area['pru_id']}(&|$)"))
    box = setting_box(page, "Setting")
    expect(box).to_have_value("Home PRU (Pupil referral unit)")  # kept after the search
    box.fill("")
    box.press("Tab")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"setting=(&|$)"))

    # A setting's name is text in the list, whatever it holds.
    box = setting_box(page, "Setting")
    box.press_sequentially("Bold")
    option = page.get_by_role("option", name=re.compile("Bold"))
    expect(option).to_have_text('<b>Bold</b> <input name="setting" value="1"> (Pupil referral unit)')
    expect(page.locator(".autocomplete__menu b, .autocomplete__menu input")).to_have_count(0)


def test_an_error_is_read_with_the_box_that_has_it(page: Any, axe: Any, area: dict[str, Any]) -> None:
    sign_in(page, area["lead"], factories.PASSWORD)
    page.goto(f"/pupils/{area['pupil_id']}/placements/new")
    page.get_by_label("Off-site direction (s29A Education Act 2002)").check()
    box = setting_box(page, "Where will the pupil be educated?")
    box.press_sequentially("no such place")
    expect(page.get_by_role("option", name="No setting has that name")).to_be_visible()
    box.press("Tab")  # leaving the box closes the list
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Choose the setting")
    axe.check(page)
    summary.get_by_role("link", name="Choose the setting").click()
    box = setting_box(page, "Where will the pupil be educated?")
    expect(box).to_be_focused()
    expect(box).to_have_accessible_description(re.compile("Choose the setting"))


def test_without_javascript_the_boxes_are_a_select_and_a_text_box(
    browser: Any, server: str, area: dict[str, Any]
) -> None:
    context = browser.new_context(base_url=server, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, area["officer"], factories.PASSWORD)
        page.goto("/pupils")
        page.get_by_label("UPN or name").fill(area["upn"])
        page.get_by_label("Setting").select_option(label="Home PRU (Pupil referral unit)")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("link", name="Homechild, Robin")).to_be_visible()
    finally:
        context.close()
