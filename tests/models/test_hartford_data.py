"""Proves the Hartford FY2016 plan file holds exactly the seed document's plan, sensibly aligned."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "models" / "data"
PLAN_FILE = DATA_DIR / "hartford-fy2016.yaml"
SEED_FILE = DATA_DIR / "hartford-fy2016-strategic-plan.txt"

CORE_GOALS_HEADING = "Fiscal Year 2016 Core Goals"
DEPARTMENTS_HEADING = "Fiscal Year 2016 Departmental Strategic Plan Initiatives"
PRESENTED_NOTE = "(Presented in accordance with Expenditure Sections)"
TOP_BULLET = "- "
SUB_BULLET = " - "
CHECK_BULLET = "- ✓ "
COMPLETED = " (completed)"
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def load_plan() -> dict:
    return yaml.safe_load(PLAN_FILE.read_text(encoding="utf-8"))


def seed_lines() -> list[str]:
    return SEED_FILE.read_text(encoding="utf-8").splitlines()


def seed_departments() -> list[tuple[str, list[str]]]:
    """(heading, bullet lines as written) for each department, in seed order."""
    lines = seed_lines()
    departments: list[tuple[str, list[str]]] = []
    for line in lines[lines.index(DEPARTMENTS_HEADING) + 1 :]:
        if not line.strip() or line == PRESENTED_NOTE:
            continue
        if line.startswith(TOP_BULLET) or line.startswith(SUB_BULLET):
            assert departments, f"bullet before any department heading: {line!r}"
            departments[-1][1].append(line)
        else:
            departments.append((line, []))
    return departments


def seed_core_goal_objectives() -> dict[str, list[str]]:
    """The ✓ bullets under each Roman-numeral heading ("I. SAFETY" → "SAFETY": [...])."""
    lines = seed_lines()
    objectives: dict[str, list[str]] = {}
    heading = None
    for line in lines[lines.index(CORE_GOALS_HEADING) + 1 :]:
        numbered = re.fullmatch(r"(?:I|II|III|IV|V|VI|VII|VIII|IX|X)\. (.+)", line)
        if numbered:
            heading = numbered.group(1)
            objectives[heading] = []
        elif heading and line.startswith(CHECK_BULLET):
            objectives[heading].append(line[len(CHECK_BULLET) :])
        elif line.strip():
            break
    return objectives


def seed_matrix_goal_names() -> tuple[list[str], list[str]]:
    """Mayor's goals and One City, One Plan goals as numbered in the planning matrix."""
    row = next(line for line in seed_lines() if line.startswith("1) SAFETY"))
    mayors, city_plan = row.split("\t")[:2]
    return (
        re.findall(r"\d\) (.+?)(?= \d\) |$)", mayors),
        re.findall(r"\d\) (.+?)\.(?= \d\) |$)", city_plan),
    )


def as_seed_bullet(initiative: dict) -> str:
    """The line the seed would show for this initiative."""
    marker = COMPLETED if initiative.get("status") == "complete" else ""
    prefix = SUB_BULLET if "parent" in initiative else TOP_BULLET
    return f"{prefix}{initiative['text']}{marker}"


def by_number(department: dict) -> list[dict]:
    return sorted(department["initiatives"], key=lambda initiative: initiative["number"])


def all_initiatives(plan: dict) -> list[tuple[dict, dict]]:
    return [(dept, initiative) for dept in plan["departments"] for initiative in by_number(dept)]


def department(plan: dict, key: str) -> dict:
    return next(dept for dept in plan["departments"] if dept["key"] == key)


def test_plan_header_names_the_seed_next_to_it() -> None:
    plan = load_plan()["plan"]

    assert plan["name"] == "City of Hartford Fiscal Year 2016 Strategic Plan"
    assert plan["fiscal_year"] == "FY2016"
    assert (PLAN_FILE.parent / plan["source"]).resolve() == SEED_FILE.resolve()


def test_departments_are_the_seed_headings_in_order() -> None:
    names = [dept["name"] for dept in load_plan()["departments"]]

    assert names == [heading for heading, _ in seed_departments()]


def test_every_seed_bullet_is_an_initiative_verbatim_and_none_is_invented() -> None:
    plan = load_plan()
    seed = dict(seed_departments())

    for dept in plan["departments"]:
        if dept["key"] == "mayor":
            continue
        rebuilt = [as_seed_bullet(initiative) for initiative in by_number(dept)]
        assert rebuilt == seed[dept["name"]], dept["name"]


def test_completed_marker_becomes_status_and_leaves_the_text() -> None:
    plan = load_plan()
    seed = dict(seed_departments())

    for _dept, initiative in all_initiatives(plan):
        assert not initiative["text"].endswith(COMPLETED), initiative["text"]
        assert initiative.get("status", "complete") == "complete", initiative
    completed = {
        (dept["key"], initiative["number"])
        for dept, initiative in all_initiatives(plan)
        if initiative.get("status") == "complete"
    }
    seed_completed = {
        (dept["key"], number)
        for dept in plan["departments"]
        for number, line in enumerate(seed[dept["name"]], start=1)
        if line.endswith(COMPLETED)
    }
    assert completed == seed_completed == {("hhs", 8), ("hhs", 9)}


def test_mayors_office_bullets_are_the_mayors_goals_not_initiatives() -> None:
    plan = load_plan()
    mayors_office = department(plan, "mayor")
    mayor_goal_names = [goal["name"] for goal in plan["goals"] if goal["kind"] == "mayor"]

    assert mayors_office["initiatives"] == []
    bullets = dict(seed_departments())[mayors_office["name"]]
    assert [line.removeprefix(TOP_BULLET).casefold() for line in bullets] == [
        name.casefold() for name in mayor_goal_names
    ]


def test_mayors_goal_objectives_are_the_seed_check_marks() -> None:
    goals = [goal for goal in load_plan()["goals"] if goal["kind"] == "mayor"]
    seed = seed_core_goal_objectives()

    assert [heading.casefold() for heading in seed] == [goal["name"].casefold() for goal in goals]
    for goal in goals:
        assert goal["objectives"] == seed[goal["name"].upper()], goal["key"]
        assert len(goal["objectives"]) == 3, goal["key"]


def test_goals_follow_the_planning_matrix() -> None:
    goals = load_plan()["goals"]
    matrix_mayors, matrix_city_plan = seed_matrix_goal_names()

    assert [goal["kind"] for goal in goals] == ["mayor"] * 4 + ["city-plan"] * 6
    assert [goal["name"].casefold() for goal in goals[:4]] == [
        name.casefold() for name in matrix_mayors
    ]
    assert [goal["name"] for goal in goals[4:]] == matrix_city_plan
    assert [goal["key"] for goal in goals] == [
        "safety",
        "jobs",
        "education",
        "quality-of-life",
        "neighborhoods",
        "environment",
        "mobility",
        "downtown",
        "sustainability",
        "economic-base",
    ]
    for goal in goals[4:]:
        assert goal["objectives"] == [], goal["key"]


def test_every_initiative_serves_a_mayors_goal_first_and_only_known_goals() -> None:
    plan = load_plan()
    kinds = {goal["key"]: goal["kind"] for goal in plan["goals"]}

    for dept, initiative in all_initiatives(plan):
        where = f"{dept['key']} #{initiative['number']}"
        goal_keys = initiative["goals"]
        assert goal_keys, where
        assert set(goal_keys) <= set(kinds), where
        assert len(set(goal_keys)) == len(goal_keys), where
        goal_kinds = [kinds[key] for key in goal_keys]
        assert goal_kinds[0] == "mayor", where
        assert goal_kinds == sorted(goal_kinds, key=lambda kind: kind != "mayor"), where


def test_numbers_run_one_to_n_and_parents_point_back_to_top_level_items() -> None:
    for dept in load_plan()["departments"]:
        numbers = [initiative["number"] for initiative in dept["initiatives"]]
        assert numbers == list(range(1, len(numbers) + 1)), dept["key"]
        top_level = set()
        for initiative in by_number(dept):
            if "parent" in initiative:
                assert initiative["parent"] in top_level, (dept["key"], initiative["number"])
            else:
                top_level.add(initiative["number"])


def test_keys_and_aliases_never_collide_across_goals_and_departments() -> None:
    plan = load_plan()
    owner_of: dict[str, str] = {}

    for entity in plan["goals"] + plan["departments"]:
        assert SLUG.fullmatch(entity["key"]), entity["key"]
        terms = {term.casefold() for term in [entity["key"], entity["name"], *entity["aliases"]]}
        for term in terms:
            assert term not in owner_of, f"{term!r}: {owner_of.get(term)} and {entity['key']}"
            owner_of[term] = entity["key"]


def test_safety_is_what_a_coo_would_call_safety() -> None:
    plan = load_plan()

    def safety_aligned(initiative: dict) -> bool:
        return "safety" in initiative["goals"]

    for key in ("fire", "police", "ests"):
        for initiative in department(plan, key)["initiatives"]:
            assert safety_aligned(initiative), (key, initiative["text"])
    flood_control = [
        initiative
        for initiative in department(plan, "dpw")["initiatives"]
        if "flood control" in initiative["text"]
    ]
    environmental_health = [
        initiative
        for initiative in department(plan, "hhs")["initiatives"]
        if "environmental health" in initiative["text"]
    ]
    assert len(flood_control) == 1 and safety_aligned(flood_control[0])
    assert len(environmental_health) == 1 and safety_aligned(environmental_health[0])
    for key in ("clerk", "hr", "ombg", "communications", "finance"):
        for initiative in department(plan, key)["initiatives"]:
            assert not safety_aligned(initiative), (key, initiative["text"])


def test_the_plan_has_the_seed_counts() -> None:
    plan = load_plan()

    assert len(all_initiatives(plan)) == 87
    assert len(plan["goals"]) == 10
    assert sum(goal["kind"] == "mayor" for goal in plan["goals"]) == 4
    assert sum(goal["kind"] == "city-plan" for goal in plan["goals"]) == 6
    assert len(plan["departments"]) == 19
