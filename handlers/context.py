"""What every listener needs from the running bot, handed down as one value (not imported)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from models.calendar import Calendar
from models.periods import open_period


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PlanContext:
    engine: AsyncEngine
    admins: frozenset[str] = frozenset()
    timezone: str = "America/New_York"
    updates_channel: str | None = None
    digest_channel: str | None = None
    calendar: Calendar = field(default_factory=Calendar)
    now: Callable[[], datetime] = field(default=_utcnow)

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.admins

    def open_period(self) -> str:
        return open_period(self.timezone, self.now())

    def is_late(self, period: str) -> bool:
        return self.calendar.is_late(period, self.now())
