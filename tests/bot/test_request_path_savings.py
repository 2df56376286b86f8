"""What the request path saves must not change what it does: the log redaction's shortcut
skips only lines neither expression could change, and Bolt's reuse of the body our request
check parsed gives it exactly its own parse, once."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import bolt_fixes
from bot.logs import _RESPONSE_URL, _SECRETS, _hide_response_url, redact_secrets

FRAGMENTS = [
    "xoxb-1-abc",
    "xapp-1-A",
    "xox",
    "://",
    "user:pw@",
    "https",
    "HTTP",
    "hTtPs%3A%2F%2F",
    ":\\/\\/",
    "hooks.slack.com/",
    "/commands/T1/",
    "response_url",
    "RESPONSE_URL",
    "re\u017fponse_url",
    "=",
    '":"',
    "%22%3A%22",
    " ",
    "&",
    "a",
    "é",
    "/",
]


def _both_expressions(text: str) -> str:
    return _RESPONSE_URL.sub(_hide_response_url, _SECRETS.sub("[redacted]", text))


@settings(max_examples=500)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=12).map("".join))
def test_the_redaction_shortcut_changes_nothing(text: str) -> None:
    assert redact_secrets(text) == _both_expressions(text)


def test_a_request_line_skips_the_expressions_and_a_secret_does_not() -> None:
    line = '{"message": "command /plan -> 200", "team": "T1", "user": "U1", "status": 200}'
    assert redact_secrets(line) == line
    assert "xoxb" not in redact_secrets(line + " xoxb-1-secret")


def test_bolt_takes_the_checked_parse_once_and_only_of_the_same_body() -> None:
    body = "command=%2Fplan&text=safety&team_id=T1&user_id=U1"
    form = "application/x-www-form-urlencoded"
    checked = bolt_fixes.parse_body_to_reuse(body, form)
    assert bolt_fixes.parse_body(body, form) is checked  # Bolt's parse, saved
    again = bolt_fixes.parse_body(body, form)
    assert again == checked and again is not checked  # only once
    bolt_fixes.parse_body_to_reuse(body, form)
    other = "command=%2Fplan&text=fire&team_id=T1&user_id=U1"
    assert bolt_fixes.parse_body(other, form)["text"] == "fire"  # another body: parsed
    checked = bolt_fixes.parse_body_to_reuse(body, form)
    assert bolt_fixes.parse_body(body, None) is not checked  # another content type: parsed
