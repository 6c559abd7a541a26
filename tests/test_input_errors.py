"""Input that cannot reach a traceback: each hostile input gets one exact line and its fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.chat.grammar import VERBS
from bot.cli import main
from bot.cli.daily import parse_instant
from bot.config import ConfigError, load_settings
from bot.quotes.corpus import RESERVED_WORDS, CorpusError, parse_corpus, read_corpus
from bot.quotes.search import clean_user_text
from tests.support.paths import CORPUS

Fields = dict[str, object]

THEMES: list[Fields] = [
    {"slug": "dpo-vs-ppo", "title": "DPO vs. PPO", "aliases": ["dpo"]},
    {"slug": "careers", "title": "Careers", "aliases": ["career"]},
]
QUOTES: list[Fields] = [
    {
        "id": "dpo-simplicity",
        "theme": "dpo-vs-ppo",
        "topic": "On DPO",
        "source": "Interconnects",
        "kind": "paraphrase",
        "text": "DPO slots into existing infrastructure.",
    },
    {
        "id": "careers-open",
        "theme": "careers",
        "topic": "On careers",
        "source": "Interconnects",
        "kind": "paraphrase",
        "text": "Careers grow in the open.",
    },
]


def corpus_toml(themes: list[Fields] = THEMES, quotes: list[Fields] = QUOTES) -> str:
    """A corpus file; JSON strings (with their \\u escapes) are valid TOML values."""
    tables = [("themes", t) for t in themes] + [("quotes", q) for q in quotes]
    return "\n".join(
        f"[[{name}]]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in fields.items())
        for name, fields in tables
    )


def with_theme(**changes: object) -> str:
    return corpus_toml(themes=[THEMES[0], {**THEMES[1], **changes}])


def with_quote(**changes: object) -> str:
    return corpus_toml(quotes=[QUOTES[0], {**QUOTES[1], **changes}])


CAREERS = 'themes[1] (slug "careers")'
QUOTE = 'quotes[1] (id "careers-open")'
RESERVED = "card, daily, help, id, search, stats, themes"

# (file content, the message after "<path>: ")
BROKEN: list[object] = [
    pytest.param(
        corpus_toml(quotes=QUOTES[:1]),
        f'{CAREERS}: has no quotes — add a [[quotes]] entry with theme = "careers", or remove '
        "the theme",
        id="theme-without-quotes",
    ),
    pytest.param(
        with_theme(slug="stats"),
        'themes[1] (slug "stats"): slug "stats" starts with the command word "stats", so '
        "`/lambert stats` would run that command instead of picking this theme — rename it; "
        f"reserved words: {RESERVED}",
        id="slug-is-a-verb",
    ),
    pytest.param(
        with_theme(aliases=["Search  Tips"]),
        f'{CAREERS}: alias "search tips" starts with the command word "search", so '
        "`/lambert search tips` would run that command instead of picking this theme — rename "
        f"it; reserved words: {RESERVED}",
        id="alias-starts-with-a-verb",
    ),
    pytest.param(
        with_theme(aliases=["help"]),
        f'{CAREERS}: alias "help" starts with the command word "help", so `/lambert help` would '
        f"run that command instead of picking this theme — rename it; reserved words: {RESERVED}",
        id="alias-is-a-verb",
    ),
    pytest.param(
        with_quote(text="Careers grow\u0000 in the open."),
        f'{QUOTE}: "text" contains the control character U+0000 at character 13 — remove it '
        "(only line breaks, and only in text, are allowed)",
        id="nul-in-text",
    ),
    pytest.param(
        with_quote(topic="On\u001b[31m careers"),
        f'{QUOTE}: "topic" contains the control character U+001B at character 3 — remove it '
        "(only line breaks, and only in text, are allowed)",
        id="escape-in-topic",
    ),
    pytest.param(
        with_theme(title="Care\ners"),
        f'{CAREERS}: "title" contains the control character U+000A at character 5 — remove it '
        "(only line breaks, and only in text, are allowed)",
        id="line-break-in-title",
    ),
    pytest.param(
        with_quote(source="Inter\u202econnects"),
        f'{QUOTE}: "source" contains the bidirectional control U+202E at character 6 — remove '
        "it (it makes the text display in another order than it reads)",
        id="bidi-override-in-source",
    ),
    pytest.param(
        with_theme(aliases=["car\u2066eer"]),
        f'{CAREERS}: "aliases" contains the bidirectional control U+2066 at character 4 — '
        "remove it (it makes the text display in another order than it reads)",
        id="bidi-isolate-in-alias",
    ),
    pytest.param(
        with_quote(text="\u200b\u200d\u2060 \u200b"),
        f'{QUOTE}: "text" is only invisible characters (zero-width or spaces) — give text a '
        "visible value or remove the entry",
        id="invisible-only-text",
    ),
    pytest.param(
        with_quote(topic="\u200bOn careers"),
        f'{QUOTE}: "topic" starts or ends with whitespace or an invisible character — remove '
        "it (values are used exactly as written, never trimmed)",
        id="leading-zero-width",
    ),
    pytest.param(
        "x = " + "[" * 5000 + "]" * 5000 + "\n",
        "invalid TOML: TOML inline arrays/tables are nested more than the allowed 400 levels — "
        "a corpus needs no nested arrays or tables; write each entry as a [[themes]] or "
        "[[quotes]] table of plain values",
        id="deep-nesting",
    ),
    pytest.param(
        corpus_toml() + 'x = "\\ud800"\n',
        "invalid TOML: Escaped character is not a Unicode scalar value (at line 26, column 12) "
        "— fix the syntax at that line and column",
        id="lone-surrogate-escape",
    ),
    pytest.param(
        corpus_toml() + 'x = "a\x00"\n',
        "invalid TOML: Illegal character '\\x00' (at line 26, column 7) — fix the syntax at "
        "that line and column",
        id="raw-nul",
    ),
]


@pytest.mark.parametrize(("content", "message"), BROKEN)
def test_a_hostile_corpus_is_one_exact_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "corpus.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError) as raised:
        read_corpus(path)
    assert str(raised.value) == f"{path}: {message}"


def test_a_lone_surrogate_in_the_bytes_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "corpus.toml"
    encoded = corpus_toml().encode("utf-8")
    path.write_bytes(encoded + b'x = "\xed\xa0\x80"\n')  # U+D800 as a UTF-8 encoder would write it
    with pytest.raises(CorpusError) as raised:
        read_corpus(path)
    assert str(raised.value) == (
        f"{path}: cannot read the corpus file (not UTF-8 text, byte {len(encoded) + 5}) — save "
        "it as UTF-8"
    )


def test_a_leading_byte_order_mark_is_accepted_silently(tmp_path: Path) -> None:
    path = tmp_path / "corpus.toml"
    path.write_bytes(b"\xef\xbb\xbf" + corpus_toml().encode("utf-8"))
    assert read_corpus(path) == parse_corpus(corpus_toml(), "same")


def test_line_breaks_stay_allowed_in_a_text() -> None:
    corpus = parse_corpus(with_quote(text="First paragraph.\n\nSecond one."), "ok.toml")
    assert corpus.quotes[1].text == "First paragraph.\n\nSecond one."


def test_the_shipped_corpus_passes_every_check() -> None:
    corpus = read_corpus(CORPUS)
    assert {q.theme for q in corpus.quotes} == {t.slug for t in corpus.themes}


def test_every_chat_verb_is_a_reserved_corpus_word() -> None:
    # quotes sits below chat, so the corpus keeps its own list; this keeps the two in step.
    assert set(VERBS) <= RESERVED_WORDS


# --- the corpus size bound ------------------------------------------------------------------


def test_a_corpus_over_the_bound_is_refused_with_the_bound_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LAMBERT_CORPUS_MAX_MB", "0.01")  # 10,485 bytes; the real file is bigger
    db_path = tmp_path / "lambert.db"
    assert main(["ask", "--db", str(db_path)]) == 1
    assert capsys.readouterr().err == (
        f"lambert: {CORPUS}: the corpus file is larger than the 0.01 MB bound "
        "(LAMBERT_CORPUS_MAX_MB) — use a smaller file, or raise LAMBERT_CORPUS_MAX_MB\n"
    )
    assert not db_path.exists()


def test_the_corpus_bound_defaults_to_50_mb() -> None:
    assert load_settings({}).corpus_max_mb == 50
    assert load_settings({"LAMBERT_CORPUS_MAX_MB": "0.5"}).corpus_max_mb == 0.5


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "LAMBERT_CORPUS_MAX_MB",
            "lots",
            "LAMBERT_CORPUS_MAX_MB='lots' is not a number; use e.g. LAMBERT_CORPUS_MAX_MB=50",
        ),
        (
            "LAMBERT_CORPUS_MAX_MB",
            "0",
            "LAMBERT_CORPUS_MAX_MB=0 is out of range; use a value from 0.001 to 100000",
        ),
        (
            "LAMBERT_CORPUS_MAX_MB",
            "nan",
            "LAMBERT_CORPUS_MAX_MB=nan is out of range; use a value from 0.001 to 100000",
        ),
        (
            "LAMBERT_SLACK_PORT",
            "3000.5",
            "LAMBERT_SLACK_PORT='3000.5' is not a port; use a whole number from 1 to 65535, "
            "e.g. LAMBERT_SLACK_PORT=3000",
        ),
        (
            "LAMBERT_SLACK_PORT",
            "3_000",
            "LAMBERT_SLACK_PORT='3_000' is not a port; use a whole number from 1 to 65535, "
            "e.g. LAMBERT_SLACK_PORT=3000",
        ),
        (
            "LAMBERT_SLACK_PORT",
            "70000",
            "LAMBERT_SLACK_PORT='70000' is not a port; use a whole number from 1 to 65535, "
            "e.g. LAMBERT_SLACK_PORT=3000",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    message: str,
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({variable: value})
    assert str(raised.value) == message
    monkeypatch.setenv(variable, value)
    assert main(["themes"]) == 2
    assert capsys.readouterr().err == f"lambert: configuration error: {message}\n"


# --- database URLs: the mistake named, the password never shown ---------------------------

URL_START = "lambert: configuration error: LAMBERT_DATABASE_URL (or --database-url)"


@pytest.mark.parametrize(
    ("url", "password", "says"),
    [
        ("postgresql://bot:Zq9#Wx4Kv@db:5432/lambert", "Zq9#Wx4Kv", "# must be written %23"),
        ("postgresql://bot:Yh7?Tr2Mn@db/lambert", "Yh7?Tr2Mn", "? must be written %3F"),
        ("postgresql://bot:Jd5/Bc8Xl@db/lambert", "Jd5/Bc8Xl", "/ must be written %2F"),
        ("postgresql://bot:Gk3@Vb6Nm@db/lambert", "Gk3@Vb6Nm", "@ must be written %40"),
        (
            "postgres://bot:Rt4#Uy/Io?Pq@db/lambert",
            "Rt4#Uy/Io?Pq",
            "holds # and ? and / not percent-encoded; # must be written %23, ? must be "
            "written %3F, / must be written %2F",
        ),
        ("postgresql://bot:Wq8Ee4Zr@db:99999/lambert", "Wq8Ee4Zr", "the port '99999' is not"),
        ("postgresql://bot:Hj2Kk7Ll@db:abc/lambert", "Hj2Kk7Ll", "the port 'abc' is not a port"),
        ("postgresql://bot:Mn5Bv3Cx@db:0/lambert", "Mn5Bv3Cx", "port 0 is not a port"),
        ("postgresql://bot:Fd6Sa1Qw@[::1/lambert", "Fd6Sa1Qw", "needs its closing ]"),
    ],
)
def test_a_bad_database_url_is_one_line_without_the_password(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    url: str,
    password: str,
    says: str,
) -> None:
    monkeypatch.setenv("LAMBERT_DATABASE_URL", url)
    assert main(["daily", "list", "--db", str(tmp_path / "lambert.db")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(URL_START) and err.count("\n") == 1 and says in err
    pieces = {password[i : i + 3] for i in range(len(password) - 2)}  # any longer holds one
    assert not [p for p in pieces if p in out + err]


def test_an_encoded_password_is_kept() -> None:
    url = "postgresql://bot:Zq9%23Wx4%2FKv@db:5432/lambert?sslmode=require"
    assert load_settings({"LAMBERT_DATABASE_URL": url}).database_url.reveal() == url


def test_a_whole_port_is_kept() -> None:
    assert load_settings({"LAMBERT_SLACK_PORT": " 8080 "}).slack_port == 8080


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("", None),
        (" https://quotes.example.org ", "https://quotes.example.org"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("https://example.org/lambert", "https://example.org/lambert"),
    ],
)
def test_a_public_url_is_kept_as_given(raw: str, kept: str | None) -> None:
    assert load_settings({"LAMBERT_PUBLIC_URL": raw}).public_url == kept


@pytest.mark.parametrize(
    "raw",
    [
        "https://quotes.example.org/",
        "quotes.example.org",
        "ftp://quotes.example.org",
        "https://",
        "https://example.org?x=1",
        "https://example.org#top",
        "https://example.org:99999",
        "https://[::1",
    ],
)
def test_a_public_url_that_is_no_site_address_is_one_line_with_the_fix(raw: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"LAMBERT_PUBLIC_URL": raw})
    assert str(raised.value) == (
        f"LAMBERT_PUBLIC_URL={raw!r} is not the site's public address; use http:// or https://, "
        "a host, and no trailing slash, e.g. LAMBERT_PUBLIC_URL=https://quotes.example.org"
    )


# --- --at out of range ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "instant",
    ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59Z", "1969-12-31"],
)
def test_an_instant_out_of_range_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, instant: str
) -> None:
    db_path = tmp_path / "lambert.db"
    assert main(["daily", "tick", "--at", instant, "--db", str(db_path)]) == 2
    assert capsys.readouterr().err == (
        f"lambert: --at {instant!r} is out of range; use an instant from 1970 to 9998, "
        "e.g. 2025-03-10T08:00:00Z\n"
    )


def test_instants_at_the_edges_of_the_range_are_kept() -> None:
    assert parse_instant("1970-01-01T00:00:00Z").year == 1970
    assert parse_instant("9998-12-31T23:00:00-00:30").year == 9998


# --- what a user types in chat --------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("\ud800", ""),
        ("dpo\udcff ppo", "dpo ppo"),
        ("\ud83d\ude00 dpo", "dpo"),  # a surrogate pair that was never combined
        ("\x00", ""),
        ("dpo\x00ppo", "dpo ppo"),
        ("\x00\ud800\u202e\u200b", ""),
        ("reward\u2066 hacking\u2069", "reward hacking"),
    ],
)
def test_clean_user_text_never_raises_and_is_encodable(typed: str, cleaned: str) -> None:
    result = clean_user_text(typed)
    assert result == cleaned
    result.encode("utf-8")


@pytest.mark.parametrize("typed", ["dpo\udcff", "\x00", "\ud800 reward"])
def test_undecodable_or_nul_words_on_the_command_line_answer_normally(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, typed: str
) -> None:
    assert main(["ask", typed, "--db", str(tmp_path / "lambert.db")]) == 0
    assert capsys.readouterr().err == ""
