"""What the bot answers in a prompt's thread when a lead replies in words: every initiative it
recorded (status word, percent, note — a misreading is seen at a glance), a question with one
button per reading for each part it was not sure of, what it could not read and why, and Undo.

No SQL and no Slack calls here. The person's words are escaped wherever they are shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from handlers.ids import ActionId
from handlers.messages import limits
from handlers.messages.help import help_button
from handlers.messages.layout import Lines, Message, Part, context, message, plural, section
from handlers.messages.measure_words import amount
from handlers.messages.text import escape, escaped_excerpt, excerpt
from handlers.reading.buttons import choice_action, choice_value, prompt_value, undo_value
from models.cycle import UpdateEntry
from models.periods import period_label

_NOTE = 200
_SAID = 120
_WHY = 200
_MOST_QUESTIONS = 8  # with buttons; each takes two blocks
_QUESTION_BLOCK = "reply-question-"
_UNDO_BLOCK = "reply-undo"

HINT = (
    "Reply with one line per initiative: `1 on track - 12 recruits started` · "
    "`2 at risk 40% waiting on the union` · `all others on track` · `no change`"
)


@dataclass(frozen=True)
class AskedChoices:
    """A question as asked: its id (the buttons' value) and its readings."""

    id: int
    said: str
    why: str
    choices: Sequence[UpdateEntry]


@dataclass(frozen=True)
class RecordedMeasure:
    """A measure line as recorded: its number, or (None) a reason for the number it had."""

    name: str
    unit: str
    value: float | None
    note: str


def measure_entry_line(measure: RecordedMeasure) -> str:
    """'*Potholes filled* 412 — crews doubled', or '*Fire response time*: reason noted — …'."""
    name = f"*{escape(measure.name)}*"
    note = escaped_excerpt(measure.note, _NOTE)
    if measure.value is None:
        return f"{name}: reason noted — {note}"
    line = f"{name} {amount(measure.value, measure.unit)}"
    return line + (f" — {note}" if note else "")


@dataclass(frozen=True)
class ReplyAnswer:
    """Everything the answer to one reply shows, from the reader and what was stored."""

    department_key: str
    department_name: str
    period: str
    reply: str  # "channel:ts", for Undo
    recorded: Sequence[UpdateEntry]
    questions: Sequence[AskedChoices]
    unreadable: Sequence[tuple[str, str]]  # (what was typed, why it was not read)
    kept_complete: Sequence[int] = ()
    without_status: Sequence[int] = ()
    restored: Sequence[UpdateEntry] = ()  # an edit dropped these: back to before the reply
    edited: bool = False
    undoable: bool = True  # something recorded had an earlier update to go back to
    measures: Sequence[RecordedMeasure] = ()  # measure lines recorded (not undone by Undo)
    # Recorded At risk or Off track without a reason: asked why, in this answer only (issue 16).
    ask_why: Sequence[UpdateEntry] = ()


def _why_question(entries: Sequence[UpdateEntry]) -> str:
    """'*Why?* #3 is 🟡 At risk and #5 is 🔴 Off track without a reason. …'"""
    said = [f"#{e.number} is {e.status.label}" for e in entries[:_MOST_QUESTIONS]]
    if len(entries) > _MOST_QUESTIONS:
        said.append(f"{len(entries) - _MOST_QUESTIONS} more")
    listed = said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]
    first = entries[0]
    return (
        f"❓ *Why?* {listed} without a reason. It is recorded; a sentence on what is in the "
        f"way helps leadership help. Reply here, e.g. `{first.number} "
        f"{first.status.word.lower()} - waiting on the contractor`, or add it in the form."
    )


def entry_line(entry: UpdateEntry) -> str:
    """'*#2* 🟡 At risk · 40% — waiting on the union agreement'."""
    line = f"*#{entry.number}* {entry.status.label}"
    if entry.percent is not None:
        line += f" · {entry.percent}%"
    note = escaped_excerpt(entry.note, _NOTE)
    return line + (f" — {note}" if note else "")


def choice_label(entry: UpdateEntry) -> str:
    """A button: '4 → 🟡 At risk · 70%'."""
    label = f"#{entry.number} → {entry.status.label}"
    if entry.percent is not None:
        label += f" · {entry.percent}%"
    return excerpt(label, limits.BUTTON_TEXT)


def _numbers(numbers: Sequence[int]) -> str:
    return ", ".join(f"#{n}" for n in numbers[:20]) + (
        f" and {len(numbers) - 20} more" if len(numbers) > 20 else ""
    )


def _question_parts(question: AskedChoices) -> list[Part]:
    said = escaped_excerpt(question.said, _SAID)
    why = escaped_excerpt(question.why, _WHY)
    about = _numbers(sorted({c.number for c in question.choices}))
    text = f"❓ *Not sure about {about}:* {why} — which is it?" + (
        f"\n> {said}" if said and said not in why else ""
    )
    buttons = [
        ButtonElement(
            text=PlainTextObject(text=choice_label(choice), emoji=True),
            action_id=choice_action(i),
            value=choice_value(question.id, i),
        )
        for i, choice in enumerate(question.choices[: limits.ACTIONS_ELEMENTS])
    ]
    block_id = f"{_QUESTION_BLOCK}{question.id}"
    return [
        SectionBlock(block_id=f"{block_id}-text", text=MarkdownTextObject(text=text)),
        ActionsBlock(block_id=block_id, elements=buttons),
    ]


def _form_buttons(department_key: str, period: str, reply: str | None) -> ActionsBlock:
    value = prompt_value(department_key, period)
    elements = []
    if reply is not None:
        elements.append(
            ButtonElement(
                text="Undo",
                action_id=ActionId.REPLY_UNDO,
                value=undo_value(reply),
                confirm=ConfirmObject(
                    title="Undo this reply?",
                    text="Each initiative it recorded goes back to what it was before.",
                    confirm="Undo",
                    deny="Keep",
                ),
            )
        )
    elements.append(ButtonElement(text="Open the form", action_id=ActionId.SUBMIT, value=value))
    elements.append(help_button(department_key, period))
    return ActionsBlock(block_id=_UNDO_BLOCK, elements=elements)


def render_reply_answer(answer: ReplyAnswer) -> Message:
    """The answer in the thread: recorded, not sure (with buttons), not read, Undo."""
    label = period_label(answer.period)
    parts: list[Part] = []
    if answer.recorded:
        title = "Read your edited reply again. " if answer.edited else ""
        parts.append(
            Lines(
                title=f"{title}Recorded for {label}:",
                lines=[entry_line(e) for e in sorted(answer.recorded, key=lambda e: e.number)],
                more=lambda n: f"…and {n} more recorded",
            )
        )
    elif answer.edited and not answer.measures:
        parts.append(section(f"Read your edited reply again: nothing new to record for {label}."))
    elif not answer.measures:
        parts.append(section(f"Nothing was recorded for {label} yet."))
    if answer.measures:
        parts.append(
            Lines(
                title=f"Measures recorded for {label}:",
                lines=[measure_entry_line(m) for m in answer.measures],
                more=lambda n: f"…and {n} more measures recorded",
            )
        )
    notes: list[str] = []
    if answer.restored:
        back = ", ".join(f"#{e.number} {e.status.label}" for e in answer.restored[:20])
        notes.append(f"No longer in your reply, so back to what they were: {back}.")
    if answer.kept_complete:
        notes.append(
            f"Left as Complete: {_numbers(answer.kept_complete)} — an “all …” line does not "
            "reopen finished work; name one to change it."
        )
    if answer.without_status:
        notes.append(
            f"{_numbers(answer.without_status)} had no status yet to repeat — use the form."
        )
    for note in notes:
        parts.append(context(note))
    if answer.ask_why:
        parts.append(section(_why_question(answer.ask_why)))
    asked = list(answer.questions)
    for question in asked[:_MOST_QUESTIONS]:
        parts += _question_parts(question)
    if len(asked) > _MOST_QUESTIONS:
        rest = asked[_MOST_QUESTIONS:]
        numbers = sorted({c.number for q in rest for c in q.choices})
        parts.append(section(f"Not sure about {_numbers(numbers)} either — use the form."))
    if answer.unreadable:
        parts.append(
            Lines(
                title="I couldn't read:",
                lines=[
                    f"• “{escaped_excerpt(typed, _SAID) or '(empty line)'}” — "
                    f"{escaped_excerpt(reason, _WHY)}"
                    for typed, reason in answer.unreadable
                ],
                more=lambda n: f"…and {n} more I couldn't read",
            )
        )
    parts.append(
        _form_buttons(
            answer.department_key,
            answer.period,
            answer.reply if answer.recorded and answer.undoable else None,
        )
    )
    if answer.questions or answer.unreadable:
        parts.append(context(HINT))
    fallback = (
        f"{escape(answer.department_name)}, {label}: "
        f"recorded {plural(len(answer.recorded), 'update')}"
    )
    if answer.questions:
        fallback += f", {plural(len(answer.questions), 'question')} for you"
    return message(fallback, parts)


def render_not_an_update(department_key: str, period: str) -> Message:
    """Said once in a thread when a reply holds no update at all ("will send Friday")."""
    shown = (
        f"I didn't find an update for {period_label(period)} in that. Reply with one line per "
        "initiative, or use a button:"
    )
    value = prompt_value(department_key, period)
    return message(
        "No update found in that reply",
        [
            section(shown),
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Submit update",
                        action_id=ActionId.SUBMIT,
                        value=value,
                        style="primary",
                    ),
                    ButtonElement(
                        text="No change — same as last month",
                        action_id=ActionId.NO_CHANGE,
                        value=value,
                    ),
                ]
            ),
            context(HINT),
        ],
    )


def with_question_answered(
    blocks: Any, question_id: int, entry: UpdateEntry, who: str, *, ask_why: bool = False
) -> list[dict[str, Any]] | None:
    """The thread answer's blocks with one question's buttons replaced by what was chosen
    (and, with `ask_why`, the reason asked for); None when the blocks are not the answer we
    posted (the caller then says it another way)."""
    line = f"✅ {entry_line(entry)} — recorded, chosen by {who}"
    if ask_why:
        line += "\n" + _why_question([entry])
    block_id = f"{_QUESTION_BLOCK}{question_id}"
    replaced = _replace_block(blocks, block_id, line)
    if replaced is None:
        return None
    return [b for b in replaced if b.get("block_id") != f"{block_id}-text"]


def with_undone(
    blocks: Any, restored: Sequence[UpdateEntry], who: str, department_key: str, period: str
) -> list[dict[str, Any]] | None:
    back = ", ".join(f"#{e.number} {e.status.label}" for e in restored[:20])
    line = f"↩️ Undone by {who}: back to {back}." if restored else f"↩️ Undone by {who}."
    replaced = _replace_block(blocks, _UNDO_BLOCK, line)
    if replaced is None:
        return None
    return [*replaced, _form_buttons(department_key, period, None).to_dict()]


def _replace_block(blocks: Any, block_id: str, line: str) -> list[dict[str, Any]] | None:
    if not isinstance(blocks, list) or not all(isinstance(b, Mapping) for b in blocks):
        return None
    if not any(b.get("block_id") == block_id for b in blocks):
        return None
    return [
        context(excerpt(line, limits.CONTEXT_TEXT)).to_dict()
        if b.get("block_id") == block_id
        else dict(b)
        for b in blocks
    ]


def render_choice_done(entry: UpdateEntry, period: str, *, ask_why: bool = False) -> Message:
    shown = f"Recorded for {period_label(period)}: {entry_line(entry)}"
    if ask_why:
        shown += "\n" + _why_question([entry])
    return message(shown, [section(shown)])


def render_already_answered(who: str | None) -> Message:
    shown = (
        f"{who} already answered that question; nothing more was recorded."
        if who
        else "That question was replaced when the reply was edited; nothing was recorded."
    )
    return message(shown, [section(shown)])


def render_undo_result(
    restored: Sequence[UpdateEntry], changed: Sequence[int], none: Sequence[int], period: str
) -> Message:
    """Said privately to whoever clicked Undo."""
    lines = []
    if restored:
        lines.append(
            f"Undone for {period_label(period)}: "
            + ", ".join(f"#{e.number} back to {e.status.label}" for e in restored[:20])
            + "."
        )
    if changed:
        lines.append(
            f"{_numbers(list(changed))}: updated again since (or undone already), left as is."
        )
    if none:
        lines.append(
            f"{_numbers(list(none))}: nothing before this reply to go back to — use the form."
        )
    if not lines:
        lines.append("There was nothing left to undo.")
    shown = "\n".join(lines)
    return message(shown, [section(shown)])


__all__ = [
    "HINT",
    "AskedChoices",
    "ReplyAnswer",
    "choice_label",
    "entry_line",
    "render_already_answered",
    "render_choice_done",
    "render_not_an_update",
    "render_reply_answer",
    "render_undo_result",
    "with_question_answered",
    "with_undone",
]
