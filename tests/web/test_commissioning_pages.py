"""The commissioning pages as a commissioner and a provider's AP head use them: a framework made
with its lots, evidence recorded, an application made and decided, and what each role may not do."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.domain.vocab import Role
from ap_register.models import AuditEvent, ComplianceCheck, Framework, LotApproval
from tests.pages import date_fields, errors, page, post, sign_in, text


def test_a_commissioner_creates_a_framework_and_adds_a_lot(client: Any, db: Session, world: dict[str, Any]) -> None:
    sign_in(client, world["home"]["users"][Role.COMMISSIONER].email)
    assert "Home AP framework" in text(page(client.get("/commissioning/")))
    refused = page(
        post(
            client,
            "/commissioning/frameworks/new",
            {
                "name": "Tuition 2027",
                "kind": "framework",
                **date_fields("starts_on", date(2027, 1, 4)),
                **date_fields("ends_on", date(2031, 1, 4)),
                "grace_days": "a fortnight",
            },
        )
    )
    assert errors(refused) == [
        "A framework may run for at most 4 years (Procurement Act 2023, section 47): end it before 4 January 2031",
        "Enter a grace period from 0 to 90 days",
    ]
    assert db.scalar(select(Framework).where(Framework.name == "Tuition 2027")) is None
    made = post(
        client,
        "/commissioning/frameworks/new",
        {
            "name": "Tuition 2027",
            "kind": "framework",
            **date_fields("starts_on", date(2027, 1, 4)),
            **date_fields("ends_on", date(2031, 1, 3)),
            "grace_days": "14",
        },
    )
    assert made.status_code == 302
    framework = db.scalar(select(Framework).where(Framework.name == "Tuition 2027"))
    assert framework is not None and framework.grace_days == 14
    added = post(
        client,
        f"/commissioning/frameworks/{framework.id}/lots/new",
        {"name": "One-to-one tuition", "service": "tuition"},
    )
    assert added.status_code == 302
    shown = text(page(client.get(f"/commissioning/frameworks/{framework.id}")))
    assert "Lot 1: One-to-one tuition" in shown and "No provider is on this lot yet" in shown


def test_evidence_recorded_then_the_waiting_application_approved_at_its_rate(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    farm, application = home["farm"], home["application"]
    sign_in(client, home["users"][Role.COMMISSIONER].email)
    # The farm has no evidence: the decision page says so, and approval is refused.
    decision = page(client.get(f"/commissioning/approvals/{application.id}"))
    assert text(decision).count("Missing") == 5
    refused = page(post(client, f"/commissioning/approvals/{application.id}", {"outcome": "approved"}))
    assert errors(refused)[0].startswith("Home Farm Project cannot be approved until its evidence is in date")
    for kind in ("insurance", "safeguarding_policy", "dbs_confirmation", "quality_visit", "financial_standing"):
        recorded = post(
            client,
            f"/commissioning/providers/{farm.id}/evidence",
            {
                "kind": kind,
                **date_fields("evidence_date", date(2026, 11, 2)),
                **date_fields("expires_on", date(2027, 11, 1)),
                "reference": f"{kind} 2026",
            },
        )
        assert recorded.status_code == 302, errors(page(recorded))
    approved = post(client, f"/commissioning/approvals/{application.id}", {"outcome": "approved", "rate": ""})
    assert approved.status_code == 302
    db.expire_all()
    stored = db.get(LotApproval, application.id)
    assert stored is not None and (stored.status, str(stored.rate), stored.rate_unit) == ("approved", "45.00", "hour")
    framework = text(page(client.get(f"/commissioning/frameworks/{home['framework'].id}")))
    assert "Home Farm Project" in framework and "£45.00 per hour" in framework
    provider = text(page(client.get(f"/commissioning/providers/{farm.id}")))
    assert provider.count("In date") == 5 and "insurance 2026" in provider
    audited = set(db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(farm.id))))
    assert "record_evidence" in audited


def test_an_ap_head_applies_for_their_own_provider_and_reads_only_its_evidence(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    sign_in(client, home["users"][Role.AP_HEAD].email)
    lot = home["lot"]
    form = page(client.get(f"/commissioning/lots/{lot.id}/apply"))
    assert [o.get_text() for o in form.select("select[name=provider] option") if o.get("value")] == [
        "Home PRU (Pupil referral unit)"
    ]
    # Its own evidence, yes; the farm's (another provider), no; and it decides nothing.
    assert "Evidence today" in text(page(client.get(f"/commissioning/providers/{home['pru'].id}")))
    assert client.get(f"/commissioning/providers/{home['farm'].id}").status_code == 404
    assert client.get(f"/commissioning/approvals/{home['application'].id}").status_code == 403
    # Naming another provider: not one of its choices, so refused, and nothing is added.
    applications = len(db.scalars(select(LotApproval.id)).all())
    other = {"provider": str(home["farm"].id), "rate": "50", "rate_unit": "day"}
    assert errors(page(post(client, f"/commissioning/lots/{lot.id}/apply", other))) == ["Choose the provider"]
    assert len(db.scalars(select(LotApproval.id)).all()) == applications
    # The framework page shows its own place on the lot, not the farm's application.
    shown = text(page(client.get(f"/commissioning/frameworks/{home['framework'].id}")))
    assert "Home PRU" in shown and "Home Farm Project" not in shown
    # Already on the lot: told so, nothing added.
    again = page(
        post(
            client,
            f"/commissioning/lots/{lot.id}/apply",
            {"provider": str(home["pru"].id), "rate": "50", "rate_unit": "day"},
        )
    )
    assert errors(again) == ["Home PRU has applied to this lot already"]


def test_a_school_lead_and_a_panel_member_keep_out_of_commissioning(
    client: Any, world: dict[str, Any], db: Session
) -> None:
    home = world["home"]
    recorded = len(db.scalars(select(ComplianceCheck.id)).all())
    for role in (Role.SCHOOL_LEAD, Role.PANEL_MEMBER, Role.ATTENDANCE_OFFICER):
        sign_in(client, home["users"][role].email)
        assert client.get("/commissioning/").status_code == 403
        assert client.get(f"/commissioning/providers/{home['pru'].id}").status_code == 403
        evidence = {"kind": "insurance", **date_fields("evidence_date", date(2026, 11, 2))}
        sent = post(
            client,
            f"/commissioning/providers/{home['pru'].id}/evidence",
            {**evidence, **date_fields("expires_on", date(2027, 11, 1))},
        )
        assert sent.status_code == 403
    assert len(db.scalars(select(ComplianceCheck.id)).all()) == recorded


def test_a_school_lead_finds_an_approved_provider_near_their_school(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    school, pru = home["school"], home["pru"]
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    first = page(client.get("/commissioning/directory"))
    # Their own school, to begin with; where it is is not known yet, and said so.
    assert first.select_one("select[name=school] option[selected]").get_text() == "Home High School"
    assert "no distance can be measured from it" in text(first)
    assert "Home PRU" in text(first) and "Home Farm Project" not in text(first)  # approved providers only
    school.easting, school.northing = 530_000, 180_000
    pru.easting, pru.northing = 533_000, 184_000
    db.commit()
    near = text(page(client.get(f"/commissioning/directory?school={school.id}&within=5")))
    assert "1 provider, nearest to Home High School first" in near
    assert "5.0 km" in near and "£60.00 per session" in near and "Can be called off" in near
    assert "0 providers" in text(page(client.get(f"/commissioning/directory?school={school.id}&within=2")))
    # A filter that is not one of its choices is said to be so, and the search goes on without it.
    odd = page(client.get("/commissioning/directory?within=99999999999999999999999999999&school=Robin"))
    assert errors(odd) == [
        "Choose one of the options for “Distance from”",
        "Choose one of the options for “Within”",
    ] and "Home PRU" in text(odd)
    assert client.get("/commissioning/directory?service=%00").status_code == 400


def agreement_form(start: date, review: date) -> dict[str, Any]:
    return {
        "objective_1": "Attend every session",
        "measure_1": "The register, each half term",
        "sessions": ["Mon AM", "Mon PM", "Tue AM", "Tue PM", "Wed AM"],
        "hours_per_week": "12.5",
        "rate": "60.00",
        "rate_unit": "session",
        "pays_on": "agreed",
        "payer": "school",
        **date_fields("starts_on", start),
        **date_fields("review_on", review),
        "safeguarding": "DSL at the PRU: Ms Lee",
        "contacts": "School office 01234 500100",
    }


def test_a_school_lead_calls_off_a_placement_from_its_page(client: Any, db: Session, world: dict[str, Any]) -> None:
    from ap_register.domain.vocab import Tier
    from ap_register.models import PlacementAgreement
    from tests import factories

    home = world["home"]
    child = factories.pupil(db, home["la"], home["school"], first_name="Kit", last_name="Homecalloff")
    placed = factories.placement(db, child, home["pru"], start=date(2026, 11, 30), tier=Tier.TIME_LIMITED)
    db.commit()
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    shown = page(client.get(f"/placements/{placed.id}"))
    assert "Call off under the framework" in text(shown)
    form = page(client.get(f"/commissioning/placements/{placed.id}/call-off"))
    assert form.select_one("input[name=approval][checked]") is not None  # the one lot, chosen
    refused = page(
        post(
            client,
            f"/commissioning/placements/{placed.id}/call-off",
            {**agreement_form(date(2026, 11, 30), date(2026, 11, 1)), "approval": str(home["approval"].id)},
        )
    )
    assert errors(refused) == ["The review must be on or after the start"]
    done = post(
        client,
        f"/commissioning/placements/{placed.id}/call-off",
        {**agreement_form(date(2026, 12, 7), date(2027, 2, 8)), "approval": str(home["approval"].id)},
    )
    assert done.status_code == 302
    made = db.scalar(select(PlacementAgreement).where(PlacementAgreement.placement_id == placed.id))
    assert made is not None and made.current.hours_per_week == 12.5
    agreement = text(page(client.get(f"/commissioning/agreements/{made.id}")))
    assert "Waiting for the school, the provider, the parent or carer" in agreement
    assert "5 sessions: Mon AM, Mon PM, Tue AM, Tue PM, Wed AM" in agreement and "<span" not in agreement
    # The school accepts it in the register, itself.
    accepted = post(
        client,
        f"/commissioning/agreements/{made.id}/accept",
        {"version": "1", "party": "school", "how": "in_register", **date_fields("signed_on", date(2026, 12, 4))},
    )
    assert accepted.status_code == 302
    assert "Waiting for the provider, the parent or carer" in text(
        page(client.get(f"/commissioning/agreements/{made.id}"))
    )


def test_the_provider_accepts_and_changes_the_agreement_and_the_versions_download(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    import io

    from pypdf import PdfReader

    home = world["home"]
    agreement = home["agreement"]
    sign_in(client, home["users"][Role.AP_HEAD].email)
    url = f"/commissioning/agreements/{agreement.id}"
    soup = page(client.get(url))
    assert [i["value"] for i in soup.select("input[name=party]")] == ["provider", "parent"]
    assert (
        post(
            client,
            f"{url}/accept",
            {"version": "1", "party": "provider", "how": "in_register", **date_fields("signed_on", date(2026, 12, 4))},
        ).status_code
        == 302
    )
    changed = post(
        client,
        f"{url}/change",
        {
            **agreement_form(date(2026, 9, 1), date(2027, 1, 11)),
            "reason": "Fewer sessions while settling",
            "version": "1",
        },
    )
    assert changed.status_code == 302
    now = text(page(client.get(url)))
    assert "Individual placement agreement, version 2" in now and "Earlier versions" in now
    assert "It replaces version 1 because: Fewer sessions while settling" in now
    pdf = client.get(f"{url}/versions/1.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    words = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert "version 1" in words and "Accepted for the provider by" in words
    assert client.get(f"{url}/versions/2.docx").status_code == 200
    assert client.get(f"{url}/versions/3.pdf").status_code == 404
    assert client.get(f"{url}/versions/1.exe").status_code == 404
    downloads = db.scalars(
        select(AuditEvent.detail).where(
            AuditEvent.action == "download", AuditEvent.object_type == "placement_agreement"
        )
    ).all()
    assert [d["version"] for d in downloads] == [1, 2]


def test_a_panel_member_and_another_provider_never_read_an_agreement(client: Any, world: dict[str, Any]) -> None:
    home = world["home"]
    sign_in(client, home["users"][Role.PANEL_MEMBER].email)
    assert client.get(f"/commissioning/agreements/{home['agreement'].id}").status_code == 403
    sign_in(client, home["users"][Role.ATTENDANCE_OFFICER].email)
    assert "Accepted by" in text(page(client.get(f"/commissioning/agreements/{home['agreement'].id}")))
    # A provider's head never searches the directory: it would show other providers' rates and places.
    sign_in(client, home["users"][Role.AP_HEAD].email)
    assert client.get("/commissioning/directory").status_code == 403
