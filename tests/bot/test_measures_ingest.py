"""Numbers that arrive by themselves: `planbot measures define` and `load` run as an operator
would, API tokens made, listed and revoked, and `POST /api/measures` through the real ASGI app
— a good token, a revoked one, none, a bad row in a batch (nothing written, the row named), a
replayed batch — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import func, select

from bot.workspace import Workspace
from models.db import session_scope
from models.measurefile import SAMPLE_MEASURES, read_measure_file
from models.measures import load_measures
from models.tables import Actual, ApiToken
from models.tokens import create_token, revoke_token
from tests.bot.test_cli import planbot
from tests.helpers import ADMIN, PEOPLE


def test_define_load_and_tokens_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    assert planbot(database_url, "plan", "load", cwd=tmp_path).returncode == 0
    defined = planbot(database_url, "measures", "define", str(SAMPLE_MEASURES), cwd=tmp_path)
    assert defined.returncode == 0, defined.stderr
    assert "Defined 10 measures" in defined.stderr and "10 added" in defined.stderr
    again = planbot(database_url, "measures", "define", str(SAMPLE_MEASURES), cwd=tmp_path)
    assert "nothing changed" in again.stderr

    bad_definition = tmp_path / "bad.csv"
    bad_definition.write_text(
        "key,name,unit,direction,department\nresponse,Response,days,lower,fier\n"
    )
    refused = planbot(database_url, "measures", "define", str(bad_definition), cwd=tmp_path)
    assert refused.returncode == 2 and "row 2: no department 'fier'" in refused.stderr

    export = tmp_path / "october.csv"
    export.write_text("measure,period,value,note\npotholes,2026-10,412,\n311,2026-10,2.4,desk\n")
    loaded = planbot(database_url, "measures", "load", str(export), cwd=tmp_path)
    assert loaded.returncode == 0 and "2 values stored, 0 already there" in loaded.stderr
    twice = planbot(database_url, "measures", "load", str(export), cwd=tmp_path)
    assert "0 values stored, 2 already there" in twice.stderr

    broken = tmp_path / "broken.csv"
    broken.write_text("measure,period,value\npotholes,2026-11,500\npotholes,2026-11,lots\n")
    failed = planbot(database_url, "measures", "load", str(broken), cwd=tmp_path)
    assert failed.returncode == 2 and "broken.csv row 3, 'value'" in failed.stderr
    listing = planbot(database_url, "measures", "load", str(export), cwd=tmp_path)
    assert "2 already there" in listing.stderr  # November's good row was not written either

    created = planbot(database_url, "tokens", "create", "city-gis", cwd=tmp_path)
    token = created.stdout.strip()
    assert created.returncode == 0 and token.startswith("pbm_") and len(token) > 40
    assert "shown this once" in created.stderr and token not in created.stderr
    shown = planbot(database_url, "tokens", "list", cwd=tmp_path)
    assert "city-gis" in shown.stdout and "live" in shown.stdout and token not in shown.stdout
    assert planbot(database_url, "tokens", "revoke", "city-gis", cwd=tmp_path).returncode == 0
    assert "revoked" in planbot(database_url, "tokens", "list", cwd=tmp_path).stdout
    duplicate = planbot(database_url, "tokens", "create", "city-gis", cwd=tmp_path)
    assert duplicate.returncode == 2 and "exists already" in duplicate.stderr

    fetched = planbot(database_url, "jobs", "run", "fetch", cwd=tmp_path)  # no Slack needed
    assert fetched.returncode == 0 and "No measure has a data source" in fetched.stderr


@pytest.fixture
async def city(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, str]]:
    async with Workspace(database_url, admins=(ADMIN,), users=PEOPLE) as ws:
        async with session_scope(ws.engine) as session:
            await load_measures(
                session, hartford, read_measure_file(SAMPLE_MEASURES).measures, source="s.yaml"
            )
            token = await create_token(session, "city-gis")
        yield ws, token


async def post(
    ws: Workspace, body: object, token: str | None, scheme: str = "Bearer"
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"{scheme} {token}"
    return await ws.http.post("/api/measures", content=json.dumps(body), headers=headers)


async def stored(ws: Workspace) -> int:
    async with session_scope(ws.engine) as session:
        return (await session.exec(select(func.count()).select_from(Actual))).one()


BATCH = {
    "actuals": [
        {"measure": "potholes", "period": "2026-10", "value": 412, "ref": "wo-2026-10"},
        {"measure": "311 response time", "period": "2026-10", "value": "2.4", "note": "desk"},
    ]
}


async def test_a_good_batch_is_stored_once(city: tuple[Workspace, str]) -> None:
    ws, token = city
    first = await post(ws, BATCH, token)
    assert first.status_code == 200, first.text
    assert first.json() == {"ok": True, "stored": 2, "unchanged": 0}
    replay = await post(ws, BATCH, token)  # a retry after a timeout
    assert replay.json() == {"ok": True, "stored": 0, "unchanged": 2}
    assert await stored(ws) == 2
    async with session_scope(ws.engine) as session:
        sent = (await session.exec(select(Actual).order_by(Actual.id))).all()
        used = (await session.exec(select(ApiToken))).one().last_used_at
    assert [(a.source, a.author, a.value) for a in sent] == [
        ("api", "city-gis", 412.0),
        ("api", "city-gis", 2.4),
    ]
    assert used is not None


async def test_a_bad_row_refuses_the_whole_batch_and_names_it(
    city: tuple[Workspace, str],
) -> None:
    ws, token = city
    batch = {
        "actuals": [
            *BATCH["actuals"],
            {"measure": "potholes", "period": "October", "value": 3},
            {"measure": "potholes", "period": "2026-10", "value": "NaN"},
            {"measure": "pot holes!", "period": "2026-10", "value": 3},
            "not an object",
        ]
    }
    refused = await post(ws, batch, token)
    assert refused.status_code == 422
    answer = refused.json()
    assert answer["ok"] is False and answer["error"] == "invalid_rows"
    faults = {(e["row"], e["field"]) for e in answer["errors"]}
    assert faults == {(2, "period"), (3, "value"), (5, None)}  # checked first, all listed
    assert await stored(ws) == 0
    unknown = await post(ws, {"actuals": [*BATCH["actuals"], batch["actuals"][4]]}, token)
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [
        {"row": 2, "field": "measure", "problem": "no measure 'pot holes!'"}
    ]
    assert await stored(ws) == 0


@pytest.mark.parametrize(
    ("token", "scheme", "error"),
    [
        (None, "Bearer", "missing_token"),
        ("pbm_not-a-real-token", "Bearer", "invalid_token"),
        ("real", "Basic", "missing_token"),
    ],
)
async def test_without_a_live_token_nothing_is_read(
    city: tuple[Workspace, str], token: str | None, scheme: str, error: str
) -> None:
    ws, real = city
    refused = await post(ws, BATCH, real if token == "real" else token, scheme)
    assert refused.status_code == 401 and refused.json()["error"] == error
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert await stored(ws) == 0


async def test_a_revoked_token_is_refused(city: tuple[Workspace, str]) -> None:
    ws, token = city
    async with session_scope(ws.engine) as session:
        await revoke_token(session, "city-gis")
    refused = await post(ws, BATCH, token)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    assert await stored(ws) == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b'{"actuals": []}', 400),
        (b'{"values": [1]}', 400),
        (b"[1, 2]", 400),
        (json.dumps({"actuals": [BATCH["actuals"][0]] * 5001}).encode(), 413),
    ],
)
async def test_malformed_batches_are_refused(
    city: tuple[Workspace, str], body: bytes, status: int
) -> None:
    ws, token = city
    refused = await ws.http.post(
        "/api/measures",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert refused.status_code == status and refused.json()["ok"] is False
    assert await stored(ws) == 0
