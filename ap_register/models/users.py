"""People who sign in, each in one organisation: a local authority or a setting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.domain.vocab import Role
from ap_register.models.base import Base, UTCDateTime, str_enum, utcnow
from ap_register.models.reference import LocalAuthority
from ap_register.models.settings import Setting


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    la_id: Mapped[int | None] = mapped_column(ForeignKey("local_authority.id"), index=True)
    setting_id: Mapped[int | None] = mapped_column(ForeignKey("setting.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # Bumped on password change or deactivation: every signed-in session then ends.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A second step at sign-in (TOTP, RFC 6238), when the person has set one up; and the last
    # 30-second step a code was accepted for, so that a code cannot be used twice.
    totp_sealed: Mapped[str | None] = mapped_column(String(255))  # the TOTP secret, sealed (accounts/two_factor.py)
    totp_last_step: Mapped[int | None] = mapped_column()
    # `person` signs in to the pages; `api_client` only calls the API with its token.
    kind: Mapped[str] = mapped_column(String(12), default="person", server_default="person")
    # When a form's answers were last kept for this person as their session lapsed
    # (accounts/kept_answers.py); None once they were put back. Pages look for kept answers only
    # while it is set and younger than a draft's lifetime.
    answers_kept_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    la: Mapped[LocalAuthority | None] = relationship()
    setting: Mapped[Setting | None] = relationship()

    __table_args__ = (
        CheckConstraint("(la_id IS NULL) <> (setting_id IS NULL)", name="one_organisation"),
        CheckConstraint("kind IN ('person', 'api_client')", name="user_kind"),
    )

    # Flask-Login's user protocol, kept here so that the model needs no Flask import.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active and self.kind == "person"

    @property
    def is_api_client(self) -> bool:
        return self.kind == "api_client"

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def organisation_la_id(self) -> int:
        """The LA whose area this user works in (their own, or their setting's)."""
        if self.la_id is not None:
            return self.la_id
        assert self.setting is not None
        return self.setting.la_id

    @property
    def organisation_name(self) -> str:
        if self.setting is not None:
            return self.setting.name
        assert self.la is not None
        return self.la.name

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
