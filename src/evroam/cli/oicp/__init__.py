"""``evroam oicp``: the OICP 2.3 hub (``serve``), its partners, what it keeps about
sessions and CDRs (``sessions``, ``cdrs``), and the certificate tooling a partner needs
(``csr``, ``dev-ca``, ``dev-cert``).

Each submodule adds its commands to ``app`` through its own ``register(app)``; the
list below is the one place they are wired.
"""

from __future__ import annotations

from evroam.cli.common import new_app

app = new_app("OICP 2.3: a Hubject-compatible hub, its partners and certificates.")

# Command modules, one per concept (each: ``register(app)``).
from evroam.cli.oicp import certs as _certs  # noqa: E402

_certs.register(app)
from evroam.cli.oicp import partners as _partners  # noqa: E402
from evroam.cli.oicp import serve as _serve  # noqa: E402

_serve.register(app)
_partners.register(app)
from evroam.cli.oicp import poi as _poi  # noqa: E402

_poi.register(app)
from evroam.cli.oicp import client as _client  # noqa: E402

_client.register(app)
from evroam.cli.oicp import sessions as _sessions  # noqa: E402

_sessions.register(app)
