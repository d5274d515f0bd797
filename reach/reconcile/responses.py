"""Tell a response from a new connection, record by record, on whole columns.

Security groups are stateful: the response of an allowed connection passes whatever the rules say, so a
response is checked against network ACLs only (aws-semantics E.2). Three sources of evidence, best first:

1. **tcp-flags**, when logged: a SYN without ACK opens a connection, a SYN-ACK (18) answers one.
2. **Pairing** with the reverse record (same interface, addresses and ports swapped) in the same chunk of
   records or the end of the one before (the same or an adjacent aggregation window): a rejected request
   never gets a response, so a REJECT whose reverse was accepted is the response (AWS's ping example,
   aws-semantics D.3). Where the ports cannot tell (ICMP logs 0/0, equal ports), the side seen first asked,
   and at the same second the ingress side did.
3. **Ports**: the service side is the well-known port (< 1024), then a registered one, then the ephemeral
   range (32768-65535); a record sent from the service port is a response. Equal ports: a request.

Where the ports are strong — one well-known or registered, the other in a higher range, as a client's
ephemeral port always is — they are taken as they are and pairing is not looked up: it is looked up for
REJECTs whose ports are in the same range (8080 <- 1500 from a Windows client) and for ports that cannot
tell, so the common case costs a few column operations.
"""

from __future__ import annotations

import numpy as np

from reach.reconcile.arrays import mix64
from reach.reconcile.place import Placed

FLAGS, PAIRING, PORTS = 0, 1, 2
METHOD_NAMES = ("tcp_flags", "pairing", "ports")
_SYN, _SYN_ACK = 2, 18
PAIR_WINDOW = 2 * 600 + 60  # two 10-minute aggregation windows plus the 60 s logging lag (C.2)
_CARRY = 1 << 16


def _service_rank(port: np.ndarray) -> np.ndarray:
    return np.where(port < 1024, 0, np.where(port >= 32768, 2, 1))


def from_service_port(srcport: np.ndarray, dstport: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(does the record come from the service side; are the ports decisive at all; are they strong: one
    well-known or registered, the other in a higher range)."""
    rs, rd = _service_rank(srcport), _service_rank(dstport)
    from_service = (rs < rd) | ((rs == rd) & (srcport < dstport))
    decisive = (rs != rd) | (srcport != dstport)
    return from_service, decisive, rs != rd


def _pair_word(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Both addresses' low 64 bits in one word: exact for IPv4, a prefilter for IPv6."""
    with np.errstate(over="ignore"):
        return (a.astype(np.uint64) << np.uint64(32)) ^ b.astype(np.uint64)


def flow_key(placed: Placed, rows: np.ndarray, *, reverse: bool | np.ndarray) -> np.ndarray:
    """A 64-bit key of (interface, src, dst, srcport, dstport, protocol) per row; `reverse` swaps the sides
    (for every row, or where it is true)."""
    (_, sh, sl), (_, dh, dl) = placed.src, placed.dst
    sh, sl, dh, dl = sh[rows], sl[rows], dh[rows], dl[rows]
    sp, dp = placed.srcport[rows].astype(np.uint64), placed.dstport[rows].astype(np.uint64)
    if isinstance(reverse, np.ndarray):
        sh, dh = np.where(reverse, dh, sh), np.where(reverse, sh, dh)
        sl, dl = np.where(reverse, dl, sl), np.where(reverse, sl, dl)
        sp, dp = np.where(reverse, dp, sp), np.where(reverse, sp, dp)
    elif reverse:
        sh, sl, dh, dl, sp, dp = dh, dl, sh, sl, dp, sp
    ports = (placed.interface[rows].astype(np.uint64) << np.uint64(40)) | (sp << np.uint64(24)) | (
        dp << np.uint64(8)) | placed.protocol[rows].astype(np.uint64)
    return mix64(_pair_word(sl, dl), ports, sh, dh)


class ResponseClassifier:
    """Classifies the records of successive chunks; remembers the end of the previous one for pairing."""

    def __init__(self) -> None:
        # the previous chunk's latest candidates: flow key, action, start
        self._keys = np.zeros(0, dtype=np.uint64)
        self._accepted = np.zeros(0, dtype=bool)
        self._start = np.zeros(0, dtype=np.int64)
        self.methods = np.zeros(3, dtype=np.int64)  # responses found by each method

    def classify(self, placed: Placed) -> tuple[np.ndarray, np.ndarray]:
        """(is_response, method) per record."""
        flags = placed.flags
        logged = flags >= 0
        syn = logged & ((flags & _SYN_ACK) == _SYN)
        syn_ack = logged & ((flags & _SYN_ACK) == _SYN_ACK)
        by_flags = syn | syn_ack
        response = syn_ack.copy()
        method = np.where(by_flags, FLAGS, PORTS).astype(np.int8)

        from_service, decisive, strong = from_service_port(placed.srcport, placed.dstport)
        by_ports = ~by_flags & decisive
        response[by_ports] = from_service[by_ports]

        # pairing can change only what weak ports (both in the same range) or silent ones decided
        candidates = np.flatnonzero(~by_flags & ~strong)
        if len(candidates):
            self._pair(placed, candidates, decisive, response, method)
        self.methods += np.bincount(method[response], minlength=3)
        return response, method

    def _pair(self, placed: Placed, candidates: np.ndarray, decisive: np.ndarray, response: np.ndarray,
              method: np.ndarray) -> None:
        """Pair the candidates among themselves and with the previous chunk's (the reverse of a record whose
        ports are weak or silent has such ports too)."""
        forward = flow_key(placed, candidates, reverse=False)
        reverse = flow_key(placed, candidates, reverse=True)
        accept = placed.accept[candidates]
        start = placed.start[candidates]
        keys = np.concatenate([self._keys, forward])
        distinct, inverse = np.unique(keys, return_inverse=True)
        inverse = inverse.reshape(-1)
        n = len(distinct)
        accepted = np.bincount(inverse, weights=np.concatenate([self._accepted, accept]), minlength=n) > 0
        rejected = np.bincount(inverse, weights=np.concatenate([~self._accepted, ~accept]), minlength=n) > 0
        first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, inverse, np.concatenate([self._start, start]))
        own = inverse[len(self._keys):]
        pos = np.minimum(np.searchsorted(distinct, reverse), n - 1)
        paired = (distinct[pos] == reverse) & (np.abs(first[own] - first[pos]) <= PAIR_WINDOW)
        # a rejected request gets no response: the REJECT answering an accepted record is the response
        answer = paired & ~accept & accepted[pos]
        asked = paired & accept & rejected[pos] & ~accepted[pos]
        # ports that cannot tell: the side seen first asked; at the same second, the ingress side
        timed = paired & ~answer & ~asked & ~decisive[candidates]
        later = (first[own] > first[pos]) | ((first[own] == first[pos]) & placed.egress[candidates])
        decided = answer | asked | timed
        response[candidates[decided]] = (answer | (timed & later))[decided]
        method[candidates[decided]] = PAIRING
        # remember the latest candidates for the next chunk's
        recent = np.flatnonzero(start >= start.max() - PAIR_WINDOW)[-_CARRY:]
        self._keys, self._accepted, self._start = forward[recent], accept[recent], start[recent]
