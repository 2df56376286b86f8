"""What `/plan` answers and the Home tab show, and that they fit Slack's limits at any plan size."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from handlers.messages import limits
from handlers.messages.answers import (
    render_department_summary,
    render_error,
    render_goal_summary,
    render_goals_overview,
    render_help,
    render_history,
    render_home,
    render_missing,
    render_not_found,
    shared_by,
    with_share_button,
)
from handlers.messages.layout import Message
from handlers.messages.text import escape, escaped_excerpt, excerpt
from models.lookup import Target
from models.queries import (
    DepartmentLine,
    DepartmentRef,
    DepartmentSummary,
    GoalLine,
    GoalsOverview,
    GoalSummary,
    InitiativeHistory,
    InitiativeLine,
    ResponseRate,
    StatusCounts,
    UpdateView,
)
from models.status import Status
from tests.helpers import PERIOD, goal_ref, mrkdwn_texts

HOSTILE = "<!channel> & <@U123> <https://evil|click> @everyone "
HOSTILE_NOTE = (HOSTILE * 80)[:4000]
NOV_3 = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)


def mention(user: str) -> str:
    return f"<@{user}>"


def name_of(user: str) -> str:
    return f"Name of {user}"


def update(
    status: Status,
    *,
    percent: int | None = None,
    note: str = "",
    author: str = "UAUTHOR",
    period: str = PERIOD,
    late: bool = False,
    source: str = "thread",
    at: datetime = NOV_3,
) -> UpdateView:
    return UpdateView(status, percent, note, author, period, at, source, late)


def as_json(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def more_count(blocks: list[dict[str, Any]], what: str = "") -> int:
    counts = [
        int(n) for n in re.findall(rf"…and (\d+) more {what}", "\n".join(mrkdwn_texts(blocks)))
    ]
    assert len(counts) == 1, counts
    return counts[0]


# --- plans, small and huge ------------------------------------------------------------------------

FIRE = DepartmentRef("fire", "Fire", ("UFIRECHIEF",))
POLICE = DepartmentRef("police", "Police", ("UPOLICE1", "UPOLICE2"))
CLERK = DepartmentRef("clerk", "Town & City Clerk", ())
SAFETY = goal_ref(
    "safety",
    "Safety",
    "mayor",
    ("Reduce violent crime", "Improve emergency response times"),
)


def small_goal_summary() -> GoalSummary:
    fire = [
        InitiativeLine(FIRE, 1, "Open the new academy", None, update(Status.ON_TRACK), True),
        InitiativeLine(FIRE, 2, "Replace two engines", None, update(Status.COMPLETE), True),
        InitiativeLine(
            FIRE,
            3,
            "Cut response times & overtime",
            None,
            update(Status.AT_RISK, percent=40, note="Waiting on the union agreement & budget"),
            True,
        ),
    ]
    police = [
        InitiativeLine(POLICE, 1, "Community policing", None, None, False),
        InitiativeLine(
            POLICE,
            2,
            "Body cameras",
            None,
            update(Status.OFF_TRACK, note="Vendor pulled out", period="2026-09"),
            False,
        ),
    ]
    clerk = [InitiativeLine(CLERK, 1, "Digitise land records", None, None, False)]
    every = fire + police + clerk
    return GoalSummary(
        goal=SAFETY,
        period=PERIOD,
        counts=StatusCounts.of(line.status for line in every),
        departments=[
            DepartmentLine(FIRE, StatusCounts.of(line.status for line in fire), True),
            DepartmentLine(POLICE, StatusCounts.of(line.status for line in police), False),
            DepartmentLine(CLERK, StatusCounts.of(line.status for line in clerk), False),
        ],
        attention=[police[1], fire[2]],
        missing=[POLICE, CLERK],
    )


def huge_department() -> tuple[DepartmentRef, list[InitiativeLine]]:
    """300 initiatives in one department, every one at risk with a 4,000-character hostile note."""
    fire = DepartmentRef("fire", "Fire", tuple(f"UOWNER{i}" for i in range(8)))
    lines = [
        InitiativeLine(
            fire,
            n,
            f"Initiative {n}: {HOSTILE * 10}",
            None if n % 5 else n - 1,
            update(
                Status.AT_RISK if n % 2 else Status.OFF_TRACK, percent=n % 101, note=HOSTILE_NOTE
            ),
            True,
        )
        for n in range(1, 301)
    ]
    return fire, lines


def huge_departments() -> list[DepartmentRef]:
    return [
        DepartmentRef(f"dept-{i}", f"Department of {HOSTILE}number {i}", (f"UOWNER{i}",))
        for i in range(200)
    ]


def huge_goal_summary() -> GoalSummary:
    fire, lines = huge_department()
    departments = huge_departments()
    counts = StatusCounts.of(line.status for line in lines)
    return GoalSummary(
        goal=goal_ref("safety", "Safety " * 40, "mayor", tuple(HOSTILE_NOTE for _ in range(30))),
        period=PERIOD,
        counts=counts,
        departments=[DepartmentLine(fire, counts, True)]
        + [DepartmentLine(d, StatusCounts({None: 3}), False) for d in departments],
        attention=lines,
        missing=departments,
    )


def huge_department_summary() -> DepartmentSummary:
    fire, lines = huge_department()
    return DepartmentSummary(fire, PERIOD, lines, StatusCounts.of(line.status for line in lines))


def small_department_summary() -> DepartmentSummary:
    lines = [
        InitiativeLine(
            FIRE,
            3,
            "Cut response times",
            None,
            update(Status.AT_RISK, percent=40, note="Union talks <!here> stalled"),
            True,
        ),
        InitiativeLine(FIRE, 7, "Fleet plan", None, update(Status.ON_TRACK), True),
        InitiativeLine(FIRE, 8, "Buy two ladders", 7, None, False),
        InitiativeLine(FIRE, 9, "Old item", None, update(Status.COMPLETE, period="2026-08"), False),
    ]
    return DepartmentSummary(FIRE, PERIOD, lines, StatusCounts.of(line.status for line in lines))


def goal_line(
    key: str, name: str, kind: str, counts: dict[Status | None, int], reporting: tuple[int, int]
) -> GoalLine:
    """`reporting`: (departments serving the goal, how many of them reported)."""
    return GoalLine(goal_ref(key, name, kind), StatusCounts(counts), *reporting)


def small_overview() -> GoalsOverview:
    counts = {
        Status.COMPLETE: 3,
        Status.ON_TRACK: 7,
        Status.AT_RISK: 2,
        Status.OFF_TRACK: 1,
        None: 3,
    }
    return GoalsOverview(
        PERIOD,
        [
            goal_line("neighborhoods", "Livable Neighborhoods", "city-plan", {None: 4}, (2, 0)),
            goal_line("safety", "Safety", "mayor", counts, (4, 3)),
            goal_line("jobs", "Jobs", "mayor", {Status.ON_TRACK: 5}, (1, 1)),
        ],
    )


def huge_overview() -> GoalsOverview:
    return GoalsOverview(
        PERIOD,
        [
            goal_line(
                f"goal-{i}",
                f"Goal {i}: {HOSTILE}{'a very long goal name ' * 8}",
                "mayor" if i < 20 else "city-plan",
                {Status.ON_TRACK: 300, Status.AT_RISK: 12, None: 1000},
                (200, 150),
            )
            for i in range(40)
        ],
    )


def small_missing() -> ResponseRate:
    return ResponseRate(PERIOD, [POLICE, CLERK, FIRE], expected=18, unowned=2)


def huge_missing() -> ResponseRate:
    return ResponseRate(PERIOD, huge_departments(), expected=250, unowned=40)


def small_history() -> InitiativeHistory:
    return InitiativeHistory(
        FIRE,
        3,
        "Cut response times & overtime",
        [
            update(
                Status.AT_RISK,
                percent=40,
                note="Union talks stalled",
                period="2026-10",
                late=True,
                source="form",
                author="UCHIEF",
            ),
            update(Status.ON_TRACK, period="2026-09", at=datetime(2026, 10, 2, tzinfo=UTC)),
        ],
    )


def huge_history() -> InitiativeHistory:
    updates = [update(Status.AT_RISK, note=HOSTILE_NOTE, period="2026-10") for _ in range(400)]
    return InitiativeHistory(FIRE, 3, HOSTILE_NOTE, updates)


SUGGESTIONS = (Target("goal", 1, "safety", "Safety"), Target("department", 2, "fire", "Fire"))

Answer = Callable[[Callable[[str], str]], Message]

SMALL: dict[str, Answer] = {
    "help": lambda people: render_help(),
    "goals": lambda people: render_goals_overview(small_overview(), small_missing(), people),
    "goal": lambda people: render_goal_summary(small_goal_summary(), people, timezone="UTC"),
    "department": lambda people: render_department_summary(
        small_department_summary(), people, timezone="UTC"
    ),
    "missing": lambda people: render_missing(small_missing(), people),
    "history": lambda people: render_history(small_history(), people, timezone="UTC"),
    "not found": lambda people: render_not_found("safty", SUGGESTIONS),
    "error": lambda people: render_error("Something went wrong"),
}
HUGE: dict[str, Answer] = {
    "goals": lambda people: render_goals_overview(huge_overview(), huge_missing(), people),
    "goal": lambda people: render_goal_summary(huge_goal_summary(), people, timezone="UTC"),
    "department": lambda people: render_department_summary(
        huge_department_summary(), people, timezone="UTC"
    ),
    "missing": lambda people: render_missing(huge_missing(), people),
    "history": lambda people: render_history(huge_history(), people, timezone="UTC"),
    "not found": lambda people: render_not_found(HOSTILE_NOTE, SUGGESTIONS * 2),
    "error": lambda people: render_error(HOSTILE_NOTE),
}
ALL = [pytest.param(answer, id=f"small {name}") for name, answer in SMALL.items()] + [
    pytest.param(answer, id=f"huge {name}") for name, answer in HUGE.items()
]


# --- limits ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ALL)
@pytest.mark.parametrize("people", [mention, name_of], ids=["mentions", "names"])
def test_every_answer_fits_slack_limits_with_and_without_share_button(
    answer: Answer, people: Callable[[str], str]
) -> None:
    message = answer(people)
    limits.check_message(message.blocks, message.text)
    assert 0 < len(message.text) <= limits.NOTIFICATION_TEXT
    shared = with_share_button(message, "/plan safety")
    limits.check_message(shared.blocks, shared.text)


@pytest.mark.parametrize("people", [mention, name_of], ids=["mentions", "names"])
def test_home_fits_a_view_for_a_huge_plan(people: Callable[[str], str]) -> None:
    _, lines = huge_department()
    summaries = [
        DepartmentSummary(
            DepartmentRef(d.key, d.name, d.owners),
            PERIOD,
            lines,
            StatusCounts.of(line.status for line in lines),
        )
        for d in huge_departments()
    ]
    blocks = render_home(summaries, huge_overview(), people)
    limits.check_view(blocks)
    assert more_count(blocks, "department") > 0
    assert "Plan goals — October 2026" in as_json(blocks)  # the overview still fits


def test_check_message_names_the_first_violation() -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    with pytest.raises(ValueError, match="51 blocks"):
        limits.check_message([section] * 51)
    with pytest.raises(ValueError, match=r"block 1 .*3001 characters"):
        limits.check_message(
            [section, {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
        )
    with pytest.raises(ValueError, match="header"):
        limits.check_view([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}])
    button = {"type": "button", "text": {"type": "plain_text", "text": "b" * 76}, "value": "v"}
    with pytest.raises(ValueError, match="element 0 text"):
        limits.check_view([{"type": "actions", "elements": [button]}])
    with pytest.raises(ValueError, match="13000 characters of text"):
        long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2600}}
        limits.check_message([long] * 5)
    limits.check_view([section] * 100)


# --- numbers --------------------------------------------------------------------------------------


def test_goal_summary_shows_the_counts_it_was_given() -> None:
    summary = small_goal_summary()
    texts = "\n".join(mrkdwn_texts(render_goal_summary(summary, mention, timezone="UTC").blocks))
    assert summary.counts.total == 6
    assert "✅ 1 complete · 🟢 1 on track · 🟡 1 at risk · 🔴 1 off track · ❔ 2 no update" in texts
    assert "*6 initiatives*" in texts
    assert "*Fire* — ✅ 1 · 🟢 1 · 🟡 1 — ✔ reported" in texts
    assert "*Police* — 🔴 1 · ❔ 1 — not yet reported for October" in texts
    assert "*Objectives:* Reduce violent crime (and 1 more)" in texts
    assert "*Needs attention* (2)" in texts
    assert texts.index("*Needs attention*") < texts.index("*By department*")
    assert texts.index("Police #2") < texts.index("Fire #3")  # the order given: off track first
    assert "🔴 Off track · *Police #2* · as of September 2026\nBody cameras" in texts
    assert "🟡 At risk · *Fire #3* · 40%" in texts
    assert "> Waiting on the union agreement &amp; budget" in texts
    assert "— <@UAUTHOR>, Nov 3" in texts
    assert "*Not reported for October 2026* (2)" in texts
    assert "• *Police* — <@UPOLICE1>, <@UPOLICE2>" in texts
    assert "• *Town &amp; City Clerk* — no owner assigned" in texts


def test_goals_overview_groups_mayors_goals_first_with_the_response_rate() -> None:
    message = render_goals_overview(small_overview(), small_missing(), mention)
    assert message.blocks[0]["text"]["text"] == "Plan goals — October 2026"
    texts = "\n".join(mrkdwn_texts(message.blocks))
    assert (
        "*15 of 18 departments with initiatives reported for October 2026 (83%); "
        "2 have no owner.*" in texts
    )
    assert "*Safety* — ✅ 3 · 🟢 7 · 🟡 2 · 🔴 1 · ❔ 3 — 3 of 4 departments reported" in texts
    assert "*Jobs* — 🟢 5 — 1 of 1 department reported" in texts
    assert "*Livable Neighborhoods* — ❔ 4 — 0 of 2 departments reported" in texts
    assert (
        texts.index("*Mayor's goals*")
        < texts.index("*Safety*")
        < texts.index("*Jobs*")
        < texts.index("*One City, One Plan goals*")
        < texts.index("*Livable Neighborhoods*")
    )


def test_department_summary_lines() -> None:
    message = render_department_summary(small_department_summary(), mention, timezone="UTC")
    assert message.blocks[0]["text"]["text"] == "Fire"
    texts = "\n".join(mrkdwn_texts(message.blocks))
    assert "Owners: <@UFIRECHIEF>" in texts
    assert "*#3* 🟡 At risk · 40%\nCut response times\n> Union talks &lt;!here&gt; stalled" in texts
    assert "— <@UAUTHOR>, Nov 3" in texts
    assert "↳ *#8* (part of #7) ❔ No update" in texts
    assert "*#9* ✅ Complete · as of August 2026" in texts


EVENING_IN_HARTFORD = datetime(2026, 11, 3, 2, 30, tzinfo=UTC)  # 21:30 on Nov 2, EST


@pytest.mark.parametrize(("timezone", "day"), [("America/New_York", "Nov 2"), ("UTC", "Nov 3")])
def test_dates_are_days_on_the_plans_calendar(timezone: str, day: str) -> None:
    evening = update(Status.ON_TRACK, note="Sent after dinner", at=EVENING_IN_HARTFORD)
    department = DepartmentSummary(
        FIRE, PERIOD, [InitiativeLine(FIRE, 1, "Fleet", None, evening, True)], StatusCounts()
    )
    shown = "\n".join(
        mrkdwn_texts(render_department_summary(department, mention, timezone=timezone).blocks)
    )
    assert f"— <@UAUTHOR>, {day}" in shown
    history = InitiativeHistory(FIRE, 1, "Fleet", [evening])
    shown = "\n".join(mrkdwn_texts(render_history(history, mention, timezone=timezone).blocks))
    assert f"— <@UAUTHOR>, {day}, 2026 via a thread reply" in shown


def test_missing_report() -> None:
    texts = "\n".join(mrkdwn_texts(render_missing(small_missing(), mention).blocks))
    assert (
        "15 of 18 departments with initiatives reported for October 2026 (83%); "
        "2 have no owner" in texts
    )
    assert "• *Police* — <@UPOLICE1>, <@UPOLICE2>" in texts
    assert "• *Town &amp; City Clerk* — no owner assigned" in texts
    everyone = render_missing(ResponseRate(PERIOD, [], expected=18), mention)
    assert "Every department has reported for October 2026" in as_json(everyone.blocks)


def test_history_newest_first_with_late_flag_and_source() -> None:
    message = render_history(small_history(), mention, timezone="UTC")
    assert message.blocks[0]["text"]["text"] == "Fire #3"
    texts = "\n".join(mrkdwn_texts(message.blocks))
    assert "Cut response times &amp; overtime" in texts
    assert "*October 2026* · 🟡 At risk · 40% · (late)\n> Union talks stalled" in texts
    assert "— <@UCHIEF>, Nov 3, 2026 via the form" in texts
    assert "*September 2026* · 🟢 On track\n— <@UAUTHOR>, Oct 2, 2026 via a thread reply" in texts
    assert texts.index("October 2026") < texts.index("September 2026")


@pytest.mark.parametrize(
    ("message", "total", "what"),
    [
        (
            lambda: render_department_summary(huge_department_summary(), mention, timezone="UTC"),
            300,
            "initiatives",
        ),
        (lambda: render_missing(huge_missing(), mention), 200, "departments"),
        (lambda: render_history(huge_history(), mention, timezone="UTC"), 400, "older update"),
    ],
    ids=["department", "missing", "history"],
)
def test_and_n_more_counts_exactly_what_is_left_out(
    message: Callable[[], Message], total: int, what: str
) -> None:
    texts = "\n".join(mrkdwn_texts(message().blocks))
    shown = len(re.findall(r"^(?:↳ )?\*#\d+\*|^• \*|^\*\w+ 2026\*", texts, re.MULTILINE))
    if what == "older update":
        hidden = int(re.findall(r"…and (\d+) older updates", texts)[0])
    else:
        hidden = more_count(message().blocks, what)
    assert 0 < shown < total
    assert shown + hidden == total


def test_huge_goal_summary_counts_every_list() -> None:
    summary = huge_goal_summary()
    blocks = render_goal_summary(summary, mention, timezone="UTC").blocks
    texts = "\n".join(mrkdwn_texts(blocks))
    departments_shown = len(re.findall(r"^\*Department of .* — ❔ 3 — ", texts, re.MULTILINE))
    fire_shown = texts.count("*Fire* — ")
    attention_shown = len(re.findall(r"^🟡 At risk · |^🔴 Off track · ", texts, re.MULTILINE))
    missing_shown = len(re.findall(r"^• \*Department of", texts, re.MULTILINE))
    hidden = [int(n) for n in re.findall(r"…and (\d+) more", texts)]
    assert f"*{summary.counts.total} initiatives*" in texts
    # Needs attention leads; the objectives are folded to one line.
    assert hidden == [
        300 - attention_shown,
        201 - departments_shown - fire_shown,
        200 - missing_shown,
    ]
    assert "(and 29 more) · all of them:" in texts
    assert "see `/plan fire` for the full list" in texts
    assert min(departments_shown, attention_shown, missing_shown) > 0


# --- escaping and people --------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [pytest.param(a, id=n) for n, a in HUGE.items()])
def test_user_text_is_shown_never_executed(answer: Answer) -> None:
    message = answer(mention)
    everything = as_json(message.blocks) + message.text
    for raw in ("<!channel>", "<@U123>", "<https://evil", "@everyone"):
        assert raw not in everything
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in everything


def test_home_escapes_user_text() -> None:
    fire, lines = huge_department()
    summary = DepartmentSummary(fire, PERIOD, lines, StatusCounts.of(s.status for s in lines))
    everything = as_json(render_home([summary], huge_overview(), mention))
    assert "<@U123>" not in everything and "<!channel>" not in everything
    assert "&lt;@U123&gt;" in everything


@pytest.mark.parametrize("answer", ALL)
def test_people_appear_only_through_people(answer: Answer) -> None:
    assert "<@" not in as_json(answer(name_of).blocks)


def test_owners_and_authors_use_people() -> None:
    texts = as_json(render_goal_summary(small_goal_summary(), name_of, timezone="UTC").blocks)
    assert "Name of UPOLICE1, Name of UPOLICE2" in texts
    assert "— Name of UAUTHOR, Nov 3" in texts


def test_escape_and_excerpt() -> None:
    assert escape("<!channel> & <@U1> <https://evil|click>") == (
        "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://evil|click&gt;"
    )
    assert escape("hey @channel @Here @everyone @channels") == (
        "hey @\u200dchannel @\u200dHere @\u200deveryone @channels"
    )
    assert excerpt("one two three", 20) == "one two three"
    assert excerpt("one two three four", 12) == "one two…"
    assert excerpt("line one\n\nline   two", 50) == "line one line two"
    assert excerpt("x" * 30, 10) == "x" * 9 + "…"  # one word longer than the limit
    assert excerpt("a&amp;b" * 5, 10) == "a&amp;ba…"  # never half an entity
    assert excerpt("a&amp;b" * 5, 6) == "a…"
    assert excerpt("abc &lt;!here&gt;", 13) == "abc…"
    shown = escaped_excerpt("<<<<< >>>>> &&&&&", 30)
    assert len(shown) <= 30 and shown.endswith("…") and not re.search(r"&[a-z]*…", shown)


# --- errors, sharing, help, home ------------------------------------------------------------------


def test_not_found_names_the_closest_matches() -> None:
    message = render_not_found("safty <!here>", SUGGESTIONS)
    text = mrkdwn_texts(message.blocks)[0]
    assert "“safty &lt;!here&gt;”" in text
    assert "Did you mean `/plan safety` (Safety) or `/plan fire` (Fire)?" in text
    nothing = render_not_found("zzz", ())
    assert "Did you mean" not in as_json(nothing.blocks)
    assert "`/plan help`" in as_json(nothing.blocks)
    long = render_not_found("word " * 100, SUGGESTIONS)
    assert len(re.findall(r"“(.*)”", mrkdwn_texts(long.blocks)[0])[0]) <= 100


def test_error_is_short_and_escaped() -> None:
    message = render_error("Bad <@U9> input")
    assert mrkdwn_texts(message.blocks) == ["⚠️ Bad &lt;@U9&gt; input"]


def test_share_button_carries_the_command() -> None:
    message = with_share_button(
        render_goal_summary(small_goal_summary(), mention, timezone="UTC"), "safety"
    )
    button = message.blocks[-1]["elements"][0]
    assert (button["action_id"], button["value"], button["text"]["text"]) == (
        "plan_share",
        "safety",
        "Share in channel",
    )
    full = Message("x", [{"type": "divider"}] * 50)
    shared = with_share_button(full, "history fire 3 " * 200)
    assert len(shared.blocks) == 50
    assert shared.blocks[-1]["type"] == "actions"
    assert len(shared.blocks[-1]["elements"][0]["value"]) <= limits.BUTTON_VALUE
    limits.check_message(shared.blocks)


def test_shared_answer_drops_the_button_and_says_who_shared_it() -> None:
    answer = render_department_summary(huge_department_summary(), name_of, timezone="UTC")
    private = with_share_button(answer, "fire")
    shared = shared_by(private, "Name of UDANA")
    assert "plan_share" not in as_json(shared.blocks)
    assert shared.blocks[-1]["elements"][0]["text"] == "Shared by Name of UDANA"
    assert shared.as_reply() == {"text": private.text, "blocks": shared.blocks}
    limits.check_message(shared.blocks, shared.text)


def test_help_lists_every_command() -> None:
    texts = "\n".join(mrkdwn_texts(render_help().blocks))
    for command in (
        "/plan goals",
        "/plan safety",
        "/plan fire",
        "/plan missing",
        "/plan update",
        "/plan history fire 3",
        "/plan digest",
        "/plan owner fire @someone",
        "/plan export",
        "/plan help",
    ):
        assert command in texts


def test_home_for_someone_who_owns_nothing_explains_how_to_be_assigned() -> None:
    blocks = render_home([], None, mention)
    texts = "\n".join(mrkdwn_texts(blocks))
    assert "not the owner of any department" in texts
    assert "`/plan owner &lt;department&gt; @you`" in texts
    assert "`/plan help`" in texts
    assert "home_update" not in as_json(blocks)
    limits.check_view(blocks)


def test_home_shows_each_department_with_an_update_button() -> None:
    police = DepartmentSummary(
        POLICE,
        PERIOD,
        [InitiativeLine(POLICE, 1, "Community policing", None, None, False)],
        StatusCounts({None: 1}),
    )
    blocks = render_home([small_department_summary(), police], small_overview(), mention)
    buttons = [
        element for block in blocks if block["type"] == "actions" for element in block["elements"]
    ]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("home_update", "fire"),
        ("home_update", "police"),
    ]
    texts = "\n".join(mrkdwn_texts(blocks))
    assert "*#3* 🟡 At risk · 40% — Cut response times" in texts
    assert "*#1* ❔ No update — Community policing" in texts
    assert "*Safety* — ✅ 3 · 🟢 7" in texts  # the overview, for admins
    without = as_json(render_home([police], None, mention))
    assert "Plan goals" not in without


def test_a_history_counts_the_older_updates_it_did_not_read() -> None:
    """`/plan history` reads the newest HISTORY_READ updates; the rest are still counted."""
    few = InitiativeHistory(FIRE, 3, "Fleet", [update(Status.AT_RISK, note="parts")], older=1200)
    message = render_history(few, mention, timezone="UTC")
    shown = "\n".join(mrkdwn_texts(message.blocks))
    assert "1201 updates, newest first" in shown
    assert "parts" in shown
    assert "…and 1200 older updates not shown" in shown
    many = [update(Status.ON_TRACK, note=f"n{i}") for i in range(400)]
    message = render_history(
        InitiativeHistory(FIRE, 3, "Fleet", many, older=7), mention, timezone="UTC"
    )
    limits.check_message(message.blocks, message.text)
    shown = "\n".join(mrkdwn_texts(message.blocks))
    left = re.search(r"…and (\d+) older updates not shown", shown)
    assert left is not None
    listed = len(re.findall(r"\bn\d+\b", shown))
    assert 0 < listed < 400 and int(left[1]) == 400 - listed + 7
