"""The OCPI fast lane (``ocpi/common/fastlane.py``): which routes it calls directly,
and that a direct call answers as FastAPI would (path parameters, dependencies, the
app's exception handlers, route order, 404/405 left to FastAPI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from evroam.config import Settings
from evroam.ocpi.app import build_ocpi_app, enabled_interfaces
from evroam.ocpi.common.fastlane import FastLaneMiddleware, IndexedHeaders, direct_routes
from evroam.ocpi.common.limits import BodyLimitMiddleware
from evroam.ocpi.common.transport import OcpiTransportMiddleware

calls: list[str] = []


class Refused(Exception):
    pass


async def who(request: Request) -> str:
    calls.append("dependency")
    return request.headers.get("x-who", "nobody")


WhoDep = Annotated[str, Depends(who)]
router = APIRouter()


@router.get("/items/special")
async def special(limit: int = 3) -> Response:
    """Not direct (a query parameter FastAPI converts): FastAPI serves it, and it wins
    over the direct route below that would also match."""
    calls.append("special")
    return JSONResponse({"special": limit})


@router.get("/items/{item_id}")
async def item(item_id: str, request: Request, caller: WhoDep) -> Response:
    # FastAPI's router puts the matched endpoint in the scope; the fast lane does not.
    calls.append("item via fastapi" if "endpoint" in request.scope else "item")
    if item_id == "bad":
        raise Refused(item_id)
    return JSONResponse({"item": item_id, "caller": caller, "path": request.url.path})


def make_app(lane: bool = True) -> FastAPI:
    app = FastAPI()

    async def refused(request: Request, exc: Exception) -> Response:
        return JSONResponse({"refused": str(exc)}, status_code=418)

    app.add_exception_handler(Refused, refused)
    app.include_router(router, prefix="/v1")
    if not lane:
        return app
    app.add_middleware(
        FastLaneMiddleware,
        routes=direct_routes([("/v1", router.routes)]),
        handlers=app.exception_handlers,
    )
    return app


async def _get(app: FastAPI, path: str, **kw: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path, **kw)  # type: ignore[arg-type]


def test_only_routes_of_the_simple_shape_are_direct() -> None:
    table = direct_routes([("/v1", router.routes)])
    assert [(r.endpoint.__name__ if r.endpoint else None) for r in table] == [None, "item"]


async def test_a_direct_route_gets_its_path_parameters_and_dependencies() -> None:
    calls.clear()
    resp = await _get(make_app(), "/v1/items/42", headers={"x-who": "NL-ABC"})
    assert resp.json() == {"item": "42", "caller": "NL-ABC", "path": "/v1/items/42"}
    assert calls == ["dependency", "item"]
    calls.clear()
    resp = await _get(make_app(lane=False), "/v1/items/42", headers={"x-who": "NL-ABC"})
    assert resp.json()["caller"] == "NL-ABC"
    assert calls == ["dependency", "item via fastapi"]  # the control


async def test_a_direct_route_error_goes_to_the_apps_handler() -> None:
    resp = await _get(make_app(), "/v1/items/bad")
    assert resp.status_code == 418 and resp.json() == {"refused": "bad"}


async def test_an_earlier_route_served_by_fastapi_keeps_its_precedence() -> None:
    calls.clear()
    resp = await _get(make_app(), "/v1/items/special", params={"limit": "7"})
    assert resp.json() == {"special": 7}
    assert calls == ["special"]


async def test_unknown_paths_and_methods_are_fastapis_to_answer() -> None:
    app = make_app()
    assert (await _get(app, "/v1/nothing")).status_code == 404
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post("/v1/items/42")).status_code == 405


def test_every_ocpi_221_route_is_direct() -> None:
    """The node's own routes all have the simple shape today; a route that stops having
    it still works (through FastAPI), but loses the fast lane: this says which."""
    settings = Settings(
        parties=[
            {"country_code": "NL", "party_id": "CPO", "role": "CPO"},
            {"country_code": "DE", "party_id": "MSP", "role": "EMSP"},
        ]
    )
    build_ocpi_app(settings)
    mounted = [(f"/2.2.1/{i.path}", i.router.routes) for i in enabled_interfaces(settings, "2.2.1")]
    slow = [r.regex.pattern for r in direct_routes(mounted) if r.endpoint is None]
    assert slow == []


def test_indexed_headers_answer_as_starlettes() -> None:
    raw = [(b"authorization", b"Token a"), (b"x-dup", b"first"), (b"x-dup", b"second")]
    headers = IndexedHeaders(raw)
    assert headers["Authorization"] == headers.get("AUTHORIZATION") == "Token a"
    assert headers["x-dup"] == Headers(raw=raw)["x-dup"] == "first"
    assert "X-Dup" in headers and "x-none" not in headers and headers.get("x-none") is None
    assert headers.getlist("x-dup") == ["first", "second"]


echo_router = APIRouter()


@echo_router.post("/echo/{what}")
async def echo(what: str, request: Request) -> Response:
    calls.append("echo")
    return JSONResponse({"what": what, "length": len(await request.body())})


def edge(limit: int = 100) -> OcpiTransportMiddleware:
    """The OCPI edge's composition (``ocpi_edge``) around a small app."""
    app = FastAPI()
    app.include_router(echo_router)
    limited = BodyLimitMiddleware(app, limit)
    lane = FastLaneMiddleware(
        app, direct_routes([("", echo_router.routes)]), app.exception_handlers, limited
    )
    return OcpiTransportMiddleware(limited, lane=lane)


async def _post(app: object, path: str, **kw: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post(path, **kw)  # type: ignore[arg-type]


async def test_the_lane_reads_the_body_and_answers_with_the_request_ids() -> None:
    calls.clear()
    resp = await _post(edge(), "/echo/x", content=b"y" * 100, headers={"x-request-id": "r-1"})
    assert resp.json() == {"what": "x", "length": 100} and calls == ["echo"]
    assert resp.headers["x-request-id"] == "r-1" and resp.headers["x-correlation-id"]


async def test_the_lane_refuses_a_body_over_the_limit_before_the_route_runs() -> None:
    calls.clear()

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"y" * 30

    declared = await _post(edge(), "/echo/x", content=b"y" * 101, headers={"x-request-id": "r-2"})
    streamed = await _post(edge(), "/echo/x", content=chunks(), headers={"x-request-id": "r-3"})
    for resp, rid in ((declared, "r-2"), (streamed, "r-3")):
        assert resp.status_code == 413 and "larger than 100 bytes" in resp.text
        assert resp.headers["x-request-id"] == rid
    assert calls == []
