"""Generated plans of any size, deterministic for a seed: for tests of limits and benchmarks."""

from __future__ import annotations

import random

from models.planfile import DepartmentSpec, GoalGroupSpec, GoalSpec, InitiativeSpec, PlanSpec

_VERBS = ["Improve", "Expand", "Launch", "Modernise", "Review", "Fund", "Pilot", "Streamline"]
_THINGS = [
    "street lighting",
    "permit desk",
    "youth programs",
    "park upkeep",
    "fleet",
    "311 line",
    "grant tracking",
    "training academy",
    "open data",
    "snow routes",
    "library hours",
]


# A quarter of the goals are the plan's main ones, as in a typical city plan.
MAIN = GoalGroupSpec("main", "Main goals", "Main goal")
OTHER = GoalGroupSpec("other", "Other goals", "Other goal")


def synthetic_plan(
    departments: int, initiatives_per_department: int, goals: int, *, seed: int = 1
) -> PlanSpec:
    rng = random.Random(seed)
    main_goals = max(1, goals // 4)
    goal_specs = tuple(
        GoalSpec(
            key=f"goal-{g + 1}",
            name=f"Goal {g + 1}",
            kind=MAIN.key if g < main_goals else OTHER.key,
            objectives=(f"Objective of goal {g + 1}",),
        )
        for g in range(goals)
    )
    department_specs = []
    for d in range(departments):
        initiatives = []
        for n in range(1, initiatives_per_department + 1):
            chosen = {f"goal-{rng.randrange(main_goals) + 1}"}
            if goals > main_goals and rng.random() < 0.5:
                chosen.add(f"goal-{rng.randrange(main_goals, goals) + 1}")
            initiatives.append(
                InitiativeSpec(
                    number=n,
                    text=f"{rng.choice(_VERBS)} the {rng.choice(_THINGS)} (item {n})",
                    goals=tuple(sorted(chosen)),
                )
            )
        department_specs.append(
            DepartmentSpec(
                key=f"dept-{d + 1}", name=f"Department {d + 1}", initiatives=tuple(initiatives)
            )
        )
    return PlanSpec(
        key=f"synthetic-{departments}x{initiatives_per_department}-{goals}",
        name=f"Synthetic plan ({departments} departments)",
        fiscal_year="FY2030",
        goals=goal_specs,
        departments=tuple(department_specs),
        goal_groups=(MAIN, OTHER) if goals > main_goals else (MAIN,),
    )
