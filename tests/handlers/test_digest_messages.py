"""What the weekly digest posts: a main post that fits on one screen (the week, the response
rate, what got worse, the five most serious items, one line per goal), everything else in the
thread without losing or repeating an item, one date per line, user text that never pings, and
every message within Slack's limits."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from handlers.messages.digest import (
    MAIN_SERIOUS,
    MAIN_WORSE,
    DigestMessages,
    render_digest,
)
from handlers.messages.layout import Message
from handlers.messages.limits import check_message
from models.digest_content import AttentionItem, Change, DigestContent, ItemRef
from models.queries import (
    DepartmentRef,
    GoalLine,
    GoalsOverview,
    ResponseRate,
    StatusCounts,
)
from models.status import Status
from tests.helpers import PERIOD, goal_ref, mrkdwn_texts

SINCE = datetime(2026, 11, 16, 13, 0, tzinfo=UTC)
UNTIL = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
NOV_19 = datetime(2026, 11, 19, 15, 30, tzinfo=UTC)
HOSTILE = "<!channel> & <@U123> <https://evil|click> <!here> @everyone "
HOSTILE_NOTE = (HOSTILE * 80)[:4000]
# Lines a leader reads on one screen: the main post never shows more.
ONE_SCREEN_LINES = 32


def name_of(user: str) -> str:
    return f"Name of {user}"


def messages(digest: DigestMessages) -> list[Message]:
    return [digest.main, *digest.thread]


def shown(message: Message) -> str:
    return "\n".join(mrkdwn_texts(message.blocks))


def more_count(message: Message, what: str) -> int:
    """The N of the one "…and N more {what}" line in a message, 0 when there is none."""
    counts = [int(n) for n in re.findall(rf"…and (\d+) more {what} —", shown(message))]
    assert len(counts) <= 1, counts
    return counts[0] if counts else 0


# --- a Hartford-sized digest ----------------------------------------------------------------------

FIRE = DepartmentRef("fire", "Fire", ("UFIRE",))
POLICE = DepartmentRef("police", "Police", ("UPOLICE1", "UPOLICE2"))
DPW = DepartmentRef("dpw", "Public Works", ("UDPW",))
HHS = DepartmentRef("hhs", "Health & Human Services", ("UHHS",))
CLERK = DepartmentRef("clerk", "Town & City Clerk", ())
LIBRARY = DepartmentRef("library", "Library", ("ULIBRARY",))


def goal(
    key: str, name: str, kind: str, counts: dict[Status | None, int], reporting: tuple[int, int]
) -> GoalLine:
    """`reporting`: (departments serving the goal, how many of them reported)."""
    return GoalLine(goal_ref(key, name, kind), StatusCounts(counts), *reporting)


def urgent_item(
    department: DepartmentRef,
    number: int,
    text: str,
    status: Status,
    since: str,
    note: str = "",
    period: str = PERIOD,
) -> AttentionItem:
    return AttentionItem(
        ItemRef(department, number, text), status, note, 40, period, NOV_19, None, since
    )


def hartford(*, since: datetime | None = SINCE) -> DigestContent:
    # In the order models.attention gives: off track before at risk, longest first.
    urgent = [
        urgent_item(
            DPW, 7, "Repave 20 miles of road", Status.OFF_TRACK, "2026-06", period="2026-09"
        ),
        urgent_item(POLICE, 2, "Body cameras", Status.OFF_TRACK, "2026-08", HOSTILE),
        urgent_item(
            FIRE, 3, "Replace two engines", Status.OFF_TRACK, "2026-10", "Bids came in high"
        ),
        urgent_item(HHS, 4, "Accreditation", Status.OFF_TRACK, "2026-10"),
        *(
            urgent_item(
                POLICE,
                10 + n,
                f"Community policing step {n}",
                Status.AT_RISK,
                f"2026-0{4 + n}",
                "Waiting on the union agreement",
            )
            for n in range(6)
        ),
    ]
    stale = [
        AttentionItem(
            ItemRef(LIBRARY, n, f"Branch programme {n}"),
            Status.ON_TRACK,
            "Going fine",
            None,
            PERIOD,
            NOV_19,
            "2026-07",
            "2026-05",
        )
        for n in range(1, 4)
    ]
    changes = (
        []
        if since is None
        else [
            Change(
                ItemRef(LIBRARY, 9, "Summer reading"), None, Status.ON_TRACK, "ULIBRARY", NOV_19
            ),
            Change(
                ItemRef(FIRE, 3, "Replace two engines"),
                Status.AT_RISK,
                Status.OFF_TRACK,
                "UFIRE",
                NOV_19,
            ),
            Change(
                ItemRef(FIRE, 5, "Smoke detectors"),
                Status.ON_TRACK,
                Status.COMPLETE,
                "UFIRE",
                NOV_19,
            ),
            Change(
                ItemRef(DPW, 1, "Snow plan"), Status.NOT_STARTED, Status.ON_TRACK, "UDPW", NOV_19
            ),
            Change(
                ItemRef(POLICE, 12, "Community policing step 2"),
                Status.ON_TRACK,
                Status.AT_RISK,
                "UPOLICE1",
                NOV_19,
            ),
            Change(
                ItemRef(POLICE, 13, "Community policing step 3"),
                Status.OFF_TRACK,
                Status.AT_RISK,  # better, though at risk
                "UPOLICE1",
                NOV_19,
            ),
        ]
    )
    goals = GoalsOverview(
        PERIOD,
        [
            goal(
                "safety",
                "Safety",
                "mayor",
                {Status.COMPLETE: 2, Status.ON_TRACK: 10, Status.AT_RISK: 2, Status.OFF_TRACK: 1},
                (4, 3),
            ),
            goal(
                "economy",
                "Economic Development",
                "mayor",
                {Status.ON_TRACK: 20, Status.OFF_TRACK: 2, None: 3},
                (6, 5),
            ),
            goal(
                "education", "Education", "mayor", {Status.ON_TRACK: 12, Status.AT_RISK: 1}, (2, 2)
            ),
            goal(
                "government",
                "Efficient Government",
                "mayor",
                {Status.ON_TRACK: 30, None: 9},
                (9, 7),
            ),
            goal(
                "neighborhoods",
                "Neighborhoods & Housing",
                "city-plan",
                {Status.ON_TRACK: 5},
                (1, 1),
            ),
        ],
    )
    return DigestContent(
        period=PERIOD,
        since=since,
        totals=StatusCounts(
            {
                Status.COMPLETE: 9,
                Status.ON_TRACK: 48,
                Status.AT_RISK: 6,
                Status.OFF_TRACK: 4,
                Status.NOT_STARTED: 8,
                None: 12,
            }
        ),
        goals=goals,
        changes=changes,
        new_updates=0 if since is None else 23,
        late_updates=0 if since is None else 2,
        attention=urgent + stale,
        response=ResponseRate(PERIOD, [POLICE, HHS, CLERK, LIBRARY], 20, unowned=1),
        trend=[],
        until=UNTIL,
    )


def test_the_main_post_opens_with_the_week_and_the_response_rate() -> None:
    digest = render_digest(hartford(), name_of, timezone="UTC")
    header = digest.main.blocks[0]
    assert header["type"] == "header"
    assert header["text"]["text"] == "Weekly plan digest · Nov 16 – Nov 23, 2026"
    first = mrkdwn_texts(digest.main.blocks)[0]
    assert first == (
        "*16 of 20 departments with initiatives reported for October 2026 (80%); "
        "1 has no owner.*\n"
        "✅ 9 complete · 🟢 48 on track · 🟡 6 at risk · 🔴 4 off track · ⚪ 8 not started · "
        "❔ 12 no update — 87 initiatives"
    )
    assert digest.main.text == (
        "Weekly plan digest: 16 of 20 departments with initiatives reported for October 2026 "
        "(80%); 1 has no owner; 4 off track, 6 at risk"
    )


def test_the_main_post_fits_on_one_screen_in_the_order_a_leader_reads() -> None:
    digest = render_digest(hartford(), name_of, timezone="UTC")
    main = shown(digest.main)
    assert len(main.splitlines()) <= ONE_SCREEN_LINES
    assert (
        main.index("*Got worse this week*")
        < main.index("*Most serious*")
        < main.index("*Goals*")
        < main.index("Also in the thread:")
    )
    assert "Not reported for" not in main and "No progress" not in main.split("Also in")[0]


def test_what_got_worse_comes_first_and_only_what_got_worse() -> None:
    digest = render_digest(hartford(), name_of, timezone="UTC")
    main = shown(digest.main)
    worse = main.split("*Got worse this week*", 1)[1].split("*Most serious*", 1)[0]
    assert "(2)" in worse
    assert (
        "• *Fire #3* 🟡 At risk → 🔴 Off track — Replace two engines (Name of UFIRE, Nov 19)"
        in worse
    )
    assert "• *Police #12* 🟢 On track → 🟡 At risk" in worse
    assert worse.index("*Fire #3*") < worse.index("*Police #12*")  # into off track first
    for better in ("*Library #9*", "*Fire #5*", "*Public Works #1*", "*Police #13*"):
        assert better not in main
    thread = "\n".join(shown(m) for m in digest.thread)
    other = thread.split("*Other changes*", 1)[1]
    for better in (
        "*Library #9* new: 🟢 On track",
        "*Fire #5* 🟢",
        "*Public Works #1* ⚪",
        "*Police #13* 🔴",
    ):
        assert better in other


def test_the_five_most_serious_off_track_first_longest_first() -> None:
    content = hartford()
    main = shown(render_digest(content, name_of, timezone="UTC").main)
    serious = main.split("*Most serious*", 1)[1].split("*Goals*", 1)[0]
    assert "4 off track, 6 at risk" in serious
    named = re.findall(r"\*([^*]+ #\d+)\*", serious)
    assert named == [
        "Public Works #7",
        "Police #2",
        "Fire #3",
        "Health &amp; Human Services #4",
        "Police #10",
    ]
    assert (
        "🔴 Off track · *Public Works #7* · 40% · as of September 2026\nRepave 20 miles" in serious
    )
    assert "🔴 Off track · *Police #2* · 40% · since August 2026\nBody cameras" in serious
    assert "> " not in serious  # notes are the thread's
    assert "…and 5 more needing attention — see the thread" in serious


def test_one_line_per_main_goal_and_the_others_in_the_thread() -> None:
    digest = render_digest(hartford(), name_of, timezone="UTC")
    main = shown(digest.main)
    assert "*Safety* — ✅ 2 · 🟢 10 · 🟡 2 · 🔴 1 — 3 of 4 departments reported" in main
    assert "*Economic Development* — 🟢 20 · 🔴 2 · ❔ 3 — 5 of 6 departments reported" in main
    assert "*Education* — 🟢 12 · 🟡 1 — 2 of 2 departments reported" in main
    assert "*Efficient Government* — 🟢 30 · ❔ 9 — 7 of 9 departments reported" in main
    assert "Neighborhoods" not in main.split("Also in")[0]
    thread = "\n".join(shown(m) for m in digest.thread)
    assert "*Neighborhoods &amp; Housing* — 🟢 5 — 1 of 1 department reported" in thread


def test_the_thread_holds_everything_else_once() -> None:
    content = hartford()
    digest = render_digest(content, name_of, timezone="UTC")
    every = "\n".join(shown(m) for m in messages(digest))
    for a in content.attention:
        marker = f"*{a.item.department.name.replace('&', '&amp;')} #{a.item.number}*"
        assert every.count(f"· {marker}") == 1, marker
    thread = "\n".join(shown(m) for m in digest.thread)
    assert "*No progress for three periods* (1–3 of 3)" in thread
    assert "🟢 On track · *Library #1* · no progress since July 2026" in thread
    assert "*Not reported for October 2026* (1–4 of 4)" in thread
    assert "• *Police* — Name of UPOLICE1, Name of UPOLICE2" in thread
    assert "• *Town &amp; City Clerk* — no owner assigned" in thread
    assert "> Waiting on the union agreement" in thread
    closing = digest.main.blocks[-1]
    assert closing["type"] == "context"
    assert closing["elements"][0]["text"] == (
        "Since Nov 16: 23 new updates (2 late), 6 status changes. Also in the thread: "
        "no progress (3), not reported (4), other changes (4), other goals (1), the charts."
    )


DATES = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r" \d{4}\b|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}\b"
)


@pytest.mark.parametrize("content", [hartford(), hartford(since=None)])
def test_one_date_qualifier_per_line(content: DigestContent) -> None:
    for message in messages(render_digest(content, name_of, timezone="UTC")):
        for line in shown(message).splitlines():
            if line.endswith("— continued") or "continued (" in line:
                continue
            assert len(DATES.findall(line)) <= 1, line


def test_digest_dates_are_days_on_the_plans_calendar() -> None:
    # 01:30 UTC on Nov 17 and Nov 20 is the evening before in Hartford.
    evening = dataclasses.replace(hartford(), since=datetime(2026, 11, 17, 1, 30, tzinfo=UTC))
    late_change = dataclasses.replace(
        evening.changes[1], received_at=datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    )
    evening = dataclasses.replace(evening, changes=[late_change])
    in_hartford = render_digest(evening, name_of, timezone="America/New_York").main
    in_utc = render_digest(evening, name_of, timezone="UTC").main
    assert in_hartford.blocks[0]["text"]["text"].startswith("Weekly plan digest · Nov 16 – ")
    assert in_utc.blocks[0]["text"]["text"].startswith("Weekly plan digest · Nov 17 – ")
    assert ", Nov 19)" in shown(in_hartford) and ", Nov 20)" in shown(in_utc)


def test_the_first_digest_says_so() -> None:
    digest = render_digest(hartford(since=None), name_of, timezone="UTC")
    main = shown(digest.main)
    assert "*Got worse this week*\nThis is the first digest: nothing to compare yet." in main
    assert digest.main.blocks[0]["text"]["text"] == "Weekly plan digest · Nov 16 – Nov 23, 2026"
    later = shown(render_digest(hartford(), name_of, timezone="UTC").main)
    assert "This is the first digest" not in later


def test_preview_has_no_thread_and_says_nothing_was_recorded() -> None:
    preview = render_digest(hartford(), name_of, preview=True, timezone="UTC")
    assert preview.thread == []
    assert shown(preview.main).endswith("Preview — only you can see this; nothing was recorded.")
    assert "The posted digest's thread also lists: no progress" in shown(preview.main)
    assert "— the posted digest lists them all in its thread" in shown(preview.main)
    posted = render_digest(hartford(), name_of, timezone="UTC").main
    assert "nothing was recorded" not in shown(posted)


def test_title_is_the_callers() -> None:
    digest = render_digest(hartford(), name_of, title="Plan digest", timezone="UTC")
    assert digest.main.blocks[0]["text"]["text"].startswith("Plan digest · ")
    assert digest.main.text.startswith("Plan digest: ")


def test_hartford_user_text_is_escaped() -> None:
    text = all_json(render_digest(hartford(), name_of, timezone="UTC"))
    assert "<!channel>" not in text and "<!here>" not in text and "<@U123>" not in text
    assert "Body cameras — “&lt;!channel&gt; &amp; &lt;@U123&gt;" in text
    assert "Health &amp; Human Services" in text


# --- a 10,000-initiative digest -------------------------------------------------------------------

DEPARTMENTS = 400
URGENT = range(0, 2500)  # initiative numbers, unique across the plan: a line's marker names one
STALE = range(2500, 3300)
CHANGED = range(5000, 8000)
MISSING = 200
EVIL = 13  # the department whose name is hostile


def department(n: int) -> DepartmentRef:
    name = f"Department {n}" if n != EVIL else f"Department {n} {HOSTILE}"
    return DepartmentRef(f"d{n}", name, (f"UOWNER{n}",))


def huge_item(n: int) -> ItemRef:
    return ItemRef(department(n % DEPARTMENTS), n, f"Initiative {n} {HOSTILE}")


def quiet(k: int) -> DepartmentRef:
    owners = () if k % 10 == 0 else tuple(f"UOWNERQ{k}X{i}" for i in range(1 + k % 7))
    return DepartmentRef(f"q{k}", f"Quiet Department {k}", owners)


@functools.cache
def huge() -> DigestContent:
    urgent = [
        AttentionItem(
            huge_item(n),
            Status.OFF_TRACK if n % 3 else Status.AT_RISK,
            HOSTILE_NOTE,
            n % 101,
            PERIOD if n % 2 else "2026-08",
            NOV_19,
            None,
            "2026-05",
        )
        for n in URGENT
    ]
    urgent.sort(key=lambda a: a.status != Status.OFF_TRACK)
    stale = [
        AttentionItem(
            huge_item(n), Status.ON_TRACK, HOSTILE_NOTE, None, PERIOD, NOV_19, "2026-06", "2026-01"
        )
        for n in STALE
    ]
    changes = [
        Change(
            huge_item(n),
            None if n % 5 == 0 else Status.ON_TRACK,
            [Status.AT_RISK, Status.OFF_TRACK, Status.COMPLETE][n % 3],
            f"UOWNER{n % 400}",
            NOV_19,
        )
        for n in CHANGED
    ]
    counts = {
        Status.COMPLETE: 1200,
        Status.ON_TRACK: 4300,
        Status.AT_RISK: 834,
        Status.OFF_TRACK: 1666,
        Status.NOT_STARTED: 1000,
        None: 1000,
    }
    goals = [
        goal(
            f"g{k}",
            f"Goal {k} {HOSTILE}{'a long goal name ' * 10}",
            "mayor" if k < 12 else "city-plan",
            {Status.ON_TRACK: 2000 + k, Status.OFF_TRACK: 500},
            (300, 250),
        )
        for k in range(40)
    ]
    return DigestContent(
        period=PERIOD,
        since=SINCE,
        totals=StatusCounts(counts),
        goals=GoalsOverview(PERIOD, goals),
        changes=changes,
        new_updates=6500,
        late_updates=310,
        attention=urgent + stale,
        response=ResponseRate(PERIOD, [quiet(k) for k in range(MISSING)], DEPARTMENTS, unowned=20),
        trend=[],
        until=UNTIL,
    )


@functools.cache
def huge_digest(preview: bool = False) -> DigestMessages:
    return render_digest(huge(), name_of, preview=preview, timezone="UTC")


def all_json(digest: DigestMessages) -> str:
    return json.dumps([m.blocks for m in messages(digest)], ensure_ascii=False) + json.dumps(
        [m.text for m in messages(digest)], ensure_ascii=False
    )


@pytest.mark.parametrize("preview", [False, True])
def test_every_message_fits_slacks_limits(preview: bool) -> None:
    digest = huge_digest(preview)
    assert len(digest.thread) > 10 or preview
    for message in messages(digest):
        check_message(message.blocks, message.text)
        assert len(message.blocks) <= 49
        assert message.text


def test_the_huge_main_post_still_fits_on_one_screen() -> None:
    main = shown(huge_digest().main)
    assert len(main.splitlines()) <= ONE_SCREEN_LINES
    assert (
        "*200 of 400 departments with initiatives reported for October 2026 (50%); "
        "20 have no owner.*" in main
    )


ITEM = re.compile(r"\*Department \d+[^*\n]* #(\d+)\*")
QUIET = re.compile(r"• \*Quiet Department (\d+)\* —")
GOAL = re.compile(r"^\*Goal (\d+) ", re.MULTILINE)


def markers(text: str) -> tuple[list[int], list[int]]:
    """Initiative numbers and missing departments named in the text, in order."""
    return [int(n) for n in ITEM.findall(text)], [int(k) for k in QUIET.findall(text)]


def test_every_item_appears_exactly_once_across_main_and_thread_in_order() -> None:
    content = huge()
    numbers: list[int] = []
    quiet_ones: list[int] = []
    goals: list[int] = []
    for message in messages(huge_digest()):
        found, missing = markers(shown(message))
        numbers += found
        quiet_ones += missing
        goals += [int(k) for k in GOAL.findall(shown(message))]
    once = Counter(numbers)
    assert all(n == 1 for n in once.values()), [k for k, n in once.items() if n > 1][:5]
    urgent = [a.item.number for a in content.attention if not a.stale]
    stale = [a.item.number for a in content.attention if a.stale]
    rank = {Status.OFF_TRACK: 0, Status.AT_RISK: 1}
    ordered = sorted(content.changes, key=lambda c: rank.get(c.after, 2))
    worse = [c.item.number for c in ordered if c.after.needs_attention]
    other = [c.item.number for c in ordered if not c.after.needs_attention]
    assert [n for n in numbers if n in URGENT] == urgent
    assert [n for n in numbers if n in STALE] == stale
    assert [n for n in numbers if n in CHANGED] == worse + other
    assert quiet_ones == list(range(MISSING))
    assert goals == list(range(40))


@pytest.mark.parametrize(
    ("what", "total", "most", "in_list"),
    [
        ("needing attention", len(URGENT), MAIN_SERIOUS, URGENT.__contains__),
        ("that got worse", 2000, MAIN_WORSE, CHANGED.__contains__),
    ],
)
def test_and_n_more_counts_what_the_thread_holds(
    what: str, total: int, most: int, in_list: Callable[[object], bool]
) -> None:
    digest = huge_digest()
    in_main = [n for n in markers(shown(digest.main))[0] if in_list(n)]
    assert 0 < len(in_main) <= most
    assert more_count(digest.main, what) == total - len(in_main)
    assert f"…and {total - len(in_main)} more {what} — see the thread" in shown(digest.main)
    assert all(more_count(m, what) == 0 for m in digest.thread)


def test_thread_messages_say_which_digest_they_continue() -> None:
    thread = huge_digest().thread
    for number, message in enumerate(thread, start=1):
        first = message.blocks[0]
        assert first["type"] == "context"
        assert first["elements"][0]["text"] == (
            f"Weekly plan digest · Nov 16 – Nov 23, 2026 — continued ({number} of {len(thread)})"
        )
    assert re.search(r"\*Got worse this week\* \(\d+–\d+ of 2000\)", shown(thread[0]))
    assert "*Other goals* (" in shown(thread[-1])


def test_user_text_never_pings() -> None:
    text = all_json(huge_digest())
    for raw in ("<!channel>", "<!here>", "<@U123>", "<https://evil", "@everyone", "<@"):
        assert raw not in text, raw
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil|click&gt;" in text
    assert "*Department 13 &lt;!channel&gt; &amp;" in text  # a department name, escaped too
    assert "Initiative 5001 &lt;!channel&gt; &amp;" in text  # an initiative's text


def test_people_are_named_only_through_people() -> None:
    text = all_json(huge_digest())
    ids = re.findall(r"(.{8})(UOWNER\w+)", text)
    assert ids
    assert all(before == "Name of " for before, _ in ids), ids[:5]
    assert "• *Quiet Department 0* — no owner" in text
    assert (
        "• *Quiet Department 6* — "
        + ", ".join(f"Name of UOWNERQ6X{i}" for i in range(5))
        + " and 2 more"
        in text
    )


def test_long_names_lose_nothing() -> None:
    def long_name(user: str) -> str:
        return f"Name of {user} " + "x" * 300

    digest = render_digest(huge(), long_name, timezone="UTC")
    for message in messages(digest):
        check_message(message.blocks, message.text)
    quiet_ones = [k for m in messages(digest) for k in markers(shown(m))[1]]
    assert quiet_ones == list(range(MISSING))
