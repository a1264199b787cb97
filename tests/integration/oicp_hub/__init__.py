"""The OICP hub as a real process: mutual TLS, partners, EVSE statuses."""
