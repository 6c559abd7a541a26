"""Family 6: memory of `lambert serve` on both (fake) platforms; `lambert ask` and `--help`
from cold."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.context import REAL, Bench, label
from bench.report import INFO, MISS, PASS, Row, median, p99
from tests.fakes.discord_platform import FakeDiscord
from tests.fakes.slack_platform import (
    APP_TOKEN,
    BOT_TOKEN,
    FakeSlack,
    slash_command_payload,
)

FOOTPRINT = "footprint"
SHIM = Path(__file__).resolve().parents[1] / "tests" / "shim"  # the suite's redirect to the fakes
PATIENCE = 60.0  # seconds for `lambert serve` to connect, or for its answers to arrive
COMMANDS = 100  # interactions per platform sent to the serving process before the second reading
ADAPTER_LIBRARIES = ("discord", "slack_bolt", "slack_sdk")


def lambert_command() -> list[str]:
    """The installed `lambert` script beside this Python, else `python -m bot`."""
    script = Path(sys.executable).with_name("lambert")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def base_env(db: Path, corpus: Path) -> dict[str, str]:
    """A clean environment: no developer's tokens, proxies or LAMBERT_* settings."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LAMBERT_DB": str(db),
        "LAMBERT_CORPUS": str(corpus),
        "LOG_LEVEL": "INFO",  # the default, as deployed
    }


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (the peak) of a process, in kB, from /proc."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def heartbeats(db: Path) -> set[str]:
    """The platforms `lambert serve` reports as connected (bot/serving/health.py)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT key FROM meta WHERE key LIKE 'heartbeat:%'").fetchall()
    except sqlite3.Error:
        return set()
    return {row[0].removeprefix("heartbeat:") for row in rows}


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def until(predicate: Any, what: str, proc: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + PATIENCE
    while not predicate():
        if proc.returncode is not None:
            raise RuntimeError(
                f"lambert serve exited ({proc.returncode}) before {what}:\n{_tail(log)}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited {PATIENCE} s for {what}:\n{_tail(log)}")
        await asyncio.sleep(0.05)


def slack_answers(slack: FakeSlack) -> int:
    """Slash commands answered: in their Socket Mode ack, or (late) at their response_url."""
    in_acks = sum(1 for ack in slack.acks.items if ack.get("payload"))
    return in_acks + len(slack.responses.items)


async def serve_memory(bench: Bench, size: int, *, first_start: bool = False) -> dict[str, Any]:
    """Start `lambert serve` on both fakes, read its memory once connected and again after
    COMMANDS commands on each platform, then stop it with SIGTERM. Unless `first_start`, the
    database already holds the corpus (a restart, the usual case)."""
    db = bench.fresh_db(f"serve-{size}-{'first' if first_start else 'again'}")
    if size != REAL and not first_start:
        shutil.copy(await bench.loaded_db(size), db)  # a start with an unchanged corpus
    log = db.with_name("serve.log")
    discord, slack = FakeDiscord(), FakeSlack()
    await discord.start()
    async with slack:
        env = {
            **base_env(db, bench.corpus(size)),
            "PYTHONPATH": str(SHIM),
            "LAMBERT_FAKE_DISCORD_URL": f"http://127.0.0.1:{discord.port}",
            "LAMBERT_FAKE_SLACK_URL": slack.base_url,
            "DISCORD_TOKEN": "fake-token",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,  # Socket Mode: no port to open
        }
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *lambert_command(),
            "serve",
            env=env,
            cwd=db.parent,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        try:
            await until(
                lambda: heartbeats(db) >= {"discord", "slack"}, "both heartbeats", proc, log
            )
            ready = time.perf_counter() - started
            await asyncio.sleep(1.0)
            connected = memory_kb(proc.pid)
            for i in range(COMMANDS):
                payload = discord.slash_command(
                    "lambert", {"query": ("dpo", "reward hacking")[i % 2]}
                )
                discord._interactions[int(payload["id"])] = payload
                await discord.dispatch("INTERACTION_CREATE", payload)
                await slack.push_envelope(
                    "slash_commands",
                    slash_command_payload("rlhf", response_url=slack.response_url(f"r{i}")),
                )
            await until(
                lambda: len(discord.callbacks) >= COMMANDS and slack_answers(slack) >= COMMANDS,
                "the answers",
                proc,
                log,
            )
            await asyncio.sleep(0.5)
            used = memory_kb(proc.pid)
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            try:
                code = await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                code = await proc.wait()
    await discord.stop()
    return {"ready_s": ready, "connected": connected, "used": used, "exit": code}


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def importtime_top(argv: list[str], env: dict[str, str], cwd: Path) -> dict[str, list[Any]]:
    """`python -X importtime` of a command, in ms: its ten costliest direct imports (a module
    imported by the script or inside a function, with all it imports) and the ten costliest
    modules by their own time."""
    done = subprocess.run(
        argv,
        env={**env, "PYTHONPROFILEIMPORTTIME": "1"},
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    direct, own = [], []
    for line in done.stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[1].strip().isdigit():
            continue  # the header, or a line of the command's own
        name = fields[2].strip()
        own.append((name, int(fields[0]) / 1e3))
        if not fields[2].startswith("  "):
            direct.append((name, int(fields[1]) / 1e3))
    return {
        "direct": sorted(direct, key=lambda item: -item[1])[:10],
        "own": sorted(own, key=lambda item: -item[1])[:10],
    }


# Run a command in-process, then list which of these top-level packages it imported.
WATCHED = (*ADAPTER_LIBRARIES, "aiohttp")
CHECK_IMPORTS = f"""
import json, sys
from bot.cli import main
code = main(sys.argv[1:])
loaded = {{m.split(".")[0] for m in sys.modules}} & {set(WATCHED)!r}
print(json.dumps({{"code": code, "loaded": sorted(loaded)}}))
"""

# Each command from cold, as a ratio to the floor (issue 22): at most this many times it.
COLD_TARGETS = {"ask dpo": 4.0, "--help": 3.0}


async def cold_start(bench: Bench) -> list[Row]:
    """`lambert ask dpo` and `lambert --help` in a new process, each paired with `python -c
    "import sqlite3"` (the floor: the interpreter's own start), in turn which goes first; the
    figure is the median of the per-pair ratios, so the machine's load cancels out."""
    pairs = 5 if bench.quick else 15
    db = bench.fresh_db("ask")
    env = base_env(db, bench.corpus(REAL))
    cwd = db.parent
    floor = [sys.executable, "-c", "import sqlite3"]
    await asyncio.to_thread(_run, [*lambert_command(), "ask", "dpo"], env, cwd)  # loads the corpus
    rows = []
    for command, target in COLD_TARGETS.items():
        argv = [*lambert_command(), *command.split()]
        ratios, took, floors = [], [], []
        for i in range(pairs):
            first, second = (argv, floor) if i % 2 == 0 else (floor, argv)
            a = await asyncio.to_thread(_run, first, env, cwd)
            b = await asyncio.to_thread(_run, second, env, cwd)
            ran, base = (a, b) if i % 2 == 0 else (b, a)
            ratios.append(ran / base)
            took.append(ran * 1e3)
            floors.append(base * 1e3)
        top = await asyncio.to_thread(importtime_top, argv, env, cwd)
        rows.append(
            Row(
                FOOTPRINT,
                f"lambert {command}, cold process, warm database, ÷ floor",
                pairs,
                "x",
                median(ratios),
                p99(ratios),
                target=f"median ≤ {target:g}x",
                limit=f"median {median(took):.0f} ms; python -c 'import sqlite3' median "
                f"{median(floors):.0f} ms",
                verdict=PASS if median(ratios) <= target else MISS,
                note="-X importtime (ms), costliest direct imports with all they import: "
                + ", ".join(f"{name} {ms:.1f}" for name, ms in top["direct"])
                + "; costliest modules by own time: "
                + ", ".join(f"{name} {ms:.1f}" for name, ms in top["own"]),
                extra={"ratios": ratios, "ms": took, "floor_ms": floors, "importtime": top},
            )
        )
    for command in (["ask", "dpo"], ["console"]):
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", CHECK_IMPORTS, *command],
            env=env,
            cwd=cwd,
            check=True,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        loaded = json.loads(result.stdout.strip().splitlines()[-1])["loaded"]
        adapters = [m for m in loaded if m in ADAPTER_LIBRARIES]
        rows.append(
            Row(
                FOOTPRINT,
                f"lambert {' '.join(command)}: adapter libraries imported",
                1,
                "",
                len(adapters),
                target="0 (discord, slack_bolt, slack_sdk)",
                limit="sys.modules after the command",
                verdict=PASS if not adapters else MISS,
                note=", ".join(loaded) or "none",
                extra={"loaded": loaded},
            )
        )
    return rows


async def footprint_family(bench: Bench) -> list[Row]:
    rows = []
    for size in (REAL, bench.big):
        found = await serve_memory(bench, size)
        connected, used = found["connected"]["VmRSS"] / 1024, found["used"]["VmRSS"] / 1024
        is_real = size == REAL
        rows.append(
            Row(
                FOOTPRINT,
                f"lambert serve RSS, Discord + Slack connected, {label(size)}",
                1,
                "MB",
                connected,
                target="≤ 100 MB" if is_real else "",
                limit=f"after {2 * COMMANDS} commands {used:.1f} MB, peak "
                f"{found['used']['VmHWM'] / 1024:.1f} MB",
                verdict=(PASS if max(connected, used) <= 100 else MISS) if is_real else INFO,
                note=f"connected in {found['ready_s']:.1f} s; exit code {found['exit']} on SIGTERM",
                extra=found,
            )
        )
    if not bench.quick:
        # The first start with a big corpus parses and loads it in the serving process.
        found = await serve_memory(bench, bench.big, first_start=True)
        rows.append(
            Row(
                FOOTPRINT,
                f"lambert serve peak RSS, first start loading {label(bench.big)}",
                1,
                "MB",
                found["used"]["VmHWM"] / 1024,
                limit=f"RSS after {2 * COMMANDS} commands {found['used']['VmRSS'] / 1024:.1f} MB",
                note=f"connected in {found['ready_s']:.1f} s",
                extra=found,
            )
        )
    rows += await cold_start(bench)
    return rows
