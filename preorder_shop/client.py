"""Who is asking: the client address a rate limit may key on.

Behind a load balancer REMOTE_ADDR is the balancer's address, so X-Forwarded-For is read,
but only as far as it was written by proxies we trust (settings.TRUSTED_PROXIES, addresses
or networks; none by default, so a forged header changes nothing). Walking the header from
the right, the first hop that is not a trusted proxy is the client.

An IPv6 client is keyed by its /64: one subscriber line gets a whole /64 and could otherwise
step through addresses. Per-address limits are ceilings against floods, set for carrier-grade
NAT, where thousands of customers share one address; the limits that protect one person are
keyed on the number or the signed-in customer instead.
"""

import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def _trusted(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _parse(value: str) -> Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _is_trusted(address: Address) -> bool:
    return any(address in network for network in _trusted(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request: HttpRequest) -> Address | None:
    """The client's address, or None when not even REMOTE_ADDR is an address."""
    address = _parse(request.META.get("REMOTE_ADDR", ""))
    if address is None or not _is_trusted(address):
        return address
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        forwarded = _parse(hop)
        if forwarded is None:
            break  # a hop our proxies did not write: believe nothing further left
        address = forwarded
        if not _is_trusted(address):
            break
    return address


def client_key(request: HttpRequest) -> str:
    """The address as a rate-limit subject: IPv4 as it is, IPv6 by its /64."""
    address = client_ip(request)
    if address is None:
        return "unknown"
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
