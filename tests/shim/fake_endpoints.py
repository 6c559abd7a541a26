"""Point discord.py and lambert's Slack client at loopback fakes; refuse any other network use.

Used two ways: by `sitecustomize.py` in a `lambert` subprocess (PYTHONPATH=tests/shim, the fakes'
addresses in the environment), and directly by in-process tests (with monkeypatch). Production
code reads no test address: these patches are the only redirect.
"""

from __future__ import annotations

import importlib.abc
import ipaddress
import os
import socket
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

DISCORD_URL = "LAMBERT_FAKE_DISCORD_URL"  # e.g. http://127.0.0.1:PORT (REST at /api/v10)
SLACK_URL = "LAMBERT_FAKE_SLACK_URL"  # e.g. http://127.0.0.1:PORT (Web API at /api/)
PID_HEADER = "X-Lambert-Test-Pid"  # which process sent a request, for fakes shared by several


def discord_rest(base: str) -> str:
    return f"{base}/api/v10"


def discord_gateway(base: str) -> str:
    return base.replace("http://", "ws://", 1) + "/gateway"


def slack_api(base: str) -> str:
    return f"{base}/api/"


def patch_discord_http(module: ModuleType, base: str) -> None:
    module.Route.BASE = discord_rest(base)


def patch_discord_gateway(module: ModuleType, base: str) -> None:
    import yarl

    module.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(discord_gateway(base))


def patch_slack_post(module: ModuleType, base: str) -> None:
    # web_client()'s base_url default was bound when the module ran: replace the default too.
    module.SLACK_API = slack_api(base)
    module.web_client.__kwdefaults__["base_url"] = slack_api(base)


def patch_aiohttp_client(module: ModuleType) -> None:
    """Every aiohttp session of this process sends its pid, so a shared fake can tell who asked."""
    session = module.ClientSession
    original = session.__init__

    def init(self: Any, *args: Any, headers: Any = None, **kwargs: Any) -> None:
        merged = dict(headers or {})
        merged[PID_HEADER] = str(os.getpid())
        original(self, *args, headers=merged, **kwargs)

    session.__init__ = init


class AfterImport(importlib.abc.MetaPathFinder):
    """Runs a hook right after a module is first imported, so patching costs no import time
    (a console-only tick never loads discord.py)."""

    def __init__(self, hooks: dict[str, Callable[[ModuleType], None]]) -> None:
        self.hooks = hooks

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> Any:
        hook = self.hooks.pop(fullname, None)  # once: the hook's own imports must not recurse
        if hook is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                _run_after(spec.loader, hook)
                return spec
        return None


def _run_after(loader: Any, hook: Callable[[ModuleType], None]) -> None:
    run = loader.exec_module

    def exec_module(module: ModuleType) -> None:
        run(module)
        hook(module)

    loader.exec_module = exec_module


def _is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths and socketpairs never leave the machine
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def guard_network(error: type[Exception] = OSError) -> None:
    """Make any non-loopback connect raise `error` (tests/conftest.py passes its own)."""

    def guarded(original: Any) -> Any:
        def connect(self: socket.socket, address: Any) -> Any:
            if not _is_loopback(address):
                raise error(f"tried to connect to {address!r}: only loopback is allowed")
            return original(self, address)

        return connect

    socket.socket.connect = guarded(socket.socket.connect)  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded(socket.socket.connect_ex)  # type: ignore[method-assign]


def install(environ: dict[str, str] | None = None) -> None:
    """Apply the patches the environment asks for, each when its module is imported."""
    env = os.environ if environ is None else environ
    guard_network()
    hooks: dict[str, Callable[[ModuleType], None]] = {"aiohttp.client": patch_aiohttp_client}
    if discord := env.get(DISCORD_URL):
        hooks["discord.http"] = lambda m: patch_discord_http(m, discord)
        hooks["discord.gateway"] = lambda m: patch_discord_gateway(m, discord)
    if slack := env.get(SLACK_URL):
        hooks["bot.adapters.slack.poster"] = lambda m: patch_slack_post(m, slack)
    sys.meta_path.insert(0, AfterImport(hooks))
