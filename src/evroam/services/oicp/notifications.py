"""ChargingNotifications from CPOs: Start, Progress, End, Error (digest §1.3 row 20).

The notification must name a session the hub made for the calling operator (400) and an
EvseID of that operator (018). It goes to the session's EMP: an online EMP (one with an
endpoint) gets it forwarded and its acknowledgement is relayed to the CPO (no answer:
310; no OICP answer: 320). An offline EMP cannot be told, so the hub keeps the
notification for it and acknowledges 000: the CPO did everything right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from evroam.core.oicp import ForeignEvse, OicpPartner, OicpRole
from evroam.core.oicp_sessions import (
    KeptNotification,
    NoSuchPartner,
    OicpSession,
    PartnerAnswer,
    PartnerCallFailed,
)
from evroam.core.ports import OicpForward, OicpUnitOfWorkFactory
from evroam.services.oicp import sessions


@dataclass(frozen=True, slots=True)
class Notification:
    session_id: str
    kind: str  # Start, Progress, End, Error
    evse_id: str
    evse_operator: str
    body: str  # as JSON text, as it is kept
    cpo_partner_session_id: str | None = None
    emp_partner_session_id: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """``answer`` the EMP's (forwarded), ``failure`` why it could not be, or neither
    (kept for an offline EMP)."""

    session: OicpSession
    answer: PartnerAnswer | None = None
    failure: PartnerCallFailed | None = None


async def receive_notification(
    uow: OicpUnitOfWorkFactory,
    operator: OicpPartner,
    notification: Notification,
    forward: OicpForward,
    now: datetime,
) -> Delivery:
    if notification.evse_operator != operator.canonical_id:
        raise ForeignEvse(f"EvseID {notification.evse_id} is not of operator {operator.partner_id}")
    session = await sessions.owned(
        uow, notification.session_id, OicpRole.CPO, operator.canonical_id
    )
    sessions.merge_partner_sessions(
        session, notification.cpo_partner_session_id, notification.emp_partner_session_id
    )
    emp: OicpPartner | None = None
    if session.provider is not None:
        try:
            emp = await sessions.partner_of(uow, session.provider, OicpRole.EMP)
        except NoSuchPartner:
            emp = None
    if emp is None or not emp.endpoint:
        async with uow() as u:
            # Re-checked in the transaction that keeps it.
            sessions.check_owner(
                await u.oicp_sessions.get_for_update(session.session_id),
                OicpRole.CPO,
                operator.canonical_id,
            )
            await u.oicp_notifications.add(
                KeptNotification(
                    session_id=session.session_id,
                    provider=session.provider,
                    kind=notification.kind,
                    body=notification.body,
                    received_at=now,
                )
            )
            await u.commit()
        return Delivery(session)
    try:
        answer = await forward(emp, session)
    except PartnerCallFailed as exc:
        return Delivery(session, None, exc)
    return Delivery(session, answer)
