"""Reading what was typed after `/plan`: a pure function, safe on any text.

It returns what was asked (a `PlanCommand` naming one `Verb`) or why it cannot be read (a
`CommandError` with the message to show); which verbs exist and what each does is the table in
`handlers/commands/plan.py`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

MAX_COMMAND_TEXT = 500  # longer text is refused: no goal, department or sub-command is that long


class Verb(StrEnum):
    """A `/plan` sub-command. LOOKUP is a goal or department typed on its own (`/plan fire`)."""

    HELP = "help"
    GOALS = "goals"
    LOOKUP = "lookup"
    OBJECTIVES = "objectives"
    INITIATIVE = "initiative"
    HISTORY = "history"
    OFF_TRACK = "off_track"
    AT_RISK = "at_risk"
    STALE = "stale"
    MISSING = "missing"
    OWNERS = "owners"
    CHANGES = "changes"
    UPDATE = "update"
    DIGEST = "digest"
    OWNER = "owner"
    EXPORT = "export"
    MEASURES = "measures"
    MEASURE = "measure"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    AWAY = "away"
    BACK = "back"
    PUBLISH = "publish"


_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")
# Sub-commands that are whole phrases, as people type them.
_PHRASES = {
    "help": Verb.HELP,
    "?": Verb.HELP,
    "goals": Verb.GOALS,
    "missing": Verb.MISSING,
    "digest": Verb.DIGEST,
    "export": Verb.EXPORT,
    "stale": Verb.STALE,
    "owners": Verb.OWNERS,
    "measures": Verb.MEASURES,
    "measure": Verb.MEASURES,
    "back": Verb.BACK,
    "i'm back": Verb.BACK,
    "publish": Verb.PUBLISH,
    "im back": Verb.BACK,
    "off track": Verb.OFF_TRACK,
    "off-track": Verb.OFF_TRACK,
    "offtrack": Verb.OFF_TRACK,
    "at risk": Verb.AT_RISK,
    "at-risk": Verb.AT_RISK,
    "atrisk": Verb.AT_RISK,
}
_NUMBER = re.compile(r"#?([0-9]{1,5})")

TOO_LONG = f"That is longer than {MAX_COMMAND_TEXT} characters. Try `/plan help`."
BAD_HISTORY = "Name a department and an initiative number, e.g. `/plan history fire 3`."
BAD_OWNER = (
    "Name a department and mention its owner(s), e.g. `/plan owner fire @chief`; backup owners "
    "and escalation contacts follow their word: `/plan owner fire @chief backup @deputy "
    "escalation @coo`."
)
# `/plan owner fire @chief backup @deputy escalation @coo`: the words that start a role's list.
_ROLE_WORDS = {
    "backup": "backup",
    "backups": "backup",
    "escalation": "escalation",
    "escalations": "escalation",
    "escalate": "escalation",
}


@dataclass(frozen=True)
class PlanCommand:
    verb: Verb
    words: str = ""  # the goal or department named, as typed
    number: int | None = None
    user_ids: tuple[str, ...] = ()
    backup_ids: tuple[str, ...] | None = None  # `/plan owner … backup @x`; None: not named
    escalation_ids: tuple[str, ...] | None = None  # `/plan owner … escalation @x`


@dataclass(frozen=True)
class CommandError:
    """Text that cannot be a command, and what to tell the person (mrkdwn, no user text)."""

    problem: str


def parse_plan_command(text: str) -> PlanCommand | CommandError:
    text = " ".join(text.split())
    if len(text) > MAX_COMMAND_TEXT:
        return CommandError(TOO_LONG)
    if not text:
        return PlanCommand(Verb.HELP)
    phrase = _PHRASES.get(text.casefold())
    if phrase is not None:
        return PlanCommand(phrase)
    first, _, rest = text.partition(" ")
    verb = first.casefold()
    if verb == "changes":
        return PlanCommand(Verb.CHANGES, rest)
    if verb == "update":
        return PlanCommand(Verb.UPDATE, rest)
    if verb in ("measure", "measures"):
        return PlanCommand(Verb.MEASURE, rest)
    if verb in ("follow", "following"):
        return PlanCommand(Verb.FOLLOW, rest)
    if verb == "unfollow":
        return PlanCommand(Verb.UNFOLLOW, rest)
    if verb in ("away", "ooo", "vacation"):
        return PlanCommand(Verb.AWAY, rest)
    if verb == "back":
        return PlanCommand(Verb.BACK, rest)
    if verb == "publish":
        return PlanCommand(Verb.PUBLISH, rest)
    if verb == "history":
        words, _, last = rest.rpartition(" ")
        number = last.lstrip("#")
        if not words or not number.isdigit() or not 0 < int(number) < 100_000:
            return CommandError(BAD_HISTORY)
        return PlanCommand(Verb.HISTORY, words, int(number))
    if verb in ("owner", "owners"):
        parts = rest.split(" ")
        # From the end: each role's people after its word ("backup", "escalation"), then the
        # owners, then the department's name.
        roles: dict[str, tuple[str, ...]] = {}
        users: list[str] = []
        while parts:
            role = _ROLE_WORDS.get(parts[-1].casefold().rstrip(":"))
            if match := _USER.match(parts[-1]):
                users.append(match.group(1) or match.group(2))
            elif role is not None and role not in roles:
                if not users:  # a role's word with nobody after it
                    return CommandError(BAD_OWNER)
                roles[role], users = tuple(reversed(users)), []
            else:
                break
            parts.pop()
        if not parts or not (users or roles) or not " ".join(parts).strip():
            return CommandError(BAD_OWNER)
        return PlanCommand(
            Verb.OWNER,
            " ".join(parts),
            user_ids=tuple(reversed(users)),
            backup_ids=roles.get("backup"),
            escalation_ids=roles.get("escalation"),
        )
    words, _, last = text.rpartition(" ")
    if words and last.casefold() in ("objectives", "objective"):
        return PlanCommand(Verb.OBJECTIVES, words)
    numbered = _NUMBER.fullmatch(last)
    if words and numbered is not None and int(numbered.group(1)) > 0:
        return PlanCommand(Verb.INITIATIVE, words, int(numbered.group(1)))
    return PlanCommand(Verb.LOOKUP, text)


# --- `/plan away until DATE [@delegate]` ------------------------------------------------------

MOST_DAYS_AWAY = 366
BAD_AWAY = (
    "Say until when, and who answers for you if anyone: `/plan away until 2026-12-15 @deputy` "
    "(or `until Dec 15`, `until 12/15`). `/plan back` ends it."
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_US = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?")  # month/day[/year], as the city writes
_MONTH_DAY = re.compile(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?")
_DAY_MONTH = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?(?:,?\s+(\d{4}))?")
_UNTIL = ("until", "till", "til", "through", "thru", "to")


@dataclass(frozen=True)
class AwayRequest:
    last_day: date  # the last day away; back the day after
    delegate: str | None
    person: str | None = None  # `/plan away @chief until …`: an admin, for someone else


def _date(year: int | None, month: int, day: int, today: date) -> date | None:
    """The date, or (no year given) its next occurrence from today."""
    try:
        if year is not None:
            return date(year + 2000 if year < 100 else year, month, day)
        found = date(today.year, month, day)
        return found if found >= today else date(today.year + 1, month, day)
    except ValueError:
        return None


def _read_date(text: str, today: date) -> date | None:
    text = text.casefold().strip().rstrip(".")
    if text in ("today",):
        return today
    if text in ("tomorrow",):
        return today + timedelta(days=1)
    if m := _ISO.fullmatch(text):
        return _date(int(m.group(1)), int(m.group(2)), int(m.group(3)), today)
    if m := _US.fullmatch(text):
        year = int(m.group(3)) if m.group(3) else None
        return _date(year, int(m.group(1)), int(m.group(2)), today)
    if (m := _MONTH_DAY.fullmatch(text)) and m.group(1) in _MONTHS:
        year = int(m.group(3)) if m.group(3) else None
        return _date(year, _MONTHS[m.group(1)], int(m.group(2)), today)
    if (m := _DAY_MONTH.fullmatch(text)) and m.group(2) in _MONTHS:
        year = int(m.group(3)) if m.group(3) else None
        return _date(year, _MONTHS[m.group(2)], int(m.group(1)), today)
    return None


def read_away(text: str, today: date) -> AwayRequest | CommandError:
    """`until 2026-12-15 @deputy` (the date in ISO, US `12/15` or words, the delegate
    optional) as of `today` on the plan's calendar; or why not."""
    words = text.split()
    person = delegate = None
    if len(words) > 1 and (match := _USER.match(words[0])):
        person = match.group(1) or match.group(2)
        words.pop(0)
    if words and (match := _USER.match(words[-1])):
        delegate = match.group(1) or match.group(2)
        words.pop()
    if words and words[0].casefold() in _UNTIL:
        words.pop(0)
    if not words:
        return CommandError(BAD_AWAY)
    last = _read_date(" ".join(words), today)
    if last is None:
        return CommandError(BAD_AWAY)
    if last < today:
        return CommandError(
            f"{last:%B} {last.day}, {last.year} has passed: name your last day away, today or "
            "later."
        )
    if last > today + timedelta(days=MOST_DAYS_AWAY):
        return CommandError("That is more than a year away: name a date within the next year.")
    return AwayRequest(last, delegate, person)


def read_person(text: str) -> str | CommandError | None:
    """`/plan back @chief`: the person named (None: the caller), or why not."""
    if not text.strip():
        return None
    match = _USER.match(text.strip())
    if match is None:
        return CommandError("Type `/plan back`, or (admins) `/plan back @someone`.")
    return match.group(1) or match.group(2)
