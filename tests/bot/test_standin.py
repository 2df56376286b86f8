"""Tests for bot.standin: the loopback Slack Web API stand-in, driven by the real slack_sdk."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from decimal import Decimal
from typing import Any

import aiohttp
import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.standin import DEFAULT_SCOPES, Fault, SlackStandin

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Goal 1*: parks"}}]
METADATA = {"event_type": "plan_update", "event_payload": {"goal_id": 1}}
FAST = FixedValueRetryIntervalCalculator(0.01)


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandin]:
    async with SlackStandin(users={"U123": "Dana"}) as standin:
        yield standin


def client_for(slack: SlackStandin, *, retries: bool = False) -> AsyncWebClient:
    """A real slack_sdk client pointed at the stand-in; optionally with retry handlers."""
    client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
    # The default list already holds a ConnectionErrorRetryHandler with a ~0.5-1 s backoff;
    # replace it with fast fixed-interval handlers (same behaviour as appending, quicker).
    client.retry_handlers = []
    if retries:
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        client.retry_handlers.append(AsyncServerErrorRetryHandler(interval_calculator=FAST))
        client.retry_handlers.append(AsyncConnectionErrorRetryHandler(interval_calculator=FAST))
    return client


async def test_base_url_is_loopback_and_auth_test_answers_bot_identity(
    slack: SlackStandin,
) -> None:
    assert slack.base_url.startswith("http://127.0.0.1:")
    assert slack.base_url.endswith("/api/")
    resp = await client_for(slack).auth_test()
    assert resp["ok"] is True
    assert resp["user_id"] == "UPLANBOT"
    assert resp["team_id"] == "T0PLAN"
    assert resp["bot_id"] == "BPLANBOT"
    assert resp["user"] == "planbot"
    [call] = slack.calls_to("auth.test")
    assert call.token == "xoxb-test"
    assert call.status == 200


async def test_post_message_records_decoded_blocks_and_metadata_with_increasing_ts(
    slack: SlackStandin,
) -> None:
    client = client_for(slack)
    first = await client.chat_postMessage(
        channel="C1", text="Goal 1", blocks=BLOCKS, metadata=METADATA
    )
    second = await client.chat_postMessage(channel="C1", text="reply", thread_ts=first["ts"])

    assert first["channel"] == "C1"
    assert first["message"]["blocks"] == BLOCKS
    assert Decimal(second["ts"]) > Decimal(first["ts"])
    call = slack.calls_to("chat.postMessage")[0]
    assert call.args["blocks"] == BLOCKS
    assert call.args["metadata"] == METADATA
    stored = slack.messages["C1"][0]
    assert stored["text"] == "Goal 1"
    assert stored["user"] == "UPLANBOT"
    assert stored["metadata"] == METADATA
    assert slack.messages["C1"][1]["thread_ts"] == first["ts"]


async def test_form_encoded_json_strings_are_decoded(slack: SlackStandin) -> None:
    client = client_for(slack)
    await client.api_call(
        "chat.postMessage",
        data={"channel": "C1", "text": "form", "blocks": json.dumps(BLOCKS)},
    )
    call = slack.calls_to("chat.postMessage")[0]
    assert call.args["blocks"] == BLOCKS
    assert slack.messages["C1"][0]["blocks"] == BLOCKS


async def test_history_shows_metadata_only_when_asked_and_update_changes_message(
    slack: SlackStandin,
) -> None:
    client = client_for(slack)
    old = await client.chat_postMessage(channel="C1", text="old", metadata=METADATA)
    new = await client.chat_postMessage(channel="C1", text="new")
    await client.chat_postMessage(channel="C1", text="in thread", thread_ts=old["ts"])

    history = await client.conversations_history(channel="C1", include_all_metadata=True)
    assert [m["ts"] for m in history["messages"]] == [new["ts"], old["ts"]]  # newest first
    assert history["messages"][1]["metadata"] == METADATA
    assert history["has_more"] is False
    plain = await client.conversations_history(channel="C1")
    assert all("metadata" not in m for m in plain["messages"])
    limited = await client.conversations_history(channel="C1", limit=1)
    assert [m["ts"] for m in limited["messages"]] == [new["ts"]]
    after = await client.conversations_history(channel="C1", oldest=old["ts"])
    assert [m["ts"] for m in after["messages"]] == [new["ts"]]

    replies = await client.conversations_replies(channel="C1", ts=old["ts"])
    assert [m["text"] for m in replies["messages"]] == ["old", "in thread"]

    updated = await client.chat_update(channel="C1", ts=old["ts"], text="edited", blocks=BLOCKS)
    assert updated["ts"] == old["ts"]
    history = await client.conversations_history(channel="C1")
    assert history["messages"][1]["text"] == "edited"
    assert history["messages"][1]["blocks"] == BLOCKS

    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel="C1", ts="1.000001", text="nope")
    assert err.value.response["error"] == "message_not_found"


async def test_dm_users_and_views(slack: SlackStandin) -> None:
    client = client_for(slack)
    posted = await client.chat_postMessage(channel="U123", text="hi")
    assert posted["channel"] == "DU123"
    assert slack.messages["DU123"][0]["text"] == "hi"
    opened = await client.conversations_open(users="U123")
    assert opened["channel"]["id"] == "DU123"

    dana = await client.users_info(user="U123")
    assert dana["user"]["profile"]["display_name"] == "Dana"
    stranger = await client.users_info(user="U999")
    assert stranger["user"]["name"] == "u999"

    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Plan"}, "blocks": BLOCKS}
    first = await client.views_open(trigger_id="t1", view=modal)
    second = await client.views_open(trigger_id="t2", view=modal)
    assert first["view"]["id"].startswith("V")
    assert first["view"]["id"] != second["view"]["id"]
    assert first["view"]["blocks"] == BLOCKS
    home = {"type": "home", "blocks": BLOCKS}
    published = await client.views_publish(user_id="U123", view=home)
    assert slack.home_views["U123"]["type"] == "home"
    assert slack.home_views["U123"]["id"] == published["view"]["id"]


async def test_unknown_method_answers_ok_and_is_recorded(slack: SlackStandin) -> None:
    resp = await client_for(slack).api_call("bookmarks.add", json={"channel_id": "C1"})
    assert resp["ok"] is True
    assert slack.calls_to("bookmarks.add")[0].args == {"channel_id": "C1"}


async def test_rate_limited_then_success_is_retried(slack: SlackStandin) -> None:
    slack.inject("chat.postMessage", Fault.rate_limited(retry_after=1))
    resp = await client_for(slack, retries=True).chat_postMessage(channel="C1", text="x")
    assert resp["ok"] is True
    calls = slack.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 1.0
    assert len(slack.messages["C1"]) == 1


@pytest.mark.parametrize(
    ("fault", "first_status"),
    [(Fault.server_error(), 500), (Fault.drop(), 0)],
    ids=["server_error", "drop"],
)
async def test_server_error_or_dropped_connection_then_success_is_retried(
    slack: SlackStandin, fault: Fault, first_status: int
) -> None:
    slack.inject("chat.postMessage", fault)
    resp = await client_for(slack, retries=True).chat_postMessage(channel="C1", text="x")
    assert resp["ok"] is True
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [first_status, 200]
    assert len(slack.messages["C1"]) == 1


async def test_faults_surface_as_errors_without_retry_handlers(slack: SlackStandin) -> None:
    client = client_for(slack)
    slack.inject(
        "chat.postMessage",
        Fault.rate_limited(retry_after=3),
        Fault.error("channel_not_found"),
        Fault.server_error(503),
    )
    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel="C1", text="x")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "3"
    assert limited.value.response["error"] == "ratelimited"

    with pytest.raises(SlackApiError) as missing:
        await client.chat_postMessage(channel="C1", text="x")
    assert missing.value.response["error"] == "channel_not_found"

    with pytest.raises(SlackApiError) as broken:
        await client.chat_postMessage(channel="C1", text="x")
    assert broken.value.response.status_code == 503

    with pytest.raises(aiohttp.ServerDisconnectedError):
        slack.inject("auth.test", Fault.drop())
        await client.auth_test()

    assert (await client.chat_postMessage(channel="C1", text="x"))["ok"] is True  # queue drained
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200, 503, 200]
    assert [c.ok for c in slack.calls_to("chat.postMessage")] == [False, False, False, True]


async def test_files_upload_v2_stores_bytes_and_completes_in_channel(
    slack: SlackStandin,
) -> None:
    resp = await client_for(slack).files_upload_v2(
        channel="C1", content=b"a,b\n1,2\n", filename="x.csv", initial_comment="the export"
    )
    assert resp["ok"] is True
    file_id = resp["file"]["id"]
    assert slack.uploads[file_id] == b"a,b\n1,2\n"
    [get_url] = slack.calls_to("files.getUploadURLExternal")
    assert get_url.args["filename"] == "x.csv"
    assert get_url.args["length"] == "8"
    assert slack.calls_to("upload")[0].args["file_id"] == file_id
    [complete] = slack.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "C1"
    assert complete.args["initial_comment"] == "the export"
    assert complete.args["files"][0]["id"] == file_id
    assert [c.method for c in slack.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    assert slack.messages["C1"][0]["text"] == "the export"


async def test_response_url_posts_are_recorded(slack: SlackStandin) -> None:
    url = slack.response_url("cmd")
    async with httpx.AsyncClient() as http:
        answer = await http.post(url, json={"text": "done", "response_type": "ephemeral"})
    assert answer.status_code == 200
    sent = await AsyncWebhookClient(url).send(text="again", blocks=BLOCKS)  # what respond() uses
    assert sent.status_code == 200

    responses = await slack.wait_for("response", count=2)
    assert [r.method for r in responses] == ["response:cmd", "response:cmd"]
    assert responses[0].args == {"text": "done", "response_type": "ephemeral"}
    assert responses[1].args["blocks"] == BLOCKS
    assert slack.calls == []


async def test_wait_for_waits_for_successful_calls_and_reports_on_timeout(
    slack: SlackStandin,
) -> None:
    client = client_for(slack)

    async def post_later() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel="C1", text="late")

    task = asyncio.create_task(post_later())
    [call] = await slack.wait_for("chat.postMessage", timeout=2.0)
    await task
    assert call.args["text"] == "late"

    slack.inject("reactions.add", Fault.error("invalid_name"))
    with pytest.raises(SlackApiError):
        await client.reactions_add(channel="C1", timestamp=call.response["ts"], name="x")
    with pytest.raises(AssertionError, match=r"reactions\.add:200"):
        await slack.wait_for("reactions.add", timeout=0.05)

    slack.reset()
    assert slack.calls == []
    assert slack.messages["C1"][0]["text"] == "late"  # state survives reset


async def test_rate_limits_per_channel_and_per_workspace(slack: SlackStandin) -> None:
    client = client_for(slack)
    slack.enforce_rate_limits(per_channel_per_second=1, per_workspace_per_second=None)
    await client.chat_postMessage(channel="C1", text="one")
    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel="C1", text="two")
    assert limited.value.response.status_code == 429
    assert int(limited.value.response.headers["Retry-After"]) >= 1
    assert (await client.chat_postMessage(channel="C2", text="other"))["ok"] is True
    assert [m["text"] for m in slack.messages["C1"]] == ["one"]

    slack.enforce_rate_limits(per_channel_per_second=None, per_workspace_per_second=1)
    await client.chat_postMessage(channel="C3", text="a")
    with pytest.raises(SlackApiError) as workspace:
        await client.chat_postMessage(channel="C4", text="b")
    assert workspace.value.response.status_code == 429

    slack.enforce_rate_limits(None, None)
    for _ in range(3):
        await client.chat_postMessage(channel="C1", text="free")


async def test_slack_limits_per_method_tier(slack: SlackStandin) -> None:
    """Each method at its tier for the workspace, after a burst of a few seconds' worth:
    chat.update (Tier 3, 50 a minute) allows 4 at once, then 429 with Retry-After and nothing
    edited; views.open (Tier 4) has a budget of its own; a method not listed is not limited."""
    client = client_for(slack)
    posted = await client.chat_postMessage(channel="C1", text="prompt")
    slack.enforce_slack_limits()
    for n in range(4):
        await client.chat_update(channel="C1", ts=posted["ts"], text=f"edit {n}")
    with pytest.raises(SlackApiError) as limited:
        await client.chat_update(channel="C1", ts=posted["ts"], text="one too many")
    assert limited.value.response.status_code == 429
    assert int(limited.value.response.headers["Retry-After"]) >= 1
    assert slack.messages["C1"][0]["text"] == "edit 3"
    assert slack.count_rate_limited("chat.update") == 1
    assert (await client.views_open(trigger_id="t", view={"type": "modal"}))["ok"] is True
    for _ in range(10):
        await client.api_call("emoji.list")
    assert slack.count_rate_limited() == 1


async def error_of(call: Awaitable[Any]) -> str:
    """The Slack error a call fails with."""
    with pytest.raises(SlackApiError) as err:
        await call
    return str(err.value.response["error"])


async def test_channels_answer_as_slack_does_about_membership(slack: SlackStandin) -> None:
    client = client_for(slack)
    # A channel nobody declared: public, and the bot is in it (what older tests rely on).
    assert (await client.chat_postMessage(channel="C0ANY", text="hi"))["ok"] is True

    slack.add_channel("C0PUB", "fire-updates", member=False)
    assert await error_of(client.chat_postMessage(channel="C0PUB", text="x")) == "not_in_channel"
    assert await error_of(client.conversations_history(channel="C0PUB")) == "not_in_channel"
    info = await client.conversations_info(channel="C0PUB")
    assert info["channel"]["name"] == "fire-updates"
    assert (info["channel"]["is_member"], info["channel"]["is_private"]) == (False, False)
    joined = await client.conversations_join(channel="C0PUB")
    assert joined["channel"]["is_member"] is True and "warning" not in joined
    again = await client.conversations_join(channel="C0PUB")
    assert again["warning"] == "already_in_channel"
    assert (await client.chat_postMessage(channel="C0PUB", text="x"))["ok"] is True

    # A private channel the bot is not in is invisible to it, and cannot be joined.
    slack.add_channel("C0PRIV", "fire-leads", private=True, member=False)
    assert await error_of(client.chat_postMessage(channel="C0PRIV", text="x")) == (
        "channel_not_found"
    )
    assert await error_of(client.conversations_info(channel="C0PRIV")) == "channel_not_found"
    assert await error_of(client.conversations_join(channel="C0PRIV")) == (
        "method_not_supported_for_channel_type"
    )
    slack.add_channel("C0PRIV", "fire-leads", private=True, member=True)  # someone invited it
    assert (await client.conversations_info(channel="C0PRIV"))["channel"]["is_private"] is True
    assert (await client.chat_postMessage(channel="C0PRIV", text="x"))["ok"] is True

    slack.add_channel("C0OLD", "old-updates", archived=True)
    assert await error_of(client.chat_postMessage(channel="C0OLD", text="x")) == "is_archived"
    assert await error_of(client.conversations_join(channel="C0OLD")) == "is_archived"
    assert (await client.conversations_info(channel="C0OLD"))["channel"]["is_archived"] is True

    slack.remove_channel("C0ANY")
    assert await error_of(client.chat_postMessage(channel="C0ANY", text="x")) == (
        "channel_not_found"
    )
    assert await error_of(client.conversations_join(channel="C0ANY")) == "channel_not_found"

    listed = await client.conversations_list(types="public_channel,private_channel")
    names = {c["name"] for c in listed["channels"]}
    assert names == {"fire-updates", "fire-leads", "old-updates"}
    live = await client.conversations_list(
        types="public_channel,private_channel", exclude_archived=True, limit=1
    )
    assert len(live["channels"]) == 1 and live["response_metadata"]["next_cursor"]


async def test_auth_test_names_the_token_scopes_in_a_header(slack: SlackStandin) -> None:
    client = client_for(slack)
    answer = await client.auth_test()
    granted = {s.strip() for s in answer.headers["x-oauth-scopes"].split(",")}
    assert {"chat:write", "channels:join", "users:read.email"} <= granted
    slack.scopes = ("chat:write", "commands")
    answer = await client.auth_test()
    assert answer.headers["x-oauth-scopes"] == "chat:write,commands"


async def test_people_lookup_by_email_and_deactivated_or_foreign_accounts(
    slack: SlackStandin,
) -> None:
    client = client_for(slack)
    slack.add_user("U0CHIEF", "Fire Chief", email="Chief@Hartford.gov")
    found = await client.users_lookupByEmail(email="chief@hartford.gov")
    assert found["user"]["id"] == "U0CHIEF" and found["user"]["deleted"] is False
    assert found["user"]["profile"]["email"] == "chief@hartford.gov"
    assert await error_of(client.users_lookupByEmail(email="nobody@hartford.gov")) == (
        "users_not_found"
    )

    slack.add_user("U0GONE", "Former Chief", deleted=True)
    assert (await client.users_info(user="U0GONE"))["user"]["deleted"] is True
    slack.remove_user("U0CHIEF")
    assert await error_of(client.users_info(user="U0CHIEF")) == "user_not_found"
    assert await error_of(client.users_lookupByEmail(email="chief@hartford.gov")) == (
        "users_not_found"
    )
    listed = {m["id"]: m["deleted"] for m in (await client.users_list())["members"]}
    assert listed["U0GONE"] is True and "U0CHIEF" not in listed


def _markdown(text: str) -> dict[str, str]:
    return {"type": "markdown", "markdown": text}


async def test_canvases_as_slack_documents_them(slack: SlackStandin) -> None:
    """One channel canvas per channel; standalone canvases beside it; edits replace the
    markdown; a canvas deleted in Slack is canvas_not_found."""
    client = client_for(slack)
    made = await client.conversations_canvases_create(
        channel_id="C0FIRE", title="Fire", document_content=_markdown("# Fire")
    )
    canvas_id = made["canvas_id"]
    assert slack.canvas_markdown(canvas_id) == "# Fire"
    with pytest.raises(SlackApiError) as second:
        await client.conversations_canvases_create(
            channel_id="C0FIRE", document_content=_markdown("# Again")
        )
    assert second.value.response["error"] == "channel_canvas_already_exists"
    shared = await client.canvases_create(
        title="Police", document_content=_markdown("# Police"), channel_id="C0FIRE"
    )
    assert shared["canvas_id"] != canvas_id
    assert slack.canvases[shared["canvas_id"]]["channel_id"] == "C0FIRE"

    # slack_sdk sends `changes` as JSON; a form-encoded JSON string is decoded the same way.
    await client.canvases_edit(
        canvas_id=canvas_id,
        changes=[{"operation": "replace", "document_content": _markdown("# Fire\n1 on track")}],
    )
    assert slack.canvas_markdown(canvas_id) == "# Fire\n1 on track"
    await client.api_call(
        "canvases.edit",
        data={
            "canvas_id": canvas_id,
            "changes": json.dumps(
                [{"operation": "insert_at_end", "document_content": _markdown("2 at risk")}]
            ),
        },
    )
    assert slack.canvas_markdown(canvas_id) == "# Fire\n1 on track\n2 at risk"
    with pytest.raises(SlackApiError) as two:
        await client.canvases_edit(
            canvas_id=canvas_id,
            changes=[
                {"operation": "replace", "document_content": _markdown("a")},
                {"operation": "replace", "document_content": _markdown("b")},
            ],
        )
    assert two.value.response["error"] == "invalid_arguments"

    slack.delete_canvas(canvas_id)
    with pytest.raises(SlackApiError) as gone:
        await client.canvases_edit(
            canvas_id=canvas_id,
            changes=[{"operation": "replace", "document_content": _markdown("# Fire")}],
        )
    assert gone.value.response["error"] == "canvas_not_found"
    # Deleted, the channel's canvas can be made again.
    again = await client.conversations_canvases_create(
        channel_id="C0FIRE", document_content=_markdown("# Fire")
    )
    assert again["canvas_id"] not in (canvas_id, shared["canvas_id"])
    await client.canvases_delete(canvas_id=shared["canvas_id"])
    assert shared["canvas_id"] not in slack.canvases


async def test_canvases_need_their_scope_and_edits_are_tier_3() -> None:
    scopes = tuple(s for s in DEFAULT_SCOPES if s != "canvases:write")
    async with SlackStandin(scopes=scopes) as slack:
        with pytest.raises(SlackApiError) as refused:
            await client_for(slack).conversations_canvases_create(
                channel_id="C0FIRE", document_content=_markdown("# Fire")
            )
        assert refused.value.response["error"] == "missing_scope"
        assert refused.value.response["needed"] == "canvases:write"
        assert slack.canvases == {}
    async with SlackStandin() as slack:
        client = client_for(slack)
        made = await client.canvases_create(title="Plan", document_content=_markdown("x"))
        slack.enforce_rate_limits(None, None, canvas_edits_per_minute=60)
        change = [{"operation": "replace", "document_content": _markdown("y")}]
        await client.canvases_edit(canvas_id=made["canvas_id"], changes=change)
        with pytest.raises(SlackApiError) as limited:
            await client.canvases_edit(canvas_id=made["canvas_id"], changes=change)
        assert limited.value.response.status_code == 429
        assert limited.value.response.headers["Retry-After"] == "1"
