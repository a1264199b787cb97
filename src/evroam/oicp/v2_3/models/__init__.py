"""OICP 2.3 wire models, one module per concept (``common``, ``identification``,
``geo``, ``evse``, ``evsedata``, ``authorization``, ``reservation``, ``cdr``,
``notifications``, ``authdata``, ``pricing``; ``status`` holds the EVSE status messages).

Import from the module that defines a model; this package builds nothing at import.
"""
