"""The command line's words, read before the commands' parser sees them.

A first word that is neither a command nor a file is a mistyped command (`no_such_command`).
`flowtui run FILE --help` lists FILE's parameters (`parameters_in_help`).

Which of a run command's `--NAME`s are flowtui's options and which the flow's parameters:
`flowtui run FILE --NAME VALUE`: NAME is a parameter of the flow in FILE, or an option of the
command. A file written for Metaflow may call a parameter by one of flowtui's own option names
(`flow`, `store`, `events`, `executor`, ...: Metaflow reserves none of them). After FILE such a
name is the parameter's; flowtui's option of that name goes before FILE
(`flowtui run --store S FILE --store VALUE`), as Metaflow's own options go before its `run`.
The file is read as text (never imported) for its parameters' names.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flowtui.errors import FlowtuiError
from flowtui.errors import UsageError as FlowtuiUsageError


def parameters_after_file(command: Any, args: list[str]) -> tuple[list[str], list[str]]:
    """`args` (what follows the command's name) with every option after FILE that names a
    parameter of FILE's flows moved behind `--`, where the command's parser leaves it for the
    flow; and those options' names (`--store`), to say so. Unchanged when nothing collides or
    FILE cannot be read (the command says why). `command` is the command's click command
    (typer's own copy of click: read, not typed)."""
    own, takes_value = _options(command)
    at = _file_index(args, takes_value)
    if at is None:
        return args, []
    names = _parameter_names(args[at])
    kept, moved = args[: at + 1], []
    names_moved: list[str] = []
    rest = args[at + 1 :]
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--":
            kept += rest[i:]
            break
        name = arg[2:].partition("=")[0] if arg.startswith("--") else ""
        norm = name.replace("-", "_")
        ours = name and name != "help" and f"--{name}" in own
        if ours and (norm in names or norm.removeprefix("no_") in names):
            taken = 1 if "=" in arg or i + 1 >= len(rest) or rest[i + 1].startswith("--") else 2
            moved += rest[i : i + taken]
            names_moved.append(f"--{name}")
            i += taken
            continue
        kept.append(arg)
        i += 1
    if not moved:
        return args, []
    if "--" in kept:  # already a separator: the moved ones go after it
        return [*kept, *moved], names_moved
    return [*kept, "--", *moved], names_moved


# A flow's configs on a run's command line, as Metaflow spells them: the kind RunConfig keeps.
CONFIG_OPTIONS = {"--config": "path", "--config-value": "value"}
_CONFIG_METAVAR = {"--config": "NAME PATH", "--config-value": "NAME JSON"}


def config_words(args: list[str], file: str) -> tuple[tuple[tuple[str, str, str], ...], list[str]]:
    """`--config NAME PATH` and `--config-value NAME JSON` among the words after FILE, as
    (kind, NAME, text), and the other words (the flow's parameters). Words after `--` are
    the flow's, and so is `--config` when a parameter of FILE's flows is called `config`
    (Metaflow's `--config` goes before `run`, so a flow may have one)."""
    if not any(a.partition("=")[0] in CONFIG_OPTIONS for a in args):
        return (), args
    taken = _parameter_names(file)
    found: list[tuple[str, str, str]] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        option, eq, inline = args[i].partition("=")
        if args[i] == "--":
            rest += args[i:]
            break
        if option not in CONFIG_OPTIONS or option[2:].replace("-", "_") in taken:
            rest.append(args[i])
            i += 1
            continue
        words = [inline] if eq else []
        needed = 2 - len(words)
        words += args[i + 1 : i + 1 + needed]
        if len(words) < 2 or any(w.startswith("--") for w in words[:1]):
            raise FlowtuiUsageError(
                f"{option} takes two words: {option} {_CONFIG_METAVAR[option]}."
            )
        found.append((CONFIG_OPTIONS[option], words[0], words[1]))
        i += 1 + needed
    return tuple(found), rest


def config_option_words(words: list[str]) -> tuple[list[str], list[str]]:
    """`python FILE --config NAME PATH run`'s leading words: (the others, the configs' words)."""
    others: list[str] = []
    configs: list[str] = []
    i = 0
    while i < len(words):
        if words[i] in CONFIG_OPTIONS:
            configs += words[i : i + 3]
            i += 3
        else:
            others.append(words[i])
            i += 1
    return others, configs


def looks_like_a_file(word: str) -> bool:
    """A word `flowtui WORD` opens: a path that exists, or one written as a path."""
    return Path(word).exists() or word.endswith(".py") or "/" in word or "\\" in word


def no_such_command(word: str, commands: list[str]) -> str:
    """What to say of `flowtui WORD` when WORD is neither a command nor a file."""
    from difflib import get_close_matches

    close = get_close_matches(word, commands, n=1)
    guess = f"did you mean '{close[0]}'? " if close else ""
    return (
        f"'{word}' is neither a command nor a file; {guess}flowtui FILE opens a flow's .py "
        f"file, and the commands are: {', '.join(commands)} (flowtui -h says more)."
    )


def parameters_in_help(command: Any, args: list[str]) -> str | None:
    """What `flowtui run FILE --help` (and resume's) says after the options: FILE's
    parameters, as Metaflow's `python FILE run --help` lists them, read from the file's text
    (never imported). None when no help is asked for, or FILE is not a flow file that parses.
    `command` is the command's click command, `args` what follows the command's name."""
    _, takes_value = _options(command)
    at = _file_index(args, takes_value)
    if at is None or not ({"--help", "-h"} & set(args)):
        return None
    from flowtui.graph import parse_flow, read_flow_file

    file = args[at]
    try:
        graph = parse_flow(read_flow_file(file), file, _option_value(args[:at], "--flow"))
    except FlowtuiError:
        return None  # the plain help
    text = _parameters_text(graph.flow_name, graph.parameters)
    return text + _configs_text(graph.flow_name, graph.configs) if graph.configs else text


def _configs_text(flow: str, configs: Sequence[Any]) -> str:
    rows = [
        f"\n{flow}'s configs (give them after FILE: --config NAME PATH, a file, or "
        "--config-value NAME JSON, the text):"
    ]
    for c in configs:
        about = [c.help] if c.help else []
        if c.has_default:
            about.append(f"default: {c.default!r}")
        elif c.required:
            about.append("required")
        rows.append(f"  {c.name}" + (f"  {'; '.join(about)}" if about else ""))
    return "\n".join(rows)


def _options(command: Any) -> tuple[set[str], set[str]]:
    """The command's option names, and those of them that take a value."""
    takes_value: set[str] = set()
    own: set[str] = set()
    for param in command.params:
        if param.param_type_name == "option":
            own.update(param.opts, param.secondary_opts)
            if not param.is_flag and not param.count:
                takes_value.update(param.opts)
    return own, takes_value


def _option_value(args: list[str], name: str) -> str | None:
    for i, word in enumerate(args):
        if word == name and i + 1 < len(args):
            return args[i + 1]
        if word.startswith(f"{name}="):
            return word.partition("=")[2]
    return None


def _parameters_text(flow: str, parameters: Sequence[Any]) -> str:
    if not parameters:
        return f"{flow} has no parameters."
    rows = [f"{flow}'s parameters (give them after FILE):"]
    for p in parameters:
        value = " PATH" if p.kind == "include_file" else f" {(p.type or 'value').upper()}"
        about = [p.help] if p.help else []
        if p.computed:
            about.append(f"default: {p.default} (worked out when the run starts)")
        elif p.has_default:
            about.append(f"default: {p.default!r}")
        elif p.required:
            about.append("required")
        rows.append(f"  --{p.name}{value}" + (f"  {'; '.join(about)}" if about else ""))
    return "\n".join(rows)


def _file_index(args: list[str], takes_value: set[str]) -> int | None:
    """Where FILE is among `args`: the first word that is neither an option nor its value."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return i + 1 if i + 1 < len(args) else None
        if arg.startswith("-"):
            i += 2 if "=" not in arg and arg in takes_value else 1
            continue
        return i
    return None


def _parameter_names(file: str) -> set[str]:
    """The parameters of every flow in `file`, by name with dashes as underscores."""
    from flowtui.graph import read_flow_file
    from flowtui.graph.parse import flow_graphs

    try:
        graphs = flow_graphs(read_flow_file(Path(file)), file)
        return {p.name.replace("-", "_") for graph in graphs for p in graph.parameters}
    except (FlowtuiError, OSError, SyntaxError, ValueError):
        return set()
