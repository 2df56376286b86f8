"""What the bot records from a lead's plain-words answer in the monthly prompt's thread."""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.messages.replies import (
    FILLER_WORDS,
    LIST_MARKERS,
    MAX_LINE_CHARS,
    MAX_LINES,
    MAX_NOTE_CHARS,
    NUMBER_WORDS,
    OTHERS_NOUNS,
    OTHERS_PHRASES,
    PERCENT_WORDS,
    SEPARATORS,
    STATUS_PHRASES,
    ParsedReply,
    ReplyLine,
    Unreadable,
    parse_thread_reply,
)
from models.status import Status

ON, RISK, OFF, DONE, NOT = (
    Status.ON_TRACK,
    Status.AT_RISK,
    Status.OFF_TRACK,
    Status.COMPLETE,
    Status.NOT_STARTED,
)
SPEC_EXAMPLE = """\
1 on track - 12 recruits started the academy
2 at risk 40% waiting on the union agreement
3: done
all others on track
"""


def case(text: str, expected: tuple[int, Status, int | None, str] | str, numbers=None, *, id: str):
    """One line and what it records: (number, status, percent, note) — number 0 for "all
    others" — or the reason it is reported as unreadable."""
    return pytest.param(text, expected, numbers, id=id)


LINE_CASES = [
    # The example in the spec, line by line.
    case(SPEC_EXAMPLE.splitlines()[0], (1, ON, None, "12 recruits started the academy"), id="ex1"),
    case(SPEC_EXAMPLE.splitlines()[1], (2, RISK, 40, "waiting on the union agreement"), id="ex2"),
    case(SPEC_EXAMPLE.splitlines()[2], (3, DONE, None, ""), id="ex3"),
    case(SPEC_EXAMPLE.splitlines()[3], (0, ON, None, ""), id="ex4-others"),
    # How the number is written.
    case("#3 done", (3, DONE, None, ""), id="hash"),
    case("# 3 done", (3, DONE, None, ""), id="hash-space"),
    case("3) done", (3, DONE, None, ""), id="paren"),
    case("(3) done", (3, DONE, None, ""), id="both-parens"),
    case("3. done", (3, DONE, None, ""), id="dot"),
    case("3 - done", (3, DONE, None, ""), id="hyphen"),
    case("3 — done", (3, DONE, None, ""), id="em-dash"),
    case("3, done", (3, DONE, None, ""), id="comma"),
    case("No. 3 done", (3, DONE, None, ""), id="no-dot"),
    case("item 3: done", (3, DONE, None, ""), id="item"),
    case("Item #3 – done", (3, DONE, None, ""), id="item-hash-en-dash"),
    case("03 done", (3, DONE, None, ""), id="leading-zero"),
    # Bullets, quotes and whitespace around the line.
    case("- 4 on track", (4, ON, None, ""), id="bullet-hyphen"),
    case("* 4 on track", (4, ON, None, ""), id="bullet-star"),
    case("• 4 on track", (4, ON, None, ""), id="bullet-dot"),
    case("— 4 on track", (4, ON, None, ""), id="bullet-em-dash"),
    case("> 4 on track", (4, ON, None, ""), id="quote"),
    case("&gt; 4 on track", (4, ON, None, ""), id="quote-as-slack-sends-it"),
    case("   4 on track \t", (4, ON, None, ""), id="surrounding-space"),
    # The status: case, punctuation and spelling.
    case("3 ON TRACK", (3, ON, None, ""), id="upper"),
    case("3 On Track! great month", (3, ON, None, "great month"), id="title-bang"),
    case("3 on-track", (3, ON, None, ""), id="hyphenated"),
    case("3 ontrack", (3, ON, None, ""), id="run-together"),
    case("3 on_track", (3, ON, None, ""), id="underscore"),
    case("3 Off-Track: vendor quit", (3, OFF, None, "vendor quit"), id="off-track"),
    case("3 at risk", (3, RISK, None, ""), id="at-risk"),
    case("3 risky, the bid came in high", (3, RISK, None, "the bid came in high"), id="risky"),
    case("3 blocked by legal", (3, OFF, None, "by legal"), id="blocked"),
    case("3 in progress", (3, ON, None, ""), id="in-progress"),
    case("3 under way", (3, ON, None, ""), id="under-way"),
    case("3 waiting to start", (3, NOT, None, ""), id="waiting-to-start"),
    case("3 is on track", (3, ON, None, ""), id="filler-is"),
    case("3 status: at risk", (3, RISK, None, ""), id="filler-status"),
    case("3 :white_check_mark:", (3, DONE, None, ""), id="emoji-shortcode"),
    case("3 :large_yellow_circle: late", (3, RISK, None, "late"), id="yellow-shortcode"),
    case("3 ✅", (3, DONE, None, ""), id="emoji"),
    case("3 🔴 no budget", (3, OFF, None, "no budget"), id="red-emoji"),
    # "not started" is itself; what is not in the vocabulary is not guessed at.
    case("5 not started", (5, NOT, None, ""), id="not-started"),
    case("5 Not Yet Started", (5, NOT, None, ""), id="not-yet-started"),
    case("5 not-started, kickoff in May", (5, NOT, None, "kickoff in May"), id="not-started-note"),
    case("5 to do", (5, NOT, None, ""), id="to-do"),
    case("5 pending approval", (5, NOT, None, "approval"), id="pending"),
    case("5 started", "no status word", id="started-alone"),
    case("5 not on track", "no status word", id="negated"),
    case("5 no risk", "no status word", id="no-risk"),
    # A status word later in the note does not matter.
    case("1 on track, almost done", (1, ON, None, "almost done"), id="done-in-note"),
    case("1 delayed but not blocked", (1, RISK, None, "but not blocked"), id="blocked-in-note"),
    # Percent: after the status, before it, in words, decimals, bounds.
    case("2 40% at risk", (2, RISK, 40, ""), id="percent-first"),
    case("2 - 40 % - at risk - union", (2, RISK, 40, "union"), id="percent-first-spaced"),
    case("2 at risk 40 percent waiting", (2, RISK, 40, "waiting"), id="percent-word"),
    case("2 at risk 40 per cent", (2, RISK, 40, ""), id="per-cent"),
    case("2 on track 12.5% of budget spent", (2, ON, 13, "of budget spent"), id="decimal"),
    case("2 done 100%", (2, DONE, 100, ""), id="hundred"),
    case("2 not started 0%", (2, NOT, 0, ""), id="zero"),
    case("2 at risk 40% 50% next month", (2, RISK, 40, "50% next month"), id="second-percent"),
    case("1 on track - 12 recruits", (1, ON, None, "12 recruits"), id="number-in-note"),
    case("1 done 150%", "150% is not between 0 and 100", id="over-100"),
    case("1 done 100.5%", "100.5% is not between 0 and 100", id="just-over-100"),
    case("1 150% done", "150% is not between 0 and 100", id="over-100-first"),
    case("1 40%", "no status word", id="percent-alone"),
    case("1 40% waiting on the union", "no status word", id="percent-and-note"),
    # Numbers the department does not have.
    case("9 on track", "no initiative #9", range(1, 5), id="unknown"),
    case("09 on track", "no initiative #9", range(1, 5), id="unknown-leading-zero"),
    case("9 on track", (9, ON, None, ""), id="any-number-without-numbers"),
    case("0 on track", "no initiative #0", id="zero-number"),
    case("12345678901234 on track", "no initiative #123456789012…", id="huge-number"),
    # Everything not named on another line.
    case("all other on track", (0, ON, None, ""), id="all-other"),
    case("Others: done", (0, DONE, None, ""), id="others"),
    case("the rest are fine", (0, ON, None, ""), id="the-rest"),
    case("rest 50% delayed", (0, RISK, 50, ""), id="rest-percent"),
    case("everything else - stuck, see memo", (0, OFF, None, "see memo"), id="everything-else"),
    case("all remaining items not started", (0, NOT, None, ""), id="all-remaining"),
    case("Remaining initiatives: complete", (0, DONE, None, ""), id="remaining"),
    case("all on track", (0, ON, None, ""), id="all"),
    case("the rest of it", "no status word", id="others-without-status"),
    # Chit-chat.
    case("thanks!", "no initiative number", id="thanks"),
    case("see the form", "no initiative number", id="see-the-form"),
    case("https://example.org/plan.pdf", "no initiative number", id="url"),
    case("<https://example.org|the deck>", "no initiative number", id="slack-link"),
    case("on track - no number", "no initiative number", id="status-without-number"),
    case("40% done", "no initiative number", id="percent-is-not-a-number"),
    # Entities: stored as the person typed them.
    case(
        "1 on track &lt;!channel&gt; R&amp;D &amp;lt;",
        (1, ON, None, "<!channel> R&D &lt;"),
        id="entities",
    ),
]


@pytest.mark.parametrize(("text", "expected", "numbers"), LINE_CASES)
def test_one_line(text: str, expected, numbers) -> None:
    reply = parse_thread_reply(text, numbers)
    source = unescape(text).strip()
    if isinstance(expected, str):
        assert reply == ParsedReply((), None, (Unreadable(source, expected),))
        return
    number, status, percent, note = expected
    line = ReplyLine(number, status, percent, note, source)
    if number == 0:
        assert reply == ParsedReply((), line, ())
    else:
        assert reply == ParsedReply((line,), None, ())


@pytest.mark.parametrize(
    ("status", "phrase"),
    [(status, phrase) for status, phrases in STATUS_PHRASES.items() for phrase in phrases],
)
def test_every_status_phrase_is_read_in_every_spelling(status: Status, phrase: str) -> None:
    spellings = {phrase, phrase.upper(), phrase.title(), phrase.replace(" ", "-")}
    spellings.add(phrase.replace(" ", ""))
    for spelling in spellings:
        reply = parse_thread_reply(f"7 {spelling}! - a note", numbers=[7])
        assert reply.lines == (ReplyLine(7, status, None, "a note", f"7 {spelling}! - a note"),)


def test_the_spec_example_records_three_lines_and_the_others() -> None:
    reply = parse_thread_reply(SPEC_EXAMPLE, numbers=range(1, 8))
    source = SPEC_EXAMPLE.splitlines()
    assert reply == ParsedReply(
        lines=(
            ReplyLine(1, ON, None, "12 recruits started the academy", source[0]),
            ReplyLine(2, RISK, 40, "waiting on the union agreement", source[1]),
            ReplyLine(3, DONE, None, "", source[2]),
        ),
        others=ReplyLine(0, ON, None, "", source[3]),
        unreadable=(),
    )
    assert not reply.is_empty


def test_a_number_given_twice_is_recorded_once() -> None:
    reply = parse_thread_reply("2 on track\n3 done\n2 at risk, sorry")
    assert [(line.number, line.status) for line in reply.lines] == [(2, ON), (3, DONE)]
    assert reply.unreadable == (Unreadable("2 at risk, sorry", "#2 appears twice"),)


def test_a_line_that_was_not_read_does_not_count_as_the_first() -> None:
    reply = parse_thread_reply("2 waiting\n2 at risk")
    assert reply.lines == (ReplyLine(2, RISK, None, "", "2 at risk"),)
    assert reply.unreadable == (Unreadable("2 waiting", "no status word"),)


def test_others_given_twice_keeps_the_first() -> None:
    reply = parse_thread_reply("the rest on track\n1 done\nall others at risk")
    assert reply.others == ReplyLine(0, ON, None, "", "the rest on track")
    assert reply.lines == (ReplyLine(1, DONE, None, "", "1 done"),)
    assert reply.unreadable == (Unreadable("all others at risk", '"all others" appears twice'),)


def test_lines_keep_their_order_and_chit_chat_is_reported_in_place() -> None:
    reply = parse_thread_reply("Hi all,\n\n3 done\n1 off track\n\nthanks!\n", numbers=[1, 2, 3])
    assert [line.number for line in reply.lines] == [3, 1]
    assert reply.unreadable == (
        Unreadable("Hi all,", "no initiative number"),
        Unreadable("thanks!", "no initiative number"),
    )


def test_windows_line_ends_and_bare_bullets() -> None:
    reply = parse_thread_reply("1 done\r\n-\r\n  •  \r\n&gt;\r\n2 ok\r\n")
    assert [(line.number, line.source) for line in reply.lines] == [(1, "1 done"), (2, "2 ok")]
    assert reply.unreadable == ()


@pytest.mark.parametrize("text", ["", "   ", "\n\n", " - \n > ", None])
def test_a_reply_with_no_text_is_empty(text: str | None) -> None:
    reply = parse_thread_reply(text)
    assert reply == ParsedReply((), None, ())
    assert reply.is_empty


def test_chit_chat_alone_is_not_empty_and_records_nothing() -> None:
    reply = parse_thread_reply("thanks!")
    assert not reply.is_empty
    assert reply.lines == () and reply.others is None


def test_the_note_is_capped() -> None:
    note = "word " * 700  # 3,500 characters: the line fits, the note does not
    reply = parse_thread_reply(f"1 on track - {note}")
    (line,) = reply.lines
    assert len(line.note) <= MAX_NOTE_CHARS
    assert line.note == note[:MAX_NOTE_CHARS].rstrip()


def test_a_line_longer_than_the_limit_is_reported_once() -> None:
    long_line = "1 on track " + "x" * MAX_LINE_CHARS
    reply = parse_thread_reply(f"{long_line}\n2 done")
    assert reply.lines == (ReplyLine(2, DONE, None, "", "2 done"),)
    assert reply.unreadable == (Unreadable(long_line[:MAX_LINE_CHARS], "too long to read"),)
    fits = "1 on track " + "x" * (MAX_LINE_CHARS - 11)
    assert parse_thread_reply(fits).lines[0].number == 1


def test_lines_past_the_limit_are_reported_once() -> None:
    text = "\n\n".join(f"{n} on track" for n in range(1, MAX_LINES + 51))
    reply = parse_thread_reply(text)
    assert [line.number for line in reply.lines] == list(range(1, MAX_LINES + 1))
    assert reply.unreadable == (
        Unreadable(f"{MAX_LINES + 1} on track", "too long to read (50 more lines)"),
    )


@pytest.mark.parametrize(
    "line",
    [
        "1 " + " " * 3990 + "x",
        "9" * 3999,
        "1 " + "on " * 1300,
        "1 " + "-_" * 1990,
        "1 " + "1." * 1990,
        "1 on track " + "on-" * 1300,
        "&amp;" * 799,
        "all " * 999,
        "1 " + "a" * 3990 + "%",
    ],
)
def test_adversarial_text_is_read_in_linear_time(line: str) -> None:
    text = "\n".join([line] * MAX_LINES) + "\n" + "x\n" * 200_000
    started = time.perf_counter()
    reply = parse_thread_reply(text)
    assert time.perf_counter() - started < 5  # about 0.2 s; quadratic work would take minutes
    assert reply.unreadable[-1].reason == "too long to read (200000 more lines)"


# --- Properties ------------------------------------------------------------------------------


def unescape(text: str) -> str:
    entities = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
    return re.sub("&amp;|&lt;|&gt;", lambda m: entities[m.group()], text)


def has_content(line: str) -> bool:
    return any(not (c.isspace() or c in LIST_MARKERS) for c in line)


def check_invariants(text: str, numbers: set[int] | None, reply: ParsedReply) -> None:
    """Every line is recorded or reported exactly once, and what is recorded is well-formed."""
    typed = (unescape(raw).strip() for raw in text.splitlines())
    expected = [line[:MAX_LINE_CHARS] for line in typed if has_content(line)]
    accounted = [line.source for line in reply.lines] + [u.line for u in reply.unreadable]
    if reply.others is not None:
        accounted.append(reply.others.source)
    if len(expected) <= MAX_LINES:
        assert Counter(accounted) == Counter(expected)
    else:
        rest = len(expected) - MAX_LINES
        more = "1 more line" if rest == 1 else f"{rest} more lines"
        assert reply.unreadable[-1] == Unreadable(expected[MAX_LINES], f"too long to read ({more})")
        assert Counter(accounted) == Counter(expected[: MAX_LINES + 1])
    recorded = [*reply.lines, *([reply.others] if reply.others else [])]
    for line in recorded:
        assert line.percent is None or 0 <= line.percent <= 100
        assert len(line.note) <= MAX_NOTE_CHARS
        assert line.note == line.note.strip()
        assert not line.note or line.note[0] not in SEPARATORS
        assert line.note in line.source
    numbers_read = [line.number for line in reply.lines]
    assert len(set(numbers_read)) == len(numbers_read)
    assert all(n > 0 for n in numbers_read)
    if numbers is not None:
        assert set(numbers_read) <= numbers
    if reply.others is not None:
        assert reply.others.number == 0
    assert reply.is_empty == (not expected)


VOCABULARY = [
    *(phrase for phrases in STATUS_PHRASES.values() for phrase in phrases),
    *OTHERS_PHRASES,
    *OTHERS_NOUNS,
    *FILLER_WORDS,
    *NUMBER_WORDS,
    *PERCENT_WORDS,
    *(status.emoji for status in Status),
    *LIST_MARKERS,
    *SEPARATORS,
    "#",
    "%",
    "No.",
    "&amp;",
    "&lt;",
    "&gt;",
    "&amp;gt;",
    "<!channel>",
    "\ufe0f",
    "ß",
    "İ",
    "started",
    "not",
    "https://example.org",
    ":large_green_circle:",
]
token = st.one_of(
    st.sampled_from(VOCABULARY),
    st.integers(0, 150).map(str),
    st.text(alphabet="0123456789.%#-:() ", max_size=6),
)
joiner = st.sampled_from(["", " ", "  ", "-", "_", ": ", "\t", " - ", "\u00a0"])
almost_valid_line = st.tuples(
    st.sampled_from(["", "1 ", "2: ", "#3 ", "- 4) ", "12 ", "all others ", "No. 5 ", "&gt; 6 "]),
    st.lists(st.tuples(token, joiner), max_size=8),
).map(lambda parts: parts[0] + "".join(t + j for t, j in parts[1]))
almost_valid_text = st.lists(
    st.tuples(almost_valid_line, st.sampled_from(["\n", "\r\n", "\n\n", "\n \n"])), max_size=12
).map(lambda lines: "".join(line + end for line, end in lines))
department_numbers = st.one_of(st.none(), st.sets(st.integers(0, 12), max_size=6))
modest = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@modest
@given(text=st.text(), numbers=department_numbers)
def test_any_text_is_accounted_for_and_never_raises(text: str, numbers: set[int] | None) -> None:
    check_invariants(text, numbers, parse_thread_reply(text, numbers))


@modest
@given(text=almost_valid_text, numbers=department_numbers)
def test_almost_valid_text_is_accounted_for(text: str, numbers: set[int] | None) -> None:
    check_invariants(text, numbers, parse_thread_reply(text, numbers))


@settings(max_examples=30, deadline=None)
@given(
    some=st.lists(almost_valid_line, min_size=1, max_size=10),
    count=st.integers(MAX_LINES - 5, MAX_LINES + 10),
    numbers=department_numbers,
)
def test_long_replies_are_accounted_for(
    some: list[str], count: int, numbers: set[int] | None
) -> None:
    text = "\n".join(some[n % len(some)] + f" {n}" for n in range(count))
    check_invariants(text, numbers, parse_thread_reply(text, numbers))


note_text = st.tuples(
    st.characters(categories=["Lu", "Ll"]),
    st.text(
        st.characters(exclude_categories=["Cc", "Cs", "Zl", "Zp"], exclude_characters="&"),
        max_size=40,
    ),
).map("".join)
spelling = st.sampled_from(
    [str.lower, str.upper, str.title, lambda p: p.replace(" ", "-"), lambda p: p.replace(" ", "")]
)


@modest
@given(
    number=st.integers(1, 99),
    status_phrase=st.sampled_from(
        [(status, phrase) for status, phrases in STATUS_PHRASES.items() for phrase in phrases]
    ),
    spell=spelling,
    percent=st.none() | st.integers(0, 100),
    percent_first=st.booleans(),
    note=st.none() | note_text,
    prefix=st.sampled_from(["", "- ", "• ", "> "]),
    separator=st.sampled_from([" ", ": ", ". ", ") ", " - ", " — ", ", "]),
)
def test_what_a_lead_writes_is_what_is_recorded(
    number: int,
    status_phrase: tuple[Status, str],
    spell,
    percent: int | None,
    percent_first: bool,
    note: str | None,
    prefix: str,
    separator: str,
) -> None:
    status, phrase = status_phrase
    shown_percent = "" if percent is None else f"{percent}% "
    head = (
        f"{shown_percent}{spell(phrase)}" if percent_first else f"{spell(phrase)} {shown_percent}"
    )
    text = f"{prefix}{number}{separator}{head.strip()}" + ("" if note is None else f" - {note}")
    reply = parse_thread_reply(text, numbers={number})
    expected_note = "" if note is None else note.rstrip()
    assert reply.lines == (ReplyLine(number, status, percent, expected_note, text.strip()),)
    assert reply.others is None and reply.unreadable == ()
