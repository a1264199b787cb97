"""Credentials, outbound: our credentials in 2.2.1 form, the partner's answer to core."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from evroam.core.ports import Credentials as CoreCredentials
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.v2_2_1.credentials.convert import to_core, to_wire
from evroam.ocpi.v2_2_1.credentials.models import Credentials


class CredentialsClient221:
    def to_wire(self, credentials: CoreCredentials) -> dict[str, Any]:
        return to_wire(credentials)

    def from_wire(self, data: Any) -> CoreCredentials:
        try:
            return to_core(Credentials.model_validate(data))
        except ValidationError as exc:
            raise ValueError(describe_validation_error(exc, "data")) from None
