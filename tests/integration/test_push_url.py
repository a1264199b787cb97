"""Outbox calls to a URL the partner gave (a command's ``response_url``), delivered by the
real worker to a real loopback receiver (the rig of ``test_push_delivery.py``), on
SQLite and PostgreSQL: the POST goes to that URL with the token and routing headers,
not to a path after any endpoint, and a URL the destination policy refuses is a dead
letter with nothing sent."""

from __future__ import annotations

import base64

from evroam.core.objects import ObjectKey
from evroam.core.push import OutboxState, PushChange, PushMethod
from evroam.core.types import ModuleId
from tests.integration.test_push_delivery import TOKEN, Rig, receiver, rig

__all__ = ["receiver", "rig"]  # the fixtures, shared with test_push_delivery


def result_to(url: str, command_id: str = "cmd-1") -> PushChange:
    return PushChange(
        ModuleId.COMMANDS,
        ObjectKey("NL", "CPO", command_id),
        PushMethod.POST,
        (),
        {"result": "ACCEPTED"},
        audience=("DE", "AAA"),
        url=url,
    )


async def test_a_url_entry_is_posted_to_that_url(rig: Rig) -> None:
    rig.receiver.start()
    url = f"http://127.0.0.1:{rig.receiver.port}/cb/commands/START_SESSION/cmd-1"
    await rig.enqueue([result_to(url)])
    await rig.drain()
    (arrived,) = rig.receiver.arrived
    assert (arrived.method, arrived.path) == ("POST", "/cb/commands/START_SESSION/cmd-1")
    assert arrived.body == {"result": "ACCEPTED"}
    h = arrived.headers
    assert base64.b64decode(h["authorization"].removeprefix("Token ")).decode() == TOKEN
    assert (h["ocpi-from-country-code"], h["ocpi-from-party-id"]) == ("NL", "CPO")
    assert (h["ocpi-to-country-code"], h["ocpi-to-party-id"]) == ("DE", "AAA")
    (entry,) = await rig.entries()
    assert entry.state == OutboxState.DELIVERED and entry.url == url


async def test_a_url_the_destination_policy_refuses_is_dead_and_never_called(rig: Rig) -> None:
    rig.receiver.start()
    await rig.enqueue([result_to("http://169.254.169.254/latest/meta-data", "cmd-2")])
    await rig.drain()
    (entry,) = await rig.entries()
    assert entry.state == OutboxState.DEAD
    assert "refused" in (entry.last_error or "") and rig.receiver.arrived == []
