"""Tokens for the JSON API: each belongs to an API client, a user account of kind `api_client`
that has an organisation and a role like a person but can never sign in to the pages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.models.base import Base, UTCDateTime, utcnow
from ap_register.models.users import User


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    # SHA-256 of the secret (the secret is 256 random bits: a slow hash adds nothing); never the secret.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the secret, shown so that people can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[User] = relationship(foreign_keys=[client_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
