"""Walking a large JSON body one array element at a time (EVSE data full loads).

Why: an eRoamingPushEvseData full load of 50,000 EVSEs is a 60 MB body. Validated as
one model it held 50,000 record models at once, about 600 MB (``bench/oicp_data.py``:
peak RSS 840 MB against a 300 MB target). Walked instead, each record is validated from
its own span of the text, turned into what the store keeps, and dropped before the next.

The walker parses only the structure around the records (the braces, brackets, commas
and colons of the enclosing objects); every key and value, and every element it hands
out, is decoded by the standard library's JSON decoder (``raw_decode``, its C scanner),
so what is accepted as JSON is exactly what ``json.loads`` accepts. An element's span is
validated by pydantic's own JSON parser (``model_validate_json``), so a record is read
exactly as when the whole body went through it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class JsonShapeError(ValueError):
    """The text is not JSON, or not the shape being walked; ``str()`` says where."""


class Walker:
    """A cursor over one JSON text. Methods consume what they name and move on."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _space(self) -> None:
        match = _SPACE.match(self.text, self.pos)
        assert match is not None  # the pattern matches the empty string
        self.pos = match.end()

    def peek(self) -> str:
        """The next significant character ('' at the end)."""
        self._space()
        return self.text[self.pos : self.pos + 1]

    def _take(self, char: str) -> None:
        if self.peek() != char:
            found = self.text[self.pos : self.pos + 1] or "the end"
            raise JsonShapeError(f"expected {char!r} at character {self.pos}, found {found!r}")
        self.pos += 1

    def value(self) -> Any:
        """The next value, decoded whole."""
        self._space()
        try:
            value, self.pos = _DECODER.raw_decode(self.text, self.pos)
        except json.JSONDecodeError as exc:
            raise JsonShapeError(exc.msg + f" at character {exc.pos}") from None
        return value

    def span(self) -> str:
        """The text of the next value (decoded once to find its end, then dropped)."""
        self._space()
        start = self.pos
        self.value()
        return self.text[start : self.pos]

    def members(self) -> Iterator[str]:
        """The keys of the object that starts here; after each key the caller consumes
        its value (``value``, ``span``, ``members``, ``elements``)."""
        self._take("{")
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            if self.peek() != '"':
                raise JsonShapeError(f"expected a key at character {self.pos}")
            key = self.value()
            self._take(":")
            before = self.pos
            yield key
            if self.pos == before:
                raise RuntimeError("the caller did not consume the value of " + repr(key))
            if self.peek() == ",":
                self.pos += 1
                continue
            self._take("}")
            return

    def elements(self) -> Iterator[str]:
        """The text of each element of the array that starts here, one at a time."""
        self._take("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.span()
            if self.peek() == ",":
                self.pos += 1
                continue
            self._take("]")
            return

    def end(self) -> None:
        """Nothing but white space may follow the value walked."""
        if self.peek():
            raise JsonShapeError(f"extra data at character {self.pos}")
