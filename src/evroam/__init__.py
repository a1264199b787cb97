"""evroam: an open-source EV-roaming platform speaking OCPI and OICP."""

__version__ = "0.1.0"
