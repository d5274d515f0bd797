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

Pairing is only looked up for the records it can change (REJECTs, and records whose ports cannot tell), so
the common case costs a few column operations.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reach.reconcile.arrays import mix64
from reach.reconcile.place import Placed

FLAGS, PAIRING, PORTS = 0, 1, 2
METHOD_NAMES = ("tcp_flags", "pairing", "ports")
_SYN, _SYN_ACK = 2, 18
PAIR_WINDOW = 2 * 600 + 60  # two 10-minute aggregation windows plus the 60 s logging lag (C.2)
_CARRY = 1 << 18


def _service_rank(port: np.ndarray) -> np.ndarray:
    return np.where(port < 1024, 0, np.where(port >= 32768, 2, 1))


def from_service_port(srcport: np.ndarray, dstport: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(does the record come from the service side, are the ports decisive at all)."""
    rs, rd = _service_rank(srcport), _service_rank(dstport)
    from_service = (rs < rd) | ((rs == rd) & (srcport < dstport))
    decisive = (rs != rd) | (srcport != dstport)
    return from_service, decisive


def _pair_word(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Both addresses' low 64 bits in one word: exact for IPv4, a prefilter for IPv6."""
    with np.errstate(over="ignore"):
        return (a.astype(np.uint64) << np.uint64(32)) ^ b.astype(np.uint64)


def flow_key(placed: Placed, rows: np.ndarray, *, reverse: bool) -> np.ndarray:
    """A 64-bit key of (interface, src, dst, srcport, dstport, protocol) per row; `reverse` swaps the sides."""
    (_, sh, sl), (_, dh, dl) = placed.src, placed.dst
    sp, dp = placed.srcport[rows].astype(np.uint64), placed.dstport[rows].astype(np.uint64)
    if reverse:
        sh, sl, dh, dl, sp, dp = dh, dl, sh, sl, dp, sp
    ports = (placed.interface[rows].astype(np.uint64) << np.uint64(40)) | (sp << np.uint64(24)) | (
        dp << np.uint64(8)) | placed.protocol[rows].astype(np.uint64)
    return mix64(_pair_word(sl[rows], dl[rows]), ports, sh[rows], dh[rows])


def _member(keys: np.ndarray, value_set: np.ndarray) -> np.ndarray:
    if not len(value_set) or not len(keys):
        return np.zeros(len(keys), dtype=bool)
    found = pc.is_in(pa.array(keys), value_set=pa.array(value_set))
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


class ResponseClassifier:
    """Classifies the records of successive chunks; remembers the end of the previous one for pairing."""

    def __init__(self) -> None:
        self._carry_word = np.zeros(0, dtype=np.uint64)  # accepted records' reversed address words
        self._carry_key = np.zeros(0, dtype=np.uint64)  # and their reversed flow keys
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

        from_service, decisive = from_service_port(placed.srcport, placed.dstport)
        by_ports = ~by_flags & decisive
        response[by_ports] = from_service[by_ports]

        accepted = np.flatnonzero(placed.accept)
        candidates = np.flatnonzero(~by_flags & (~placed.accept | ~decisive))
        if len(candidates):
            self._pair(placed, candidates, accepted, decisive, response, method)
        self._remember(placed, accepted)
        self.methods += np.bincount(method[response], minlength=3)
        return response, method

    def _pair(self, placed: Placed, candidates: np.ndarray, accepted: np.ndarray, decisive: np.ndarray,
              response: np.ndarray, method: np.ndarray) -> None:
        (_, _, sl), (_, _, dl) = placed.src, placed.dst
        forward = flow_key(placed, candidates, reverse=False)
        # accepted records whose reverse may be a candidate: addresses first (cheap), then the whole key
        words = _pair_word(sl[candidates], dl[candidates])
        near = accepted[_member(_pair_word(dl[accepted], sl[accepted]), words)]
        answers = flow_key(placed, near, reverse=True)
        carried = self._carry_key[_member(self._carry_word, words)]
        answered = _member(forward, np.concatenate([answers, carried]))
        rejected = ~placed.accept[candidates]
        # a REJECT whose reverse was accepted is the response to it
        is_answer = rejected & answered
        response[candidates[is_answer]] = True
        method[candidates[is_answer]] = PAIRING
        # where the ports cannot tell: pair among those records, and the side seen first asked
        undecided = np.flatnonzero(~decisive[candidates] & ~is_answer)
        if not len(undecided):
            return
        rows = candidates[undecided]
        own, other = forward[undecided], flow_key(placed, rows, reverse=True)
        keys, inverse = np.unique(own, return_inverse=True)
        first = np.full(len(keys), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, inverse.reshape(-1), placed.start[rows])
        pos = np.minimum(np.searchsorted(keys, other), len(keys) - 1)
        paired = (keys[pos] == other) & (np.abs(first[inverse.reshape(-1)] - first[pos]) <= PAIR_WINDOW)
        mine, theirs = first[inverse.reshape(-1)], first[pos]
        later = paired & ((mine > theirs) | ((mine == theirs) & placed.egress[rows]))
        response[rows[paired]] = later[paired]
        method[rows[paired]] = PAIRING

    def _remember(self, placed: Placed, accepted: np.ndarray) -> None:
        """The accepted records at the end of this chunk, for pairing with the start of the next."""
        if not len(accepted):
            self._carry_word = self._carry_key = np.zeros(0, dtype=np.uint64)
            return
        start = placed.start[accepted]
        recent = accepted[start >= start.max() - PAIR_WINDOW]
        if len(recent) > _CARRY:
            recent = recent[np.argsort(placed.start[recent], kind="stable")[-_CARRY:]]
        (_, _, sl), (_, _, dl) = placed.src, placed.dst
        self._carry_word = _pair_word(dl[recent], sl[recent])
        self._carry_key = flow_key(placed, recent, reverse=True)
