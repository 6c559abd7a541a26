"""`lambert daily set|off|list|tick`, run in-process as a script or cron job would call them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from bot.daily.schedules import parse_days
from tests.support.cli import run
from tests.support.schedules import set_daily


def set_berlin(**changes: str) -> list[str]:
    """`lambert daily set` for console/general at 09:00 Berlin, with options replaced or added."""
    options = {"--platform": "console", "--channel": "general", "--time": "09:00"}
    options |= {"--tz": "Europe/Berlin", **{f"--{k}": v for k, v in changes.items()}}
    return ["daily", "set", *(part for pair in options.items() for part in pair)]


SET_BERLIN = set_berlin()
NINE_BERLIN = "2025-03-10T08:00:00Z"
NEXT_DAY = "2025-03-11T08:00:00Z"


def tick(capsys: pytest.CaptureFixture[str], at: str) -> tuple[dict[str, Any], str]:
    code, out, err = run(capsys, "daily", "tick", "--at", at, "--force", "--json")
    assert code == 0, err
    payload: dict[str, Any] = json.loads(out)  # standard output is exactly one JSON object
    return payload, err


def listing(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    code, out, _ = run(capsys, "daily", "list", "--json")
    assert code == 0
    schedules: list[dict[str, Any]] = json.loads(out)["schedules"]
    return schedules


def test_set_then_list_gives_the_documented_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *set_berlin(theme="rlhf"))
    assert code == 0 and "console/general" in out
    (row,) = listing(capsys)
    assert set(row) == {
        "platform", "workspace", "channel", "time", "days", "tz", "theme", "enabled",
        "next_post_utc", "last_outcome",
    }  # fmt: skip
    assert row["platform"] == "console" and row["channel"] == "general"
    assert row["workspace"] is None  # only Slack names one
    assert (row["time"], row["tz"], row["theme"], row["enabled"]) == (
        "09:00",
        "Europe/Berlin",
        "post-training",
        True,
    )
    assert row["next_post_utc"].endswith(("T08:00:00Z", "T07:00:00Z"))  # CET or CEST
    assert row["last_outcome"] is None


def test_days_are_set_said_and_listed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *set_berlin(days="Mon-Fri"))
    assert code == 0, err
    assert out.startswith("console/general: a quote weekdays at 09:00 Europe/Berlin (any theme)")
    (row,) = listing(capsys)
    assert row["days"] == ["mon", "tue", "wed", "thu", "fri"]
    code, out, _ = run(capsys, "daily", "list")
    assert "console/general  weekdays at 09:00 Europe/Berlin  theme any  next " in out
    run(capsys, *set_berlin(days="sat"))
    (row,) = listing(capsys)
    assert row["days"] == ["sat"]
    assert datetime.fromisoformat(row["next_post_utc"]).weekday() == 5  # 09:00 Berlin: Saturday
    code, _, err = run(capsys, *set_berlin(days="someday"))
    assert code == 2 and "\u201csomeday\u201d is not days of the week: use weekdays" in err


def test_a_weekday_schedule_replayed_over_a_week_posts_on_its_days_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_daily("general", weekdays=parse_days("mon,wed,fri"))
    posted = []
    for day in range(10, 17):  # Monday 10 to Sunday 16 March 2025, 09:00 Berlin each
        report, _ = tick(capsys, f"2025-03-{day}T08:00:00Z")
        assert (report["missed"], report["failed"]) == ([], [])
        posted += [p["local_date"] for p in report["posted"]]
    assert posted == ["2025-03-10", "2025-03-12", "2025-03-14"]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"time": "25:00"}, "not a time of day"),
        ({"tz": "Mars/Olympus_Mons"}, "not a time zone"),
        ({"tz": "Europe/Berln"}, "Did you mean Europe/Berlin"),
        ({"theme": "astrology"}, "unknown theme 'astrology'"),
        ({"platform": "irc"}, "invalid choice: 'irc'"),
        ({"channel": " "}, "--channel is empty"),
    ],
)
def test_bad_input_exits_non_zero_with_a_message_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], change: dict[str, str], says: str
) -> None:
    assert run(capsys, *set_berlin(time="07:00", theme="dpo"))[0] == 0
    before = listing(capsys)
    code, _, err = run(capsys, *set_berlin(**change))
    assert code == 2 and says in err
    assert listing(capsys) == before


def test_off_disables_and_an_unknown_channel_is_an_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(capsys, *SET_BERLIN)
    assert run(capsys, "daily", "off", "--platform", "console", "--channel", "general")[0] == 0
    (row,) = listing(capsys)
    assert row["enabled"] is False and row["next_post_utc"] is None
    code, _, err = run(capsys, "daily", "off", "--platform", "console", "--channel", "nowhere")
    assert code == 1 and "no daily schedule for console/nowhere" in err


def test_tick_twice_at_one_instant_posts_once_and_the_next_day_another_quote(
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_daily("general")  # before the day replayed: `daily set` as run then
    first, err = tick(capsys, NINE_BERLIN)
    (posted,) = first["posted"]
    assert posted == {
        "platform": "console",
        "channel": "general",
        "local_date": "2025-03-10",
        "quote_id": posted["quote_id"],
    }
    assert (first["missed"], first["failed"]) == ([], [])
    assert err.count("[daily quote for #general]") == 1  # the console post, on stderr
    assert f"id: {posted['quote_id']}" in err

    again, err = tick(capsys, NINE_BERLIN)
    assert again == {"posted": [], "missed": [], "failed": [], "unknown": []}
    assert "[daily quote" not in err

    next_day, _ = tick(capsys, NEXT_DAY)
    (later,) = next_day["posted"]
    assert later["local_date"] == "2025-03-11" and later["quote_id"] != posted["quote_id"]
    (row,) = listing(capsys)
    assert row["last_outcome"]["status"] == "posted"
    assert row["last_outcome"]["local_date"] == "2025-03-11"


def test_tick_without_json_prints_the_post_and_a_summary_to_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_daily("general")  # before the day replayed: `daily set` as run then
    code, out, _ = run(capsys, "daily", "tick", "--at", "2025-03-10T09:00:00+01:00", "--force")
    assert code == 0
    assert out.startswith("[daily quote for #general]\n")
    assert "daily tick at 2025-03-10T08:00:00Z\n  posted console/general 2025-03-10: " in out
    code, out, _ = run(capsys, "daily", "tick", "--at", "2025-03-10T09:00:00+01:00", "--force")
    assert out == "daily tick at 2025-03-10T08:00:00Z\n  nothing due\n"


@pytest.mark.parametrize(
    ("window", "hours_late", "outcome"),
    [(None, 5, "posted"), (None, 7, "missed"), ("1", 2, "missed"), ("12", 7, "posted")],
)
def test_tick_late_catches_up_within_lambert_catchup_hours_else_records_a_miss(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    window: str | None,
    hours_late: int,
    outcome: str,
) -> None:
    if window is not None:
        monkeypatch.setenv("LAMBERT_CATCHUP_HOURS", window)
    set_daily("general")  # before the day replayed: `daily set` as run then
    report, _ = tick(capsys, f"2025-03-10T{8 + hours_late:02d}:00:00Z")
    assert len(report[outcome]) == 1 and report["failed"] == []
    (row,) = listing(capsys)
    assert row["last_outcome"]["status"] == outcome


def test_a_bad_instant_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "daily", "tick", "--at", "yesterday-ish", "--json")
    assert code == 2 and out == "" and "not an ISO 8601 instant" in err


def test_bare_daily_lists(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "daily")
    assert code == 0 and "No daily schedules" in out
    run(capsys, *SET_BERLIN)
    code, out, _ = run(capsys, "daily")
    assert "console/general  every day at 09:00 Europe/Berlin  theme any  next " in out
    assert "last: none yet" in out
