"""Which lease owners a restarted worker may take entries back from (``died_here``):
only workers of this host whose process is gone; a live process, another host's worker
or a malformed owner keeps its lease until it runs out."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from evroam.push.worker import died_here

HOST = socket.gethostname()
ME = f"{HOST}:{os.getpid()}:aaaa1111"


def test_a_process_that_exited_died_here() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert died_here(f"{HOST}:{child.pid}:bbbb2222", ME)


def test_a_running_process_did_not_die() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert not died_here(f"{HOST}:{child.pid}:bbbb2222", ME)
    finally:
        child.kill()
        child.wait()


def test_our_own_pid_under_another_nonce_is_a_predecessor() -> None:
    """A container restarted keeps its hostname and often its pid (1)."""
    assert died_here(f"{HOST}:{os.getpid()}:cccc3333", ME)
    assert not died_here(ME, ME)


def test_another_hosts_worker_and_malformed_owners_are_not_judged() -> None:
    assert not died_here("elsewhere.example:999999:dddd4444", ME)
    assert not died_here("garbage", ME)
    assert not died_here(f"{HOST}:notapid:eeee5555", ME)
