"""API tokens for `POST /api/measures`: made once and shown once, stored only as a SHA-256
hash, revoked rather than deleted (so a revoked one keeps its name and dates)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import ApiToken, utcnow

PREFIX = "pbm_"  # recognisable in a secret scanner and in a leaked log line
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,59}$")


class TokenError(ValueError):
    """A token command that cannot be done, said in one line."""


@dataclass(frozen=True)
class TokenInfo:
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise TokenError(
            f"{name[:60]!r} is not a token name: lowercase letters, digits, '.', '_' and '-', "
            "60 at most (e.g. city-gis)"
        )
    return name


async def create_token(session: AsyncSession, name: str) -> str:
    """A new token named `name`; the token itself is returned once and never stored."""
    check_name(name)
    taken = (await session.exec(select(ApiToken).where(col(ApiToken.name) == name))).first()
    if taken is not None:
        raise TokenError(f"a token named {name!r} exists already: pick another name")
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=token_hash(token)))
    await session.flush()
    return token


async def revoke_token(session: AsyncSession, name: str) -> bool:
    """Revoke the token named `name`; False when it was revoked already."""
    found = (await session.exec(select(ApiToken).where(col(ApiToken.name) == name))).first()
    if found is None:
        raise TokenError(f"no token named {name[:60]!r}: `planbot tokens list` shows them")
    if found.revoked_at is not None:
        return False
    found.revoked_at = utcnow()
    await session.flush()
    return True


async def list_tokens(session: AsyncSession) -> list[TokenInfo]:
    rows = await session.exec(select(ApiToken).order_by(col(ApiToken.created_at)))
    return [TokenInfo(t.name, t.created_at, t.last_used_at, t.revoked_at) for t in rows]


async def token_holder(
    session: AsyncSession, token: str, now: datetime | None = None
) -> str | None:
    """The name of the live token `token` is, noting that it was used; None for an unknown or
    revoked one. Compared by hash: the lookup is on the hash, never on the token."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    found = (
        await session.exec(select(ApiToken).where(col(ApiToken.token_hash) == token_hash(token)))
    ).first()
    if found is None or found.revoked_at is not None:
        return None
    found.last_used_at = now or utcnow()
    return found.name
