"""Family cards: a quote card drawn cold (layout, drawing, PNG) and served from the memory
cache, for every entry of the real corpus; beside Pillow's PNG encoding of the same picture
alone, the floor no drawing of a card can go under."""

from __future__ import annotations

import io
import statistics
import time

from PIL import Image

from bench.context import REAL, Bench
from bench.report import Row, median, p99, timed_row, verdict
from bot.cards import card_png
from bot.cards.fonts import font
from bot.cards.layout import lay_out
from bot.quotes.corpus import read_corpus

CARDS = "cards"
# Drawing (layout and text) may cost at most twice the PNG encoding it ends with, so the card
# costs at most 3x the encoding alone: a ratio in one run, steady on a loaded machine, where
# milliseconds are not (45 ms cold on a quiet 2-core machine, 85-100 ms at load average 9).
COLD_WITHIN = 3.0
CACHED_SHARE = 0.01  # a cached card costs at most 1 % of a cold one (median to median)


def _forget() -> None:
    card_png.cache_clear()
    lay_out.cache_clear()


async def cards_family(bench: Bench) -> list[Row]:
    quotes = read_corpus(bench.corpus(REAL)).quotes
    passes = 1 if bench.quick else 5
    clock = time.perf_counter

    font.cache_clear()  # the first card of a process also opens the font files
    _forget()
    start = clock()
    card_png(quotes[0])
    first_ms = (clock() - start) * 1e3

    cold: list[float] = []
    encode: list[float] = []
    sizes: list[int] = []
    for _ in range(passes):
        for quote in quotes:
            _forget()
            start = clock()
            png = card_png(quote)
            cold.append(clock() - start)
            picture = Image.open(io.BytesIO(png))
            picture.load()
            start = clock()
            picture.save(io.BytesIO(), "PNG")
            encode.append(clock() - start)
            sizes.append(len(png))

    cached: list[float] = []
    for _ in range(passes * 20):
        for quote in quotes:
            start = clock()
            card_png(quote)
            cached.append(clock() - start)

    n = f"{len(quotes)} entries \u00d7 {passes}"
    ratio = median(cold) / median(encode)
    cold_row = timed_row(
        CARDS,
        f"card drawn cold, real corpus ({n})",
        cold,
        target=f"median \u2264 {COLD_WITHIN:g}\u00d7 the encoding alone",
        limit=f"PNG encoding alone: median {median(encode) * 1e3:.1f}, "
        f"p99 {p99(encode) * 1e3:.1f} ms",
        note=f"median {ratio:.1f}\u00d7 the encoding alone; the first card of a process (fonts "
        f"opened) {first_ms:.0f} ms; PNG {statistics.median(sizes):,.0f} bytes median, "
        f"{max(sizes):,} max",
    )
    cold_row.verdict = verdict(ratio <= COLD_WITHIN)
    cold_row.extra = {
        "ratio_to_encoding": ratio,
        "encode_median_ms": median(encode) * 1e3,
        "first_card_ms": first_ms,
        "png_bytes_median": statistics.median(sizes),
        "png_bytes_max": max(sizes),
    }
    share = median(cached) / median(cold)
    cached_row = Row(
        CARDS,
        f"card from the cache, real corpus ({n} \u00d7 20)",
        len(cached),
        "\u00b5s",
        median(cached) * 1e6,
        p99(cached) * 1e6,
        target=f"median \u2264 {CACHED_SHARE:.0%} of cold",
        limit=f"cold: median {median(cold) * 1e3:.1f} ms",
        verdict=verdict(share <= CACHED_SHARE),
        note=f"{1 / share:,.0f}\u00d7 faster than drawing it",
        extra={"ratio_cold_to_cached": 1 / share},
    )
    return [cold_row, cached_row]
