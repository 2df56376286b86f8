"""Block Kit for every `/plan` answer and the App Home tab, built from typed query results.

No SQL and no Slack calls here: each `render_*` takes a result from `models.queries` and returns
what to send. Every answer fits Slack's limits whatever the plan's size: lines are packed into
sections, and those that do not fit are counted ("…and 37 more") rather than cut.

`people` turns a Slack user id into the text shown for that person: `lambda u: f"<@{u}>"` for
answers only the caller sees, a name for shared ones. Its output is trusted mrkdwn, inserted as
is; user ids never reach a message any other way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    DividerBlock,
    MarkdownTextObject,
)

from handlers.ids import ActionId
from handlers.messages import limits
from handlers.messages.layout import (
    NAME,
    UNLIMITED,
    Lines,
    Message,
    Part,
    People,
    command,
    context,
    header,
    lay_out,
    message,
    month_name,
    more,
    plan_name,
    plural,
    section,
)
from handlers.messages.text import escape, escaped_excerpt, excerpt
from handlers.messages.words import (
    FROM_THE_PLAN,
    as_of,
    counts_compact,
    counts_total,
    departments_reported,
    goal_line,
    initiative_number,
    legend,
    missing_line,
    note_lines,
    owner_names,
    response_words,
    said_by,
    status_text,
)
from models.lookup import Target
from models.periods import period_label
from models.queries import (
    DepartmentLine,
    DepartmentSummary,
    GoalRef,
    GoalsOverview,
    GoalSummary,
    InitiativeHistory,
    InitiativeLine,
    ResponseRate,
    UpdateView,
)
from models.tables import Source

# How much of each piece of plan or user text an answer shows (escaped lengths).
_TEXT = 200
_NOTE = 280
_ATTENTION_TEXT = 160
_ATTENTION_NOTE = 220
_HOME_TEXT = 120
_OBJECTIVE = 300
_FOLDED_OBJECTIVE = 110
_ECHO = 100

_SOURCES = {
    Source.FORM: "the form",
    Source.THREAD: "a thread reply",
    Source.COMMAND: "a command",
    Source.IMPORT: "an import",
    Source.UNDO: "Undo",
}


# --- the answers -------------------------------------------------------------------------------


_HELP = (
    (command("goals"), "every goal: counts by status and how many departments reported"),
    (
        command("safety"),
        "one goal (any goal's key, name or alias): what needs attention, counts, each "
        "department worst first, who has not reported; " + command("safety", "objectives") + " "
        "for its objectives in full",
    ),
    (
        command("fire"),
        "one department (key, name or alias): each initiative with its status, percent, "
        "latest note, who updated it and when",
    ),
    (
        command("fire", 3),
        "one initiative: its goals and owners, its latest update and its last six months",
    ),
    (
        command("off track") + ", " + command("at risk") + " or " + command("stale"),
        "across the whole plan, by goal, longest first (stale: no progress for three months)",
    ),
    (command("missing"), "the response rate and who has not reported yet, with owners"),
    (
        command("measures") + " or " + command("measure", "311"),
        "every measure against its target, missed first; one measure in full",
    ),
    (command("owners"), "who owns each department and when it last answered"),
    (
        command("changes") + " or " + command("changes", "safety"),
        "status changes since the last digest, for the plan or one goal",
    ),
    (
        command("update") + " or " + command("update", "fire"),
        "open the update form for your department, or for the one named",
    ),
    (command("history", "fire", 3), "every update of Fire #3, newest first"),
    (command("digest"), "a preview of this week's digest, shown only to you"),
    (
        command("follow", "safety") + " or " + command("unfollow", "safety"),
        "get a goal's lines of the weekly digest by direct message (or stop)",
    ),
    (
        command("away", "until Dec 15", "@deputy") + " or " + command("back"),
        "not reminded while you are out; @deputy (if named) answers for your departments",
    ),
    (command("help"), "this list"),
)
_ADMIN_HELP = (
    (
        command("owner", "fire", "@someone"),
        "set a department's owner(s); add `backup @deputy`, `escalation @coo` for its backup "
        "owners and who hears when a month closes unanswered",
    ),
    (command("export"), "the latest status of every initiative as a CSV file, sent to you"),
    (
        command("publish", "2026-10"),
        "preview a closed month for the public site and open data — every note, each left "
        "out with a tick — then publish it (once; it never changes)",
    ),
)


def render_help() -> Message:
    """What each sub-command does, with examples."""
    return message(
        "Plan Bot: type /plan goals, /plan <goal>, /plan <department>, /plan fire 3, "
        "/plan off track, /plan missing, /plan owners, /plan changes, /plan update, "
        "/plan history, /plan measures, /plan digest or /plan help.",
        [
            header("Plan Bot — what you can ask"),
            section("\n".join(f"• {cmd} — {what}" for cmd, what in _HELP)),
            section(
                "*For plan administrators*\n"
                + "\n".join(f"• {cmd} — {what}" for cmd, what in _ADMIN_HELP)
            ),
            context(
                "Answers are shown only to you; *Share in channel* posts one for everyone.",
                legend(),
            ),
        ],
    )


def _overview_parts(o: GoalsOverview, response: ResponseRate | None = None) -> list[Part]:
    label = period_label(o.period)
    parts: list[Part] = [header(f"Plan goals — {label}")]
    if response is not None:
        parts.append(section(f"*{response_words(response)}.*"))
    parts.append(context(legend()))
    if not o.goals:
        return [*parts, section("The plan has no goals yet.")]
    for title, goals in o.by_group():
        parts.append(
            Lines(
                title=f"*{escape(title)}*",
                lines=[goal_line(g) for g in goals],
                more=more("goals", f"type {command('<goal>')} for any goal"),
            )
        )
    return parts


def render_goals_overview(o: GoalsOverview, response: ResponseRate, people: People) -> Message:
    """The response rate, then one line per goal: counts by status and how many of the
    departments serving it reported."""
    label = period_label(o.period)
    return message(
        f"Plan goals — {label}: {response_words(response)}",
        _overview_parts(o, response),
    )


def _department_line(line: DepartmentLine, period: str) -> str:
    reported = "✔ reported" if line.reported else f"not yet reported for {month_name(period)}"
    return f"*{plan_name(line.department.name)}* — {counts_compact(line.counts)} — {reported}"


def _attention_line(line: InitiativeLine, period: str, people: People, timezone: str) -> str:
    assert line.latest is not None  # only initiatives with a status need attention
    update = line.latest
    head = f"{update.status.label} · *{plan_name(line.department.name)} #{line.number}*"
    if update.percent is not None:
        head += f" · {update.percent}%"
    head += as_of(update, period)
    return "\n".join(
        [
            head,
            escaped_excerpt(line.text, _ATTENTION_TEXT),
            *note_lines(update, people, _ATTENTION_NOTE, timezone),
        ]
    )


def _objectives_folded(goal: GoalRef) -> str:
    """The goal's objectives in one line, with the command that shows them whole."""
    first = escaped_excerpt(goal.objectives[0], _FOLDED_OBJECTIVE)
    others = len(goal.objectives) - 1
    also = f" (and {others} more)" if others else ""
    return f"*Objectives:* {first}{also} · all of them: {command(goal.key, 'objectives')}"


def render_goal_summary(
    s: GoalSummary,
    people: People,
    *,
    timezone: str,
    measures: Sequence[Part] = (),
    help: Sequence[Part] = (),
) -> Message:
    """Where one goal stands, what needs attention first: counts, the items at risk or off
    track, its `measures` (handlers/messages/measures.py), each department worst first, who has
    not reported; the objectives in one line."""
    label = period_label(s.period)
    kind = escape(s.goal.group_one)
    reported = sum(1 for d in s.departments if d.reported)
    about = f"{kind} · {label}"
    if s.departments:
        about += f" · {departments_reported(reported, len(s.departments))}"
    parts: list[Part] = [header(s.goal.name), context(about)]
    if not s.counts.total:
        parts.append(section("No initiatives are aligned to this goal yet."))
        parts += measures
        if s.goal.objectives:
            parts.append(context(_objectives_folded(s.goal)))
        return message(f"{s.goal.name} — {label}: no initiatives yet", parts)
    parts += [section(counts_total(s.counts)), DividerBlock()]

    def attention_more(n: int) -> str:
        hidden = {line.department.key: line.department for line in s.attention[-n:]}
        first = next(iter(hidden))
        where = (
            f"see {command(first)} for the full list"
            if len(hidden) == 1
            else f"see each department, e.g. {command(first)}"
        )
        return f"…and {n} more — {where}"

    if s.attention:
        parts.append(
            Lines(
                title=f"*Needs attention* ({len(s.attention)})",
                lines=[_attention_line(line, s.period, people, timezone) for line in s.attention],
                more=attention_more,
                gap="\n\n",
            )
        )
    else:
        parts.append(section("*Needs attention*\nNothing is at risk or off track. ✔"))
    parts += help  # requests for help not yet resolved (issue 16)
    parts += measures
    parts.append(
        Lines(
            title="*By department*, worst first",
            lines=[_department_line(d, s.period) for d in s.departments],
            more=more("departments"),
        )
    )
    if s.missing:
        parts.append(
            Lines(
                title=f"*Not reported for {label}* ({len(s.missing)})",
                lines=[missing_line(d, people) for d in s.missing],
                more=more("departments", f"see {command('missing')}"),
            )
        )
    else:
        parts.append(section(f"Every department has reported for {label}. ✔"))
    if s.goal.objectives:
        parts += [DividerBlock(), context(_objectives_folded(s.goal))]
    fallback = (
        f"{escape(s.goal.name)} — {label}: {plural(s.counts.total, 'initiative')}, "
        f"{len(s.attention)} needing attention, "
        f"{plural(len(s.missing), 'department')} not reported"
    )
    return message(fallback, parts)


def render_goal_objectives(goal: GoalRef) -> Message:
    """`/plan safety objectives`: a goal's objectives in full."""
    kind = escape(goal.group_one)
    parts: list[Part] = [header(goal.name), context(f"{kind} · {command(goal.key)}")]
    if goal.objectives:
        parts.append(
            Lines(
                title=f"*Objectives* ({len(goal.objectives)})",
                lines=[f"• {escaped_excerpt(o, _OBJECTIVE)}" for o in goal.objectives],
                more=more("objectives"),
            )
        )
    else:
        parts.append(section("The plan states no objectives for this goal."))
    return message(f"{escape(goal.name)}: {plural(len(goal.objectives), 'objective')}", parts)


def _initiative_item(line: InitiativeLine, period: str, people: People, timezone: str) -> str:
    return "\n".join(
        [
            f"{initiative_number(line)} {status_text(line.latest, period)}",
            escaped_excerpt(line.text, _TEXT),
            *note_lines(line.latest, people, _NOTE, timezone),
        ]
    )


def _reported(s: DepartmentSummary) -> str:
    if not s.initiatives:
        return "no initiatives, so nothing to report"
    return "✔ reported" if s.reported else f"not yet reported for {month_name(s.period)}"


def render_department_summary(
    s: DepartmentSummary, people: People, *, timezone: str, measures: Sequence[Part] = ()
) -> Message:
    """Each initiative of a department: status, percent, latest note, who and when; then its
    `measures`."""
    label = period_label(s.period)
    key = s.department.key
    reported = _reported(s)
    parts: list[Part] = [
        header(s.department.name),
        context(
            f"{label} · {reported} · Owners: {owner_names(s.department, people)}",
            *([f"Report with {command('update', key)}"] if s.initiatives else []),
        ),
        section(counts_total(s.counts)),
    ]
    if s.initiatives:
        lines = s.initiatives

        def more_initiatives(n: int) -> str:
            first_hidden = lines[len(lines) - n].number
            hint = f"{command('history', key, first_hidden)} shows any one of them"
            return f"…and {n} more initiatives — {hint}"

        parts += [
            DividerBlock(),
            Lines(
                lines=[_initiative_item(line, s.period, people, timezone) for line in lines],
                more=more_initiatives,
                gap="\n\n",
            ),
        ]
    if measures:
        parts += [DividerBlock(), *measures]
    fallback = (
        f"{escape(s.department.name)} — {label}: {plural(s.counts.total, 'initiative')}, {reported}"
    )
    return message(fallback, parts)


def render_missing(
    m: ResponseRate, people: People, failed: Sequence[tuple[str, str, bool]] = ()
) -> Message:
    """The response rate and the departments that have not reported for the period, with
    their owners; for admins, the prompts Slack would not take (`failed`: department name,
    error, blocked)."""
    label = period_label(m.period)
    summary = response_words(m)
    parts: list[Part] = [header(f"Updates for {label}")]
    if m.expected == 0:
        parts.append(section("No department has initiatives yet, so nobody needs to report."))
    elif not m.missing:
        parts.append(section(f"🎉 *Every department has reported for {label}.* ({summary})"))
    else:
        parts.append(
            Lines(
                title=f"*{summary}.* Still to report:",
                lines=[missing_line(d, people) for d in m.missing],
                more=more("departments"),
            )
        )
    if failed:
        parts.append(
            Lines(
                title=f"*Prompts not delivered for {label}:*",
                lines=[
                    f"• {plan_name(name)} — `{escaped_excerpt(error, 80)}`, "
                    + (
                        "waiting for its channel to be fixed (admins were told how)"
                        if blocked
                        else "retried every 15 minutes"
                    )
                    for name, error, blocked in failed
                ],
                more=more("prompts"),
            )
        )
    return message(summary, parts)


def _history_item(update: UpdateView, people: People, timezone: str) -> str:
    head = f"*{period_label(update.period)}* · {update.status.label}"
    if update.percent is not None:
        head += f" · {update.percent}%"
    if update.late:
        head += " · (late)"
    lines = [head]
    if update.note.strip():
        lines.append(f"> {escaped_excerpt(update.note, _NOTE)}")
    if update.source == Source.PLAN:
        lines.append(f"— {FROM_THE_PLAN}")
    else:
        source = _SOURCES.get(Source(update.source), escape(update.source))
        lines.append(f"— {said_by(update, people, timezone, year=True)} via {source}")
    return "\n".join(lines)


def render_history(h: InitiativeHistory, people: People, *, timezone: str) -> Message:
    """Every update of one initiative, newest first."""
    key = h.department.key
    total = len(h.updates) + h.older
    title = f"{h.department.name} #{h.number}"
    parts: list[Part] = [
        header(title),
        section(escaped_excerpt(h.text, 1000) or "—"),
        context(
            f"{plural(total, 'update')}, newest first · {command(key)} shows the whole department"
        ),
        DividerBlock(),
    ]
    if h.updates:
        parts.append(
            Lines(
                lines=[_history_item(u, people, timezone) for u in h.updates],
                more=lambda n: f"…and {plural(n, 'older update')} not shown",
                gap="\n\n",
                unread=h.older,
            )
        )
    else:
        parts.append(section(f"No updates yet. {command('update', key)} adds one."))
    return message(f"{escape(title)}: {plural(total, 'update')}", parts)


def _or_list(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def render_not_found(text: str, suggestions: Sequence[Target]) -> Message:
    """A short error echoing what was typed, naming the closest goals or departments."""
    typed = escaped_excerpt(text, _ECHO)
    said = f"I couldn't find “{typed}” in the plan." if typed else "Which goal or department?"
    if suggestions:
        options = [f"{command(t.key)} ({plan_name(t.name)})" for t in suggestions]
        answer = f"{said} Did you mean {_or_list(options)}?"
    else:
        answer = f"{said} {command('goals')} lists the goals."
    return message(
        answer,
        [section(answer), context(f"{command('help')} shows everything I can answer.")],
    )


def render_error(text: str) -> Message:
    """A short plain error; `text` is escaped."""
    shown = f"⚠️ {escaped_excerpt(text, limits.SECTION_PACK - 10)}"
    return message(shown, [section(shown)])


def render_owners_set(
    department_name: str,
    owners: Sequence[str],
    people: People,
    *,
    backups: Sequence[str] | None = None,
    escalation: Sequence[str] | None = None,
) -> Message:
    """The confirmation an admin sees after `/plan owner`: its owners, backup owners and
    escalation contacts, whichever were given."""
    name = f"*{escape(excerpt(department_name, NAME))}*"
    said = []
    if owners:
        said.append(f"is now owned by {', '.join(people(user) for user in owners)}")
    if backups is not None:
        said.append(
            f"has {', '.join(people(user) for user in backups)} as backup "
            f"owner{'' if len(backups) == 1 else 's'}: they may answer for it and are "
            "reminded from the second reminder on"
        )
    if escalation is not None:
        said.append(
            f"tells {', '.join(people(user) for user in escalation)} by direct message when "
            "a month closes without its update"
        )
    shown = f"✅ {name} {'; it '.join(said)}."
    return message(shown, [section(shown)])


def with_share_button(message: Message, command_text: str) -> Message:
    """The message with a "Share in channel" button carrying the command that produced it."""
    button = ActionsBlock(
        elements=[
            ButtonElement(
                text="Share in channel",
                action_id=ActionId.SHARE,
                value=excerpt(command_text, limits.BUTTON_VALUE) or "help",
            )
        ]
    ).to_dict()
    kept = message.blocks[: limits.MESSAGE_BLOCKS - 1]
    return Message(text=message.text, blocks=[*kept, button])


def with_guess(message: Message, typed: str, name: str) -> Message:
    """The answer, saying first that it is about the closest name to what was typed: "Showing
    *Fire*, the closest match to “fier”." The line joins the answer's first context block, so
    the answer keeps its size."""
    note = MarkdownTextObject(
        text=f"Showing *{plan_name(name)}*, the closest match to “{escaped_excerpt(typed, _ECHO)}”."
    ).to_dict()
    blocks = list(message.blocks)
    for i, block in enumerate(blocks):
        if block.get("type") == "context" and len(block["elements"]) < limits.CONTEXT_ELEMENTS:
            blocks[i] = {**block, "elements": [note, *block["elements"]]}
            return Message(text=message.text, blocks=blocks)
    at = 1 if blocks and blocks[0].get("type") == "header" else 0
    added = {"type": "context", "elements": [note]}
    return Message(text=message.text, blocks=[*blocks[:at], added, *blocks[at:]])


def _is_share_button(block: dict[str, Any]) -> bool:
    return block.get("type") == "actions" and any(
        element.get("action_id") == ActionId.SHARE for element in block.get("elements", [])
    )


def shared_by(message: Message, who: str) -> Message:
    """The answer as posted for everyone: without its share button, closed by who shared it.
    `who` comes from `people` (a name, so that nobody is pinged)."""
    kept = [block for block in message.blocks if not _is_share_button(block)]
    note = context(f"Shared by {who}").to_dict()
    return Message(text=message.text, blocks=[*kept[: limits.MESSAGE_BLOCKS - 1], note])


def _home_department_parts(s: DepartmentSummary, people: People) -> list[Part]:
    key = s.department.key
    reported = _reported(s)
    lines = [
        f"{initiative_number(line)} {status_text(line.latest, s.period)} — "
        f"{escaped_excerpt(line.text, _HOME_TEXT)}"
        for line in s.initiatives
    ]
    return [
        header(s.department.name),
        context(f"{period_label(s.period)} · {counts_compact(s.counts)} · {reported}"),
        Lines(
            lines=lines or ["No initiatives yet."],
            more=more("initiatives", f"see {command(key)} for the full list"),
        ),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Update",
                    action_id=ActionId.HOME_UPDATE,
                    value=key,
                    style="primary",
                )
            ]
        ),
    ]


_NOT_AN_OWNER = (
    "You are not the owner of any department yet, so there is nothing here for you to update.\n"
    "A plan administrator assigns owners with {owner} — ask yours to add you, "
    "and your department's initiatives will appear here with an *Update* button."
)


def render_home(
    departments: Sequence[DepartmentSummary], overview: GoalsOverview | None, people: People
) -> list[dict[str, Any]]:
    """The App Home tab: the viewer's departments with an Update button each, then (for admins
    and leadership) the goals overview; for someone who owns nothing, how to get assigned."""
    parts: list[Part] = []
    overview_parts = _overview_parts(overview) if overview is not None else []
    if departments:
        # Each department needs a header, a context, a section and its button.
        room = limits.VIEW_BLOCKS - len(overview_parts) - (1 if overview_parts else 0) - 1
        shown = departments[: max(room // 4, 1)]
        for summary in shown:
            parts += _home_department_parts(summary, people)
        hidden = len(departments) - len(shown)
        if hidden:
            parts.append(
                context(
                    f"…and {plural(hidden, 'more department')} — "
                    f"type {command('<department>')} for any of them"
                )
            )
    else:
        parts += [
            header("Welcome to Plan Bot"),
            section(_NOT_AN_OWNER.format(owner=command("owner", "<department>", "@you"))),
            context(
                f"Meanwhile {command('help')} shows what you can ask, "
                f"such as {command('goals')} or {command('missing')}."
            ),
        ]
    if overview_parts:
        parts += [DividerBlock(), *overview_parts]
    return lay_out(parts, limits.VIEW_BLOCKS, UNLIMITED)
