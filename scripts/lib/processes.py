"""Process hygiene and polling for the test drivers (Tests/system/nspawn.py,
scripts/vm/vmrunner.py) and what uses them. Python 3.11 standard library.

    from processes import Timeout, wait_until, die_with_parent, sigterm_to_exit
"""
import ctypes
import signal
import threading
import time

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


class Timeout(AssertionError):
    pass


def wait_until(predicate, timeout, interval=0.1, message="condition", alive=None, fatal=()):
    """Polls predicate() until it returns something truthy (which is returned)
    or raises Timeout after `timeout` seconds. An exception from predicate
    counts as "not yet" (the last one is reported on timeout), except those of
    the types in `fatal`, which end the wait at once. `alive()`, when given, is
    called each round and may raise to stop early (the process being waited
    on has died)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        if alive is not None:
            alive()
        try:
            value = predicate()
            if value:
                return value
        except fatal:
            raise
        except Exception as e:  # noqa: BLE001 - polling
            last_error = e
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise Timeout(f"timed out after {timeout}s waiting for {message}{detail}")
        time.sleep(interval)


def die_with_parent(sig=signal.SIGTERM):
    """A preexec_fn: the child gets `sig` when the thread that started it dies
    (prctl PR_SET_PDEATHSIG), so a killed test run leaves no VM or container."""
    def set_death_signal():
        _libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    return set_death_signal


def sigterm_to_exit():
    """Under pytest, SIGTERM would skip atexit handlers and leave children
    running: turn it into SystemExit (only if nobody else handles SIGTERM)."""
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        def handler(signum, frame):
            raise SystemExit(128 + signum)
        signal.signal(signal.SIGTERM, handler)
