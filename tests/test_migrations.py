"""Migrations: up to the latest, all the way down and up again, on this run's database kind; and
the models and the migrations describe the same schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from ap_register import clock, create_app
from ap_register.config import TestConfig
from ap_register.extensions import db
from tests.conftest import make_database


@pytest.fixture()
def fresh_app(db_kind: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    url, drop = make_database(db_kind, tmp_path)
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**config, "SQLALCHEMY_DATABASE_URI": url})
    yield app
    with app.app_context():
        db.engine.dispose()
    drop()


def test_upgrade_downgrade_upgrade(fresh_app) -> None:  # type: ignore[no-untyped-def]
    with fresh_app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"pupil", "placement", "movement", "audit_event", "user_account"} <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert set(inspect(db.engine).get_table_names()) == tables


def test_the_models_match_the_migrations(fresh_app) -> None:  # type: ignore[no-untyped-def]
    with fresh_app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        assert differences == []


def test_requests_made_twice_before_the_waiting_index_are_settled_by_it(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """0019: a receiving LA's duplicate waiting requests for one UPN (possible before the index)
    leave the earliest waiting and the later withdrawn, with the reason; then the index holds."""
    from sqlalchemy import text

    row = (
        "INSERT INTO pupil_transfer (id, upn, date_of_birth, reason, to_la_id, status, requested_at) "
        "VALUES (:id, 'A855300125001', '2012-03-14', 'Moved here', :la, 'requested', CURRENT_TIMESTAMP)"
    )
    with fresh_app.app_context():
        upgrade(revision="0018")
        with db.engine.begin() as connection:
            la = _an_la(connection)
            for request_id in (1, 2, 3):
                connection.execute(text(row), {"id": request_id, "la": la})
        upgrade(revision="0019")
        with db.engine.connect() as connection:
            found = connection.execute(text("SELECT id, status, decision_note FROM pupil_transfer ORDER BY id")).all()
        assert [(r.id, r.status) for r in found] == [(1, "requested"), (2, "withdrawn"), (3, "withdrawn")]
        assert found[1].decision_note.startswith("Withdrawn by the register: an earlier request")
        assert "uq_pupil_transfer_waiting" in {i["name"] for i in inspect(db.engine).get_indexes("pupil_transfer")}
        downgrade(revision="0018")
        assert "uq_pupil_transfer_waiting" not in {i["name"] for i in inspect(db.engine).get_indexes("pupil_transfer")}


def test_exclusions_recorded_before_the_process_keep_their_meaning(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """0020: a permanent exclusion recorded when it took the pupil off the roll at once gains a
    removal on its day (recorded by the migration, saying so); the ledger accepts the exclusion's
    later steps and stays append-only; down, the steps and the migration's removals go."""
    import pytest as _pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with fresh_app.app_context():
        pupil, school = _a_pupil_at_a_school(upgrade_to="0019")
        with db.engine.begin() as connection:
            for kind, day in (("admitted", "2024-09-04"), ("permanent_exclusion", "2025-11-03")):
                connection.execute(
                    text(
                        "INSERT INTO movement (pupil_id, kind, date, setting_id, reason, details, recorded_via, "
                        "recorded_at) VALUES (:p, :k, :d, :s, 'x', '{}', 'test', CURRENT_TIMESTAMP)"
                    ),
                    {"p": pupil, "k": kind, "d": day, "s": school},
                )
        upgrade(revision="0020")
        with db.engine.begin() as connection:
            rows = connection.execute(text("SELECT kind, date, recorded_via FROM movement ORDER BY id")).all()
            assert [(r.kind, str(r.date), r.recorded_via) for r in rows] == [
                ("admitted", "2024-09-04", "test"),
                ("permanent_exclusion", "2025-11-03", "test"),
                ("removed_from_roll", "2025-11-03", "migration 0020"),
            ]
            connection.execute(
                text(
                    "INSERT INTO movement (pupil_id, kind, date, setting_id, details, recorded_via, recorded_at) "
                    "VALUES (:p, 'exclusion_upheld', '2025-11-10', :s, '{}', 'test', CURRENT_TIMESTAMP)"
                ),
                {"p": pupil, "s": school},
            )
        with _pytest.raises(DBAPIError), db.engine.begin() as connection:
            connection.execute(text("UPDATE movement SET reason = 'changed'"))
        with _pytest.raises(DBAPIError), db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO movement (pupil_id, kind, date, details, recorded_via, recorded_at) "
                    "VALUES (:p, 'expelled', '2025-11-10', '{}', 'test', CURRENT_TIMESTAMP)"
                ),
                {"p": pupil},
            )
        downgrade(revision="0019")
        with db.engine.connect() as connection:
            kinds = connection.execute(text("SELECT kind FROM movement ORDER BY id")).scalars().all()
        assert kinds == ["admitted", "permanent_exclusion"]
        with _pytest.raises(DBAPIError), db.engine.begin() as connection:
            connection.execute(text("DELETE FROM movement"))


def _an_la(connection) -> int:  # type: ignore[no-untyped-def]
    """LA 855, written by hand: the models describe the latest schema, not an earlier revision's."""
    from sqlalchemy import text

    return int(
        connection.execute(
            text(
                "INSERT INTO local_authority (code, name, live, review_interval_school_days, "
                "unregistered_session_cap) VALUES ('855', 'Leicestershire', true, 30, 4) RETURNING id"
            )
        ).scalar()
    )


def _a_pupil_at_a_school(upgrade_to: str) -> tuple[int, int]:
    """At an earlier revision, a pupil and a school, written as the schema then was."""
    from sqlalchemy import text

    upgrade(revision=upgrade_to)
    with db.engine.begin() as connection:
        la = _an_la(connection)
        school = connection.execute(
            text(
                "INSERT INTO setting (ref, name, kind, la_id, open, kind_set_by_admin, "
                "safeguarding_checks_confirmed, created_at, updated_at) "
                "VALUES ('100001', 'Hill School', 'mainstream', :la, "
                "true, false, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
            ),
            {"la": la},
        ).scalar()
        pupil = connection.execute(
            text(
                "INSERT INTO pupil (upn, first_name, last_name, date_of_birth, home_la_id, sen_status, "
                "ehc_assessment_requested, child_in_need, looked_after, created_at, updated_at) VALUES "
                "('A855300125001', 'Ada', 'Lovel', '2012-03-14', :la, 'N', false, false, false, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
            ),
            {"la": la},
        ).scalar()
    return int(pupil), int(school)


def test_a_managed_move_recorded_as_a_trial_becomes_an_off_site_direction(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """0021: a managed move with dual registration (a trial) is an off-site direction; the ledger
    gains a correction saying so, and the placement is still the view of its latest movement."""
    import json

    from sqlalchemy import text

    with fresh_app.app_context():
        pupil, school = _a_pupil_at_a_school(upgrade_to="0020")
        details = {"route": "managed_move", "registration": "dual", "sessions": "1" * 10, "setting_id": school}
        with db.engine.begin() as connection:
            for route, registration in (("managed_move", "dual"), ("fair_access", "sole")):
                placement = connection.execute(
                    text(
                        "INSERT INTO placement (pupil_id, setting_id, route, registration, sessions, start_date, "
                        "spot_purchase, created_at) VALUES (:p, :s, :r, :g, '1111111111', '2025-11-03', false, "
                        "CURRENT_TIMESTAMP) RETURNING id"
                    ),
                    {"p": pupil, "s": school, "r": route, "g": registration},
                ).scalar()
                connection.execute(
                    text(
                        "INSERT INTO movement (pupil_id, kind, date, setting_id, placement_id, details, "
                        "recorded_via, recorded_at) VALUES (:p, 'placement_started', '2025-11-03', :s, :pl, :d, "
                        "'test', CURRENT_TIMESTAMP)"
                    ),
                    {"p": pupil, "s": school, "pl": placement, "d": json.dumps({**details, "route": route})},
                )
        upgrade(revision="0021")
        with db.engine.connect() as connection:
            routes = connection.execute(text("SELECT route FROM placement ORDER BY id")).scalars().all()
            latest = connection.execute(
                text("SELECT kind, reason, details, recorded_via FROM movement ORDER BY id DESC LIMIT 1")
            ).one()
        assert routes == ["off_site_direction", "fair_access"]
        found = latest.details if isinstance(latest.details, dict) else json.loads(latest.details)
        assert (latest.kind, latest.recorded_via, found["route"]) == (
            "placement_corrected",
            "migration 0021",
            "off_site_direction",
        )
        assert latest.reason.startswith("A managed move has no trial")
        downgrade(revision="0020")
        with db.engine.connect() as connection:
            routes = connection.execute(text("SELECT route FROM placement ORDER BY id")).scalars().all()
            kinds = connection.execute(text("SELECT kind FROM movement ORDER BY id")).scalars().all()
        assert routes == ["managed_move", "fair_access"] and kinds == ["placement_started", "placement_started"]


def test_fair_access_referrals_recorded_before_keep_their_clock(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """0022: a fair access referral recorded before counted its 20 school days from its submission,
    so its LA's agreement is taken as that day; other referrals have none; down drops the columns."""
    from sqlalchemy import inspect, text

    with fresh_app.app_context():
        pupil, school = _a_pupil_at_a_school(upgrade_to="0021")
        with db.engine.begin() as connection:
            la = connection.execute(text("SELECT home_la_id FROM pupil WHERE id = :p"), {"p": pupil}).scalar()
            for move, route in (("fair_access", "fair_access"), ("managed_move", "managed_move")):
                connection.execute(
                    text(
                        "INSERT INTO referral (la_id, pupil_id, move, route, reason_codes, reasons, best_interest, "
                        "has_ehcp, awaiting_ehc_assessment, status, submitted_at, submitted_on, version) VALUES "
                        "(:la, :p, :m, :r, '[]', 'Reasons', 'Best interest', false, false, 'submitted', "
                        "CURRENT_TIMESTAMP, '2025-11-03', 1)"
                    ),
                    {"la": la, "p": pupil, "m": move, "r": route},
                )
            # A decision's meeting and the decision itself refer to the referral: down keeps them.
            panel = connection.execute(
                text("INSERT INTO panel (la_id, name, quorum) VALUES (:la, 'Panel', 3) RETURNING id"), {"la": la}
            ).scalar()
            connection.execute(text("INSERT INTO meeting (panel_id, held_on) VALUES (:p, '2025-11-13')"), {"p": panel})
            connection.execute(
                text(
                    "INSERT INTO agenda_item (meeting_id, referral_id, position) SELECT m.id, r.id, 1 FROM meeting m, "
                    "referral r WHERE r.move = 'fair_access'"
                )
            )
        upgrade(revision="0022")
        with db.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT move, fair_access_agreed_on, fair_access_category FROM referral ORDER BY id")
            ).all()
        assert [
            (r.move, str(r.fair_access_agreed_on) if r.fair_access_agreed_on else None, r.fair_access_category)
            for r in rows
        ] == [("fair_access", "2025-11-03", None), ("managed_move", None, None)]
        downgrade(revision="0021")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM agenda_item")).scalar() == 1
        columns = {c["name"] for c in inspect(db.engine).get_columns("referral")}
        assert "fair_access_agreed_on" not in columns and "fair_access_category" not in columns


def test_reviews_recorded_before_say_nobody_was_recorded_as_taking_part(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """0023: a part-time timetable's agreement and purpose, and who took part in a review, were not
    asked before: old rows keep blanks (false, null), never an invented answer; down drops them."""
    from sqlalchemy import inspect, text

    with fresh_app.app_context():
        pupil, school = _a_pupil_at_a_school(upgrade_to="0022")
        with db.engine.begin() as connection:
            placement = connection.execute(
                text(
                    "INSERT INTO placement (pupil_id, setting_id, route, registration, sessions, start_date, "
                    "planned_end_date, spot_purchase, created_at) VALUES (:p, :s, 'part_time_timetable', 'sole', "
                    "'1111100000', '2025-11-03', '2025-12-12', false, CURRENT_TIMESTAMP) RETURNING id"
                ),
                {"p": pupil, "s": school},
            ).scalar()
            connection.execute(
                text(
                    "INSERT INTO placement_review (placement_id, review_date, notes, recorded_at) VALUES "
                    "(:pl, '2025-11-20', 'Going well', CURRENT_TIMESTAMP)"
                ),
                {"pl": placement},
            )
        upgrade(revision="0023")
        with db.engine.connect() as connection:
            review = connection.execute(
                text("SELECT pupil_took_part, parents_took_part, extended_from FROM placement_review")
            ).one()
            agreed = connection.execute(text("SELECT parent_agreed_on, part_time_purpose FROM placement")).one()
        assert (bool(review.pupil_took_part), bool(review.parents_took_part), review.extended_from) == (
            False,
            False,
            None,
        )
        assert tuple(agreed) == (None, None)
        downgrade(revision="0022")
        assert "parent_agreed_on" not in {c["name"] for c in inspect(db.engine).get_columns("placement")}
        assert "extended_from" not in {c["name"] for c in inspect(db.engine).get_columns("placement_review")}


def test_an_la_s_panel_date_becomes_its_adoption_date_and_marks_its_old_records(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """0026: the day an LA's panel checks began becomes the day it adopted the register (never in
    the future); no placement recorded before is marked as an old record (each was recorded under
    the checks of its day); the alert for a review asked for takes its published name. Down gives
    each back."""
    from sqlalchemy import inspect, text

    with fresh_app.app_context():
        pupil, school = _a_pupil_at_a_school(upgrade_to="0025")
        with db.engine.begin() as connection:
            la = connection.execute(text("SELECT home_la_id FROM pupil WHERE id = :p"), {"p": pupil}).scalar()
            connection.execute(
                text("UPDATE local_authority SET panel_decisions_from = '2026-01-05' WHERE id = :la"), {"la": la}
            )
            # Another LA's date in the future: an adoption date is never later than the upgrade.
            connection.execute(
                text(
                    "INSERT INTO local_authority (code, name, live, review_interval_school_days, "
                    "unregistered_session_cap, panel_decisions_from) VALUES ('856', 'Leicester', true, 30, 4, "
                    "'2099-01-01')"
                )
            )
            for start in ("2025-11-03", "2026-01-05"):
                connection.execute(
                    text(
                        "INSERT INTO placement (pupil_id, setting_id, route, registration, sessions, start_date, "
                        "spot_purchase, created_at) VALUES (:p, :s, 'home_school', 'sole', '1111111111', :start, "
                        "false, CURRENT_TIMESTAMP)"
                    ),
                    {"p": pupil, "s": school, "start": start},
                )
            connection.execute(
                text(
                    "INSERT INTO alert (la_id, kind, key, due, message, status, raised_at, last_found_on) VALUES "
                    "(:la, 'off_site_review_requested', 'off_site_review_requested:7', '2026-01-05', 'Asked', "
                    "'open', CURRENT_TIMESTAMP, '2026-01-05')"
                ),
                {"la": la},
            )
        upgrade(revision="0026")
        with db.engine.connect() as connection:
            adopted = connection.execute(text("SELECT adopted_on FROM local_authority WHERE id = :la"), {"la": la})
            marks = connection.execute(text("SELECT start_date, from_old_records FROM placement ORDER BY start_date"))
            alert = connection.execute(text("SELECT kind, key FROM alert")).one()
            future = connection.execute(text("SELECT adopted_on FROM local_authority WHERE code = '856'"))
            assert str(adopted.scalar()) == "2026-01-05"
            assert str(future.scalar()) == clock.today().isoformat()
            assert [(str(start), bool(mark)) for start, mark in marks] == [("2025-11-03", False), ("2026-01-05", False)]
            assert tuple(alert) == ("review_requested", "review_requested:7")
        downgrade(revision="0025")
        with db.engine.connect() as connection:
            alert = connection.execute(text("SELECT kind, key FROM alert")).one()
            since = connection.execute(
                text("SELECT panel_decisions_from FROM local_authority WHERE id = :la"), {"la": la}
            ).scalar()
        assert tuple(alert) == ("off_site_review_requested", "off_site_review_requested:7")
        assert str(since) == "2026-01-05"
        assert "from_old_records" not in {c["name"] for c in inspect(db.engine).get_columns("placement")}
        assert "adopted_on" not in {c["name"] for c in inspect(db.engine).get_columns("local_authority")}


def test_answers_kept_before_the_upgrade_are_still_put_back(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """0032: a person whose answers were kept before the upgrade has the draft's time, so the
    page still looks for them; a person with none has no time. Down drops the column."""
    from sqlalchemy import inspect, text

    with fresh_app.app_context():
        upgrade(revision="0031")
        with db.engine.begin() as connection:
            la = _an_la(connection)
            people = [
                connection.execute(
                    text(
                        "INSERT INTO user_account (email, name, password_hash, role, la_id, active, "
                        "must_change_password, session_version, created_at, kind) VALUES "
                        "(:email, 'A person', 'x', 'la_admin', :la, true, false, 1, CURRENT_TIMESTAMP, 'person') "
                        "RETURNING id"
                    ),
                    {"email": email, "la": la},
                ).scalar()
                for email in ("kept@example.org", "none@example.org")
            ]
            connection.execute(
                text(
                    "INSERT INTO form_draft (token, user_id, kind, data, created_at) VALUES "
                    "('t1', :u, 'kept:0123', '{}', '2026-12-06 03:00:00.000000')"
                ),
                {"u": people[0]},
            )
        upgrade()
        with db.engine.connect() as connection:
            kept = dict(connection.execute(text("SELECT id, answers_kept_at FROM user_account")).all())
        assert kept[people[0]] is not None and str(kept[people[0]]).startswith("2026-12-06 03:00:00")
        assert kept[people[1]] is None
        downgrade(revision="0031")
        assert "answers_kept_at" not in {c["name"] for c in inspect(db.engine).get_columns("user_account")}


def test_each_child_s_parents_become_their_contacts_and_go_back(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """0035: the parents a pupil held (a name and an address each, as JSON) become the child's
    parents and carers among their contacts, in their order, with nothing invented (relationship
    not recorded; parental responsibility and where the child lives not known). Down puts each
    child's parents and carers back, name and address, in order."""
    from sqlalchemy import inspect, text

    with fresh_app.app_context():
        pupil, _ = _a_pupil_at_a_school(upgrade_to="0034")
        with db.engine.begin() as connection:
            connection.execute(
                text("UPDATE pupil SET parents = :parents WHERE id = :p"),
                {
                    "p": pupil,
                    "parents": (
                        '[{"name": "Jo Lovel", "address": null}, {"name": "Lee Cole", "address": "9 Mill Road"}]'
                    ),
                },
            )
        upgrade(revision="0035")
        with db.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT pupil_id, role, name, relation, address, parental_responsibility, lives_with "
                    "FROM pupil_contact ORDER BY id"
                )
            ).all()
        assert [tuple(row) for row in rows] == [
            (pupil, "parent_carer", "Jo Lovel", "not_known", None, None, None),
            (pupil, "parent_carer", "Lee Cole", "not_known", "9 Mill Road", None, None),
        ]
        assert "parents" not in {c["name"] for c in inspect(db.engine).get_columns("pupil")}
        with db.engine.begin() as connection:  # a professional, added since, goes down with the table
            connection.execute(
                text(
                    "INSERT INTO pupil_contact (pupil_id, role, name, added_at, changed_at) "
                    "VALUES (:p, 'social_worker', 'Sam Reed', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"p": pupil},
            )
        downgrade(revision="0034")
        with db.engine.connect() as connection:
            held = connection.execute(text("SELECT parents FROM pupil WHERE id = :p"), {"p": pupil}).scalar()
        import json

        assert (json.loads(held) if isinstance(held, str) else held) == [
            {"name": "Jo Lovel", "address": None},
            {"name": "Lee Cole", "address": "9 Mill Road"},
        ]
        assert "pupil_contact" not in inspect(db.engine).get_table_names()
