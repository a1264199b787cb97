"""What every ``evroam`` command shares: safe printing and plain help.

Most of what the ``partners`` commands print was written by someone else: a partner chose
its business name, website and endpoint URLs, and a node's error details quote partners'
answers. Such text must reach the operator's terminal as text, so

* nothing is ever printed through Rich markup (``[/x]`` in a name would crash the print,
  ``[bold]`` would restyle it): values go into :class:`rich.text.Text`, and the consoles
  here have markup, emoji codes and highlighting switched off;
* control characters are shown escaped (``\\x1b[2J`` prints as those seven characters), so
  a partner cannot clear the screen, move the cursor, retitle the window or hide text
  behind bidirectional overrides.

Help is click's plain layout, with the type names typer would add (``<str>``,
``<list[str]>``, ``<bool>``) replaced by each option's metavar.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperArgument, TyperCommand, TyperOption

# C0 controls, DEL, C1 controls (0x9b is a one-byte CSI on some terminals), the Unicode line
# and paragraph separators, and the bidirectional embeddings, overrides and isolates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(value: object) -> str:
    """``value`` as one line of harmless text: control characters written as escapes."""
    return _UNSAFE.sub(_escaped, "" if value is None else str(value))


def text(*parts: object, style: str | None = None) -> Text:
    """Join cleaned parts into a Text, never parsed as markup."""
    return Text("".join(clean(p) for p in parts), style=style or "")


def console(*, stderr: bool = False) -> Console:
    """A console that prints text as given: no markup, no emoji codes, no highlighting of
    numbers or dates. Rich drops colours and styles by itself when the output is not a
    terminal (and when ``NO_COLOR`` is set)."""
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False)


def line(out: Console, *parts: object, style: str | None = None) -> None:
    """Print one line that is never wrapped nor cut: a long URL stays whole (the terminal
    may fold it on screen, but copying or piping it gives the URL)."""
    out.print(text(*parts, style=style), soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` (cleaned) on stderr; return the exit to raise."""
    typer.echo(f"error: {clean(message)}", err=True)
    return typer.Exit(code)


def read_secret_file(path: Path, what: str) -> str:
    """A token kept in a file (so it is not in the process list). The line break at its
    end, as editors and ``echo`` write it, is not part of the token."""
    try:
        value = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read the {what} file {path}: {exc}", 2) from None
    value = value.rstrip("\r\n")
    if not value:
        raise fail(f"the {what} file {path} is empty", 2)
    return value


# ---------------------------------------------------------------------- help without type names


class _Option(TyperOption):
    """An option whose help shows its metavar (or nothing, for a flag), not a Python type."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None if self.is_flag else self.metavar


class _Argument(TyperArgument):
    """An argument whose help shows its metavar only, written as click writes it."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        return name if self.required else f"[{name}]"


class Command(TyperCommand):
    """A typer command whose help reads ``--node URL`` rather than ``--node <str>``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperOption:
                param.__class__ = _Option
            elif type(param) is TyperArgument:
                param.__class__ = _Argument


def new_app(help_text: str) -> typer.Typer:
    """A typer app with plain help (no boxes, help texts not parsed as markup). Typer's
    pretty tracebacks are off: they print local variables, and ours hold tokens."""
    return typer.Typer(
        help=help_text,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
    )
