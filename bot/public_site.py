"""The public site's pages (issue 17, item 2): server-rendered HTML from Jinja2 templates
(bot/templates/public/), no JavaScript, one small stylesheet, charts as inline SVG with the same
numbers in a table. Every page is drawn from a published period's snapshot only, once per
process, and served with its ETag (bot/public.py).

    /public/                                  the newest published period's home
    /public/<YYYY-MM>/                        that period's home: each goal, its mix, measures
    /public/<YYYY-MM>/goals/<key>             one goal: objectives, measures, initiatives
    /public/<YYYY-MM>/departments/<key>       one department
    /public/<YYYY-MM>/initiatives/<dept-n>    one initiative and its published history
    /public/data/                             the open data and its dictionary
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.open_data import FILES
from bot.public import PREFIX, NotPublished, Period, PublicStore, Rendered, respond
from models.periods import period_label

TEMPLATES = Path(__file__).parent / "templates" / "public"
HTML = "text/html; charset=utf-8"
# A mark beside each status word: the status is never told by colour alone.
MARKS = {
    "complete": "✓",
    "on_track": "●",
    "at_risk": "▲",
    "off_track": "✕",
    "not_started": "○",
    "no_update": "?",
}
# Worst first where a list of initiatives is ordered by status.
_ORDER = ["off_track", "at_risk", "not_started", "no_update", "on_track", "complete"]
STATIC_CHANGED = datetime(2026, 12, 4, tzinfo=UTC)


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = _number
    env.filters["month"] = period_label
    env.globals["marks"] = MARKS
    return env


def _published_on(p: Period) -> str:
    return f"{p.published_at:%B} {p.published_at.day}, {p.published_at.year}"


class _Missing(Exception):
    """The period is published but names no such goal, department or initiative."""


class Site:
    def __init__(self, store: PublicStore, base_url: str | None) -> None:
        self.store = store
        self.env = environment()
        self.root = PREFIX  # links stay on this host; `base_url` is for links given in Slack
        self.base_url = base_url

    def _common(self, p: Period | None) -> dict[str, Any]:
        if p is None:
            return {"root": self.root, "plan": {"name": "The city's plan"}, "periods": ()}
        snap = p.snapshot
        return {
            "root": self.root,
            "plan": snap["plan"],
            "period": p.period,
            "period_label": snap["period_label"],
            "published_at": _published_on(p),
            "periods": p.periods,
            "labels": {q: period_label(q) for q in p.periods},
            "statuses": snap["statuses"],
        }

    def render(self, template: str, p: Period | None, **values: Any) -> bytes:
        page = self.env.get_template(template).render(**self._common(p), **values)
        return page.encode("utf-8")

    async def page(
        self, request: Request, key: str, make: Callable[[Period], bytes | None]
    ) -> Response:
        """A page of a published period (from the path's `period`, or the newest), rendered
        once; a 404 page when the period, or the thing it names, is not published."""
        name = request.path_params.get("period", "latest")
        try:
            p = await self.store.period(name)
        except NotPublished:
            return await self.not_found(request, "This month is not published")
        # Keyed by the list of published periods too: the footer links to every one of them.
        cache_key = (p.period, f"{key}|{','.join(p.periods)}")

        async def made() -> Rendered:
            body = make(p)
            if body is None:
                raise _Missing
            return Rendered(body, HTML, hashlib.sha256(body).hexdigest()[:32], p.published_at)

        try:
            found = await self.store.rendered(cache_key, made)
        except _Missing:
            return await self.not_found(request, "Not found", p)
        return respond(request, found, cors=False)

    async def not_found(self, request: Request, heading: str, p: Period | None = None) -> Response:
        body = self.render(
            "not_found.html",
            p,
            heading=heading,
            message="Only the months the city has published are shown here.",
            crumbs=(),
        )
        return Response(body, status_code=404, media_type=HTML)

    # --- the pages -----------------------------------------------------------------------

    def _items(self, p: Period) -> dict[str, dict[str, Any]]:
        names = {d["key"]: d["name"] for d in p.snapshot["departments"]}
        return {
            i["id"]: {**i, "department_name": names.get(i["department"], i["department"])}
            for i in p.snapshot["initiatives"]
        }

    def home(self, p: Period) -> bytes:
        snap = p.snapshot
        groups: dict[str, list[dict[str, Any]]] = {}
        for goal in snap["goals"]:
            groups.setdefault(goal["group"], []).append(goal)
        measures_by_goal: dict[str, list[dict[str, Any]]] = {}
        for m in snap["measures"]:
            for g in m["goals"]:
                measures_by_goal.setdefault(g, []).append(m)
        return self.render(
            "home.html",
            p,
            counts=snap["counts"],
            total=len(snap["initiatives"]),
            groups=list(groups.items()),
            departments=snap["departments"],
            reported=sum(1 for d in snap["departments"] if d["reported_for_period"]),
            measures_by_goal=measures_by_goal,
            crumbs=(),
        )

    def _worst_first(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(
            items, key=lambda i: (_ORDER.index(i["status"]), i["department"], i["number"])
        )

    def goal(self, p: Period, key: str) -> bytes | None:
        goal = next((g for g in p.snapshot["goals"] if g["key"] == key), None)
        if goal is None:
            return None
        items = self._items(p)
        return self.render(
            "goal.html",
            p,
            goal=goal,
            items=self._worst_first([items[i] for i in goal["initiatives"] if i in items]),
            measures=[m for m in p.snapshot["measures"] if key in m["goals"]],
            crumbs=((period_label(p.period), f"{self.root}/{p.period}/"), (goal["name"], None)),
        )

    def department(self, p: Period, key: str) -> bytes | None:
        department = next((d for d in p.snapshot["departments"] if d["key"] == key), None)
        if department is None:
            return None
        items = self._items(p)
        return self.render(
            "department.html",
            p,
            department=department,
            items=[items[i] for i in department["initiatives"] if i in items],
            measures=[m for m in p.snapshot["measures"] if m["department"] == key],
            crumbs=(
                (period_label(p.period), f"{self.root}/{p.period}/"),
                (department["name"], None),
            ),
        )

    def initiative(self, p: Period, key: str, history: list[Period]) -> bytes | None:
        item = self._items(p).get(key)
        if item is None:
            return None
        rows = []
        for q in history:
            found = next((i for i in q.snapshot["initiatives"] if i["id"] == key), None)
            if found is not None:
                rows.append({**found, "period": q.period, "label": period_label(q.period)})
        goals = [g for g in p.snapshot["goals"] if g["key"] in item["goals"]]
        return self.render(
            "initiative.html",
            p,
            item=item,
            goals=goals,
            history=list(reversed(rows)),
            crumbs=(
                (period_label(p.period), f"{self.root}/{p.period}/"),
                (
                    item["department_name"],
                    f"{self.root}/{p.period}/departments/{item['department']}",
                ),
                (f"#{item['number']}", None),
            ),
        )

    def dictionary(self, p: Period | None) -> bytes:
        return self.render("dictionary.html", p, files=FILES, crumbs=(("Open data", None),))


def site_routes(store: PublicStore, base_url: str | None) -> list[BaseRoute]:
    site = Site(store, base_url)
    css = (TEMPLATES / "static" / "site.css").read_bytes()
    css_rendered = Rendered(
        css, "text/css; charset=utf-8", hashlib.sha256(css).hexdigest()[:32], STATIC_CHANGED
    )

    async def home(request: Request) -> Response:
        if "period" not in request.path_params and not await store.periods():
            body = site.render(
                "not_found.html",
                None,
                heading="Nothing is published yet",
                message="The city publishes each month's progress after it is reviewed.",
                crumbs=(),
            )
            return Response(body, media_type=HTML)
        return await site.page(request, "home", site.home)

    async def goal(request: Request) -> Response:
        key = request.path_params["key"]
        return await site.page(request, f"goal:{key}", lambda p: site.goal(p, key))

    async def department(request: Request) -> Response:
        key = request.path_params["key"]
        return await site.page(request, f"department:{key}", lambda p: site.department(p, key))

    async def initiative(request: Request) -> Response:
        key = request.path_params["key"]
        try:
            p = await store.period(request.path_params["period"])
        except NotPublished:
            return await site.not_found(request, "This month is not published")
        # Its history (every published period up to this one) is read when the page is first
        # drawn, not on every request: the page comes from memory after that.
        key_ = (p.period, f"initiative:{key}|{','.join(p.periods)}")
        history = (
            [await store.period(q) for q in sorted(p.periods) if q <= p.period]
            if not store.has(key_)
            else []
        )
        return await site.page(
            request, f"initiative:{key}", lambda q: site.initiative(q, key, history)
        )

    async def dictionary(request: Request) -> Response:
        periods = await store.periods()
        p = await store.period(periods[0]) if periods else None
        key = ("", f"dictionary|{','.join(periods)}")

        async def make() -> Rendered:
            body = site.dictionary(p)
            when = p.published_at if p is not None else STATIC_CHANGED
            return Rendered(body, HTML, hashlib.sha256(body).hexdigest()[:32], when)

        return respond(request, await store.rendered(key, make), cors=False)

    async def stylesheet(request: Request) -> Response:
        return respond(request, css_rendered, cors=False)

    period = "{period:str}"
    return [
        Route(PREFIX + "/", home, methods=["GET", "HEAD"]),
        Route(PREFIX + "/static/site.css", stylesheet, methods=["GET", "HEAD"]),
        Route(PREFIX + "/data/", dictionary, methods=["GET", "HEAD"]),
        Route(f"{PREFIX}/{period}/", home, methods=["GET", "HEAD"]),
        Route(f"{PREFIX}/{period}/goals/{{key}}", goal, methods=["GET", "HEAD"]),
        Route(f"{PREFIX}/{period}/departments/{{key}}", department, methods=["GET", "HEAD"]),
        Route(f"{PREFIX}/{period}/initiatives/{{key}}", initiative, methods=["GET", "HEAD"]),
    ]
