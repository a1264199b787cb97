"""parse_json: a partner's body -> JSON value, or MalformedJson (HTTP 400), never a crash."""

from __future__ import annotations

import json
import random
import sys
import time
from typing import Any

import pytest

from evroam.ocpi.common.errors import MalformedJson
from evroam.ocpi.common.jsonbody import max_nesting, parse_json


def nested(depth: int, opener: str = "[", closer: str = "]") -> bytes:
    return (opener * depth + closer * depth).encode()


def objects(depth: int) -> bytes:
    return ('{"a":' * depth + "1" + "}" * depth).encode()


def refused(raw: bytes, **kwargs: Any) -> str:
    with pytest.raises(MalformedJson) as info:
        parse_json(raw, **kwargs)
    assert info.value.http_status == 400
    return info.value.message


def test_depth_64_is_accepted() -> None:
    assert parse_json(nested(64)) is not None
    assert parse_json(objects(64)) is not None


@pytest.mark.parametrize("raw", [nested(65), objects(65), b'[{"a": ' * 33 + b"1" + b"}]" * 33])
def test_depth_65_is_refused(raw: bytes) -> None:
    assert refused(raw) == "request body nests deeper than 64 levels"


def test_max_depth_is_a_parameter() -> None:
    assert parse_json(nested(3), max_depth=3) == [[[]]]
    assert refused(nested(4), max_depth=3) == "request body nests deeper than 3 levels"


@pytest.mark.parametrize(
    "raw",
    [
        nested(100_000),
        b"[" * 100_000,  # never closed: the decoder would still recurse before failing
        b"[" * 100_000 + b"}",
        b'{"a":' * 100_000,
    ],
)
def test_100_000_deep_is_refused_fast_without_recursion(raw: bytes) -> None:
    start = time.perf_counter()
    assert refused(raw) == "request body nests deeper than 64 levels"
    assert time.perf_counter() - start < 0.5


def test_brackets_inside_strings_do_not_count() -> None:
    text = "[" * 200 + "{" * 200
    assert parse_json(json.dumps([text]).encode()) == [text]
    assert parse_json(json.dumps({"k[": "]]]}", text: 1}).encode()) == {"k[": "]]]}", text: 1}


def test_escaped_quotes_do_not_end_a_string() -> None:
    text = '\\"' + "[" * 200  # an escaped quote, then brackets still inside the string
    assert parse_json(f'["{text}"]'.encode()) == ['"' + "[" * 200]
    text = '\\\\\\"' + "[" * 200  # escaped backslash, escaped quote: still inside
    assert parse_json(f'["{text}"]'.encode()) == ['\\"' + "[" * 200]


def test_escaped_backslash_before_a_quote_ends_the_string() -> None:
    # "\\" is a whole string: the brackets after it are structure and are counted.
    raw = b'["\\\\", ' + nested(65) + b"]"
    assert refused(raw) == "request body nests deeper than 64 levels"
    assert parse_json(b'["\\\\", ' + nested(63) + b"]")[0] == "\\"


def test_unterminated_string_after_deep_prefix_is_invalid_not_a_crash() -> None:
    message = refused(b'["' + b"[" * 100_000)
    assert message.startswith("request body is not valid JSON:")


def test_max_nesting_matches_the_decoded_depth() -> None:
    """Random documents whose strings are full of quotes, backslashes and brackets."""
    rng = random.Random(7)
    alphabet = '[]{}"\\ab\u00e9\u20ac'

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))

    def build(depth: int) -> Any:
        if depth == 0 or rng.random() < 0.2:
            return rng.choice([text(), 1, None, 2.5])
        children = [build(depth - 1) for _ in range(rng.randint(0, 3))]
        return children if rng.random() < 0.5 else {text(): c for c in children}

    def depth_of(value: Any) -> int:
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            return 1 + max(map(depth_of, value), default=0)
        return 0

    for _ in range(500):
        doc = build(rng.randint(0, 12))
        depth = depth_of(doc)
        for ensure_ascii in (True, False):
            raw = json.dumps(doc, ensure_ascii=ensure_ascii).encode()
            assert max_nesting(raw) == depth, raw
            assert parse_json(raw, max_depth=max(depth, 1)) == doc


def test_int_longer_than_the_digit_limit_is_400() -> None:
    assert parse_json(b"[" + b"9" * 100 + b"]") == [int("9" * 100)]
    message = refused(b'{"kwh": ' + b"9" * 5000 + b"}")
    assert message.startswith("request body is not valid JSON:")
    assert "sys." not in message  # nothing about the node's interpreter


def test_huge_int_is_refused_even_with_the_interpreter_limit_off() -> None:
    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        assert refused(b"-" + b"1" * 50_000).startswith("request body is not valid JSON:")
        assert parse_json(b"123") == 123
    finally:
        sys.set_int_max_str_digits(previous)


@pytest.mark.parametrize("raw", [b"1e999", b"[-1e400]", b"NaN", b'{"p": Infinity}', b"-Infinity"])
def test_non_finite_numbers_are_refused(raw: bytes) -> None:
    assert refused(raw).startswith("request body is not valid JSON:")


def test_floats_still_parse() -> None:
    assert parse_json(b'{"price": 0.25, "e": 1.5e3}') == {"price": 0.25, "e": 1500.0}


@pytest.mark.parametrize(
    "raw",
    [b'{"name": "\xff"}', b'"\xc3"', '{"a": 1}'.encode("utf-16"), b'{"a": "\xed\xa0\x80"}'],
)
def test_invalid_utf8_is_refused(raw: bytes) -> None:
    assert refused(raw).startswith("request body is not valid JSON: not UTF-8")


def test_utf8_text_and_bom_are_accepted() -> None:
    assert parse_json('{"name": "Zürich €"}'.encode()) == {"name": "Zürich €"}
    assert parse_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


def test_lone_surrogate_escape_is_refused_but_pairs_are_fine() -> None:
    assert refused(b'{"name": "\\ud800x"}').endswith("unpaired UTF-16 surrogate escape")
    assert parse_json(b'"\\ud83d\\ude00"') == "\U0001f600"


def test_empty_body_is_no_body() -> None:
    assert parse_json(b"") is None and parse_json(b"null") is None


@pytest.mark.parametrize("raw", [b" ", b"{", b'{"a": 1,}', b"[1] [2]", b"{'a': 1}"])
def test_invalid_json_says_so(raw: bytes) -> None:
    assert refused(raw).startswith("request body is not valid JSON: ")
