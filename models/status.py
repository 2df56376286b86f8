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


@dataclass(frozen=True)
class Look:
    emoji: str
    word: str
    colour: str  # the chart colour; chosen to be told apart by colour-blind readers

    @property
    def label(self) -> str:
        return f"{self.emoji} {self.word}"


_LOOK: dict[Status, Look] = {
    Status.NOT_STARTED: Look("⚪", "Not started", "#bdbdbd"),
    Status.ON_TRACK: Look("🟢", "On track", "#1b9e77"),
    Status.AT_RISK: Look("🟡", "At risk", "#e6ab02"),
    Status.OFF_TRACK: Look("🔴", "Off track", "#d95f02"),
    Status.COMPLETE: Look("✅", "Complete", "#386cb0"),
}

NO_UPDATE = Look("❔", "No update", "#f0f0f0")

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
