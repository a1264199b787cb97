"""THE table of OICP 2.3 operations, shared by the hub's server, the hub's calls to
partners and the partner clients (digest §1.2, §8.1).

A partner's server exposes the hub's own paths under the base URL it registered, so one
path serves in two directions: AuthorizeStart is served by the hub for CPOs *and* by
online EMPs, to whom the hub forwards it. Each :class:`Operation` says:

* ``name``: the stable Python name (``OperationName``), the key everywhere else;
* ``template``: the path under ``/api/oicp`` (``BASE_PATH``), with its parameter names
  (``path_params``). Remote stop is ``{providerID}`` in the CPO file and ``{externalID}``
  in the EMP file (NOTES.md D7): the template uses ``providerID``, ``path_params`` lists
  both, :meth:`Operation.match` accepts either name, the value is the ProviderID;
* ``served_by``: the hub for CPOs, the hub for EMPs, CPO partners, EMP partners;
* ``caller``: the role a caller of the hub acts in, and the ID it acts for: the path
  parameter (``id_param``) and the body field (``id_field``, a path through nested
  objects; for the notifications, inside whichever variant ``Type`` chose) which must
  both be its own (017 otherwise, digest §6);
* ``request``/``response``: the models, named by module and class and imported when
  asked for (:meth:`ModelRef.resolve`), so this table costs nothing at import and
  names the EVSE status models of :mod:`evroam.oicp.v2_3.models.status` by name;
  ``status-records`` takes three bodies (``alternatives``; pick with
  ``models.status.pull_request_model``);
* ``paginated`` (``?page=&size=``, :mod:`evroam.oicp.v2_3.pages`), ``sequential`` (pushes
  of one operation must never overlap, digest §6) and the AUP limit in calls per minute
  (``rate_limit``; ``None`` where the AUP names none);
* ``identification``: which Identification members the operation admits
  (:func:`allowed_identifications`).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel

from evroam.oicp.v2_3.models.identification import IdentificationUse, Member, allowed_members

BASE_PATH = "/api/oicp"
_MODELS = "evroam.oicp.v2_3.models"


class OperationName(StrEnum):
    AUTHORIZE_START = "AuthorizeStart"
    AUTHORIZE_STOP = "AuthorizeStop"
    AUTHORIZE_REMOTE_START = "AuthorizeRemoteStart"
    AUTHORIZE_REMOTE_STOP = "AuthorizeRemoteStop"
    CHARGE_DETAIL_RECORD = "ChargeDetailRecord"
    GET_CHARGE_DETAIL_RECORDS = "GetChargeDetailRecords"
    PUSH_AUTHENTICATION_DATA = "PushAuthenticationData"
    RESERVATION_START = "AuthorizeRemoteReservationStart"
    RESERVATION_STOP = "AuthorizeRemoteReservationStop"
    PUSH_EVSE_DATA = "PushEvseData"
    PUSH_EVSE_STATUS = "PushEvseStatus"
    PULL_EVSE_DATA = "PullEvseData"
    PULL_EVSE_STATUS = "PullEvseStatus"
    PULL_EVSE_STATUS_BY_ID = "PullEvseStatusByID"
    PULL_EVSE_STATUS_BY_OPERATOR_ID = "PullEvseStatusByOperatorID"
    PUSH_PRICING_PRODUCT_DATA = "PushPricingProductData"
    PUSH_EVSE_PRICING = "PushEVSEPricing"
    PULL_PRICING_PRODUCT_DATA = "PullPricingProductData"
    PULL_EVSE_PRICING = "PullEVSEPricing"
    CHARGING_NOTIFICATION = "ChargingNotification"


class Server(StrEnum):
    """Who answers an operation's path."""

    HUB_FOR_CPO = "hub for CPO"
    HUB_FOR_EMP = "hub for EMP"
    CPO = "CPO partner"
    EMP = "EMP partner"


class Role(StrEnum):
    CPO = "CPO"
    EMP = "EMP"


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A model named by module (under ``evroam.oicp.v2_3.models``) and class."""

    module: str
    name: str

    @property
    def dotted(self) -> str:
        return f"{_MODELS}.{self.module}.{self.name}"

    def resolve(self) -> type[BaseModel]:
        model = getattr(importlib.import_module(f"{_MODELS}.{self.module}"), self.name)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"{self.dotted} is not a model")
        return model


ACK = ModelRef("common", "Acknowledgement")


@dataclass(frozen=True, slots=True)
class Operation:
    name: OperationName
    template: str
    path_params: tuple[str, ...]
    served_by: frozenset[Server]
    caller: Role
    id_param: str | None
    id_field: tuple[str, ...] | None
    request: ModelRef
    response: ModelRef
    alternatives: tuple[ModelRef, ...] = ()
    paginated: bool = False
    sequential: bool = False
    rate_limit: int | None = None
    identification: IdentificationUse | None = None

    @property
    def path(self) -> str:
        """The full path template, ``/api/oicp/...``."""
        return BASE_PATH + self.template

    def url(self, **params: str) -> str:
        """The path with its parameters filled in (``operator_id`` or ``provider_id``
        by their wire names: ``url(operatorID="DE*ABC")``)."""
        path = self.path
        for name in self.path_params:
            if name in params:
                path = path.replace("{" + name + "}", params[name])
        if "{" in path:
            raise ValueError(f"{self.name} needs {', '.join(self.path_params)}")
        return path

    def match(self, path: str) -> dict[str, str] | None:
        """The path parameters if ``path`` (with or without ``/api/oicp``) is this
        operation's, else ``None``. Parameters are one segment, never empty."""
        relative = path.removeprefix(BASE_PATH)
        pattern = re.escape(self.template)
        for name in self.path_params:
            pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>[^/]+)", 1)
        found = re.fullmatch(pattern, relative)
        return dict(found.groupdict()) if found else None

    @property
    def request_models(self) -> tuple[ModelRef, ...]:
        return (self.request, *self.alternatives)


def _op(
    name: OperationName,
    template: str,
    served_by: set[Server],
    caller: Role,
    id_field: tuple[str, ...] | None,
    request: ModelRef,
    response: ModelRef = ACK,
    **options: object,
) -> Operation:
    params = tuple(re.findall(r"{(\w+)}", template))
    if name is OperationName.AUTHORIZE_REMOTE_STOP:
        params = (*params, "externalID")
    return Operation(
        name=name,
        template=template,
        path_params=params,
        served_by=frozenset(served_by),
        caller=caller,
        id_param=params[0] if params else None,
        id_field=id_field,
        request=request,
        response=response,
        **options,  # type: ignore[arg-type]
    )


N = OperationName
H_CPO, H_EMP, CPO, EMP = Server.HUB_FOR_CPO, Server.HUB_FOR_EMP, Server.CPO, Server.EMP
_AUTH = IdentificationUse.AUTHORIZATION
_REMOTE = IdentificationUse.REMOTE_AUTHORIZATION
_RECORD = IdentificationUse.RECORD

OPERATIONS: tuple[Operation, ...] = (
    _op(N.AUTHORIZE_START, "/charging/v21/operators/{operatorID}/authorize/start",
        {H_CPO, EMP}, Role.CPO, ("OperatorID",),
        ModelRef("authorization", "AuthorizeStartRequest"),
        ModelRef("authorization", "AuthorizationStartResponse"),
        rate_limit=200, identification=_AUTH),
    _op(N.AUTHORIZE_STOP, "/charging/v21/operators/{operatorID}/authorize/stop",
        {H_CPO, EMP}, Role.CPO, ("OperatorID",),
        ModelRef("authorization", "AuthorizeStopRequest"),
        ModelRef("authorization", "AuthorizationStopResponse"),
        rate_limit=50, identification=_AUTH),
    _op(N.AUTHORIZE_REMOTE_START, "/charging/v21/providers/{providerID}/authorize-remote/start",
        {H_EMP, CPO}, Role.EMP, ("ProviderID",),
        ModelRef("authorization", "AuthorizeRemoteStartRequest"),
        rate_limit=100, identification=_REMOTE),
    _op(N.AUTHORIZE_REMOTE_STOP, "/charging/v21/providers/{providerID}/authorize-remote/stop",
        {H_EMP, CPO}, Role.EMP, ("ProviderID",),
        ModelRef("authorization", "AuthorizeRemoteStopRequest"),
        rate_limit=200),
    # The CDR names no OperatorID: the hub checks its EvseID's operator (018).
    _op(N.CHARGE_DETAIL_RECORD, "/cdrmgmt/v22/operators/{operatorID}/charge-detail-record",
        {H_CPO, EMP}, Role.CPO, None,
        ModelRef("cdr", "ChargeDetailRecord"),
        rate_limit=350, identification=_RECORD),
    _op(N.GET_CHARGE_DETAIL_RECORDS,
        "/cdrmgmt/v22/providers/{providerID}/get-charge-detail-records-request",
        {H_EMP}, Role.EMP, ("ProviderID",),
        ModelRef("cdr", "GetChargeDetailRecordsRequest"),
        ModelRef("cdr", "ChargeDetailRecordPage"),
        paginated=True, rate_limit=200),
    _op(N.PUSH_AUTHENTICATION_DATA, "/authdata/v21/providers/{providerID}/push-request",
        {H_EMP}, Role.EMP, ("ProviderAuthenticationData", "ProviderID"),
        ModelRef("authdata", "PushAuthenticationDataRequest"),
        sequential=True, rate_limit=50,
        identification=IdentificationUse.AUTHENTICATION_DATA),
    # The AUP names no limit for the reservation operations.
    _op(N.RESERVATION_START, "/reservation/v11/providers/{providerID}/reservation-start-request",
        {H_EMP, CPO}, Role.EMP, ("ProviderID",),
        ModelRef("reservation", "AuthorizeRemoteReservationStartRequest"),
        identification=_REMOTE),
    _op(N.RESERVATION_STOP, "/reservation/v11/providers/{providerID}/reservation-stop-request",
        {H_EMP, CPO}, Role.EMP, ("ProviderID",),
        ModelRef("reservation", "AuthorizeRemoteReservationStopRequest")),
    _op(N.PUSH_EVSE_DATA, "/evsepush/v23/operators/{operatorID}/data-records",
        {H_CPO}, Role.CPO, ("OperatorEvseData", "OperatorID"),
        ModelRef("evsedata", "PushEvseDataRequest"),
        sequential=True, rate_limit=375),
    _op(N.PUSH_EVSE_STATUS, "/evsepush/v21/operators/{operatorID}/status-records",
        {H_CPO}, Role.CPO, ("OperatorEvseStatus", "OperatorID"),
        ModelRef("status", "PushEvseStatusRequest"),
        sequential=True, rate_limit=2000),
    _op(N.PULL_EVSE_DATA, "/evsepull/v23/providers/{providerID}/data-records",
        {H_EMP}, Role.EMP, ("ProviderID",),
        ModelRef("evsedata", "PullEvseDataRequest"),
        ModelRef("evsedata", "EvseDataPage"),
        paginated=True, rate_limit=100),
    # The 2.3 EMP file has only this path, with the three bodies as a (broken) oneOf;
    # the older paths below exist in the snippets, the 2.2 Swagger and the guide.
    _op(N.PULL_EVSE_STATUS, "/evsepull/v21/providers/{providerID}/status-records",
        {H_EMP}, Role.EMP, ("ProviderID",),
        ModelRef("status", "PullEvseStatusRequest"),
        ModelRef("status", "EvseStatusResponse"),
        alternatives=(ModelRef("status", "PullEvseStatusByIdRequest"),
                      ModelRef("status", "PullEvseStatusByOperatorIdRequest")),
        rate_limit=6),
    _op(N.PULL_EVSE_STATUS_BY_ID, "/evsepull/v21/providers/{providerID}/status-records-by-id",
        {H_EMP}, Role.EMP, ("ProviderID",),
        ModelRef("status", "PullEvseStatusByIdRequest"),
        ModelRef("status", "EvseStatusByIdResponse"),
        rate_limit=300),
    _op(N.PULL_EVSE_STATUS_BY_OPERATOR_ID,
        "/evsepull/v21/providers/{providerID}/status-records-by-operator-id",
        {H_EMP}, Role.EMP, ("ProviderID",),
        ModelRef("status", "PullEvseStatusByOperatorIdRequest"),
        ModelRef("status", "EvseStatusResponse"),
        rate_limit=75),
    _op(N.PUSH_PRICING_PRODUCT_DATA, "/dynamicpricing/v10/operators/{operatorID}/pricing-products",
        {H_CPO}, Role.CPO, ("PricingProductData", "OperatorID"),
        ModelRef("pricing", "PushPricingProductDataRequest"),
        sequential=True, rate_limit=6),
    # A list of EVSE pricings, no OperatorID: the hub checks each EvseID's operator (018).
    _op(N.PUSH_EVSE_PRICING, "/dynamicpricing/v10/operators/{operatorID}/evse-pricing",
        {H_CPO}, Role.CPO, None,
        ModelRef("pricing", "PushEvsePricingRequest"),
        sequential=True, rate_limit=6),
    # The body names operators to pull from, not the caller: its ID is in the path only.
    _op(N.PULL_PRICING_PRODUCT_DATA, "/dynamicpricing/v10/providers/{providerID}/pricing-products",
        {H_EMP}, Role.EMP, None,
        ModelRef("pricing", "PullPricingProductDataRequest"),
        ModelRef("pricing", "PricingProductDataResponse"),
        rate_limit=300),
    _op(N.PULL_EVSE_PRICING, "/dynamicpricing/v10/providers/{providerID}/evse-pricing",
        {H_EMP}, Role.EMP, ("ProviderID",),
        ModelRef("pricing", "PullEvsePricingRequest"),
        ModelRef("pricing", "EvsePricingResponse"),
        rate_limit=280),
    # No ID in the path: the body's OperatorID is the caller's.
    _op(N.CHARGING_NOTIFICATION, "/notificationmgmt/v11/charging-notifications",
        {H_CPO, EMP}, Role.CPO, ("OperatorID",),
        ModelRef("notifications", "ChargingNotification"),
        rate_limit=100, identification=_RECORD),
)  # fmt: skip


def operation(name: OperationName | str) -> Operation:
    """The operation called ``name``."""
    for op in OPERATIONS:
        if op.name == name:
            return op
    raise KeyError(name)


def find(path: str) -> tuple[Operation, dict[str, str]] | None:
    """The operation whose path ``path`` is, and its parameters (remote stop's
    parameter also under ``externalID``)."""
    for op in OPERATIONS:
        params = op.match(path)
        if params is not None:
            if op.name is OperationName.AUTHORIZE_REMOTE_STOP:
                params["externalID"] = params["providerID"]
            return op, params
    return None


def allowed_identifications(name: OperationName | str) -> frozenset[Member]:
    """The Identification members ``name`` admits (digest §4, §8.6); empty for an
    operation that carries none. Check a given one with
    :func:`~evroam.oicp.v2_3.models.identification.identification_problem` and the
    operation's ``identification`` use."""
    use = operation(name).identification
    return allowed_members(use) if use is not None else frozenset()
