"""Address classes: each family's address space cut at every rule-line and subnet boundary of a network.

Two addresses in one class are treated alike by every rule table and every "is it inside the subnet" test,
so evaluating one representative per class is exact. Reconcile classifies millions of record addresses
this way; the interface decision memoises each rule table's answer per class of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from reach.model.addr import IPV4, IPV6, Cidr, split
from reach.model.network import Network
from reach.model.rules import RuleTable
from reach.model.services import service_addresses

_U128 = np.dtype([("hi", "<u8"), ("lo", "<u8")])
_TOP = (1 << 128) - 1


@dataclass(frozen=True)
class AddressClasses:
    """Each family's address space cut at every rule-line and subnet boundary of a network.

    `classify` returns a global class id (IPv4 classes first, then IPv6; -1 for a row that is not an
    address); `representative` gives an address inside each class, the one the kernel evaluates.
    """

    v4_bounds: np.ndarray  # uint64, sorted, starting at 0
    v6_bounds: np.ndarray  # _U128, sorted, starting at ::

    @classmethod
    def of(cls, network: Network) -> AddressClasses:
        """Cut at every line of every security group and network ACL, at every subnet, and around every
        address the interface decision leaves unfiltered (`reach.model.services`)."""
        tables: list[RuleTable] = [t for acl in network.nacls.values() for t in (acl.ingress, acl.egress)]
        tables += [t for g in network.security_groups.values() for t in (g.ingress, g.egress)]
        ranges = [line.peer for table in tables for line in table.lines if line.peer is not None]
        ranges += service_addresses(network)
        return cls.cut(ranges + [cidr for subnet in network.subnets.values() for cidr in subnet.cidrs])

    @classmethod
    def cut(cls, ranges: Iterable[Cidr]) -> AddressClasses:
        """The classes of the address space cut at the start and past the end of each range."""
        v4: set[int] = {0}
        v6: set[int] = {0}
        for cidr in ranges:
            (v4 if cidr.family == IPV4 else v6).update((cidr.start, cidr.end + 1))
        v4_bounds = np.array(sorted(b for b in v4 if b < 1 << 32), dtype=np.uint64)
        v6_bounds = np.array([split(b) for b in sorted(b for b in v6 if b <= _TOP)], dtype=_U128)
        return cls(v4_bounds, v6_bounds)

    @property
    def count(self) -> int:
        return len(self.v4_bounds) + len(self.v6_bounds)

    def classify(self, family: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
        out = np.full(len(family), -1, dtype=np.int64)
        is4 = family == IPV4
        out[is4] = np.searchsorted(self.v4_bounds, lo[is4], side="right") - 1
        is6 = family == IPV6
        if is6.any():
            probe = np.empty(int(is6.sum()), dtype=_U128)
            probe["hi"], probe["lo"] = hi[is6], lo[is6]
            out[is6] = len(self.v4_bounds) + np.searchsorted(self.v6_bounds, probe, side="right") - 1
        return out

    def representative(self, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(family, hi, lo) of an address in each class."""
        n4 = len(self.v4_bounds)
        is4 = classes < n4
        family = np.where(is4, IPV4, IPV6).astype(np.int8)
        hi = np.zeros(len(classes), dtype=np.uint64)
        lo = np.zeros(len(classes), dtype=np.uint64)
        lo[is4] = self.v4_bounds[classes[is4]]
        six = self.v6_bounds[classes[~is4] - n4]
        hi[~is4], lo[~is4] = six["hi"], six["lo"]
        return family, hi, lo
