"""An operator's authorization hook, for the Tokens tests (``Settings.authorization_hook =
"tests.tokens_hook:decide"``): it decides from the token's contract_id, as a real hook
would ask the eMSP's contract system."""

from __future__ import annotations

from typing import Any

from evroam.services.tokens import LocationRequired


async def decide(token: dict[str, Any], location: dict[str, Any] | None) -> Any:
    contract = token["contract_id"]
    if contract.endswith("NOCREDIT"):
        return "NO_CREDIT", {"language": "en", "text": "Top up your account"}
    if contract.endswith("EXPIRED"):
        return "EXPIRED"
    if contract.endswith("NEEDLOC") and location is None:
        raise LocationRequired("this contract is authorized per location")
    if contract.endswith("BADANSWER"):
        return "MAYBE"
    return "ALLOWED"


not_callable = 42
