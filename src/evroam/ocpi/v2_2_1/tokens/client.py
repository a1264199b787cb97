"""The node's outbound Tokens calls (mod_tokens §"Interfaces"), with routing headers on
every request (transport §"Routing headers"): a CPO reads an eMSP partner's Sender list
and asks it for real-time authorization; an eMSP writes its tokens to a CPO partner's
Receiver (issue 8 pushes through ``put``/``patch``).

Everything a partner answers is checked against the wire models before use: a page
yields canonical documents, an authorization an :class:`AuthorizationInfo`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from evroam.core.objects import Document, ObjectKey
from evroam.ocpi.common.client import OcpiAnswer, OcpiClient, PartnerError
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.common.functional import FROM_CC, FROM_PID, TO_CC, TO_PID
from evroam.ocpi.v2_2_1.tokens.convert import to_document
from evroam.ocpi.v2_2_1.tokens.models import AuthorizationInfo, Token


def routing_headers(sender: tuple[str, str], receiver: tuple[str, str]) -> dict[str, str]:
    """Request routing headers: FROM the requesting party, TO the receiving one."""
    return {FROM_CC: sender[0], FROM_PID: sender[1], TO_CC: receiver[0], TO_PID: receiver[1]}


def _join(base: str, *segments: str) -> str:
    """Spec URL templates drop slashes (digest §7.13): join with exactly one."""
    return base.rstrip("/") + "".join("/" + quote(s, safe="") for s in segments)


class TokensClient:
    """Stateless: the ``OcpiClient`` (one per node) and the partner's URL and token are
    passed in, so one instance serves every partner."""

    async def pages(
        self,
        ocpi: OcpiClient,
        sender_url: str,
        token: str,
        *,
        partner: str,
        routing: Mapping[str, str],
        params: Mapping[str, str] | None = None,
    ) -> AsyncIterator[list[Document]]:
        """Each page of the partner's Sender list, following ``Link`` to the end."""
        async for page in ocpi.get_pages(
            sender_url, token, partner=partner, params=params, routing=routing
        ):
            yield [_token_document(item, sender_url) for item in page]

    async def authorize(
        self,
        ocpi: OcpiClient,
        sender_url: str,
        token: str,
        uid: str,
        *,
        partner: str,
        routing: Mapping[str, str],
        token_type: str = "RFID",
        location: Document | None = None,
    ) -> AuthorizationInfo | None:
        """Real-time authorization; None when the eMSP does not know the token (HTTP 404
        and/or OCPI 2004: the spec says both, partners send either, digest §7.10)."""
        url = _join(sender_url, uid, "authorize")
        try:
            answer = await ocpi.request(
                "POST",
                url,
                token,
                partner=partner,
                json_body=location,
                params={"type": token_type},
                routing=routing,
            )
        except PartnerError as exc:
            if exc.http_status == 404 or exc.ocpi_status == 2004:
                return None
            raise
        try:
            return AuthorizationInfo.model_validate(answer.data)
        except ValidationError as exc:
            raise PartnerError(f"POST {url}: {describe_validation_error(exc)}") from None

    async def authorize_document(
        self,
        ocpi: OcpiClient,
        sender_url: str,
        token: str,
        uid: str,
        *,
        partner: str,
        routing: Mapping[str, str],
        token_type: str = "RFID",
        location: Document | None = None,
    ) -> Document | None:
        """:meth:`authorize` as a canonical AuthorizationInfo document: what the
        version-neutral partner API hands the services (``partner_api.py``)."""
        info = await self.authorize(
            ocpi,
            sender_url,
            token,
            uid,
            partner=partner,
            routing=routing,
            token_type=token_type,
            location=location,
        )
        return None if info is None else info.model_dump(mode="json", exclude_none=True)

    async def get(
        self,
        ocpi: OcpiClient,
        receiver_url: str,
        token: str,
        key: ObjectKey,
        *,
        partner: str,
        routing: Mapping[str, str],
    ) -> Document | None:
        """A token as the partner's Receiver holds it; None when it holds none (404)."""
        url = _join(receiver_url, key.country_code, key.party_id, key.id)
        try:
            answer = await ocpi.request(
                "GET", url, token, partner=partner, params=_type(key), routing=routing
            )
        except PartnerError as exc:
            if exc.http_status == 404:
                return None
            raise
        return _token_document(answer.data, url)

    async def put(
        self,
        ocpi: OcpiClient,
        receiver_url: str,
        token: str,
        doc: Document,
        *,
        partner: str,
        routing: Mapping[str, str],
    ) -> OcpiAnswer:
        """Create or replace one of our tokens at the partner (its key is in ``doc``)."""
        key = ObjectKey(doc["country_code"], doc["party_id"], doc["uid"], doc["type"])
        url = _join(receiver_url, key.country_code, key.party_id, key.id)
        return await ocpi.request(
            "PUT", url, token, partner=partner, json_body=doc, params=_type(key), routing=routing
        )

    async def patch(
        self,
        ocpi: OcpiClient,
        receiver_url: str,
        token: str,
        key: ObjectKey,
        patch: Document,
        *,
        partner: str,
        routing: Mapping[str, str],
    ) -> OcpiAnswer:
        """Change part of one of our tokens at the partner (``patch`` has last_updated)."""
        url = _join(receiver_url, key.country_code, key.party_id, key.id)
        return await ocpi.request(
            "PATCH",
            url,
            token,
            partner=partner,
            json_body=patch,
            params=_type(key),
            routing=routing,
        )


def _type(key: ObjectKey) -> dict[str, str]:
    return {"type": key.variant or "RFID"}


def _token_document(item: Any, where: str) -> Document:
    try:
        return to_document(Token.model_validate(item))
    except ValidationError as exc:
        raise PartnerError(
            f"{where}: a Token is not valid: {describe_validation_error(exc)}"
        ) from None
