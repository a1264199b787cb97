"""Delivery of the push outbox: claim due entries, call the partner, record the answer.

One ``PushWorker`` runs in ``evroam serve`` (a lifespan task) and in each ``evroam
worker`` process; any number share one database. What keeps them correct is the claim
(``storage/repositories/outbox.py``): only the head of each partner's object queue is
due, claimed rows are leased to one worker, PostgreSQL skips rows another claimer holds.
So:

* per object, strictly in order, across processes: an entry is sent only when every
  earlier entry of the same partner and object is delivered (a dead letter holds the
  ones after it until an operator retries or drops it);
* partners in parallel: each has its own loop (claim a batch, send it with up to
  ``concurrency`` calls in flight, settle it in one transaction), so a slow or dead
  partner never delays another; entries of one batch are different objects, so sending
  them side by side keeps the order;
* at-least-once: a worker that dies mid-batch leaves leased rows, due again when the
  lease runs out. PUT and PATCH are idempotent and receivers keep the newer
  ``last_updated``, so a second delivery is harmless; while processes are healthy none
  happens (the lease owner alone settles a row).

The partner's status follows delivery: CONNECTED with ``last_connection`` on a success,
OFFLINE after ``offline_after`` failures in a row with no answer (timeouts, refused
connections, 5xx). A partner that cannot receive (reset, unregistered, SUSPENDED) gets
nothing: its pending entries are held with the reason, and pending again when it can.

``wake()`` is called after the writer's commit: the partner loops look at once instead
of at their next poll. Clock and randomness are injected, so tests drive backoff and
leases without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from evroam.config import PushSettings
from evroam.core.ports import UnitOfWork, UnitOfWorkFactory
from evroam.core.push import DeliveryResult, OutboxEntry, OutboxState
from evroam.core.types import ConnectionStatus, Partner
from evroam.ocpi.common.client import DestinationRefused, OcpiClient, PartnerError
from evroam.ocpi.common.functional import FROM_CC, FROM_PID, TO_CC, TO_PID
from evroam.ocpi.versions import VERSIONS, package
from evroam.push.outbox import RENDERERS, compact, endpoint_role
from evroam.push.retry import Backoff, Verdict, classify

log = logging.getLogger("evroam.push")

#: How often delivered entries past their retention are looked for.
PURGE_EVERY = timedelta(minutes=1)
#: How often a partner that keeps taking deliveries has its ``last_connection`` written.
TOUCH_EVERY = timedelta(seconds=10)
#: After a wake from idle, how long a partner loop lets further commits' entries join
#: before it claims: one claim and one settling transaction for a handful of changes
#: instead of one per commit (claims were 14% of a busy node's CPU in py-spy).
LINGER = 0.01
#: The shortest time between two looks at the partners when commits keep waking the
#: worker: a new partner's first entries wait at most this long for its loop.
REFRESH_AFTER_WAKE = 0.2


def utcnow() -> datetime:
    return datetime.now(UTC)


def why_not(partner: Partner) -> str | None:
    """Why the partner cannot receive pushes now, or None when it can."""
    if partner.status == ConnectionStatus.SUSPENDED:
        return "partner is SUSPENDED (unregistered)"
    if partner.registered_at is None:
        return "partner is not registered (reset, or registration not finished)"
    if not partner.token_out:
        return "no token to call the partner with"
    if partner.version not in RENDERERS or partner.version not in VERSIONS:
        return f"partner speaks OCPI {partner.version}, which the node does not push in"
    return None


def died_here(owner: str, me: str) -> bool:
    """Whether lease ``owner`` was a worker of this host whose process is gone. Owners are
    ``host:pid:nonce``: a pid that no longer runs, or our own pid under another nonce (a
    predecessor that had it), is dead; an owner of another host is never judged (its
    lease runs out instead)."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or owner == me:
        return False
    host, pid_text, _nonce = parts
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: it runs, as another user
        return False
    return False


#: A path part ``quote(part, safe="")`` leaves as it is (RFC 3986 unreserved characters).
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+")


def _quote(part: str) -> str:
    # Ids are nearly always unreserved already: a match is ~4x cheaper than quote().
    return part if _UNRESERVED.fullmatch(part) else quote(part, safe="")


def _url(base: str, parts: Sequence[str]) -> str:
    # URL templates drop or keep the trailing slash (digest §7.13): join with one "/".
    return "/".join([base.rstrip("/"), *(_quote(p) for p in parts)])


def _unsent(entry: OutboxEntry, now: datetime) -> DeliveryResult:
    """An entry given back untried: pending again, its attempts and last answer kept."""
    return DeliveryResult(
        entry.id,
        OutboxState.PENDING,
        entry.attempts,
        now,
        entry.last_error,
        entry.last_http_status,
        entry.last_ocpi_status,
    )


@dataclass(frozen=True, slots=True)
class _Attempt:
    result: DeliveryResult
    #: True: the partner answered usefully; False: no answer (counts toward OFFLINE);
    #: None: neither (our side refused to call, or the partner refused the entry).
    contact: bool | None
    auth_refused: bool = False


class PushWorker:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        client: OcpiClient,
        settings: PushSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
        rand: Callable[[], float] = random.random,
        owner: str | None = None,
        on_status_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow
        self._client = client
        self.settings = settings
        self._clock = clock
        self._rand = rand
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._backoff = Backoff(settings.backoff_base, settings.backoff_max)
        self._lease = timedelta(seconds=settings.lease)
        self._on_status_change = on_status_change
        # The longest one call may take (the HTTP client's connect and read timeouts).
        self._call_budget = timedelta(seconds=sum(client.wire.timeouts))
        self._partners: dict[int, Partner] = {}
        # OCPI version -> whether its token header is Base64: ``package()`` is an
        # import_module call, ~11 us, and was asked once per delivery.
        self._base64: dict[str, bool] = {}
        self._failures: dict[int, int] = {}
        self._touched: dict[int, datetime] = {}
        self._events: dict[int, asyncio.Event] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._supervisor = asyncio.Event()
        self._purged_at: datetime | None = None
        #: Counters for the operator and benchmarks.
        self.delivered = 0
        self.attempts = 0

    # ------------------------------------------------------------------ control

    def wake(self) -> None:
        """Look at the queue now (called after a commit that enqueued)."""
        for event in self._events.values():
            event.set()
        self._supervisor.set()

    async def run(self) -> None:
        """Deliver until cancelled: one loop per partner that can receive, refreshed
        every poll interval; delivered entries past retention purged every minute."""
        try:
            while True:
                self._supervisor.clear()
                try:
                    await self.refresh()
                    await self.purge_if_due()
                except Exception:  # the database may be away a moment: try again
                    log.exception("push: refreshing the partners failed")
                for pid in self._partners:
                    task = self._tasks.get(pid)
                    if task is None or task.done():
                        self._events.setdefault(pid, asyncio.Event())
                        self._tasks[pid] = asyncio.create_task(
                            self._partner_loop(pid), name=f"push-partner-{pid}"
                        )
                for pid in [p for p in self._tasks if p not in self._partners]:
                    self._tasks.pop(pid).cancel()
                    self._events.pop(pid, None)
                # Woken (a commit enqueued): refresh soon, so a partner registered a
                # moment ago gets a loop for its first entries (they waited a whole poll
                # interval before), but at most every REFRESH_AFTER_WAKE however many
                # commits wake it: one read of the partners each time.
                await asyncio.sleep(min(REFRESH_AFTER_WAKE, self.settings.poll_interval))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._supervisor.wait(), self.settings.poll_interval * 5)
        finally:
            tasks = list(self._tasks.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._tasks.clear()

    async def _partner_loop(self, partner_id: int) -> None:
        event = self._events[partner_id]
        sent = 0
        while True:
            event.clear()
            partner = self._partners.get(partner_id)
            if partner is None:
                return
            try:
                # Right after a batch more is likely due: claim without a look first.
                sent = await self.deliver(partner, peek=not sent)
            except Exception:
                log.exception("push: delivery to partner %s failed", partner.label)
                sent = 0
            if sent:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), self.settings.poll_interval)
                await asyncio.sleep(LINGER)

    async def run_once(self) -> int:
        """One round for every partner (tests and benchmarks drive this): entries tried."""
        partners = await self.refresh()
        counts = await asyncio.gather(*(self.deliver(p) for p in partners))
        return sum(counts)

    # ------------------------------------------------------------------ partners

    async def refresh(self) -> list[Partner]:
        """Read the partners: hold the pending entries of those that cannot receive,
        release the held entries of those that can again."""
        now = self._clock()
        # Read first, write only when something is to be held or released: an idle
        # node must not take SQLite's write lock every few seconds.
        async with self._uow(read_only=True) as uow:
            partners = await uow.partners.list()
            unable = {p.id: reason for p in partners if (reason := why_not(p)) is not None}
            to_hold = await uow.outbox.pending_partners(sorted(unable))
            held = set(await uow.outbox.held_partners())
        able = [p for p in partners if p.id not in unable]
        to_release = [p.id for p in able if p.id in held]
        if to_hold or to_release:
            async with self._uow() as uow:
                for pid in to_hold:
                    if await uow.outbox.hold(pid, unable[pid], now):
                        log.info("push: entries for partner %d held: %s", pid, unable[pid])
                released = await uow.outbox.release(to_release, now)
                await uow.commit()
            if released:
                log.info("push: %d held entries pending again", released)
        self._partners = {p.id: p for p in able}
        return able

    async def reclaim_dead(self) -> int:
        """Entries leased by a worker of this host that died (SIGKILL, a crash, the
        machine's power) are due again now rather than when the lease runs out: a
        restarted node goes on where it stopped. Leases of other hosts run out."""
        now = self._clock()
        async with self._uow(read_only=True) as uow:
            owners = await uow.outbox.lease_owners(now)
        dead = [o for o in owners if died_here(o, self.owner)]
        if not dead:
            return 0
        async with self._uow() as uow:
            n = await uow.outbox.reclaim(dead, now)
            await uow.commit()
        if n:
            log.warning("push: %d entries leased by a worker that died are pending again", n)
        return n

    async def purge_if_due(self) -> int:
        """Delete delivered entries older than the retention, in small transactions, and
        take back the leases of dead workers of this host, once a minute and at start."""
        now = self._clock()
        if self._purged_at is not None and now - self._purged_at < PURGE_EVERY:
            return 0
        self._purged_at = now
        await self.reclaim_dead()
        before = now - timedelta(hours=self.settings.retention_hours)
        total = 0
        while True:
            async with self._uow() as uow:
                n = await uow.outbox.purge_delivered(before, self.settings.purge_batch)
                await uow.commit()
            total += n
            if n < self.settings.purge_batch:
                return total
            await asyncio.sleep(0)  # let requests in between batches

    # ------------------------------------------------------------------ delivery

    async def deliver(self, partner: Partner, *, peek: bool = True) -> int:
        """Claim a batch of the partner's due entries, send them, settle them; how many.
        ``peek``: look with a read first (an idle queue costs no write transaction)."""
        if partner.version in VERSIONS:
            # The version package's first import (a fraction of a second) happens here,
            # not inside the lease's window for starting calls.
            self._token_base64(partner.version)
        now = self._clock()
        if peek:
            async with self._uow(read_only=True) as uow:
                if not await uow.outbox.due(partner.id, now):
                    return 0
        async with self._uow() as uow:
            batch = await uow.outbox.claim(
                partner.id, now, self.settings.batch_size, self.owner, self._lease
            )
            await uow.commit()
        if not batch:
            return 0
        # A call started later than this might outlive the lease, and another worker
        # would send the entry as well: such entries go back unsent instead. (With a
        # lease shorter than the call timeouts, half the lease: at least once holds.)
        last_start = now + max(self._lease - self._call_budget, self._lease / 2)
        # ``concurrency`` lanes take the entries in id order, each sending one at a
        # time: up to ``concurrency`` calls in flight. (A task per entry behind a
        # semaphore cost ~15 us per entry in tasks and wake-ups, ~3% of a delivery.)
        answers: list[_Attempt | None] = [None] * len(batch)
        queue = iter(range(len(batch)))

        async def lane() -> None:
            for i in queue:
                entry = batch[i]
                if self._clock() > last_start:
                    answers[i] = _Attempt(_unsent(entry, self._clock()), contact=None)
                else:
                    answers[i] = await self._send(partner, entry)

        lanes = [
            asyncio.ensure_future(lane()) for _ in range(min(self.settings.concurrency, len(batch)))
        ]
        try:
            await asyncio.gather(*lanes)
        except asyncio.CancelledError:
            await self._give_back(batch, lanes, answers)
            raise
        attempts = [a for a in answers if a is not None]
        assert len(attempts) == len(batch)  # the lanes ended: every entry was taken
        now = self._clock()
        async with self._uow() as uow:
            results = [a.result for a in attempts]
            if any(a.auth_refused for a in attempts):
                results = await self._recheck_auth(uow, partner, attempts, now)
            await uow.outbox.settle(results, self.owner, now)
            retried = {r.entry_id for r in results if r.state == OutboxState.PENDING}
            if retried:  # changes queued behind them while they were on the wire
                keys = sorted({e.object_key for e in batch if e.id in retried})
                await compact(uow, partner.id, keys, now)
            changed = await self._follow_status(uow, partner, attempts, now)
            await uow.commit()
        self.attempts += len(batch)
        self.delivered += sum(1 for r in results if r.state == OutboxState.DELIVERED)
        if changed:
            self._on_status_change()
        return len(batch)

    async def _give_back(
        self,
        batch: Sequence[OutboxEntry],
        lanes: Sequence[asyncio.Future[None]],
        answers: Sequence[_Attempt | None],
    ) -> None:
        """Stopped mid-batch (shutdown): record the answers already in, give the rest
        back pending, so a restarted node sends them at once instead of after the lease
        (a call cut off may have arrived: at least once)."""
        for lane in lanes:
            lane.cancel()
        await asyncio.gather(*lanes, return_exceptions=True)
        now = self._clock()
        results = [
            _unsent(e, now) if a is None else a.result for e, a in zip(batch, answers, strict=True)
        ]
        try:
            async with self._uow() as uow:
                await uow.outbox.settle(results, self.owner, now)
                await uow.commit()
        except Exception:  # the lease runs out instead
            log.warning("push: could not give back %d entries", len(batch), exc_info=True)

    async def _send(self, partner: Partner, entry: OutboxEntry) -> _Attempt:
        attempts = entry.attempts + 1
        if entry.url is not None:
            # A URL the partner gave for this call (a response_url): checked by the
            # wire's destination policy like every other, refused -> dead.
            url = entry.url
        else:
            role = endpoint_role(entry.module)
            endpoint = partner.endpoint(entry.module.value, role)
            if endpoint is None or endpoint.role != role:
                return self._dead(
                    entry, f"the partner offers no {entry.module.value} {role.value.title()}"
                )
            url = _url(endpoint.url, entry.path)
        routing = {
            FROM_CC: entry.from_party[:2],
            FROM_PID: entry.from_party[3:],
            TO_CC: entry.to_party[:2],
            TO_PID: entry.to_party[3:],
        }
        http_status: int | None
        ocpi_status: int | None
        error: str | None = None
        try:
            answer = await self._client.request(
                entry.method.value,
                url,
                partner.token_out or "",
                partner=partner.label,
                content=None if entry.body is None else entry.body.encode(),
                params=dict(entry.query) or None,
                routing=routing,
                encode=self._token_base64(entry.version),
            )
            http_status, ocpi_status = answer.http_status, answer.status_code
        except DestinationRefused as exc:
            return self._dead(entry, str(exc))
        except PartnerError as exc:
            http_status, ocpi_status = exc.http_status, exc.ocpi_status
            error = exc.partner_message()
        except Exception as exc:  # a fault of ours: keep the entry, try again later
            log.exception("push: sending entry %d failed", entry.id)
            http_status, ocpi_status = None, None
            error = f"not sent: {type(exc).__name__}"
        verdict = classify(http_status, ocpi_status, attempts=attempts)
        max_attempts = self.settings.max_attempts
        if verdict == Verdict.RETRY and max_attempts and attempts >= max_attempts:
            verdict = Verdict.DEAD
            error = f"gave up after {attempts} attempts: {error}"
        answered = http_status is not None and http_status < 500 and ocpi_status is not None
        return _Attempt(
            self._result(entry, verdict, attempts, error, http_status, ocpi_status),
            contact=True if verdict == Verdict.DELIVERED else (None if answered else False),
            auth_refused=http_status in (401, 403),
        )

    def _token_base64(self, version: str) -> bool:
        encode = self._base64.get(version)
        if encode is None:
            encode = self._base64[version] = bool(package(version).TOKEN_BASE64)
        return encode

    def _result(
        self,
        entry: OutboxEntry,
        verdict: Verdict,
        attempts: int,
        error: str | None,
        http_status: int | None,
        ocpi_status: int | None,
    ) -> DeliveryResult:
        now = self._clock()
        if verdict == Verdict.DELIVERED:
            return DeliveryResult(
                entry.id, OutboxState.DELIVERED, attempts, now, None, http_status, ocpi_status
            )
        if verdict == Verdict.DEAD:
            log.warning("push: entry %d dead: %s", entry.id, error)
            return DeliveryResult(
                entry.id, OutboxState.DEAD, attempts, now, error, http_status, ocpi_status
            )
        delay = timedelta(seconds=self._backoff.delay(attempts, self._rand))
        return DeliveryResult(
            entry.id, OutboxState.PENDING, attempts, now + delay, error, http_status, ocpi_status
        )

    def _dead(self, entry: OutboxEntry, error: str) -> _Attempt:
        result = self._result(entry, Verdict.DEAD, entry.attempts + 1, error, None, None)
        return _Attempt(result, contact=None)

    async def _recheck_auth(
        self, uow: UnitOfWork, partner: Partner, attempts: Sequence[_Attempt], now: datetime
    ) -> list[DeliveryResult]:
        """A token refused because the partner's token changed while we sent (a
        credentials rotation): retried, whatever the attempt count."""
        fresh = await uow.partners.get(partner.id)
        rotated = fresh is not None and fresh.token_out != partner.token_out
        if rotated and fresh is not None:
            self._partners[partner.id] = fresh
        out = []
        for a in attempts:
            r = a.result
            if a.auth_refused and rotated and r.state == OutboxState.DEAD:
                r = DeliveryResult(
                    r.entry_id,
                    OutboxState.PENDING,
                    r.attempts,
                    now,
                    r.error,
                    r.http_status,
                    r.ocpi_status,
                )
            out.append(r)
        return out

    async def _follow_status(
        self, uow: UnitOfWork, partner: Partner, attempts: Sequence[_Attempt], now: datetime
    ) -> bool:
        """CONNECTED (and ``last_connection``) on a success; OFFLINE after
        ``offline_after`` failures in a row without an answer. True if it changed."""
        if any(a.contact is True for a in attempts):
            self._failures[partner.id] = 0
            # A partner seen CONNECTED and recorded so moments ago needs no write per
            # batch (it was two statements and a row lock in every settling
            # transaction): ``last_connection`` moves at most every TOUCH_EVERY.
            touched = self._touched.get(partner.id)
            if (
                partner.status == ConnectionStatus.CONNECTED
                and touched is not None
                and timedelta(0) <= now - touched < TOUCH_EVERY
            ):
                return False
            fresh = await uow.partners.get_for_update(partner.id)
            if fresh is None or not fresh.registered:
                return False
            await uow.partners.touch(partner.id, now, ConnectionStatus.CONNECTED)
            self._touched[partner.id] = now
            if fresh.status != ConnectionStatus.CONNECTED:
                log.info("partner %s is back online (push delivered)", partner.label)
                return True
            return False
        failures = sum(1 for a in attempts if a.contact is False)
        if not failures:
            return False
        count = self._failures.get(partner.id, 0) + failures
        self._failures[partner.id] = count
        if count < self.settings.offline_after:
            return False
        fresh = await uow.partners.get_for_update(partner.id)
        if fresh is None or not fresh.registered or fresh.status == ConnectionStatus.OFFLINE:
            return False
        fresh.status = ConnectionStatus.OFFLINE
        fresh.status_changed_at = fresh.updated_at = now
        await uow.partners.save(fresh)
        log.warning("partner %s is offline: %d pushes in a row failed", partner.label, count)
        return True
