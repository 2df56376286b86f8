"""Settings: defaults, and one clear line naming a bad setting (without echoing secrets)."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "DATABASE_URL",
        "PLANBOT_TIMEZONE",
        "PLANBOT_ADMINS",
        "PLANBOT_UPDATES_CHANNEL",
        "PLANBOT_DIGEST_CHANNEL",
        "PORT",
        "HOST",
        "PLANBOT_MAX_BODY_BYTES",
        "PLANBOT_MAX_CONNECTIONS",
        "PLANBOT_KEEP_ALIVE_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_need_nothing() -> None:
    settings = load_settings()
    assert settings.database == "sqlite:///planbot.db"
    assert settings.timezone == "America/New_York"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert (settings.host, settings.port) == ("0.0.0.0", 3000)
    # What the HTTP server holds at most: docs/deployment.md states these.
    assert settings.max_body_bytes == 2 * 1024 * 1024
    assert settings.max_connections == 1000
    assert settings.keep_alive_seconds == 5


def test_values_from_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".env").write_text("PLANBOT_ADMINS=U0ADMIN1, U0ADMIN2\nPORT=8080\n")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9999/api")
    settings = load_settings()
    assert settings.admins == ("U0ADMIN1", "U0ADMIN2")
    assert settings.port == 8080
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    assert settings.is_admin("U0ADMIN2") and not settings.is_admin("U0OTHER")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PLANBOT_TIMEZONE", "Mars/Olympus", "setting PLANBOT_TIMEZONE is malformed"),
        ("PLANBOT_ADMINS", "U0ADMIN1,bob", "'bob' is not a Slack user id"),
        ("PLANBOT_UPDATES_CHANNEL", "#updates", "must be a channel id"),
        ("PORT", "eighty", "setting PORT is malformed"),
        ("SLACK_API_URL", "slack.com", "setting SLACK_API_URL is malformed"),
        ("DATABASE_URL", "mysql://root:hunter2@db/plan", "setting DATABASE_URL is malformed"),
        ("PLANBOT_MAX_BODY_BYTES", "1MB", "setting PLANBOT_MAX_BODY_BYTES is malformed"),
        ("PLANBOT_MAX_BODY_BYTES", "100", "greater than or equal to 16384"),
        ("PLANBOT_MAX_CONNECTIONS", "0", "setting PLANBOT_MAX_CONNECTIONS is malformed"),
        (
            "PLANBOT_KEEP_ALIVE_SECONDS",
            "forever",
            "setting PLANBOT_KEEP_ALIVE_SECONDS is malformed",
        ),
    ],
)
def test_bad_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert "hunter2" not in text


def test_serving_needs_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    settings = load_settings()
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET is missing"):
        settings.require_slack(socket_mode=False)
    with pytest.raises(SettingsError, match="SLACK_APP_TOKEN is missing"):
        settings.require_slack(socket_mode=True)
