"""OCPI 2.2.1. ``MODULES`` lists every module this version offers; the version details
endpoint, the router mounting and the partner API all read it."""

from __future__ import annotations

from evroam.ocpi.common.module import Module
from evroam.ocpi.v2_2_1 import (
    cdrs,
    chargingprofiles,
    commands,
    credentials,
    hubclientinfo,
    locations,
    sessions,
    tariffs,
    tokens,
)
from evroam.ocpi.v2_2_1.meta import TOKEN_BASE64, VERSION
from evroam.ocpi.v2_2_1.pull import PULL_ITEMS

__all__ = ["MODULES", "PULL_ITEMS", "TOKEN_BASE64", "VERSION"]

MODULES: tuple[Module, ...] = (
    credentials.MODULE,
    hubclientinfo.MODULE,
    tariffs.MODULE,
    cdrs.MODULE,
    locations.MODULE,
    sessions.MODULE,
    tokens.MODULE,
    commands.MODULE,
    chargingprofiles.MODULE,
)
