"""The console adapter, driven through injected streams exactly as a terminal user would."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from bot.adapters.console import run_console
from bot.config import load_settings
from bot.daily.days import PostStatus
from bot.runtime import Core, open_core
from tests.support.corpus_gen import tiny_corpus

PROMPT = "lambert #console (admin)> "


async def converse(core: Core, *lines: str, interactive: bool = False) -> str:
    out = io.StringIO()
    status = await run_console(
        core, io.StringIO("\n".join(lines) + "\n"), out, interactive=interactive
    )
    assert status == 0
    return out.getvalue()


async def test_a_chat_command_shows_a_quote_with_its_source(core: Core) -> None:
    out = await converse(core, "/lambert id dpo-simplicity")
    assert "On DPO\u2019s simplicity" in out or "On DPO's simplicity" in out
    assert "\u201cDPO\u2019s implementation" in out
    assert "\u2014 Nathan Lambert, Interconnects" in out
    assert "id: dpo-simplicity" in out


async def test_a_paraphrase_is_labelled_and_unquoted(core: Core) -> None:
    out = await converse(core, "id reward-hacking")
    assert "Summary of Nathan Lambert's view" in out
    assert "\u201cOptimizing" not in out


async def test_another_follows_the_last_request(core: Core) -> None:
    out = await converse(core, "dpo", "another", "another")
    assert out.count("DPO vs. PPO: The Optimizer Debate") == 3


async def test_another_after_a_did_you_mean_follows_the_suggestion(core: Core) -> None:
    """`another` after "Did you mean `rlhf`?" shows a quote on rlhf, not the next DPO one."""
    out = await converse(core, "dpo", "rlfh", "another")
    assert "Did you mean rlhf?" in out
    after = out.split("Did you mean rlhf?")[1]
    assert "The Reality of RLHF and Post-Training \u00b7" in after
    assert "DPO vs. PPO: The Optimizer Debate" not in after


async def test_another_after_a_suggested_command_never_runs_it(core: Core) -> None:
    """`another` after "Did you mean `daily off`?" looks for a quote; the daily stays on."""
    out = await converse(core, "daily on 09:00 UTC", "dialy off", "another", "daily status")
    assert "Did you mean daily off?" in out
    assert "Daily quote off" not in out
    assert out.rstrip().count("Daily quote: ") == 1  # the status: still on


async def test_another_before_any_quote_explains(core: Core) -> None:
    out = await converse(core, "another")
    assert "ask for a quote first" in out


async def test_interactive_mode_greets_prompts_and_quits(core: Core) -> None:
    out = await converse(core, "help", "quit", "dpo", interactive=True)
    assert out.startswith("lambert console")
    assert out.count(PROMPT) == 2  # the line after `quit` is never read
    assert "search <words>" in out


async def test_the_greeting_names_a_theme_of_this_corpus(tmp_path: Path) -> None:
    """A corpus without a `dpo` theme is not told to try `dpo` (issue 19, point 17)."""
    settings = load_settings(
        {}, db_path=tmp_path / "lambert.db", corpus_path=tiny_corpus(tmp_path, 3)
    )
    async with open_core(settings) as tiny:
        out = await converse(tiny, "quit", interactive=True)
    assert "e.g. /lambert t or just t." in out and "dpo" not in out


async def test_hostile_lines_never_end_the_session(core: Core) -> None:
    out = await converse(core, "AND(", "\u202e\u200b", "x" * 10_000, "\x00", "themes")
    assert "farewell" in out  # the last command still ran


async def test_a_paraphrase_in_a_search_list_is_tagged(core: Core) -> None:
    out = await converse(core, "search sycophancy verbosity")
    assert "[reward-hacking] On reward hacking" in out
    assert "[summary of his view] Optimizing purely" in out


async def test_another_after_the_only_match_says_so(core: Core) -> None:
    out = await converse(core, "id reward-hacking", "another")
    assert out.count("On reward hacking") == 1
    assert "That is the only quote for that request" in out


# Trying everything locally: who and where you are, and the console's own clock.

DAILY_POST = "[daily quote for #console]"


async def test_a_member_is_refused_the_daily_quote_and_an_admin_gets_it_once_a_day(
    core: Core,
) -> None:
    out = await converse(
        core,
        ":time 2025-03-10T08:59Z",
        ":as member",
        "daily on 9am UTC",
        ":as admin",
        "daily on 9am UTC",
        ":time 2025-03-10T09:00Z",
        ":time 2025-03-10T13:30Z",
        ":time 2025-03-10T23:59Z",
    )
    refused, accepted = out.split("You are now an admin in #console.")
    assert "Only admins can manage the daily quote." in refused
    assert "Daily quote on" not in refused
    assert "Daily quote on: every day at 09:00 UTC." in accepted
    assert out.count(DAILY_POST) == 1
    # It printed when the clock reached 09:00, before the next command's reply.
    at_nine = accepted.index("reads 2025-03-10 09:00 UTC")
    assert at_nine < accepted.index(DAILY_POST) < accepted.index("reads 2025-03-10 13:30 UTC")
    (schedule,) = await core.daily.store.schedules()
    assert (schedule.platform, schedule.channel) == ("console", "console")


async def test_the_next_day_posts_again(core: Core) -> None:
    out = await converse(
        core,
        ":time 2025-03-10T10:00Z",
        "daily on 09:00 Europe/Berlin",  # 08:00 UTC: today's is past, tomorrow's is next
        ":time 2025-03-10T23:00Z",
        ":time 2025-03-11T08:00Z",
        ":time 2025-03-11T08:30Z",
    )
    assert out.count(DAILY_POST) == 1
    assert out.index("reads 2025-03-11 08:00 UTC") < out.index(DAILY_POST)


async def test_moving_the_clock_back_never_posts_a_slot_from_before_the_schedule(
    core: Core,
) -> None:
    """Issue 21: set at 10:00, the clock moved back to 09:00 posts nothing that day; the
    next day's 09:00 posts, once."""
    out = await converse(
        core,
        ":time 2025-03-10T10:00Z",
        "daily on 09:00 UTC",
        ":time 2025-03-10T09:00Z",
        ":time 2025-03-10T09:30Z",
        ":time 2025-03-09T09:00Z",
        "daily",
        ":time 2025-03-11T09:00Z",
        ":time 2025-03-11T09:30Z",
    )
    assert out.count(DAILY_POST) == 1
    assert out.index("reads 2025-03-11 09:00 UTC") < out.index(DAILY_POST)
    # The status read at the earlier clock names the first slot after the schedule was set.
    assert "Next post: Tue 11 Mar 2025, 09:00 UTC" in out
    assert "missed" not in out
    records = await core.daily.store.records_since(date(2025, 3, 1))
    assert [(d, r.status) for (_, _, d), r in records.items()] == [
        (date(2025, 3, 11), PostStatus.POSTED)
    ]


async def test_a_weekday_schedule_skips_the_weekend(core: Core) -> None:
    out = await converse(
        core,
        ":time 2025-03-07T08:00Z",  # a Friday
        "daily on 9am weekdays UTC",
        ":time 2025-03-07T09:00Z",
        ":time 2025-03-08T09:00Z",  # Saturday
        ":time 2025-03-09T09:00Z",  # Sunday
        "daily",
        ":time 2025-03-10T09:00Z",  # Monday
    )
    assert "Daily quote on: weekdays at 09:00 UTC." in out
    assert "Daily quote: weekdays at 09:00 UTC." in out
    assert "Next post: Mon 10 Mar 2025, 09:00 UTC" in out
    assert out.count(DAILY_POST) == 2
    records = await core.daily.store.records_since(date(2025, 3, 1))
    assert sorted(d for (_, _, d) in records) == [date(2025, 3, 7), date(2025, 3, 10)]


async def test_a_channel_of_ones_own_gets_its_own_schedule_and_posts(core: Core) -> None:
    out = await converse(
        core,
        ":channel #general",
        ":time 2025-03-10 08:59",
        "daily on 9am UTC",
        ":time 09:00",
        interactive=True,
    )
    assert "You are now in #general." in out
    assert "lambert #general (admin)> " in out
    assert "[daily quote for #general]" in out
    (schedule,) = await core.daily.store.schedules()
    assert (schedule.platform, schedule.channel) == ("console", "general")


async def test_the_prompt_says_who_and_where_you_are(core: Core) -> None:
    out = await converse(core, ":as member", ":channel random", ":as admin", interactive=True)
    assert out.count("lambert #console (admin)> ") == 1
    assert "lambert #console (member)> " in out
    assert "lambert #random (member)> " in out
    assert out.endswith("lambert #random (admin)> ")


async def test_help_lists_the_console_commands(core: Core) -> None:
    out = await converse(core, ":help")
    for usage in (":as member | :as admin", ":channel NAME", ":time 08:59 Europe/Berlin"):
        assert usage in out
    assert "2025-03-10T08:59Z" in out and ":time now" in out


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (":as owner", "! Use :as member or :as admin."),
        (":as", "! Use :as member or :as admin."),
        (":channel", "! Use :channel NAME"),
        (":channel two words", "! Use :channel NAME"),
        (":channel " + "x" * 81, "! Use :channel NAME"),
        (":time 25:00", "is not a time of day"),
        (":time 09:00 Mars/Olympus", "is not a time zone"),
        (":time 2025-13-40T09:00Z", "is not an ISO date and time"),
        (":time 9 am UTC extra", "! Use :time 08:59 Europe/Berlin"),
        (":frobnicate", "! No console command :frobnicate: see :help."),
    ],
)
async def test_a_bad_console_command_says_what_would_work(core: Core, line: str, says: str) -> None:
    out = await converse(core, line, ":as")
    assert says in out
    assert "Traceback" not in out


async def test_time_alone_tells_the_time_and_now_goes_back_to_the_real_clock(
    core: Core,
) -> None:
    out = await converse(core, ":time 1999-12-31T23:59Z", ":time", ":time now")
    assert out.count("reads 1999-12-31 23:59 UTC") == 2
    assert "reads the real time again" in out
    assert "1999" not in out.rpartition("real time again")[2]


async def test_times_the_scheduler_cannot_hold_are_refused_and_it_keeps_posting(
    core: Core,
) -> None:
    out = await converse(
        core,
        ":time 2025-03-10T08:59Z",
        "daily on 9am UTC",
        ":time 9999-12-31T23:59Z",
        ":time 0001-01-01T00:00Z",
        ":time 0001-01-01T00:00+01:00",
        ":time 2025-03-10T09:00Z",
    )
    for instant in ("9999-12-31T23:59Z", "0001-01-01T00:00Z", "0001-01-01T00:00+01:00"):
        assert (
            f"! {instant!r} is out of range: the scheduler holds instants from 1970 to 9998; "
            "use e.g. :time 2025-03-10T08:59Z.\n\n"
        ) in out
    assert "Traceback" not in out and "9999-12-31 23:59 UTC" not in out
    assert out.count(DAILY_POST) == 1
    assert out.index("reads 2025-03-10 09:00 UTC") < out.index(DAILY_POST)


@pytest.mark.parametrize(
    ("lines", "says"),
    [
        (
            [":time 2026-03-29T02:30 Europe/Berlin"],
            "02:30 does not exist on 29 March 2026 in Europe/Berlin (the clocks go forward); "
            "read as 03:00, when they do, as a daily quote set for 02:30 posts. "
            "The console's clock now reads 2026-03-29 01:00 UTC.",
        ),
        (
            [":time 2025-03-09T12:00Z", ":time 02:30 America/New_York"],
            "02:30 does not exist on 9 March 2025 in America/New_York (the clocks go forward); "
            "read as 03:00, when they do, as a daily quote set for 02:30 posts. "
            "The console's clock now reads 2025-03-09 07:00 UTC.",
        ),
        (
            [":time 2025-10-26 02:30 Europe/Berlin"],
            "02:30 happens twice on 26 October 2025 in Europe/Berlin (the clocks go back); "
            "read as the first, 02:30 CEST (00:30 UTC). "
            "The console's clock now reads 2025-10-26 00:30 UTC.",
        ),
        (
            [":time 2025-11-02T01:30 America/New_York"],
            "01:30 happens twice on 2 November 2025 in America/New_York (the clocks go back); "
            "read as the first, 01:30 EDT (05:30 UTC). "
            "The console's clock now reads 2025-11-02 05:30 UTC.",
        ),
        # An ordinary local time, or one with its offset, needs no word on how it was read.
        (
            [":time 2026-03-29T04:30 Europe/Berlin"],
            "The console's clock now reads 2026-03-29 02:30 UTC.",
        ),
    ],
)
async def test_a_local_time_changed_by_daylight_saving_says_how_it_was_read(
    core: Core, lines: list[str], says: str
) -> None:
    out = await converse(core, *lines)
    assert out.endswith(says + "\n\n")


@pytest.mark.parametrize("line", [":", ": ", ":  time"])
async def test_a_colon_alone_says_what_may_follow_it(core: Core, line: str) -> None:
    out = await converse(core, line)
    names = ":as, :channel, :time, :help"
    assert out == f"! A console command follows the colon: {names}; :help says more.\n\n"
