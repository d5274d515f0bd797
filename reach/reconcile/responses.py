"""Tell a response from a new connection, record by record, on whole columns.

Security groups are stateful: the response of an allowed connection passes whatever the rules say, so a
response is checked against network ACLs only (aws-semantics E.2). Three sources of evidence, best first:

1. **tcp-flags**, when logged: a SYN without ACK opens a connection, a SYN-ACK (18) answers one.
2. **Pairing** with the reverse record (same interface, addresses and ports swapped) seen within
   PAIR_WINDOW (the same or an adjacent aggregation window), wherever it is in the input: a rejected request
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
_LATE = np.iinfo(np.int64).max


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


def pair_partition(placed: Placed, rows: np.ndarray, partitions: int) -> np.ndarray:
    """The partition of each row's connection: a record and its reverse land in the same one."""
    forward = flow_key(placed, rows, reverse=False)
    reverse = flow_key(placed, rows, reverse=True)
    return (np.minimum(forward, reverse) % np.uint64(partitions)).astype(np.int64)


class ResponseClassifier:
    """Tells responses in two steps: `tell` decides every record the flags or the ports can tell and names
    the rest (pairing candidates); `resolve` pairs candidates once all of them are in, so the answer never
    depends on how the records were split into chunks, files, worker processes or Spark partitions.
    `classify` does both, for records that hold every record of their connections."""

    def __init__(self) -> None:
        self.methods = np.zeros(3, dtype=np.int64)  # responses found by each method

    def classify(self, placed: Placed) -> tuple[np.ndarray, np.ndarray]:
        """(is_response, method) per record, pairing within `placed`."""
        response, method, candidate = self.tell(placed)
        held = np.flatnonzero(candidate)
        response[held], method[held] = self.resolve(placed.take(held))
        return response, method

    def tell(self, placed: Placed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(is_response, method, candidate) per record; a candidate's answer waits for `resolve`."""
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
        candidate = ~by_flags & ~strong
        return response, method, candidate

    def count(self, response: np.ndarray, method: np.ndarray) -> None:
        self.methods += np.bincount(method[response], minlength=3)

    def resolve(self, placed: Placed) -> tuple[np.ndarray, np.ndarray]:
        """(is_response, method) of candidates, every one of a connection (both ways) in `placed`.

        Records are paired in windows of PAIR_WINDOW seconds: a record's reverse counts when it was seen in
        the same window or the one on either side, and within PAIR_WINDOW of it (first seen on each side).
        """
        from_service, decisive, _ = from_service_port(placed.srcport, placed.dstport)
        response = from_service & decisive
        method = np.full(len(placed), PORTS, dtype=np.int8)
        if not len(placed):
            return response, method
        every = np.arange(len(placed))
        forward = flow_key(placed, every, reverse=False)
        reverse = flow_key(placed, every, reverse=True)
        window = placed.start // PAIR_WINDOW
        cells, inverse = np.unique(mix64(forward, window.astype(np.uint64)), return_inverse=True)
        inverse = inverse.reshape(-1)
        n = len(cells)
        accepted = np.bincount(inverse, weights=placed.accept, minlength=n) > 0
        rejected = np.bincount(inverse, weights=~placed.accept, minlength=n) > 0
        first = np.full(n, _LATE, dtype=np.int64)
        np.minimum.at(first, inverse, placed.start)

        def around(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            """Over the windows either side of each row's: (any such cell, any accepted, any rejected, first)."""
            found = np.zeros(len(key), dtype=bool)
            acc, rej = found.copy(), found.copy()
            earliest = np.full(len(key), _LATE, dtype=np.int64)
            for shift in (-1, 0, 1):
                cell = mix64(key, (window + shift).astype(np.uint64))
                pos = np.minimum(np.searchsorted(cells, cell), n - 1)
                hit = cells[pos] == cell
                found |= hit
                acc |= hit & accepted[pos]
                rej |= hit & rejected[pos]
                earliest = np.where(hit, np.minimum(earliest, first[pos]), earliest)
            return found, acc, rej, earliest

        _, _, _, own_first = around(forward)
        found, their_accepted, their_rejected, their_first = around(reverse)
        paired = found & (np.abs(own_first - their_first) <= PAIR_WINDOW)
        accept = placed.accept
        # a rejected request gets no response: the REJECT answering an accepted record is the response
        answer = paired & ~accept & their_accepted
        asked = paired & accept & their_rejected & ~their_accepted
        # ports that cannot tell: the side seen first asked; at the same second, the ingress side
        timed = paired & ~answer & ~asked & ~decisive
        later = (own_first > their_first) | ((own_first == their_first) & placed.egress)
        decided = answer | asked | timed
        response[decided] = (answer | (timed & later))[decided]
        method[decided] = PAIRING
        return response, method
