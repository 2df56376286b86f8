"""Plan files: read a plan from YAML or a CSV spreadsheet, check it whole, and describe it."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from models.clean import clean_text
from models.status import Status

if TYPE_CHECKING:
    from models.measurefile import MeasureSpec

DATA_DIR = Path(__file__).parent / "data"
BUNDLED_PLAN = DATA_DIR / "hartford-fy2016.yaml"
CSV_COLUMNS = ("department", "number", "text", "goals")
# `other_goals` holds goals of the plan's second group; `city_plan_goals` is its older name.
CSV_OPTIONAL = ("other_goals", "city_plan_goals", "parent", "status", "department_key")
MAX_TEXT = 2000
MAX_SHORT = 24  # a goal's short name labels a chart's bar on one line
MAX_GROUP = 60  # a goal group's name heads its goals in answers and charts


class PlanFileError(ValueError):
    """A plan file we refuse, with where the fault is."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


@dataclass(frozen=True)
class GoalGroupSpec:
    """A group of the plan's goals, as the plan file names it: its goals are listed together,
    groups in the file's order, the first being the plan's main goals (the digest's main post
    lists them)."""

    key: str
    name: str  # heads the group's goals: "Mayor's goals"
    one: str  # says what one of them is: "Mayor's goal"


# A plan file that does not group its goals has one group of them.
DEFAULT_GROUP = GoalGroupSpec("goals", "Goals", "Goal")
# A CSV plan's two columns of goals.
CSV_GROUPS = (DEFAULT_GROUP, GoalGroupSpec("other-goals", "Other goals", "Other goal"))


@dataclass(frozen=True)
class GoalSpec:
    key: str
    name: str
    kind: str  # the key of its GoalGroupSpec
    objectives: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    short: str = ""  # a short name for charts ("Jobs & Economy"); "" when the name is short


@dataclass(frozen=True)
class InitiativeSpec:
    number: int
    text: str
    goals: tuple[str, ...]
    parent: int | None = None
    status: Status | None = None


@dataclass(frozen=True)
class DepartmentSpec:
    key: str
    name: str
    aliases: tuple[str, ...] = ()
    initiatives: tuple[InitiativeSpec, ...] = ()


@dataclass(frozen=True)
class PlanSpec:
    key: str
    name: str
    fiscal_year: str
    goals: tuple[GoalSpec, ...]
    departments: tuple[DepartmentSpec, ...]
    source: str = ""
    # In the plan's order; () means one group per kind its goals name, in order of appearance.
    goal_groups: tuple[GoalGroupSpec, ...] = ()
    measures: tuple[MeasureSpec, ...] = ()  # the file's `measures:` list (YAML plans)
    initiative_count: int = field(init=False)

    def __post_init__(self) -> None:
        count = sum(len(d.initiatives) for d in self.departments)
        object.__setattr__(self, "initiative_count", count)
        if not self.goal_groups:
            kinds = dict.fromkeys(g.kind for g in self.goals)
            object.__setattr__(self, "goal_groups", tuple(_named_group(k) for k in kinds))

    def group(self, key: str) -> tuple[int, GoalGroupSpec]:
        """A goal group's place in the plan's order, and the group."""
        for position, group in enumerate(self.goal_groups):
            if group.key == key:
                return position, group
        raise KeyError(key)


def _named_group(key: str) -> GoalGroupSpec:
    """A group the plan file names only by its key: 'city-plan' → 'City plan goals'."""
    if key == DEFAULT_GROUP.key:
        return DEFAULT_GROUP
    for known in CSV_GROUPS:
        if known.key == key:
            return known
    words = key.replace("-", " ").strip().capitalize()
    return GoalGroupSpec(key, f"{words} goals", f"{words} goal")


def slug(text: str) -> str:
    """'Health & Human Services' → 'health-and-human-services'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = text.lower().replace("&", " and ")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def read_plan_file(path: Path | str | None = None) -> PlanSpec:
    """Read and check a plan file: the bundled Hartford plan when no path is given."""
    target = Path(path) if path is not None else BUNDLED_PLAN
    try:
        raw = target.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise PlanFileError(str(target), "no such file") from exc
    except UnicodeDecodeError as exc:
        raise PlanFileError(str(target), "not UTF-8 text") from exc
    suffix = target.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return parse_yaml_plan(raw, source=target.name)
    if suffix == ".csv":
        return parse_csv_plan(raw, source=target.name)
    raise PlanFileError(str(target), "a plan file ends in .yaml, .yml or .csv")


# --- YAML -------------------------------------------------------------------------------------


def parse_yaml_plan(raw: str, source: str = "plan.yaml") -> PlanSpec:
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source} line {mark.line + 1}" if mark else source
        raise PlanFileError(where, "not valid YAML") from exc
    if not isinstance(doc, dict):
        raise PlanFileError(source, "expected a mapping with plan, goals and departments")
    reader = FileReader(source)
    plan = reader.mapping(doc.get("plan"), "plan")
    name = reader.text(plan.get("name"), "plan.name")
    fiscal_year = reader.text(plan.get("fiscal_year", ""), "plan.fiscal_year", required=False)
    groups = tuple(
        _yaml_group(reader, item, f"goal_groups[{i}]")
        for i, item in enumerate(
            reader.sequence(doc.get("goal_groups"), "goal_groups", required=False)
        )
    )
    group_keys = [g.key for g in groups]
    if len(set(group_keys)) != len(group_keys):
        raise reader.fail("goal_groups", "a group key appears twice")
    goals = tuple(
        _yaml_goal(reader, item, f"goals[{i}]", group_keys)
        for i, item in enumerate(reader.sequence(doc.get("goals"), "goals"))
    )
    departments = tuple(
        _yaml_department(reader, item, f"departments[{i}]")
        for i, item in enumerate(reader.sequence(doc.get("departments"), "departments"))
    )
    from models.measurefile import yaml_measures  # measure files read plan files' fields

    spec = PlanSpec(
        key=slug(f"{name} {fiscal_year}".strip()),
        name=name,
        fiscal_year=fiscal_year,
        goals=goals,
        departments=departments,
        source=source,
        goal_groups=groups,
        measures=yaml_measures(reader, doc.get("measures")),
    )
    check_plan(spec, source)
    return spec


def _yaml_group(reader: FileReader, item: Any, where: str) -> GoalGroupSpec:
    data = reader.mapping(item, where)
    name = reader.text(data.get("name"), f"{where}.name")
    one = reader.text(data.get("one"), f"{where}.one", required=False)
    for part, text in (("name", name), ("one", one)):
        if len(text) > MAX_GROUP:
            raise reader.fail(f"{where}.{part}", f"longer than {MAX_GROUP} characters")
    return GoalGroupSpec(
        key=reader.key(data.get("key"), f"{where}.key"),
        name=name,
        one=one or (name[:-1] if name.endswith("s") else name),
    )


def _yaml_goal(reader: FileReader, item: Any, where: str, group_keys: list[str]) -> GoalSpec:
    data = reader.mapping(item, where)
    kind = reader.text(data.get("group", data.get("kind")), f"{where}.group", required=False)
    kind = kind or (group_keys[0] if group_keys else DEFAULT_GROUP.key)
    if group_keys and kind not in group_keys:
        raise reader.fail(f"{where}.group", f"{kind!r} is not one of goal_groups {group_keys}")
    if not group_keys and slug(kind) != kind:
        raise reader.fail(f"{where}.group", f"{kind!r} is not a key: use a-z, 0-9 and -")
    short = reader.text(data.get("short"), f"{where}.short", required=False)
    if len(short) > MAX_SHORT:
        raise reader.fail(f"{where}.short", f"longer than {MAX_SHORT} characters")
    return GoalSpec(
        key=reader.key(data.get("key"), f"{where}.key"),
        name=reader.text(data.get("name"), f"{where}.name"),
        kind=kind,
        objectives=reader.texts(data.get("objectives"), f"{where}.objectives"),
        aliases=reader.texts(data.get("aliases"), f"{where}.aliases"),
        short=short,
    )


def _yaml_department(reader: FileReader, item: Any, where: str) -> DepartmentSpec:
    data = reader.mapping(item, where)
    initiatives = tuple(
        _yaml_initiative(reader, entry, f"{where}.initiatives[{i}]")
        for i, entry in enumerate(
            reader.sequence(data.get("initiatives"), f"{where}.initiatives", required=False)
        )
    )
    return DepartmentSpec(
        key=reader.key(data.get("key"), f"{where}.key"),
        name=reader.text(data.get("name"), f"{where}.name"),
        aliases=reader.texts(data.get("aliases"), f"{where}.aliases"),
        initiatives=initiatives,
    )


def _yaml_initiative(reader: FileReader, item: Any, where: str) -> InitiativeSpec:
    data = reader.mapping(item, where)
    status = data.get("status")
    return InitiativeSpec(
        number=reader.number(data.get("number"), f"{where}.number"),
        text=reader.text(data.get("text"), f"{where}.text"),
        goals=tuple(slug(g) for g in reader.texts(data.get("goals"), f"{where}.goals")),
        parent=(
            None
            if data.get("parent") is None
            else reader.number(data.get("parent"), f"{where}.parent")
        ),
        status=None if status is None else reader.status(status, f"{where}.status"),
    )


class FileReader:
    """Typed reads of a parsed YAML document, each naming the place at fault."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> PlanFileError:
        return PlanFileError(f"{self.source} {where}", problem)

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "expected a mapping")
        return value

    def sequence(self, value: Any, where: str, required: bool = True) -> list[Any]:
        if value is None and not required:
            return []
        if not isinstance(value, list):
            raise self.fail(where, "expected a list")
        return value

    def text(self, value: Any, where: str, required: bool = True) -> str:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.fail(where, "is missing")
            return ""
        if not isinstance(value, str | int | float):
            raise self.fail(where, "expected text")
        text = clean_text(str(value)).strip()
        if len(text) > MAX_TEXT:
            raise self.fail(where, f"longer than {MAX_TEXT} characters")
        return text

    def texts(self, value: Any, where: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(where, "expected a list")
        return tuple(self.text(v, f"{where}[{i}]") for i, v in enumerate(value))

    def key(self, value: Any, where: str) -> str:
        text = self.text(value, where)
        if slug(text) != text:
            raise self.fail(where, f"{text!r} is not a key: use lowercase letters, digits and -")
        return text

    def number(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(where, f"{value!r} is not a whole number of 1 or more")
        return value

    def status(self, value: Any, where: str) -> Status:
        try:
            return Status(str(value))
        except ValueError:
            raise self.fail(where, f"{value!r} is not one of {[s.value for s in Status]}") from None


# --- CSV --------------------------------------------------------------------------------------


def parse_csv_plan(raw: str, source: str = "plan.csv", name: str | None = None) -> PlanSpec:
    """One row per initiative: department, number, text, goals (separated by ;), and optionally
    other_goals, parent, status and department_key. Goals named in `goals` are the plan's main
    goals (the first group); those in `other_goals` (or `city_plan_goals`) its second group."""
    reader = csv.DictReader(io.StringIO(raw))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise PlanFileError(f"{source} row 1", f"missing column(s): {', '.join(missing)}")
    unknown = [h for h in header if h not in CSV_COLUMNS + CSV_OPTIONAL]
    if unknown:
        raise PlanFileError(f"{source} row 1", f"unknown column(s): {', '.join(unknown)}")
    reader.fieldnames = header

    goals: dict[str, GoalSpec] = {}
    departments: dict[str, dict[str, Any]] = {}
    main, other = CSV_GROUPS
    for row_number, row in enumerate(reader, start=2):
        if None in row:
            raise PlanFileError(f"{source} row {row_number}", "more cells than columns")

        def cell(column: str, row: dict[str, Any] = row, at: int = row_number) -> str:
            value = clean_text(row.get(column) or "").strip()
            if len(value) > MAX_TEXT:
                raise PlanFileError(
                    f"{source} row {at}, column {column!r}", f"longer than {MAX_TEXT} characters"
                )
            return value

        def fail(column: str, problem: str, at: int = row_number) -> PlanFileError:
            return PlanFileError(f"{source} row {at}, column {column!r}", problem)

        if not any(cell(c) for c in header):
            continue
        department_name = cell("department")
        if not department_name:
            raise fail("department", "is empty")
        department_key = cell("department_key") or slug(department_name)
        if slug(department_key) != department_key or not department_key:
            raise fail("department_key", f"{department_key!r} is not a key")
        number_text = cell("number")
        if not number_text.isdigit() or int(number_text) < 1:
            raise fail("number", f"{number_text!r} is not a whole number of 1 or more")
        text = cell("text")
        if not text:
            raise fail("text", "is empty")
        goal_keys: list[str] = []
        columns = (("goals", main.key), ("other_goals", other.key), ("city_plan_goals", other.key))
        for column, kind in columns:
            for goal_name in _split(cell(column) if column in header else ""):
                key = slug(goal_name)
                if not key:
                    raise fail(column, f"{goal_name!r} is not a goal name")
                known = goals.get(key)
                if known is not None and known.kind != kind:
                    raise fail(column, f"goal {goal_name!r} is listed as both kinds")
                goals.setdefault(key, GoalSpec(key=key, name=goal_name, kind=kind))
                goal_keys.append(key)
        if not any(goals[k].kind == main.key for k in goal_keys):
            raise fail("goals", "every initiative needs at least one goal")
        parent_text = cell("parent") if "parent" in header else ""
        if parent_text and (not parent_text.isdigit() or int(parent_text) < 1):
            raise fail("parent", f"{parent_text!r} is not an initiative number")
        status_text = cell("status") if "status" in header else ""
        try:
            status = Status(slug(status_text).replace("-", "_")) if status_text else None
        except ValueError:
            raise fail("status", f"{status_text!r} is not a status") from None
        dept = departments.setdefault(
            department_key, {"name": department_name, "initiatives": [], "rows": {}}
        )
        number = int(number_text)
        if number in dept["rows"]:
            raise fail(
                "number", f"{department_name} #{number} is already on row {dept['rows'][number]}"
            )
        dept["rows"][number] = row_number
        dept["initiatives"].append(
            InitiativeSpec(
                number=number,
                text=text,
                goals=tuple(dict.fromkeys(goal_keys)),
                parent=int(parent_text) if parent_text else None,
                status=status,
            )
        )
    if not departments:
        raise PlanFileError(source, "no initiatives")
    plan_name = name or Path(source).stem.replace("-", " ").replace("_", " ").strip().title()
    spec = PlanSpec(
        key=slug(plan_name),
        name=plan_name,
        fiscal_year="",
        goals=tuple(goals.values()),
        departments=tuple(
            DepartmentSpec(key=key, name=d["name"], initiatives=tuple(d["initiatives"]))
            for key, d in departments.items()
        ),
        source=source,
        goal_groups=tuple(g for g in CSV_GROUPS if any(s.kind == g.key for s in goals.values())),
    )
    for d in departments.values():
        for initiative in d["initiatives"]:
            if initiative.parent is not None and initiative.parent not in d["rows"]:
                raise PlanFileError(
                    f"{source} row {d['rows'][initiative.number]}, column 'parent'",
                    f"{d['name']} has no initiative #{initiative.parent}",
                )
    check_plan(spec, source)
    return spec


def _split(cell: str) -> Iterable[str]:
    return [part.strip() for part in re.split(r"[;|]", cell) if part.strip()]


# --- whole-plan checks ------------------------------------------------------------------------


def check_plan(spec: PlanSpec, source: str) -> None:
    """Checks that need the whole plan: unique keys and names, goals that exist, parents."""
    if not spec.goals:
        raise PlanFileError(source, "the plan has no goals")
    goal_kinds = {g.key: g.kind for g in spec.goals}
    main = spec.goal_groups[0].key  # its main goals: every initiative serves one
    seen: dict[str, str] = {}

    def claim(word: str, owner: str) -> None:
        folded = word.casefold()
        if folded in seen and seen[folded] != owner:
            raise PlanFileError(source, f"{word!r} names both {seen[folded]} and {owner}")
        seen[folded] = owner

    for goal in spec.goals:
        if f"goal {goal.key}" in seen.values():
            raise PlanFileError(source, f"goal key {goal.key!r} appears twice")
        for word in (goal.key, goal.name, *goal.aliases, *([goal.short] if goal.short else [])):
            claim(word, f"goal {goal.key}")
    for dept in spec.departments:
        if f"department {dept.key}" in seen.values():
            raise PlanFileError(source, f"department key {dept.key!r} appears twice")
        for word in (dept.key, dept.name, *dept.aliases):
            claim(word, f"department {dept.key}")
        numbers = {i.number for i in dept.initiatives}
        if len(numbers) != len(dept.initiatives):
            raise PlanFileError(source, f"{dept.name} repeats an initiative number")
        for initiative in dept.initiatives:
            where = f"{dept.name} #{initiative.number}"
            for key in initiative.goals:
                if key not in goal_kinds:
                    raise PlanFileError(source, f"{where} names unknown goal {key!r}")
            if not any(goal_kinds[k] == main for k in initiative.goals):
                raise PlanFileError(source, f"{where} serves none of the plan's main goals")
            if initiative.parent is not None and (
                initiative.parent not in numbers or initiative.parent == initiative.number
            ):
                raise PlanFileError(source, f"{where} has no parent #{initiative.parent}")
