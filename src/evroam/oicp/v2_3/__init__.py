"""OICP 2.3: wire models, identifiers, status codes, the operation table, the hub
(``hub/``) and the partner clients and servers (``partner/``)."""
