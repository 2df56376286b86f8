"""Open data (issue 17, item 3): each published period as `plan.json` (with a JSON Schema) and
three CSV files, at stable URLs, described field by field in one dictionary — the CSV headers,
the data dictionary page and docs/open-data.md are all written from `FILES` below.

    /public/data/<period>/plan.json        /public/data/latest/plan.json
    /public/data/<period>/initiatives.csv  (and updates.csv, measures.csv)
    /public/data/plan.schema.json
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.public import PREFIX, NotPublished, Period, PublicStore, Rendered, not_found, respond
from models.export import _cell as spreadsheet_safe

DATA = PREFIX + "/data"
SCHEMA_PATH = DATA + "/plan.schema.json"
SCHEMA_CHANGED = datetime(2026, 12, 4, tzinfo=UTC)  # the schema's Last-Modified: bump with it


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # as the dictionary says it: text, integer, number, boolean, date-time, period
    description: str


_PERIOD = Column("period", "period", "The published month, YYYY-MM.")
_INITIATIVE = Column(
    "initiative", "text", "The initiative's stable id: its department's key and its number."
)
_STATUS = Column(
    "status",
    "text",
    "The status key: complete, on_track, at_risk, off_track, not_started or no_update.",
)
_STATUS_LABEL = Column("status_label", "text", 'The status as people read it ("On track").')
_UPDATED_BY = Column(
    "updated_by",
    "text",
    "Who gave the status, by role (department lead, backup owner, deputy for the department "
    "lead, plan administrator, city staff, the plan document) — never a person's name.",
)

FILES: dict[str, tuple[Column, ...]] = {
    "initiatives.csv": (
        _PERIOD,
        _INITIATIVE,
        Column("department", "text", "The department's key."),
        Column("department_name", "text", "The department's name."),
        Column("number", "integer", "The initiative's number within its department."),
        Column("part_of", "text", "The initiative this one is part of, or empty."),
        Column("text", "text", "The initiative as the plan states it."),
        Column("goals", "text", 'The keys of the goals it serves, separated by ";".'),
        _STATUS,
        _STATUS_LABEL,
        Column("percent", "integer", "Percent complete as reported (0–100), or empty."),
        Column(
            "note",
            "text",
            "The lead's note, when it was published with the period; empty otherwise.",
        ),
        Column("as_of", "period", "The month the status was given for (earlier when none came)."),
        Column(
            "reported_for_period",
            "boolean",
            "true when the status was given for the published month itself.",
        ),
        _UPDATED_BY,
        Column("updated_at", "date-time", "When the status was received (ISO 8601, UTC)."),
    ),
    "updates.csv": (
        _PERIOD,
        _INITIATIVE,
        Column("department", "text", "The department's key."),
        Column("number", "integer", "The initiative's number within its department."),
        _STATUS,
        _STATUS_LABEL,
        Column("percent", "integer", "Percent complete as reported (0–100), or empty."),
        Column("note", "text", "The note as published with that month; empty otherwise."),
        Column("as_of", "period", "The month the status was given for."),
        _UPDATED_BY,
        Column("updated_at", "date-time", "When the status was received (ISO 8601, UTC)."),
    ),
    "measures.csv": (
        _PERIOD,
        Column("measure", "text", "The measure's stable key."),
        Column("name", "text", "The measure's name."),
        Column("unit", "text", "Its unit: count, percent, dollars, days, hours, minutes…"),
        Column("direction", "text", '"higher is better" or "lower is better".'),
        Column("frequency", "text", "monthly, quarterly or annual."),
        Column("fiscal_year", "text", 'The fiscal year the target belongs to ("FY2027").'),
        Column("actual", "number", "The month's figure, or empty when none came."),
        Column("year_to_date", "number", "The year-to-date figure judged, for sums and averages."),
        Column("target", "number", "What the figure is judged against, or empty."),
        Column("status", "text", "met, near, missed, no_data or no_target."),
        _STATUS_LABEL,
        Column("goals", "text", 'The keys of the goals it serves, separated by ";".'),
        Column("department", "text", "The key of the department that reports it."),
        Column("sample", "boolean", "true for made-up sample figures, never the city's own."),
    ),
}


def _initiative_rows(p: Period) -> list[dict[str, Any]]:
    names = {d["key"]: d["name"] for d in p.snapshot["departments"]}
    return [
        {
            "period": p.period,
            "initiative": i["id"],
            "department": i["department"],
            "department_name": names.get(i["department"], ""),
            "number": i["number"],
            "part_of": i["part_of"],
            "text": i["text"],
            "goals": ";".join(i["goals"]),
            "status": i["status"],
            "status_label": i["status_label"],
            "percent": i["percent"],
            "note": i["note"],
            "as_of": i["as_of"],
            "reported_for_period": i["reported_for_period"],
            "updated_by": i["updated_by"],
            "updated_at": i["updated_at"],
        }
        for i in p.snapshot["initiatives"]
    ]


def _update_rows(history: list[Period]) -> list[dict[str, Any]]:
    """Each initiative's status as each period up to this one published it, oldest first."""
    rows = []
    for p in history:
        for i in p.snapshot["initiatives"]:
            if i["status"] == "no_update":
                continue
            rows.append(
                {
                    "period": p.period,
                    "initiative": i["id"],
                    "department": i["department"],
                    "number": i["number"],
                    "status": i["status"],
                    "status_label": i["status_label"],
                    "percent": i["percent"],
                    "note": i["note"],
                    "as_of": i["as_of"],
                    "updated_by": i["updated_by"],
                    "updated_at": i["updated_at"],
                }
            )
    return rows


def _measure_rows(p: Period) -> list[dict[str, Any]]:
    return [
        {
            "period": m["period"],
            "measure": m["key"],
            "name": m["name"],
            "unit": m["unit"],
            "direction": m["direction"],
            "frequency": m["frequency"],
            "fiscal_year": m["fiscal_year"],
            "actual": m["actual"],
            "year_to_date": m["year_to_date"],
            "target": m["target"],
            "status": m["status"],
            "status_label": m["status_label"],
            "goals": ";".join(m["goals"]),
            "department": m["department"],
            "sample": m["sample"],
        }
        for m in p.snapshot["measures"]
    ]


def to_csv(name: str, rows: list[dict[str, Any]]) -> bytes:
    """Rows as CSV with the dictionary's header; booleans as true/false, every cell safe to
    open in a spreadsheet (a note typed as `=HYPERLINK(…)` stays text)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[c.name for c in FILES[name]])
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: ("true" if v else "false") if isinstance(v, bool) else spreadsheet_safe(v)
                for k, v in row.items()
            }
        )
    return buffer.getvalue().encode("utf-8")


def schema() -> dict[str, Any]:
    """The JSON Schema of plan.json (docs/open-data/plan.schema.json is this, written out)."""
    counts = {
        "type": "object",
        "description": "How many initiatives stand at each status.",
        "additionalProperties": {"type": "integer", "minimum": 0},
    }
    nullable_text = {"type": ["string", "null"]}
    status = {"enum": ["complete", "on_track", "at_risk", "off_track", "not_started", "no_update"]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_PATH,
        "title": "A published period of a city's strategic plan",
        "type": "object",
        "required": [
            "plan",
            "period",
            "period_label",
            "published_at",
            "statuses",
            "counts",
            "goals",
            "departments",
            "initiatives",
            "measures",
        ],
        "properties": {
            "$schema": {"type": "string"},
            "plan": {
                "type": "object",
                "required": ["name", "fiscal_year"],
                "properties": {"name": {"type": "string"}, "fiscal_year": {"type": "string"}},
            },
            "period": {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"},
            "period_label": {"type": "string"},
            "published_at": {"type": "string", "format": "date-time"},
            "published_by": {"type": "string", "description": "A role, never a person."},
            "statuses": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "label"],
                    "properties": {"key": status, "label": {"type": "string"}},
                },
            },
            "counts": counts,
            "goals": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "name", "group", "counts", "initiatives"],
                    "properties": {
                        "key": {"type": "string"},
                        "name": {"type": "string"},
                        "group": {"type": "string"},
                        "objectives": {"type": "array", "items": {"type": "string"}},
                        "counts": counts,
                        "initiatives": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
            "departments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "name", "counts", "initiatives"],
                    "properties": {
                        "key": {"type": "string"},
                        "name": {"type": "string"},
                        "counts": counts,
                        "reported_for_period": {"type": "boolean"},
                        "initiatives": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
            "initiatives": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "department", "number", "text", "goals", "status"],
                    "properties": {
                        "id": {"type": "string"},
                        "department": {"type": "string"},
                        "number": {"type": "integer", "minimum": 1},
                        "part_of": nullable_text,
                        "text": {"type": "string"},
                        "goals": {"type": "array", "items": {"type": "string"}},
                        "status": status,
                        "status_label": {"type": "string"},
                        "percent": {"type": ["integer", "null"], "minimum": 0, "maximum": 100},
                        "note": nullable_text,
                        "as_of": nullable_text,
                        "reported_for_period": {"type": "boolean"},
                        "updated_by": nullable_text,
                        "updated_at": {"type": ["string", "null"], "format": "date-time"},
                    },
                },
            },
            "measures": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "name", "unit", "period", "status"],
                    "properties": {
                        "key": {"type": "string"},
                        "name": {"type": "string"},
                        "unit": {"type": "string"},
                        "direction": {"type": "string"},
                        "frequency": {"type": "string"},
                        "fiscal_year": {"type": "string"},
                        "period": {"type": "string"},
                        "actual": {"type": ["number", "null"]},
                        "year_to_date": {"type": ["number", "null"]},
                        "target": {"type": ["number", "null"]},
                        "status": {"type": "string"},
                        "status_label": {"type": "string"},
                        "goals": {"type": "array", "items": {"type": "string"}},
                        "department": {"type": "string"},
                        "sample": {"type": "boolean"},
                    },
                },
            },
        },
    }


def dictionary_markdown() -> str:
    """The data dictionary as docs/open-data.md shows it: one table per file."""
    parts = []
    for name, columns in FILES.items():
        rows = "\n".join(f"| `{c.name}` | {c.kind} | {c.description} |" for c in columns)
        parts.append(f"### `{name}`\n\n| field | type | meaning |\n|---|---|---|\n{rows}\n")
    return "\n".join(parts)


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1, sort_keys=False) + "\n").encode()


def data_routes(store: PublicStore) -> list[BaseRoute]:
    async def plan_json(request: Request) -> Response:
        return await _serve(request, "plan.json")

    async def a_file(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in FILES:
            return not_found("No such file.")
        return await _serve(request, name)

    async def _serve(request: Request, name: str) -> Response:
        try:
            p = await store.period(request.path_params["period"])
        except NotPublished:
            return not_found()

        async def make() -> Rendered:
            if name == "plan.json":
                body, media = _json(p.snapshot), "application/json"
            elif name == "updates.csv":
                history = [await store.period(q) for q in sorted(p.periods) if q <= p.period]
                body, media = to_csv(name, _update_rows(history)), "text/csv; charset=utf-8"
            elif name == "measures.csv":
                body, media = to_csv(name, _measure_rows(p)), "text/csv; charset=utf-8"
            else:
                body, media = to_csv(name, _initiative_rows(p)), "text/csv; charset=utf-8"
            return Rendered(body, media, f"{p.etag}-{name}", p.published_at)

        # `latest` names the newest period: keyed by the period it resolved to.
        rendered = await store.rendered((p.period, name), make)
        response = respond(request, rendered)
        if name.endswith(".csv"):
            filename = f"{p.period}-{name}"
            response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
        return response

    async def schema_json(request: Request) -> Response:
        async def make() -> Rendered:
            body = _json(schema())
            tag = hashlib.sha256(body).hexdigest()[:32]
            return Rendered(body, "application/schema+json", tag, SCHEMA_CHANGED)

        return respond(request, await store.rendered(("", "schema"), make))

    return [
        Route(SCHEMA_PATH, schema_json, methods=["GET", "HEAD"]),
        Route(DATA + "/{period}/plan.json", plan_json, methods=["GET", "HEAD"]),
        Route(DATA + "/{period}/{name}", a_file, methods=["GET", "HEAD"]),
    ]
