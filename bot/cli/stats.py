"""`lambert stats [--days N] [--json]`: the counts of every channel, for operators."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import arg, command, heading, open_core, output, refuse

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.stats.summary import Summary

MAX_DAYS = 366


@command(
    "stats",
    "counts of commands, quotes shown and posted, per channel; never a user",
    "Counts over the last --days UTC days, every platform and channel: commands by verb\n"
    "and outcome, themes and quotes shown, quotes posted (preview and daily), the words\n"
    "of searches that found nothing (kept for a month). No user is recorded;\n"
    'LAMBERT_STATS=off keeps nothing. JSON: see docs/cli.md, "stats".',
    arg("--days", type=int, default=7, metavar="N", help=f"1 to {MAX_DAYS} (default 7)"),
    json=True,
)
async def stats_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.stats.store import Scope
    from bot.stats.summary import summarise

    if not 1 <= args.days <= MAX_DAYS:
        return refuse(f"--days takes a number from 1 to {MAX_DAYS}")
    async with open_core(args, settings) as core:
        stats = core.stats
        summary = await summarise(
            stats.store, Scope(), args.days, stats.today(), recording=stats.recording, limit=20
        )
    return output(args, summary.to_json(), render(summary))


def render(s: Summary) -> str:
    """The summary as terminal text: the chat lines, then one line per channel."""
    from bot.chat.stats_verb import summary_lines

    out = [heading(f"Stats, every channel, last {s.days} days"), *summary_lines(s)]
    if s.channels:
        out.append(heading("Channels (commands, quotes shown, posted):"))
        out += [
            f"  {c.platform}/{c.channel}"
            + (f" in {c.space}" if c.space else "")
            + f": {c.commands}, {c.shown}, {c.posted}"
            for c in s.channels
        ]
    return "\n".join(line.replace("`", "") for line in out)
