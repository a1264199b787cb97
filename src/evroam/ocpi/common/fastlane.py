"""The OCPI routes, called without FastAPI's per-request machinery.

Why: on the partner-facing hot paths (an EVSE status PATCH, a real-time authorization)
FastAPI's route matching through included routers, its dependency solving and its
request/response wrappers cost more than the work itself: 30-35% of a request's CPU in
``py-spy`` profiles of ``bench/functional.py`` (2026-11-25), where a minimal FastAPI
route reaches only about half of a bare Starlette endpoint. The OCPI app has no OpenAPI
document to serve, so FastAPI gives it routing, dependencies and exception handlers
only, and those are cheap to do directly for routes of one simple shape.

At start-up, every route of the OCPI routers is looked at once. A route is *direct* when
its endpoint takes only the request, path parameters (plain strings) and dependencies
that are ``async`` functions of the request alone (``ContextDep``,
``FunctionalCallerDep``...), and answers with a ``Response``. Such a route is matched
here with Starlette's own path compiler, its dependencies are awaited in order, the
endpoint is called, and an exception goes to the app's own exception handlers (the OCPI
envelope, with routing headers) exactly as FastAPI would send it. Every other request,
including any that an earlier non-direct route would match first, continues to FastAPI
unchanged, which also answers 404 and 405.

This sits inside the transport and body-limit middlewares and outside the FastAPI app
(``ocpi/app.py`` ``ocpi_edge``), so request IDs, trailing slashes, body limits and
logging context are the same on both paths. ``app`` must be the FastAPI app itself.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from re import Pattern
from typing import Any

from fastapi import Request
from fastapi.params import Depends
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from evroam.ocpi.common.limits import BodyLimitMiddleware

Dependency = Callable[[Request], Awaitable[Any]]
Handler = Callable[[Request, Exception], Awaitable[Response]]


def route_path(scope: Scope) -> str:
    """The path the app's routes match: without the prefix it is mounted at
    (``root_path``), as Starlette's router sees it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("/", ""):
        return path[len(root) :]
    return path


@dataclass(frozen=True, slots=True)
class _Arg:
    """How one endpoint argument is obtained: the request, a path parameter, or a
    dependency awaited with the request."""

    name: str
    kind: str  # "request" | "path" | "dependency" | "check" (awaited, value dropped)
    dependency: Dependency | None = None


@dataclass(frozen=True, slots=True)
class DirectRoute:
    methods: frozenset[str]
    regex: Pattern[str]
    prefix: str
    #: None: FastAPI serves it (kept so that route order is respected).
    endpoint: Callable[..., Awaitable[Response]] | None
    args: tuple[_Arg, ...] = ()


def _direct_dependency(
    dep: Callable[..., Any] | None, substitutes: Mapping[Any, Dependency]
) -> Dependency | None:
    """``dep`` as an async function of the request alone (itself, or the substitute given
    for it), or None: the route is not of the direct shape."""
    if dep is None:
        return None
    if dep in substitutes:
        return substitutes[dep]
    return dep if _takes_request_only(dep) else None


def _plan(
    route: APIRoute,
    path_params: Iterable[str],
    substitutes: Mapping[Any, Dependency],
    outer: Sequence[Depends] = (),
) -> tuple[_Arg, ...] | None:
    """The arguments of ``route``'s endpoint, or None when it is not of the direct shape.
    The dependencies of ``include_router`` (``outer``) and then the route's own come
    first, as FastAPI runs them first; they are awaited for their checks, their values
    dropped."""
    endpoint = route.endpoint
    if not inspect.iscoroutinefunction(endpoint):
        return None
    try:
        hints = typing.get_type_hints(endpoint, include_extras=True)
    except Exception:  # noqa: BLE001 - an unresolvable hint: leave the route to FastAPI
        return None
    returns = hints.get("return")
    if not (isinstance(returns, type) and issubclass(returns, Response)):
        return None
    names = set(path_params)
    args: list[_Arg] = []
    for i, before in enumerate([*outer, *route.dependencies]):
        guard = _direct_dependency(before.dependency, substitutes)
        if guard is None:
            return None
        args.append(_Arg(f"\0route-dependency-{i}", "check", guard))
    for name, param in inspect.signature(endpoint).parameters.items():
        hint = hints.get(name)
        if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            return None
        if hint is Request:
            args.append(_Arg(name, "request"))
        elif name in names and hint is str and param.default is param.empty:
            args.append(_Arg(name, "path"))
        elif typing.get_origin(hint) is typing.Annotated:
            depends = [m for m in typing.get_args(hint)[1:] if isinstance(m, Depends)]
            dep = _direct_dependency(
                depends[0].dependency if len(depends) == 1 else None, substitutes
            )
            if dep is None:
                return None
            args.append(_Arg(name, "dependency", dep))
        else:
            return None
    if {a.name for a in args if a.kind == "path"} != names:
        return None
    return tuple(args)


def _takes_request_only(dep: Callable[..., Any]) -> bool:
    if not inspect.iscoroutinefunction(dep):
        return False
    params = list(inspect.signature(dep).parameters.values())
    if len(params) != 1:
        return False
    try:
        hints = typing.get_type_hints(dep)
    except Exception:  # noqa: BLE001
        return False
    return hints.get(params[0].name) is Request


def direct_routes(
    mounted: Iterable[tuple[str, Iterable[Any]] | tuple[str, Iterable[Any], Sequence[Depends]]],
    substitutes: Mapping[Any, Dependency] | None = None,
) -> list[DirectRoute]:
    """The route table, in FastAPI's order, from (prefix, routes of the router mounted
    there[, the dependencies it was included with]) entries. ``substitutes``: for a
    dependency that FastAPI resolves from more than the request (a ``Security`` scheme,
    say), an async function of the request alone that makes the same decision, so that
    routes using it can still be direct."""
    substitutes = substitutes or {}
    table: list[DirectRoute] = []
    for entry in mounted:
        prefix, routes = entry[0], entry[1]
        outer: Sequence[Depends] = entry[2] if len(entry) > 2 else ()
        for route in routes:
            if not isinstance(route, APIRoute):
                continue
            full = prefix + route.path
            regex, _format, convertors = compile_path(full)
            plain = all(type(c).__name__ == "StringConvertor" for c in convertors.values())
            args = _plan(route, convertors, substitutes, outer) if plain else None
            static = full.split("{", 1)[0]
            table.append(
                DirectRoute(
                    methods=frozenset(route.methods or ()),
                    regex=regex,
                    prefix=static,
                    endpoint=route.endpoint if args is not None else None,
                    args=args or (),
                )
            )
    return table


class IndexedHeaders(Headers):
    """Starlette's ``Headers`` with lookups in a dictionary built once per request.

    Why: ``Headers`` looks a name up by encoding it and scanning the raw list, on every
    ``get``; a functional request reads its headers six to eight times (authorization,
    four routing headers, content type). Same answers (the first of repeated headers,
    case-insensitive names), same raw list for everything else."""

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        super().__init__(raw=raw)
        index: dict[str, str] = {}
        for name, value in reversed(raw):  # the first of repeated headers wins
            index[name.decode("latin-1").lower()] = value.decode("latin-1")
        self._index = index

    def __getitem__(self, key: str) -> str:
        try:
            return self._index[key.lower()]
        except KeyError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return self._index.get(key.lower(), default)

    def __contains__(self, key: Any) -> bool:
        return isinstance(key, str) and key.lower() in self._index


def _with_ids(send: Send, ids: list[tuple[bytes, bytes]]) -> Send:
    async def send_with_ids(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *ids]}
        await send(message)

    return send_with_ids


class FastLaneMiddleware:
    """Serves requests of direct routes (see the module), passes the rest on.

    Used two ways: as a middleware of its own (``__call__``), or by the transport
    middleware, which asks ``match`` and calls ``serve`` with the request IDs to add
    (``ocpi_edge``). Given ``limit``, ``serve`` reads the body itself under that limit
    before calling the route, and answers through the server's own ``send``: no
    ``receive``/``send`` wrappers per request on the hot paths."""

    def __init__(
        self,
        app: ASGIApp,
        routes: list[DirectRoute],
        handlers: Mapping[Any, Callable[..., Any]],
        limit: BodyLimitMiddleware | None = None,
    ) -> None:
        self.app = app
        self.routes = routes
        self.limit = limit
        self.handlers: dict[type, Handler] = {
            k: v for k, v in handlers.items() if isinstance(k, type)
        }

    def match(self, scope: Scope) -> tuple[DirectRoute, dict[str, str]] | None:
        """The direct route of this request and its path parameters, or None: FastAPI's
        to serve (another route, an earlier non-direct one, or none at all)."""
        path = route_path(scope)
        method = scope["method"]
        for route in self.routes:
            if not path.startswith(route.prefix) or method not in route.methods:
                continue
            match = route.regex.match(path)
            if match is None:
                continue
            if route.endpoint is None:
                return None
            return route, match.groupdict()
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.match(scope) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        await self.serve(found[0], found[1], scope, receive, send)

    async def serve(
        self,
        route: DirectRoute,
        params: dict[str, str],
        scope: Scope,
        receive: Receive,
        send: Send,
        ids: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """Call ``route`` and send its answer, with ``ids`` added to its headers."""
        assert route.endpoint is not None
        ids = ids or []
        # What FastAPI's app would have set: routes reach ``request.app.state``.
        scope["app"] = self.app
        scope["path_params"] = params
        request = Request(scope, receive)
        request._headers = IndexedHeaders(scope["headers"])
        try:
            if self.limit is not None:
                body = await self.limit.read_body(scope, receive, _with_ids(send, ids))
                if body is None:  # refused, and answered
                    return
                request._body = body
            kwargs: dict[str, Any] = {}
            for arg in route.args:
                if arg.kind == "request":
                    kwargs[arg.name] = request
                elif arg.kind == "path":
                    kwargs[arg.name] = params[arg.name]
                elif arg.kind == "check":
                    assert arg.dependency is not None
                    await arg.dependency(request)
                else:
                    assert arg.dependency is not None
                    kwargs[arg.name] = await arg.dependency(request)
            response = await route.endpoint(**kwargs)
        except ClientDisconnect:
            # The body stopped: the client went away, or the body limit cut it off and
            # has answered 413 itself. Nothing more to send, as with FastAPI.
            return
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        if type(response) is Response and response.background is None:
            # A plain answer with its body at hand: its two messages, sent straight on.
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [*response.raw_headers, *ids],
                }
            )
            await send({"type": "http.response.body", "body": response.body})
            return
        await response(scope, receive, _with_ids(send, ids) if ids else send)

    def _handler_for(self, exc: Exception) -> Handler | None:
        for cls in type(exc).__mro__:
            handler = self.handlers.get(cls)
            if handler is not None:
                return handler
        return None
