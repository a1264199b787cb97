"""OICP (Hubject's Open InterCharge Protocol): the hub and the partner clients.

Versions are packages (``v2_3``), as for OCPI; they never import each other.
"""
