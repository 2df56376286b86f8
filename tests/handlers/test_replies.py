"""What the reader reads from a lead's reply in the prompt's thread: the corpus of replies as
leads write them (`thread_replies.yaml`), and properties that hold for any text at all."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.reading import vocabulary as v
from handlers.reading.replies import (
    MAX_LINE_CHARS,
    MAX_LINES,
    MAX_NOTE_CHARS,
    How,
    Known,
    read_thread_reply,
)
from models.status import Status
from tests.handlers.reply_corpus import Case, judge, load_corpus, untouched

DEPARTMENTS, CASES = load_corpus()


def test_the_corpus_is_large_and_covers_every_kind_of_reply() -> None:
    assert len(CASES) >= 200
    counts = Counter(case.category for case in CASES)
    assert all(n >= 8 for n in counts.values()), counts
    kinds = set(counts)
    assert {
        "several per line",
        "defaults and exceptions",
        "words people use",
        "negation and change",
        "typos",
        "percents",
        "slack formatting",
        "names",
        "numbers in notes",
        "not updates",
        "asks",
    } <= kinds


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_each_reply_is_read_as_a_careful_person_reads_it(case: Case) -> None:
    initiatives = DEPARTMENTS[case.department]
    reading = read_thread_reply(case.reply, initiatives)
    problems = [
        f"#{number}: {problem}"
        for number, expected in case.expect.items()
        if (problem := judge(reading, number, expected))
    ]
    problems += [
        f"#{i.number} should be left alone: {problem}"
        for i in initiatives
        if i.number not in case.expect and (problem := untouched(reading, i.number))
    ]
    for number, note in case.notes.items():
        got = reading.reading(number)
        if got is not None and got.note != note:
            problems.append(f"#{number} note {got.note!r}, expected {note!r}")
    if case.reason is not None:
        said = " ".join([u.reason for u in reading.unreadable] + [q.why for q in reading.questions])
        if case.reason not in said:
            problems.append(f"the explanation {said!r} does not mention {case.reason!r}")
    assert not problems, problems


# --- the answer's shape ----------------------------------------------------------------------

FIRE = DEPARTMENTS["fire"]


def test_readings_come_in_the_order_typed_then_the_others() -> None:
    reading = read_thread_reply("4 at risk\n1 done\nall others on track", FIRE)
    assert [(r.number, r.how) for r in reading.readings] == [
        (4, How.NAMED),
        (1, How.NAMED),
        (2, How.DEFAULT),
        (5, How.DEFAULT),
        (6, How.DEFAULT),
    ]
    assert reading.kept_complete == (3,)  # Complete before, not named: left as it was


def test_no_change_repeats_the_last_status_and_percent_and_names_those_without_one() -> None:
    initiatives = [Known(1, "a", Status.AT_RISK, 30), Known(2, "b"), Known(3, "c", Status.COMPLETE)]
    reading = read_thread_reply("no changes this month", initiatives)
    assert [(r.number, r.status, r.percent, r.note, r.how) for r in reading.readings] == [
        (1, Status.AT_RISK, 30, "No change", How.NO_CHANGE),
        (3, Status.COMPLETE, None, "No change", How.NO_CHANGE),
    ]
    assert reading.without_status == (2,)


def test_a_question_offers_one_reading_per_button_with_the_percent_and_note() -> None:
    reading = read_thread_reply("4 isn't on track, 20% - bids came in high", FIRE)
    (question,) = reading.questions
    assert [(c.number, c.status, c.percent, c.note) for c in question.choices] == [
        (4, Status.AT_RISK, 20, "bids came in high"),
        (4, Status.OFF_TRACK, 20, "bids came in high"),
    ]
    assert "isn't on track" in question.why and reading.readings == ()


def test_a_name_that_fits_two_initiatives_is_asked_about_both() -> None:
    reading = read_thread_reply("Planning: on track", DEPARTMENTS["hhs"])
    (question,) = reading.questions
    assert [(c.number, c.status) for c in question.choices] == [
        (9, Status.ON_TRACK),
        (10, Status.ON_TRACK),
    ]
    assert "could be #9 and #10" in question.why


@pytest.mark.parametrize(
    "text",
    ["", "   ", "\n\n", "thanks!", "will send Friday", "👍", "> 1 on track", "&gt; all done"],
)
def test_replies_without_an_update_are_not_updates(text: str) -> None:
    assert not read_thread_reply(text, FIRE).is_update


def test_a_reply_past_the_line_limit_is_reported_once() -> None:
    text = "\n".join(f"{1 + n % 6} on track" for n in range(MAX_LINES + 7))
    reading = read_thread_reply(text, FIRE)
    assert reading.unreadable[-1].reason == "too long to read (7 more lines)"


def test_a_line_past_the_character_limit_is_not_read() -> None:
    reading = read_thread_reply("1 on track " + "x" * MAX_LINE_CHARS, FIRE)
    assert reading.readings == () and reading.unreadable[0].reason == "too long to read"


def test_notes_are_capped_and_hold_no_control_characters() -> None:
    reading = read_thread_reply("1 on track - " + "crews\x00\x1b[31m " * 250, FIRE)
    (one,) = reading.readings
    assert len(one.note) <= MAX_NOTE_CHARS and "\x00" not in one.note and "\x1b" not in one.note


# --- properties -------------------------------------------------------------------------------

TWELVE = [Known(n, f"initiative {n}", Status.ON_TRACK) for n in range(1, 13)]
SPELLED = {word: n for word, n in v.SPELLED.items()}
# Words that let a reply speak for initiatives it does not name.
COVERING = {w for phrase in (*v.DEFAULTS, *v.NO_CHANGE) for w in phrase.split()}


def mentioned(number: int, text: str) -> bool:
    """Whether the text names the initiative: its number, spelled or in a range. (Slack's
    formatting marks are no words: "1-_3_" is "1-3".)"""
    text = re.sub(r"[*_`~]", " ", text)
    words = re.findall(r"[^\W\d_]+|\d+", text.casefold())
    if any(w.isdigit() and int(w) == number for w in words):
        return True
    if any(SPELLED.get(w) == number for w in words):
        return True
    ranges = re.findall(
        r"(?=(?<!\d)(\d+)\s*(?:-|–|—|to|thru|through|till|until)\s*#?\s*(\d+))", text.casefold()
    )
    return any(int(a) < number < int(b) for a, b in ranges)


def check_invariants(text: str, initiatives: list[Known]) -> None:
    reading = read_thread_reply(text, initiatives)
    known = {i.number for i in initiatives}
    numbers = [r.number for r in reading.readings]
    assert len(numbers) == len(set(numbers)), "an initiative read twice"
    asked = {n for q in reading.questions for n in q.numbers}
    assert not asked & set(numbers), "an initiative both recorded and asked about"
    assert set(numbers) <= known and asked <= known
    for r in reading.readings:
        assert r.percent is None or 0 <= r.percent <= 100
        assert len(r.note) <= MAX_NOTE_CHARS and r.note == r.note.strip()
        if r.how is How.NAMED:
            assert mentioned(r.number, text) or "initiative" in text.casefold(), r
    covering = set(re.findall(r"[^\W\d_]+", text.casefold())) & COVERING
    if not covering:
        assert all(r.how is How.NAMED for r in reading.readings)
    for q in reading.questions:
        assert q.choices and all(c.number in known for c in q.choices)


VOCABULARY = [
    *v.status_phrases(),
    *v.DEFAULTS,
    *v.NO_CHANGE,
    *v.EXCEPT,
    *v.NEGATIONS,
    *v.FILLERS,
    *v.NUMBER_WORDS,
    *v.PERCENT_WORDS,
    *v.SPELLED,
    *(status.emoji for status in Status),
    *"-*•>:.,;()%#&/?!",
    ":large_green_circle:",
    ":warning:",
    "&amp;",
    "&lt;!channel&gt;",
    "<@U0123>",
    "<https://example.org|a link>",
    "~struck~",
    "*bold*",
    "$2.4M",
    "10/28",
    "Q3",
    "7 of 12",
    "4pm",
    "\ufe0f",
    "ß",
    "İ",
]
token = st.one_of(
    st.sampled_from(VOCABULARY),
    st.integers(0, 30).map(str),
    st.text(alphabet="0123456789.%#-:() ", max_size=6),
)
joiner = st.sampled_from(["", " ", "  ", "-", "_", ": ", "\t", " - ", "\u00a0", ", "])
line = st.lists(st.tuples(token, joiner), max_size=10).map(
    lambda parts: "".join(t + j for t, j in parts)
)
reply_text = st.lists(st.tuples(line, st.sampled_from(["\n", "\r\n", "\n\n"])), max_size=8).map(
    lambda lines: "".join(text + end for text, end in lines)
)
modest = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@modest
@given(text=st.text())
def test_any_text_never_raises_and_records_only_what_it_mentions(text: str) -> None:
    check_invariants(text, TWELVE)


@modest
@given(text=reply_text)
def test_text_made_of_the_vocabulary_records_only_what_it_mentions(text: str) -> None:
    check_invariants(text, TWELVE)


NEUTRAL_NOTES = [
    "crews hired",
    "council review scheduled",
    "budget approved by the board",
    "waiting on the vendor contract",
    "phase 2 starts in March",
    "$2.4M grant awarded",
    "meeting 10/28 at 4pm",
    "7 of 12 sites inspected",
]
SURE = sorted(
    (phrase, term.status)
    for phrase, term in v.status_phrases().items()
    if term.sureness is v.Sureness.SURE
)


@modest
@given(
    number=st.integers(1, 12),
    phrase=st.sampled_from(SURE),
    spell=st.sampled_from([str.lower, str.upper, str.title, lambda p: p.replace(" ", "-")]),
    percent=st.none() | st.integers(0, 100),
    note=st.none() | st.sampled_from(NEUTRAL_NOTES),
    prefix=st.sampled_from(["", "- ", "• ", "*", "#", "item "]),
    separator=st.sampled_from([" ", ": ", ". ", ") ", " - ", " — "]),
)
def test_a_tidy_line_is_read_exactly(
    number: int,
    phrase: tuple[str, Status],
    spell,
    percent: int | None,
    note: str | None,
    prefix: str,
    separator: str,
) -> None:
    words, status = phrase
    shown = f" {percent}%" if percent is not None else ""
    text = f"{prefix}{number}{separator}{spell(words)}{shown}" + (f" - {note}" if note else "")
    reading = read_thread_reply(text, TWELVE)
    assert [(r.number, r.status, r.percent, r.note) for r in reading.readings] == [
        (number, status, percent, note or "")
    ], text
    assert reading.questions == () and reading.unreadable == ()


# --- the shortcut for tidy lines reads as the long way does ------------------------------------

NOTE_WORDS = [
    "20 percent",
    "5 pct",
    "12 recruits",
    "3 of 4",
    "10/28",
    "3-day",
    "#2",
    "crews",
    "hired",
    "union",
    "talks",
    "budget",
    "approved",
    "council",
    "waiting",
    "on",
    "the",
    "all",
    "rest",
    "except",
    "done",
    "not",
    "now",
    "was",
    "item",
    "three",
    "12",
    "3",
    "40%",
    "Oct",
    "15",
    ".",
    ",",
    ";",
    "(",
    ")",
    "-",
    ":",
    "*bold*",
    "~x~",
    "<@U1>",
    "&amp;",
    "?",
    "no change",
    "on track",
    "at risk",
    "2 at risk",
    "behind",
    "is",
    "and",
    "but",
    "2024",
]
tidy_line = st.builds(
    lambda prefix, number, sep, phrase, percent, sep2, words: (
        f"{prefix}{number}{sep}{phrase}{percent}{sep2}{' '.join(words)}"
    ),
    st.sampled_from(["", "- ", "• ", "> ", "#", "item ", "Item #", "*"]),  # "> " is a quote
    st.integers(0, 14),
    st.sampled_from([" ", ": ", ". ", ") ", " - ", " — ", "", "  "]),
    st.sampled_from([p for p, _ in SURE] + [p.replace(" ", "-") for p, _ in SURE] + ["ON TRACK"]),
    st.sampled_from(["", " 40%", " 40 %", "40%", " 150%", " 0%", " 100%", " 62.5%"]),
    st.sampled_from(["", " ", " - ", ": ", ", ", "; ", " — "]),
    st.lists(st.sampled_from(NOTE_WORDS), max_size=6),
)


@modest
@given(text=st.one_of(tidy_line, st.lists(tidy_line, max_size=5).map("\n".join), reply_text))
def test_the_shortcut_for_tidy_lines_reads_as_the_long_way(text: str) -> None:
    assert read_thread_reply(text, TWELVE) == read_thread_reply(text, TWELVE, shortcut=False)


def test_the_shortcut_agrees_on_the_whole_corpus() -> None:
    for case in CASES:
        initiatives = DEPARTMENTS[case.department]
        fast = read_thread_reply(case.reply, initiatives)
        assert fast == read_thread_reply(case.reply, initiatives, shortcut=False), case.id


# --- a corpus written blind ----------------------------------------------------------------------

BLIND = [
    Path(__file__).with_name("thread_replies_blind.yaml"),
    Path(__file__).with_name("thread_replies_blind_2.yaml"),
]


@pytest.mark.parametrize("corpus", BLIND, ids=[p.stem for p in BLIND])
def test_a_corpus_written_blind_is_read_right_and_never_wrong(corpus: Path) -> None:
    departments, cases = load_corpus(corpus)
    wrong_statuses: list[str] = []
    judgements = misread = 0
    for case in cases:
        initiatives = departments[case.department]
        reading = read_thread_reply(case.reply, initiatives)
        for i in initiatives:
            judgements += 1
            expected = case.expect.get(i.number)
            problem = (
                judge(reading, i.number, expected)
                if expected is not None
                else untouched(reading, i.number)
            )
            if problem is None:
                continue
            misread += 1
            got = reading.reading(i.number)
            allowed = {e.status for e in expected or ()}
            if got is not None and got.status not in allowed:
                wrong_statuses.append(f"{case.id} #{i.number}: {problem}")
    assert wrong_statuses == []
    assert misread / judgements <= 0.05, f"{misread} of {judgements} judgements wrong"
