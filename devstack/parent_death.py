"""Child processes the kernel signals when their parent dies, even of SIGKILL (Linux)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        # Resolved now, in the parent: the forked child should do as little as possible.
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


_prctl = _load_prctl()


def exit_with_parent(signum: signal.Signals) -> Callable[[], None] | None:
    """A `preexec_fn` that has the child sent `signum` when this process dies; None if unsupported.

    A SIGKILLed parent runs no cleanup, so only the kernel can tell its children. It does so
    when the *thread* that forked the child ends, so this is armed only for children started
    from the main thread; a short-lived thread would take its children down with it.
    """
    prctl = _prctl
    if prctl is None or threading.current_thread() is not threading.main_thread():
        return None
    parent = os.getpid()

    def arm() -> None:
        # The parent's Python handler for this signal lives on until exec; the default
        # action must be in place before the signal can arrive, or it would be swallowed.
        if signum != signal.SIGKILL:  # SIGKILL has no handler to reset, and cannot have one
            signal.signal(signum, signal.SIG_DFL)
        prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
        # A parent that died before prctl took effect would never send the signal.
        if os.getppid() != parent:
            os._exit(1)

    return arm
