"""Tenants for the tests (issue 15): every MFO that signs is a registered tenant with its own seal.

``ensure_tenant(services, "alpha")`` creates the tenant ``alpha`` once (a
legal name and a valid BIN made from the code, its seal issued by our
national CA into the services' key backend) and returns its view; the
suite's fixtures call it before they make an mfo key or sign for a tenant.
"""

from __future__ import annotations

import zlib

from ca.identity import iin_check_digit


def legal_bin(serial: int) -> str:
    """A valid BIN of a resident legal entity (5th digit 4, KZ BIN layout) for ``serial``; never joint (6)."""
    for n in range(serial, serial + 100):
        first11 = f"0712400{n % 10000:04d}"
        check = iin_check_digit(first11)
        if check is not None:
            return first11 + str(check)
    raise AssertionError("no check digit found")


def tenant_name(code: str) -> str:
    return f'ТОО "МФО {code.upper()}"'


def ensure_tenant(services, code: str, *, name: str | None = None, bin_: str | None = None):
    """The tenant ``code``, created with a national seal when it does not exist yet."""
    from ca.errors import NotFound
    from signing.tenants import NewTenant

    try:
        return services.tenants.get(code)
    except NotFound:
        pass
    from ca.errors import ConflictError

    bin_ = bin_ or legal_bin(zlib.crc32(code.encode()) % 9000)
    try:
        return services.tenants.create("test", NewTenant(name=name or tenant_name(code), bin=bin_, code=code))
    except ConflictError:   # another thread of the test made it meanwhile (test_concurrency.py)
        return services.tenants.get(code)
