"""`POST /api/measures`: the city's systems push measures' actuals, a batch at a time.

    POST /api/measures
    Authorization: Bearer pbm_…              (planbot tokens create NAME)
    Content-Type: application/json

    {"actuals": [{"measure": "potholes", "period": "2026-10", "value": 412,
                  "note": "from the work-order system", "ref": "wo-export-2026-10"}]}

A batch is stored whole or not at all: every row is checked first, and any fault answers 422
with one error per faulty row (`row`, `field`, `problem`) and nothing written. A row whose
`ref` was stored before for its measure and period is not stored again, so a batch sent twice
(a retry after a timeout) stores nothing more; without a `ref`, a row repeating the period's
latest value and note is not stored again either. Tokens are compared by their SHA-256 hash;
a missing, unknown or revoked one answers 401. Nothing of the token reaches the log.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from models.db import session_scope
from models.lookup import normalise
from models.measurefile import ActualRow, MeasureFileError, check_actual
from models.measures import measure_names, record_actuals
from models.plans import NoActivePlan, active_plan_id
from models.tables import ActualSource
from models.tokens import token_holder

log = logging.getLogger("planbot.api")

MAX_ROWS = 5_000  # a month of a large city's measures is far less
MAX_ERRORS = 100  # errors listed at most in a refusal; the count says how many in all


def _refuse(status: int, error: str, detail: str, **extra: Any) -> JSONResponse:
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = (
            'Bearer realm="planbot"'
            if error == "missing_token"
            else 'Bearer realm="planbot", error="invalid_token"'
        )
    if status == 503:
        headers["Retry-After"] = "30"
    body = {"ok": False, "error": error, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _rows(document: Any) -> tuple[list[ActualRow], list[dict[str, Any]]] | JSONResponse:
    """The batch's rows, each checked, and the errors of those at fault."""
    items = document.get("actuals") if isinstance(document, dict) else None
    if not isinstance(items, list):
        return _refuse(400, "bad_request", 'send {"actuals": [{"measure", "period", "value"}]}')
    if not items:
        return _refuse(400, "bad_request", "the batch has no actuals")
    if len(items) > MAX_ROWS:
        return _refuse(413, "too_many_rows", f"send at most {MAX_ROWS:,} actuals a batch")
    rows: list[ActualRow] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append({"row": index, "field": None, "problem": "expected an object"})
            continue
        try:
            rows.append(check_actual(item, f"actuals[{index}]"))
        except MeasureFileError as exc:
            errors.append({"row": index, "field": exc.field, "problem": exc.problem})
    return rows, errors


async def post_measures(request: Request, engine: AsyncEngine) -> Response:
    token = _bearer(request)
    if token is None:
        return _refuse(401, "missing_token", "send Authorization: Bearer <token>")
    try:
        # Who sends comes first: nothing of an unauthenticated body is read.
        async with session_scope(engine) as session:
            sender = await token_holder(session, token)
        if sender is None:
            return _refuse(401, "invalid_token", "the token is unknown or revoked")
        if "json" not in request.headers.get("content-type", ""):
            return _refuse(415, "unsupported_media_type", "send Content-Type: application/json")
        try:
            document = json.loads(await request.body())
        except (ValueError, RecursionError):
            return _refuse(400, "invalid_json", "the body is not JSON")
        checked = _rows(document)
        if isinstance(checked, JSONResponse):
            return checked
        rows, errors = checked
        if errors:
            return _invalid(errors, sender)
        async with session_scope(engine) as session:
            plan_id = await active_plan_id(session)
            names = await measure_names(session, plan_id)
            unknown = [
                {"row": index, "field": "measure", "problem": f"no measure {row.measure!r}"}
                for index, row in enumerate(rows)
                if normalise(row.measure) not in names
            ]
            if unknown:
                return _invalid(unknown, sender)
            result = await record_actuals(
                session, plan_id, rows, source=ActualSource.API, author=sender
            )
    except NoActivePlan:
        return _refuse(409, "no_plan", "no plan is loaded yet")
    except (sa_exc.OperationalError, sa_exc.InterfaceError, OSError) as exc:
        log.warning("api measures: database unavailable: %s", type(exc).__name__)
        return _refuse(503, "database_unavailable", "nothing was stored: send it again later")
    log.info(
        "api measures from %s: %d stored, %d already there",
        sender,
        result.stored,
        result.unchanged,
        extra={"sender": sender, "stored": result.stored, "unchanged": result.unchanged},
    )
    return JSONResponse({"ok": True, "stored": result.stored, "unchanged": result.unchanged})


def _invalid(errors: list[dict[str, Any]], sender: str) -> JSONResponse:
    log.info("api measures from %s: refused, %d row(s) at fault", sender, len(errors))
    return _refuse(
        422,
        "invalid_rows",
        f"{len(errors)} row(s) at fault: nothing was stored",
        errors=errors[:MAX_ERRORS],
        error_count=len(errors),
    )
