"""The charge-point backends of a CPO node (``core/backend.py``), chosen by
``EVROAM_BACKEND__KIND``: ``simulator`` (``simulator.py``: chargers in the process, for
the demo and the tests) or ``webhook`` (``webhook.py``: each command POSTed to an HTTP
URL, the reports coming back on ``POST /api/v1/backend/reports``); ``none``: no backend,
commands and profile requests are answered NOT_SUPPORTED.

How ``web/app.py`` wires one, in its lifespan, after the services are built::

    backend = make_backend(settings)
    if backend is not None:
        reports = node_reports(
            services, api,                       # the node's OcpiPartnerApi
            command_result=commands.report_result,
            profile_result=..., active_profile_changed=...,
        )
        admin_app.state.backend_reports = reports   # the webhook's reports endpoint
        await backend.start(reports)
        ...  # at shutdown: await backend.close()

Imports are lazy: a node without a backend never imports httpx clients or the
simulator, and the choice is made once, at start-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from evroam.config import Settings
from evroam.core.backend import ChargePointBackend

if TYPE_CHECKING:
    from evroam.ocpi.partner_api import OcpiPartnerApi
    from evroam.services.backend_reports import (
        ActiveProfileChanged,
        CommandResultSink,
        NodeReports,
        ProfileResultSink,
    )
    from evroam.services.partner_services import PartnerServices

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


def make_backend(
    settings: Settings, *, clock: Clock | None = None, sleep: Sleep | None = None
) -> ChargePointBackend | None:
    """The backend the settings name, not started yet (``start(reports)`` does that);
    None for ``none``. ``clock``/``sleep``: the simulator's time, for tests that drive it.
    Raises ValueError for a webhook without its URL or secret (a start-up error, not
    the first command's)."""
    kind = settings.backend.kind
    if kind == "none":
        return None
    if kind == "simulator":
        from evroam.backends.simulator import Simulator

        return Simulator(settings.backend, clock=clock, sleep=sleep)
    from evroam.backends.webhook import WebhookBackend

    return WebhookBackend(settings.backend)


def node_reports(
    services: PartnerServices,
    api: OcpiPartnerApi | None = None,
    *,
    command_result: CommandResultSink | None = None,
    profile_result: ProfileResultSink | None = None,
    active_profile_changed: ActiveProfileChanged | None = None,
) -> NodeReports:
    """The node's :class:`~evroam.services.backend_reports.NodeReports`, with the OCPI
    2.2.1 validators of what a backend reports (a document a charger system sends is
    checked like one an operator sends) and ``api`` for real-time authorization (None:
    the context's partner API)."""
    from evroam.backends.validators import ocpi_validators
    from evroam.services.backend_reports import NodeReports

    return NodeReports(
        services.ctx,
        ocpi_validators(),
        authorizer=api,
        command_result=command_result,
        profile_result=profile_result,
        active_profile_changed=active_profile_changed,
    )
