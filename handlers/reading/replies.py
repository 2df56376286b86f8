"""Reads a lead's plain-words answer to the monthly prompt, the way leads really write it:
`all on track except 3, which is delayed by the union contract`.

`read_thread_reply` is pure and total: no I/O, it never raises, and its work grows linearly with
the text (tokens from one regular expression without backtracking, then bounded look-ups). It
is given the department's initiatives (number, text, last status) and returns, for each
initiative, one of three things:

- a `Reading` it is sure of (recorded at once),
- a `Question` when it is not (nothing recorded; the bot offers one button per reading), or
- nothing at all (the reply did not mention it).

The worst thing it could do is record a status nobody gave, so where the words allow two
readings it asks: two statuses for one initiative, a denial it cannot turn into a status ("5
isn't on track"), a misspelling it is not sure of, a name that fits two initiatives, a percent
with no status. Numbers are initiatives only where an initiative number stands (the start of a
clause, after "item", "#", "except" …): "hired 3 inspectors", "$2.4M", "Oct 15", "7 of 12",
"10/28 at 4pm" stay in the note.

Every string it returns (`note`, `said`) is the person's own text, with Slack's `&amp;`, `&lt;`
and `&gt;` turned back into characters: escape it wherever it is echoed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property, lru_cache
from itertools import pairwise

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from handlers.reading import vocabulary as v
from handlers.reading.vocabulary import Sureness, Term
from models.clean import clean_text
from models.status import Status

# How much of a reply is read; the rest is reported once as "too long to read".
MAX_LINES = 200
MAX_CHARS = 12_000  # of the whole reply: 150 lines of 80 characters, far past a real update
MAX_LINE_CHARS = 4000
MAX_NOTE_CHARS = 2000


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Known:
    """An initiative of the department, as the prompt showed it."""

    number: int
    text: str = ""
    status: Status | None = None  # the last status, if any
    percent: int | None = None


class How(StrEnum):
    """How a reading was arrived at: the line named it, an "all …" covered it, or "no change"."""

    NAMED = "named"
    DEFAULT = "default"
    NO_CHANGE = "no change"


@dataclass(frozen=True)
class Reading:
    number: int
    status: Status
    percent: int | None  # 0..100
    note: str  # the person's words about this initiative; escape when echoing
    said: str  # the words it was read from
    how: How = How.NAMED


@dataclass(frozen=True)
class Choice:
    """One way to read an unclear part of a reply, offered as a button."""

    number: int
    status: Status
    percent: int | None
    note: str


@dataclass(frozen=True)
class Question:
    said: str  # the words that were unclear
    why: str  # in words a lead understands; the person's words in it are not escaped
    choices: tuple[Choice, ...]

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(c.number for c in self.choices))


@dataclass(frozen=True)
class Unreadable:
    said: str
    reason: str
    numbers: tuple[int, ...] = ()


@dataclass(frozen=True)
class ReplyReading:
    readings: tuple[Reading, ...]  # in the order typed, then those an "all …" covered
    questions: tuple[Question, ...]
    unreadable: tuple[Unreadable, ...]
    kept_complete: tuple[int, ...] = ()  # Complete initiatives an "all …" left as they were
    without_status: tuple[int, ...] = ()  # "no change" could not repeat these: no status yet

    @property
    def is_update(self) -> bool:
        """Whether anything in the reply read as an update (recorded, asked or refused)."""
        return bool(self.readings or self.questions or self.unreadable)

    def reading(self, number: int) -> Reading | None:
        return next((r for r in self.readings if r.number == number), None)


# --- the vocabulary as look-up tables ----------------------------------------------------------

_Key = tuple[str, ...]


def _keys(phrase: str) -> list[_Key]:
    """A phrase as word tuples: as written, run together, and without apostrophes."""
    words = tuple(phrase.split())
    keys = [words, ("".join(words),)]
    if "'" in phrase:
        bare = tuple(w.replace("'", "") for w in words)
        keys += [bare, ("".join(bare),)]
    return keys


class _Table(dict[_Key, object]):
    """Phrases by their words, and the words they start with: most tokens start none, and are
    turned away by one set look-up."""

    firsts: frozenset[str] = frozenset()
    prefixes: frozenset[_Key] = frozenset()  # every key's every beginning: when to stop looking


def _table(entries: Iterable[tuple[str, object]]) -> _Table:
    table = _Table()
    for phrase, value in entries:
        for key in _keys(phrase):
            table.setdefault(key, value)
    table.firsts = frozenset(key[0] for key in table)
    table.prefixes = frozenset(key[:n] for key in table for n in range(1, len(key) + 1))
    return table


_NEUTRAL = object()
_NO_CHANGE = object()
_STATUS_TERMS = v.status_phrases()
_MENTIONS = _table(
    [
        *((p, _NEUTRAL) for p in v.NEUTRAL),
        *((p, _NO_CHANGE) for p in v.NO_CHANGE),
        *_STATUS_TERMS.items(),
    ]
)
_NEGATIONS = _table((p, True) for p in v.NEGATIONS)
_SAYING_FIRSTS = _MENTIONS.firsts | _NEGATIONS.firsts  # words that may start a mention
_PAST = _table((p, True) for p in v.PAST)
_NOW = _table((p, True) for p in v.NOW)
_FUTURE = _table((p, True) for p in v.FUTURE)
_FUTURE_AFTER = _table((p, True) for p in v.FUTURE_AFTER)
_EXCEPT_BELOW = _table((p, True) for p in v.EXCEPT_BELOW)
_HEDGES = _table((p, True) for p in v.HEDGES)
# Before a number, in place of "%": "pct complete 70", "percent done: 40".
_PERCENT_LEAD = _table(
    (p, True)
    for p in (
        "pct complete",
        "percent complete",
        "pct done",
        "percent done",
        "% complete",
        "completion",
        "percent",
        "pct",
    )
)
_FILLERS = _table(
    (p, True)
    for p in (*v.FILLERS, *v.CHANGES, "which", "who", "that", "it", "this", "we", "they", "i")
)
_DEFAULTS = _table((p, True) for p in v.DEFAULTS)
_DEFAULT_NOUNS = _table((p, True) for p in v.DEFAULT_NOUNS)
_EXCEPT = _table((p, True) for p in v.EXCEPT)
_NUMBER_WORDS = _table((p, True) for p in v.NUMBER_WORDS)
_RANGE = frozenset(v.RANGE_WORDS)
_LIST = _table((p, True) for p in v.LIST_WORDS)
_PERCENT_WORDS = _table((p, True) for p in v.PERCENT_WORDS)
_PERCENT_DONE = _table((p, True) for p in v.PERCENT_DONE)
_PERCENT_BEFORE = frozenset(v.PERCENT_OTHER_BEFORE)
_PERCENT_AFTER = _table((p, True) for p in v.PERCENT_OTHER_AFTER)
_DETERMINERS = frozenset(w for p in v.DETERMINERS for w in p.split())
_AFTER_VERB = frozenset(v.AFTER_VERB)
_MAX_WORDS = 6
_MOST_IN_A_LIST = 200  # numbers in one list ("3, 4, 8, …"); a range counts once

_EMOJI_NAMES = {**{k: (s,) for k, s in v.EMOJI.items()}, **v.EMOJI_ASK}
_SURE_EMOJI = frozenset(v.EMOJI)

# Typos: every status phrase run together, by length, for the near-miss search.
_TYPO_KEYS: dict[str, Term] = {
    "".join(k): term
    for k, term in _MENTIONS.items()
    if isinstance(term, Term) and term.sureness is not Sureness.ASK and len("".join(k)) >= 3
}

_TYPO_BY_LENGTH: dict[int, list[str]] = {}
for _key in _TYPO_KEYS:
    _TYPO_BY_LENGTH.setdefault(len(_key), []).append(_key)


@lru_cache(maxsize=64)
def _typo_keys(length: int, spread: int) -> tuple[str, ...]:
    """The status phrases a word of `length` letters can be `spread` edits away from."""
    return tuple(
        key
        for n in range(length - spread, length + spread + 1)
        for key in _TYPO_BY_LENGTH.get(n, [])
    )


@lru_cache(maxsize=4096)
def _closest_statuses(typed: str) -> tuple[tuple[int, Status], ...]:
    """The statuses whose phrases are one edit from `typed` (two for seven letters or more),
    with the distance; remembered, since replies repeat their words."""
    cutoff = 2 if len(typed) >= 7 else 1
    return tuple(
        (distance, _TYPO_KEYS[key].status)
        for key, distance, _ in process.extract(
            typed,
            _typo_keys(len(typed), cutoff),
            scorer=DamerauLevenshtein.distance,
            score_cutoff=cutoff,
            limit=8,
        )
        if (len(typed) >= 5 or len(key) <= 5) and _same_denial(typed, key)
    )


_DENIAL_STEMS = ("hasnt", "havent", "isnt", "arent", "wasnt", "not", "no")


def _same_denial(typed: str, key: str) -> bool:
    """A typo never adds or drops a denial: "has started" is not "hasn't started"."""
    stem = next((s for s in _DENIAL_STEMS if key.startswith(s)), None)
    typed_stem = next((s for s in _DENIAL_STEMS if typed.startswith(s)), None)
    return stem == typed_stem


# Before a number that is not an initiative's: "Station 4", "phase 2", "week 3".
_QUANTITY_NOUNS = frozenset(
    [
        "station",
        "engine",
        "ladder",
        "district",
        "ward",
        "phase",
        "stage",
        "step",
        "section",
        "chapter",
        "page",
        "grade",
        "level",
        "floor",
        "route",
        "lot",
        "unit",
        "building",
        "room",
        "suite",
        "zone",
        "region",
        "area",
        "park",
        "school",
        "precinct",
        "week",
        "day",
        "month",
        "year",
        "quarter",
        "q",
        "round",
        "version",
        "v",
        "part",
        "tier",
        "batch",
        "cohort",
        "class",
        "group",
        "team",
        "site",
        "location",
        "block",
        "street",
        "avenue",
        "ave",
        "st",
        "rd",
        "road",
        "highway",
        "exit",
        "gate",
        "pier",
        "dock",
        "lane",
    ]
)
# How bad a status is, for "on track, but a part of it is behind".
_RANK = {Status.ON_TRACK: 1, Status.AT_RISK: 2, Status.OFF_TRACK: 3}
_MONTHS = frozenset(v.MONTHS)
# A number followed by one of these is a quantity, not an initiative ("4 pm", "2 days").
_UNITS = frozenset(
    [
        "am",
        "pm",
        "k",
        "m",
        "bn",
        "million",
        "thousand",
        "hundred",
        "hours",
        "hrs",
        "hour",
        "minutes",
        "mins",
        "days",
        "day",
        "weeks",
        "week",
        "months",
        "month",
        "years",
        "year",
        "st",
        "nd",
        "rd",
        "th",
        "x",
        "people",
        "staff",
        "members",
        "percent",
        "pct",
        "dollars",
        "more",
        "new",
    ]
)
_SEPARATORS = frozenset(":-–—,;.()|·=>/→!•[]{}")
_LABEL_ENDS = frozenset(":-–—|·=")
_HARD = frozenset(".;!?")
_SOFT_WORDS = frozenset(("and", "but", "or", "plus", "also", "then", "while", "so"))
_MARKERS = frozenset("-*•◦▪–—>·+")  # bullets and quote marks at the start of a line
_IGNORED = frozenset("*_`~\u200b\u200d\ufe0f\u20e3") | frozenset(map(chr, range(0x1F3FB, 0x1F400)))


# --- tokens ----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<e>:[a-z0-9_+'-]{0,39}[a-z][a-z0-9_+'-]{0,39}:)"  # an emoji code, with a letter
    r"|(?P<a>-->|->|=>)"  # an arrow
    r"|(?P<w>[^\W\d_]+(?:['’][^\W\d_]+)*)"  # a word, with its apostrophes
    r"|(?P<n>\d+(?:[.,]\d+)*)"  # a number, with its separators
    r"|(?P<p>\S)",
    re.IGNORECASE,
)
_CONTRACTIONS = {"s": "is", "re": "are"}
_CONTRACTED = frozenset(
    [
        "everything",
        "everyone",
        "it",
        "that",
        "all",
        "rest",
        "others",
        "what",
        "there",
        "we",
        "they",
        "this",
        "which",
    ]
)
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_DECIMAL = re.compile(r"\d+\.\d+")


@dataclass(slots=True)
class _Tok:
    kind: str  # "w" word, "n" number, "p" punctuation, "e" emoji
    text: str
    start: int
    end: int
    space: bool  # whitespace (or the start of the line) just before it
    whole: bool = True  # a number without decimals or thousands
    statuses: tuple[Status, ...] = ()  # an emoji's


def _tokens(view: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    append = tokens.append
    spaced = True
    last = 0  # only whitespace lies between one match and the next
    for found in _TOKEN.finditer(view):
        kind = found.lastgroup
        text = found.group()
        start, end = found.span()
        space = spaced or start > last
        spaced = False
        last = end
        if kind == "w":
            word = text.casefold()
            if "'" in word or "’" in word:
                word = word.replace("’", "'")
                stem, _, rest = word.partition("'")
                if rest in _CONTRACTIONS and stem in _CONTRACTED:
                    # "everything's on track": "everything is on track"
                    cut = start + len(stem)
                    append(_Tok("w", stem, start, cut, space))
                    append(_Tok("w", _CONTRACTIONS[rest], cut, end, False))
                    continue
            append(_Tok("w", word, start, end, space))
        elif kind == "n":
            if text.isdecimal():
                append(_Tok("n", text, start, end, space))
            else:
                tokens += _numbers(text, start, space)
        elif kind == "p" or kind == "a":
            if text in _IGNORED:
                spaced = True
            elif text in _EMOJI_NAMES:
                append(_Tok("e", text, start, end, space, statuses=_EMOJI_NAMES[text]))
            else:
                append(_Tok("p", text, start, end, space))
        else:  # an emoji code
            name = text[1:-1].casefold()
            before = view[start - 1] if start else " "
            after = view[end] if end < len(view) else " "
            if name in _EMOJI_NAMES and not before.isalnum() and not after.isalnum():
                append(_Tok("e", name, start, end, space, statuses=_EMOJI_NAMES[name]))
            else:
                spaced = True  # a custom emoji: decoration
    return tokens


def _numbers(text: str, start: int, space: bool) -> list[_Tok]:
    """ "12" and "62.5" and "2,500" are one number; "1,2,3" is three, with commas between."""
    if text.isdecimal():
        return [_Tok("n", text, start, start + len(text), space)]
    if _THOUSANDS.fullmatch(text) or _DECIMAL.fullmatch(text):
        return [_Tok("n", text, start, start + len(text), space, whole=False)]
    tokens: list[_Tok] = []
    for part in re.finditer(r"\d+|[.,]", text):
        kind = "n" if part.group()[0].isdecimal() else "p"
        tokens.append(
            _Tok(kind, part.group(), start + part.start(), start + part.end(), space and not tokens)
        )
    return tokens


def _masked(line: str) -> tuple[str, list[tuple[int, int]]]:
    """The line with Slack's `<…>` mentions and links and `~struck~` words blanked out (same
    length, so offsets still point into the line), and the struck spans."""
    chars = list(line)
    struck: list[tuple[int, int]] = []
    i = line.find("<")
    while i != -1:
        close, reopen = line.find(">", i + 1), line.find("<", i + 1)
        if close == -1:
            break
        if (reopen == -1 or close < reopen) and close - i <= 2000:
            inside = line[i + 1 : close]
            if inside[:1] in ("@", "#", "!") or "://" in inside or inside.startswith("mailto:"):
                chars[i : close + 1] = " " * (close + 1 - i)
            i = line.find("<", close + 1)
        else:
            i = reopen
    i = line.find("~")
    while i != -1:
        close = line.find("~", i + 1)
        if close == -1:
            break
        opens = (i == 0 or not line[i - 1].isalnum()) and not line[i + 1 : i + 2].isspace()
        closes = not line[close - 1].isspace() and (
            close + 1 == len(line) or not line[close + 1].isalnum()
        )
        if opens and closes and close > i + 1:
            chars[i : close + 1] = " " * (close + 1 - i)
            struck.append((i, close + 1))
            i = line.find("~", close + 1)
        else:
            i = close
    return "".join(chars), struck


# --- one line --------------------------------------------------------------------------------


@dataclass
class _Mention:
    start: int
    end: int
    status: Status | None = None
    sureness: Sureness = Sureness.SURE
    choices: tuple[Status, ...] = ()  # for ASK terms and denials
    negated: bool = False
    noun: bool = False  # "the delay": a word used as a noun, no status
    first: bool = True  # stands where a status stands, not after a subject ("design done")
    weak: bool = False  # a completion verb with an object ("finished the design")
    past: bool = False
    now: bool = False
    doubted: bool = False  # "done?"
    no_change: bool = False  # "no change", "same as last month"
    future: bool = False  # "to be complete", "complete by December": a plan
    aside: bool = False  # in parentheses: "Complete (ongoing upkeep only)"
    hedged: bool = False  # "not sure it's on track", "maybe at risk"


@dataclass
class _Percent:
    start: int
    end: int
    typed: str
    other: bool  # measures something else ("budget down 15%")
    done: bool  # "70% done"
    past: bool = False  # "was 50%", "45% → …"
    now: bool = False  # "now 65%", "… → 50%"


@dataclass
class _Body:
    status: Status | None = None
    choices: tuple[Status, ...] = ()
    why: str = ""
    percent: int | None = None
    bad_percent: str | None = None
    no_change: bool = False
    note: str = ""
    said_status: bool = False  # any status word at all


@dataclass(frozen=True)
class _Typo:
    statuses: tuple[Status, ...]
    sure: bool
    typed: str


@dataclass
class _Statement:
    kind: str  # "ref", "default", "first" (status first), "name"
    start: int  # token index
    body: int  # token index where what is said about it starts
    end: int = 0
    numbers: tuple[int, ...] = ()
    unknown: tuple[int, ...] = ()
    head: _Mention | None = None  # the status of "At risk: 2, 7" or of "all on track"
    candidates: tuple[int, ...] = ()  # a name that fits several initiatives
    name: str = ""
    early_except: tuple[int, int] | None = None  # "everything except 9 is …": where "except" is


@dataclass
class _Group:
    numbers: list[int]
    end: int
    explicit: bool  # "item 3", "#3"
    spelled: bool
    unknown: list[int] = field(default_factory=list)


@dataclass
class _Outcome:
    """What one statement says about one initiative."""

    number: int
    body: _Body
    said: str
    # An exception with no words of its own ("all done except 2 and 4"): what another line
    # says of it wins.
    placeholder: bool = False


@dataclass
class _Default:
    body: _Body
    said: str


class _LineReader:
    def __init__(self, line: str, reader: _Reader) -> None:
        self.line = line
        self.view, self.struck = _masked(line)
        self.t = _tokens(self.view)
        self.n = len(self.t)
        self.r = reader
        self._ends: dict[int, int] | None = None
        self.refused_until = 0
        # Per token, worked out in one pass each: what is said there (a status, "no change",
        # a denial), where the next one is, where sentences end around it, and how many
        # parentheses are open before it (a status inside them is an aside).
        n = self.n
        t = self.t
        mentions: list[_Mention | None] = [None] * n
        for k, tok in enumerate(t):
            if tok.kind == "e" or tok.text in _SAYING_FIRSTS:
                mentions[k] = self._mention_at(k, n)
        self._mentions = mentions
        next_said = self._next_said = [n] * (n + 1)
        next_hard = self.next_hard = [n] * (n + 1)
        for k in range(n - 1, -1, -1):
            next_said[k] = k if mentions[k] is not None else next_said[k + 1]
            next_hard[k] = k if t[k].kind == "p" and t[k].text in _HARD else next_hard[k + 1]
        last_hard = self.last_hard = [-1] * (n + 1)
        depth = self.depth = [0] * (n + 1)
        for k, tok in enumerate(t):
            if tok.kind == "p":
                punct = tok.text
                last_hard[k + 1] = k if punct in _HARD else last_hard[k]
                depth[k + 1] = depth[k] + (punct == "(") - (punct == ")")
            else:
                last_hard[k + 1] = last_hard[k]
                depth[k + 1] = depth[k]
        self._markers: dict[int, tuple[int, str]] | None = None

    # --- small look-ups ---

    def word(self, i: int) -> str | None:
        return self.t[i].text if 0 <= i < self.n and self.t[i].kind == "w" else None

    def punct(self, i: int) -> str | None:
        return self.t[i].text if 0 <= i < self.n and self.t[i].kind == "p" else None

    def phrase(self, i: int, table: _Table) -> tuple[object, int] | None:
        """The longest phrase of `table` at token i, and the index after it."""
        if i >= self.n or self.t[i].text not in table.firsts:
            return None
        best = None
        key: _Key = ()
        j = i
        while j < self.n and self.t[j].kind == "w":
            key += (self.t[j].text,)
            if key not in table.prefixes:
                break
            j += 1
            found = table.get(key)
            if found is not None:
                best = (found, j)
            if (
                j + 1 < self.n
                and self.t[j].kind == "p"
                and self.t[j].text in "-_/"
                and not self.t[j].space
                and self.t[j + 1].kind == "w"
                and not self.t[j + 1].space
            ):
                j += 1  # "on-track", "off_track"
        return best

    def skip(self, i: int, end: int, *tables: _Table) -> int:
        """The first index from i that starts none of the tables' phrases."""
        while i < end:
            for table in tables:
                found = self.phrase(i, table)
                if found is not None and found[1] <= end:
                    i = found[1]
                    break
            else:
                return i
        return i

    def chars(self, start: int, end: int) -> str:
        """The line's text from token `start` up to token `end` (exclusive), trimmed."""
        if start >= end:
            return ""
        return self.line[self.t[start].start : self.t[end - 1].end].strip()

    # --- numbers ---

    def number(self, i: int) -> tuple[int, int, bool] | None:
        """An initiative number at token i: (number, index after, spelled)."""
        if i >= self.n:
            return None
        tok = self.t[i]
        if tok.kind == "w":
            value = v.SPELLED.get(tok.text)
            if value is None:
                return None
            return value, i + 1, True
        if tok.kind != "n" or not tok.whole or len(tok.text) > 4:
            return None
        prev = self.t[i - 1] if i > 0 else None
        if prev is not None and not tok.space and (prev.kind == "w" or prev.text in "$€£¥"):
            return None  # "Q3", "$2"
        if prev is not None and prev.kind == "w" and prev.text in _MONTHS:
            return None  # "Oct 15"
        after = self.t[i + 1] if i + 1 < self.n else None
        if after is not None and after.text in ("-", "–") and not after.space and i + 2 < self.n:
            nxt = self.t[i + 2]
            if (
                nxt.kind == "w"
                and not nxt.space
                and nxt.text not in _RANGE
                and nxt.text not in _MENTIONS.firsts
            ):
                return None  # "3-day delay", "5-year plan"; but "1-on track"
            if (
                nxt.kind == "n"
                and i + 3 < self.n
                and self.t[i + 3].kind == "w"
                and self.t[i + 3].text in _UNITS
            ):
                return None  # "2-3 weeks behind"
        if after is not None:
            if after.kind == "w" and not after.space:
                return None  # "4pm", "15pct", "3rd"
            if after.kind == "w" and after.text in _UNITS:
                return None  # "2 days", "4 pm"
            if after.kind == "w" and after.text in ("of", "out") and self.counted(i + 2):
                return None  # "7 of 12"
            if after.text == "%":
                return None
            if (
                after.text == ":"
                and not after.space
                and self.at_number(i + 2)
                and not self.t[i + 2].space
            ):
                return None  # "4:30"
            if self.phrase(i + 1, _PERCENT_WORDS) is not None:
                return None
        value = int(tok.text)
        if value == 0 or 1900 <= value <= 2100:
            return None
        return value, i + 1, False

    def at_number(self, i: int) -> bool:
        return 0 <= i < self.n and self.t[i].kind == "n"

    def said_between(self, start: int, end: int) -> bool:
        """Whether anything but punctuation and "and" lies between tokens start and end."""
        return any(t.kind != "p" and t.text != "and" for t in self.t[start:end])

    def counts_something(self, i: int) -> bool:
        """Whether the number before token i counts things ("2 – 3 retirements"): a plain
        word follows it that neither continues a list nor says a status."""
        word = self.word(i)
        if word is None or (word,) in _LIST or word in _RANGE or (word,) in _FILLERS:
            return False
        if any(word in table.firsts for table in (_PAST, _NOW, _FUTURE, _NEGATIONS, _HEDGES)):
            return False  # "8 and 9 were completed", "9 will be"
        found = self.mention(i, self.n)
        return found is None and self.phrase(i, _NUMBER_WORDS) is None

    def counted(self, i: int) -> bool:
        """A number, written or spelled, at token i ("of 12", "of the 5", "out of four")."""
        for j in range(i, min(i + 3, self.n)):
            if self.at_number(j) or self.word(j) in v.SPELLED:
                return True
            if self.word(j) not in ("the", "a", "of", "our", "all"):
                return False
        return False

    def group(self, i: int, own_status_ends: bool = False) -> _Group | None:
        """Initiative numbers at i: "3", "#3", "item 3", "*3*", "2-4", "2 to 4", "3, 4 and 8",
        "3/4/8", "1 3 4", "three and four", "items two through four" — or None."""
        j = i
        paren = self.punct(j) == "("
        if paren:
            j += 1
        explicit = False
        found = self.phrase(j, _NUMBER_WORDS)
        if found is not None and (
            self.at_number(found[1])
            or self.punct(found[1]) in ("#", ".")
            or self.word(found[1]) in v.SPELLED
        ):
            j = found[1]
            explicit = True
            if self.punct(j) == "." and not self.t[j].space:
                j += 1
        if self.punct(j) == "#":
            j += 1
            explicit = True
        first = self.number(j)
        if first is None:
            return None
        if self.bold(j):
            explicit = True  # "*3* on track"
        known = self.r.known_numbers
        numbers = [first[0]]
        spelled = first[2]
        j = first[1]
        while j < self.n and len(numbers) < _MOST_IN_A_LIST:
            tok = self.t[j]
            k = j + 1
            if tok.kind == "p" and tok.text == "," and self.word(k) in ("and", "&"):
                k += 1
            k = self.skip(k, self.n, _NUMBER_WORDS) if self.word(k) in ("item", "items") else k
            if self.punct(k) == "#":
                k += 1
            if tok.kind == "n" and not spelled and tok.space:
                k = j  # "1 3 4 6 7": numbers one after another
            nxt = self.number(k)
            if nxt is None or nxt[2] != spelled or self.counts_something(nxt[1]):
                break
            if k == j:
                if nxt[0] not in known or numbers[-1] not in known:
                    break
                numbers.append(nxt[0])
            elif tok.text in ("-", "–", "—") or (tok.kind == "w" and tok.text in _RANGE):
                low, high = numbers[-1], nxt[0]
                if not low < high <= low + 100 or high not in known:
                    break  # "7 – 50/50" is no range
                numbers += range(low + 1, high + 1)
            elif tok.kind == "p" and tok.text == "/":
                if nxt[0] <= numbers[-1]:
                    break  # "6/2" is a date; "3/4/8" goes up
                numbers.append(nxt[0])
            elif (tok.kind == "p" and tok.text in ",&+") or (
                tok.kind == "w" and (tok.text,) in _LIST
            ):
                if tok.text == "," and (
                    self.word(nxt[1]) in ("is", "was", "has", "remains")
                    or (own_status_ends and self.said(nxt[1], self.n) is not None)
                ):
                    break  # "no change for 1-4, 6 started": 6 says its own
                numbers.append(nxt[0])
            else:
                break
            j = nxt[1]
        if paren and self.punct(j) == ")":
            j += 1
        unknown = [n for n in numbers if n not in known]
        return _Group(list(dict.fromkeys(numbers)), j, explicit, spelled, unknown)

    def bold(self, i: int) -> bool:
        """Whether the token at i is wrapped in Slack's bold or italic marks."""
        tok = self.t[i]
        before = self.line[tok.start - 1 : tok.start]
        after = self.line[tok.end : tok.end + 1]
        return before in ("*", "_") and before == after

    # --- statuses ---

    def mention(self, i: int, end: int) -> _Mention | None:
        """A status (or "no change", or a denial of a status) at token i, ending by `end`: a
        copy of the line's own, looked up once (`place` marks the copy it is given)."""
        found = self.said(i, end)
        if found is None:
            return None
        copy = _Mention.__new__(_Mention)
        copy.__dict__.update(found.__dict__)
        return copy

    def said(self, i: int, end: int) -> _Mention | None:
        """`mention` without the copy: for looking, not marking."""
        if i >= min(end, self.n):
            return None
        found = self._mentions[i]
        if found is None or found.end <= end:
            return found
        return self._mention_at(i, end)

    def _mention_at(self, i: int, end: int) -> _Mention | None:
        tok = self.t[i]
        if tok.kind == "e":
            sure = tok.text in _SURE_EMOJI
            return _Mention(
                i,
                i + 1,
                tok.statuses[0],
                Sureness.SURE if sure else Sureness.ASK,
                choices=() if sure else tok.statuses,
            )
        if tok.kind != "w":
            return None
        found = self.phrase(i, _MENTIONS)
        negation = self.phrase(i, _NEGATIONS)
        if negation is not None and (found is None or found[1] <= negation[1]):
            k = self.skip(negation[1], end, _FILLERS)
            denied = self.phrase(k, _MENTIONS) if k < end else None
            if denied is not None and isinstance(denied[0], Term) and denied[1] <= end:
                status = denied[0].status
                return _Mention(
                    i,
                    denied[1],
                    status,
                    denied[0].sureness,
                    choices=v.DENIED[status],
                    negated=True,
                )
        if found is None or found[1] > end:
            return None
        value, stop = found
        if value is _NEUTRAL:
            return _Mention(i, stop, noun=True)
        if value is _NO_CHANGE:
            return _Mention(i, stop, None, no_change=True)
        assert isinstance(value, Term)
        choices: tuple[Status, ...] = ()
        if value.sureness is Sureness.ASK:
            phrase = " ".join(t.text for t in self.t[i:stop])
            choices = v.ASK_CHOICES.get(phrase, (value.status,))
        return _Mention(i, stop, value.status, value.sureness, choices=choices)

    def mentions(self, start: int, end: int) -> tuple[list[_Mention], list[_Percent]]:
        mentions: list[_Mention] = []
        percents: list[_Percent] = []
        ends: set[int] = set()
        j = start
        while j < end:
            tok = self.t[j]
            if tok.kind == "p" and tok.text not in "~":
                j += 1  # neither a status nor a percent starts at punctuation
                continue
            after_status = bool(mentions) and mentions[-1].end == j
            percent = (
                self.percent(j, end, after_status)
                if tok.kind == "n" or tok.text in _PERCENT_LEAD.firsts
                else None
            )
            if percent is not None:
                percents.append(percent)
                ends.add(percent.end)
                j = percent.end
                continue
            found = self.mention(j, end)
            if found is not None:
                self.place(found, start, end, ends)
                mentions.append(found)
                ends.add(found.end)
                j = found.end
                continue
            j += 1
        return mentions, percents

    def place(
        self,
        m: _Mention,
        start: int,
        end: int,
        ends: set[int],
    ) -> None:
        """Where the mention stands: after a subject or a determiner, in the past or the future,
        denied from a few words away, doubted, in parentheses… `ends` are where the mentions
        and percents before it end."""
        k = m.start
        markers = self.markers()
        # An emoji after a date or a count is the line's status ("MOU signed 6/2 ✅").
        prev_is_number = m.start > start and self.t[m.start - 1].kind == "n"
        while k > start:
            prev = self.t[k - 1]
            word = prev.text if prev.kind == "w" else None
            if word is not None and word in _DETERMINERS and k == m.start:
                m.noun = True
                return
            marker = markers.get(k - 1)
            if marker is not None and marker[0] >= start:
                kind = marker[1]
                m.past = m.past or kind == "past"
                m.now = m.now or kind == "now"
                m.future = m.future or kind == "future"
                k = marker[0]
                continue
            if word == "from":
                m.past = True
            if prev.text in v.ARROWS:
                m.now = True
            if word is not None and ((word,) in _FILLERS or word in _SOFT_WORDS or word == "from"):
                k -= 1
                continue
            if prev.text in v.ARROWS:
                k -= 1
                continue
            break
        if not m.negated:
            for back in range(k - 1, max(start, k - 4) - 1, -1):
                tok = self.t[back]
                if (tok.kind == "p" and tok.text in _SEPARATORS) or back + 1 in ends:
                    break  # not past a comma, nor past another status
                if tok.kind == "w" and tok.text in v.DENIAL_WORDS and m.status is not None:
                    m.negated = True  # "I wouldn't call it on track"
                    m.choices = v.DENIED[m.status]
                    break
        m.aside = self.depth[m.start] > self.depth[start]
        sentence_start = max(start, self.last_hard[m.start] + 1)
        sentence_end = self.sentence_end(m.end, end)
        m.hedged = any(
            self.phrase(b, _HEDGES) is not None for b in range(max(sentence_start, k - 4), m.end)
        ) or any(  # "2 is at risk if BOE doesn't vote"
            self.word(b) in ("if", "unless", "assuming", "provided")
            for b in range(m.end, min(sentence_end, m.end + 4))
        )
        if m.now:
            pass  # "it's actually on track", "call it at risk": said of the whole, now
        elif k > start and not (m.start == k and self.t[m.start].kind == "e" and prev_is_number):
            prev = self.t[k - 1]
            if not (
                prev.kind == "e"
                or (prev.kind == "p" and prev.text in _SEPARATORS)
                or k in ends
                or (prev.kind == "w" and prev.text in _SOFT_WORDS)
            ):
                m.first = False
        after = m.end
        while after < end and self.punct(after) in (")", "%"):
            after += 1
        if after < end and self.t[after].text in v.ARROWS:
            m.past = True
        if after < end and self.punct(after) == "?":
            m.doubted = True
        if m.status is Status.COMPLETE and self.phrase(after, _FUTURE_AFTER) is not None:
            m.future = True  # "complete by December", "done next month"
        if m.sureness is Sureness.VERB and after < end:
            nxt = self.t[after]
            if nxt.kind == "w" and nxt.text not in _AFTER_VERB and (nxt.text,) not in _FILLERS:
                m.weak = True

    def markers(self) -> dict[int, tuple[int, str]]:
        """The line's "was …", "now …" and "to be …" phrases ("last month", "call it", "should
        be"), by the index of their last word: where each starts, and which it is. Found once
        per line; the longest phrase ending at a word wins."""
        if self._markers is None:
            self._markers = {}
            for kind, table in (("past", _PAST), ("now", _NOW), ("future", _FUTURE)):
                for k in range(self.n):
                    if self.t[k].text not in table.firsts:
                        continue
                    phrase = self.phrase(k, table)
                    if phrase is None:
                        continue
                    last = phrase[1] - 1
                    if last not in self._markers or self._markers[last][0] > k:
                        self._markers[last] = (k, kind)
        return self._markers

    def percent(self, i: int, end: int, after_status: bool = False) -> _Percent | None:
        """A percent at token i ("40%", "40 %", "62.5%", "20 percent", "15pct"); `other` when
        the words around it say it measures something else ("budget down 15%") — unless the
        word before it ends a status ("slowed down 10%")."""
        if i >= min(end, self.n):
            return None
        tok = self.t[i]
        if tok.kind == "w":
            lead = self.phrase(i, _PERCENT_LEAD)  # "pct complete 70", "percent done: 40"
            if lead is None:
                return None
            k = lead[1]
            while self.punct(k) in (":", "=", "-"):
                k += 1
            if k >= end or self.t[k].kind != "n" or self.percent(k, end) is not None:
                return None
            return _Percent(i, k + 1, self.t[k].text, False, True)
        if tok.kind != "n":
            return None
        prev = self.t[i - 1] if i > 0 else None
        if prev is not None and not tok.space and (prev.kind == "w" or prev.text in "$€£"):
            return None
        j = i + 1
        if j < end and self.t[j].kind == "w" and not self.t[j].space:
            if self.t[j].text not in ("pct", "pc", "percent"):
                return None
            j += 1
        elif j < end and self.t[j].text == "%":
            j += 1
        else:
            found = self.phrase(j, _PERCENT_WORDS)
            if found is None or found[1] > end:
                return None
            j = found[1]
        done = self.phrase(j, _PERCENT_DONE)
        tied = done is not None and done[1] <= end
        if tied:
            assert done is not None
            j = done[1]
        other = False
        prev_word = self.word(i - 1) if tok.space or i == 0 else None
        if (
            prev_word is not None
            and not after_status
            and (prev_word,) not in _FILLERS
            and prev_word not in _DETERMINERS
            and prev_word not in ("at", "is", "are", "now", "was", "to", "from", "and", "but")
            and prev_word not in v.SPELLED
            and self.markers().get(i - 1) is None
            and self.typo(max(0, i - 2), i) is None  # "1 on trak 42%"
        ):
            other = True  # "training 100% complete, rollout at risk": a part's percent
        if not tied and not other:
            before = self.word(i - 1) or (self.word(i - 2) if self.punct(i - 1) == "~" else None)
            after = self.phrase(j, _PERCENT_AFTER)
            other = (before is not None and before in _PERCENT_BEFORE and not after_status) or (
                after is not None and after[1] <= end
            )
        percent = _Percent(i, j, tok.text, other, tied)
        marker = self.markers().get(i - 1)
        percent.past = marker is not None and marker[1] == "past"  # "was 50%, now 65%"
        percent.now = (marker is not None and marker[1] == "now") or self.t[i - 1].text in v.ARROWS
        k = j
        while k < end and self.punct(k) in (")", ","):
            k += 1
        if k < end and self.t[k].text in v.ARROWS:
            percent.past = True  # "45% → 50%"
        return percent

    def typo(self, i: int, end: int) -> _Typo | None:
        """A status within a letter or two of the words at i ("on trakc", "completd", "behnd").
        Sure only for one close status and words of five letters or more; shorter words, and
        near misses, are offered as a question."""
        words: list[str] = []
        j = i
        best: tuple[int, str, list[Status]] | None = None
        while j < end and len(words) < 3 and self.t[j].kind == "w":
            words.append(self.t[j].text.replace("'", ""))
            j += 1
            typed = "".join(words)
            if len(typed) < 3 or (len(words) == 1 and typed in v.NOT_TYPOS):
                continue
            if typed in _TYPO_KEYS:
                return None  # a status word itself: read as one elsewhere, or a denial
            for distance, status in _closest_statuses(typed):
                if best is None or distance < best[0]:
                    best = (distance, typed, [status])
                elif distance == best[0] and status not in best[2]:
                    best[2].append(status)
        if best is None:
            return None
        distance, typed, statuses = best
        allowed = 2 if len(typed) >= 9 else 1
        sure = distance <= allowed and len(statuses) == 1 and len(typed) >= 5
        return _Typo(tuple(statuses), sure, typed)

    # --- what is said about an initiative ---

    def body(self, start: int, end: int, known: Known | None = None) -> _Body:
        """What one statement says: a status when the words allow one reading, the readings
        to offer when they allow several, the percent and the note."""
        mentions, percents = self.mentions(start, end)
        body = _Body()
        self.read_percent(body, percents)
        label = self.label_end(start, end, {m.start: m for m in mentions}, {})
        live = [
            m
            for m in mentions
            if not m.noun and not (label is not None and m.end < label and self.word(m.end))
        ]  # "Healthy Hartford: ✅ …": a status word in the name before the dash is no status
        body.said_status = bool(live)
        firsts = [m for m in live if m.first]
        sure = [m for m in firsts if not m.negated and not m.weak and m.status is not None]
        hedged = [m for m in sure if m.hedged]
        if hedged:  # "not sure it's on track", "probably done": asked, never recorded as said
            body.choices = _unique((*(m.status for m in sure), Status.ON_TRACK, Status.AT_RISK))
            shown = self.chars(max(start, hedged[0].start - 3), hedged[0].end)
            body.why = f"“{shown}” — which is it?"
            self.read_note(body, start, end, mentions, percents, known)
            return body
        # "Complete (ongoing upkeep only)": the status outside the parentheses. With none
        # outside, the one inside is the status ("2 (amber)"), unless a part's status stands
        # outside ("finished phase 1 (complete) and phase 2 is at risk").
        outside = [m for m in live if not m.aside and m.status is not None and not m.negated]
        if any(not m.aside for m in sure) or outside:
            sure = [m for m in sure if not m.aside]
        if any(not m.doubted for m in sure):
            sure = [m for m in sure if not m.doubted]  # "off track? no — at risk"
        if any(m.now for m in sure):
            sure = [m for m in sure if m.now]
        elif any(not m.past and not m.future for m in sure):
            sure = [m for m in sure if not m.past and not m.future]
        elif sure and all(m.past for m in sure) and self.said_still(sure[-1].end, end):
            for m in sure:
                m.past = False  # "5 was off track, still is"
        settled = {m.status for m in sure if m.sureness is Sureness.SURE}
        if settled:
            # "started drafting … On track", "MOU signed ✅": a hint that agrees with a status
            # is no second opinion, nor is one in a later sentence ("at risk. Design 30%
            # submitted to the state").
            first_sentence = self.sentence_end(start, end)
            sure = [
                m
                for m in sure
                if m.sureness is not Sureness.ASK
                or (m.choices[:1] and m.choices[0] not in settled and m.start < first_sentence)
            ]
        denied = [m for m in live if m.negated and m.sureness is not Sureness.ASK]
        weak = [
            m
            for m in live
            if (m.weak or not m.first or m.aside)
            and not m.negated
            and not m.past
            and not m.future
            and m.status
            and m.sureness is not Sureness.ASK
        ]
        if sure:
            statuses = list(dict.fromkeys(m.status for m in sure if m.status is not None))
            clashing = [m for m in denied if m.status in statuses]
            worse = [
                m
                for m in weak
                if len(statuses) == 1
                and m.status is not None
                and _RANK.get(m.status, 0) > _RANK.get(statuses[0], 9)
            ]
            if worse:  # "3 on track, but the MUNIS reporting piece is at risk"
                body.choices = _unique((*statuses, *(m.status for m in worse)))
                words = " and ".join(
                    f"“{self.chars(m.start, m.end)}”" for m in [*sure[:1], *worse[:2]]
                )
                body.why = f"it says {words}"
            elif clashing:  # "4 isn't at risk, just slow"
                body.choices = _unique((*statuses, *(c for m in clashing for c in m.choices)))
                body.why = f"it says “{self.chars(clashing[0].start, clashing[0].end)}”"
            elif len(statuses) == 1 and all(m.sureness is not Sureness.ASK for m in sure):
                if all(m.doubted for m in sure):
                    body.choices = _unique((statuses[0], Status.ON_TRACK))
                    body.why = f"“{self.chars(sure[0].start, sure[0].end + 1)}”"
                elif all(m.past or m.future for m in sure) and statuses[0] != Status.COMPLETE:
                    body.choices = _unique((Status.ON_TRACK, statuses[0]))
                    shown = self.chars(max(start, sure[0].start - 2), sure[0].end)
                    body.why = f"“{shown}” — and how is it now?"
                elif all(m.future for m in sure):
                    body.choices = (Status.ON_TRACK, Status.COMPLETE)
                    body.why = f"“{self.chars(sure[0].start, sure[0].end)}” — is it done yet?"
                else:
                    body.status = statuses[0]  # a completion said in the past still stands
            elif len(statuses) == 1:
                body.choices = _unique(c for m in sure for c in m.choices)
                body.why = f"“{self.chars(sure[0].start, sure[0].end)}”"
            else:
                body.choices = tuple(statuses)
                words = " and ".join(f"“{self.chars(m.start, m.end)}”" for m in sure[:3])
                body.why = f"it says {words}"
            self.read_note(body, start, end, mentions, percents, known)
            return body
        changing = _unique(m.status for m in weak if m.status is not Status.COMPLETE)
        if denied:
            body.choices = _unique(c for m in denied for c in m.choices)
            body.why = f"“{self.chars(denied[0].start, denied[0].end)}”"
        elif changing in ((Status.AT_RISK,), (Status.OFF_TRACK,)):
            body.status = changing[0]  # "#3 (data portal) running a month late": a part late
        elif changing:
            # A part on track, or parts that disagree ("finished the design, construction on
            # track"; "park at risk of flooding, project itself on track"): the whole?
            body.choices = _unique((*changing, Status.ON_TRACK))
            words = " and ".join(f"“{self.chars(m.start, m.end)}”" for m in weak[:3])
            body.why = f"it says {words} of a part"
        elif weak and body.percent == 100:
            body.status = Status.COMPLETE  # "recruit class done, 100%"
        elif weak:
            m = weak[0]
            body.choices = (Status.COMPLETE, Status.ON_TRACK)
            body.why = f"“{self.chars(m.start, min(m.end + 3, end))}” — is it all done?"
        elif any(m.no_change for m in firsts):
            body.no_change = True
        elif body.percent == 100 and not live:
            body.status = Status.COMPLETE  # "100% complete"
        elif any(m.future or m.past for m in live if m.status is not None):
            m = next(m for m in live if m.status is not None)
            body.choices = _unique((Status.ON_TRACK, m.status))
            body.why = f"“{self.chars(max(start, m.start - 2), m.end)}” — and how is it now?"
        else:
            guess = self.typo(self.note_start(start, end, [], percents, known), end)
            if guess is not None and guess.sure:
                body.status = guess.statuses[0]
                body.said_status = True
            elif guess is not None:
                body.choices = guess.statuses
                body.why = f"I am not sure what “{guess.typed}” means as a status"
                body.said_status = True
        self.read_note(body, start, end, mentions, percents, known)
        return body

    def sentence_end(self, start: int, end: int) -> int:
        """Where the first sentence of tokens start..end ends (a full stop, a semicolon…)."""
        return min(self.next_hard[min(start, self.n)], end)

    def said_still(self, start: int, end: int) -> bool:
        """ "… still is", "… still the case" after a past status: it still holds."""
        words = [t.text for t in self.t[start:end] if t.kind == "w"]
        return any(a == "still" and b in ("is", "are", "the") for a, b in pairwise(words))

    def read_percent(self, body: _Body, percents: list[_Percent]) -> None:
        candidates = [p for p in percents if not p.other]
        if any(p.now for p in candidates):
            candidates = [p for p in candidates if p.now]
        elif any(not p.past for p in candidates):
            candidates = [p for p in candidates if not p.past]
        if not candidates:
            return
        tied = [p for p in candidates if p.done]
        chosen = tied[0] if len(tied) == 1 else candidates[0]
        whole, _, fraction = chosen.typed.partition(".")
        value = int(whole) + (1 if fraction[:1] >= "5" else 0)
        if value > 100 or (int(whole) == 100 and fraction.strip("0")):
            body.bad_percent = chosen.typed
        else:
            body.percent = value

    def note_start(
        self,
        start: int,
        end: int,
        mentions: list[_Mention],
        percents: list[_Percent],
        known: Known | None,
    ) -> int:
        """Where the note starts: after the separators, the status and the percent at the
        start (when something other than a word follows them), and a copy of the initiative's
        name before a dash ("8. Online permitting – on track")."""
        at = {m.start: m for m in mentions}
        pct = {p.start: p for p in percents}
        j = start
        label = self.label_end(start, end, at, pct)
        if label is not None:
            j = label
        while j < end:
            tok = self.t[j]
            if tok.kind == "p" and (tok.text in _SEPARATORS or tok.text in v.ARROWS):
                j += 1
                continue
            if j in pct:
                j = pct[j].end
                continue
            if (
                j in at
                and not at[j].noun
                and (tok.kind == "e" or self.closed(at[j].end, end, at, pct))
            ):
                j = at[j].end
                continue
            if self.word(j) in ("at", "about", "roughly", "around") and j + 1 in pct:
                j += 1
                continue
            skipped = self.skip(j, end, _FILLERS, _NOW)
            if skipped != j and skipped < end and (skipped in at or skipped in pct):
                j = skipped
                continue
            break
        return j

    def closed(
        self, i: int, end: int, at: Mapping[int, _Mention], pct: Mapping[int, _Percent]
    ) -> bool:
        """Whether what follows a status leaves it on its own (a separator, a percent, the
        end, a last "but"), rather than going on in words ("at risk of missing the deadline")."""
        if all(t.kind == "p" or t.text in _SOFT_WORDS for t in self.t[i:end]):
            return True
        tok = self.t[i]
        return tok.kind != "w" or i in at or i in pct

    def label_end(
        self, start: int, end: int, at: Mapping[int, _Mention], pct: Mapping[int, _Percent]
    ) -> int | None:
        """After "Online permitting –" when a status or percent follows the dash."""
        j = start
        while j < end and self.t[j].kind == "p" and self.t[j].text in _SEPARATORS:
            j += 1
        words = 0
        while j < end and self.t[j].kind in ("w", "n") and j not in at and j not in pct:
            j += 1
            words += 1
        if not words or j >= end or self.t[j].kind != "p" or self.t[j].text not in _LABEL_ENDS:
            return None
        k = j
        while k < end and self.t[k].kind == "p":
            k += 1
        return j if k in at or k in pct or (k < end and self.t[k].kind == "e") else None

    def read_note(
        self,
        body: _Body,
        start: int,
        end: int,
        mentions: list[_Mention],
        percents: list[_Percent],
        known: Known | None,
    ) -> None:
        j = self.note_start(start, end, mentions, percents, known)
        if j >= end:
            return
        stop = self.t[end - 1].end if end <= self.n else len(self.line)
        body.note = self.r.note(self.line, self.struck, self.t[j].start, stop, known)

    # --- statements ---

    def statements(self) -> list[_Statement]:
        statements: list[_Statement] = []
        i = 0
        while i < self.n and self.t[i].kind == "p" and self.t[i].text in _MARKERS:
            i += 1
        first = i
        j = i
        in_except = False
        while j < self.n:
            current = statements[-1] if statements else None
            if (self.t[j].kind == "p" and self.t[j].text not in "#(") or j < self.refused_until:
                j += 1  # no statement starts with a comma or a dash, nor inside a refused list
                continue
            inside = current is not None and j < current.body
            hard = j == first or (
                self.punct(j - 1) in _HARD and (current is None or j - 1 >= current.body)
            )
            soft = not hard and self.soft(j, current)
            found = None
            if (not inside and (hard or (soft and not in_except))) or (
                not inside and soft and in_except and self.punct(j - 1) == "("
            ):
                found = self.start(j, hard, current)
            elif not inside and not in_except and not hard and not soft:
                found = self.inline(j)
            if found is not None:
                if current is not None:
                    current.end = j
                statements.append(found)
                in_except = False
                j = found.body
                continue
            if (
                current is not None
                and current.kind == "default"
                and j >= current.body
                and self.phrase(j, _EXCEPT) is not None
            ):
                in_except = True
            j += 1
        if statements:
            statements[-1].end = self.n
        return statements

    def soft(self, j: int, current: _Statement | None) -> bool:
        prev = self.t[j - 1] if j > 0 else None
        if prev is None:
            return False
        if prev.kind == "p" and prev.text in _SEPARATORS:
            return True
        if prev.kind == "w" and prev.text in _SOFT_WORDS:
            return True
        if prev.kind == "e":
            return True
        return current is not None and j > current.body and self.mention_ending_at(j, current.body)

    def has_status(self, start: int, end: int) -> bool:
        """Whether a status is said between tokens start and end."""
        k = self._next_said[start] if start < self.n else self.n
        for _ in range(_MAX_WORDS + 1):  # a phrase is short: one ending past `end` spans it
            if k >= end:
                return False
            found = self._mentions[k]
            if found is not None and found.end <= end:
                return True
            k = self._next_said[k + 1]
        return False

    def mention_ending_at(self, j: int, start: int) -> bool:
        """Whether a status phrase or a percent that starts at or after `start` ends right
        before token j ("1 on track 2 …")."""
        return self.said_ends().get(j, -1) >= start

    def said_ends(self) -> dict[int, int]:
        """Where each status phrase (not a denial) and each percent of the line ends, with the
        latest start of those ending there; worked out once per line."""
        if self._ends is None:
            self._ends = {}
            for k, tok in enumerate(self.t):
                found = self._mentions[k]
                if found is not None and not found.negated:
                    self._ends[found.end] = max(self._ends.get(found.end, -1), k)
                if tok.kind == "n" or tok.text in _PERCENT_LEAD.firsts:
                    percent = self.percent(k, self.n)
                    if percent is not None:
                        self._ends[percent.end] = max(self._ends.get(percent.end, -1), k)
        return self._ends

    def start(self, j: int, hard: bool, current: _Statement | None = None) -> _Statement | None:
        """The statement that starts at token j, if one does. After a comma or a colon an
        "all …" starts one only once the statement before it has said a status ("5 started,
        everything else as last month", but "1: all done")."""
        if hard or current is None or self.has_status(current.body, j):
            found = self.default(j)
            if found is not None:
                return found
        if hard:
            found = self.status_first(j)
            if found is not None:
                return found
        if self.punct(j - 1) == "/" and not self.t[j].space and self.at_number(j - 2):
            return None  # "signed 6/2": a date, not initiative 2
        group = self.group(j)
        if group is not None and group.unknown and hard and len(group.numbers) == 1:
            named = self.r.numbers_in_texts.get(group.numbers[0], ())
            if len(named) == 1:  # "311: on track" — 311 is in one initiative's name
                group = _Group(list(named), group.end, group.explicit, False)
        if group is not None and group.unknown and not hard:
            self.refused_until = group.end  # a number in a note: "(311 launched in phases)"
            return None
        if group is not None:
            follows = self.status_follows(group.end)
            if (group.unknown and not follows) or (
                not group.unknown
                and not follows
                and (
                    not hard
                    or group.spelled
                    or not (group.explicit or self.looks_like_update(group.end))
                )
            ):
                # Every number after this one in the list ends the same way, and is refused
                # the same way: no need to read the rest of the list again from each of them.
                self.refused_until = group.end
                return self.name_statement(j) if hard and group.spelled else None
            body = group.end
            if self.punct(body) in (".", ")") and not self.t[body].space:
                body += 1  # "1." and "1)": the list's own numbering
            return _Statement(
                "ref", j, body, numbers=tuple(group.numbers), unknown=tuple(group.unknown)
            )
        if hard:
            found = self.name_statement(j)
            if (
                found is not None
                and current is not None
                and not (found.numbers or found.candidates)
            ):
                return None  # "… on track. Project itself fine": more words of the same
            return found
        return None

    def said_before(self, s: _Statement) -> bool:
        """Whether the line says a different status before this "all …", about something that
        is no initiative ("2 of the ISFs are off track, rest on track")."""
        head = s.head.status if s.head is not None else None
        counted = any(
            self.t[k].kind == "n" and self.word(k + 1) == "of" for k in range(s.start)
        )  # "2 of the ISFs": the rest are the rest of those
        return counted and any(
            m is not None and m.status is not None and not m.noun and m.status != head
            for m in self._mentions[: s.start]
        )

    def loose_numbers(self, statements: Sequence[_Statement]) -> set[int]:
        """Initiatives the line mentions outside its statements, with a status nearby or a
        "#" before them ("Station 4 is done", "waiting on #3's vendor")."""
        covered = {k for s in statements for k in range(s.start, s.body)}
        first = next((k for k, t in enumerate(self.t) if t.text not in _MARKERS), self.n)
        found: set[int] = set()
        for k, tok in enumerate(self.t):
            if tok.kind != "n" or k in covered:
                continue
            number = self.number(k)
            if number is None or number[0] not in self.r.known_numbers:
                continue
            explicit = (
                self.punct(k - 1) == "#" or (self.word(k - 1),) in _NUMBER_WORDS or k == first
            )  # "- 2 OPEB trust (at risk …)" under "everything on track except:"
            near = self.said(self.skip(k + 1, self.n, _FILLERS, _NOW, _PAST), self.n)
            if explicit or (near is not None and not near.noun):
                found.add(number[0])
        return found

    def inline(self, j: int) -> _Statement | None:
        """An initiative in the middle of a sentence, with its status right after it: "I'd say
        3 is at risk". Not after a word that counts things ("Station 4 is done", "phase 2")."""
        prev = self.word(j - 1)
        if prev is None or prev in _DETERMINERS or prev in _QUANTITY_NOUNS:
            return None
        if self.t[j].kind != "n" and self.punct(j) != "#":
            return None
        group = self.group(j)
        if group is None or group.unknown or group.spelled:
            return None
        k = self.skip(group.end, self.n, _FILLERS, _NOW)
        found = self.said(k, self.n)
        if found is None or found.noun:
            return None
        return _Statement("ref", j, group.end, numbers=tuple(group.numbers))

    def looks_like_update(self, i: int) -> bool:
        """After a number at the start of a line: "3:", "3 -", "3)", "3 status…", "3 ???"."""
        if i >= self.n:
            return False
        tok = self.t[i]
        if tok.kind == "p":
            return tok.text in _SEPARATORS or tok.text == "?"
        if tok.kind == "e":
            return True
        return tok.kind == "w" and (tok.text,) in _FILLERS

    def status_follows(self, i: int) -> bool:
        """Whether a status, "no change" or a percent is what comes next."""
        j = i
        while j < self.n:
            tok = self.t[j]
            if tok.kind == "p" and tok.text in _SEPARATORS:
                j += 1
                continue
            found = self.mention(j, self.n)
            if found is not None and not found.noun:
                return True  # "1 to do" before "to" is skipped as "now to"
            if self.phrase(j, _HEDGES) is not None:
                return True  # "10 — not sure yet": something is said, if no status
            skipped = self.skip(j, self.n, _FILLERS, _NOW, _PAST, _FUTURE)
            if skipped != j:
                j = skipped
                continue
            break
        if j >= self.n:
            return False
        if self.t[j].kind == "n" and self.percent(j, self.n) is not None:
            return True
        if self.word(j) == "at" and self.percent(j + 1, self.n) is not None:
            return True
        found = self.mention(j, self.n)
        if found is not None and not found.noun:
            return True
        return self.typo(j, self.n) is not None

    def default(self, j: int) -> _Statement | None:
        """`all on track`, `the rest: no change`, `everything else as last month`, `no
        change`, a status first (`🟢 everything else`, `on track on all but 8`), and the
        exceptions before the status (`everything except 9 is on schedule`). "No change" that
        names what it covers (`no change on 4`, `same as last month for 1-4`) is a statement
        about those alone."""
        head = None
        k = j
        found = self.phrase(j, _DEFAULTS)
        if found is None:
            found_status = self.mention(j, self.n)
            if found_status is not None and found_status.no_change:
                k = found_status.end
                if (
                    self.word(k) in ("on", "for", "with", "to")
                    and (group := self.group(k + 1, own_status_ends=True)) is not None
                    and not group.unknown
                ):
                    return _Statement(
                        "first", j, group.end, numbers=tuple(group.numbers), head=found_status
                    )
                return _Statement("default", j, found_status.end, head=found_status)
            if found_status is None or found_status.noun or found_status.negated:
                return None
            k = found_status.end
            while self.punct(k) in (":", "-", "–", "—"):
                k += 1
            found = self.phrase(k, _DEFAULTS)
            if found is None and self.word(k) in ("on", "for", "across"):
                found = self.phrase(k + 1, _DEFAULTS)  # "on track on all but the permitting …"
            if found is None:
                return None
            head = found_status
        k = found[1]
        k = self.skip(k, self.n, _DEFAULT_NOUNS)
        while self.punct(k) in (":", "-", "–", "—", ","):
            k += 1
        k = self.skip(k, self.n, _FILLERS, _NOW)
        if head is None:
            exceptions = self.phrase(k, _EXCEPT)
            if exceptions is not None:  # "everything except 9 is on schedule"
                items = self.group(exceptions[1])
                if items is None or items.unknown:
                    return None
                after = self.skip(items.end, self.n, _FILLERS, _NOW)
                head = self.mention(after, self.n)
                if head is None or head.noun or head.negated or head.status is None:
                    return None
                return _Statement("default", j, head.end, head=head, early_except=(k, items.end))
            head = self.mention(k, self.n)
            if head is None or head.noun:
                return None
            if head.negated or head.sureness is not Sureness.SURE:
                return None
            k = head.end
        return _Statement("default", j, k, head=head)

    def status_first(self, j: int) -> _Statement | None:
        """`At risk: 2, 7`, `🟢 1, 3, 9`, `Done - 4 and 6`."""
        head = self.mention(j, self.n)
        if head is None or head.noun or head.negated or head.status is None:
            return None
        k = head.end
        while self.punct(k) in (":", "-", "–", "—", "="):
            k += 1
        group = self.group(k, own_status_ends=True)
        if group is None or group.unknown:
            return None
        return _Statement("first", j, group.end, numbers=tuple(group.numbers), head=head)

    def name_statement(self, j: int) -> _Statement | None:
        """`Online permitting: live`, `Code of Conduct: draft approved, on track`, `CHIP:
        underway` — a name, then what is said of it: a status right after the name, or, after
        a colon or a dash, a status or a percent anywhere in the sentence."""
        k = j
        words = 0
        depth = 0
        while k < self.n and words <= 10:
            tok = self.t[k]
            if tok.kind == "w":
                found = self.mention(k, self.n)
                if found is not None and not found.noun and not depth:
                    if words:
                        break
                    if self.word(found.end) is None:
                        return None  # a status first, with no initiative after it
                    # else a name that starts like a status: "Healthy Hartford campaign"
                elif words and (typo := self.typo(k, self.n)) is not None and typo.sure:
                    break  # "EMR on trakc"
                words += 1
                k += 1
            elif tok.kind == "p" and tok.text in "/&'()":
                depth += {"(": 1, ")": -1}.get(tok.text, 0)  # "Intermodal Triangle (TIGER):"
                k += 1
            else:
                break
        if not words or depth:
            return None
        name_end = k
        labelled = k < self.n and self.t[k].kind == "p" and self.t[k].text in _LABEL_ENDS
        while k < self.n and self.t[k].kind == "p" and self.t[k].text in _LABEL_ENDS:
            k += 1
        if self.phrase(k, _DEFAULTS) is not None:
            return None  # "Fire update: all on target" — a heading, then an "all …"
        k2 = self.skip(k, self.n, _FILLERS, _NOW)
        found = self.mention(k2, self.n)
        said = found is not None and (
            found.negated or (not found.noun and found.sureness is Sureness.SURE)
        )
        if not said and self.typo(k2, self.n) is not None:
            said = True  # "EMR on trakc"
        if not said and labelled:
            sentence = next((e for e in range(k, self.n) if self.punct(e) in _HARD), self.n)
            said = self.percent(k2, sentence) is not None or any(
                (m := self.said(e, sentence)) is not None
                and not m.noun
                and m.sureness is Sureness.SURE
                for e in range(k, sentence)
            )
        if not said:
            return None
        if self.skip(j, name_end, _NOW, _PAST, _FUTURE, _FILLERS) >= name_end:
            return None  # "call it at risk", "now at risk": no name, the sentence goes on
        text = self.chars(j, name_end)
        name_words = self.r.name_words(text)
        if not name_words:
            return None
        numbers = self.r.match_name(name_words, text)
        if len(numbers) > 4:
            return None  # "initiatives on track": a word every initiative has names none
        statement = _Statement("name", j, name_end, name=text)
        if len(numbers) == 1:
            statement.numbers = (numbers[0],)
        else:
            statement.candidates = tuple(numbers)
        return statement


# --- the whole reply ---------------------------------------------------------------------------


class _Reader:
    """The department's initiatives, as the lines are read against them. What only some
    lines need (each text's words, numbers in the texts, initials) is worked out the first
    time a line asks: most replies are read without it."""

    def __init__(self, initiatives: Sequence[Known]) -> None:
        self.initiatives = list(initiatives)
        self.by_number = {i.number: i for i in self.initiatives}
        self.known_numbers = frozenset(self.by_number)
        self._word_sets: dict[int, set[str]] = {}

    @cached_property
    def words(self) -> dict[int, list[str]]:
        return {i.number: _text_words(i.text) for i in self.initiatives}

    def word_set(self, number: int) -> set[str]:
        """One initiative's words, worked out for it alone (a note is checked against its own
        initiative only)."""
        found = self._word_sets.get(number)
        if found is None:
            found = self._word_sets[number] = set(_text_words(self.by_number[number].text))
        return found

    @cached_property
    def numbers_in_texts(self) -> dict[int, tuple[int, ...]]:
        """Numbers in the initiatives' own names ("Develop 311 into …"): a line may name one
        so."""
        found: dict[int, tuple[int, ...]] = {}
        for initiative in self.initiatives:
            for digits in set(_NUMBER_IN_TEXT.findall(initiative.text)):
                value = int(digits)
                if value not in self.known_numbers:
                    found[value] = (*found.get(value, ()), initiative.number)
        return found

    def name_words(self, name: str) -> list[str]:
        return [
            w
            for w in _text_words(name)
            if w not in v.NAME_STOPWORDS
            and (w,) not in _FILLERS
            and (w,) not in _NOW
            and (w,) not in _PAST
            and (w,) not in _FUTURE
            and len(w) > 1
        ]

    @cached_property
    def initials(self) -> dict[int, set[str]]:
        """The initials of each run of words in each initiative's text, for "CHIP" and "EMR"."""
        return {
            number: {
                "".join(w[0] for w in words[a:b])
                for a in range(len(words))
                for b in range(a + 2, min(a + 7, len(words) + 1))
            }
            for number, words in self.words.items()
        }

    def match_name(self, words: Sequence[str], typed: str = "") -> list[int]:
        """The initiatives whose text holds every word of the name (allowing a typo or a
        word's other ending), or whose words' initials the name is ("CHIP", "EMR"); with
        three words or more, all but one of them when only one initiative fits so."""
        found = [
            number
            for number, text_words in self.words.items()
            if all(any(_same_word(w, t) for t in text_words) for w in words)
        ]
        if found:
            return found
        acronym = typed.strip()
        if len(words) == 1 and 2 <= len(acronym) <= 6 and acronym.isalpha() and acronym.isupper():
            found = [n for n, initials in self.initials.items() if acronym.casefold() in initials]
            if found:
                return found
        if len(words) >= 3:
            near = [
                number
                for number, text_words in self.words.items()
                if sum(any(_same_word(w, t) for t in text_words) for w in words) >= len(words) - 1
            ]
            if len(near) == 1:
                return near
        return []

    def note(
        self,
        line: str,
        struck: Sequence[tuple[int, int]],
        start: int,
        end: int,
        known: Known | None,
    ) -> str:
        text = (
            "".join(line[i] for i in range(start, end) if not any(a <= i < b for a, b in struck))
            if struck
            else line[start:end]
        )
        if "<" in text:  # the patterns' own first characters: most notes have none
            text = _SLACK_ENTITY.sub(_plain_entity, text)
        if "*" in text or "_" in text or "`" in text:
            text = _FORMATTING.sub("", text)
        text = " ".join(text.split())
        text = text.strip(" ,;:-–—·|=>")
        if text.startswith("(") and text.endswith(")") and text.count("(") == 1:
            text = text[1:-1].strip()
        else:
            close, opening = text.find(")"), text.find("(")
            if close != -1 and (opening == -1 or close < opening):
                # "(data portal) which …" lost its "(" to the separators before the note
                text = (text[:close] + text[close + 1 :]).strip()
        text = _LOOSE_ENDS.sub("", text)
        text = text.rstrip(".").strip() if text.count(".") == 1 else text
        if known is not None and text:
            words = [w for w in _text_words(text) if w not in v.NAME_STOPWORDS]
            if len(words) >= 2 and set(words) <= self.word_set(known.number):
                return ""  # the initiative's own name, copied from the prompt
        return clean_text(text)[:MAX_NOTE_CHARS]


# "but", "and" left at either end of a note when the status was cut out of its middle.
_LOOSE_ENDS = re.compile(
    r"^(?:but|and|or|so|yet|though)\b[\s,]*|[\s,]*\b(?:but|and|or|so|yet|though)$", re.I
)
_SLACK_ENTITY = re.compile(r"<([@#!]?)([^<>|\n]{1,1000})(?:\|([^<>\n]{0,1000}))?>")
_FORMATTING = re.compile(r"(?<![\w])[*_`]+|[*_`]+(?![\w])")


def _plain_entity(found: re.Match[str]) -> str:
    sigil, target, label = found.group(1), found.group(2), found.group(3)
    if sigil == "@":
        return "@" + (label or target)
    if sigil == "#":
        return "#" + (label or target)
    if sigil == "!":
        return "@" + (label or target).split("^")[0]
    return f"{label} ({target})" if label else target


_NUMBER_IN_TEXT = re.compile(r"(?<![\d.,])\d{2,4}(?![\d.,%])")
_TEXT_WORDS = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _text_words(text: str) -> list[str]:
    words = _TEXT_WORDS.findall(text.casefold())
    return [w.replace("’", "'").removesuffix("'s") for w in words]


def _same_word(typed: str, word: str) -> bool:
    if typed == word:
        return True
    short, long = sorted((typed, word), key=len)
    if len(short) >= 4 and long.startswith(short[:-1]) and len(long) - len(short) <= 4:
        return True  # "permit" and "permitting", "work" and "working"
    if len(short) >= 4 and long.startswith(short) and typed == short:
        return True  # "tech" for "technology"
    return len(short) >= 5 and DamerauLevenshtein.distance(typed, word, score_cutoff=1) <= 1


def _unique(statuses: Iterable[Status | None]) -> tuple[Status, ...]:
    return tuple(dict.fromkeys(s for s in statuses if s is not None))


def _has_content(line: str) -> bool:
    return any(c.isalnum() or ord(c) > 0x2000 for c in line)


_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_ENTITY = re.compile("&amp;|&lt;|&gt;")


def _unescape(text: str) -> str:
    return _ENTITY.sub(lambda m: _ENTITIES[m.group()], text) if "&" in text else text


# --- the tidy line, read at once ------------------------------------------------------------
#
# Most lines are the prompt's own format: "3 on track - crews hired", "2: at risk 40% union
# talks". Such a line is read by one regular expression, when its note holds nothing that could
# change the reading (no digit, no status or "all"/"except"/"no change" word, no Slack markup):
# the result is the same as reading it token by token (a test checks both ways agree), five to
# ten times sooner.

_SURE_PHRASES = sorted(
    (phrase for phrase, term in _STATUS_TERMS.items() if term.sureness is Sureness.SURE),
    key=len,
    reverse=True,
)
_TIDY = re.compile(
    r"(?:[-•]\s*)?(?P<ref>(?:item\s*#?|#)?(?P<number>\d{1,3}))(?:\s*[:.)\-–—]\s*|\s+)"
    r"(?P<status>"
    + "|".join(r"[\s-]?".join(re.escape(w) for w in p.split()) for p in _SURE_PHRASES)
    + r")(?:\s+(?P<percent>\d{1,3})\s*%)?(?:(?P<sep>\s*[-–—:,;]\s*|\s+)(?P<note>.*))?",
    re.IGNORECASE,
)
_TIDY_WORDS: dict[str, Status] = {}
for _phrase in _SURE_PHRASES:
    for _variant in (_phrase, _phrase.replace(" ", "-"), _phrase.replace(" ", "")):
        _TIDY_WORDS.setdefault(_variant, _STATUS_TERMS[_phrase].status)
# A note holding any of these phrases goes the long way: it may say a second status, a denial,
# an "all …", an "except", or name another initiative.
_NOTE_PHRASES = sorted(
    {
        " ".join(key)
        for table in (_MENTIONS, _NEGATIONS, _DEFAULTS, _EXCEPT, _NUMBER_WORDS)
        for key in table
    }
    | set(v.SPELLED)
    | {k for k in _EMOJI_NAMES if k.isalpha()},
    key=len,
    reverse=True,
)


_NOTE_TABLE = _table((p, True) for p in _NOTE_PHRASES)


def _note_says_more(note: str) -> bool:
    """Whether a note holds a phrase that could change the reading (a status, a denial, an
    "all", an "except", a number word…), word by word as the long way would look."""
    words = [w.replace("’", "'") for w in _TEXT_WORDS.findall(note.casefold())]
    for i, word in enumerate(words):
        if word not in _NOTE_TABLE.firsts:
            continue
        key: _Key = ()
        for following in words[i : i + _MAX_WORDS]:
            key += (following,)
            if key in _NOTE_TABLE:
                return True
            if key not in _NOTE_TABLE.prefixes:
                break
    return False


_PERCENT_CONTEXT = re.compile(
    r"(?:"
    + "|".join(
        r"[\s_-]+".join(re.escape(w) for w in key)
        for key in sorted({*_PERCENT_DONE, *_PERCENT_AFTER}, key=len, reverse=True)
    )
    + r")(?![\w'’])",
    re.IGNORECASE,
)
_NOTE_MARKUP = re.compile(r"[\d<>~*_`:%#&()\[\]?!.;/]|[^\x00-\u2000]")
# A count in a note ("12 recruits started", "hired 3 inspectors"): a number between spaces
# with a word after it. Any other digit sends the line the long way.
_NOTE_COUNT = re.compile(
    r"(?<![^\s])\d{1,6} (?=[^\W\d_]{2})(?!(?:percent|per cent|pct|pc)\b)", re.IGNORECASE
)


def _tidy_line(line: str, reader: _Reader) -> _Outcome | None:
    """A line in the prompt's own format, read at once; None to read it the long way."""
    found = _TIDY.fullmatch(line)
    if found is None:
        return None
    number = int(found.group("number"))
    status = _TIDY_WORDS.get(" ".join(found.group("status").casefold().split()))
    if status is None or number not in reader.known_numbers:
        return None
    percent = found.group("percent")
    if percent is not None and int(percent) > 100:
        return None
    note = found.group("note") or ""
    if percent is not None and _PERCENT_CONTEXT.match(note):
        return None  # "40% done", "40% of the budget": the percent's own words
    if note:
        if found.group("sep").strip() == "" and percent is None:
            return None  # "1 on track crews hired": the note starts at the status
        if _NOTE_MARKUP.search(_NOTE_COUNT.sub("", note)) or _note_says_more(note):
            return None
    text = (
        reader.note(line, (), found.start("note"), len(line), reader.by_number[number])
        if note
        else ""
    )
    body = _Body(status=status, percent=None if percent is None else int(percent), note=text)
    return _Outcome(number, body, line[found.start("ref") :].strip())


def read_thread_reply(
    text: str | None, initiatives: Sequence[Known], *, shortcut: bool = True
) -> ReplyReading:
    """Read a thread reply against the department's initiatives (see the module's first lines).

    Lines are read one by one; a line may speak for several initiatives, and one line starting
    with "all", "the rest", "no change"… speaks for every initiative no other line names. Such
    an "all …" leaves a Complete initiative as it is. At most MAX_LINES lines are read, and a
    line longer than MAX_LINE_CHARS is not; what is left is reported once as "too long to read".
    `shortcut=False` reads tidy lines the long way too (for the test that both agree).
    """
    reader = _Reader(initiatives)
    named: dict[int, list[_Outcome]] = {}
    questions: list[Question] = []
    unreadable: list[Unreadable] = []
    defaults: list[_Default] = []
    loose: dict[int, str] = {}
    read = 0
    chars = 0
    context: int | None = None
    raw_lines = (text or "").splitlines()
    for index, raw in enumerate(raw_lines):
        line = _unescape(raw).strip()
        if not _has_content(line):
            continue
        chars += len(line)
        if read == MAX_LINES or chars > MAX_CHARS:
            rest = 1 + sum(1 for later in raw_lines[index + 1 :] if _has_content(later))
            more = "1 more line" if rest == 1 else f"{rest} more lines"
            unreadable.append(Unreadable(line[:MAX_LINE_CHARS], f"too long to read ({more})"))
            break
        read += 1
        if len(line) > MAX_LINE_CHARS:
            unreadable.append(Unreadable(line[:MAX_LINE_CHARS], "too long to read"))
            continue
        if line.startswith(">"):
            # A quote — of the prompt, of the bot's hint, of someone else — is not the lead's
            # answer; the line after a quoted prompt line may answer for its initiative.
            context = _quoted_initiative(line, reader)
            continue
        tidy = _tidy_line(line, reader) if shortcut else None
        if tidy is not None:
            named.setdefault(tidy.number, []).append(tidy)
        else:
            corrects = _CORRECTION.search(line) is not None
            earlier = {n: list(o) for n, o in named.items()} if corrects else {}
            lr = _LineReader(line, reader)
            statements = _read_line(lr, named, questions, unreadable, defaults, loose, context)
            if corrects:
                _doubt_corrected(lr, statements, earlier, named)
        context = None
    return _conclude(reader, named, questions, unreadable, defaults, loose)


_QUOTED = re.compile(r">[\s>*_•-]*(?:item\s*#?|#)?(\d{1,3})\s*[.):–—-]")


def _quoted_initiative(line: str, reader: _Reader) -> int | None:
    """The initiative a quoted line of the prompt names ("> 1. Work with the City … — At risk")."""
    found = _QUOTED.match(line)
    if found is None or int(found.group(1)) not in reader.known_numbers:
        return None
    return int(found.group(1))


def _read_line(
    lr: _LineReader,
    named: dict[int, list[_Outcome]],
    questions: list[Question],
    unreadable: list[Unreadable],
    defaults: list[_Default],
    loose: dict[int, str],
    context: int | None = None,
) -> list[_Statement]:
    """Read one line into `named`, `questions`, `unreadable` and `defaults`; its statements."""
    statements = lr.statements()
    if not statements and context is not None:
        # The line after a quoted prompt line answers for that initiative.
        first = next((k for k, t in enumerate(lr.t) if t.kind != "p"), lr.n)
        statements = [_Statement("ref", first, first, end=lr.n, numbers=(context,))]
    if lr.said_ends():  # a number is only loosely mentioned near a status
        for number in lr.loose_numbers(statements):
            loose.setdefault(number, lr.line)
    if not statements:
        if _status_without_initiative(lr):
            unreadable.append(
                Unreadable(
                    lr.line,
                    "it doesn't say which initiative — start the line with its number",
                )
            )
        return statements
    for index, s in enumerate(statements):
        said = lr.chars(s.start, s.end)
        if s.kind == "default":
            if index == 0 and lr.said_before(s):
                # "2 of the ISFs are off track, rest on track": the rest of what?
                unreadable.append(Unreadable(lr.line, "I couldn't tell what the “rest” covers"))
                continue
            _read_default(lr, s, said, named, questions, unreadable, defaults)
            continue
        if s.unknown:
            shown = ", ".join(f"#{n}" for n in s.unknown[:5])
            unreadable.append(Unreadable(said, f"there is no initiative {shown}"))
            continue
        if s.kind == "name" and not s.numbers:
            body = lr.body(s.body, s.end)
            if s.candidates and body.status is not None:
                shown = " and ".join(f"#{n}" for n in s.candidates[:4])
                questions.append(
                    Question(
                        said,
                        f"“{s.name}” could be {shown}",
                        tuple(
                            Choice(n, body.status, body.percent, body.note)
                            for n in s.candidates[:4]
                        ),
                    )
                )
            else:
                unreadable.append(Unreadable(said, f"no initiative matches “{s.name}”"))
            continue
        known = lr.r.by_number.get(s.numbers[0]) if len(s.numbers) == 1 else None
        body = lr.body(s.body, s.end, known)
        if s.head is not None and s.head.no_change and body.status is None:
            body.no_change = True  # "no change on 4", "same as last month for 1-4"
        elif s.head is not None and body.status is None and not body.choices:
            body.status = s.head.status
        elif s.head is not None and s.head.sureness is Sureness.ASK:
            body.status = None
            body.choices = s.head.choices
            body.why = f"“{lr.chars(s.head.start, s.head.end)}”"
        for number in s.numbers:
            own = body
            if s.kind == "first" and number != s.numbers[-1] and body.percent is not None:
                # "🟢 1, 3, 4, 7 (70%)": the percent after the list is the last one's
                own = replace(body, percent=None)
            named.setdefault(number, []).append(_Outcome(number, own, said))
    return statements


_CORRECTION = re.compile(
    r"\b(?:sorry|meant|correction|scratch that|oops|typo|my bad|i mean|disregard|ignore that|"
    r"should have said|should've said|wrong)\b",
    re.IGNORECASE,
)


def _doubt_corrected(
    lr: _LineReader,
    statements: Sequence[_Statement],
    earlier: Mapping[int, list[_Outcome]],
    named: dict[int, list[_Outcome]],
) -> None:
    """A line that corrects an earlier one ("sorry meant 4 on track, 3 is still off") casts
    doubt on every initiative it mentions that an earlier line read, unless it says anew how
    that one is: those are asked about, not recorded from the line that was wrong."""
    said_anew = {n for s in statements for n in s.numbers}
    for k, tok in enumerate(lr.t):
        found = lr.number(k) if tok.kind == "n" else None
        if found is None or found[0] not in earlier or found[0] in said_anew:
            continue
        was = [o.body.status for o in earlier[found[0]] if o.body.status is not None]
        body = _Body(
            choices=_unique((*was, Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK)),
            why=f"“{lr.chars(0, lr.n)}” corrects what was said of it",
        )
        named.setdefault(found[0], []).append(_Outcome(found[0], body, lr.line))


def _status_without_initiative(lr: _LineReader) -> bool:
    """A line like "Construction on track": a status, but no initiative we can tell."""
    mentions, _ = lr.mentions(0, lr.n)
    words = sum(1 for t in lr.t if t.kind == "w")
    return (
        any(not m.noun and m.status is not None and not m.first and m.start > 0 for m in mentions)
        and words <= 12
    )


def _read_default(
    lr: _LineReader,
    s: _Statement,
    said: str,
    named: dict[int, list[_Outcome]],
    questions: list[Question],
    unreadable: list[Unreadable],
    defaults: list[_Default],
) -> None:
    assert s.head is not None
    cut = s.end
    except_at = None
    if s.early_except is not None:  # "everything except 9 is on schedule"
        found = lr.phrase(s.early_except[0], _EXCEPT)
        assert found is not None
        except_at = (s.early_except[0], found[1])
    else:
        for k in range(s.body, s.end):
            found = lr.phrase(k, _EXCEPT)
            if found is not None:
                except_at = (k, found[1])
                cut = k
                break
    head_body = lr.body(s.body, cut)
    if any(t.text == "?" for t in lr.t[s.start : lr.sentence_end(s.body, s.end) + 1]):
        # "Everything's fine here, how about you?" is chat, or a question: not an answer.
        unreadable.append(Unreadable(said, "is that about every initiative? Say “all on track”"))
        return
    # Words after "all on track" ("this month", "thanks") are no initiative's note.
    head = _Body(status=s.head.status, percent=head_body.percent, no_change=s.head.no_change)
    if head_body.said_status and head_body.status not in (None, head.status):
        unreadable.append(Unreadable(said, "it gives two statuses for the same initiatives"))
        return
    if except_at is not None:
        items_end = s.early_except[1] if s.early_except is not None else s.end
        items = _except_items(lr, except_at[1], items_end)
        if items is None:
            unreadable.append(
                Unreadable(said, "I couldn't tell which initiatives the “except …” leaves out")
            )
            return
        for numbers, start, end in items:
            item_said = lr.chars(except_at[0], end)
            known = lr.r.by_number.get(numbers[0]) if len(numbers) == 1 else None
            body = lr.body(start, end, known)
            placeholder = False
            if body.status is None and not body.choices and not body.no_change:
                if head.no_change and body.percent is not None:
                    body.no_change = True  # "no change except 8 now 85%": its status stays
                else:
                    body.choices = v.DENIED[head.status] if head.status else (Status.ON_TRACK,)
                    body.why = f"“{item_said}” — how is it going, then?"
                    placeholder = not lr.said_between(start, end)
            for number in numbers:
                named.setdefault(number, []).append(
                    _Outcome(number, body, item_said, placeholder=placeholder)
                )
    defaults.append(_Default(head, said))


def _except_items(lr: _LineReader, start: int, end: int) -> list[tuple[list[int], int, int]] | None:
    """The initiatives after "except": each with where its own words start and end. [] when
    the exceptions are on the following lines ("no change except:"), None when unreadable."""
    j = start
    while j < end and lr.t[j].kind == "p" and lr.t[j].text in ":-–—,":
        j += 1
    below = lr.phrase(j, _EXCEPT_BELOW)
    if j >= end or (below is not None and all(t.kind == "p" for t in lr.t[below[1] : end])):
        return []  # "no change except:", "all on track except what's noted below:"
    items: list[tuple[list[int], int, int]] = []
    pending: list[int] = []
    while j < end:
        group = lr.group(j)
        if group is not None and not group.unknown:
            numbers, body = group.numbers, group.end
        else:
            name_end = j
            while name_end < end and lr.t[name_end].kind == "w":
                if lr.mention(name_end, end) is not None or lr.word(name_end) in (
                    "which",
                    "who",
                    "that",
                ):
                    break
                name_end += 1
            words = lr.r.name_words(lr.chars(j, name_end))
            matches = lr.r.match_name(words) if words else []
            if len(matches) != 1:
                break
            numbers, body = matches, name_end
        k = body
        while k < end:
            if lr.t[k - 1].text in (",", "and", "&", ")", ";") and (
                (nxt := lr.group(k)) is not None and not nxt.unknown
            ):
                break
            k += 1
        said_between = [t for t in lr.t[body:k] if t.kind != "p" and t.text != "and"]
        if not said_between:
            pending += numbers
            j = k
            continue
        items.append(([*pending, *numbers], body, k))
        pending = []
        j = k
    if pending:
        items.append((pending, end, end))
    return items or None


def _conclude(
    reader: _Reader,
    named: dict[int, list[_Outcome]],
    questions: list[Question],
    unreadable: list[Unreadable],
    defaults: list[_Default],
    loose: Mapping[int, str],
) -> ReplyReading:
    readings: list[Reading] = []
    # A name that could mean #9 or #10 asks about those of them no line says anything of.
    questions = [
        replace(q, choices=left)
        for q in questions
        if (left := tuple(c for c in q.choices if c.number not in named))
    ]
    asked: set[int] = {n for q in questions for n in q.numbers}
    for number, outcomes in named.items():
        outcomes = [o for o in outcomes if not o.placeholder] or outcomes
        known = reader.by_number.get(number)
        sure: list[_Outcome] = []
        unsure: list[_Outcome] = []
        for o in outcomes:
            (sure if o.body.status is not None or o.body.no_change else unsure).append(o)
        if sure:  # "Payments: …, 2 on track": the name's words said no status, the number did
            unsure = [o for o in unsure if o.body.choices]
        statuses = _unique(_status_of(o.body, known) for o in sure)
        bad = next((o for o in outcomes if o.body.bad_percent), None)
        if bad is not None:
            unreadable.append(
                Unreadable(bad.said, f"{bad.body.bad_percent}% is not between 0 and 100", (number,))
            )
            continue
        if not unsure and len(statuses) == 1:
            first = sure[0]
            note = next((o.body.note for o in sure if o.body.note), "")
            percent = next((o.body.percent for o in sure if o.body.percent is not None), None)
            if first.body.no_change:
                if known is None or known.status is None:
                    unreadable.append(
                        Unreadable(first.said, f"#{number} has no status yet to repeat", (number,))
                    )
                    continue
                percent = known.percent if percent is None else percent
                note = note or "No change"
            readings.append(Reading(number, statuses[0], percent, note, first.said))
            continue
        if not unsure and not statuses and sure:
            unreadable.append(Unreadable(sure[0].said, f"#{number} has no status yet", (number,)))
            continue
        choices = list(statuses)
        why = ""
        for o in unsure:
            choices += o.body.choices
            why = why or o.body.why
        if len(statuses) > 1 or (statuses and unsure):
            why = f"#{number} is given two statuses"
        body = (unsure or sure)[0].body
        if not choices:
            why = f"no status for #{number}" + (
                f" (I see {body.percent}%)" if body.percent is not None else ""
            )
            last = known.status if known is not None else None
            choices = [Status.ON_TRACK]
            if last is not None and last not in (Status.COMPLETE, Status.ON_TRACK):
                choices.append(last)
        questions.append(
            Question(
                outcomes[0].said,
                why,
                tuple(
                    Choice(number, status, body.percent, body.note) for status in _unique(choices)
                ),
            )
        )
        asked.add(number)
    mentioned = set(named) | asked | {n for u in unreadable for n in u.numbers}
    kept: list[int] = []
    without: list[int] = []
    if defaults:
        # "I'd say 3 is at risk but everything else is fine": whatever 3 is, "everything
        # else" is not about it.
        for number, said in sorted(loose.items()):
            if number not in mentioned:
                unreadable.append(
                    Unreadable(said, f"#{number} is mentioned, but not how it is going", (number,))
                )
                mentioned.add(number)
        default = defaults[0]
        if any(d.body.status != default.body.status for d in defaults[1:]):
            unreadable.append(Unreadable(defaults[1].said, "“all …” is said twice, differently"))
        for initiative in reader.initiatives:
            if initiative.number in mentioned:
                continue
            body = default.body
            if body.no_change:
                if initiative.status is None:
                    without.append(initiative.number)
                    continue
                readings.append(
                    Reading(
                        initiative.number,
                        initiative.status,
                        initiative.percent,
                        "No change",
                        default.said,
                        How.NO_CHANGE,
                    )
                )
                continue
            if initiative.status is Status.COMPLETE:
                kept.append(initiative.number)
                continue
            assert body.status is not None
            readings.append(
                Reading(
                    initiative.number,
                    body.status,
                    body.percent,
                    body.note,
                    default.said,
                    How.DEFAULT,
                )
            )
    return ReplyReading(
        tuple(readings), tuple(questions), tuple(unreadable), tuple(kept), tuple(without)
    )


def _status_of(body: _Body, known: Known | None) -> Status | None:
    if body.no_change:
        return known.status if known is not None else None
    return body.status
