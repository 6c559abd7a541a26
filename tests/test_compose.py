"""docker-compose.yml is a real deployment: PostgreSQL with a volume and a healthcheck, a Slack
and a Discord replica of the image, every variable documented and read, no secret in the file.

Docker is not on the build machine (README, "Containers"), so the file is checked as text."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.support.paths import REPO

COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
COMPOSE_TEXT = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
EXAMPLE = (REPO / "config.example.env").read_text(encoding="utf-8")
CONFIG = (REPO / "bot" / "config.py").read_text(encoding="utf-8")
DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")

SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
POSTGRES_IMAGE_VARIABLES = {"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD"}
SECRETS = {
    "DISCORD_TOKEN",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "POSTGRES_PASSWORD",
}
INTERPOLATION = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?:[:?+-][^}]*)?\}")


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment as a mapping, so each variable is named once"
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def postgres_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in SERVICES.items() if str(s.get("image", "")).startswith("postgres:")}


def lambert_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in SERVICES.items() if s.get("build") in (".", {"context": "."})}


def documented() -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", EXAMPLE, flags=re.MULTILINE))


def read_by_lambert(name: str) -> bool:
    return f'"{name}"' in CONFIG


def test_postgresql_from_the_official_image_on_a_volume_with_a_healthcheck() -> None:
    (service,) = postgres_services().values()
    volumes = service["volumes"]
    assert any(str(v).endswith(":/var/lib/postgresql/data") for v in volumes)
    named = str(volumes[0]).split(":")[0]
    assert named in (COMPOSE.get("volumes") or {})
    assert "pg_isready" in " ".join(service["healthcheck"]["test"])
    assert service.get("restart") in ("always", "unless-stopped")
    assert set(environment(service)) <= POSTGRES_IMAGE_VARIABLES


def test_each_lambert_service_waits_for_a_healthy_postgresql_as_a_non_root_user() -> None:
    services = lambert_services()
    (db_name,) = postgres_services()
    image_user = re.findall(r"^USER\s+(\S+)", DOCKERFILE, flags=re.MULTILINE)[-1]
    for name, service in services.items():
        assert service["env_file"] in (".env", [".env"]), name
        assert service["restart"] in ("always", "unless-stopped"), name
        assert service["depends_on"][db_name]["condition"] == "service_healthy", name
        assert service["user"] == image_user and image_user not in ("root", "0"), name
        # What compose fills in is marked first: a `?` inside ${...} is no URL query.
        raw = environment(service)["LAMBERT_DATABASE_URL"]
        url = urlsplit(INTERPOLATION.sub(r"FROM_ENV_\1", raw))
        assert url.scheme == "postgresql" and url.hostname == db_name, name
        assert url.password == "FROM_ENV_POSTGRES_PASSWORD", "the password comes from .env"
        # Each process's quotes and search index stay in its own SQLite file: a named volume
        # per service, or an anonymous one (one per container) for a replicated service.
        (volume,) = service["volumes"]
        assert volume.endswith("/data"), name
        if ":" in volume:
            assert volume.split(":")[0] in COMPOSE["volumes"], name
        else:
            assert replicas(service) > 1, f"{name}: a single process keeps a named volume"
    named = [s["volumes"][0] for s in services.values() if ":" in s["volumes"][0]]
    assert len(named) == len(set(named))


def replicas(service: dict[str, Any]) -> int:
    return int((service.get("deploy") or {}).get("replicas", 1))


def by_profile() -> dict[str, dict[str, dict[str, Any]]]:
    profiles: dict[str, dict[str, dict[str, Any]]] = {}
    for name, service in lambert_services().items():
        (profile,) = service["profiles"]  # each lambert service starts with one platform only
        profiles.setdefault(profile, {})[name] = service
    return profiles


def test_each_platform_is_a_profile_and_postgresql_always_starts() -> None:
    assert set(by_profile()) == {"slack", "discord"}
    (postgres,) = postgres_services().values()
    assert "profiles" not in postgres
    assert re.search(r"^# COMPOSE_PROFILES=", EXAMPLE, flags=re.MULTILINE), (
        "config.example.env should say how .env picks the platforms compose starts"
    )


def test_slack_runs_two_socket_mode_replicas_and_blanks_discord() -> None:
    (slack,) = by_profile()["slack"].values()
    env = environment(slack)
    assert replicas(slack) == 2
    assert env["DISCORD_TOKEN"] == ""  # .env reaches it: it blanks the other platform's token
    assert not {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"} & set(env)  # from .env, as they are


def test_discord_runs_shards_0_and_1_of_2_one_process_each() -> None:
    shards: list[int] = []
    for name, service in by_profile()["discord"].items():
        env = environment(service)
        assert replicas(service) == 1, name  # a second copy of a shard would be refused
        assert env["DISCORD_SHARD_COUNT"] == "2", name
        shards += [int(s) for s in env["DISCORD_SHARD_IDS"].split(",")]
        assert "DISCORD_TOKEN" not in env, name
        assert env["SLACK_BOT_TOKEN"] == env["SLACK_APP_TOKEN"] == "", name
    assert sorted(shards) == [0, 1]


def test_every_variable_named_is_documented_and_read_by_lambert() -> None:
    for name, service in SERVICES.items():
        for variable in environment(service):
            assert variable in documented() or variable in {"POSTGRES_USER", "POSTGRES_DB"}, (
                f"{name}: {variable} is not in config.example.env"
            )
    for name, service in lambert_services().items():
        for variable in environment(service):
            assert read_by_lambert(variable), f"{name}: bot/config.py never reads {variable}"
    for variable in INTERPOLATION.findall(COMPOSE_TEXT):
        assert variable in documented(), f"${{{variable}}} is not in config.example.env"


@pytest.mark.parametrize(
    "token",
    [
        r"xox[abprs]-[0-9A-Za-z-]+",  # Slack tokens
        r"xapp-[0-9A-Za-z-]+",  # Slack app-level tokens
        r"[MNO][A-Za-z\d_-]{23,25}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}",  # Discord bot tokens
        r"postgres(ql)?://[^:/@\s]+:[^$@\s][^@\s]*@",  # a URL with a literal password
    ],
)
def test_no_literal_secret_in_the_file(token: str) -> None:
    assert not re.search(token, COMPOSE_TEXT)


def test_secret_variables_are_blank_or_come_from_env() -> None:
    for name, service in SERVICES.items():
        for variable, value in environment(service).items():
            if variable in SECRETS:
                assert value == "" or INTERPOLATION.fullmatch(value), f"{name}: {variable}"
