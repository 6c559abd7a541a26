"""Replies as plain text for a terminal, commands named as the reader types them there."""

from __future__ import annotations

import re
import textwrap

from bot.chat.replies import ListReply, QuoteReply, Reply, list_footer, listed_body
from bot.quotes.models import credit_line, quoted_body

WIDTH = 78
_COMMAND = re.compile(r"`/lambert((?: [^`]*)?)`")
_CODE = re.compile(r"`([^`]*)`")
# Chat verbs that are commands of their own on the command line; the rest go through `ask`.
_CLI_VERBS = {v: f"lambert {v}" for v in ("search", "themes", "card")} | {"help": "lambert --help"}


def terminal_text(text: str, chat: bool = False) -> str:
    """`text` with its marked-up commands as the reader types them (in the console's `chat`, or
    in a shell: `lambert ask`, `lambert search`), and no backticks."""

    def command(match: re.Match[str]) -> str:
        rest = match[1].strip()
        if chat:
            return f"/lambert {rest}".strip()
        verb, _, words = rest.partition(" ")
        if verb in _CLI_VERBS:
            return f"{_CLI_VERBS[verb]} {words}".strip()
        return f"lambert ask {rest}".strip()

    return _CODE.sub(r"\1", _COMMAND.sub(command, text))


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def render(reply: Reply, chat: bool = False) -> str:
    """Plain text for a terminal: no markup to escape, nothing that can ping anyone."""
    if isinstance(reply, QuoteReply):
        q = reply.quote
        lines = [q.topic, "", _wrap(quoted_body(q), "  "), "", _wrap(credit_line(q), "  ")]
        lines.append(f"  {q.theme_title} \u00b7 id: {q.id}")
        if reply.note:
            lines += ["", _wrap(reply.note)]
    elif isinstance(reply, ListReply):
        lines = [reply.title]
        for n, q in enumerate(reply.quotes, start=reply.first):
            lines += [f"{n}. [{q.id}] {q.topic}", _wrap(listed_body(q), "   ")]
        lines.append(list_footer(reply))
    else:
        lines = [("" if reply.ok else "! ") + reply.title, *(f"  {line}" for line in reply.lines)]
    return terminal_text("\n".join(lines), chat)
