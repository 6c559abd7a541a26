"""What every command shares: its declaration, the parser and its one error format, the
global options, opening the core, and the output helpers (errors, headings, JSON).

A command module imports only this and light modules at its top: `lambert --help` imports
them all, so anything heavier is imported inside the handler (docs/cli.md, "Adding a command")."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from bot.cli.terminal import BOLD, RED, paint

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.runtime import Core

Handler = Callable[[argparse.Namespace, "Settings"], Coroutine[Any, Any, int]]


def error(message: str) -> int:
    """`lambert: MESSAGE` on standard error (red `lambert:` on a colour terminal); returns 1."""
    sys.stderr.write(f"{paint('lambert:', RED, sys.stderr)} {message}\n")
    return 1


def refuse(message: str) -> int:
    """error(), and the exit code of a refused request (2)."""
    error(message)
    return 2


def heading(text: str) -> str:
    """`text` in bold when standard output is a colour terminal."""
    return paint(text, BOLD, sys.stdout)


def output(args: argparse.Namespace, payload: dict[str, Any], text: str) -> int:
    """`payload` as one JSON object with --json (dates and paths as text), else `text`; 0."""
    if args.json:
        import json

        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(f"{text}\n" if text else "")
    return 0


class Parser(argparse.ArgumentParser):
    """argparse with lambert's error format, and a guess for a word that is not a command."""

    # The command a word that is no command was probably meant for (`lambert dpo`).
    fallback: str | None = None

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._words = list(sys.argv[1:] if args is None else args)  # for the guess
        return super().parse_known_args(self._words, namespace)

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:  # refused here rather than by argparse, to name the subcommand's --help
            self.error(f"unrecognized arguments: {' '.join(extras)}", parsed.command)
        return parsed

    def error(self, message: str, command: str = "") -> NoReturn:
        error(message)
        self.exit(2, f"Try '{command or self.prog} --help'.\n")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        names = list(action.choices or ())
        if isinstance(action, argparse._SubParsersAction) and value not in names:
            import difflib
            import shlex

            words = self._words[self._words.index(value) :] if value in self._words else [value]
            # 0.7: a typo of a command (serach, sett, them), not a word that shares a few
            # letters with one (reward and card): that is a question for `ask`.
            close = difflib.get_close_matches(value, names, n=1, cutoff=0.7)
            if close:
                guess = [close[0], *words[1:]]
            elif self.fallback:
                guess = [self.fallback, *words]
            else:
                self.error(f"{value!r} is not a command of {self.prog}; choose {', '.join(names)}")
            error(f"{value!r} is not a command. Did you mean: {self.prog} {shlex.join(guess)}?")
            self.exit(2)
        super()._check_value(action, value)


# The options every command takes (given once, before it): (flag, metavar, help).
GLOBAL_OPTIONS = (
    ("--db", "PATH", "SQLite database (default: $LAMBERT_DB)"),
    ("--corpus", "PATH", "corpus file (default: $LAMBERT_CORPUS or the bundled corpus)"),
    (
        "--database-url",
        "URL",
        "postgresql://user:password@host:port/db for the daily state, shared by replicas "
        "(default: $LAMBERT_DATABASE_URL; unset: the SQLite database). Prefer the variable: "
        "other users of this machine can read a command line",
    ),
)


def add_global_options(parser: argparse.ArgumentParser, *, hidden: bool) -> None:
    """--db, --corpus and --database-url, listed by `lambert --help` alone: a subcommand keeps
    an unlisted copy (`lambert ask dpo --db x` works) whose default is SUPPRESS, so that it
    never resets a value given before the subcommand name."""
    hide = argparse.SUPPRESS if hidden else None
    for flag, metavar, text in GLOBAL_OPTIONS:
        parser.add_argument(flag, metavar=metavar, default=hide, help=hide or text)


@dataclass(frozen=True)
class Command:
    """A command as `lambert --help` lists it: `path` "daily set" is `lambert daily set`."""

    path: str
    handler: Handler
    help: str
    description: str
    arguments: tuple[tuple[tuple[str, ...], dict[str, Any]], ...]
    json: bool
    title: str  # of its subcommands, if it has any: "actions", "steps"


COMMANDS: list[Command] = []  # in the order each module declares them, parents first


def arg(*flags: str, **options: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    """One add_argument call, for command()."""
    return flags, options


THEME = arg("--theme", metavar="SLUG", help="only this theme (slug or alias)")


def command(
    path: str,
    help_text: str,
    description: str = "",
    *arguments: tuple[tuple[str, ...], dict[str, Any]],
    json: bool = False,
    title: str = "actions",
) -> Callable[[Handler], Handler]:
    """Declares the decorated handler as the command `path` (with `--json` if asked)."""

    def declare(handler: Handler) -> Handler:
        details = (description or help_text, arguments, json, title)
        COMMANDS.append(Command(path, handler, help_text, *details))
        return handler

    return declare


def group(path: str, help: str, description: str, refusal: str, title: str = "actions") -> None:
    """A command that only holds others (`lambert db`): run alone, it refuses with `refusal`."""

    async def refused(args: argparse.Namespace, settings: Settings) -> int:
        return refuse(refusal)

    command(path, help, description, title=title)(refused)


class Commands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """A command's subcommands, listed (`--help`) and named (a guess) by name and help alone:
    only the parser of the one that runs is built, not the 20-odd others."""

    def declare(self, parent: str) -> None:
        """Lists the commands under `parent` ("" for `lambert`)."""
        for c in COMMANDS:
            if c.path.rpartition(" ")[0] == parent:
                name = c.path.rpartition(" ")[2]
                self._choices_actions.append(self._ChoicesPseudoAction(name, (), c.help))
                self._name_parser_map[name] = c

    def parser(self, name: str) -> argparse.ArgumentParser:
        """The parser of the subcommand `name`, built when first asked for."""
        c = self._name_parser_map[name]
        if not isinstance(c, Command):
            return c  # type: ignore[no-any-return]
        del self._name_parser_map[name]  # add_parser puts the parser in its place
        parser = self.add_parser(
            name,
            description=c.description,
            epilog="global options (--db, --corpus, --database-url): lambert --help",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_global_options(parser, hidden=True)
        if c.json:
            parser.add_argument("--json", action="store_true", help="print one JSON object")
        for flags, options in c.arguments:
            parser.add_argument(*flags, **options)
        # Its full name (`lambert daily set`), for error messages.
        parser.set_defaults(handler=c.handler, command=parser.prog, json=False)
        if any(k.path.startswith(c.path + " ") for k in COMMANDS):
            title, metavar = c.title, c.title[:-1].upper()
            parser.add_subparsers(title=title, metavar=metavar, action=Commands).declare(c.path)
        return parser  # type: ignore[no-any-return]

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        self.parser(values[0])
        super().__call__(parser, namespace, values, option)


def open_core(
    args: argparse.Namespace, settings: Settings, **options: Any
) -> AbstractAsyncContextManager[Core]:
    """bot.runtime.open_core, imported when a command runs, with the corpus load's progress
    shown as main() set it up (a bar, a line per tenth, or nothing)."""
    from bot import runtime

    return runtime.open_core(settings, progress=getattr(args, "progress", None), **options)
