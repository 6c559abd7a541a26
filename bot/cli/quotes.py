"""Every command that shows the quotes: in chat (bare `lambert`, `console`, `serve`), at the
terminal (`ask`, `card`, `search`, `themes`) and on the web (`web`, `site build`)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.common import THEME, arg, command, error, group, heading, open_core, output, refuse
from bot.config import ConfigError, Settings, load_settings
from bot.platforms import served

if TYPE_CHECKING:
    from bot.chat.replies import Reply

NO_PLATFORM = """\
no chat platform is configured, so there is nothing to serve.
  Set DISCORD_TOKEN and/or SLACK_BOT_TOKEN (see config.example.env), or try the
  same commands locally with `lambert console`."""


@command(
    "console",
    "chat with the bot in this terminal (no tokens needed)",
    "Chat with the bot in this terminal, no tokens needed: type what you would type in chat.\n"
    "Its own commands try everything locally: :as member or :as admin, :channel NAME, and\n"
    ":time 08:59 Europe/Berlin (or :time 2025-03-10T08:59Z, :time now) moves its clock,\n"
    "so a daily quote set here prints when due. :help lists them. Piped input is\n"
    "answered line by line: echo dpo | lambert console",
)
async def console_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.console import run_console

    async with open_core(args, settings, integrity_check=True) as core:  # it writes
        # Line editing, history and colour when both streams are a terminal (run_console).
        return await run_console(core, sys.stdin, sys.stdout, interactive=sys.stdin.isatty())


@command(
    "serve",
    "connect to the platforms configured in the environment",
    "Connect to Discord (DISCORD_TOKEN) and/or Slack (SLACK_BOT_TOKEN) and post the daily "
    "quotes. Exits 2 when no platform is configured.",
)
async def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    if not served(settings):
        return refuse(NO_PLATFORM)
    from bot.serving.serve import serve  # deferred: `ask` and `console` never import the adapters

    return await serve(settings)


def reply_json(reply: Reply) -> dict[str, Any]:
    from bot.chat.replies import ListReply, QuoteReply

    if isinstance(reply, QuoteReply):
        payload: dict[str, Any] = {"quote": reply.quote.as_json(), "matches": reply.matches}
        if reply.note:
            payload["note"] = reply.note
        return payload
    if isinstance(reply, ListReply):
        results = [q.as_json() for q in reply.quotes]
        return {"quote": results[0], "matches": reply.total, "results": results}
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
        return error(" ".join(render(reply).removeprefix("! ").split()))
    from bot.cards import card_file_name, card_png, card_size  # Pillow: here, not for `ask`

    quote = reply.quote
    name = card_file_name(quote)
    path = args.out / name if args.out and args.out.is_dir() else args.out or Path(name)
    try:
        path.write_bytes(card_png(quote))
    except OSError as exc:
        return error(f"cannot write {path}: {exc.strerror}; choose another --out")
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
        theme = core.quotes.resolve_theme(args.theme) if args.theme else None
        if args.theme and theme is None:
            slugs = ", ".join(i.theme.slug for i in core.quotes.themes())
            return refuse(f"unknown theme {args.theme!r}; themes: {slugs}")
        slug = theme.slug if theme else None
        result = await core.quotes.search(" ".join(args.text), limit=args.limit, theme=slug)
    quotes = [q.as_json() for q in result.quotes]
    payload: dict[str, Any] = {"total": result.total, "results": quotes}
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


@command(
    "web",
    "serve the web site: a page, a card and JSON for every quote",
    "Serve the web site alone, no tokens needed: the quote of the day, a page and a card\n"
    "for every quote, search, the JSON API and an Atom feed (routes: docs/web.md).\n"
    "Absolute links use LAMBERT_PUBLIC_URL, else the address each request came to.",
    arg("--host", default="127.0.0.1", help="address (default 127.0.0.1)"),
    arg("--port", type=int, default=8080, help="port (default 8080; 0: any)"),
)
async def web_command(args: argparse.Namespace, settings: Settings) -> int:
    if not 0 <= args.port <= 65535:
        return refuse("--port takes a number from 0 to 65535, e.g. --port 8080")
    from bot.adapters.probes import serve_site  # deferred: `ask` never loads aiohttp or jinja2

    return await serve_site(settings, args.host, args.port)


group(
    "site",
    "write the web site as files for a static host",
    "",
    "site takes an action: lambert site build DIR",
)


@command(
    "site build",
    "write every page, card, JSON answer and the feed under DIR",
    "Write the whole site under DIR for any static host: index.html, q/ID/index.html and\n"
    "q/ID.png for every entry, themes/, api/v1/*.json and feed.atom. Search and\n"
    "/api/v1/random need the server (lambert web).",
    arg("dir", type=Path, metavar="DIR", help="folder to write (created)"),
    arg("--url", help="the address the site will have (default: $LAMBERT_PUBLIC_URL)"),
)
async def build_command(args: argparse.Namespace, settings: Settings) -> int:
    base = settings.public_url
    if args.url:
        try:
            base = load_settings({"LAMBERT_PUBLIC_URL": args.url.rstrip("/")}).public_url
        except ConfigError as exc:
            return refuse(f"--url: {str(exc).replace('LAMBERT_PUBLIC_URL=', '')}")
    if not base:
        return refuse(
            "a static site needs its address for the Open Graph tags and the feed; set "
            "LAMBERT_PUBLIC_URL or pass --url, e.g. --url https://quotes.example.org"
        )
    if args.dir.exists() and not args.dir.is_dir():
        return refuse(f"{args.dir} is a file; give a folder to write the site in")
    from bot.web.export import build  # deferred, as web_command
    from bot.web.site import Site

    async with open_core(args, settings) as core:
        written = await build(Site(core.quotes, base), base, args.dir)
    return output(args, {}, f"wrote {written} files under {args.dir} for {base}")
