"""Reading a submitted update form page: entries to record, or errors to show under the fields
at fault. Never raises, whatever Slack (or a forger) sends."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from models.cycle import MAX_NOTE, UpdateEntry
from models.measurefile import read_number
from models.status import Status

_PERCENT = re.compile(r"\s*([0-9]{1,3})\s*%?\s*", re.ASCII)
PERCENT_ERROR = "Enter a whole number from 0 to 100"
STATUS_ERROR = "Choose a status"
STATUS_MISSING_ERROR = "Choose a status to record the percent and note"
REASON_ERROR = "Say why, in a sentence: at risk and off track need a reason"
MEASURE_BLOCK = "measure-"  # + the measure's id: its number input
MEASURE_NOTE_BLOCK = "mnote-"  # + the measure's id: why it is off target
NUMBER_ERROR = "Enter a number (digits, a decimal point, a minus sign)"
NOTE_NEEDS_NUMBER_ERROR = "Enter the number this note explains"


@dataclass(frozen=True)
class MeasureAnswer:
    """A measure's number (None: the note explains the value already recorded) and note."""

    measure_id: int
    value: float | None
    note: str


def read_measures(
    values: Mapping[str, Any], measure_ids: Collection[int], recorded: Collection[int] = ()
) -> tuple[list[MeasureAnswer], dict[str, str]]:
    """Numbers and notes from the form's measures page: `measure_ids` the page asked about,
    `recorded` those with a value for the period already (a note alone explains it). Slack's
    number input checks what is typed, but a forged payload may send anything: whatever is not
    a finite number of sane size is an error under its field, and nothing is recorded while
    there is any. Never raises."""
    answers: list[MeasureAnswer] = []
    errors: dict[str, str] = {}
    for measure_id in dict.fromkeys(measure_ids):
        raw = _dig(values, f"{MEASURE_BLOCK}{measure_id}", "value", "value")
        note = _dig(values, f"{MEASURE_NOTE_BLOCK}{measure_id}", "note", "value")
        note = note.strip()[:MAX_NOTE] if isinstance(note, str) else ""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if note and measure_id in recorded:
                answers.append(MeasureAnswer(measure_id, None, note))
            elif note:
                errors[f"{MEASURE_BLOCK}{measure_id}"] = NOTE_NEEDS_NUMBER_ERROR
            continue
        number = read_number(raw) if isinstance(raw, str) and len(raw) <= 40 else None
        if number is None:
            errors[f"{MEASURE_BLOCK}{measure_id}"] = NUMBER_ERROR
            continue
        answers.append(MeasureAnswer(measure_id, number, note))
    return answers, errors


def _dig(node: Any, *keys: str) -> Any:
    """node[k1][k2]…, or None as soon as a step is not a mapping or lacks the key."""
    for key in keys:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _read_percent(raw: Any) -> tuple[int | None, bool]:
    """(percent, ok): blank is (None, True); '40', ' 40 ', '40%' are 40."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, True
    if not isinstance(raw, str):
        return None, False
    found = _PERCENT.fullmatch(raw)
    if found is None or int(found.group(1)) > 100:
        return None, False
    return int(found.group(1)), True


def read_form(
    values: Mapping[str, Any], numbers: Collection[int], *, reason_required: bool = False
) -> tuple[list[UpdateEntry], dict[str, str]]:
    """Entries and errors from a submitted form page: `view["state"]["values"]` and the
    initiative numbers that page showed. Errors are keyed by block id, ready for
    `response_action: errors`; record nothing while there are any. An initiative whose optional
    status was left empty (with no percent or note) is skipped. With `reason_required`, At risk
    and Off track without a note are refused on the note. Never raises."""
    entries: list[UpdateEntry] = []
    errors: dict[str, str] = {}
    for n in dict.fromkeys(numbers):
        chosen = _dig(values, f"status-{n}", "status", "selected_option")
        percent_text = _dig(values, f"percent-{n}", "percent", "value")
        note = _dig(values, f"note-{n}", "note", "value")
        note = note.strip()[:MAX_NOTE] if isinstance(note, str) else ""
        percent, percent_ok = _read_percent(percent_text)
        if not percent_ok:
            errors[f"percent-{n}"] = PERCENT_ERROR
        if chosen is None:
            if note or percent is not None:
                errors[f"status-{n}"] = STATUS_MISSING_ERROR
            continue
        value = _dig(chosen, "value")
        status = Status(value) if isinstance(value, str) and value in set(Status) else None
        if status is None:
            errors[f"status-{n}"] = STATUS_ERROR
        elif reason_required and status.needs_reason and not note:
            errors[f"note-{n}"] = REASON_ERROR
        elif percent_ok:
            entries.append(UpdateEntry(n, status, percent, note))
    return entries, errors
