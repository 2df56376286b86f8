"""manifest.yml asks for what the bot uses, and no more."""

from __future__ import annotations

from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def test_manifest_creates_the_app_in_one_step() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/plan" and command["should_escape"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "message.channels",
        "message.groups",
        "member_joined_channel",
    }
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(
        [
            "commands",
            "chat:write",
            "im:write",
            "users:read",
            "files:write",
            "reactions:write",
            "channels:history",
            "groups:history",
            "channels:join",
            "channels:read",
            "groups:read",
            "users:read.email",
            "canvases:write",
        ]
    )
    # Every scope says, in a comment, what the bot does with it.
    lines = MANIFEST.read_text(encoding="utf-8").splitlines()
    for scope in manifest["oauth_config"]["scopes"]["bot"]:
        (line,) = [x for x in lines if x.strip().startswith(f"- {scope} ")]
        assert "#" in line, f"{scope} has no comment"
    assert len(manifest["features"]["bot_user"]["display_name"]) <= 80
