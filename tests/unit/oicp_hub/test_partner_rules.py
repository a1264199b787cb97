"""Partner rules without a database: allowlists, network parsing, the checks of a new
partner, and the acting-ID checks of ``deps.py``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from evroam.core.oicp import (
    InvalidOicpPartner,
    OicpPartner,
    OicpRole,
    identity_key,
    normalize_networks,
)
from evroam.oicp.v2_3.deps import Caller, acting_operator, acting_provider
from evroam.oicp.v2_3.errors import UnauthorizedAccess
from evroam.services.oicp.partners import PartnerDraft, build_partner, check_endpoint

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def partner(
    partner_id: str = "DE*ABC",
    canonical: str = "DEABC",
    roles: frozenset[OicpRole] = frozenset({OicpRole.CPO}),
    networks: tuple[str, ...] = (),
) -> OicpPartner:
    return OicpPartner(partner_id, canonical, roles, partner_id, networks)


@pytest.mark.parametrize(
    ("networks", "address", "allowed"),
    [
        ((), "203.0.113.7", True),
        ((), None, True),
        (("10.0.0.0/8",), "10.20.30.40", True),
        (("10.0.0.0/8",), "127.0.0.1", False),
        (("10.0.0.0/8",), None, False),
        (("10.0.0.0/8",), "not-an-address", False),
        (("127.0.0.1/32",), "::ffff:127.0.0.1", True),
        (("2001:db8::/32",), "2001:db8::1", True),
        (("2001:db8::/32",), "2001:db9::1", False),
        (("fe80::/10",), "fe80::1%eth0", True),
    ],
)
def test_allowlist(networks: tuple[str, ...], address: str | None, allowed: bool) -> None:
    assert partner(networks=networks).allows(address) is allowed


def test_networks_are_normalised_and_bad_ones_named() -> None:
    assert normalize_networks(["10.0.0.0/8", " 192.0.2.1 ", "10.0.0.0/8", "2001:DB8::/32"]) == (
        "10.0.0.0/8",
        "192.0.2.1/32",
        "2001:db8::/32",
    )
    for bad in ("10.0.0.1/8", "example.com", "10.0.0.0/33", ""):
        with pytest.raises(ValueError, match="not an IP address or CIDR block"):
            normalize_networks([bad])


def test_identity_key_compares_as_ids_do() -> None:
    assert identity_key("de*abc") == identity_key("DEABC") == identity_key(" DE-ABC ")
    assert identity_key("DE*ABC") != identity_key("DE*ABD")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x.example",
        "https://",
        "x.example/path",
        "https://user:pw@x.example",
        "https://x.example/?q=1",
        "https://x.example/#f",
        "https://x.example:99999",
        "https://x.example/" + "a" * 300,
    ],
)
def test_bad_endpoints_are_refused(url: str) -> None:
    with pytest.raises(InvalidOicpPartner, match="endpoint"):
        check_endpoint(url)


def test_endpoint_loses_its_trailing_slash() -> None:
    assert check_endpoint("https://cpo.example.com/oicp/") == "https://cpo.example.com/oicp"
    assert check_endpoint("  ") is None


def test_build_partner_defaults_and_refusals() -> None:
    draft = PartnerDraft("DE*ABC", "DEABC", frozenset({OicpRole.CPO}), name=" ABC ")
    built = build_partner(draft, NOW)
    assert (built.cert_identity, built.name, built.allowed_networks) == ("DE*ABC", "ABC", ())
    with pytest.raises(InvalidOicpPartner, match="roles"):
        build_partner(PartnerDraft("DE*ABC", "DEABC", frozenset()), NOW)
    with pytest.raises(InvalidOicpPartner, match="control characters"):
        build_partner(PartnerDraft("DE*ABC", "DEABC", draft.roles, name="a\x1b[2J"), NOW)
    with pytest.raises(InvalidOicpPartner, match="allowed networks"):
        build_partner(PartnerDraft("DE*ABC", "DEABC", draft.roles, allowed_networks=["x"]), NOW)


def test_acting_ids_compare_canonically_and_need_the_role() -> None:
    both = partner("DE*BTH", "DEBTH", frozenset({OicpRole.CPO, OicpRole.EMP}))
    cpo = partner()
    caller = Caller((cpo, both), "127.0.0.1")
    assert acting_operator(caller, "deabc", "DE*ABC") is cpo
    assert acting_operator(caller, "DE*BTH") is both
    assert acting_provider(caller, "DE-BTH", "debth") is both
    with pytest.raises(UnauthorizedAccess):
        acting_provider(caller, "DE*ABC")  # a CPO only
    with pytest.raises(UnauthorizedAccess, match="body"):
        acting_operator(caller, "DE*ABC", "DE*BTH")
    with pytest.raises(UnauthorizedAccess):
        acting_operator(caller, "DE*XYZ")
    with pytest.raises(UnauthorizedAccess):
        acting_operator(caller, "not an id")
    with pytest.raises(UnauthorizedAccess):
        acting_operator(caller, "DE*ABC", "garbage")
