"""The one escaping function for user text echoed into mrkdwn (and its twin for canvases'
markdown), and word-boundary excerpts.

Order matters: shorten first, then escape — `escape(excerpt(note, 200))`, or `escaped_excerpt` when
the escaped result itself must fit a length. `excerpt` is safe on already-escaped text too: it
never leaves half an entity (`&am…`) behind.
"""

from __future__ import annotations

import re

from models.clean import clean_text

ELLIPSIS = "…"

# Words Slack turns into a channel-wide ping when typed as plain text.
_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
_ZERO_WIDTH_JOINER = "\u200d"
# What canvas markdown reads as formatting, links, mentions (`![](@U1)`, `![](#C1)`) or HTML.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>!|~&#])")
# An entity cut short at the end of a string: "&", "&am", "&lt", "&#12"…
_PARTIAL_ENTITY = re.compile(r"&#?[A-Za-z0-9]{0,8}$")
# Punctuation that looks odd right before the ellipsis.
_TRAILING = " \t,;:-–—"


def escape(text: str) -> str:
    """Make user text safe to echo inside mrkdwn: shown, never executed.

    `&`, `<` and `>` become `&amp;`, `&lt;` and `&gt;`, so `<!channel>`, `<@U1>` and
    `<https://evil|click>` typed in a note are displayed as typed. `@channel`, `@here` and
    `@everyone` typed as plain words get a zero-width joiner after the `@`, so no client can
    read them as a broadcast either. Control and bidirectional-control characters are dropped
    (`models.clean`), as they are before storing: text stored before that rule, or never
    stored, cannot reorder the line it is shown in. Apply it once, to user text only, never to
    the mrkdwn the bot writes itself (`*bold*`, mentions produced by the caller's `people`).
    """
    text = clean_text(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@" + _ZERO_WIDTH_JOINER, text) if "@" in text else text


def canvas_escape(text: str) -> str:
    """Make user text safe inside a canvas's markdown: shown as typed, never executed.

    Canvases read markdown, not mrkdwn: a user is mentioned as `![](@U1)`, a channel as
    `![](#C1)`, and `*`, `_`, `[`…`](…)`, `<…>` format or link. Each of those characters gets a
    backslash (markdown shows the character itself), so `![](@U1)` and `<!channel>` typed in a
    note are text, not a mention; `@channel`, `@here` and `@everyone` get a zero-width joiner
    after the `@` as in `escape`. Control and bidirectional characters are dropped. Run it on a
    single line (an `excerpt`): a line of user text never starts a heading or a list."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", clean_text(text))
    return _BROADCAST.sub("@" + _ZERO_WIDTH_JOINER, text)


def excerpt(text: str, limit: int) -> str:
    """At most `limit` characters of `text` on one line, shortened at a word boundary with "…".

    Runs of whitespace (newlines included) become one space, so an excerpt never breaks the
    layout it is placed in. A text that fits is returned whole. Otherwise it is cut after the
    last whole word that fits with the "…"; only a single word longer than the limit is cut
    mid-word. Call it *before* `escape` (escaping lengthens text; `escaped_excerpt` does both
    within a length). Given escaped text, it never cuts an entity such as `&amp;` in half.
    """
    if limit < 1:
        raise ValueError(f"an excerpt needs a limit of at least 1, not {limit}")
    line = " ".join(clean_text(text).split())  # str.split's whitespace is the pattern's \s
    if len(line) <= limit:
        return line
    room = limit - len(ELLIPSIS)
    head = line[: room + 1]  # one more character: is the cut right before a space?
    if head[-1:] == " ":
        cut = head[:-1]
    else:
        head = head[:room]
        space = head.rfind(" ")
        cut = head[:space] if space > 0 else head
    cut = _PARTIAL_ENTITY.sub("", cut).rstrip(_TRAILING)
    return cut + ELLIPSIS


def escaped_excerpt(text: str, limit: int) -> str:
    """`escape(excerpt(text, …))` whose escaped result is at most `limit` characters long."""
    room = limit
    while room >= 1:
        shown = escape(excerpt(text, room))
        if len(shown) <= limit:
            return shown
        # Each character dropped before escaping shortens the escaped text by at least one.
        room -= len(shown) - limit
    return ELLIPSIS[:limit]
