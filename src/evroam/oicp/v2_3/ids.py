"""OICP identifiers: validation as the specification defines them, and the canonical form
in which they are compared.

The published patterns are used with two deliberate changes, both noted where they
apply: they are compiled with ``re.ASCII`` (``\\d`` must not match other scripts'
digits), and character classes written ``[\\*|\\-]`` lose the literal ``|`` the
publication let in by mistake (``DE|8EO`` is not a ProviderID; digest §8.7).

Comparison is on the canonical form: upper case, the ``*`` and ``-`` separators removed
(``DE*ABC`` and ``DEABC`` are one operator; digest §6). IDs are *stored and returned* as
sent; only comparisons use the canonical form.
"""

from __future__ import annotations

import re

_A = re.ASCII

#: ISO form: country (alpha-2), optional ``*``, three alphanumerics; DIN form: ``+``
#: optional, phone country code, ``*``, three digits. No ``-`` in an OperatorID.
OPERATOR_ID = re.compile(r"^(([A-Za-z]{2}\*?[A-Za-z0-9]{3})|(\+?[0-9]{1,3}\*[0-9]{3}))$", _A)
#: Country (alpha-2), an optional ``*`` or ``-``, three alphanumerics.
PROVIDER_ID = re.compile(r"^[A-Za-z]{2}[*-]?[A-Za-z0-9]{3}$", _A)
#: ISO form needs the ``E`` after the operator part; lower case is accepted as the
#: OpenAPI file does (the prose pattern is upper case only), and compared upper-cased.
EVSE_ID = re.compile(
    r"^(([A-Za-z]{2}\*?[A-Za-z0-9]{3}\*?E[A-Za-z0-9*]{1,30})|(\+?[0-9]{1,3}\*[0-9]{3}\*[0-9*]{1,32}))$",
    _A,
)


def canonical(value: str) -> str:
    """The form IDs are compared in: upper case, no ``*`` or ``-`` separators."""
    return value.upper().replace("*", "").replace("-", "")


def is_operator_id(value: str) -> bool:
    return OPERATOR_ID.fullmatch(value) is not None


def is_provider_id(value: str) -> bool:
    return PROVIDER_ID.fullmatch(value) is not None


def is_evse_id(value: str) -> bool:
    return EVSE_ID.fullmatch(value) is not None


def operator_of_evse(evse_id: str) -> str:
    """The canonical OperatorID an EvseID belongs to: country and three characters in
    the ISO form (``DE*AB7*E840`` → ``DEAB7``), ``+cc*ddd`` in the DIN form
    (``+49*810*000`` → ``+49810``). The caller has validated ``evse_id``."""
    if evse_id.startswith("+") or evse_id[:1].isdigit():
        country, operator = evse_id.lstrip("+").split("*")[:2]
        return f"+{country}{operator}"
    compact = canonical(evse_id)
    return compact[:5]


def canonical_operator(operator_id: str) -> str:
    """The canonical OperatorID, with the DIN form always led by ``+``."""
    if operator_id[:1] == "+" or operator_id[:1].isdigit():
        return "+" + canonical(operator_id.lstrip("+"))
    return canonical(operator_id)
