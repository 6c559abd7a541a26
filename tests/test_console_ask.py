"""`lambert ask --as member|admin --channel NAME`: the console's identities from a shell."""

from __future__ import annotations

import json

import pytest

from bot.cli import main


def ask(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["ask", *argv]) == 0
    return capsys.readouterr().out


def test_a_member_is_refused_the_daily_quote(capsys: pytest.CaptureFixture[str]) -> None:
    out = ask(capsys, "--as", "member", "daily", "off")
    assert "Only admins can manage the daily quote." in out
    assert "the console's admin role (:as admin)" in out
    assert ask(capsys, "daily", "off") == out  # member is the default
    assert "No daily quote here yet." in ask(capsys, "daily")  # the status is anyone's


def test_an_admin_sets_the_daily_quote_of_the_channel_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = ask(capsys, "--as", "admin", "--channel", "general", "daily", "on", "9am", "UTC")
    assert "Daily quote on: every day at 09:00 UTC." in out
    status = ask(capsys, "--as", "admin", "--channel", "#general", "daily")
    assert "Daily quote: every day at 09:00 UTC." in status
    assert "No daily quote here yet." in ask(capsys, "--as", "admin", "daily")
    payload = json.loads(ask(capsys, "daily", "--as", "admin", "--channel", "general", "--json"))
    assert "every day at 09:00 UTC" in payload["message"]


def test_an_unknown_role_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["ask", "--as", "owner", "dpo"])
    assert exited.value.code == 2
    assert "invalid choice: 'owner'" in capsys.readouterr().err


@pytest.mark.parametrize("channel", ["two words", "", "x" * 81])
def test_a_bad_channel_exits_2(capsys: pytest.CaptureFixture[str], channel: str) -> None:
    assert main(["ask", "--channel", channel, "dpo"]) == 2
    assert capsys.readouterr().err == (
        "lambert: --channel takes a name of 1 to 80 characters, no spaces\n"
    )
