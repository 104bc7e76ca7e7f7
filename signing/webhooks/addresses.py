"""Where a webhook may point, checked when it is registered and again at every delivery (issue 18, finding 6).

An MFO names the URL and the service POSTs to it from inside the
operator's network, so a URL is a way to make the service reach hosts the
MFO cannot: the cloud's instance metadata (credentials at
http://169.254.169.254/latest/...), link-local services, the host itself.
Refused always: link-local (169.254.0.0/16, fe80::/10), the cloud metadata
names and addresses below, unspecified (0.0.0.0, ::), multicast, and
reserved ranges. Refused in production mode besides: loopback, private
networks and every other address that is not globally routable (RFC 6890),
such as 100.64.0.0/10. Embedded (development) mode lets loopback and private
networks through: a developer's receiver runs on their own machine, and the
tests deliver to a loopback server.

A name is judged by every address it resolves to; one forbidden address is
enough to refuse. A name that does not resolve when it is registered is
accepted (its DNS may not be set up yet): delivery checks it. At delivery
the name is resolved once, every address checked, and the connection made to
an address that was checked, never to a second lookup's answer, so a name
that resolves to a public address at registration and to 169.254.169.254
afterwards (DNS rebinding) reaches nothing. Deliveries follow no redirects
and use no proxy from the environment: either would connect to an address
this check never saw.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from ca.errors import Problem

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance-metadata endpoints of the clouds an operator may run on. Most sit at a link-local
# address (refused anyway); these names and the few addresses outside link-local are listed.
METADATA_NAMES = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog",            # Google Cloud
    "instance-data", "instance-data.ec2.internal",                      # AWS
    "metadata.azure.com",                                               # Azure
    "metadata.tencentyun.com",                                          # Tencent Cloud
})
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",   # AWS, Google Cloud, Azure, OpenStack, Oracle, DigitalOcean, Yandex Cloud
    "169.254.170.2",     # AWS ECS task metadata
    "fd00:ec2::254",     # AWS IMDS over IPv6 (a unique-local address, not link-local)
    "100.100.100.200",   # Alibaba Cloud (shared address space, 100.64.0.0/10)
    "168.63.129.16",     # Azure WireServer (a public address)
    "192.0.0.192",       # Oracle Cloud Classic
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedAddress(OSError):
    """A delivery refused before connecting: the URL's host is or resolves to a forbidden address."""


def _embedded_ipv4(address: Address) -> Address:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4), which is where it really goes."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


@dataclass(frozen=True)
class AddressPolicy:
    """``allow_private``: loopback and private networks are allowed (embedded mode only)."""

    allow_private: bool = False

    def refusal(self, address: Address) -> str | None:
        """Why a webhook may not go to ``address``, or None when it may."""
        address = _embedded_ipv4(address)
        if address in METADATA_ADDRESSES:
            return "a cloud metadata address"
        if address.is_unspecified:
            return "an unspecified address"
        if address.is_link_local:
            return "a link-local address"
        if address.is_multicast:
            return "a multicast address"
        if address.is_loopback:
            # Before "reserved": ::1 lies in IPv6's reserved ::/8.
            return None if self.allow_private else "a loopback address (allowed in embedded mode only)"
        if address.is_reserved:
            return "a reserved address"
        if self.allow_private:
            return None
        if not address.is_global:
            return "a private or otherwise not globally routable address (allowed in embedded mode only)"
        return None

    def resolve(self, host: str, port: int) -> list[tuple]:
        """``getaddrinfo`` answers for ``host``; raises RefusedAddress if any of them is forbidden."""
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        for *_, sockaddr in answers:
            reason = self.refusal(ipaddress.ip_address(sockaddr[0].split("%")[0]))
            if reason:
                raise RefusedAddress(f"the webhook's host {host} resolves to {sockaddr[0]}, {reason}")
        return answers

    def url_problems(self, url: str) -> list[Problem]:
        """Registration: the URL's host may not be, or resolve to, a forbidden address."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as error:
            return [Problem("url", f"is not a valid URL: {error}")]
        if not host:
            return [Problem("url", "names no host")]
        if host.rstrip(".").lower() in METADATA_NAMES:
            return [Problem("url", f"names {host}, a cloud metadata service")]
        try:
            self.resolve(host, port)
        except RefusedAddress as refused:
            return [Problem("url", f"{refused}; a webhook may not point there")]
        except (OSError, UnicodeError, ValueError):
            pass   # does not resolve now: delivery checks again
        return []

    def connect(self, address: tuple[str, int], timeout: float | object = socket._GLOBAL_DEFAULT_TIMEOUT,
                source_address: tuple[str, int] | None = None) -> socket.socket:
        """``socket.create_connection`` to an address this policy checked: one lookup, no second one."""
        host, port = address
        if host.rstrip(".").lower() in METADATA_NAMES:
            raise RefusedAddress(f"the webhook's host {host} is a cloud metadata service")
        error: OSError | None = None
        for family, kind, protocol, _name, sockaddr in self.resolve(host, port):
            sock = socket.socket(family, kind, protocol)
            try:
                if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                    sock.settimeout(timeout)  # type: ignore[arg-type]
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as failed:
                sock.close()
                error = failed
        raise error or OSError(f"no address for {host}")


def _guarded(base: type[http.client.HTTPConnection], policy: AddressPolicy) -> type[http.client.HTTPConnection]:
    class Guarded(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - http.client's signature
            super().__init__(*args, **kwargs)
            # http.client connects through this attribute; TLS then verifies the certificate
            # against the URL's host name as usual.
            self._create_connection = policy.connect

    return Guarded


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        return None   # a 3xx is an answer that is not 2xx: retried, never followed


class GuardedTransport:
    """POSTs over urllib that connect only to addresses the policy allows (the webhooks' default)."""

    def __init__(self, policy: AddressPolicy) -> None:
        http_connection, https_connection = (_guarded(http.client.HTTPConnection, policy),
                                             _guarded(http.client.HTTPSConnection, policy))

        class HTTPHandler(urllib.request.HTTPHandler):
            def http_open(self, req):  # noqa: ANN001, ANN202 - urllib's signature
                return self.do_open(http_connection, req)

        class HTTPSHandler(urllib.request.HTTPSHandler):
            def https_open(self, req):  # noqa: ANN001, ANN202 - urllib's signature
                return self.do_open(https_connection, req, context=self._context)

        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), HTTPHandler(), HTTPSHandler(),
                                                   _NoRedirects())

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except urllib.error.URLError as error:
            # urllib wraps the connection's OSError; the refusal's own words are the useful part.
            raise error.reason if isinstance(error.reason, OSError) else OSError(str(error.reason)) from error


__all__ = ["METADATA_ADDRESSES", "METADATA_NAMES", "AddressPolicy", "GuardedTransport", "RefusedAddress"]
