"""What a change of the node's own data owes the partners, as ``PushChange``s for the
group-commit writer (``writes.py``), which hands them to the outbox in its transaction.

One rule for every module (issue 8; transport_and_format §"PUT"/"PATCH"): a new or whole
object is a PUT of it as stored; a small change is a PATCH carrying the fields the change
set, with the object's new ``last_updated`` (which a PATCH must carry); a CDR is a POST;
a removed Tariff a DELETE. The PATCH carries the change's own values, not the merged
object's: where merging is not replacing (a Session's ``charging_periods`` are appended),
the receiver must get what to append, not the whole list again.
"""

from __future__ import annotations

from evroam.core.objects import Document, ObjectKey
from evroam.core.push import PushChange, PushMethod
from evroam.core.types import ModuleId


def audience_party(audience: str | None) -> tuple[str, str] | None:
    """``StoredObject.audience`` (``CC-PID``) as the outbox's party pair."""
    if not audience:
        return None
    cc, _, pid = audience.partition("-")
    return (cc, pid)


def put(
    module: ModuleId,
    key: ObjectKey,
    path: tuple[str, ...],
    body: Document,
    *,
    query: tuple[tuple[str, str], ...] = (),
    audience: str | None = None,
) -> tuple[PushChange, ...]:
    return (PushChange(module, key, PushMethod.PUT, path, body, query, audience_party(audience)),)


def patch(
    module: ModuleId,
    key: ObjectKey,
    path: tuple[str, ...],
    change: Document,
    last_updated: object,
    *,
    query: tuple[tuple[str, str], ...] = (),
    audience: str | None = None,
) -> tuple[PushChange, ...]:
    """A PATCH of the fields ``change`` set, with the object's ``last_updated`` as stored."""
    body = {**change, "last_updated": last_updated}
    return (PushChange(module, key, PushMethod.PATCH, path, body, query, audience_party(audience)),)


def post(
    module: ModuleId, key: ObjectKey, body: Document, audience: str | None
) -> tuple[PushChange, ...]:
    return (PushChange(module, key, PushMethod.POST, (), body, (), audience_party(audience)),)


def delete(module: ModuleId, key: ObjectKey, path: tuple[str, ...]) -> tuple[PushChange, ...]:
    return (PushChange(module, key, PushMethod.DELETE, path, None),)
