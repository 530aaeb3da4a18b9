"""Which links Reelscope accepts, and which of those the browser may load for a preview.

A link the user pastes goes two ways: Vertex AI fetches it for the model (from Google's network),
and the page may show it in a player (from the user's browser, on the user's network). The second
is the dangerous one: a link to 127.0.0.1, the metadata server or a router on the LAN would make
the browser (or a later server-side fetch) reach into a private network. So:

- a link whose host is, or resolves to, any address that is not globally routable is refused;
- a link whose every address is public is allowed and may be previewed;
- a link whose host cannot be resolved here (no DNS, an internal name elsewhere) is allowed,
  since Vertex AI resolves it on its own side, but is never previewed: we cannot vouch for it.

A verdict is taken against the name's addresses now; a name may resolve differently later (DNS
rebinding), which is why it refuses on *any* private address, and why a preview is fetched by
the server through `reelscope/linkfetch.py`, which checks every hop with `destination` and
connects to the very addresses it checked.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Iterable[str]]
"""Host name -> its IP addresses as strings; raises OSError when the name does not resolve."""

# Names that mean "this machine" or "the cloud metadata server" whatever DNS says (RFC 6761).
_LOCAL_NAMES = ("localhost", "metadata", "metadata.google.internal")
_LOCAL_SUFFIXES = (".localhost",)
# The NAT64 well-known prefix embeds an IPv4 address that a gateway would reach (RFC 6052).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Characters a browser and urllib parse differently (a backslash is a slash to a browser).
_AMBIGUOUS = set("\\%@ \t\r\n")
_ONLY_PUBLIC = (
    "Reelscope takes only links to public addresses: upload the file, or put it in Cloud Storage "
    "and paste its gs:// URI."
)


class LinkRefused(ValueError):
    """A link that must not be fetched; the message says why and what to do instead."""


@dataclass(frozen=True)
class Destination:
    """Where an https link leads, checked: its host name, port and every address, all public."""

    host: str
    port: int
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class LinkVerdict:
    """Whether a link may be sent to Vertex AI (`allowed`) and loaded by the browser."""

    allowed: bool
    previewable: bool
    reason: str


def system_resolve(host: str) -> list[str]:
    """The addresses the operating system resolves `host` to (raises OSError when it can't)."""
    return [info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]


def check_link(url: str, resolve: Resolver = system_resolve) -> LinkVerdict:
    """The verdict on an http(s) link: refused when it points at a non-public address."""
    try:
        host, _port = _host_of(url, ("http", "https"))
        literal = _public_literal(host)
    except LinkRefused as refused:
        return _refuse(str(refused))
    if literal is not None:
        return LinkVerdict(True, True, f"{host} is a public address.")
    return _check_name(host, resolve)


def destination(url: str, resolve: Resolver = system_resolve) -> Destination:
    """Where an https link leads, its host resolved once: every address public, or LinkRefused.

    A fetch then connects to these addresses and no others, so the name cannot be resolved
    again to somewhere else (DNS rebinding).
    """
    host, port = _host_of(url, ("https",))
    literal = _public_literal(host)
    if literal is not None:
        return Destination(host, port, (str(literal),))
    addresses = _resolved(host, resolve)
    if not addresses:
        raise LinkRefused(f"{host} could not be resolved here, so it is not fetched.")
    for address in addresses:
        why = non_public_reason(address)
        if why:
            raise LinkRefused(f"{host} resolves to {address}, {why}. {_ONLY_PUBLIC}")
    return Destination(host, port, tuple(str(a) for a in addresses))


def non_public_reason(address: IPAddress) -> str | None:
    """Why `address` must not be fetched ("a loopback address", ...), or None when it is public.

    Python's own flags decide; IPv4 embedded in IPv6 (mapped, 6to4, NAT64) is judged as IPv4,
    because Python 3.11 before 3.11.10 calls ::ffff:127.0.0.1 global.
    """
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return non_public_reason(embedded)
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_private, "a private-network address"),
        (address.is_multicast, "a multicast address"),
        (address.is_reserved, "a reserved address"),
    )
    for applies, reason in checks:
        if applies:
            return reason
    if not address.is_global:
        return "not a globally routable address"
    return None


def _host_of(url: str, schemes: tuple[str, ...]) -> tuple[str, int]:
    """The link's host as a browser would see it, and its port; LinkRefused when the link is
    malformed, ambiguous, of another scheme, or names this machine."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise LinkRefused(f"{url} is not a well-formed link.") from exc
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise LinkRefused(f"{url} is not an {' or '.join(s + '://' for s in schemes)} link.")
    if "@" in parts.netloc or _AMBIGUOUS & set(parts.netloc):
        raise LinkRefused(
            f"{url} has a user name, escapes or spaces in its host; paste the plain link."
        )
    host = _normalised_host(parts.hostname or "")
    if host is None:
        raise LinkRefused(f"{url} has no valid host name.")
    if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
        raise LinkRefused(f"{host} names this machine or its metadata server. {_ONLY_PUBLIC}")
    return host, port or (443 if scheme == "https" else 80)


def _public_literal(host: str) -> IPAddress | None:
    """The address when the host is one (LinkRefused unless it is public); None for a name."""
    try:
        literal = _ip_literal(host)
    except ValueError as exc:
        raise LinkRefused(f"{host} looks like an IP address but is not a valid one.") from exc
    if literal is not None:
        why = non_public_reason(literal)
        if why:
            raise LinkRefused(f"{host} is {why}. {_ONLY_PUBLIC}")
    return literal


def _resolved(host: str, resolve: Resolver) -> list[IPAddress]:
    """The name's addresses, once; none when it does not resolve here."""
    try:
        return [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host)]
    except (OSError, UnicodeError, ValueError):
        return []


def _check_name(host: str, resolve: Resolver) -> LinkVerdict:
    addresses = _resolved(host, resolve)
    if not addresses:
        return LinkVerdict(
            True,
            False,
            f"{host} could not be resolved here; Vertex AI will fetch it, but it is not previewed.",
        )
    for address in addresses:
        why = non_public_reason(address)
        if why:
            return _refuse(f"{host} resolves to {address}, {why}. {_ONLY_PUBLIC}")
    return LinkVerdict(True, True, f"{host} resolves only to public addresses.")


def _normalised_host(host: str) -> str | None:
    """The host as a browser would see it: IDNA-mapped (fullwidth digits become ASCII)."""
    host = host.rstrip(".")
    if not host:
        return None
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None


def _ip_literal(host: str) -> IPAddress | None:
    """The address when the host is one, including the forms browsers accept (127.1, 0x7f.1).

    Raises ValueError for a host that is numeric like an address but malformed (999.1.1.1).
    """
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    last_label = host.rsplit(".", 1)[-1]
    if not (last_label.isdigit() or last_label.startswith("0x")):
        return None
    try:  # inet_aton parses the legacy numeric forms and never touches DNS
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError as exc:
        raise ValueError(host) from exc


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _refuse(reason: str) -> LinkVerdict:
    return LinkVerdict(False, False, reason)
