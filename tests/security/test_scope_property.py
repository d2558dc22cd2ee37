"""The permission scope, against the rule as docs/architecture.md states it, over many random histories.

The rule: LA users see pupils whose home LA is theirs; a setting's users see pupils who are, or
were, on its roll or placed with it or by it. The oracle below says that in plain Python; the
scope says it in SQL. Every export, list and page goes through the scope."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import permissions
from ap_register.domain.actors import Actor
from ap_register.domain.vocab import MovementKind, Registration, Role, Route, SettingKind
from ap_register.models import Movement, Placement, Pupil
from tests import factories

SLOT = st.integers(min_value=0, max_value=5)  # one of six settings: three in each LA
pupil_histories = st.lists(
    st.fixed_dictionaries(
        {
            "la": st.integers(min_value=0, max_value=1),
            "home": st.none() | SLOT,
            "placements": st.lists(st.tuples(SLOT, st.none() | SLOT, st.none() | SLOT), max_size=3),
            "movements": st.lists(SLOT, max_size=2),
        }
    ),
    min_size=1,
    max_size=6,
)


def oracle(user: Any, history: list[dict[str, Any]], settings_ids: list[int], las: list[Any]) -> set[int]:
    """Indexes of the pupils this user may see, by the rule in docs/architecture.md."""
    seen = set()
    for index, pupil in enumerate(history):
        if user.la_id is not None:
            if las[pupil["la"]].id == user.la_id:
                seen.add(index)
            continue
        mine = user.setting_id
        linked = {settings_ids[s] for s in pupil["movements"]}
        for at, home, commissioner in pupil["placements"]:
            linked |= {settings_ids[at]}
            linked |= {settings_ids[home]} if home is not None else set()
            linked |= {settings_ids[commissioner]} if commissioner is not None else set()
        if pupil["home"] is not None:
            linked.add(settings_ids[pupil["home"]])
        if mine in linked:
            seen.add(index)
    return seen


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=pupil_histories)
def test_the_scope_matches_the_rule(db: Session, history: list[dict[str, Any]]) -> None:
    las = [factories.la(db, "855", with_terms=False), factories.la(db, "856", with_terms=False)]
    nested = db.begin_nested()
    try:
        kinds = [SettingKind.MAINSTREAM, SettingKind.MAINSTREAM, SettingKind.PRU]
        slots = [factories.setting(db, las[i // 3], kinds[i % 3]) for i in range(6)]
        ids = [s.id for s in slots]
        users = [factories.user(db, role, las[0]) for role in Role if role not in (Role.AP_HEAD, Role.SCHOOL_LEAD)]
        users += [
            factories.user(db, Role.SCHOOL_LEAD, slots[0]),
            factories.user(db, Role.SCHOOL_LEAD, slots[4]),
            factories.user(db, Role.AP_HEAD, slots[2]),
            factories.user(db, Role.AP_HEAD, slots[5]),
        ]
        pupils = []
        for n, entry in enumerate(history):
            pupil = Pupil(
                upn=f"X{n:012d}",
                first_name="P",
                last_name=str(n),
                date_of_birth=date(2012, 1, 1),
                home_la_id=las[entry["la"]].id,
                home_school_id=ids[entry["home"]] if entry["home"] is not None else None,
            )
            db.add(pupil)
            db.flush()
            pupils.append(pupil)
            for at, home, commissioner in entry["placements"]:
                db.add(
                    Placement(
                        pupil_id=pupil.id,
                        setting_id=ids[at],
                        route=Route.LA_OTHER,
                        registration=Registration.NONE,
                        sessions="1" * 10,
                        start_date=date(2025, 9, 3),
                        home_school_id=ids[home] if home is not None else None,
                        commissioner_setting_id=ids[commissioner] if commissioner is not None else None,
                    )
                )
            for at in entry["movements"]:
                db.add(
                    Movement(
                        pupil_id=pupil.id,
                        kind=MovementKind.ADMITTED,
                        date=date(2025, 9, 3),
                        setting_id=ids[at],
                        recorded_via="test",
                        details={},
                    )
                )
        db.flush()
        for user in users:
            actor = Actor(user=user, via="test")
            found = set(db.scalars(permissions.scope_pupils(actor, select(Pupil.id))))
            expected = {pupils[i].id for i in oracle(user, history, ids, las)}
            assert found == expected, f"{user.role.value} at {user.la_id or user.setting_id}"
            # Records that belong to pupils follow the pupils: placements and movements too.
            placements = set(db.scalars(permissions.scope_placements(actor, select(Placement.pupil_id))))
            assert placements <= expected
            movements = set(db.scalars(permissions.scope_movements(actor, select(Movement.pupil_id))))
            assert movements <= expected
    finally:
        nested.rollback()
