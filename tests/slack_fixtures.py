"""Pytest fixtures that run a real slack-bolt AsyncApp against the loopback fake Slack.

Load them with `pytest_plugins = ["tests.slack_fixtures"]` (in conftest.py or a test module).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_platform import APP_TOKEN, SIGNING_SECRET, FakeSlack

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")


def bolt_app(fake: FakeSlack, *, client: AsyncWebClient | None = None, **kwargs: Any) -> AsyncApp:
    """A real AsyncApp wired to `fake`. The token lives on the client: passing both only logs a
    warning. AsyncApp has no token_verification_enabled; it calls auth.test on the first request."""
    kwargs.setdefault("signing_secret", SIGNING_SECRET)
    return AsyncApp(client=client or fake.client(), **kwargs)


@contextlib.asynccontextmanager
async def serve_http(app: AsyncApp, *, path: str = "/slack/events") -> AsyncIterator[str]:
    """Serve `app` over HTTP on 127.0.0.1 (random port); yields the URL to POST events to."""
    runner = web.AppRunner(app.web_app(path=path))
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def socket_mode(
    app: AsyncApp, *, app_token: str = APP_TOKEN, client: AsyncWebClient | None = None
) -> AsyncIterator[AsyncSocketModeHandler]:
    """Connect `app` in Socket Mode. The handler asks apps.connections.open through the web
    client's base_url (default: app.client), so a client pointed at the fake is all it needs."""
    handler = AsyncSocketModeHandler(app, app_token=app_token, web_client=client or app.client)
    try:
        await handler.connect_async()
        yield handler
    finally:
        # Close before the fake stops: a server-side close would make the client reconnect.
        await handler.close_async()


@pytest.fixture
async def fake_slack(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSlack]:
    """A started FakeSlack. Proxy variables are cleared: slack_sdk sends even loopback
    traffic through HTTPS_PROXY/HTTP_PROXY (it ignores NO_PROXY)."""
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
