"""The public site's pages (issue 17, item 2): not written yet — see bot/public.py for what
serves them. Until then the site serves the open data only."""

from __future__ import annotations

from starlette.routing import BaseRoute

from bot.public import PublicStore


def site_routes(store: PublicStore, base_url: str | None) -> list[BaseRoute]:
    return []
