"""What the contract tests share: sending a file through the import channel as a person would."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy.orm import Session

from ap_register.domain.imports import ImportRefused, run_import
from ap_register.permissions import Actor


def through_import(db: Session, user: Any, kind: str, text: str, la: Any) -> list[str]:
    """Import `text` as a `kind` file for `la`, acting as `user`: the refusals, line by line (and
    nothing written), or [] once the file's work is committed."""
    try:
        run_import(db, Actor(user=user, via="import"), kind, io.BytesIO(text.encode()), la=la)
    except ImportRefused as refused:
        return [e.message for e in refused.report.errors]
    db.commit()
    return []
