"""Finding the goal or department a person meant: key, name, alias or a close misspelling."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Department, Goal

Kind = Literal["goal", "department"]

# A close misspelling must score this well (rapidfuzz ratio, 0–100) and beat the runner-up.
ACCEPT_SCORE = 85.0
SUGGEST_SCORE = 55.0
MAX_SUGGESTIONS = 3
# One slip (a letter wrong, missing, extra, or two swapped: "fier") in a word this long is taken
# as meant when no other name is as close.
ONE_SLIP_LENGTH = 4
# Words people add that name nothing: "public works department", "the safety goal".
FILLER = frozenset({"the", "department", "dept", "goal"})


@dataclass(frozen=True)
class Target:
    kind: Kind
    id: int
    key: str
    name: str


@dataclass(frozen=True)
class Resolution:
    target: Target | None
    suggestions: tuple[Target, ...] = ()
    guessed: bool = False  # the target is a close match, not a name typed as it is


def normalise(text: str) -> str:
    """Case, accents, punctuation and '&' do not matter when naming things."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    text = text.replace("&", " and ").replace("'", "").replace("’", "")
    return " ".join(re.findall(r"[a-z0-9]+", text))


@dataclass(frozen=True)
class Directory:
    """Every name a goal or department answers to, for one plan."""

    names: dict[str, Target]
    goals: dict[int, Goal]
    departments: dict[int, Department]

    def resolve(
        self, text: str, kinds: tuple[Kind, ...] = ("goal", "department"), *, guess: bool = True
    ) -> Resolution:
        """What `text` names. A close misspelling is taken as meant (and marked `guessed`)
        unless `guess` is False — for changes such as setting owners — where it is only the
        first suggestion."""
        found = self._resolve(text, kinds)
        if found.guessed and not guess and found.target is not None:
            return Resolution(None, (found.target,))
        return found

    def _resolve(self, text: str, kinds: tuple[Kind, ...]) -> Resolution:
        wanted = normalise(text)[:200]
        if not wanted:
            return Resolution(None)
        plain = " ".join(word for word in wanted.split() if word not in FILLER) or wanted
        for name in (wanted, plain):
            exact = self.names.get(name)
            if exact is not None and exact.kind in kinds:
                return Resolution(exact)
        wanted = plain
        choices = {name: t for name, t in self.names.items() if t.kind in kinds}
        if len(wanted) >= ONE_SLIP_LENGTH:
            slips = {t for name, t in choices.items() if OSA.distance(wanted, name) <= 1}
            if len(slips) == 1:
                return Resolution(slips.pop(), guessed=True)
        scored: dict[Target, float] = {}
        for name, score, _ in process.extract(
            wanted, list(choices), scorer=fuzz.ratio, limit=20, score_cutoff=SUGGEST_SCORE
        ):
            target = choices[name]
            scored[target] = max(score, scored.get(target, 0.0))
        ranked = sorted(scored.items(), key=lambda item: -item[1])
        if ranked and len(wanted) > 3 and ranked[0][1] >= ACCEPT_SCORE:
            runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
            if ranked[0][1] - runner_up >= 5:
                return Resolution(ranked[0][0], guessed=True)
        return Resolution(None, tuple(t for t, _ in ranked[:MAX_SUGGESTIONS]))

    def exact_department(self, text: str) -> Department | None:
        """The department whose key, name or alias is `text` (case and punctuation aside), and
        no guess: for files, where a misspelling should be pointed out, not taken as meant."""
        wanted = normalise(text)
        for department in self.departments.values():
            if wanted in {
                normalise(w) for w in (department.key, department.name, *department.aliases)
            }:
                return department
        return None

    def goal(self, target: Target) -> Goal:
        return self.goals[target.id]

    def department(self, target: Target) -> Department:
        return self.departments[target.id]


async def load_directory(session: AsyncSession, plan_id: int) -> Directory:
    """Two statements: the plan's goals and departments."""
    goals = {
        g.id: g for g in (await session.exec(select(Goal).where(col(Goal.plan_id) == plan_id)))
    }
    departments = {
        d.id: d
        for d in (await session.exec(select(Department).where(col(Department.plan_id) == plan_id)))
    }
    names: dict[str, Target] = {}
    # Departments first, so that a goal's name wins where both use the same word.
    for d in departments.values():
        target = Target("department", d.id or 0, d.key, d.name)
        for word in (d.key, d.name, *d.aliases):
            names[normalise(word)] = target
    for g in goals.values():
        target = Target("goal", g.id or 0, g.key, g.name)
        for word in (g.key, g.name, *g.aliases, *([g.short] if g.short else [])):
            names[normalise(word)] = target
    return Directory(
        names=names,
        goals={k or 0: v for k, v in goals.items()},
        departments={k or 0: v for k, v in departments.items()},
    )
