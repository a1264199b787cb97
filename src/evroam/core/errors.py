"""Meaning-level errors raised by services; the protocol edge maps them to wire codes.

Services never know about OCPI status codes: a route catches these (or the shared
handler does) and answers with the version's envelope.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base for every outcome a service reports as a refusal rather than a crash."""


class PartnerNotFound(DomainError):
    pass


class AlreadyRegistered(DomainError):
    """A credentials POST from a partner that already completed the handshake."""


class NotRegistered(DomainError):
    """PUT/DELETE credentials or an outbound call to a partner with no handshake yet."""


class StillRegistered(DomainError):
    """An action that needs a partner without a live registration (delete, uninvite)."""


class NoInvitation(DomainError):
    """Uninvite of a partner that holds no unused token A."""


class PartyChangeRefused(DomainError):
    """A partner tried to change the country_code/party_id it registered with."""


class PartyConflict(DomainError):
    """Another partner (or this node itself) already holds that country_code/party_id."""


class InvalidInput(DomainError):
    """Input that passed the wire schema but breaks a rule (e.g. duplicate roles)."""


class PartnerUnreachable(DomainError):
    """The partner's API could not be used: down, garbage, refused our token, or errored."""


class PartnerRefused(PartnerUnreachable):
    """The partner answered, with an OCPI error or an HTTP refusal (e.g. our token)."""


class NoMutualVersion(DomainError):
    """The partner offers no version this node speaks."""


class MissingEndpoints(DomainError):
    """The partner's version details lack a module the connection needs (credentials)."""
