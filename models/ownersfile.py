"""Reading an owners spreadsheet (`planbot owners load FILE.csv`): one row per department, its
owners by Slack user ID or e-mail, and optionally its channel by ID or `#name`. Only the file's
shape is checked here; the plan and Slack are asked later, and nothing is written unless every
row is right."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from models.clean import clean_text

COLUMNS = ("department", "owners")
OPTIONAL = ("channel", "backups", "escalation")
MAX_CELL = 2000

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
# A mention pasted from Slack: <@U0123> or <@U0123|chief>; a channel link: <#C0123|fire>.
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$")
_CHANNEL_LINK = re.compile(r"^<#([CG][A-Z0-9]{2,})(?:\|[^>]*)?>$")
_SEPARATORS = re.compile(r"[;,\s]+")
_CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")


class OwnersFileError(ValueError):
    """An owners file we refuse: every fault found, each with its row and column."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        if len(problems) == 1:
            message = f"{source} {problems[0]}; nothing was loaded"
        else:
            listed = "\n".join(f"  {source} {p}" for p in problems)
            message = f"{source} has {len(problems)} problems; nothing was loaded:\n{listed}"
        super().__init__(message)


@dataclass(frozen=True)
class Owner:
    """As the file gives it: a user id, or an e-mail to look up."""

    text: str
    user_id: str | None = None
    email: str | None = None
    column: str = "owners"  # where the file gives it: "owners" or "backups"


@dataclass(frozen=True)
class ChannelCell:
    """As the file gives it: an id, a `#name` to look up, or empty (the updates channel)."""

    text: str
    channel_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class OwnersRow:
    row: int  # the spreadsheet's row number: the header is row 1
    department: str
    owners: tuple[Owner, ...]
    channel: ChannelCell | None  # None: the file has no channel column; keep the department's
    backups: tuple[Owner, ...] | None = None  # None: no backups column; keep the department's
    escalation: tuple[Owner, ...] | None = None  # None: no escalation column; keep them

    @property
    def people(self) -> tuple[Owner, ...]:
        """Everyone the row names: owners, backups, escalation contacts."""
        return (*self.owners, *(self.backups or ()), *(self.escalation or ()))


@dataclass
class OwnersFile:
    source: str
    rows: list[OwnersRow] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (row, what is wrong)

    def fail(self, row: int, column: str, problem: str) -> None:
        self.problems.append((row, f"row {row}, column {column!r}: {problem}"))

    def fail_row(self, row: int, problem: str, rows: str | None = None) -> None:
        """A problem of a whole row (or of several: `rows` says which, as words)."""
        self.problems.append((row, f"{rows or f'row {row}'}: {problem}"))

    def check(self) -> None:
        """Raise OwnersFileError listing every problem found so far, in row order."""
        if self.problems:
            ordered = sorted(self.problems, key=lambda problem: problem[0])
            raise OwnersFileError(self.source, [text for _, text in ordered])


def read_owners_file(path: Path) -> OwnersFile:
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise OwnersFileError(str(path), ["does not exist"]) from None
    except UnicodeDecodeError:
        raise OwnersFileError(str(path), ["is not UTF-8 text (save it as CSV UTF-8)"]) from None
    if path.suffix.lower() != ".csv":
        raise OwnersFileError(str(path), ["is not a .csv file"])
    return parse_owners_csv(raw, path.name)


def parse_owners_csv(raw: str, source: str = "owners.csv") -> OwnersFile:
    """Every row's shape checked; all problems collected (see `OwnersFile.check`)."""
    found = OwnersFile(source)
    reader = csv.DictReader(io.StringIO(raw))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS + OPTIONAL]
    if missing or unknown:
        said = [f"missing column(s): {', '.join(missing)}"] if missing else []
        if unknown:
            said.append(f"unknown column(s): {', '.join(unknown)}")
        found.fail_row(
            1,
            f"{'; '.join(said)} (the columns are department, owners, and optionally channel, "
            "backups and escalation)",
        )
        return found
    reader.fieldnames = header
    has_channel = "channel" in header
    has_backups = "backups" in header
    has_escalation = "escalation" in header
    for number, row in enumerate(reader, start=2):
        if None in row:
            found.fail_row(number, "more cells than columns")
            continue
        cells = {c: clean_text(row.get(c) or "").strip() for c in header}
        if not any(cells.values()):
            continue
        too_long = [c for c, v in cells.items() if len(v) > MAX_CELL]
        for column in too_long:
            found.fail(number, column, f"longer than {MAX_CELL} characters")
        if too_long:
            continue
        if not cells["department"]:
            found.fail(number, "department", "is empty: give a department key, name or alias")
        owners = _owners(found, number, cells["owners"])
        channel = _channel(found, number, cells["channel"]) if has_channel else None
        # An empty backups cell means none: the department's backups are removed.
        backups = (
            _owners(found, number, cells["backups"], column="backups", required=False)
            if has_backups
            else None
        )
        escalation = (
            _owners(found, number, cells["escalation"], column="escalation", required=False)
            if has_escalation
            else None
        )
        found.rows.append(
            OwnersRow(number, cells["department"], owners, channel, backups, escalation)
        )
    if not found.rows and not found.problems:
        found.fail_row(2, "no departments in the file")
    return found


def _owners(
    found: OwnersFile, row: int, cell: str, *, column: str = "owners", required: bool = True
) -> tuple[Owner, ...]:
    tokens = [t for t in _SEPARATORS.split(cell) if t]
    if not tokens:
        if required:
            found.fail(row, column, "is empty: give user IDs (U0123ABCD) or e-mails")
        return ()
    owners: list[Owner] = []
    for token in tokens:
        mention = _MENTION.match(token)
        if mention or USER_ID.match(token):
            user_id = mention.group(1) if mention else token
            owners.append(Owner(token, user_id=user_id, column=column))
        elif EMAIL.match(token):
            owners.append(Owner(token, email=token.lower(), column=column))
        else:
            found.fail(
                row,
                column,
                f"{token!r} is neither a Slack user ID (U0123ABCD) nor an e-mail address",
            )
    return tuple(owners)


def _channel(found: OwnersFile, row: int, cell: str) -> ChannelCell:
    if not cell:
        return ChannelCell("")
    link = _CHANNEL_LINK.match(cell)
    if link or CHANNEL_ID.match(cell):
        return ChannelCell(cell, channel_id=link.group(1) if link else cell)
    if cell.startswith("#") and _CHANNEL_NAME.match(cell[1:].lower()):
        return ChannelCell(cell, name=cell[1:].lower())
    found.fail(row, "channel", f"{cell!r} is neither a channel ID (C0123ABCD) nor a #name")
    return ChannelCell(cell)
