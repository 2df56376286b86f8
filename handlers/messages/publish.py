"""Block Kit for publishing a period (issue 17): the preview an admin reviews — counts by
status and every note that would become public, each with a tick to leave it in — and what is
said once it is published. No SQL and no Slack calls here."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from handlers.ids import CallbackId
from handlers.messages.layout import Message, message, section
from handlers.messages.text import excerpt
from models.periods import PeriodError, parse_period, period_label
from models.publish import Note
from models.status import DISPLAY_ORDER, look

NOTES_PER_PAGE = 90  # a modal holds 100 blocks: the summary and one input per note
KEEP = "publish"  # the value of a note's tick
_LABEL = 2000  # plain_text limits of an input's label and hint
_MOST_LEFT_OUT = 200  # ids carried from page to page in private_metadata (3,000 characters)


@dataclass(frozen=True)
class PublishMetadata:
    """What the preview carries from page to page: the period, the page, a hash of every note
    shown (so a note that arrives while the admin reviews is never published unseen), and the
    notes left out so far."""

    period: str
    page: int
    notes_hash: str
    left_out: tuple[str, ...] = field(default=())

    def dump(self) -> str:
        return json.dumps(
            {"p": self.period, "pg": self.page, "h": self.notes_hash, "out": list(self.left_out)}
        )

    @classmethod
    def load(cls, text: str) -> PublishMetadata | None:
        try:
            data = json.loads(text)
            period, page, digest = parse_period(str(data["p"])), data["pg"], str(data["h"])
            out = data.get("out", [])
        except (ValueError, KeyError, TypeError, AttributeError, PeriodError):
            return None
        if not isinstance(page, int) or isinstance(page, bool) or not 1 <= page <= 1000:
            return None
        if not isinstance(out, list) or not all(isinstance(i, str) and len(i) <= 80 for i in out):
            return None
        return cls(period, page, digest[:64], tuple(out[:_MOST_LEFT_OUT]))


def notes_hash(notes: Sequence[Note]) -> str:
    """Every note as shown, in one hash: what the admin reviewed."""
    text = json.dumps([[n.initiative, n.text] for n in notes], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def pages(notes: Sequence[Note]) -> int:
    return max(1, -(-len(notes) // NOTES_PER_PAGE))


def block_id(note: Note) -> str:
    return f"note-{note.initiative}"


def counts_line(counts: dict[str, int]) -> str:
    shown = []
    for status in DISPLAY_ORDER:
        key = status.value if status else "no_update"
        shown.append(f"{look(status).label} {counts.get(key, 0)}")
    return " · ".join(shown)


def render_preview(
    snapshot: dict[str, Any], notes: Sequence[Note], metadata: PublishMetadata
) -> dict[str, Any]:
    """The modal: page `metadata.page` of the notes, every one ticked to be published."""
    label = period_label(metadata.period)
    total = pages(notes)
    shown = notes[(metadata.page - 1) * NOTES_PER_PAGE : metadata.page * NOTES_PER_PAGE]
    departments = snapshot["departments"]
    reported = sum(1 for d in departments if d["reported_for_period"])
    blocks: list[dict[str, Any]] = []
    if metadata.page == 1:
        blocks.append(
            section(
                f"*What becomes public for {label}*\n{counts_line(snapshot['counts'])}\n"
                f"{reported} of {len(departments)} departments reported for {label}; "
                f"{len(snapshot['measures'])} measure figures."
            ).to_dict()
        )
    intro = (
        f"*{len(notes)} notes* would be published — each below, as it will read. Untick a "
        "note to keep it private (its status is still published). People are named only by "
        "their role, never by name. A published period never changes."
        if notes
        else "No note would be published: statuses, percents and measures only."
    )
    if total > 1:
        intro += f"\nPage {metadata.page} of {total}."
    blocks.append(section(intro).to_dict())
    for note in shown:
        blocks.append(
            {
                "type": "input",
                "block_id": block_id(note),
                "optional": True,
                "label": {
                    "type": "plain_text",
                    "text": excerpt(f"{note.department} #{note.number} · {note.status}", _LABEL),
                },
                "hint": {"type": "plain_text", "text": excerpt(note.text, _LABEL)},
                "element": {
                    "type": "checkboxes",
                    "action_id": "keep",
                    "options": [
                        {"text": {"type": "plain_text", "text": "Publish this note"}, "value": KEEP}
                    ],
                    "initial_options": [
                        {"text": {"type": "plain_text", "text": "Publish this note"}, "value": KEEP}
                    ],
                },
            }
        )
    last = metadata.page >= total
    return {
        "type": "modal",
        "callback_id": CallbackId.PUBLISH,
        "title": {"type": "plain_text", "text": excerpt(f"Publish {label}", 24)},
        "submit": {"type": "plain_text", "text": "Publish" if last else "Next"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": metadata.dump(),
        "blocks": blocks,
    }


def left_out_on_page(values: dict[str, Any], notes: Sequence[Note]) -> list[str]:
    """The notes of a submitted page whose tick was taken off."""
    out = []
    for note in notes:
        chosen = ((values.get(block_id(note)) or {}).get("keep") or {}).get("selected_options")
        if not any(isinstance(o, dict) and o.get("value") == KEEP for o in chosen or []):
            out.append(note.initiative)
    return out


def render_done_view(title: str, said: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": excerpt(title, 24)},
        "close": {"type": "plain_text", "text": "Done"},
        "blocks": [section(said).to_dict()],
    }


def published_words(period: str, public: int, private: int, url: str | None) -> str:
    label = period_label(period)
    said = (
        f"✅ *{label} is published*: {public} notes public, {private} kept private. "
        "It never changes."
    )
    if url:
        said += f"\n<{url}/{period}/|The public page> · <{url}/data/{period}/plan.json|plan.json>"
    return said


def render_publish_refused(text: str) -> Message:
    return message(text, [section(text)])


def already_published_words(period: str, when: str, by: str) -> str:
    return (
        f"{period_label(period)} was published on {when} by {by}; a published period never changes."
    )
