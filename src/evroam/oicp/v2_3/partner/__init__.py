"""The partner side of OICP 2.3: what a CPO or an EMP runs to talk to Hubject or to
this hub.

* ``client.py``: the call machinery (mutual TLS, the operation table, answers parsed,
  refusals raised, HTTP 429 backoff, sequential pushes, paging);
* ``cpo.py`` / ``emp.py``: ``CpoClient`` and ``EmpClient``, a typed method per operation;
* ``server.py``, ``cpo_server.py``, ``emp_server.py``: the ASGI apps a CPO and an online
  EMP serve for the hub's calls, around a handler the application implements;
* ``from_ocpi.py``: OCPI 2.2.1 Locations of an evroam node as EVSE data records.

Import from the module that defines a name; this package builds nothing at import.
"""
