"""Read and validate the corpus file (data/lambert.toml) into themes and quotes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.quotes.entries import CorpusError as CorpusError
from bot.quotes.entries import Entry, check_characters, reject_unknown_keys
from bot.quotes.models import Kind, Quote, Theme

THEME_KEYS = ("slug", "title", "aliases")
QUOTE_KEYS = ("id", "theme", "topic", "source", "kind", "text")
# Double marks only: a single ’ at the end of a text is usually an apostrophe, not a quote mark.
OPENING_MARKS = '"“„«'
CLOSING_MARKS = '"”“»'
# The first words of `/lambert <verb> ...` (bot/chat/grammar.py's table must stay within these):
# a theme slug or alias equal to one could never be reached, the verb would run instead.
RESERVED_WORDS = frozenset({"help", "id", "search", "daily", "themes", "stats", "card"})
DEFAULT_MAX_MB = 50.0
_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Corpus:
    """Every theme and quote, in file order, and a fingerprint of their content."""

    themes: tuple[Theme, ...]
    quotes: tuple[Quote, ...]
    fingerprint: str


def read_corpus(path: Path, max_mb: float = DEFAULT_MAX_MB) -> Corpus:
    """Read and validate the corpus file at `path`; CorpusError says what to fix."""
    return decode_corpus(path, read_corpus_bytes(path, max_mb))


def read_corpus_bytes(path: Path, max_mb: float = DEFAULT_MAX_MB) -> bytes:
    """The corpus file's bytes. One over `max_mb` is refused after reading one byte past the
    bound, never read whole: a wrong path to a multi-gigabyte file must not exhaust memory."""
    limit = int(max_mb * _MB)
    try:
        with path.open("rb") as file:
            raw = file.read(limit + 1)
    except FileNotFoundError as exc:
        raise CorpusError(
            f"{path}: corpus file not found — set LAMBERT_CORPUS (or --corpus) to a corpus "
            "file; see README.md, 'The corpus'"
        ) from exc
    except OSError as exc:
        raise CorpusError(
            f"{path}: cannot read the corpus file ({exc.strerror}) — check its permissions, "
            "or set LAMBERT_CORPUS (or --corpus) to another file"
        ) from exc
    if len(raw) > limit:
        raise CorpusError(
            f"{path}: the corpus file is larger than the {max_mb:g} MB bound "
            "(LAMBERT_CORPUS_MAX_MB) — use a smaller file, or raise LAMBERT_CORPUS_MAX_MB"
        )
    return raw


def decode_corpus(path: Path, raw: bytes) -> Corpus:
    """Decode and validate the bytes read from `path` (seconds on a big corpus: off the loop)."""
    try:
        # A leading byte-order mark (some Windows editors write one) is accepted silently.
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{path}: cannot read the corpus file (not UTF-8 text, byte {exc.start}) — "
            "save it as UTF-8"
        ) from exc
    return parse_corpus(text, str(path))


def parse_corpus(text: str, origin: str) -> Corpus:
    """Validate TOML `text`; `origin` (the file name) starts every error message."""
    # tomli is the standard library's tomllib (same parser, same errors), in compiled wheels:
    # 100,000 quotes parse in 1.2 s instead of 3.9-5.9 s. Imported here: a start with an
    # unchanged corpus never parses it.
    import tomli

    try:
        document = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise CorpusError(
            f"{origin}: invalid TOML: {exc} — fix the syntax at that line and column"
        ) from exc
    except RecursionError as exc:  # tomli's own bound on nesting, met before Python's
        raise CorpusError(
            f"{origin}: invalid TOML: {exc} — a corpus needs no nested arrays or tables; "
            "write each entry as a [[themes]] or [[quotes]] table of plain values"
        ) from None
    reject_unknown_keys(document, ("themes", "quotes"), f"{origin}: top level")
    themes = _parse_themes(_array_of_tables(document, "themes", origin), origin)
    quotes = _parse_quotes(_array_of_tables(document, "quotes", origin), themes, origin)
    used = {quote.theme for quote in quotes}
    for index, theme in enumerate(themes):
        if theme.slug not in used:
            raise CorpusError(
                f'{origin}: themes[{index}] (slug "{theme.slug}"): has no quotes — add a '
                f'[[quotes]] entry with theme = "{theme.slug}", or remove the theme'
            )
    return Corpus(themes, quotes, _fingerprint(themes, quotes))


def _array_of_tables(
    document: Mapping[str, object], name: str, origin: str
) -> list[Mapping[str, object]]:
    tables = document.get(name)
    if not isinstance(tables, list) or not tables:
        raise CorpusError(f"{origin}: no [[{name}]] entries — add at least one [[{name}]] table")
    for index, table in enumerate(tables):
        if not isinstance(table, dict):
            raise CorpusError(
                f"{origin}: {name}[{index}] is not a table — write each entry as a [[{name}]] table"
            )
    return tables


def _parse_themes(tables: list[Mapping[str, object]], origin: str) -> tuple[Theme, ...]:
    themes: list[Theme] = []
    entries = [Entry(origin, "themes", index, table) for index, table in enumerate(tables)]
    for entry in entries:
        reject_unknown_keys(entry.values, THEME_KEYS, f"{origin}: {entry.label()}")
        slug = entry.slug("slug")
        _refuse_reserved(entry, "slug", slug)
        if any(theme.slug == slug for theme in themes):
            raise entry.error(f'slug "{slug}" is used by an earlier theme', "give it a new slug")
        themes.append(Theme(slug, entry.string("title"), _aliases(entry)))
    # A name users type must pick exactly one theme, or the bot would have to guess.
    claimed: dict[str, Entry] = {}
    slugs = {theme.slug: entry for entry, theme in zip(entries, themes, strict=True)}
    for entry, theme in zip(entries, themes, strict=True):
        for alias in theme.aliases:
            if alias in claimed:
                raise entry.error(
                    f'alias "{alias}" is also an alias of {claimed[alias].label()}',
                    "an alias may name one theme only; remove it from one of them",
                )
            if slugs.get(alias, entry) is not entry:
                raise entry.error(
                    f'alias "{alias}" is the slug of {slugs[alias].label()}',
                    "remove the alias: the slug already names that theme",
                )
            claimed[alias] = entry
    return tuple(themes)


def _aliases(entry: Entry) -> tuple[str, ...]:
    raw = entry.values.get("aliases", [])
    if not isinstance(raw, list) or not all(isinstance(alias, str) for alias in raw):
        raise entry.error('"aliases" must be a list of strings', 'write aliases = ["...", "..."]')
    aliases: list[str] = []
    for alias in raw:
        normalised = " ".join(alias.lower().split())  # how aliases are stored and compared
        if not normalised:
            raise entry.error("an alias is empty", "remove it from aliases")
        check_characters(entry, "aliases", alias, line_breaks=False)
        _refuse_reserved(entry, "alias", normalised)
        if normalised in aliases:
            raise entry.error(f'alias "{normalised}" is listed twice', "remove one of them")
        aliases.append(normalised)
    return tuple(aliases)


def _refuse_reserved(entry: Entry, what: str, name: str) -> None:
    verb = name.split()[0]
    if verb in RESERVED_WORDS:
        raise entry.error(
            f'{what} "{name}" starts with the command word "{verb}", so `/lambert {name}` would '
            f"run that command instead of picking this theme",
            f"rename it; reserved words: {', '.join(sorted(RESERVED_WORDS))}",
        )


def _parse_quotes(
    tables: list[Mapping[str, object]], themes: tuple[Theme, ...], origin: str
) -> tuple[Quote, ...]:
    themes_by_slug = {theme.slug: theme for theme in themes}
    quotes: list[Quote] = []
    seen_ids: dict[str, Entry] = {}
    seen_texts: dict[str, Entry] = {}
    for index, table in enumerate(tables):
        entry = Entry(origin, "quotes", index, table)
        reject_unknown_keys(table, QUOTE_KEYS, f"{origin}: {entry.label()}")
        quote_id = entry.slug("id")
        if quote_id in seen_ids:
            raise entry.error(
                f'id "{quote_id}" is already used by {seen_ids[quote_id].label()}',
                "give this entry a new id (ids appear in chat and links, so keep the old one)",
            )
        theme_slug = entry.string("theme")
        theme = themes_by_slug.get(theme_slug)
        if theme is None:
            raise entry.error(
                f'theme "{theme_slug}" is not a known theme; known: {", ".join(themes_by_slug)}',
                "fix the theme or add a [[themes]] entry",
            )
        kind_text = entry.string("kind")
        if kind_text not in tuple(Kind):
            raise entry.error(
                f'kind "{kind_text}" is not "quote" or "paraphrase"',
                'use "quote" only when the seed wraps the whole text in quotation marks, '
                'otherwise "paraphrase"',
            )
        kind, text = Kind(kind_text), entry.string("text")
        if kind is Kind.QUOTE and text[0] in OPENING_MARKS and text[-1] in CLOSING_MARKS:
            raise entry.error(
                'text of a kind = "quote" entry starts and ends with quotation marks',
                "remove the outer marks (the bot adds its own)",
            )
        comparable = " ".join(text.casefold().split())
        if comparable in seen_texts:
            raise entry.error(
                f"text duplicates {seen_texts[comparable].label()}", "remove one of the two"
            )
        topic, source = entry.string("topic"), entry.string("source")
        quotes.append(Quote(quote_id, text, kind, theme.slug, theme.title, topic, source))
        seen_ids[quote_id] = entry
        seen_texts[comparable] = entry
    return tuple(quotes)


def _fingerprint(themes: tuple[Theme, ...], quotes: tuple[Quote, ...]) -> str:
    # Hash the parsed values, not the file, so comments and layout are not a change.
    canonical = {"themes": [asdict(t) for t in themes], "quotes": [q.as_json() for q in quotes]}
    serialised = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(serialised.encode("utf-8")).hexdigest()
