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


# ---------------------------------------------------------------- the other identifiers
# Digest §4; the published patterns with the same two changes as above (ASCII only, no
# literal ``|`` in character classes). Every pattern below is written with ``[0-9]``
# rather than ``\d`` and without look-arounds, so that the wire models can hand the same
# text to pydantic-core's Rust regex engine (where ``\d`` would be Unicode-aware).

#: ISO 15118-1: provider, optional ``-``, ``C`` and eight alphanumerics, optional ``-``,
#: a check character. DIN SPEC 91286: provider, optional ``*``/``-``, six alphanumerics,
#: optional ``*``/``-``, a check digit or ``X``. The published classes ``[\d|A-Za-z]``
#: and ``[\*|\-]`` lose their literal ``|``.
EVCO_ID = re.compile(
    r"^(([A-Za-z]{2}-?[A-Za-z0-9]{3}-?C[A-Za-z0-9]{8}-?[0-9A-Za-z])"
    r"|([A-Za-z]{2}[*-]?[A-Za-z0-9]{3}[*-]?[A-Za-z0-9]{6}[*-]?[0-9X]))$",
    _A,
)
#: Upper-case hex of 8, 14 or 20 characters (4, 7 or 10 bytes). The specification says
#: Hubject upper-cases what it receives, so :func:`is_uid` accepts lower case and
#: :func:`canonical_uid` gives the form to compare and store.
UID = re.compile(r"^([0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})$", _A)
UID_ANY_CASE = re.compile(r"^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{20})$", _A)
#: A GUID: 8-4-4-4-12 alphanumerics (the published pattern is not limited to hex).
SESSION_ID = re.compile(r"^[A-Za-z0-9]{8}(-[A-Za-z0-9]{4}){3}-[A-Za-z0-9]{12}$", _A)
#: emi3 pool ID: an ISO OperatorID, optional ``*``, ``P``, 1-30 alphanumerics or ``*``.
#: The published pattern is unanchored (any string containing a pool ID would pass);
#: anchored here.
CHARGING_POOL_ID = re.compile(r"^[A-Za-z]{2}\*?[A-Za-z0-9]{3}\*?P[A-Za-z0-9*]{1,30}$", _A)
#: ``HashedPIN.Value``: the CPO document's and OpenAPI's class, which admits what bcrypt
#: produces (``$``, ``.``, ``/``); the EMP document's alphanumeric class would refuse
#: every bcrypt hash (digest §4).
HASH_VALUE = re.compile(r"^[0-9A-Za-z.+/=$]{10,100}$", _A)
#: ``+`` and 5 to 15 digits.
PHONE_NUMBER = re.compile(r"^\+[0-9]{5,15}$", _A)
#: ISO 639-1/2T language, optional region, optional script, optional private use.
LANGUAGE_CODE = re.compile(
    r"^[a-z]{2,3}(?:-[A-Z]{2,3}(?:-[a-zA-Z]{4})?)?(?:-x-[a-zA-Z0-9]{1,8})?$", _A
)
#: A ProviderID or ``*`` ("offer to all EMPs", pricing). The published pattern binds its
#: anchors to the alternatives separately (``^A|B$``), so anything starting with a
#: ProviderID passed; anchored as a whole here.
PROVIDER_ID_OR_ALL = re.compile(r"^([A-Za-z]{2}[*-]?[A-Za-z0-9]{3}|\*)$", _A)


def is_evco_id(value: str) -> bool:
    return EVCO_ID.fullmatch(value) is not None


def is_uid(value: str) -> bool:
    """A UID in either case (Hubject upper-cases; compare with :func:`canonical_uid`)."""
    return UID_ANY_CASE.fullmatch(value) is not None


def canonical_uid(value: str) -> str:
    return value.upper()


def is_session_id(value: str) -> bool:
    return SESSION_ID.fullmatch(value) is not None


def is_charging_pool_id(value: str) -> bool:
    return CHARGING_POOL_ID.fullmatch(value) is not None


def is_hash_value(value: str) -> bool:
    return HASH_VALUE.fullmatch(value) is not None


def is_phone_number(value: str) -> bool:
    return PHONE_NUMBER.fullmatch(value) is not None


def is_language_code(value: str) -> bool:
    return LANGUAGE_CODE.fullmatch(value) is not None


def is_provider_id_or_all(value: str) -> bool:
    return PROVIDER_ID_OR_ALL.fullmatch(value) is not None


def provider_of_evco(evco_id: str) -> str:
    """The canonical ProviderID an EvcoID belongs to: the country and the three
    characters after it, in both the ISO and the DIN form (``DE-8EO-CAet5e4XY-3`` and
    ``DE*8EO*Aet5e4*3`` → ``DE8EO``). Needed to route QR, Plug&Charge and remote
    authorizations and for the 019 check (digest §8.8). The caller has validated
    ``evco_id``."""
    return canonical(evco_id)[:5]


def canonical_provider(provider_id: str) -> str:
    """The canonical ProviderID (``DE-8EO``, ``DE*8EO`` and ``de8eo`` → ``DE8EO``)."""
    return canonical(provider_id)
