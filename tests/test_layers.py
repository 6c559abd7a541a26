"""The import boundaries of bot/: platform libraries only in adapters, layers pointing one way.

Every `import` and `from ... import` counts, wherever it is: module top, inside a function,
under `if TYPE_CHECKING:`. A "module:function" string given to importlib is not an import;
that is how serving reaches the adapters.
"""

from __future__ import annotations

import ast
import graphlib
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"
PLATFORM_LIBRARIES = {"discord", "slack_bolt", "slack_sdk", "aiohttp"}
# The web site is served by aiohttp from bot/web (its views stay free of it, so the static
# export needs no server); no chat platform's library reaches it.
SITE_LIBRARIES = {"aiohttp"}

# Low to high: a unit (a package or top-level module of bot/) may import units on its own line
# or a lower one. `bot` is bot/__init__.py, which holds only __version__ (cli prints it).
LAYERS = [
    {"bot", "config", "config_values", "logs", "metrics"},
    {"platforms"},
    {"storage"},
    {"quotes"},
    {"cards"},
    {"ports"},
    {"stats", "coordination"},
    {"daily", "previews", "installs"},
    {"runtime"},
    {"chat"},
    {"serving"},
    {"web"},
    {"adapters"},
    {"cli"},
    {"__main__"},
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


class Import(NamedTuple):
    where: str  # "bot/cli/quotes.py:12"
    source: str  # the importing module, "bot.cli.quotes"
    target: str  # the module imported, "bot.serving.serve" or "discord.ui"


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root: Path) -> list[Import]:
    """Every import in every module under `root` (a `bot/` folder), relative ones resolved."""
    modules = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    found = []
    for source, path in modules.items():
        package = source if path.name == "__init__.py" else source.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # `from .` is the package itself, `from ..` its parent
                    anchor = package.rsplit(".", node.level - 1)[0]
                    base = f"{anchor}.{base}" if base else anchor
                # `from bot.chat import grammar` imports the module bot.chat.grammar
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names
                ]
            else:
                continue
            where = f"{path.relative_to(root.parent).as_posix()}:{node.lineno}"
            found += [Import(where, source, target) for target in dict.fromkeys(targets)]
    return found


def unit(module: str) -> str:
    """bot.adapters.discord.client -> adapters; bot -> bot."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def broken_rule(source: str, target: str) -> str | None:
    """Which boundary `source` importing `target` crosses, or None."""
    library = target.split(".")[0]
    if library in PLATFORM_LIBRARIES:
        if unit(source) == "adapters" or (unit(source) == "web" and library in SITE_LIBRARIES):
            return None
        return "a platform library outside bot/adapters"
    if target.split(".")[0] != "bot":
        return None
    if RANK[unit(source)] < RANK[unit(target)]:
        return f"{unit(source)} imports {unit(target)}, a layer above it"
    mine, theirs = adapter(source), adapter(target)
    if mine and theirs and mine != theirs:
        return "one platform's adapter imports another's"
    return None


# Helpers shared by adapters, no platform of their own: terminal rendering (the console and
# the CLI) and listening on a configured address (Slack HTTP mode and the probes).
NOT_PLATFORMS = {"terminal", "listening"}


def adapter(module: str) -> str | None:
    """bot.adapters.discord.client -> discord; bot.adapters.console -> console; else None."""
    parts = module.split(".")
    if len(parts) > 2 and parts[1] == "adapters" and parts[2] not in NOT_PLATFORMS:
        return parts[2]
    return None


class Violation(NamedTuple):
    where: str
    target: str
    rule: str


def violations(root: Path) -> list[Violation]:
    found = []
    for imp in imports(root):
        rule = broken_rule(imp.source, imp.target)
        if rule:
            found.append(Violation(imp.where, imp.target, rule))
    return found


def package_cycle(root: Path) -> list[str] | None:
    """A cycle in the graph of units importing units, or None."""
    graph: dict[str, set[str]] = {}
    for imp in imports(root):
        if imp.target.split(".")[0] == "bot" and unit(imp.source) != unit(imp.target):
            graph.setdefault(unit(imp.source), set()).add(unit(imp.target))
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def module_cycle(root: Path) -> list[str] | None:
    """A cycle in the graph of modules importing modules, at any depth (`TYPE_CHECKING` and
    function-level imports included), or None."""
    graph: dict[str, set[str]] = {}
    modules = {module_name(p, root) for p in root.rglob("*.py")}
    for imp in imports(root):
        if imp.target in modules and imp.target != imp.source:
            graph.setdefault(imp.source, set()).add(imp.target)
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def explain(found: list[Violation]) -> str:
    return "\n".join(f"{v.where}: imports {v.target}: {v.rule}" for v in found)


# The real tree.


def test_every_unit_of_bot_has_a_layer() -> None:
    units = {unit(module_name(p, BOT)) for p in BOT.rglob("*.py")}
    assert units - RANK.keys() == set(), "add the new package to LAYERS in tests/test_layers.py"


def test_bot_keeps_its_import_boundaries() -> None:
    found = violations(BOT)
    assert found == [], "\n" + explain(found)


def test_packages_import_each_other_without_cycles() -> None:
    assert package_cycle(BOT) is None


def test_cards_import_only_the_quote_models() -> None:
    """The card renderer is shared by chat, the CLI and the web site: it knows quotes only."""
    found = {
        i.target
        for i in imports(BOT)
        if unit(i.source) == "cards" and i.target.startswith("bot.") and unit(i.target) != "cards"
    }
    assert found == {"bot.quotes.models"}


def test_lambert_ask_never_loads_pillow_or_a_platform_library() -> None:
    """Pillow (cards), discord.py and slack-bolt load only where they are used."""
    script = (
        "import sys\n"
        "from bot.cli import main\n"
        "code = main(['ask', 'card', 'dpo'])\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "print(code, sorted(loaded & {'PIL', 'discord', 'slack_bolt'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "0 []"


def test_modules_import_each_other_without_cycles_at_any_depth() -> None:
    assert module_cycle(BOT) is None


# The checker itself, on a table of imports and on a small fake tree.


@pytest.mark.parametrize(
    ("source", "target", "broken"),
    [
        ("bot.adapters.discord.client", "discord", False),
        ("bot.adapters.slack.app", "aiohttp.web", False),
        ("bot.adapters.console", "bot.chat.grammar", False),
        ("bot.adapters.discord.client", "bot.adapters.discord.embeds", False),
        ("bot.adapters.discord.poster", "bot.adapters", False),
        ("bot.cli.quotes", "bot.adapters.console", False),
        ("bot.cli", "bot", False),
        ("bot.config", "bot.logs", False),
        ("bot.logs", "bot.config", False),
        ("bot.runtime", "bot.daily.scheduler", False),
        ("bot.chat.grammar", "bot.runtime", False),
        ("bot.serving.serve", "bot.platforms", False),
        ("bot.cli.deploy", "discord", True),
        ("bot.serving.serve", "slack_sdk.errors", True),
        ("bot.chat.grammar", "aiohttp", True),
        ("bot.quotes.store", "bot.daily.bag", True),
        ("bot.storage.connection", "bot.config", False),
        ("bot.storage.connection", "bot.quotes", True),
        ("bot.daily.scheduler", "bot.runtime", True),
        ("bot.serving.serve", "bot.adapters.discord.client", True),
        ("bot.adapters.discord.client", "bot.cli.common", True),
        ("bot.adapters.discord.client", "bot.adapters.slack.blocks", True),
        ("bot.adapters.slack.app", "bot.adapters.console", True),
        ("bot.config", "bot.quotes.models", True),
        ("bot.platforms", "bot.adapters.discord.client", True),
        ("bot.ports", "bot.daily", True),
        ("bot.web.app", "aiohttp.web", False),
        ("bot.adapters.probes", "bot.web.app", False),
        ("bot.web.site", "discord", True),
        ("bot.web.site", "bot.adapters.probes", True),
        ("bot.web.site", "bot.cli.quotes", True),
    ],
)
def test_broken_rule(source: str, target: str, broken: bool) -> None:
    assert (broken_rule(source, target) is not None) == broken


FAKE_TREE = {
    "__init__.py": "",
    "config.py": "import os\n",
    "storage/__init__.py": "",
    "storage/db.py": (
        "from bot.config import Settings\n"
        "def open_db():\n"
        "    from ..chat import grammar\n"  # line 3: a lower layer importing a higher one
    ),
    "chat/__init__.py": "",
    "chat/grammar.py": (
        "from typing import TYPE_CHECKING\n"
        "from . import replies\n"
        "from bot.storage import db\n"
        "if TYPE_CHECKING:\n"
        "    import discord.ui\n"  # line 5: a platform library outside adapters
    ),
    "chat/replies.py": "",
    "serving/__init__.py": "",
    "serving/serve.py": (
        "import importlib\n"
        'PLATFORM = "bot.adapters.discord.client:create_platform"\n'
        "def load():\n"
        '    return importlib.import_module(PLATFORM.partition(":")[0])\n'
    ),
    "adapters/__init__.py": "",
    "adapters/discord/__init__.py": "",
    "adapters/discord/client.py": "import discord\nfrom bot.chat.grammar import replies\n",
}


@pytest.fixture
def fake_bot(tmp_path: Path) -> Path:
    root = tmp_path / "bot"
    for name, text in FAKE_TREE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_checker_reports_exactly_the_offending_imports(fake_bot: Path) -> None:
    assert [(v.where, v.target) for v in violations(fake_bot)] == [
        ("bot/chat/grammar.py:5", "discord.ui"),
        ("bot/storage/db.py:3", "bot.chat.grammar"),
    ]


def test_relative_imports_are_resolved(fake_bot: Path) -> None:
    assert {i.target for i in imports(fake_bot) if i.source == "bot.chat.grammar"} == {
        "typing",
        "bot.chat.replies",
        "bot.storage.db",
        "discord.ui",
    }


def test_the_checker_finds_a_cycle_between_packages(fake_bot: Path) -> None:
    cycle = package_cycle(fake_bot)
    assert cycle is not None and set(cycle) == {"storage", "chat"}
    (fake_bot / "storage" / "db.py").write_text("from bot.config import Settings\n")
    assert package_cycle(fake_bot) is None


def test_the_checker_finds_a_cycle_between_modules_under_type_checking(fake_bot: Path) -> None:
    assert module_cycle(fake_bot) is not None  # storage.db <-> chat.grammar
    (fake_bot / "storage" / "db.py").write_text("from bot.config import Settings\n")
    assert module_cycle(fake_bot) is None
    (fake_bot / "chat" / "replies.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.chat import grammar\n"
    )
    cycle = module_cycle(fake_bot)
    assert cycle is not None and set(cycle) == {"bot.chat.grammar", "bot.chat.replies"}
