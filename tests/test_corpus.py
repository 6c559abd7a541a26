"""The corpus loader: broken files fail with a message that says where and what to fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.quotes.corpus import CorpusError, parse_corpus, read_corpus
from bot.quotes.models import Kind, Quote, Theme

REAL_CORPUS = Path(__file__).resolve().parents[1] / "data" / "lambert.toml"

Fields = dict[str, object]

THEMES: list[Fields] = [
    {"slug": "dpo-vs-ppo", "title": "DPO vs. PPO: The Optimizer Debate", "aliases": ["dpo", "ppo"]},
    {"slug": "careers", "title": "Navigating Research and Careers", "aliases": ["career"]},
]
QUOTES: list[Fields] = [
    {
        "id": "dpo-simplicity",
        "theme": "dpo-vs-ppo",
        "topic": "On DPO's simplicity",
        "source": "Interconnects",
        "kind": "quote",
        "text": "DPO’s implementation largely slots into existing infrastructure…",
    },
    {
        "id": "dpo-trap",
        "theme": "dpo-vs-ppo",
        "topic": "On the DPO trap",
        "source": "Stanford AI Seminars",
        "kind": "paraphrase",
        "text": 'The community flocked to DPO, a "trap"  for reasoning.',
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
    """A corpus file; JSON strings and arrays are valid TOML values."""
    tables = [("themes", fields) for fields in themes] + [("quotes", fields) for fields in quotes]
    return "\n".join(
        f"[[{name}]]\n"
        + "".join(
            f"{key} = {json.dumps(value, ensure_ascii=False)}\n" for key, value in fields.items()
        )
        for name, fields in tables
    )


def changed(tables: list[Fields], index: int, **changes: object) -> list[Fields]:
    """`tables` with entry `index` changed; a change to None removes the key."""
    edited = {**tables[index], **changes}
    entry = {key: value for key, value in edited.items() if value is not None}
    return [entry if position == index else table for position, table in enumerate(tables)]


def renamed(tables: list[Fields], index: int, old: str, new: str) -> list[Fields]:
    entry = {(new if key == old else key): value for key, value in tables[index].items()}
    return [entry if position == index else table for position, table in enumerate(tables)]


def with_quote(**changes: object) -> str:
    """The small corpus with quotes[1] ("dpo-trap") changed."""
    return corpus_toml(quotes=changed(QUOTES, 1, **changes))


def with_theme(**changes: object) -> str:
    """The small corpus with themes[1] ("careers") changed."""
    return corpus_toml(themes=changed(THEMES, 1, **changes))


TRAP = 'quotes[1] (id "dpo-trap")'
CAREERS = 'themes[1] (slug "careers")'
DUPLICATE_TEXT = "dpo’s IMPLEMENTATION largely slots\ninto existing infrastructure…"

BROKEN_CORPORA = [
    pytest.param(
        '[[quotes]]\ntext = "unterminated\n',
        ["invalid TOML", "line 2", "fix the syntax"],
        id="bad-toml",
    ),
    pytest.param(
        corpus_toml(themes=[]), ["no [[themes]] entries", "add at least one"], id="no-themes"
    ),
    pytest.param(
        corpus_toml(quotes=[]), ["no [[quotes]] entries", "add at least one"], id="no-quotes"
    ),
    pytest.param(
        'themes = ["dpo"]\n' + corpus_toml(themes=[]),
        ["themes[0] is not a table", "[[themes]] table"],
        id="theme-not-table",
    ),
    pytest.param(
        corpus_toml() + "[[quote]]\n",
        ['top level: unknown key "quote"', 'did you mean "quotes"'],
        id="unknown-top-level-key",
    ),
    pytest.param(
        corpus_toml(themes=renamed(THEMES, 1, "aliases", "alias")),
        [CAREERS, 'unknown key "alias"', 'did you mean "aliases"'],
        id="theme-key-typo",
    ),
    pytest.param(
        with_theme(slug="Careers"),
        ['themes[1] (slug "Careers")', "not a valid slug", "lowercase a-z"],
        id="theme-slug-case",
    ),
    pytest.param(
        with_theme(slug="dpo-vs-ppo"),
        ['themes[1] (slug "dpo-vs-ppo")', "used by an earlier theme", "new slug"],
        id="theme-slug-twice",
    ),
    pytest.param(
        with_theme(title=None),
        [CAREERS, 'missing required key "title"', 'add title = "..."'],
        id="theme-no-title",
    ),
    pytest.param(
        with_theme(aliases="career"),
        [CAREERS, '"aliases" must be a list of strings', "aliases = ["],
        id="aliases-not-list",
    ),
    pytest.param(
        with_theme(aliases=[" "]), [CAREERS, "alias is empty", "remove it"], id="alias-blank"
    ),
    pytest.param(
        with_theme(aliases=["jobs", "Jobs "]),
        [CAREERS, 'alias "jobs" is listed twice', "remove one"],
        id="alias-twice",
    ),
    pytest.param(
        with_theme(aliases=["DPO"]),
        [
            CAREERS,
            'alias "dpo" is also an alias of themes[0] (slug "dpo-vs-ppo")',
            "one theme only",
        ],
        id="alias-two-themes",
    ),
    pytest.param(
        with_theme(aliases=["dpo-vs-ppo"]),
        [CAREERS, 'is the slug of themes[0] (slug "dpo-vs-ppo")', "remove the alias"],
        id="alias-is-other-slug",
    ),
    pytest.param(
        corpus_toml(quotes=renamed(QUOTES, 1, "text", "txt")),
        [TRAP, 'unknown key "txt"', 'did you mean "text"'],
        id="quote-key-typo",
    ),
    pytest.param(
        with_quote(id=None),
        ["quotes[1]:", 'missing required key "id"', 'add id = "..."'],
        id="quote-no-id",
    ),
    pytest.param(
        with_quote(topic=None),
        [TRAP, 'missing required key "topic"', 'add topic = "..."'],
        id="quote-no-topic",
    ),
    pytest.param(
        with_quote(source=" "),
        [TRAP, '"source" is empty', "give source a value"],
        id="source-blank",
    ),
    pytest.param(
        with_quote(text="\n\t "), [TRAP, '"text" is empty', "give text a value"], id="text-blank"
    ),
    pytest.param(
        with_quote(text="A trap. "),
        [TRAP, "ends with whitespace", "never trimmed"],
        id="text-padded",
    ),
    pytest.param(
        with_quote(kind=1), [TRAP, '"kind" must be a string', 'kind = "..."'], id="kind-not-string"
    ),
    pytest.param(
        with_quote(kind="Quote"),
        [TRAP, 'kind "Quote" is not "quote" or "paraphrase"', 'otherwise "paraphrase"'],
        id="kind-unknown",
    ),
    pytest.param(
        with_quote(id="DPO_trap"),
        ['quotes[1] (id "DPO_trap")', "not a valid slug", "at most 40 characters"],
        id="id-format",
    ),
    pytest.param(
        with_quote(id="a" * 41),
        ["quotes[1] (id", "not a valid slug", "at most 40 characters"],
        id="id-too-long",
    ),
    pytest.param(
        with_quote(id="dpo-simplicity"),
        ['quotes[1] (id "dpo-simplicity")', "already used by quotes[0]", "new id"],
        id="id-twice",
    ),
    pytest.param(
        with_quote(theme="dpoo"),
        [
            TRAP,
            'theme "dpoo" is not a known theme; known: dpo-vs-ppo, careers',
            "fix the theme or add a [[themes]] entry",
        ],
        id="theme-unknown",
    ),
    pytest.param(
        with_quote(text=DUPLICATE_TEXT),
        [TRAP, 'text duplicates quotes[0] (id "dpo-simplicity")', "remove one"],
        id="text-twice",
    ),
    pytest.param(
        with_quote(kind="quote", text="“A trap.”"),
        [TRAP, "starts and ends with quotation marks", "remove the outer marks"],
        id="quote-curly-marks-left-in",
    ),
    pytest.param(
        with_quote(kind="quote", text='"A trap."'),
        [TRAP, "starts and ends with quotation marks", "remove the outer marks"],
        id="quote-straight-marks-left-in",
    ),
]


@pytest.mark.parametrize(("toml_text", "expected_fragments"), BROKEN_CORPORA)
def test_a_broken_corpus_names_the_file_the_entry_and_the_fix(
    tmp_path: Path, toml_text: str, expected_fragments: list[str]
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(toml_text, encoding="utf-8")
    with pytest.raises(CorpusError) as raised:
        read_corpus(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: ")
    for fragment in expected_fragments:
        assert fragment in message
    assert " — " in message, "every message ends with what to do about it"


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"nowhere\.toml: corpus file not found"):
        read_corpus(tmp_path / "nowhere.toml")


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "utf16.toml"
    path.write_bytes(corpus_toml().encode("utf-16"))
    with pytest.raises(CorpusError, match=r"utf16\.toml: cannot read the corpus file .* UTF-8"):
        read_corpus(path)


def test_a_valid_corpus_keeps_every_value_as_written() -> None:
    themes = changed(THEMES, 1, aliases=["Career", "  PhD   programs "])
    corpus = parse_corpus(corpus_toml(themes=themes), "small.toml")
    assert corpus.themes == (
        Theme("dpo-vs-ppo", "DPO vs. PPO: The Optimizer Debate", ("dpo", "ppo")),
        Theme("careers", "Navigating Research and Careers", ("career", "phd programs")),
    )
    assert corpus.quotes[1] == Quote(
        id="dpo-trap",
        text='The community flocked to DPO, a "trap"  for reasoning.',
        kind=Kind.PARAPHRASE,
        theme="dpo-vs-ppo",
        theme_title="DPO vs. PPO: The Optimizer Debate",
        topic="On the DPO trap",
        source="Stanford AI Seminars",
    )
    assert corpus.quotes[0].kind is Kind.QUOTE
    assert corpus.quotes[0].text == QUOTES[0]["text"]


def test_fingerprint_ignores_comments_layout_and_alias_case() -> None:
    reformatted = "# a comment\n\n" + corpus_toml(
        themes=changed(THEMES, 0, aliases=["DPO", "ppo"])
    ).replace(" = ", "   =   ").replace("\n[[", "\n\n# another\n[[")
    original = parse_corpus(corpus_toml(), "a.toml").fingerprint
    assert parse_corpus(reformatted, "b.toml").fingerprint == original
    assert len(original) == 64
    assert int(original, 16) >= 0


@pytest.mark.parametrize(
    "edit",
    [
        {"text": "The community flocked to DPO, a trap for reasoning."},
        {"kind": "quote"},
        {"source": "arXiv"},
        {"topic": "On DPO"},
        {"theme": "careers"},
    ],
)
def test_fingerprint_changes_when_content_changes(edit: dict[str, str]) -> None:
    original = parse_corpus(corpus_toml(), "a.toml").fingerprint
    edited = parse_corpus(corpus_toml(quotes=changed(QUOTES, 1, **edit)), "a.toml").fingerprint
    assert edited != original


@pytest.fixture(scope="module")
def real_themes() -> tuple[Theme, ...]:
    return read_corpus(REAL_CORPUS).themes


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("dpo", "dpo-vs-ppo"),
        ("ppo", "dpo-vs-ppo"),
        ("rlhf", "post-training"),
        ("open", "open-source"),
        ("farewell", "farewell"),
        ("ai2", "farewell"),
        ("careers", "careers"),
        ("career", "careers"),
        ("geopolitics", "geopolitics"),
        ("reasoning", "reasoning"),
        ("mismatch", "mismatch"),
    ],
)
def test_required_names_resolve_to_their_theme_in_the_real_file(
    real_themes: tuple[Theme, ...], name: str, slug: str
) -> None:
    matches = [theme.slug for theme in real_themes if name == theme.slug or name in theme.aliases]
    assert matches == [slug]


def test_no_alias_hijacks_a_quote_topic_in_the_real_file() -> None:
    corpus = read_corpus(REAL_CORPUS)
    aliases = {alias for theme in corpus.themes for alias in theme.aliases}
    for quote in corpus.quotes:
        subject = quote.topic.removeprefix("On ").lower()
        assert subject not in aliases, f"alias {subject!r} would hide quote {quote.id}"
        assert subject.removeprefix("the ") not in aliases, quote.id
