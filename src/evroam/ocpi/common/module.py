"""What a version package declares about each of its modules.

A module is one folder exporting ``MODULE = Module(id=ModuleId.X, sender=..., receiver=...,
client=..., sender_offered_by=..., receiver_offered_by=...)``; the version package lists
``MODULES = (credentials.MODULE, hubclientinfo.MODULE, ...)``. The versions endpoint,
version details, router mounting (and later the push worker) read that tuple: adding a
module is one folder plus one line, with no registry and no decorators.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from fastapi import APIRouter

from evroam.core.ports import Credentials
from evroam.core.types import InterfaceRole, ModuleId, Role


@runtime_checkable
class CredentialsClient(Protocol):
    """The credentials module's outbound side, one per version: our credentials in that
    version's wire form, and the partner's answer back to core (``ValueError`` naming
    the bad field when the answer is not valid)."""

    def to_wire(self, credentials: Credentials) -> dict[str, Any]: ...
    def from_wire(self, data: Any) -> Credentials: ...


@dataclass(frozen=True, slots=True)
class Interface:
    """One mounted interface of a module: where it lives and the router that serves it."""

    module: ModuleId
    role: InterfaceRole
    path: str
    router: APIRouter


@dataclass(frozen=True, slots=True)
class Module:
    """One OCPI module of one version.

    ``*_offered_by``: the node roles that offer the interface (None: every node). A
    ``symmetric`` module (credentials) has one endpoint at ``/{id}``, announced as
    SENDER as 2.2.1-d2 advises; other interfaces live at ``/{sender|receiver}/{id}``.
    """

    id: ModuleId
    sender: APIRouter | None = None
    receiver: APIRouter | None = None
    client: object | None = None
    sender_offered_by: frozenset[Role] | None = None
    receiver_offered_by: frozenset[Role] | None = None
    symmetric: bool = False

    def interfaces(self, node_roles: Iterable[Role]) -> list[Interface]:
        """The interfaces a node holding ``node_roles`` offers, in announcement order."""
        roles = set(node_roles)
        out: list[Interface] = []
        for role, router, offered_by in (
            (InterfaceRole.SENDER, self.sender, self.sender_offered_by),
            (InterfaceRole.RECEIVER, self.receiver, self.receiver_offered_by),
        ):
            if router is None or (offered_by is not None and not roles & offered_by):
                continue
            path = self.id.value if self.symmetric else f"{role.value.lower()}/{self.id.value}"
            out.append(Interface(self.id, role, path, router))
        return out
