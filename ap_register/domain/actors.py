"""Who is acting: a signed-in user, or the system (the CLI run by an operator, a job, the demo)."""

from __future__ import annotations

from dataclasses import dataclass

from ap_register.models import User


@dataclass(frozen=True)
class Actor:
    user: User | None
    via: str
    ip: str | None = None
    label: str | None = None

    @classmethod
    def system(cls, via: str, label: str | None = None) -> Actor:
        """An operator with database access (CLI, scheduled job): not limited by role."""
        return cls(user=None, via=via, label=label)

    @property
    def is_system(self) -> bool:
        return self.user is None

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.email
        return self.label or self.via

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None
