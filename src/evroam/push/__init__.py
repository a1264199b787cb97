"""Push: the durable outbox (``outbox.py``), its delivery (``worker.py``) and the retry
policy (``retry.py``); DESIGN.md "Push and outbox"."""
