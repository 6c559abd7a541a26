"""Bench-only: aim a `lambert serve` subprocess at the bench's loopback fakes. Never shipped.

`python -m bench` puts this folder on the subprocess's PYTHONPATH with the fakes' addresses in
LAMBERT_FAKE_DISCORD_URL / LAMBERT_FAKE_SLACK_URL (http://127.0.0.1:PORT); production code
reads no test address, so these patches are the only redirect. The modules patched here are
the ones `serve` imports anyway, so importing them early changes neither memory nor behaviour.
"""

import os
import socket

_discord = os.environ.get("LAMBERT_FAKE_DISCORD_URL")
_slack = os.environ.get("LAMBERT_FAKE_SLACK_URL")

if _discord:
    import discord.gateway
    import discord.http
    import yarl

    discord.http.Route.BASE = f"{_discord}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
        _discord.replace("http://", "ws://", 1) + "/gateway"
    )

if _slack:
    from bot.adapters import slack_post

    slack_post.SLACK_API = f"{_slack}/api/"
    # web_client()'s base_url default was bound when the module ran: replace the default too.
    slack_post.web_client.__kwdefaults__["base_url"] = slack_post.SLACK_API

if _discord or _slack:
    _connect = socket.socket.connect

    def _loopback_only(self, address):  # a bench must never reach the real platforms
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"bench subprocess tried to reach {address!r}")
        return _connect(self, address)

    socket.socket.connect = _loopback_only
