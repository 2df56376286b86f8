"""Settings from the environment and `.env`: one place, checked at start-up."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.connections import DEFAULT_MAX_CONNECTIONS
from bot.http_limits import DEFAULT_MAX_BODY_BYTES
from handlers.messages.limits import POSTS_PER_SECOND
from models.calendar import Calendar, public_holidays
from models.db import DEFAULT_DATABASE_URL, DatabaseUrlError, async_url

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line naming it."""


def _env(name: str) -> Any:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    slack_bot_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_SIGNING_SECRET")
    )
    slack_app_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_api_url: str = Field("https://slack.com/api/", validation_alias=_env("SLACK_API_URL"))
    database_url: SecretStr = Field(
        SecretStr(DEFAULT_DATABASE_URL), validation_alias=_env("DATABASE_URL")
    )
    timezone: str = Field("America/New_York", validation_alias=_env("PLANBOT_TIMEZONE"))
    updates_channel: str | None = Field(None, validation_alias=_env("PLANBOT_UPDATES_CHANNEL"))
    digest_channel: str | None = Field(None, validation_alias=_env("PLANBOT_DIGEST_CHANNEL"))
    admins: Annotated[tuple[str, ...], NoDecode] = Field(
        (), validation_alias=_env("PLANBOT_ADMINS")
    )
    host: str = Field("0.0.0.0", validation_alias=_env("HOST"))
    port: int = Field(3000, ge=1, le=65535, validation_alias=_env("PORT"))
    log_format: str = Field("auto", validation_alias=_env("PLANBOT_LOG_FORMAT"))
    prompt_time: str = Field("09:00", validation_alias=_env("PLANBOT_PROMPT_TIME"))
    reminder_days: Annotated[tuple[int, ...], NoDecode] = Field(
        (3, 7), validation_alias=_env("PLANBOT_REMINDER_DAYS")
    )
    digest_cron: str = Field("0 8 * * mon", validation_alias=_env("PLANBOT_DIGEST_CRON"))
    holidays: str = Field("US-CT", validation_alias=_env("PLANBOT_HOLIDAYS"))
    catch_up_hours: int = Field(
        72, ge=0, le=24 * 14, validation_alias=_env("PLANBOT_CATCH_UP_HOURS")
    )
    scheduler: bool = Field(True, validation_alias=_env("PLANBOT_SCHEDULER"))
    max_body_bytes: int = Field(
        DEFAULT_MAX_BODY_BYTES,
        ge=16 * 1024,
        le=64 * 1024 * 1024,
        validation_alias=_env("PLANBOT_MAX_BODY_BYTES"),
    )
    max_connections: int = Field(
        DEFAULT_MAX_CONNECTIONS, ge=10, le=100_000, validation_alias=_env("PLANBOT_MAX_CONNECTIONS")
    )
    keep_alive_seconds: int = Field(
        5, ge=1, le=3600, validation_alias=_env("PLANBOT_KEEP_ALIVE_SECONDS")
    )
    # How long a claim to post lasts unless its process renews it (every third of it): a
    # process killed mid fan-out leaves claims another takes over this much later at most.
    claim_lease_seconds: float = Field(
        60.0, ge=0.5, le=3600, validation_alias=_env("PLANBOT_CLAIM_LEASE_SECONDS")
    )
    # Posts per second a fan-out starts at, for the whole workspace; a 429 slows every process
    # that posts (the pace is shared through the database) for the rest of the run.
    posts_per_second: float = Field(
        POSTS_PER_SECOND, gt=0, le=1000, validation_alias=_env("PLANBOT_POSTS_PER_SECOND")
    )
    # The month a fiscal year starts: measures' yearly targets are per fiscal year, named for
    # the year it ends in (Hartford's runs July to June: FY2016 is July 2015 – June 2016).
    fiscal_year_start: int = Field(
        7, ge=1, le=12, validation_alias=_env("PLANBOT_FISCAL_YEAR_START")
    )
    # An initiative set At risk or Off track needs a reason (a note): the form refuses it
    # without one, a thread reply is recorded and asked why (issue 16). Off: no asking.
    reason_required: bool = Field(True, validation_alias=_env("PLANBOT_REASON_REQUIRED"))
    # Where "Ask for help" opens its thread (issue 16; the digest channel when unset), and who
    # is mentioned there besides each department's escalation contacts (the COO's office).
    escalation_channel: str | None = Field(
        None, validation_alias=_env("PLANBOT_ESCALATION_CHANNEL")
    )
    escalation_users: Annotated[tuple[str, ...], NoDecode] = Field(
        (), validation_alias=_env("PLANBOT_ESCALATION_USERS")
    )
    # The public site and open data (issue 17): off unless asked for; served in HTTP mode under
    # /public/, only periods an admin published. The URL is where residents reach it (behind
    # the city's proxy), for the links Plan Bot gives in Slack.
    public: bool = Field(False, validation_alias=_env("PLANBOT_PUBLIC"))
    public_url: str | None = Field(None, validation_alias=_env("PLANBOT_PUBLIC_URL"))
    # Each department's channel gets a canvas of its initiatives, edited after answers, and the
    # digest channel one of the whole plan after each digest (issue 17). Off: no canvases.
    canvases: bool = Field(True, validation_alias=_env("PLANBOT_CANVASES"))

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.match(r"^https?://[^\s/]+(/\S*)?$", value.strip()):
            raise ValueError("must be an http(s) URL such as https://plan.hartford.gov/public/")
        return value.strip().rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: SecretStr) -> SecretStr:
        try:
            async_url(value.get_secret_value())
        except DatabaseUrlError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone") from None
        return value

    @field_validator("updates_channel", "digest_channel", "escalation_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL_ID.match(value.strip()):
            raise ValueError("must be a channel id such as C0123ABCD (not a #name)")
        return None if value is None else value.strip()

    @field_validator("admins", "escalation_users", mode="before")
    @classmethod
    def _admins(cls, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [part for part in re.split(r"[\s,]+", value) if part]
        ids = tuple(value or ())
        bad = [i for i in ids if not _USER_ID.match(i)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a Slack user id such as U0123ABCD")
        return ids

    @field_validator("prompt_time")
    @classmethod
    def _prompt_time(cls, value: str) -> str:
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
        if not match:
            raise ValueError("must be a time of day such as 09:00")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @field_validator("reminder_days", mode="before")
    @classmethod
    def _reminder_days(cls, value: Any) -> tuple[int, ...]:
        if isinstance(value, str):
            value = [part for part in re.split(r"[\s,]+", value) if part]
        try:
            days = tuple(int(v) for v in value or ())
        except (TypeError, ValueError):
            raise ValueError("must be business days such as 3,7") from None
        if any(d < 1 or d > 20 for d in days) or list(days) != sorted(set(days)):
            raise ValueError("must be increasing business days between 1 and 20, such as 3,7")
        return days

    @field_validator("digest_cron")
    @classmethod
    def _digest_cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError:
            raise ValueError("must be a crontab line such as '0 8 * * mon'") from None
        return value

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: str) -> str:
        try:
            public_holidays(value)
        except (NotImplementedError, KeyError, ValueError):
            raise ValueError("must be a country and region such as US-CT, or none") from None
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value not in ("auto", "json", "text"):
            raise ValueError("must be auto, json or text")
        return value

    @property
    def database(self) -> str:
        return self.database_url.get_secret_value()

    def calendar(self) -> Calendar:
        hour, minute = (int(part) for part in self.prompt_time.split(":"))
        return Calendar(
            timezone=self.timezone,
            holidays=public_holidays(self.holidays),
            prompt_time=time(hour, minute),
            reminder_days=self.reminder_days,
        )

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.admins

    def require_slack(self, *, socket_mode: bool) -> None:
        """Serving needs the bot token, and the signing secret (HTTP) or app token (Socket Mode)."""
        needed = ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN" if socket_mode else "SLACK_SIGNING_SECRET"]
        values = {
            "SLACK_BOT_TOKEN": self.slack_bot_token,
            "SLACK_APP_TOKEN": self.slack_app_token,
            "SLACK_SIGNING_SECRET": self.slack_signing_secret,
        }
        for name in needed:
            if values[name] is None or not values[name].get_secret_value():  # type: ignore[union-attr]
                raise SettingsError(f"setting {name} is missing: it is needed to serve Slack")


_NAMES = {
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_api_url": "SLACK_API_URL",
    "database_url": "DATABASE_URL",
    "timezone": "PLANBOT_TIMEZONE",
    "updates_channel": "PLANBOT_UPDATES_CHANNEL",
    "digest_channel": "PLANBOT_DIGEST_CHANNEL",
    "admins": "PLANBOT_ADMINS",
    "host": "HOST",
    "port": "PORT",
    "log_format": "PLANBOT_LOG_FORMAT",
    "prompt_time": "PLANBOT_PROMPT_TIME",
    "reminder_days": "PLANBOT_REMINDER_DAYS",
    "digest_cron": "PLANBOT_DIGEST_CRON",
    "holidays": "PLANBOT_HOLIDAYS",
    "catch_up_hours": "PLANBOT_CATCH_UP_HOURS",
    "scheduler": "PLANBOT_SCHEDULER",
    "max_body_bytes": "PLANBOT_MAX_BODY_BYTES",
    "max_connections": "PLANBOT_MAX_CONNECTIONS",
    "keep_alive_seconds": "PLANBOT_KEEP_ALIVE_SECONDS",
    "fiscal_year_start": "PLANBOT_FISCAL_YEAR_START",
    "reason_required": "PLANBOT_REASON_REQUIRED",
    "canvases": "PLANBOT_CANVASES",
}


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; a bad one raises SettingsError with one line naming it (and never
    echoing a secret's value)."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        name = _NAMES.get(field, field.upper())
        message = str(error["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"setting {name} is malformed: {message}") from None
