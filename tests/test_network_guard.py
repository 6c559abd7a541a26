"""The suite's own guard: any connection off the loopback fails the test that tried it."""

from __future__ import annotations

import asyncio
import socket

import pytest

from tests.support.network import NetworkUseError

# TEST-NET-1 (RFC 5737): reserved for documentation, and the guard refuses before any packet.
OFF_MACHINE = ("192.0.2.1", 443)


def test_a_plain_socket_cannot_leave_the_machine() -> None:
    with socket.socket() as sock, pytest.raises(NetworkUseError, match=r"192\.0\.2\.1"):
        sock.connect(OFF_MACHINE)


async def test_asyncio_cannot_leave_the_machine() -> None:
    with pytest.raises(NetworkUseError):
        await asyncio.open_connection(*OFF_MACHINE)


async def test_loopback_still_works() -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
