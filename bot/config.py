"""Settings, read once: explicit arguments win, then the environment (and .env), then defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import platformdirs

from bot import config_values as read
from bot.config_values import NO_SECRET
from bot.config_values import ConfigError as ConfigError  # raised and caught as bot.config's
from bot.config_values import Secret as Secret

LEGACY_DB = Path("lambert.db")  # where lambert 0.1 kept its database: the working folder
# A variable with one of these prefixes that lambert does not read is most likely a typo.
OURS = ("LAMBERT_", "DISCORD_", "SLACK_")
# Read apart from the fields: LAMBERT_DB (with its note), the shards (together).
READ_APART = ("LAMBERT_DB", "DISCORD_SHARD_COUNT", "DISCORD_SHARD_IDS")


def default_db_path() -> Path:
    """In the user's data folder (~/.local/share/lambert on Linux)."""
    return platformdirs.user_data_path("lambert", appauthor=False) / "lambert.db"


def default_corpus_path() -> Path:
    """The corpus inside an installed wheel, else `data/` of the source checkout."""
    packaged = Path(__file__).parent / "corpus_data" / "lambert.toml"
    return packaged if packaged.exists() else Path(__file__).parent.parent / "data" / "lambert.toml"


def setting(variable: str, reader: read.Reader, default: Any) -> Any:
    return field(default=default, metadata={"variable": variable, "read": reader})


@dataclass(frozen=True)
class Settings:
    """What each setting means: config.example.env; which variable gives it: setting()."""

    db_path: Path = field(default_factory=default_db_path)  # LAMBERT_DB: see _db_path
    db_note: str = ""  # one line for the operator about where the database was found
    corpus_path: Path = setting("LAMBERT_CORPUS", read.path, default_corpus_path())
    # None: the command picks (INFO to serve, WARNING otherwise).
    log_level: str | None = setting("LOG_LEVEL", read.level, None)
    log_format: str = setting("LOG_FORMAT", read.log_format, "text")
    discord_token: Secret = setting("DISCORD_TOKEN", read.secret, NO_SECRET)
    slack_bot_token: Secret = setting("SLACK_BOT_TOKEN", read.secret, NO_SECRET)
    slack_app_token: Secret = setting("SLACK_APP_TOKEN", read.secret, NO_SECRET)
    slack_signing_secret: Secret = setting("SLACK_SIGNING_SECRET", read.secret, NO_SECRET)
    # Many workspaces (OAuth) need the client id and secret; the id is public (no Secret).
    slack_client_id: str = setting("SLACK_CLIENT_ID", read.text, "")
    slack_client_secret: Secret = setting("SLACK_CLIENT_SECRET", read.secret, NO_SECRET)
    slack_redirect_uri: str = setting("SLACK_REDIRECT_URI", read.text, "")
    slack_port: int = setting("LAMBERT_SLACK_PORT", read.port, 3000)
    # Loopback: only a local proxy or tunnel reaches HTTP mode (Docker sets 0.0.0.0).
    slack_host: str = setting("LAMBERT_SLACK_HOST", read.host, "127.0.0.1")
    slack_admins: frozenset[str] = setting("LAMBERT_SLACK_ADMINS", read.admins, frozenset())
    catchup_hours: float = setting("LAMBERT_CATCHUP_HOURS", read.number(0, 24), 6.0)
    corpus_max_mb: float = setting("LAMBERT_CORPUS_MAX_MB", read.number(0.001, 100_000), 50.0)
    # A Secret: the URL holds a password. Empty: SQLite.
    database_url: Secret = setting("LAMBERT_DATABASE_URL", read.database_url, NO_SECRET)
    stats: bool = setting("LAMBERT_STATS", read.on_off, True)
    # A daily scheduler's worker lease (bot/coordination/lease.py).
    lease_seconds: float = setting("LAMBERT_LEASE_SECONDS", read.number(0.5, 3600), 60.0)
    # Its own host, not Slack's: the probes stay private when Slack's HTTP mode is public.
    http_port: int | None = setting("LAMBERT_HTTP_PORT", read.port, None)
    http_host: str = setting("LAMBERT_HTTP_HOST", read.host, "127.0.0.1")
    # None: the count Discord recommends, every shard here (bot/adapters/discord/shards.py).
    discord_shard_count: int | None = None
    discord_shard_ids: tuple[int, ...] | None = None
    # No trailing slash: links and card images start with it. None: no public site.
    public_url: str | None = setting("LAMBERT_PUBLIC_URL", read.public_url, None)
    # Fernet keys, comma-separated (bot/installs/store.py).
    secret_key: Secret = setting("LAMBERT_SECRET_KEY", read.secret, NO_SECRET)

    @property
    def slack_many_workspaces(self) -> bool:
        """Slack through OAuth installs (client id and secret), not one SLACK_BOT_TOKEN."""
        return not self.slack_bot_token and bool(self.slack_client_id and self.slack_client_secret)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every configured secret value, for log redaction."""
        found = [v.reveal() for v in vars(self).values() if isinstance(v, Secret) and v]
        found += [k.strip() for k in self.secret_key.reveal().split(",") if k.strip()]
        password = urlsplit(self.database_url.reveal()).password or ""  # the URL is a Secret
        found += [s for s in (password, unquote(password)) if s]
        return tuple(found)


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    db_path: str | Path | None = None,
    corpus_path: str | Path | None = None,
    database_url: str | None = None,
) -> Settings:
    env = os.environ if env is None else env
    given = {"corpus_path": corpus_path, "database_url": database_url}
    values: dict[str, Any] = {}
    for f in fields(Settings):
        name = f.metadata.get("variable", "")
        raw = str(given.get(f.name) or env.get(name, "")).strip() if name else ""
        if raw:
            values[f.name] = f.metadata["read"](name, raw, f.default)
    values["db_path"], values["db_note"] = _db_path(db_path or env.get("LAMBERT_DB", "").strip())
    values["discord_shard_count"], values["discord_shard_ids"] = read.shards(env)
    settings = Settings(**values)
    _check_listeners(settings)
    return settings


def _check_listeners(settings: Settings) -> None:
    """ConfigError for one port given to Slack's HTTP mode and the probes (serve would blame
    "what holds it", which is lambert)."""
    slack_http = bool(settings.slack_signing_secret) and not settings.slack_app_token
    slack_http = slack_http and bool(settings.slack_bot_token or settings.slack_many_workspaces)
    port = settings.slack_port
    if not slack_http or not port or settings.http_port != port:
        return
    hosts = {settings.slack_host, settings.http_host}
    if len(hosts) == 1 or hosts & {"0.0.0.0", "::"}:  # noqa: S104  (every address)
        raise ConfigError(
            f"LAMBERT_HTTP_PORT={port} and LAMBERT_SLACK_PORT={port}: lambert itself is "
            f"configured to use port {port} twice (the probes and Slack's HTTP mode); set "
            "one of them to another port"
        )


def known_variables() -> frozenset[str]:
    """Every variable load_settings reads, as config.example.env documents them (a test checks)."""
    return frozenset(
        (*(f.metadata["variable"] for f in fields(Settings) if f.metadata), *READ_APART)
    )


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    """A warning per LAMBERT_*, DISCORD_* or SLACK_* variable not read (a DISCORD_TOKN, say)."""
    known = known_variables()
    warnings = []
    for name in sorted(n for n in env if n.startswith(OURS) and n not in known):
        import difflib  # only for a stranger: most starts have none

        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
        hint = f"did you mean {close[0]}?" if close else "config.example.env lists the settings"
        warnings.append(f"{name} is not a setting lambert reads; {hint}")
    return warnings


def _db_path(explicit: str | Path) -> tuple[Path, str]:
    """As given; else one an older version left here (with a note); else the data folder."""
    if explicit:
        return Path(explicit), ""
    if LEGACY_DB.is_file():
        home = default_db_path()
        return LEGACY_DB, (
            f"using {LEGACY_DB} in this folder (left by an older lambert); to keep it where "
            f"lambert now looks, stop lambert and run: mkdir -p {home.parent} && "
            f"mv {LEGACY_DB}* {home.parent}/"
        )
    return default_db_path(), ""
