"""What a verification worker imports before its job arrives (start-up, issue 21; worker rate, issue 14).

Two things make a fresh worker slow that a verification does not need:

* ``pyhanko.sign``'s package ``__init__`` imports pyHanko's signers and, with
  them, its aiohttp time-stamp client (aiohttp builds two TLS contexts from
  the system's CA bundle when it is imported): ~130 ms of a worker's ~300 ms
  of imports. A verification uses ``pyhanko.sign.validation``, ``.general``,
  ``.fields`` and ``.diff_analysis``, never a signer (``--online`` fetches
  through pyhanko-certvalidator's own fetchers).
* Modules pyHanko and cryptography import on their first use, inside a
  verification: lxml (the XMP metadata check of the difference analysis),
  the stream filters, cryptography's OpenSSL backend object.

``prepare()`` registers the package ``pyhanko.sign`` with its ``__init__``
deferred (when nothing has imported it yet): Python's import system finds
its submodules through the package's ``__path__`` as usual, and the first
look-up of a name the ``__init__`` defines (``from pyhanko.sign import
SimpleSigner``) runs it then, once: a process that goes on to sign gets the
whole package, it only pays for it later. It then imports the verifier and
the first-use modules. The fork server the HTTP route's workers come from
imports this module as its preload (so every child it forks starts
prepared), and the command line's early worker calls ``prepare()`` first.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

# Imported by the first verification in a process (pyHanko and cryptography import them inside functions).
FIRST_USE = ("lxml.etree", "pyhanko.pdf_utils.filters", "cryptography.hazmat.backends.openssl.backend")


def _defer_package_init(name: str) -> None:
    """Register package ``name`` with its ``__init__`` run on the first look-up of a name it defines."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:  # pragma: no cover
        return   # not a package any more (pyHanko's layout changed): import it as it comes
    package = importlib.util.module_from_spec(spec)

    def __getattr__(attribute: str) -> object:   # PEP 562: only for names the module lacks
        del package.__getattr__
        spec.loader.exec_module(package)      # the real __init__, into the same module object
        return getattr(package, attribute)   # AttributeError when the __init__ does not define it either

    package.__getattr__ = __getattr__  # type: ignore[attr-defined]
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    setattr(importlib.import_module(parent), child, package)


def prepare() -> None:
    """Import what a verification needs, and not pyHanko's signing side; idempotent."""
    _defer_package_init("pyhanko.sign")
    importlib.import_module("signing.verification.verifier")
    for name in FIRST_USE:
        importlib.import_module(name)


# The fork server's preload imports this module: that prepares the server, and so every child it forks.
prepare()


__all__ = ["FIRST_USE", "prepare"]
