"""Transport pieces every OCPI version shares: envelope, errors, types, pagination, headers."""
