"""`lambert web` (the site alone, no tokens) and `lambert site build DIR` (the site as files)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import arg, command, group, open_core, output, refuse

if TYPE_CHECKING:
    from bot.config import Settings


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
    from bot.config import ConfigError, load_settings

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
