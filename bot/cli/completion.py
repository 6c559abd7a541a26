"""`lambert completion bash|zsh|fish`: a static script generated from the parser, so a shell
completes without starting Python (shtab would cover bash and zsh, not fish)."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.cli.common import Commands, arg, command, output
from bot.config import Settings


@dataclass
class Command:
    """One parser of the tree: `here` is "" for `lambert`, " daily set" for `lambert daily set`."""

    here: str
    # What may come next, with its help: subcommands, or a positional's choices (bash, zsh...).
    words: list[tuple[str, str]] = field(default_factory=list)
    # (flags, help, choices (its values, when they are a fixed few), takes a PATH, takes a value)
    options: list[tuple[list[str], str, list[str], bool, bool]] = field(default_factory=list)
    takes_path: bool = False  # a positional PATH (`lambert backup PATH`)


def commands_of(parser: argparse.ArgumentParser, here: str = "") -> Iterator[Command]:
    """Every parser of the tree, parents first; options hidden from --help are left out."""
    found, children = Command(here), []
    for action in parser._actions:
        if isinstance(action, Commands):
            helps = {a.dest: _first_line(a.help) for a in action._choices_actions}
            found.words += [(name, helps.get(name, "")) for name in action.choices]
            children += [(f"{here} {name}", action.parser(name)) for name in list(action.choices)]
        elif action.help == argparse.SUPPRESS:
            continue
        elif action.option_strings:
            choices, path = [str(c) for c in action.choices or ()], action.metavar == "PATH"
            flags, help_line = list(action.option_strings), _first_line(action.help)
            found.options.append((flags, help_line, choices, path, action.nargs != 0))
        elif action.metavar == "PATH":
            found.takes_path = True
        elif action.choices:
            found.words += [(str(c), "") for c in action.choices]
    yield found
    for where, child in children:
        yield from commands_of(child, where)


def _first_line(text: str | None) -> str:
    return " ".join((text or "").split())[:80]


def _paths(tree: list[Command]) -> str:
    return " ".join(shlex.quote(c.here) for c in tree if c.here)


FILES = 'COMPREPLY=($(compgen -f -- "$cur"))'


def _compgen(words: list[str]) -> str:
    return f'COMPREPLY=($(compgen -W {shlex.quote(" ".join(words))} -- "$cur"))'


def _cases(tree: list[Command], shell: str) -> str:
    """A bash or zsh `case` branch per command: the option's values, else the next words."""
    bash = shell == "bash"
    label, files = ("{})", FILES) if bash else ("({})", "_files")
    cases = []
    for c in tree:
        lines = [f"    {label.format(shlex.quote(c.here))}", '        case "$prev" in']
        for flags, _, choices, path, _ in c.options:
            if path or choices:
                few = _compgen(choices) if bash else f"compadd -- {' '.join(choices)}"
                lines.append(
                    f"        {label.format('|'.join(flags))} {files if path else few}; return ;;"
                )
        items = c.words + [(f, o[1]) for o in c.options for f in o[0]]
        described = [n.replace(":", "\\:") + f":{help}" if help else n for n, help in items]
        words = _compgen([n for n, _ in items]) if bash else f"items=({shlex.join(described)})"
        lines += ["        esac", f"        {words}"]
        if c.takes_path:
            lines.append("        " + (FILES.replace("=", "+=", 1) if bash else files))
        cases.append("\n".join([*lines, "        ;;"]))
    return "\n".join(cases)


BASH = """\
# lambert completion for bash: eval "$(lambert completion bash)" in ~/.bashrc
_lambert() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    local here="" word known i
    # The command typed so far (`lambert daily set`): each word that extends a known one.
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${{COMP_WORDS[i]}}"
        for known in {paths}; do
            [[ "$here $word" == "$known" ]] && here="$known" && break
        done
    done
    COMPREPLY=()
    case "$here" in
{cases}
    esac
}}
complete -F _lambert lambert
"""


ZSH = """\
#compdef lambert
# lambert completion for zsh: eval "$(lambert completion zsh)" in ~/.zshrc, after compinit
_lambert() {{
    local here="" word known i prev=${{words[CURRENT-1]}}
    local -a items
    for ((i = 2; i < CURRENT; i++)); do
        word=${{words[i]}}
        for known in {paths}; do
            [[ "$here $word" == "$known" ]] && here=$known && break
        done
    done
    case $here in
{cases}
    esac
    _describe -t commands lambert items
}}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _lambert "$@"
else
    compdef _lambert lambert
fi
"""


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish(tree: list[Command]) -> str:
    lines = [FISH.format(paths=_paths(tree)), "complete -c lambert -f"]
    for c in tree:
        at = f"complete -c lambert -n {_fish_quote('__lambert_at ' + _fish_quote(c.here))}"
        for name, help in c.words:
            lines.append(f"{at} -a {name}" + (f" -d {_fish_quote(help)}" if help else ""))
        for flags, help, choices, path, takes_value in c.options:
            named = " ".join(f"-l {f[2:]}" if f[1] == "-" else f"-s {f[1:]}" for f in flags)
            value = " -x" if takes_value else ""
            if path or choices:
                value = " -r -F" if path else f" -x -a {_fish_quote(' '.join(choices))}"
            lines.append(f"{at} {named}{value} -d {_fish_quote(help)}")
        if c.takes_path:
            lines.append(f"{at} -F")
    return "\n".join(lines) + "\n"


FISH = """\
# lambert completion for fish: lambert completion fish > ~/.config/fish/completions/lambert.fish
function __lambert_at --description 'whether the command line is at this lambert command'
    set -l here ''
    for word in (commandline -opc)[2..-1]
        for known in {paths}
            if test "$here $word" = "$known"
                set here $known
                break
            end
        end
    end
    test "$here" = "$argv[1]"
end"""

SCRIPTS = {
    "bash": lambda tree: BASH.format(paths=_paths(tree), cases=_cases(tree, "bash")),
    "zsh": lambda tree: ZSH.format(paths=_paths(tree), cases=_cases(tree, "zsh")),
    "fish": fish,
}


@command(
    "completion",
    "print a shell completion script: bash, zsh or fish",
    "Print a completion script for the shell. Load it with:\n"
    '  bash: eval "$(lambert completion bash)"   (in ~/.bashrc)\n'
    '  zsh:  eval "$(lambert completion zsh)"    (in ~/.zshrc, after compinit)\n'
    "  fish: lambert completion fish > ~/.config/fish/completions/lambert.fish",
    arg("shell", choices=tuple(SCRIPTS), help="the shell to complete in"),
)
async def completion_command(args: argparse.Namespace, settings: Settings) -> int:
    # The whole parser, handed down by bot.cli.build_parser (importing it here would be a
    # cycle: bot.cli lists this module among its commands).
    script = SCRIPTS[args.shell](list(commands_of(args.build_parser())))
    return output(args, {}, script.removesuffix("\n"))
