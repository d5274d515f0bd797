"""Redact a snapshot so it can be attached to a ticket: account ids and public IPv4 addresses replaced.

The replacement is consistent within a snapshot (the same input always gets the same replacement, in every
file, in ARNs, descriptions and `ec2-1-2-3-4…` DNS names alike) and deterministic (replacements are handed
out in order of first appearance, so the same snapshot redacts the same way twice, and the order reveals
nothing about the real values):

* account ids become 12-digit fakes (`100000000001`, `100000000002`, …);
* public IPv4 addresses and CIDRs move into 198.18.0.0/15 (RFC 2544's benchmarking range, never routed on
  the internet) so that containment is kept: an address inside a CIDR stays inside that CIDR's replacement,
  and disjoint ranges stay disjoint. Rules, routes and addresses therefore still match each other the same
  way, and the redacted snapshot explains the same flows.

Left as they are: private and other special-purpose ranges (RFC 6890: 10/8, 172.16/12, 192.168/16,
100.64/10, the documentation ranges, …), `0.0.0.0/0`, IPv6, names and tags. A public range wide enough to
overlap a special-purpose range (say 128.0.0.0/1) is also left alone; it may then cover replaced addresses it
did not cover before.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from reach.errors import ReachError

TARGET = IPv4Network("198.18.0.0/15")

_SPECIAL = tuple(
    IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)

# An IPv4 address with an optional prefix length, not glued to other digits or dots (so 1.2.3.4.5 is skipped).
_IPV4 = re.compile(r"(?<![\d.])((?:\d{1,3}\.){3}\d{1,3})(?:/(\d{1,2}))?(?![\d.]|/\d)")
# EC2 public DNS names spell the address with dashes: ec2-54-12-1-9.compute-1.amazonaws.com
_DNS = re.compile(r"\bec2-(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})\b")
_ACCOUNT = re.compile(r"^\d{12}$")
_ARN_ACCOUNT = re.compile(r"arn:aws[\w-]*:[\w-]*:[\w-]*:(\d{12}):")
_FIRST_FAKE = 100_000_000_001


class RedactError(ReachError):
    pass


class Redactor:
    """Learns a snapshot's account ids and public IPv4 ranges (`scan`), then rewrites values (`apply`)."""

    def __init__(self) -> None:
        self._accounts: dict[str, str] = {}
        self._networks: dict[IPv4Network, None] = {}  # first-appearance order
        self._mapped: dict[IPv4Network, IPv4Network] | None = None
        self._account_pattern: re.Pattern[str] | None = None

    # --- learning ---------------------------------------------------------------------------------------

    def scan(self, value: Any) -> None:
        for text in _strings(value):
            if _ACCOUNT.match(text):
                self._learn_account(text)
            for match in _ARN_ACCOUNT.finditer(text):
                self._learn_account(match.group(1))
            for address, prefix in _ipv4_tokens(text):
                network = _network(address, prefix)
                if network is not None and _is_public(network):
                    self._networks.setdefault(network, None)
            for match in _DNS.finditer(text):
                network = _network(".".join(match.groups()), None)
                if network is not None and _is_public(network):
                    self._networks.setdefault(network, None)
        self._mapped = None
        self._account_pattern = None

    def _learn_account(self, account: str) -> None:
        if account not in self._accounts:
            self._accounts[account] = ""  # the fake is assigned once every real id is known

    # --- rewriting --------------------------------------------------------------------------------------

    def account(self, account: str) -> str:
        """The fake for one account id (ids never scanned are returned unchanged)."""
        self._prepare()
        return self._accounts.get(account, account)

    def address(self, text: str) -> str:
        """The replacement for one address or CIDR, as text (unchanged when not public)."""
        address, _, prefix = text.partition("/")
        network = _network(address, prefix or None)
        mapped = self._map(network) if network is not None else None
        if mapped is None:
            return text
        if not prefix:
            return str(_host(mapped))
        return f"{_host(mapped)}/32" if network is not None and network.prefixlen == 32 else str(mapped)

    def apply(self, value: Any) -> Any:
        """A copy of `value` with every account id and public IPv4 address in keys and strings replaced."""
        self._prepare()
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, Mapping):
            return {self._text(k) if isinstance(k, str) else k: self.apply(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.apply(v) for v in value]
        return value

    def _text(self, text: str) -> str:
        if self._account_pattern is not None:
            text = self._account_pattern.sub(lambda m: self._accounts[m.group(0)], text)
        text = _IPV4.sub(lambda m: self.address(m.group(0)), text)
        return _DNS.sub(lambda m: "ec2-" + self.address(".".join(m.groups())).replace(".", "-"), text)

    def _map(self, network: IPv4Network) -> IPv4Network | None:
        self._prepare()
        return self._mapped.get(network) if self._mapped is not None else None

    def _prepare(self) -> None:
        if self._mapped is None:
            self._assign_accounts()
            self._mapped = _allocate(list(self._networks))
            if self._accounts:
                ids = sorted(self._accounts, key=len, reverse=True)
                self._account_pattern = re.compile(r"(?<!\d)(?:" + "|".join(ids) + r")(?!\d)")

    def _assign_accounts(self) -> None:
        real = set(self._accounts)
        used = {fake for fake in self._accounts.values() if fake}
        candidate = _FIRST_FAKE
        for account, fake in self._accounts.items():
            if fake:
                continue
            while f"{candidate:012d}" in real or f"{candidate:012d}" in used:
                candidate += 1
            self._accounts[account] = f"{candidate:012d}"
            used.add(self._accounts[account])
            candidate += 1


def redact_snapshot(
    documents: Mapping[str, Any], *, extra: Iterable[Any] = ()
) -> tuple[dict[str, Any], Redactor]:
    """Redact a snapshot given as {relative path: document}; account ids in the paths are replaced too.

    `extra` values (a manifest's identity, error messages) are scanned with the documents, so they redact
    consistently with them when passed to the returned redactor's `apply`.
    """
    redactor = Redactor()
    for path, document in documents.items():
        redactor.scan(path.split("/"))
        redactor.scan(document)
    for value in extra:
        redactor.scan(value)
    redacted = {
        "/".join(redactor.apply(path.split("/"))): redactor.apply(doc) for path, doc in documents.items()
    }
    return redacted, redactor


# --- the address allocation ---------------------------------------------------------------------------------


def _allocate(networks: list[IPv4Network]) -> dict[IPv4Network, IPv4Network]:
    """Map each network into TARGET, keeping containment and disjointness.

    The networks form a forest by containment. Each node's children share its block: with k children the
    block is cut into the next power of two >= k + 1 equal parts, part 0 left for the node's own addresses
    and parts 1..k handed to the children in order of first appearance, recursively.
    """
    parents: dict[IPv4Network, IPv4Network | None] = {}
    known = set(networks)
    for network in networks:
        parents[network] = next(
            (
                network.supernet(new_prefix=p)
                for p in range(network.prefixlen - 1, -1, -1)
                if network.supernet(new_prefix=p) in known
            ),
            None,
        )
    children: dict[IPv4Network | None, list[IPv4Network]] = {}
    for network in networks:
        children.setdefault(parents[network], []).append(network)
    mapped: dict[IPv4Network, IPv4Network] = {}
    stack: list[tuple[IPv4Network | None, IPv4Network]] = [(None, TARGET)]
    while stack:
        node, block = stack.pop()
        kids = children.get(node, [])
        if not kids:
            continue
        bits = max(1, math.ceil(math.log2(len(kids) + 1)))
        if block.prefixlen + bits > 32:
            raise RedactError(
                f"--redact: too many public addresses to map into {TARGET} keeping which range holds which"
            )
        parts = list(block.subnets(prefixlen_diff=bits))
        for kid, part in zip(kids, parts[1:], strict=False):
            mapped[kid] = part
            stack.append((kid, part))
    return mapped


def _host(block: IPv4Network) -> IPv4Address:
    """An address stands for itself: the first usable address of its block (the block itself for a /32)."""
    return block.network_address + 1 if block.num_addresses > 2 else block.network_address


def _network(address: str, prefix: str | None) -> IPv4Network | None:
    try:
        return IPv4Network(f"{address}/{prefix or 32}", strict=False)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError):
        return None  # 999.1.2.3, a version string: not an address


def _is_public(network: IPv4Network) -> bool:
    return not any(network.overlaps(special) for special in _SPECIAL)


def _ipv4_tokens(text: str) -> Iterator[tuple[str, str | None]]:
    for match in _IPV4.finditer(text):
        yield match.group(1), match.group(2)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str):
                yield key
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
