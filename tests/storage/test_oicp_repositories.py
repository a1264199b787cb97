"""The OICP hub's repositories on both backends: partners (one per canonical ID, found
by certificate identity) and EVSE status upserts, deletes and reads."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from evroam.core.oicp import (
    EvseStatus,
    EvseStatusRecord,
    OicpPartner,
    OicpPartnerExists,
    OicpRole,
)
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.storage.factories import NOW


def oicp_partner(partner_id: str = "DE*ABC", canonical: str = "DEABC", **kw: object) -> OicpPartner:
    base: dict[str, object] = dict(
        partner_id=partner_id,
        canonical_id=canonical,
        roles=frozenset({OicpRole.CPO}),
        cert_identity=partner_id,
        allowed_networks=("10.0.0.0/8", "2001:db8::/32"),
        endpoint="https://cpo.example.com",
        name="ABC <b>[red]",
        created_at=NOW,
        updated_at=NOW,
    )
    base.update(kw)
    return OicpPartner(**base)  # type: ignore[arg-type]


def rec(evse: str, status: EvseStatus, operator: str = "DEABC") -> EvseStatusRecord:
    return EvseStatusRecord(evse, evse.replace("*", "").upper(), operator, status)


async def test_partner_add_get_list_remove_round_trip(uow: SqlUnitOfWorkFactory) -> None:
    both = oicp_partner("DE*XYZ", "DEXYZ", roles=frozenset({OicpRole.CPO, OicpRole.EMP}))
    async with uow() as u:
        await u.oicp_partners.add(oicp_partner())
        await u.oicp_partners.add(both)
        await u.commit()
    async with uow(read_only=True) as u:
        got = await u.oicp_partners.get("DEABC")
        listed = await u.oicp_partners.list()
    assert got == oicp_partner()
    assert [p.canonical_id for p in listed] == ["DEABC", "DEXYZ"]
    assert listed[1].roles == {OicpRole.CPO, OicpRole.EMP}
    async with uow() as u:
        assert await u.oicp_partners.remove("DEABC")
        assert not await u.oicp_partners.remove("DEABC")
        await u.commit()
    async with uow(read_only=True) as u:
        assert await u.oicp_partners.get("DEABC") is None


async def test_second_partner_with_the_same_canonical_id_is_refused(
    uow: SqlUnitOfWorkFactory,
) -> None:
    async with uow() as u:
        await u.oicp_partners.add(oicp_partner("DE*ABC"))
        await u.commit()
    async with uow() as u:
        with pytest.raises(OicpPartnerExists):
            await u.oicp_partners.add(oicp_partner("deabc", name="other"))
    async with uow(read_only=True) as u:
        assert [p.name for p in await u.oicp_partners.list()] == ["ABC <b>[red]"]


async def test_concurrent_adds_of_one_id_leave_exactly_one(uow: SqlUnitOfWorkFactory) -> None:
    async def add(name: str) -> bool:
        try:
            async with uow() as u:
                await u.oicp_partners.add(oicp_partner(name=name))
                await u.commit()
            return True
        except OicpPartnerExists:
            return False

    results = await asyncio.gather(*(add(f"n{i}") for i in range(4)))
    assert sorted(results) == [False, False, False, True]


async def test_partners_are_found_by_certificate_identity_in_canonical_form(
    uow: SqlUnitOfWorkFactory,
) -> None:
    async with uow() as u:
        await u.oicp_partners.add(oicp_partner())
        await u.oicp_partners.add(oicp_partner("DE*EMP", "DEEMP", cert_identity="shared.example"))
        await u.commit()
    async with uow(read_only=True) as u:
        assert [p.canonical_id for p in await u.oicp_partners.by_cert_identity(["deabc"])] == [
            "DEABC"
        ]
        found = await u.oicp_partners.by_cert_identity(["SHARED.example", "nobody"])
        assert [p.canonical_id for p in found] == ["DEEMP"]
        assert await u.oicp_partners.by_cert_identity(["DE*ABD", ""]) == []


async def test_save_replaces_networks_and_texts(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        p = await u.oicp_partners.add(oicp_partner())
        p.allowed_networks = ("127.0.0.1/32",)
        p.name = None
        p.updated_at = NOW + timedelta(minutes=1)
        await u.oicp_partners.save(p)
        await u.commit()
    async with uow(read_only=True) as u:
        got = await u.oicp_partners.get("DEABC")
    assert got is not None
    assert (got.allowed_networks, got.name, got.updated_at) == (
        ("127.0.0.1/32",),
        None,
        NOW + timedelta(minutes=1),
    )


async def test_status_upsert_moves_changed_at_only_when_the_status_changes(
    uow: SqlUnitOfWorkFactory,
) -> None:
    later = NOW + timedelta(hours=1)
    async with uow() as u:
        await u.oicp_statuses.upsert(
            [rec("DE*ABC*E1", EvseStatus.AVAILABLE), rec("DE*ABC*E2", EvseStatus.OCCUPIED)], NOW
        )
        await u.commit()
    async with uow() as u:
        await u.oicp_statuses.upsert(
            [rec("DE*ABC*E1", EvseStatus.AVAILABLE), rec("de*abc*e2", EvseStatus.RESERVED)], later
        )
        await u.commit()
    async with uow(read_only=True) as u:
        rows = await u.oicp_statuses.by_operators(["DEABC"])
    assert [(r.evse_id, r.status, r.changed_at, r.pushed_at) for r in rows] == [
        ("DE*ABC*E1", EvseStatus.AVAILABLE, NOW, later),
        ("de*abc*e2", EvseStatus.RESERVED, later, later),
    ]


async def test_status_known_delete_delete_except_and_reads(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as u:
        await u.oicp_statuses.upsert(
            [rec(f"DE*ABC*E{i}", EvseStatus.AVAILABLE) for i in range(1, 5)]
            + [rec("DE*XYZ*E1", EvseStatus.OCCUPIED, "DEXYZ")],
            NOW,
        )
        await u.commit()
    async with uow() as u:
        assert await u.oicp_statuses.known("DEABC", ["DEABCE1", "DEABCE9", "DEXYZE1"]) == {
            "DEABCE1"
        }
        assert await u.oicp_statuses.delete("DEABC", ["DEABCE1", "DEXYZE1"]) == 1
        assert await u.oicp_statuses.delete_except("DEABC", ["DEABCE2"]) == 2
        await u.commit()
    async with uow(read_only=True) as u:
        everything = await u.oicp_statuses.by_operators(None)
        occupied = await u.oicp_statuses.by_operators(None, EvseStatus.OCCUPIED)
        by_id = await u.oicp_statuses.by_evse_ids(["DEABCE2", "DEXYZE1", "DEABCE3"])
        assert await u.oicp_statuses.by_operators([]) == []
    assert [r.canonical_evse_id for r in everything] == ["DEABCE2", "DEXYZE1"]
    assert [r.canonical_evse_id for r in occupied] == ["DEXYZE1"]
    assert sorted(r.canonical_evse_id for r in by_id) == ["DEABCE2", "DEXYZE1"]


async def test_many_statuses_are_written_and_read_in_chunks(uow: SqlUnitOfWorkFactory) -> None:
    records = [rec(f"DE*ABC*E{i}", EvseStatus.AVAILABLE) for i in range(1200)]
    async with uow() as u:
        await u.oicp_statuses.upsert(records, NOW)
        await u.commit()
    async with uow() as u:
        ids = [r.canonical_evse_id for r in records]
        assert len(await u.oicp_statuses.known("DEABC", ids)) == 1200
        assert len(await u.oicp_statuses.by_evse_ids(ids)) == 1200
        assert await u.oicp_statuses.delete_except("DEABC", ids[:10]) == 1190
        await u.commit()
