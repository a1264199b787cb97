"""The OICP hub's wiring: the partner-facing app, the operator API for OICP partners
(``admin.py``), and the process running both listeners (``runner.py``)."""
