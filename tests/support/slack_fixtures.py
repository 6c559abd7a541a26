"""Pytest fixtures that run slack-bolt apps (ours or a bare one) against the loopback fake Slack.

A plugin of the root conftest.py (`pytest_plugins`); its builders are in tests.support.slack.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry import builtin_async_handlers

from bot.adapters.slack.app import SlackPlatform
from bot.config import Secret, Settings
from bot.runtime import Core, open_core
from tests.fakes.slack_platform import FakeSlack
from tests.support.slack import (
    PROXY_VARIABLES,
    Sleeps,
    bolt_app,
    oauth_settings,
    running_platform,
    serve_http,
    socket_mode,
)


@pytest.fixture
async def fake_slack(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSlack]:
    """A started FakeSlack, with the proxy variables cleared (see PROXY_VARIABLES)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def slack_app(fake_slack: FakeSlack) -> Callable[..., AsyncApp]:
    """`app = slack_app(**AsyncApp_kwargs)`: bolt_app() bound to fake_slack."""
    return lambda **kwargs: bolt_app(fake_slack, **kwargs)


@pytest.fixture
async def slack_http() -> AsyncIterator[Callable[[AsyncApp], Awaitable[str]]]:
    """`url = await slack_http(app)`: serve app over HTTP until the test ends."""
    async with contextlib.AsyncExitStack() as stack:

        async def serve(app: AsyncApp, path: str = "/slack/events") -> str:
            return await stack.enter_async_context(serve_http(app, path=path))

        yield serve


@pytest.fixture
async def slack_socket(
    fake_slack: FakeSlack,
) -> AsyncIterator[Callable[..., Awaitable[AsyncSocketModeHandler]]]:
    """`handler = await slack_socket(app)`: connect app to fake_slack in Socket Mode until the test
    ends (depends on fake_slack so the handler closes first)."""
    async with contextlib.AsyncExitStack() as stack:

        async def connect(app: AsyncApp, **kwargs: Any) -> AsyncSocketModeHandler:
            return await stack.enter_async_context(socket_mode(app, **kwargs))

        yield connect


class _NoJitter:
    """Stands in for the `random` module inside slack_sdk's async retry handlers."""

    @staticmethod
    def random() -> float:
        return 0.0


@pytest.fixture
def no_retry_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """AsyncRateLimitErrorRetryHandler sleeps int(Retry-After) + random() seconds; with this and
    the fake's `rate_limit(..., retry_after=0)` a retry costs no real time."""
    monkeypatch.setattr(builtin_async_handlers, "random", _NoJitter)


@pytest.fixture
def sleeps() -> Sleeps:
    """The Slack web client's injected sleep: records what Slack asked for, waits for nothing."""
    return Sleeps()


@pytest.fixture
async def many_core(settings: Settings, backend_url: str | None) -> AsyncIterator[Core]:
    """The core over SQLite, or with its shared state (installs too) in PostgreSQL."""
    if backend_url is not None:
        settings = replace(settings, database_url=Secret(backend_url))
    async with open_core(settings) as opened:
        yield opened


@pytest.fixture
async def many_platform(
    many_core: Core, fake_slack: FakeSlack, settings: Settings, sleeps: Sleeps
) -> AsyncIterator[SlackPlatform]:
    """lambert's Slack for many workspaces (HTTP, OAuth) over `many_core`, started."""
    async with running_platform(fake_slack, many_core, oauth_settings(settings), sleeps) as up:
        yield up
