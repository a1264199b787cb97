"""Request body bytes -> JSON value, safe against what a partner can throw at ``json.loads``.

Every body a partner sends is untrusted (DESIGN "Partners are untrusted"), and ``json.loads``
has edges that turn bad input into a crash instead of an HTTP 400
(OCPI 2.2.1 transport_and_format §"Response format": bad JSON syntax is an HTTP error):

* Nesting: the decoder recurses once per ``[``/``{``, so ``[[[[...]]]]`` 100 000 deep raises
  ``RecursionError`` (answered 3000 with tracebacks). :func:`max_nesting` measures the depth
  first, without recursing and in C-speed ``bytes`` operations (no per-byte Python loop: it
  runs on every body up to ``max_body_bytes``).
* Numbers: an integer longer than the interpreter's ``sys.get_int_max_str_digits()`` raises a
  plain ``ValueError`` (and with the limit switched off, takes quadratic time); ``1e999``
  silently becomes ``inf`` and the non-JSON literals ``NaN``/``Infinity`` are accepted. An
  infinite or NaN value would later be written out as invalid JSON to other partners.
* Text: OCPI is UTF-8 (transport_and_format §"JSON / HTTP implementation guide"); other
  encodings and ``\\ud800``-style lone surrogates (which no database driver can store) are
  refused here rather than failing deep inside a repository.

Every refusal is :class:`MalformedJson` (HTTP 400) with a message about the input only.
"""

from __future__ import annotations

import json
import math
import re
import sys
from itertools import accumulate
from typing import Any

from evroam.ocpi.common.errors import MalformedJson

DEFAULT_MAX_DEPTH = 64
# Integers beyond this many digits are refused even when the interpreter's own limit
# (``sys.set_int_max_str_digits``) has been raised or switched off: int() is quadratic.
MAX_INT_DIGITS = 4300

_BOM = b"\xef\xbb\xbf"
# Every byte but the four brackets and the quote: deleted by bytes.translate.
_NOT_STRUCTURE = bytes(range(256)).translate(None, b'[]{}"')
# Openers -> 1, closers -> 255 (-1 as a signed char), for the running sum.
_SIGNED = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
# A \uXXXX escape of a UTF-16 surrogate: only then can the result hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class _NumberOutOfRange(ValueError):
    """Raised by the number hooks; its message is safe to show the partner."""


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NumberOutOfRange(f"number {text[:20]} is out of range")
    return value


def _no_constant(text: str) -> Any:
    raise _NumberOutOfRange(f"{text} is not a JSON value")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _NumberOutOfRange(f"integer longer than {MAX_INT_DIGITS} digits")
    return int(text)


# Decoders are immutable configuration, built once. The int hook costs a Python call per
# integer, so it is only used when the interpreter's own digit limit does not already apply.
_DECODER = json.JSONDecoder(parse_float=_finite_float, parse_constant=_no_constant)
_BOUNDED_DECODER = json.JSONDecoder(
    parse_float=_finite_float, parse_constant=_no_constant, parse_int=_bounded_int
)


def max_nesting(raw: bytes) -> int:
    """Deepest ``[``/``{`` nesting in ``raw``, counting only brackets outside strings.

    Iterative and linear. Escapes are paired left to right exactly as inside a JSON string:
    dropping ``\\\\`` pairs, then ``\\"``, leaves only the quotes that open or close strings.
    Brackets are inside a string when an odd number of those quotes precede them, so adjacent
    quotes can be dropped in pairs without changing that parity, and what is left is split
    on quotes, keeping the even (outside) pieces. An unterminated string hides the brackets
    after it, as it does for the decoder.

    Where ``raw`` is not valid JSON the count may differ from the decoder's view only after
    the first error, where the decoder stops: the depth it reaches is never more than this.
    """
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = raw.translate(None, _NOT_STRUCTURE)
    if b'"' in structure:
        structure = structure.replace(b'""', b"")
        if b'"' in structure:
            structure = b"".join(structure.split(b'"')[::2])
    steps = memoryview(structure.translate(_SIGNED)).cast("b")
    return max(accumulate(steps), default=0)


def parse_json(raw: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Decode a request body, or raise :class:`MalformedJson` saying what is wrong with it.

    An empty body is no body: ``None``, as is a JSON ``null``, so the caller answers both
    with its own "body is missing" (OCPI 2001) rather than a JSON syntax error.
    """
    if not raw:
        return None
    if raw.startswith(_BOM):  # allowed by RFC 8259 §8.1 to be ignored; some stacks send it
        raw = raw[len(_BOM) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedJson(
            f"request body is not valid JSON: not UTF-8 at byte {exc.start}"
        ) from None
    # Cheap bound first: with at most max_depth openers the body cannot nest deeper.
    if raw.count(b"[") + raw.count(b"{") > max_depth and max_nesting(raw) > max_depth:
        raise MalformedJson(f"request body nests deeper than {max_depth} levels")
    limit = sys.get_int_max_str_digits()
    decoder = _DECODER if 0 < limit <= MAX_INT_DIGITS else _BOUNDED_DECODER
    try:
        data = decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise MalformedJson(f"request body is not valid JSON: {exc}") from None
    except _NumberOutOfRange as exc:
        raise MalformedJson(f"request body is not valid JSON: {exc}") from None
    except ValueError:  # the interpreter's integer digit limit
        raise MalformedJson("request body is not valid JSON: integer has too many digits") from None
    except RecursionError:  # only if a caller chose a max_depth near the stack limit
        raise MalformedJson(f"request body nests deeper than {max_depth} levels") from None
    if _SURROGATE_ESCAPE.search(raw) and not _encodable(data):
        raise MalformedJson("request body is not valid JSON: unpaired UTF-16 surrogate escape")
    return data


def _encodable(data: Any) -> bool:
    """Whether every string in ``data`` is valid Unicode (valid \\u pairs were joined by the
    decoder, so any surrogate left is a lone one). Depth is already bounded."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


__all__ = ["DEFAULT_MAX_DEPTH", "MAX_INT_DIGITS", "max_nesting", "parse_json"]
