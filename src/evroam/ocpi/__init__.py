"""OCPI: one package per version, shared transport in ``common``."""
