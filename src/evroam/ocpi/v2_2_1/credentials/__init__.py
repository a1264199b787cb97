"""OCPI 2.2.1 credentials module: the token A/B/C handshake, update and unregister."""

from __future__ import annotations

from evroam.core.types import ModuleId
from evroam.ocpi.common.module import Module
from evroam.ocpi.v2_2_1.credentials.client import CredentialsClient221
from evroam.ocpi.v2_2_1.credentials.routes import router

MODULE = Module(
    id=ModuleId.CREDENTIALS,
    sender=router,
    client=CredentialsClient221(),
    symmetric=True,
)
