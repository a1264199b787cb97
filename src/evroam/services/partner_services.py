"""The partner use cases of one node, built together from one context."""

from __future__ import annotations

from dataclasses import dataclass

from evroam.services.client_info import ClientInfoService
from evroam.services.context import PartnerContext
from evroam.services.directory import PartnerDirectory
from evroam.services.handshake import Handshake
from evroam.services.lifecycle import PartnerLifecycle
from evroam.services.liveness import Liveness


@dataclass(frozen=True, slots=True)
class PartnerServices:
    ctx: PartnerContext
    directory: PartnerDirectory
    handshake: Handshake
    lifecycle: PartnerLifecycle
    liveness: Liveness
    client_info: ClientInfoService

    @classmethod
    def create(cls, ctx: PartnerContext) -> PartnerServices:
        return cls(
            ctx,
            PartnerDirectory(ctx),
            Handshake(ctx),
            PartnerLifecycle(ctx),
            Liveness(ctx),
            ClientInfoService(ctx),
        )
