"""OCPI 2.2.1. ``MODULES`` lists every interface this version offers; the version details
endpoint, the router mounting and the credentials handshake all read it."""

from __future__ import annotations

from evroam.core.types import InterfaceRole, Role
from evroam.ocpi.common.module import Module, has_role

VERSION = "2.2.1"


def _credentials_router():  # type: ignore[no-untyped-def]
    from evroam.ocpi.v2_2_1.credentials.routes import router

    return router


def _hubclientinfo_receiver():  # type: ignore[no-untyped-def]
    from evroam.ocpi.v2_2_1.hubclientinfo.receiver import router

    return router


def _hubclientinfo_sender():  # type: ignore[no-untyped-def]
    from evroam.ocpi.v2_2_1.hubclientinfo.sender import router

    return router


MODULES: tuple[Module, ...] = (
    # The credentials role is meaningless; 2.2.1-d2 advises SENDER.
    Module("credentials", InterfaceRole.SENDER, "credentials", _credentials_router),
    Module(
        "hubclientinfo", InterfaceRole.RECEIVER, "receiver/hubclientinfo", _hubclientinfo_receiver
    ),
    Module(
        "hubclientinfo",
        InterfaceRole.SENDER,
        "sender/hubclientinfo",
        _hubclientinfo_sender,
        enabled=has_role(Role.HUB),
    ),
)
