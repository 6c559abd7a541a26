"""Settings, read once: explicit arguments win, then the environment (and .env), then defaults."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import platformdirs

LEGACY_DB = Path("lambert.db")  # where lambert 0.1 kept its database: the working folder


def default_db_path() -> Path:
    """The user's data folder, where the OS expects it (~/.local/share/lambert on Linux)."""
    return platformdirs.user_data_path("lambert", appauthor=False) / "lambert.db"


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
# A variable with one of these prefixes that lambert does not read is most likely a typo.
OURS = ("LAMBERT_", "DISCORD_", "SLACK_")


class ConfigError(Exception):
    """A setting that cannot be used; the message names the variable and the fix."""


class Secret:
    """A token that never shows itself in a repr, a log line or a traceback's locals."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__


def default_corpus_path() -> Path:
    """The corpus inside an installed wheel, else `data/` of the source checkout."""
    packaged = Path(__file__).parent / "corpus_data" / "lambert.toml"
    return packaged if packaged.exists() else Path(__file__).parent.parent / "data" / "lambert.toml"


@dataclass(frozen=True)
class Settings:
    db_path: Path = field(default_factory=default_db_path)
    db_note: str = ""  # one line for the operator about where the database was found
    corpus_path: Path = field(default_factory=default_corpus_path)
    log_level: str | None = None  # None: the command picks (INFO to serve, WARNING otherwise)
    log_format: str = "text"  # LOG_FORMAT=json: one JSON object per line (bot/logs.py)
    discord_token: Secret = field(default_factory=lambda: Secret(""))
    slack_bot_token: Secret = field(default_factory=lambda: Secret(""))
    slack_app_token: Secret = field(default_factory=lambda: Secret(""))
    slack_signing_secret: Secret = field(default_factory=lambda: Secret(""))
    # Many workspaces (OAuth, HTTP mode): the app's client id and secret, instead of a bot
    # token. The id is public (it is in every install link); the secret is not.
    slack_client_id: str = ""
    slack_client_secret: Secret = field(default_factory=lambda: Secret(""))
    # Where Slack sends an installer back to; empty: the one the app's settings list.
    slack_redirect_uri: str = ""
    slack_port: int = 3000
    # Loopback by default: only a proxy or tunnel on this machine reaches HTTP mode. The
    # Docker image sets 0.0.0.0, where the container's network is the boundary.
    slack_host: str = "127.0.0.1"
    slack_admins: frozenset[str] = frozenset()
    catchup_hours: float = 6.0
    corpus_max_mb: float = 50.0  # a bigger corpus file is refused before it is read
    # postgresql://user:password@host:port/db puts the daily state there (replicas share it);
    # empty: it stays in the SQLite file. A Secret: the URL holds a password.
    database_url: Secret = field(default_factory=lambda: Secret(""))
    # LAMBERT_STATS=off: no stats are kept at all (bot/stats).
    stats: bool = True
    # How long a daily scheduler's worker lease lives unrenewed (bot/coordination/lease.py).
    lease_seconds: float = 60.0
    # LAMBERT_HTTP_PORT: `lambert serve` answers /healthz, /readyz and /metrics there; None:
    # no listener. Its own host setting, not Slack's: the probes stay private (loopback)
    # when Slack's HTTP mode faces the internet. The Docker image sets 0.0.0.0.
    http_port: int | None = None
    http_host: str = "127.0.0.1"
    # DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS: this process runs those shards of that count;
    # None: the count Discord recommends, every shard here (bot/adapters/discord/shards.py).
    discord_shard_count: int | None = None
    discord_shard_ids: tuple[int, ...] | None = None
    # LAMBERT_PUBLIC_URL: where the web site is reachable from outside, e.g.
    # https://quotes.example.org (no trailing slash); absolute links and Slack's card images
    # (`{public_url}/q/{id}.png`) start with it. None: no public site.
    public_url: str | None = None
    # LAMBERT_SECRET_KEY: Fernet keys, comma-separated, that encrypt the Slack installs'
    # tokens at rest (bot/installs/sealing.py); the first encrypts, all decrypt. Empty: in
    # clear.
    secret_key: Secret = field(default_factory=lambda: Secret(""))

    @property
    def slack_many_workspaces(self) -> bool:
        """Slack through OAuth installs (client id and secret), not one SLACK_BOT_TOKEN."""
        return not self.slack_bot_token and bool(self.slack_client_id and self.slack_client_secret)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every configured secret value, for log redaction."""
        tokens = (
            self.discord_token,
            self.slack_bot_token,
            self.slack_app_token,
            self.slack_signing_secret,
            self.slack_client_secret,
        )
        found = [t.reveal() for t in tokens if t]
        found += [k.strip() for k in self.secret_key.reveal().split(",") if k.strip()]
        if self.database_url:
            url = self.database_url.reveal()
            password = urlsplit(url).password or ""
            found += [s for s in (url, password, unquote(password)) if s]
        return tuple(found)


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number; use e.g. {name}={default:g}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw} is out of range; use a value from {low:g} to {high:g}")
    return value


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    # Digits only: int() would also take "+80", "3_000" or " 8 0"; float() truncated "3000.5".
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError(
            f"{name}={raw!r} is not a port; use a whole number from 1 to 65535, e.g. "
            f"{name}={default}"
        )
    return int(raw)


def _optional_port(env: Mapping[str, str], name: str, example: int) -> int | None:
    """A port when the variable is set, None (off) when it is empty or unset."""
    return _port(env, name, example) if env.get(name, "").strip() else None


def _host(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    import ipaddress  # only for a host given: every command reads the settings

    try:
        ipaddress.ip_address(raw)
    except ValueError:
        valid = raw.isascii() and all(c.isalnum() or c in "-." for c in raw)  # a host name
    else:
        valid = True
    if not valid:
        raise ConfigError(
            f"{name}={raw!r} is not an address to listen on; use an IP address or host name, "
            f"e.g. {name}=0.0.0.0 (every interface) or {name}=127.0.0.1 (this machine only)"
        )
    return raw


def _on_off(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().casefold()
    if not raw:
        return default
    if raw not in ("on", "off"):
        raise ConfigError(f"{name}={raw!r} is not on or off; use {name}=on or {name}=off")
    return raw == "on"


MAX_SHARDS = 100_000  # far past any bot's count (one shard per 1,000-2,500 servers)


def _whole(raw: str) -> int | None:
    """Digits only, as _port reads them: int() would also take "+1", "1_0" or " 1"."""
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _shards(env: Mapping[str, str]) -> tuple[int | None, tuple[int, ...] | None]:
    """DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS ("0,1", "0-3", "0-3,8"): (count, ids)."""
    raw_count = env.get("DISCORD_SHARD_COUNT", "").strip()
    raw_ids = env.get("DISCORD_SHARD_IDS", "").strip()
    if not raw_count:
        if raw_ids:
            raise ConfigError(
                f"DISCORD_SHARD_IDS={raw_ids!r} needs DISCORD_SHARD_COUNT, the shards in all; "
                "e.g. DISCORD_SHARD_COUNT=4 DISCORD_SHARD_IDS=0,1"
            )
        return None, None
    count = _whole(raw_count)
    if count is None or not 1 <= count <= MAX_SHARDS:
        raise ConfigError(
            f"DISCORD_SHARD_COUNT={raw_count!r} is not a shard count; use a whole number from "
            f"1 to {MAX_SHARDS}, the same in every process, e.g. DISCORD_SHARD_COUNT=4"
        )
    if not raw_ids:
        return count, tuple(range(count))
    ids: list[int] = []
    for part in raw_ids.split(","):
        low, dash, high = (p.strip() for p in part.strip().partition("-"))
        first, last = _whole(low), _whole(high) if dash else _whole(low)
        if first is None or last is None or first > last:
            raise ConfigError(
                f"DISCORD_SHARD_IDS={raw_ids!r}: {part.strip()!r} is not a shard id or range; "
                "use ids and ranges from 0, e.g. DISCORD_SHARD_IDS=0,1 or DISCORD_SHARD_IDS=0-3"
            )
        if last >= count:
            raise ConfigError(
                f"DISCORD_SHARD_IDS={raw_ids!r}: shard {last} is not below "
                f"DISCORD_SHARD_COUNT={count}; ids run from 0 to {count - 1}"
            )
        ids.extend(range(first, last + 1))
    ordered = sorted(ids)
    twice = next((a for a, b in itertools.pairwise(ordered) if a == b), None)
    if twice is not None:
        raise ConfigError(
            f"DISCORD_SHARD_IDS={raw_ids!r} names shard {twice} twice; name each once"
        )
    return count, tuple(ordered)


def _public_url(raw: str) -> str | None:
    """An http(s) address with a host and no trailing slash, query or fragment; None if unset."""
    if not raw:
        return None
    try:
        parts = urlsplit(raw)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018  (read for its ValueError on a port that is no port)
    except ValueError:  # e.g. an unbalanced [ in the host, or a port past 65535
        valid = False
    if not valid or raw.endswith("/") or parts.query or parts.fragment:
        raise ConfigError(
            f"LAMBERT_PUBLIC_URL={raw!r} is not the site's public address; use http:// or "
            "https://, a host, and no trailing slash, e.g. "
            "LAMBERT_PUBLIC_URL=https://quotes.example.org"
        )
    return raw


DATABASE_URL = "LAMBERT_DATABASE_URL (or --database-url)"
# What ends the password early when written as is: each with the way to write it.
_URL_ESCAPES = {"#": "%23", "?": "%3F", "/": "%2F", "@": "%40"}


def _database_url(raw: str) -> Secret:
    """The URL as a Secret, or one line naming its mistake; the password is never echoed."""
    if not raw:
        return Secret("")
    scheme, _, rest = raw.partition("://")
    if scheme not in ("postgresql", "postgres") or not _:
        raise ConfigError(
            f"{DATABASE_URL} is not a PostgreSQL URL; use "
            "postgresql://user:password@host:5432/database, or leave it empty for SQLite"
        )
    # The user part ends at the last @: read so, a password's own #, ?, / or @ is seen as such
    # instead of cutting the URL short (urlsplit would then read part of it as the port).
    userinfo = rest.rpartition("@")[0]
    password = userinfo.partition(":")[2]
    unencoded = [c for c in _URL_ESCAPES if c in password]
    if unencoded:
        named = " and ".join(unencoded)
        fixes = ", ".join(f"{c} must be written {_URL_ESCAPES[c]}" for c in unencoded)
        raise ConfigError(
            f"{DATABASE_URL}: the password holds {named} not percent-encoded; {fixes} "
            "(Python: urllib.parse.quote(password, safe=''))"
        )
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:  # a port out of range or not a number, or an unbalanced [ in the host
        host_port = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
        if host_port.startswith("[") and "]" not in host_port:
            raise ConfigError(
                f"{DATABASE_URL}: an IPv6 host needs its closing ], e.g. "
                "postgresql://user:password@[::1]:5432/database"
            ) from None
        raise ConfigError(
            f"{DATABASE_URL}: the port {host_port.rpartition(':')[2][:12]!r} is not a port; "
            "use a whole number from 1 to 65535, e.g. postgresql://user:password@host:5432/db"
        ) from None
    if port == 0:
        raise ConfigError(
            f"{DATABASE_URL}: port 0 is not a port; use a whole number from 1 to 65535, e.g. "
            "postgresql://user:password@host:5432/database"
        )
    return Secret(raw)


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    db_path: str | Path | None = None,
    corpus_path: str | Path | None = None,
    database_url: str | None = None,
) -> Settings:
    """Settings from `env` (default: os.environ); explicit arguments take precedence."""
    env = os.environ if env is None else env
    level = env.get("LOG_LEVEL", "").strip().upper() or None
    if level is not None and level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL={level!r} is not a level; use one of {', '.join(LOG_LEVELS)}")
    log_format = env.get("LOG_FORMAT", "").strip().lower() or "text"
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT={log_format!r} is not a format; use LOG_FORMAT=text or json")
    corpus = corpus_path or env.get("LAMBERT_CORPUS", "").strip()
    admins = {u.strip() for u in env.get("LAMBERT_SLACK_ADMINS", "").split(",") if u.strip()}
    chosen, note = _db_path(db_path or env.get("LAMBERT_DB", "").strip())
    shard_count, shard_ids = _shards(env)
    settings = Settings(
        db_path=chosen,
        db_note=note,
        corpus_path=Path(corpus) if corpus else default_corpus_path(),
        log_level=level,
        log_format=log_format,
        discord_token=Secret(env.get("DISCORD_TOKEN", "").strip()),
        slack_bot_token=Secret(env.get("SLACK_BOT_TOKEN", "").strip()),
        slack_app_token=Secret(env.get("SLACK_APP_TOKEN", "").strip()),
        slack_signing_secret=Secret(env.get("SLACK_SIGNING_SECRET", "").strip()),
        slack_client_id=env.get("SLACK_CLIENT_ID", "").strip(),
        slack_client_secret=Secret(env.get("SLACK_CLIENT_SECRET", "").strip()),
        slack_redirect_uri=env.get("SLACK_REDIRECT_URI", "").strip(),
        slack_port=_port(env, "LAMBERT_SLACK_PORT", 3000),
        slack_host=_host(env, "LAMBERT_SLACK_HOST", "127.0.0.1"),
        slack_admins=frozenset(admins),
        catchup_hours=_number(env, "LAMBERT_CATCHUP_HOURS", 6.0, 0, 24),
        corpus_max_mb=_number(env, "LAMBERT_CORPUS_MAX_MB", 50.0, 0.001, 100_000),
        database_url=_database_url((database_url or env.get("LAMBERT_DATABASE_URL", "")).strip()),
        stats=_on_off(env, "LAMBERT_STATS", True),
        lease_seconds=_number(env, "LAMBERT_LEASE_SECONDS", 60.0, 0.5, 3600),
        http_port=_optional_port(env, "LAMBERT_HTTP_PORT", 8000),
        http_host=_host(env, "LAMBERT_HTTP_HOST", "127.0.0.1"),
        discord_shard_count=shard_count,
        discord_shard_ids=shard_ids,
        public_url=_public_url(env.get("LAMBERT_PUBLIC_URL", "").strip()),
        secret_key=Secret(env.get("LAMBERT_SECRET_KEY", "").strip()),
    )
    _check_listeners(settings)
    return settings


def _check_listeners(settings: Settings) -> None:
    """ConfigError when lambert's own two listeners (Slack's HTTP mode, the probes) are set
    to the same port: serve would otherwise blame "what holds it", which is lambert."""
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


class _Reads(Mapping[str, str]):
    """An empty environment that notes every variable asked of it."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.names.add(name)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def known_variables() -> frozenset[str]:
    """Every variable load_settings reads: the one list of settings, which config.example.env
    documents (a test checks)."""
    reads = _Reads()
    load_settings(reads)
    return frozenset(reads.names)


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    """One warning per LAMBERT_*, DISCORD_* or SLACK_* variable lambert does not read, naming
    the closest one it does: a misspelt DISCORD_TOKN would otherwise pass unnoticed."""
    strangers = sorted(n for n in env if n.startswith(OURS))
    known = known_variables()
    warnings = []
    for name in (n for n in strangers if n not in known):
        import difflib  # only for a stranger: most starts have none

        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
        hint = f"did you mean {close[0]}?" if close else "config.example.env lists the settings"
        warnings.append(f"{name} is not a setting lambert reads; {hint}")
    return warnings


def _db_path(explicit: str | Path) -> tuple[Path, str]:
    """An explicit path as given; else a database an older version left in the working folder
    (kept, with a note on moving it); else the user's data folder."""
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
