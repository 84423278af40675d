"""Waiting on a condition, never for a fixed time: a test waits exactly as long as the thing takes."""

import threading
import time


def wait_until(condition, *, timeout: float = 10.0, what: str = "the condition") -> None:
    """Return as soon as `condition()` is true; fail the test if it is not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(0.01)


def live_server_idle() -> bool:
    """No request is being answered by the live server (its request threads are all done): a slow answer a
    client gave up on has finished, and wrote what it writes, before the test's database goes away."""
    return not any("process_request_thread" in thread.name for thread in threading.enumerate())
