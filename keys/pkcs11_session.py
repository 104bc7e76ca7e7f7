"""What a process shares of each PKCS#11 module and token: the login, and the lock every call goes through.

Used by keys/pkcs11.py (the key backend).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from pkcs11 import exceptions as p11e

# PKCS#11 login state belongs to the application and token, not the session,
# and C_Logout on any session logs out all of them. So one session per token
# holds the login for the whole process and is never closed; each backend
# works in its own PIN-less session that inherits it.
_logins: dict[tuple[str, str], Any] = {}
_logins_lock = threading.Lock()

# python-pkcs11 initialises a module with C_Initialize(NULL) and lets go of the GIL in every call. With no
# initialisation arguments a module may assume that the application never calls it from two threads at once
# (PKCS#11 v2.40, section 5.4), and SoftHSM2 then turns its own locks off: two request threads signing, or
# one signing while another generates a key, corrupt its state and get CKR_GENERAL_ERROR (issue 17). So every
# call into a module goes through that module's one lock in this process.
_library_locks: dict[str, threading.RLock] = {}
# How many times each module was initialised again in this process: sessions and object handles from before
# are void, and the module may give their numbers to other sessions and objects (a backend checks its epoch).
_epochs: dict[str, int] = {}


def library_lock(module_path: str) -> threading.RLock:
    with _logins_lock:
        return _library_locks.setdefault(os.path.realpath(module_path), threading.RLock())


def login(token: Any, module_path: str, token_label: str, user_pin: str) -> None:
    with _logins_lock:
        if (module_path, token_label) in _logins:
            return
        try:
            _logins[(module_path, token_label)] = token.open(rw=True, user_pin=user_pin)
        except p11e.UserAlreadyLoggedIn:
            # Someone else in this process logged in outside this module; the
            # login is shared, so there is nothing left to do.
            _logins[(module_path, token_label)] = None


def forget_login(module_path: str, token_label: str) -> None:
    with _logins_lock:
        _logins.pop((module_path, token_label), None)


def reinitialise(module_path: str) -> None:
    """C_Finalize and C_Initialize the module (the caller holds its lock): every session of the process closes;
    each backend sees the new epoch at its next call, drops its session and the object handles it kept (the
    module may reuse their numbers), opens a new session and logs in again. SoftHSM2 keeps an object it read while
    another process was still writing it broken until then (issue 17)."""
    import pkcs11

    with _logins_lock:
        for key in [k for k in _logins if k[0] == module_path]:
            del _logins[key]
        library = os.path.realpath(module_path)   # as the lock: one library, whatever path names it
        _epochs[library] = _epochs.get(library, 0) + 1
    pkcs11.lib(module_path).reinitialize()


def epoch(library: str) -> int:
    """How many times the module at ``library`` (its real path) was initialised again in this process."""
    return _epochs.get(library, 0)


__all__ = ["epoch", "forget_login", "library_lock", "login", "reinitialise"]
