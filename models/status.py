"""The one status vocabulary: key, emoji and word, used the same way everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """What an update says about an initiative. "No update" is derived, never stored."""

    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    COMPLETE = "complete"

    @property
    def emoji(self) -> str:
        return _LOOK[self].emoji

    @property
    def word(self) -> str:
        return _LOOK[self].word

    @property
    def label(self) -> str:
        return f"{self.emoji} {self.word}"

    @property
    def needs_attention(self) -> bool:
        return self in (Status.AT_RISK, Status.OFF_TRACK)

    @property
    def needs_reason(self) -> bool:
        """Set At risk or Off track, a status is explained (issue 16: escalation by
        exception)."""
        return self.needs_attention


@dataclass(frozen=True)
class Look:
    emoji: str
    word: str
    # The chart colour: the colour of the emoji, so that a chart reads like the text (✅ and 🟢
    # are both green: complete is the darker). Charts hatch every status too, for readers who
    # cannot tell red from green and for print.
    colour: str

    @property
    def label(self) -> str:
        return f"{self.emoji} {self.word}"


_LOOK: dict[Status, Look] = {
    Status.NOT_STARTED: Look("⚪", "Not started", "#d9d9d9"),
    Status.ON_TRACK: Look("🟢", "On track", "#78b159"),
    Status.AT_RISK: Look("🟡", "At risk", "#fdcb58"),
    Status.OFF_TRACK: Look("🔴", "Off track", "#dd2e44"),
    Status.COMPLETE: Look("✅", "Complete", "#2e7d32"),
}

NO_UPDATE = Look("❔", "No update", "#f7f7f7")

# The order in which counts are shown: finished work first, then work needing attention.
DISPLAY_ORDER: tuple[Status | None, ...] = (
    Status.COMPLETE,
    Status.ON_TRACK,
    Status.AT_RISK,
    Status.OFF_TRACK,
    Status.NOT_STARTED,
    None,
)


def look(status: Status | None) -> Look:
    """The emoji, word and colour of a status, or of "no update" for None."""
    return NO_UPDATE if status is None else _LOOK[status]
