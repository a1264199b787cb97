"""OCPI 2.2.1 credentials module: the token A/B/C handshake, update and unregister."""
