"""Rows of figures, their statistics, the printed table and the JSON file."""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
import statistics
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PASS, MISS, INFO, SKIP = "pass", "MISS", "info", "n/a"


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def p99(samples: Sequence[float]) -> float:
    """Nearest-rank 99th percentile: the value 99 % of the samples are at or below."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


@dataclass
class Row:
    """One figure: `median`/`p99` in `unit`, its target and the limit or baseline beside it."""

    family: str
    name: str
    n: int
    unit: str
    median: float | None
    p99: float | None = None
    target: str = ""
    limit: str = ""
    verdict: str = INFO
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def timed_row(
    family: str,
    name: str,
    samples_s: Sequence[float],
    *,
    target_ms: float | None = None,
    target: str = "",
    limit: str = "",
    note: str = "",
) -> Row:
    """A latency row in milliseconds from samples in seconds; pass when p99 ≤ target_ms."""
    ms = [s * 1e3 for s in samples_s]
    row = Row(family, name, len(ms), "ms", median(ms), p99(ms), target, limit, INFO, note)
    if target_ms is not None:
        row.target = target or f"p99 ≤ {target_ms:g} ms"
        row.verdict = PASS if row.p99 is not None and row.p99 <= target_ms else MISS
    return row


def verdict(ok: bool) -> str:
    return PASS if ok else MISS


def _figure(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def table(rows: Sequence[Row]) -> str:
    """The rows as a fixed-width text table (also pasted into docs/performance.md)."""
    head = ("family", "name", "n", "unit", "median", "p99", "target", "limit / baseline", "verdict")
    body = [
        (
            r.family,
            r.name,
            str(r.n),
            r.unit,
            _figure(r.median),
            _figure(r.p99),
            r.target,
            r.limit,
            r.verdict,
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in (head, *body)) for i in range(len(head))]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in (head, *body)
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def notes(rows: Sequence[Row]) -> str:
    """Each row's note, where it has one: what the table's columns cannot say."""
    return "\n".join(f"- {r.family}, {r.name}: {r.note}" for r in rows if r.note)


def markdown(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table, for docs/performance.md."""
    out = [
        "| family | name | n | median | p99 | target | limit / baseline | verdict |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        unit = f" {r.unit}" if r.unit else ""
        p = f"{_figure(r.p99)}{unit}" if r.p99 is not None else "-"
        out.append(
            f"| {r.family} | {r.name} | {r.n} | {_figure(r.median)}{unit} | {p} | "
            f"{r.target} | {r.limit} | {r.verdict} |"
        )
    return "\n".join(out)


def machine() -> dict[str, Any]:
    """Cores, memory, CPU and versions: what a reader needs to compare figures."""
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        total_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
        info["memory_gb"] = round(total_kb / 1024 / 1024, 1)
        cpu = Path("/proc/cpuinfo").read_text().splitlines()
        info["cpu"] = next(line for line in cpu if line.startswith("model name")).split(":")[1]
        info["cpu"] = info["cpu"].strip()
    except (OSError, StopIteration):
        pass
    info["load_average"] = os.getloadavg()
    return info


def write_json(path: Path, payload: dict[str, Any], rows: Sequence[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {**payload, "rows": [asdict(r) for r in rows]}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
