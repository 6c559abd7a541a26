"""`lambert ask`, `card`, `search` and `themes`: the chat grammar and search for scripts and
operators."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.common import THEME, arg, command, error, heading, open_core, output, refuse

if TYPE_CHECKING:
    from bot.chat.replies import Reply
    from bot.config import Settings


def reply_json(reply: Reply) -> dict[str, Any]:
    from bot.chat.replies import ListReply, QuoteReply

    if isinstance(reply, QuoteReply):
        payload: dict[str, Any] = {"quote": reply.quote.as_json(), "matches": reply.matches}
        if reply.note:
            payload["note"] = reply.note
        return payload
    if isinstance(reply, ListReply):
        return {
            "quote": reply.quotes[0].as_json(),
            "matches": reply.total,
            "results": [q.as_json() for q in reply.quotes],
        }
    return {"quote": None, "message": "\n".join([reply.title, *reply.lines])}


@command(
    "ask",
    "print what `/lambert TEXT` would answer",
    "Print what `/lambert TEXT` would answer in chat. With no TEXT, a random quote.\n"
    'JSON: {"quote": {...}, "matches": N}, or {"quote": null, "message": "..."}.',
    arg("text", nargs="*", metavar="TEXT", help="a theme, words, `id ID`, `help`"),
    arg(
        "--as",
        dest="role",
        choices=("member", "admin"),
        default="member",
        help="who asks (default member); an admin may run daily on TIME ZONE and daily off",
    ),
    arg(
        "--channel",
        default="console",
        metavar="NAME",
        help="the console channel asked in (default console), as :channel in the console",
    ),
    json=True,
)
async def ask_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.terminal import render
    from bot.chat.context import RequestContext
    from bot.chat.grammar import answer
    from bot.platforms import PLATFORMS

    channel = args.channel.removeprefix("#")
    if not PLATFORMS["console"].channel_id.fullmatch(channel):
        return refuse("--channel takes a name of 1 to 80 characters, no spaces")
    admin = args.role == "admin"
    ctx = RequestContext(channel=channel, admin=admin)
    # An admin's request may change a schedule: commands that write check the pages first.
    # `lambert ask` is not counted in the stats (a person at the terminal, not a channel):
    # answering from the quotes alone, it never opens the shared state.
    async with open_core(args, replace(settings, stats=False), integrity_check=admin) as core:
        reply = await answer(core, " ".join(args.text), ctx)
    return output(args, reply_json(reply), render(reply))


@command(
    "card",
    "write a quote's card (a PNG picture) to a file",
    "Write the card of the quote `/lambert card TEXT` would show: an id, a theme or words\n"
    "(none: a random quote), as a PNG 1200 px wide, and print where.\n"
    'JSON: {"path", "id", "width", "height"}.',
    arg("text", nargs="*", metavar="ID|TEXT", help="an id, a theme or words"),
    arg(
        "--out",
        metavar="PATH",
        type=Path,
        help="the file to write, or a folder for it (default: lambert-card-ID.png here)",
    ),
    json=True,
)
async def card_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.terminal import render
    from bot.chat.grammar import answer
    from bot.chat.replies import QuoteReply

    async with open_core(args, replace(settings, stats=False)) as core:
        reply = await answer(core, " ".join(["card", *args.text]))
    if not isinstance(reply, QuoteReply):  # no such id, nothing matched: the chat's own words
        error(" ".join(render(reply).removeprefix("! ").split()))
        return 1
    from bot.cards import card_file_name, card_png, card_size  # Pillow: here, not for `ask`

    quote = reply.quote
    name = card_file_name(quote)
    path = args.out / name if args.out and args.out.is_dir() else args.out or Path(name)
    try:
        path.write_bytes(card_png(quote))
    except OSError as exc:
        error(f"cannot write {path}: {exc.strerror}; choose another --out")
        return 1
    width, height = card_size(quote)
    payload = {"path": str(path), "id": quote.id, "width": width, "height": height}
    return output(args, payload, f"Wrote the card of {quote.id} ({width}x{height}) to {path}")


@command(
    "search",
    "rank quotes for words, best first",
    'Rank quotes for words, best first. JSON: {"total": N, "results": [quote, ...]}.',
    arg("text", nargs="+", metavar="TEXT", help='words; "double quotes" = phrase'),
    arg("--limit", type=int, default=5, help="how many results (default 5)"),
    THEME,
    json=True,
)
async def search_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.terminal import render
    from bot.chat.replies import ListReply

    if not 1 <= args.limit <= 100:
        return refuse("--limit takes a number from 1 to 100")
    async with open_core(args, settings) as core:
        service = core.quotes
        theme = None
        if args.theme:
            found = service.resolve_theme(args.theme)
            if found is None:
                slugs = ", ".join(i.theme.slug for i in service.themes())
                return refuse(f"unknown theme {args.theme!r}; themes: {slugs}")
            theme = found.slug
        result = await service.search(" ".join(args.text), limit=args.limit, theme=theme)
    payload: dict[str, Any] = {
        "total": result.total,
        "results": [q.as_json() for q in result.quotes],
    }
    if result.corrected:
        payload["corrected"] = result.corrected
    text = "No quote matches. Try lambert themes."
    if result.quotes:
        title = f"{result.total} match" + ("es" if result.total != 1 else "")
        text = render(ListReply(title, result.quotes, result.total))
    return output(args, payload, text)


@command(
    "themes",
    "list themes, their aliases and sizes",
    'List themes. JSON: {"themes": [{"slug", "title", "aliases", "count"}]}.',
    json=True,
)
async def themes_command(args: argparse.Namespace, settings: Settings) -> int:
    async with open_core(args, settings) as core:
        infos = core.quotes.themes()
    lines = [
        f"{heading(f'{i.theme.slug:<14}')} {i.count:>3}  {i.theme.title}  "
        f"[{', '.join(i.theme.aliases)}]"
        for i in infos
    ]
    return output(args, {"themes": [i.as_json() for i in infos]}, "\n".join(lines))
