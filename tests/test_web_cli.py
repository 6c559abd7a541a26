"""`lambert web`, `lambert site build` and the site beside the probes of `lambert serve`: the
same pages from the server and from the files, signals end the server with 0, and `ask`
never loads the site's libraries."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import feedparser
import pytest
from aiohttp.test_utils import TestClient

from bot.config import load_settings
from bot.runtime import Core
from bot.serving.probes import expose
from bot.web.export import build
from tests.support.cli import run
from tests.support.health import get
from tests.support.paths import CORPUS, REPO
from tests.support.postgres import free_port
from tests.support.web import PUBLIC, make_site


def server_path(name: str, count: int) -> str:
    """The address the server answers with what the export writes to file `name`."""
    special = {
        "index.html": "/",
        "404.html": "/nowhere",
        "api/v1/quotes.json": f"/api/v1/quotes?per_page={count}",
    }
    if name in special:
        return special[name]
    path = "/" + name.removesuffix("index.html").rstrip("/")
    return path.removesuffix(".json") if path.startswith("/api/") else path


async def test_the_export_writes_what_the_server_answers_byte_for_byte(
    core: Core, public_client: TestClient, tmp_path: Path
) -> None:
    site = make_site(core, PUBLIC)
    tmp_path = tmp_path / "site"  # beside the test's database, not around it
    written = await build(site, PUBLIC, tmp_path)
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert len(files) == written
    quotes = await core.quotes.quotes()
    for quote in quotes:
        for name in (f"q/{quote.id}/index.html", f"q/{quote.id}.png"):
            assert (tmp_path / name).is_file(), name
        assert json.loads((tmp_path / f"api/v1/quotes/{quote.id}.json").read_text())["id"] == (
            quote.id
        )
    for info in core.quotes.themes():
        assert (tmp_path / "themes" / info.theme.slug / "index.html").is_file()
    listing = json.loads((tmp_path / "api/v1/quotes.json").read_text())
    assert [q["id"] for q in listing["quotes"]] == [q.id for q in quotes]
    assert not feedparser.parse((tmp_path / "feed.atom").read_bytes()).bozo
    for path in files:
        name = path.relative_to(tmp_path).as_posix()
        response = await public_client.get(server_path(name, len(quotes)))
        assert response.status == (404 if name == "404.html" else 200), name
        assert await response.read() == path.read_bytes(), name


def test_site_build_needs_the_sites_address(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "--corpus", str(CORPUS), "site", "build", str(tmp_path / "s"))
    assert code == 2 and err.count("\n") == 1 and "LAMBERT_PUBLIC_URL or pass --url" in err
    code, _, err = run(
        capsys, "--corpus", str(CORPUS), "site", "build", str(tmp_path), "--url", "ftp://x"
    )
    assert code == 2 and err.count("\n") == 1 and "not the site's public address" in err


def test_site_build_writes_the_site_and_its_themes_are_themes_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "site"
    code, out, _ = run(
        capsys, "--corpus", str(CORPUS), "site", "build", str(folder), "--url", PUBLIC + "/"
    )
    assert code == 0 and f"under {folder} for {PUBLIC}" in out
    code, themes, _ = run(capsys, "--corpus", str(CORPUS), "themes", "--json")
    assert json.loads((folder / "api/v1/themes.json").read_text()) == json.loads(themes)
    today = json.loads((folder / "api/v1/today.json").read_text())
    assert today["url"] == f"{PUBLIC}/q/{today['id']}"


def test_lambert_web_refuses_a_port_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "web", "--port", "70000")
    assert code == 2 and err == "lambert: --port takes a number from 0 to 65535, e.g. --port 8080\n"


async def lambert(*argv: str, tmp_path: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--db",
        str(tmp_path / "web.db"),
        "--corpus",
        str(CORPUS),
        *argv,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
async def test_lambert_web_prints_its_address_serves_and_exits_0_on_a_signal(
    tmp_path: Path, stop: signal.Signals
) -> None:
    proc = await lambert("web", "--port", "0", tmp_path=tmp_path)
    assert proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line.startswith("lambert web: serving http://127.0.0.1:"), line
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        status, html = await get(port, "/")
        assert status == 200 and "Quote of the day" in html
        proc.send_signal(stop)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.mark.slow
async def test_lambert_web_on_a_taken_port_says_so_in_one_line(tmp_path: Path) -> None:
    with __import__("socket").socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        proc = await lambert("web", "--port", str(taken.getsockname()[1]), tmp_path=tmp_path)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert err.decode().count("\n") == 1 and "is already in use" in err.decode()


@pytest.mark.slow
def test_ask_never_imports_the_sites_libraries() -> None:
    import subprocess

    script = (
        "import sys; from bot.cli import main; code = main(['--corpus', sys.argv[1], 'ask', "
        "'dpo']); print(sorted(m for m in ('aiohttp', 'jinja2', 'feedgen', 'bot.web', 'PIL') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(CORPUS)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


async def test_lambert_serve_answers_the_site_beside_the_probes(core: Core, tmp_path: Path) -> None:
    port = free_port()
    settings = load_settings(
        {"LAMBERT_HTTP_PORT": str(port), "LAMBERT_PUBLIC_URL": PUBLIC},
        db_path=tmp_path / "serve.db",
        corpus_path=CORPUS,
    )
    async with await expose(settings, core, []):
        assert await get(port, "/healthz") == (200, "ok\n")
        assert (await get(port, "/readyz"))[0] == 200
        assert (await get(port, "/metrics"))[0] == 200
        status, html = await get(port, "/")
        assert status == 200 and f'href="{PUBLIC}/feed.atom"' in html
        status, body = await get(port, "/api/v1/today")
        assert status == 200 and json.loads(body)["url"].startswith(f"{PUBLIC}/q/")
