"""What the weekly digest posts: the numbers add up, long lists continue in the thread without
losing or repeating an item, user text never pings, and every message fits Slack's limits."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from handlers.messages.answers import Message
from handlers.messages.digest import (
    MAIN_ATTENTION,
    MAIN_CHANGES,
    MAIN_MISSING,
    MAIN_STALE,
    DigestMessages,
    render_digest,
)
from handlers.messages.limits import check_message
from models.digest import AttentionItem, Change, DigestContent, ItemRef
from models.queries import (
    DepartmentRef,
    GoalLine,
    GoalRef,
    GoalsOverview,
    MissingReport,
    StatusCounts,
)
from models.status import Status
from tests.blocks import mrkdwn_texts

PERIOD = "2026-10"
SINCE = datetime(2026, 11, 16, 13, 0, tzinfo=UTC)
NOV_19 = datetime(2026, 11, 19, 15, 30, tzinfo=UTC)
HOSTILE = "<!channel> & <@U123> <https://evil|click> <!here> @everyone "
HOSTILE_NOTE = (HOSTILE * 80)[:4000]


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
    key: str, name: str, kind: str, counts: dict[Status | None, int], reporting: int
) -> GoalLine:
    return GoalLine(GoalRef(key, name, kind), StatusCounts(counts), reporting)


def hartford(*, since: datetime | None = SINCE) -> DigestContent:
    def item(department: DepartmentRef, number: int, text: str) -> ItemRef:
        return ItemRef(department, number, text)

    urgent = [
        AttentionItem(
            item(FIRE, 3, "Replace two engines"),
            Status.OFF_TRACK,
            "Bids came in high",
            20,
            PERIOD,
            NOV_19,
            None,
        ),
        AttentionItem(
            item(DPW, 7, "Repave 20 miles of road"),
            Status.OFF_TRACK,
            "Asphalt plant closed",
            None,
            "2026-09",
            NOV_19,
            None,
        ),
        AttentionItem(
            item(POLICE, 2, "Body cameras"), Status.OFF_TRACK, HOSTILE, 10, PERIOD, NOV_19, None
        ),
        AttentionItem(
            item(HHS, 4, "Accreditation"), Status.OFF_TRACK, "", None, PERIOD, NOV_19, None
        ),
        *(
            AttentionItem(
                item(POLICE, 10 + n, f"Community policing step {n}"),
                Status.AT_RISK,
                "Waiting on the union agreement",
                40,
                PERIOD,
                NOV_19,
                None,
            )
            for n in range(6)
        ),
    ]
    stale = [
        AttentionItem(
            item(LIBRARY, n, f"Branch programme {n}"),
            Status.ON_TRACK,
            "Going fine",
            None,
            PERIOD,
            NOV_19,
            "2026-07",
        )
        for n in range(1, 4)
    ]
    changes = (
        []
        if since is None
        else [
            Change(item(LIBRARY, 9, "Summer reading"), None, Status.ON_TRACK, "ULIBRARY", NOV_19),
            Change(
                item(FIRE, 3, "Replace two engines"),
                Status.AT_RISK,
                Status.OFF_TRACK,
                "UFIRE",
                NOV_19,
            ),
            Change(
                item(FIRE, 5, "Smoke detectors"), Status.ON_TRACK, Status.COMPLETE, "UFIRE", NOV_19
            ),
            Change(item(DPW, 1, "Snow plan"), Status.NOT_STARTED, Status.ON_TRACK, "UDPW", NOV_19),
            Change(
                item(POLICE, 12, "Community policing step 2"),
                Status.ON_TRACK,
                Status.AT_RISK,
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
                14,
            ),
            goal(
                "economy",
                "Economic Development",
                "mayor",
                {Status.ON_TRACK: 20, Status.OFF_TRACK: 2, None: 3},
                19,
            ),
            goal("education", "Education", "mayor", {Status.ON_TRACK: 12, Status.AT_RISK: 1}, 13),
            goal("government", "Efficient Government", "mayor", {Status.ON_TRACK: 30, None: 9}, 28),
            goal("neighborhoods", "Neighborhoods & Housing", "city-plan", {Status.ON_TRACK: 5}, 5),
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
        missing=MissingReport(PERIOD, [POLICE, HHS, CLERK, LIBRARY], 20),
        owned_departments=19,
        reported_owned=15,
        trend=[],
    )


def test_hartford_headline_numbers_are_the_contents() -> None:
    digest = render_digest(hartford(), name_of, timezone="UTC")
    main = shown(digest.main)
    assert (
        "✅ 9 complete · 🟢 48 on track · 🟡 6 at risk · 🔴 4 off track · ⚪ 8 not started · "
        "❔ 12 no update — *87 initiatives*"
    ) in main
    assert "*15 of 19 departments reported for October 2026* (78%)" in main
    assert digest.main.text == (
        "Weekly plan digest: 15 of 19 departments reported for October 2026; 4 off track, 6 at risk"
    )
    header = digest.main.blocks[0]
    assert header["type"] == "header"
    assert header["text"]["text"] == "Weekly plan digest · October 2026"


def test_hartford_one_line_per_mayors_goal_and_the_double_count_is_explained() -> None:
    main = shown(render_digest(hartford(), name_of, timezone="UTC").main)
    assert "*Safety* — ✅ 2 · 🟢 10 · 🟡 2 · 🔴 1 — 14 of 15 reported (93%)" in main
    assert "*Economic Development* — 🟢 20 · 🔴 2 · ❔ 3 — 19 of 25 reported (76%)" in main
    assert "*Education* — 🟢 12 · 🟡 1 — 13 of 13 reported (100%)" in main
    assert "*Efficient Government* — 🟢 30 · ❔ 9 — 28 of 39 reported (71%)" in main
    assert "Neighborhoods" not in main  # a One City, One Plan goal, not a Mayor's goal
    assert "counts under each" in main


def test_hartford_fits_in_one_message_with_every_item() -> None:
    content = hartford()
    digest = render_digest(content, name_of, timezone="UTC")
    assert digest.thread == []
    check_message(digest.main.blocks, digest.main.text)
    main = shown(digest.main)
    assert "…and" not in main
    for a in content.attention:
        assert f"*{a.item.department.name.replace('&', '&amp;')} #{a.item.number}*" in main


def test_digest_dates_are_days_on_the_plans_calendar() -> None:
    # 01:30 UTC on Nov 17 and Nov 20 is the evening before in Hartford.
    evening = dataclasses.replace(hartford(), since=datetime(2026, 11, 17, 1, 30, tzinfo=UTC))
    late_change = dataclasses.replace(
        evening.changes[0], received_at=datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    )
    evening = dataclasses.replace(evening, changes=[late_change])
    hartford_main = shown(render_digest(evening, name_of, timezone="America/New_York").main)
    utc_main = shown(render_digest(evening, name_of, timezone="UTC").main)
    assert "*What changed since Nov 16, 2026*" in hartford_main
    assert "*What changed since Nov 17, 2026*" in utc_main
    assert ", Nov 19)" in hartford_main and ", Nov 20)" in utc_main


def test_hartford_sections_read_as_leadership_expects() -> None:
    main = shown(render_digest(hartford(), name_of, timezone="UTC").main)
    assert "*Needs attention* (10) — 4 off track, 6 at risk" in main
    assert "🔴 Off track · *Fire #3* · 20%\nReplace two engines\n> Bids came in high" in main
    assert "🔴 Off track · *Public Works #7* · as of September 2026" in main
    assert "🟢 On track · *Library #1* · unchanged since July 2026" in main
    assert "*What changed since Nov 16, 2026*\n23 new updates, 2 late · 5 status changes" in main
    assert (
        "*Fire #3* 🟡 At risk → 🔴 Off track — Replace two engines (Name of UFIRE, Nov 19)" in main
    )
    assert "*Library #9* new: 🟢 On track" in main
    assert "*Not reported for October 2026* (4)" in main
    assert "• *Police* — Name of UPOLICE1, Name of UPOLICE2" in main
    assert "• *Town &amp; City Clerk* — no owner" in main
    # Exceptions first: what needs attention, then who is missing, then what changed.
    assert (
        main.index("*Needs attention*") < main.index("*Not reported") < main.index("*What changed")
    )


def test_changes_into_off_track_and_at_risk_come_first() -> None:
    main = shown(render_digest(hartford(), name_of, timezone="UTC").main)
    order = [
        main.index(marker)
        for marker in (
            "*Fire #3* 🟡",  # into off track
            "*Police #12* 🟢",  # into at risk
            "*Library #9* new",  # the rest, in the content's order
            "*Fire #5* 🟢",
            "*Public Works #1* ⚪",
        )
    ]
    assert order == sorted(order)


def test_the_first_digest_says_so() -> None:
    digest = render_digest(hartford(since=None), name_of, timezone="UTC")
    main = shown(digest.main)
    assert "This is the first digest" in main
    assert "What changed since" not in main
    later = shown(render_digest(hartford(), name_of, timezone="UTC").main)
    assert "This is the first digest" not in later


def test_preview_says_nothing_was_recorded_and_the_posted_digest_points_to_the_chart() -> None:
    preview = render_digest(hartford(), name_of, preview=True, timezone="UTC").main
    posted = render_digest(hartford(), name_of, timezone="UTC").main
    assert preview.blocks[-1]["type"] == "context"
    assert shown(preview).endswith("Preview — only you can see this; nothing was recorded.")
    assert "Chart of status by goal" not in shown(preview)
    assert shown(posted).endswith("Chart of status by goal in the thread.")
    assert "nothing was recorded" not in shown(posted)


def test_a_plan_without_owners_says_nobody_was_asked() -> None:
    content = hartford()
    unowned = DigestContent(**{**content.__dict__, "owned_departments": 0, "reported_owned": 0})
    digest = render_digest(unowned, name_of, timezone="UTC")
    assert "No department has an owner yet" in shown(digest.main)
    assert "of 0 departments" not in shown(digest.main)
    assert digest.main.text.startswith("Weekly plan digest: no department has an owner yet;")


def test_title_is_the_callers() -> None:
    digest = render_digest(hartford(), name_of, title="Plan digest", timezone="UTC")
    assert digest.main.blocks[0]["text"]["text"] == "Plan digest · October 2026"
    assert digest.main.text.startswith("Plan digest: ")


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
        )
        for n in URGENT
    ]
    urgent.sort(key=lambda a: a.status != Status.OFF_TRACK)
    stale = [
        AttentionItem(huge_item(n), Status.ON_TRACK, HOSTILE_NOTE, None, PERIOD, NOV_19, "2026-06")
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
            f"Goal {k} {HOSTILE}",
            "mayor" if k < 4 else "city-plan",
            {Status.ON_TRACK: 2000 + k, Status.OFF_TRACK: 500},
            1900,
        )
        for k in range(10)
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
        missing=MissingReport(PERIOD, [quiet(k) for k in range(MISSING)], DEPARTMENTS),
        owned_departments=380,
        reported_owned=200,
        trend=[],
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
    assert len(digest.thread) > 10
    for message in messages(digest):
        check_message(message.blocks, message.text)
        assert len(message.blocks) <= 49
        assert message.text


def test_the_huge_headline_numbers_are_the_contents() -> None:
    main = shown(huge_digest().main)
    assert (
        "✅ 1200 complete · 🟢 4300 on track · 🟡 834 at risk · 🔴 1666 off track · "
        "⚪ 1000 not started · ❔ 1000 no update — *10000 initiatives*"
    ) in main
    assert "*200 of 380 departments reported for October 2026* (52%)" in main
    assert huge_digest().main.text == (
        "Weekly plan digest: 200 of 380 departments reported for October 2026; "
        "1666 off track, 834 at risk"
    )


ITEM = re.compile(r"\*Department \d+[^*\n]* #(\d+)\*")
QUIET = re.compile(r"• \*Quiet Department (\d+)\* —")


def markers(text: str) -> tuple[list[int], list[int]]:
    """Initiative numbers and missing departments named in the text, in order."""
    return [int(n) for n in ITEM.findall(text)], [int(k) for k in QUIET.findall(text)]


def test_every_item_appears_exactly_once_across_main_and_thread_in_order() -> None:
    content = huge()
    numbers: list[int] = []
    quiet_ones: list[int] = []
    for message in messages(huge_digest()):
        found, missing = markers(shown(message))
        numbers += found
        quiet_ones += missing
    once = Counter(numbers)
    assert all(n == 1 for n in once.values()), [k for k, n in once.items() if n > 1][:5]
    urgent = [a.item.number for a in content.attention if a.stale_since is None]
    stale = [a.item.number for a in content.attention if a.stale_since is not None]
    rank = {Status.OFF_TRACK: 0, Status.AT_RISK: 1}
    changes = [c.item.number for c in sorted(content.changes, key=lambda c: rank.get(c.after, 2))]
    assert [n for n in numbers if n in URGENT] == urgent
    assert [n for n in numbers if n in STALE] == stale
    assert [n for n in numbers if n in CHANGED] == changes
    assert quiet_ones == list(range(MISSING))


@pytest.mark.parametrize(
    ("what", "total", "most", "in_list"),
    [
        ("needing attention", len(URGENT), MAIN_ATTENTION, URGENT.__contains__),
        ("unchanged", len(STALE), MAIN_STALE, STALE.__contains__),
        ("status changes", len(CHANGED), MAIN_CHANGES, CHANGED.__contains__),
    ],
)
def test_and_n_more_counts_what_the_thread_holds(
    what: str, total: int, most: int, in_list: Callable[[object], bool]
) -> None:
    digest = huge_digest()
    in_main = [n for n in markers(shown(digest.main))[0] if in_list(n)]
    in_thread = [n for m in digest.thread for n in markers(shown(m))[0] if in_list(n)]
    assert 0 < len(in_main) <= most
    assert more_count(digest.main, what) == total - len(in_main) == len(in_thread)
    assert f"…and {total - len(in_main)} more {what} — see the thread" in shown(digest.main)
    assert all(more_count(m, what) == 0 for m in digest.thread)


def test_and_n_more_missing_departments() -> None:
    digest = huge_digest()
    in_main = markers(shown(digest.main))[1]
    in_thread = [k for m in digest.thread for k in markers(shown(m))[1]]
    assert in_main == list(range(MAIN_MISSING))
    assert more_count(digest.main, "departments") == MISSING - MAIN_MISSING == len(in_thread)
    assert "*Not reported for October 2026* (200)" in shown(digest.main)


def test_thread_messages_say_which_digest_they_continue() -> None:
    thread = huge_digest().thread
    for number, message in enumerate(thread, start=1):
        first = message.blocks[0]
        assert first["type"] == "context"
        assert first["elements"][0]["text"] == (
            f"Weekly plan digest · October 2026 — continued ({number} of {len(thread)})"
        )
    assert "*What changed since Nov 16, 2026* (" in shown(thread[-1])
    assert re.search(r"\*Needs attention\* \(\d+–\d+ of 2500\)", shown(thread[0]))


def test_preview_points_to_the_posted_digests_thread() -> None:
    main = shown(huge_digest(preview=True).main)
    assert "— the posted digest lists them all in its thread" in main
    assert "see the thread" not in main


def test_user_text_never_pings() -> None:
    text = all_json(huge_digest())
    for raw in ("<!channel>", "<!here>", "<@U123>", "<https://evil", "@everyone", "<@"):
        assert raw not in text, raw
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil|click&gt;" in text
    assert "*Department 13 &lt;!channel&gt; &amp;" in text  # a department name, escaped too
    assert "Initiative 5001 &lt;!channel&gt; &amp;" in text  # an initiative's text


def test_hartford_user_text_is_escaped() -> None:
    text = all_json(render_digest(hartford(), name_of, timezone="UTC"))
    assert "<!channel>" not in text and "<!here>" not in text and "<@U123>" not in text
    assert "> &lt;!channel&gt; &amp; &lt;@U123&gt;" in text
    assert "Health &amp; Human Services" in text


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


def test_long_names_shrink_the_main_post_but_lose_nothing() -> None:
    def long_name(user: str) -> str:
        return f"Name of {user} " + "x" * 300

    digest = render_digest(huge(), long_name, timezone="UTC")
    for message in messages(digest):
        check_message(message.blocks, message.text)
    in_main = markers(shown(digest.main))[1]
    in_thread = [k for m in digest.thread for k in markers(shown(m))[1]]
    assert len(in_main) < MAIN_MISSING
    assert more_count(digest.main, "departments") == MISSING - len(in_main)
    assert in_main + in_thread == list(range(MISSING))
