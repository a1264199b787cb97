"""Error answers of functional modules carry routing headers too (digest §1.6)."""

from __future__ import annotations

from types import SimpleNamespace

from starlette.requests import Request

from evroam.ocpi.common.handlers import routing_for_error


def _request(path: str, headers: dict[str, str] | None = None) -> Request:
    app = SimpleNamespace(
        state=SimpleNamespace(ocpi=SimpleNamespace(own_party_keys={("NL", "EVR")}))
    )
    scope = {
        "type": "http",
        "method": "PUT",
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "query_string": b"",
        "app": app,
    }
    return Request(scope)


def test_a_receiver_error_answers_from_us_to_the_owner_in_the_url() -> None:
    got = routing_for_error(_request("/ocpi/2.2.1/receiver/locations/de/abc/LOC1"))
    assert got == {
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "EVR",
        "OCPI-to-country-code": "DE",
        "OCPI-to-party-id": "ABC",
    }


def test_the_request_routing_headers_are_swapped() -> None:
    got = routing_for_error(
        _request(
            "/ocpi/2.2.1/sender/tokens/U1/authorize",
            {
                "OCPI-from-country-code": "nl",
                "OCPI-from-party-id": "cpo",
                "OCPI-to-country-code": "DE",
                "OCPI-to-party-id": "MSP",
            },
        )
    )
    assert got is not None
    assert (got["OCPI-from-country-code"], got["OCPI-from-party-id"]) == ("DE", "MSP")
    assert (got["OCPI-to-country-code"], got["OCPI-to-party-id"]) == ("NL", "CPO")


def test_configuration_modules_get_none() -> None:
    assert routing_for_error(_request("/ocpi/2.2.1/credentials")) is None
    assert routing_for_error(_request("/ocpi/2.2.1/receiver/hubclientinfo/NL/ABC")) is None
