"""Another city's plan: three goal groups named its own way, shown by every surface in its order
and words, with no code written for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.workspace import Workspace
from handlers.messages.chart import render_status_by_goal
from models.db import session_scope
from models.planfile import parse_yaml_plan
from models.plans import active_plan, load_plan
from models.queries import goals_overview
from tests.helpers import ADMIN, COO, PEOPLE, PERIOD, mrkdwn_texts

# Groups listed in an order that is not alphabetical, goals listed out of group order.
SPRINGFIELD = """
plan:
  name: "Springfield Plan"
  fiscal_year: "FY2027"
goal_groups:
  - key: council
    name: "Council priorities"
    one: "Council priority"
  - key: equity
    name: "Equity commitments"
    one: "Equity commitment"
  - key: neighbourhood
    name: "Neighbourhood plan aims"
    one: "Neighbourhood plan aim"
goals:
  - {key: parks, name: "Green parks", group: neighbourhood}
  - {key: housing, name: "Homes for all", group: council, objectives: ["Build 500 homes"]}
  - {key: access, name: "Fair access", group: equity}
  - {key: transit, name: "Buses on time", group: council}
departments:
  - key: works
    name: "Public Works"
    initiatives:
      - {number: 1, text: "Plant trees", goals: [housing, parks]}
      - {number: 2, text: "Fix the bus lanes", goals: [transit, access]}
"""


@pytest.fixture
async def springfield(database_url: str) -> AsyncIterator[Workspace]:
    spec = parse_yaml_plan(SPRINGFIELD, source="springfield.yaml")
    async with Workspace(database_url, admins=(ADMIN,), users=PEOPLE) as ws:
        async with session_scope(ws.engine) as session:
            await load_plan(session, spec, period=PERIOD)
        yield ws


def test_a_plan_file_names_its_groups_and_their_order() -> None:
    spec = parse_yaml_plan(SPRINGFIELD, source="springfield.yaml")
    assert [g.name for g in spec.goal_groups] == [
        "Council priorities",
        "Equity commitments",
        "Neighbourhood plan aims",
    ]
    assert spec.group("equity") == (1, spec.goal_groups[1])


async def test_goals_are_listed_under_the_plans_own_groups_in_its_order(
    springfield: Workspace,
) -> None:
    answer = (await springfield.command("goals", user=COO)).message
    texts = "\n".join(mrkdwn_texts(answer["blocks"]))
    headings = [line for line in texts.splitlines() if line.startswith("*") and line.endswith("*")]
    assert headings[-3:] == [
        "*Council priorities*",
        "*Equity commitments*",
        "*Neighbourhood plan aims*",
    ]
    # Each goal under its own group, in the file's order within the group.
    council = texts.index("*Council priorities*")
    equity = texts.index("*Equity commitments*")
    assert council < texts.index("Homes for all") < texts.index("Buses on time") < equity
    assert texts.index("Green parks") > texts.index("*Neighbourhood plan aims*")
    assert "Mayor" not in texts and "One City" not in texts


async def test_a_goal_says_which_group_it_belongs_to(springfield: Workspace) -> None:
    answer = (await springfield.command("homes for all", user=COO)).message
    assert "Council priority" in "\n".join(mrkdwn_texts(answer["blocks"]))
    objectives = (await springfield.command("housing objectives", user=COO)).message
    assert "Council priority" in "\n".join(mrkdwn_texts(objectives["blocks"]))


async def test_the_digest_leads_with_the_first_groups_goals(springfield: Workspace) -> None:
    answer = (await springfield.command("digest", user=ADMIN)).message
    main = "\n".join(mrkdwn_texts(answer["blocks"]))
    assert "Homes for all" in main and "Buses on time" in main
    assert "Green parks" not in main and "Fair access" not in main


async def test_the_chart_draws_every_group(springfield: Workspace) -> None:
    async with session_scope(springfield.engine) as session:
        plan = await active_plan(session)
        assert plan.id is not None
        overview = await goals_overview(session, plan.id, PERIOD)
    assert [name for name, _ in overview.by_group()] == [
        "Council priorities",
        "Equity commitments",
        "Neighbourhood plan aims",
    ]
    assert render_status_by_goal(overview, "Springfield").startswith(b"\x89PNG")
