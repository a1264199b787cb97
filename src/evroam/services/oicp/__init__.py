"""Use cases of the OICP hub, on core types and ports only (``core/oicp.py``,
``core/ports.py``): its partners (``partners.py``) and one module per service of the
OICP operation table (``status.py`` for eRoamingEVSEStatus). The wire layer
(``oicp/v2_3``) validates IDs and computes their canonical forms before calling here."""
