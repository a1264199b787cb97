"""``evroam data import|export|show``: the node's own OCPI objects (locations, tariffs,
tokens, sessions, CDRs), through its operator API.

Import takes one OCPI object, a JSON list, or JSON lines (``-`` reads stdin), and sends
the objects in batches to ``POST /api/v1/{module}/batch`` (each stored as the module's
single-object path would store it), two batches at a time, with a progress bar; every
refused object is reported with its position, its id and the node's reason, and nothing
else stops the run. Export pages through the node's list of its own objects and prints
JSON lines.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from evroam.cli.common import Command, clean, console, fail, line, new_app
from evroam.cli.node_api import JsonOpt, Node, NodeOpt, TokenFileOpt, TokenOpt, connect
from evroam.cli.partner_views import print_json

app = new_app("Own OCPI data: locations, tariffs, tokens, sessions, CDRs.")

MODULES = ("locations", "tariffs", "tokens", "sessions", "cdrs")

ModuleArg = Annotated[
    str, typer.Argument(metavar="MODULE", help="locations, tariffs, tokens, sessions or cdrs")
]


def _module(name: str) -> str:
    module = name.lower()
    if module not in MODULES:
        raise fail(f"unknown module {clean(name)!r}: one of {', '.join(MODULES)}", 2)
    return module


def _seg(value: Any) -> str:
    return quote(str(value), safe="")


def read_objects(text: str) -> Iterator[Any]:
    """One object, a JSON list, or JSON lines; a line that is not JSON is yielded as the
    error it is, so the report can name it."""
    stripped = text.strip()
    if not stripped:
        return
    if stripped.startswith("["):
        data = json.loads(stripped)
        yield from data
        return
    try:
        yield json.loads(stripped)
        return
    except json.JSONDecodeError:
        pass
    for number, raw in enumerate(stripped.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            yield json.loads(raw)
        except json.JSONDecodeError as exc:
            yield ValueError(f"line {number}: not JSON ({exc.msg})")


@dataclass
class Outcome:
    index: int
    label: str
    ok: bool
    message: str = ""


def _label(obj: Any) -> str:
    if isinstance(obj, dict):
        oid = obj.get("id", obj.get("uid", "?"))
        return f"{obj.get('country_code', '?')}-{obj.get('party_id', '?')}/{oid}"
    return "?"


#: A batch: at most this many objects, and this many bytes of JSON (under the node's
#: default body limit of 1 MB; an object larger than that goes alone, and is refused
#: with the node's 413 if it is over the limit; the node then closes the connection
#: before reading the body, so the 413 is often lost to a reset: see ``_unreachable``).
BATCH_OBJECTS = 500
BATCH_BYTES = 800_000
#: Batches in flight: two keep the node busy while the next is being sent.
BATCH_CONCURRENCY = 2


def batches(objects: list[Any]) -> Iterator[list[tuple[int, Any, bytes | None]]]:
    """(index, object, its JSON) in groups within ``BATCH_OBJECTS``/``BATCH_BYTES``;
    an object that could not be read (an exception) travels with JSON None."""
    group: list[tuple[int, Any, bytes | None]] = []
    size = 2
    for index, obj in enumerate(objects):
        raw = None if isinstance(obj, Exception) else json.dumps(obj).encode()
        cost = 0 if raw is None else len(raw) + 1
        if group and (len(group) >= BATCH_OBJECTS or size + cost > BATCH_BYTES):
            yield group
            group, size = [], 2
        group.append((index, obj, raw))
        size += cost
    if group:
        yield group


async def _send_batches(
    node: Node, module: str, objects: list[Any], progress: Progress
) -> list[Outcome]:
    task = progress.add_task(f"importing {module}", total=len(objects))
    queue: asyncio.Queue[list[tuple[int, Any, bytes | None]]] = asyncio.Queue()
    for group in batches(objects):
        queue.put_nowait(group)
    outcomes: list[Outcome] = []
    headers = {"Authorization": f"Bearer {node.token}", "Content-Type": "application/json"}

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            group = queue.get_nowait()
            outcomes.extend(await _send_batch(client, module, group, headers))
            progress.advance(task, len(group))

    async with httpx.AsyncClient(base_url=f"{node.base}/api/v1", timeout=300) as client:
        await asyncio.gather(*(worker(client) for _ in range(BATCH_CONCURRENCY)))
    return sorted(outcomes, key=lambda o: o.index)


async def _send_batch(
    client: httpx.AsyncClient,
    module: str,
    group: list[tuple[int, Any, bytes | None]],
    headers: dict[str, str],
) -> list[Outcome]:
    outcomes = [
        Outcome(index, _label(obj), False, str(obj)) for index, obj, raw in group if raw is None
    ]
    sent = [(index, obj, raw) for index, obj, raw in group if raw is not None]
    if not sent:
        return outcomes
    body = b"[" + b",".join(raw for _, _, raw in sent if raw is not None) + b"]"
    try:
        resp = await client.post(f"/{module}/batch", content=body, headers=headers)
    except httpx.HTTPError as exc:
        why = _unreachable(exc, len(body) if len(sent) == 1 else 0)
        return outcomes + [Outcome(i, _label(o), False, why) for i, o, _ in sent]
    try:
        answer = resp.json()
    except ValueError:
        answer = {}
    data = answer.get("data") if isinstance(answer, dict) else None
    if resp.status_code >= 300 or not isinstance(data, dict):
        status = answer.get("status_code") if isinstance(answer, dict) else None
        # The operator API's own refusals (413 over the body limit, 401) are not OCPI
        # envelopes: their reason is in ``detail``.
        message = (
            answer.get("status_message") or answer.get("detail")
            if isinstance(answer, dict)
            else None
        )
        code = f", {status}" if status is not None else ""
        why = f"HTTP {resp.status_code}{code}: {message or ''}"
        return outcomes + [Outcome(i, _label(o), False, why) for i, o, _ in sent]
    refused = {
        int(r["index"]): r for r in data.get("refused", []) if isinstance(r, dict) and "index" in r
    }
    for position, (index, obj, _) in enumerate(sent):
        r = refused.get(position)
        if r is None:
            outcomes.append(Outcome(index, _label(obj), True))
        else:
            why = f"{r.get('status_code')}: {r.get('status_message') or ''}"
            outcomes.append(Outcome(index, _label(obj), False, why))
    return outcomes


def _unreachable(exc: httpx.HTTPError, size: int) -> str:
    """Why a request got no answer. A lone object over ``BATCH_BYTES`` is larger than the
    node's default body limit: the node answers 413 and closes the connection while the
    body is still arriving, and the client mostly sees the reset (with an empty message),
    not the 413."""
    detail = str(exc) or type(exc).__name__
    if size > BATCH_BYTES:
        return (
            f"the node closed the connection on this object of {size} bytes: probably over "
            f"its body limit (EVROAM_MAX_BODY_BYTES, 1 MB by default) ({detail})"
        )
    return f"cannot reach the node: {detail}"


async def _send_all(
    node: Node, module: str, objects: list[Any], progress: Progress
) -> list[Outcome]:
    return await _send_batches(node, module, objects, progress)


@app.command("import", cls=Command)
def import_(
    module: ModuleArg,
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="JSON object, list or lines; - for stdin")
    ],
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Load the node's own objects of MODULE from FILE.

    Each object goes to the operator API path of its module (the same checks as a
    partner's push: an object of a party that is not the node's is refused). Refused
    objects are listed with their position and the node's reason; exit status 1 if any."""
    mod = _module(module)
    target = connect(node, admin_token, admin_token_file)
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        objects = list(read_objects(text))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(f"cannot read {clean(file)}: {exc}", 2) from None
    out = console(stderr=json_)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
        transient=json_,
    ) as progress:
        outcomes = asyncio.run(_send_all(target, mod, objects, progress))
    failed = [o for o in outcomes if not o.ok]
    if json_:
        print_json(
            {
                "module": mod,
                "imported": len(outcomes) - len(failed),
                "failed": [
                    {"index": o.index, "object": o.label, "error": o.message} for o in failed
                ],
            }
        )
    else:
        line(out, f"imported {len(outcomes) - len(failed)} of {len(outcomes)} {mod}")
        for o in failed[:50]:
            line(out, f"  #{o.index} {o.label}: {o.message}")
        if len(failed) > 50:
            line(out, f"  ... and {len(failed) - 50} more refused")
    if failed:
        raise typer.Exit(1)


@app.command(cls=Command)
def export(
    module: ModuleArg,
    party: Annotated[
        str | None, typer.Option("--party", metavar="CC-PID", help="Only this party's objects")
    ] = None,
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
) -> None:
    """Print the node's own objects of MODULE, one JSON object a line."""
    mod = _module(module)
    target = connect(node, admin_token, admin_token_file)
    offset = 0
    while True:
        params = {"own": "true", "offset": str(offset), "limit": "1000"}
        if party:
            params["party"] = party
        answer = target.call("GET", f"/{mod}?{urlencode(params)}")
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, list) or not data:
            return
        for obj in data:
            typer.echo(json.dumps(obj, ensure_ascii=True, separators=(",", ":")))
        offset += len(data)


@app.command(cls=Command)
def show(
    module: ModuleArg,
    party: Annotated[str, typer.Argument(metavar="CC-PID", help="The owner, e.g. NL-CPO")],
    object_id: Annotated[str, typer.Argument(metavar="ID", help="The object's id (a token's uid)")],
    token_type: Annotated[
        str, typer.Option("--type", metavar="TYPE", help="A token's type (default RFID)")
    ] = "RFID",
    node: NodeOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
) -> None:
    """One object, own or received, as JSON."""
    mod = _module(module)
    cc, sep, pid = party.replace("*", "-").partition("-")
    if not sep or len(cc) != 2 or len(pid) != 3 or not (cc + pid).isalnum():
        raise fail(f"{clean(party)!r} is not a party like NL-CPO", 2)
    target = connect(node, admin_token, admin_token_file)
    path = f"/{mod}/{_seg(cc)}/{_seg(pid)}/{_seg(object_id)}"
    if mod == "tokens":
        path += "?" + urlencode({"type": token_type})
    answer = target.call("GET", path)
    print_json(answer.get("data") if isinstance(answer, dict) else answer)
