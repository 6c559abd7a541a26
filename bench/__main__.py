"""`python -m bench [--quick] [--out PATH] [--only FAMILY,...]`: run, print a table, write JSON.

Exits 0 whatever the verdicts (a missed target is a finding, reported); 1 if a family could
not run at all, so a bench that rots fails CI.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.cards import cards_family
from bench.context import Bench
from bench.core import core_family, load_family
from bench.discord_events import discord_family
from bench.fanout import fanout_family
from bench.footprint import footprint_family
from bench.on_this import on_this_family
from bench.passes import pass_family
from bench.replicas import replicas_family
from bench.report import Row, machine, markdown, notes, table, write_json
from bench.slack_http import slack_family
from bench.web import web_family
from bot.logs import setup_logging
from tests.fakes.slack_platform import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET

Family = Callable[[Bench], Awaitable[list[Row]]]
# Load first: it generates and loads the big corpus the later families reuse.
FAMILIES: dict[str, Family] = {
    "load": load_family,
    "core": core_family,
    "cards": cards_family,
    "slack": slack_family,
    "discord": discord_family,
    "fanout": fanout_family,
    "footprint": footprint_family,
    "replicas": replicas_family,
    "pass": pass_family,
    "on-this": on_this_family,
    "web": web_family,
}
RESULTS = Path(__file__).parent / "results"
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute (CI)")
    parser.add_argument("--out", type=Path, help="JSON file (default: bench/results/<time>.json)")
    parser.add_argument("--only", help=f"comma-separated families of: {', '.join(FAMILIES)}")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(FAMILIES)
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        parser.error(f"unknown families: {', '.join(unknown)}")
    args.families = names
    return args


async def run(bench: Bench, names: list[str]) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    failed: list[str] = []
    for name in names:
        started = time.perf_counter()
        print(f"bench: {name}...", file=sys.stderr, flush=True)
        try:
            found = await FAMILIES[name](bench)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            rows.append(
                Row(name, "family failed to run (see stderr)", 0, "", None, verdict="ERROR")
            )
            continue
        rows += found
        print(f"bench: {name} took {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return rows, failed


def log_summary(path: Path) -> dict[str, object]:
    """How much the bot logged in-process, and its first complaints (they may explain a row)."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    bad = [line for line in lines if " WARNING " in line or " ERROR " in line]
    return {
        "lines": len(lines),
        "warnings": sum(" WARNING " in line for line in lines),
        "errors": sum(" ERROR " in line for line in lines),
        "first_complaints": bad[:10],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # slack_sdk sends even loopback calls through a proxy; everything here is loopback.
    for name in PROXY_VARIABLES:
        os.environ.pop(name, None)
    started = time.perf_counter()
    before = machine()
    with tempfile.TemporaryDirectory(prefix="lambert-bench-") as scratch:
        bench = Bench(Path(scratch), quick=args.quick)
        log_path = Path(scratch) / "bot.log"
        with log_path.open("w", encoding="utf-8") as log:
            # As `lambert serve` logs (INFO, a line per command and post, secrets redacted),
            # so the figures include it; into a file, to keep the table readable.
            setup_logging("INFO", (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET), stream=log)
            rows, failed = asyncio.run(run(bench, args.families))
        bot_log = log_summary(log_path)
    command = "python -m bench" + (" --quick" if args.quick else "")
    if args.only:
        command += f" --only {args.only}"
    stamp = datetime.now(UTC)
    out = args.out or RESULTS / f"{stamp:%Y%m%dT%H%M%SZ}{'-quick' if args.quick else ''}.json"
    payload = {
        "date": stamp.isoformat(timespec="seconds"),
        "command": command,
        "quick": args.quick,
        "machine": before,
        "load_average_after": os.getloadavg(),
        "seconds": round(time.perf_counter() - started, 1),
        "bot_log": bot_log,
    }
    write_json(out, payload, rows)
    print(table(rows))
    print("\nnotes:\n" + notes(rows))
    if args.markdown:
        print()
        print(markdown(rows))
    misses = [r for r in rows if r.verdict == "MISS"]
    print(
        f"\n{len(rows)} figures, {len(misses)} targets missed, {len(failed)} families failed; "
        f"{payload['seconds']} s; bot log: {bot_log['lines']} lines, {bot_log['warnings']} "
        f"warnings, {bot_log['errors']} errors; JSON: {out}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
