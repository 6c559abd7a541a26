"""A throwaway PostgreSQL server per test session, and a fresh migrated database per test.

A plugin of the root conftest.py (`pytest_plugins`). The server is the machine's own
(Debian's `postgresql` package puts it in /usr/lib/postgresql/<version>/bin, off PATH), run
in a temporary folder on a free loopback port and stopped when the session ends. Each test
that asks for `postgres_url` gets its own database, cloned from a template migrated once.

PostgreSQL refuses to run as root, and CI runs as root: then the server runs as the
`postgres` system user (`runuser`), in a folder it owns. Without the binaries the tests that
need them skip, with one line naming the package; under CI=true they fail instead.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from bot.storage.engine import open_engine

BIN_GLOB = "/usr/lib/postgresql/*/bin"
MISSING = (
    f"no PostgreSQL server binaries in {BIN_GLOB}: install the Debian package postgresql "
    "to run these tests"
)
TEMPLATE = "lambert_template"
SERVER_USER = "postgres"

T = TypeVar("T")


def server_binaries() -> Path | None:
    """The newest installed server's bin folder, or None."""
    found = [p for p in Path("/").glob(BIN_GLOB.lstrip("/")) if (p / "pg_ctl").is_file()]
    numbers = [(tuple(int(n) for n in re.findall(r"\d+", p.parent.name)), p) for p in found]
    return max(numbers)[1] if numbers else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to the end on a loop of its own, whatever loop this thread may have."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


class Cluster:
    """One PostgreSQL server in `folder`: data in `folder/data`, socket and log beside it."""

    def __init__(self, bin_dir: Path, folder: Path) -> None:
        self.bin_dir = bin_dir
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self._as_root = os.geteuid() == 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str) -> None:
        argv = [str(self.bin_dir / program), *args]
        if self._as_root:
            argv = ["runuser", "-u", SERVER_USER, "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.folder / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr}\n{tail}")

    def init(self) -> None:
        if self._as_root:
            try:
                user = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise RuntimeError(
                    f"running as root, and there is no {SERVER_USER!r} user to run PostgreSQL"
                ) from None
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        # fsync and full-page writes off: this data only has to outlive the server process
        # (a crash-and-restart test), never the machine.
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-w", "-l", str(self.folder / "log"),
            "-o", options, "start",
        )  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "stop")

    def migrate_template(self) -> None:
        async def create() -> None:
            admin = await asyncpg.connect(self.url())
            try:
                await admin.execute(f"CREATE DATABASE {TEMPLATE}")
            finally:
                await admin.close()
            async with open_engine(Path("unused.db"), self.url(TEMPLATE)):
                pass

        run_in_thread(create())


@pytest.fixture(autouse=True)
def no_outside_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's exported LAMBERT_DATABASE_URL never points a test at a real database."""
    monkeypatch.delenv("LAMBERT_DATABASE_URL", raising=False)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A running server with a migrated template database, for the whole session."""
    bin_dir = server_binaries()
    if bin_dir is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    # Not under pytest's tmp folder: that is private to this user (0700), and the server may
    # run as another one.
    folder = Path(tempfile.mkdtemp(prefix="lambert-pg-"))
    cluster = Cluster(bin_dir, folder)
    try:
        cluster.init()
        cluster.start()
        try:
            cluster.migrate_template()
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_numbers = itertools.count(1)


@pytest.fixture
async def postgres_url(postgres_cluster: Cluster) -> AsyncIterator[str]:
    """`postgresql://postgres@127.0.0.1:PORT/t_N`: a database of this test's own, migrated."""
    name = f"t_{next(_numbers)}"
    admin = await asyncpg.connect(postgres_cluster.url())
    try:
        # A file copy (45 ms) is twice as fast as 15's default, which copies through the WAL.
        copy = " STRATEGY FILE_COPY" if admin.get_server_version().major >= 15 else ""
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}{copy}")
    finally:
        await admin.close()
    yield postgres_cluster.url(name)
    admin = await asyncpg.connect(postgres_cluster.url())
    try:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest) -> str | None:
    """For a test that runs on both backends: None for SQLite, else the URL of this test's
    own PostgreSQL database (`postgres_url`)."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("postgres_url")
    return url


PGBOUNCER_MISSING = (
    "no pgbouncer on this machine: install the Debian package pgbouncer to run these tests "
    "(`make test` installs it when run as root)"
)


def pgbouncer_binary() -> Path | None:
    found = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    return Path(found) if Path(found).is_file() else None


class Bouncer:
    """PgBouncer in transaction mode in front of `cluster`, with few server connections: each
    transaction may run on another one, as in production behind a shared bouncer."""

    def __init__(self, binary: Path, cluster: Cluster, folder: Path, pool_size: int = 2) -> None:
        self.port = free_port()
        self.cluster = cluster
        (folder / "users.txt").write_text('"postgres" ""\n')
        self.config = folder / "pgbouncer.ini"
        self.config.write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={cluster.port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
            f"pool_mode = transaction\ndefault_pool_size = {pool_size}\n"
            "max_client_conn = 200\nserver_reset_query =\n"
            f"logfile = {folder / 'pgbouncer.log'}\n"
        )
        argv = [str(binary), str(self.config)]
        if os.geteuid() == 0:  # it refuses to run as root, like PostgreSQL
            user = pwd.getpwnam(SERVER_USER)
            os.chown(folder, user.pw_uid, user.pw_gid)
            for name in ("users.txt", "pgbouncer.ini"):
                os.chown(folder / name, user.pw_uid, user.pw_gid)
            argv = ["runuser", "-u", SERVER_USER, "--", *argv]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_listening()

    def _wait_listening(self) -> None:
        for _ in range(200):
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {self.process.stderr.read().decode()}")  # type: ignore[union-attr]
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            threading.Event().wait(0.05)  # a process starting up, not the test's clock
        raise RuntimeError("pgbouncer did not listen within 10 s")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture(scope="session")
def pgbouncer(postgres_cluster: Cluster) -> Iterator[Bouncer]:
    """PgBouncer (Debian's, 1.18 on Debian 12) in transaction mode before the test server."""
    binary = pgbouncer_binary()
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(PGBOUNCER_MISSING)
        pytest.skip(PGBOUNCER_MISSING)
    folder = Path(tempfile.mkdtemp(prefix="lambert-bouncer-"))
    bouncer = Bouncer(binary, postgres_cluster, folder)
    try:
        yield bouncer
    finally:
        bouncer.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def bouncer_url(pgbouncer: Bouncer, postgres_url: str) -> str:
    """This test's own database (`postgres_url`), reached through PgBouncer."""
    return pgbouncer.url(postgres_url.rsplit("/", 1)[1])
