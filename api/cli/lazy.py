"""Command groups imported when they are used, so ``qoltanba --help`` imports none of them (issue 21, item 7).

The root command lists every command and group from a table of names,
modules and one-line summaries (api/cli/__init__.py). A group's module is
imported only when one of its commands runs, its help is shown or the
shell completes it; the listing of ``qoltanba --help`` is written from the
summaries alone. Each module defines its commands on its own ``app``
(``typer.Typer``): a group is that whole Typer, a top-level command is one
command of it, picked by name.

This is click's "lazily loading subcommands" pattern, on Typer's group
class (``typer.Typer(cls=...)``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class Lazy:
    """``name`` on the root: module ``module``'s ``app`` as a group, or its command ``command`` alone."""

    name: str
    module: str
    summary: str
    command: str | None = None

    def load(self) -> Any:
        """The click command, built from the module's Typer (importing the module now)."""
        app = importlib.import_module(self.module).app
        group = typer.main.get_group(app)
        found = group if self.command is None else group.commands[self.command]
        found.name = self.name
        return found

    def stub(self) -> TyperCommand:
        """A stand-in holding only the summary, for the root's listing."""
        return TyperCommand(name=self.name, help=self.summary, rich_markup_mode=None)


class _Commands(MutableMapping):
    """The root's commands by name: every name in the table, each loaded on first look-up."""

    def __init__(self, table: tuple[Lazy, ...], loaded: Mapping[str, Any]) -> None:
        self.table = {entry.name: entry for entry in table}
        self.loaded = dict(loaded)

    def __getitem__(self, name: str) -> Any:
        if name not in self.loaded:
            self.loaded[name] = self.table[name].load()   # KeyError for an unknown name, as a dict
        return self.loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self.loaded.pop(name, None)
        self.table.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        yield from self.table
        yield from (name for name in self.loaded if name not in self.table)

    def __len__(self) -> int:
        return len(set(self.table) | set(self.loaded))

    def listed(self, name: str) -> Any:
        """The loaded command, or the table's stand-in: listing never imports a module."""
        return self.loaded.get(name) or self.table[name].stub()


def lazy_group(table: tuple[Lazy, ...]) -> type[TyperGroup]:
    """A Typer group class whose commands are ``table``'s, loaded when used."""

    class LazyGroup(TyperGroup):
        def __init__(self, *, commands: Any = None, **attrs: Any) -> None:
            super().__init__(**attrs)
            self.commands = _Commands(table, self.commands if commands is None else dict(commands))

        def list_commands(self, ctx: Any) -> list[str]:
            return list(self.commands)

        def format_commands(self, ctx: Any, formatter: Any) -> None:
            # TyperGroup.format_commands, reading the summaries instead of loading every group.
            commands = [(name, self.commands.listed(name)) for name in self.list_commands(ctx)]
            commands = [(name, command) for name, command in commands if not command.hidden]
            if commands:
                limit = formatter.width - 6 - max(len(name) for name, _ in commands)
                with formatter.section("Commands"):
                    formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in commands])

    return LazyGroup


__all__ = ["Lazy", "lazy_group"]
