"""Answers to a multi-page form, kept on the server (not in the browser's cookie) until confirmed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ap_register.models.base import Base, UTCDateTime, utcnow


class FormDraft(Base):
    __tablename__ = "form_draft"

    token: Mapped[str] = mapped_column(String(43), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Once confirmed: the id of what the draft made (a placement draft's placement). The answers
    # are cleared then; the draft stays until it expires, so that a second confirmation of it
    # (a double click, the back button) is shown what was made instead of making it again.
    made_id: Mapped[int | None] = mapped_column()


class FormSubmission(Base):
    """A form, as sent once. Every page form carries a token made when the page was drawn; the
    first request that sends it keeps it here in the same transaction as what the form does, so
    a second (a double click, two tabs) finds it taken and changes nothing. Kept a day."""

    __tablename__ = "form_submission"

    token: Mapped[str] = mapped_column(String(43), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
