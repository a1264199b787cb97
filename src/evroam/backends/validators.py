"""The OCPI 2.2.1 checks of what a charge-point backend reports
(:class:`~evroam.services.backend_reports.ReportValidators`): the services hold no wire
model, so the edge hands them these, and a document a charger system reports passes the
same models as one an operator or a partner sends."""

from __future__ import annotations

from pydantic import ValidationError

from evroam.core.errors import InvalidInput
from evroam.core.objects import Document, StoredObject
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.v2_2_1.cdrs.convert import to_stored
from evroam.ocpi.v2_2_1.cdrs.models import CDR
from evroam.ocpi.v2_2_1.locations.convert import validate_evse_patch
from evroam.ocpi.v2_2_1.sessions.convert import validate_session
from evroam.services.backend_reports import ReportValidators


def validate_cdr(doc: Document) -> StoredObject:
    """A whole CDR as the node sends one (the token's owner required: the CDR goes to
    that eMSP), stored in canonical form; InvalidInput naming the bad field."""
    try:
        return to_stored(CDR.model_validate(doc))
    except ValidationError as exc:
        raise InvalidInput(f"CDR: {describe_validation_error(exc)}") from None


def ocpi_validators() -> ReportValidators:
    return ReportValidators(
        session=validate_session, evse_patch=validate_evse_patch, cdr=validate_cdr
    )
