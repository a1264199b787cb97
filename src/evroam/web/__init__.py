"""HTTP edge: the ASGI app, authentication, error handlers and the operator API."""
