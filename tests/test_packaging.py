"""The Dockerfile, ignore files and example config say what the README promises."""

from __future__ import annotations

import re
import subprocess

from bot.config import known_variables, load_settings
from bot.platforms import served
from tests.support.paths import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")


def _instructions(name: str) -> list[str]:
    return re.findall(rf"^{name}\s+(.+)$", DOCKERFILE, flags=re.MULTILINE)


def test_the_image_runs_as_a_non_root_user() -> None:
    users = _instructions("USER")
    assert users and users[-1].strip() not in {"root", "0", "0:0"}


def test_the_image_keeps_the_database_on_a_volume() -> None:
    assert any("/data" in v for v in _instructions("VOLUME"))
    assert "LAMBERT_DB=/data/lambert.db" in DOCKERFILE


def test_the_image_has_a_healthcheck_and_serves_by_default() -> None:
    assert any('"lambert", "health"' in h for h in _instructions("HEALTHCHECK"))
    assert _instructions("CMD")[-1].strip() == '["lambert", "serve"]'


def test_no_env_file_reaches_the_image_or_git() -> None:
    assert not any(".env" in c.split() for c in _instructions("COPY"))
    assert not any(re.search(r"(^|\s)\.(\s|$)", c) for c in _instructions("COPY"))
    assert ".env" in (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".env"], cwd=REPO, check=False
    ).returncode
    assert ignored == 0


def test_config_example_documents_exactly_the_variables_we_read() -> None:
    example = (REPO / "config.example.env").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    documented -= {"POSTGRES_PASSWORD", "COMPOSE_PROFILES"}  # read by docker compose, not lambert
    # The unknown-variable warning's list (what load_settings reads) is the documented one.
    assert known_variables() == documented
    # ...and no code reads a variable past load_settings, which would miss that list.
    read_by_code = set(re.findall(r'"((?:LAMBERT|DISCORD|SLACK|LOG)_[A-Z_]+)"', _all_sources()))
    assert read_by_code <= documented, read_by_code - documented


def test_config_example_loads_as_it_is() -> None:
    values = {}
    for line in (REPO / "config.example.env").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    settings = load_settings(values)
    assert served(settings) == ()  # the example enables nothing until tokens are filled in


def _all_sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "bot").rglob("*.py"))
