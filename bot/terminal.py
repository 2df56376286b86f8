"""Block Kit, shown in a terminal: headers, bullets, emoji and buttons, for local mode."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.markup import escape as escape_markup
from rich.padding import Padding
from rich.rule import Rule
from rich.text import Text

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>|<(https?://[^>]+)>")
_SPECIAL = re.compile(r"<!(channel|here|everyone)>")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_CODE = re.compile(r"`([^`\n]+)`")
_ENTITY = re.compile(r"&(lt|gt|amp);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&"}
_STRIKE = re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])")


def mrkdwn_to_rich(text: str, name: Callable[[str], str] = lambda u: u) -> Text:
    """Slack mrkdwn as rich Text: bold, italic, code, links, mentions shown as @name."""
    out = escape_markup(text)
    out = _MENTION.sub(lambda m: f"[bold blue]@{escape_markup(name(m.group(1)))}[/]", out)
    out = _SPECIAL.sub(lambda m: f"[bold red]@{m.group(1)}[/]", out)
    out = _LINK.sub(lambda m: f"[underline]{m.group(2) or m.group(3)}[/]", out)
    out = _CODE.sub(lambda m: f"[cyan]{m.group(1)}[/]", out)
    out = _BOLD.sub(lambda m: f"[bold]{m.group(1)}[/]", out)
    out = _ITALIC.sub(lambda m: f"[italic]{m.group(1)}[/]", out)
    out = _STRIKE.sub(lambda m: f"[strike]{m.group(1)}[/]", out)
    # Slack's own escapes last, in one pass, so that an escaped "&lt;!channel&gt;" is shown as
    # typed and never read as a mention or as markup.
    out = _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], out)
    return Text.from_markup(out, emoji=True)


def _text_of(obj: dict[str, Any] | None, name: Callable[[str], str]) -> Text:
    if not obj:
        return Text("")
    if obj.get("type") == "mrkdwn":
        return mrkdwn_to_rich(str(obj.get("text", "")), name)
    return Text.from_markup(escape_markup(str(obj.get("text", ""))), emoji=True)


def _button(element: dict[str, Any]) -> Text:
    label = str((element.get("text") or {}).get("text", "button"))
    style = "bold white on green" if element.get("style") == "primary" else "bold black on white"
    return Text(f" {label} ", style=style)


def render_blocks(
    blocks: Iterable[dict[str, Any]], name: Callable[[str], str] = lambda u: u
) -> RenderableType:
    parts: list[RenderableType] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            parts.append(Text(""))
            parts.append(Text(str(block["text"]["text"]), style="bold underline"))
        elif kind == "section":
            if block.get("text"):
                parts.append(_text_of(block["text"], name))
            for field in block.get("fields") or []:
                parts.append(Padding(_text_of(field, name), (0, 0, 0, 2)))
            accessory = block.get("accessory")
            if accessory and accessory.get("type") == "button":
                parts.append(Padding(_button(accessory), (0, 0, 0, 2)))
        elif kind == "context":
            line = Text(" ").join(_text_of(e, name) for e in block.get("elements", []))
            line.stylize("dim")
            parts.append(line)
        elif kind == "divider":
            parts.append(Rule(style="dim"))
        elif kind == "actions":
            parts.append(
                Text("  ").join(
                    _button(e) for e in block.get("elements", []) if e.get("type") == "button"
                )
            )
        elif kind == "input":
            label = str((block.get("label") or {}).get("text", ""))
            parts.append(Text(f"▸ {label}", style="bold"))
        elif kind == "image":
            parts.append(Text(f"[image: {block.get('alt_text', '')}]", style="dim"))
    return Group(*parts)


def show_message(
    console: Console, message: dict[str, Any], title: str, name: Callable[[str], str] = lambda u: u
) -> None:
    console.print(Rule(title, style="cyan"))
    if message.get("blocks"):
        console.print(render_blocks(message["blocks"], name))
    elif message.get("text"):
        console.print(mrkdwn_to_rich(str(message["text"]), name))
    console.print()
