"""Display names for user ids: users.info for a few, users.list page by page for many, escaped,
cached, and the id when Slack cannot say."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import Fault, SlackStandin
from handlers.people import LIST_FROM, LIST_PAGE, PeopleNames

MEMBERS = {f"U{n:04d}": f"Person {n}" for n in range(450)}  # three pages of users.list


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandin]:
    async with SlackStandin(users={**MEMBERS, "UHOSTILE": "<!here> & co"}) as standin:
        yield standin


def client_for(slack: SlackStandin) -> AsyncWebClient:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
    client.retry_handlers = []
    return client


async def test_a_few_names_are_looked_up_one_by_one(slack: SlackStandin) -> None:
    people = await PeopleNames().names(client_for(slack), ["U0001", "U0002", "U0001"])
    assert people("U0001") == "@Person 1" and people("U0002") == "@Person 2"
    assert sorted(c.args["user"] for c in slack.calls_to("users.info")) == ["U0001", "U0002"]
    assert slack.calls_to("users.list") == []


async def test_many_names_come_from_users_list_pages_until_all_are_found(
    slack: SlackStandin,
) -> None:
    wanted = [f"U{n:04d}" for n in range(250, 250 + LIST_FROM * 3)]  # all on the second page
    people = await PeopleNames().names(client_for(slack), wanted)
    assert [people(u) for u in wanted] == [f"@Person {n}" for n in range(250, 280)]
    pages = slack.calls_to("users.list")
    assert len(pages) == 2  # the third page is never asked for
    assert all(int(p.args["limit"]) == LIST_PAGE for p in pages)
    assert slack.calls_to("users.info") == []


async def test_names_users_list_does_not_have_are_asked_for_one_by_one(
    slack: SlackStandin,
) -> None:
    # Guests and people from other workspaces in a shared channel are not in users.list.
    wanted = [*(f"U{n:04d}" for n in range(LIST_FROM)), "UGUEST1", "UGUEST2"]
    people = await PeopleNames().names(client_for(slack), wanted)
    assert people("U0003") == "@Person 3"
    assert people("UGUEST1") == "@uguest1"  # the stand-in's users.info name for a stranger
    assert len(slack.calls_to("users.list")) == 3  # looked through every page first
    assert sorted(c.args["user"] for c in slack.calls_to("users.info")) == ["UGUEST1", "UGUEST2"]


async def test_when_users_list_fails_each_name_is_looked_up(slack: SlackStandin) -> None:
    slack.inject("users.list", Fault.error("ratelimited"))
    wanted = [f"U{n:04d}" for n in range(LIST_FROM)]
    people = await PeopleNames().names(client_for(slack), wanted)
    assert [people(u) for u in wanted] == [f"@Person {n}" for n in range(LIST_FROM)]
    assert len(slack.calls_to("users.info")) == LIST_FROM


async def test_a_failed_lookup_shows_the_id_and_names_are_escaped(slack: SlackStandin) -> None:
    slack.inject("users.info", Fault.error("user_not_found"))
    names = PeopleNames()
    people = await names.names(client_for(slack), ["UGONE"])
    assert people("UGONE") == "@UGONE"
    people = await names.names(client_for(slack), ["UHOSTILE"])
    assert people("UHOSTILE") == "@&lt;!here&gt; &amp; co"


async def test_names_are_cached(slack: SlackStandin) -> None:
    names = PeopleNames()
    client = client_for(slack)
    wanted = [f"U{n:04d}" for n in range(LIST_FROM * 2)]
    await names.names(client, wanted)
    calls = len(slack.calls)
    people = await names.names(client, [*wanted, "U0001"])
    assert len(slack.calls) == calls
    assert people("U0007") == "@Person 7"


async def test_at_most_so_many_people_are_kept_the_least_recently_used_go_first(
    slack: SlackStandin,
) -> None:
    names = PeopleNames(most=5)
    client = client_for(slack)
    for n in range(8):  # one at a time: users.info each
        await names.names(client, [f"U{n:04d}"])
        if n == 4:
            await names.names(client, ["U0000"])  # asked for again: used most recently
    assert len(names) == 5
    slack.reset()
    # Kept: U0000 (used again), U0005–U0007 and U0004; dropped: U0001–U0003, asked again.
    kept = ["U0000", "U0004", "U0005", "U0006", "U0007"]
    people = await names.names(client, kept)
    assert [people(u) for u in kept] == [f"@Person {int(u[1:])}" for u in kept]
    assert slack.calls_to("users.info") == []
    people = await names.names(client, ["U0002"])
    assert people("U0002") == "@Person 2"  # dropped, so asked again: the same answer
    assert [c.args["user"] for c in slack.calls_to("users.info")] == ["U0002"]
    assert len(names) == 5


async def test_a_users_list_run_keeps_every_member_it_read(slack: SlackStandin) -> None:
    names = PeopleNames(most=LIST_PAGE * 3)
    wanted = [f"U{n:04d}" for n in range(440, 450)]  # on the last page: all three are read
    people = await names.names(client_for(slack), wanted)
    assert [people(u) for u in wanted] == [f"@Person {n}" for n in range(440, 450)]
    assert len(names) >= len(MEMBERS)  # every member listed (the bot and guests too)


async def test_profiles_come_page_by_page_each_person_once(slack: SlackStandin) -> None:
    people = PeopleNames()
    client = client_for(slack)
    await people.names(client, ["U0001"])  # read a moment ago: given at once
    members = (5, 210, 220, 230, 240, 250, 260, 440, 449)
    wanted = ["U0001", *(f"U{n:04d}" for n in members), "UGUEST"]
    steps = []
    async for found in people.profiles_as_read(client, wanted):
        steps.append((sorted(found), len(slack.calls_to("users.list"))))
    assert steps == [
        (["U0001"], 0),
        (["U0005"], 1),
        (["U0210", "U0220", "U0230", "U0240", "U0250", "U0260"], 2),
        (["U0440", "U0449"], 3),
        (["UGUEST"], 3),  # not a member: users.info, after the list
    ]
    assert [c.args["user"] for c in slack.calls_to("users.info")] == ["U0001", "UGUEST"]
