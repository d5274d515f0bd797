"""Predict what each record's interface should have logged, per distinct key, through the interface decision.

A record's fate at its interface depends on: the interface, the direction, whether it is a response, the
protocol, the destination port and the peer. Ports and peers are first replaced by their class (the
stretch between two rule boundaries, see `reach.model.classes`), so a million records collapse to the keys
that really differ; each new key is decided once by `reach.model.decision` (the one decision explain's
walker and the header space ask too), with one representative of its classes. Reconcile's own knowledge
is which records cross the subnet's network ACL: those whose peer is outside the interface's subnet.

The verdict and the rule named with it come from the same kernel index: `reject` is derived from the
decision's blocker, and `ref` is the registry id of that very rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reach.model.classes import AddressClasses
from reach.model.decision import Crossings, decision_of
from reach.model.network import Network
from reach.model.protocols import ECHO_REPLY, ECHO_REQUEST, ICMP_FAMILY, PORTED
from reach.reconcile.arrays import Packer, bit_width, local_dense, mix64
from reach.reconcile.arrays import distinct as distinct_values
from reach.reconcile.place import InterfaceIndex


@dataclass(frozen=True)
class Prediction:
    """The chunk's distinct keys and, per key, the predicted REJECT, the responsible rule (-1 on ACCEPT) and
    each component's deciding rule (-1 where the component was not evaluated); `row` maps each record to its
    key. Per record, `reject[row]` and so on."""

    row: np.ndarray  # per record: its key's position
    columns: dict[str, np.ndarray]  # per key: interface, egress, response, protocol, service_port
    reject: np.ndarray
    ref: np.ndarray
    sg_ref: np.ndarray
    nacl_ref: np.ndarray


def probe_port(protocol: np.ndarray, dstport: np.ndarray, response: np.ndarray) -> np.ndarray:
    """The port (ICMP: type) the rules match: the destination port, or the assumed echo type for ICMP (flow
    logs do not log ICMP types)."""
    port = np.where(np.isin(protocol, list(PORTED)), dstport, 0).astype(np.int32)
    for number in ICMP_FAMILY:
        icmp = protocol == number
        if icmp.any():
            request = ECHO_REQUEST[number]
            port[icmp] = np.where(response[icmp], ECHO_REPLY[(number, request)], request)
    return port


class Predictor:
    def __init__(self, network: Network, interfaces: InterfaceIndex, classes: AddressClasses) -> None:
        self.network = network
        self.interfaces = interfaces
        self.classes = classes
        self.decision = decision_of(network)
        self.registry = self.decision.registry
        if self.decision.ids != interfaces.ids:
            raise AssertionError("reconcile and the interface decision number interfaces alike (sorted ids)")
        ifaces = interfaces.ids
        tables = [t for acl in network.nacls.values() for t in (acl.ingress, acl.egress)]
        tables += [t for g in network.security_groups.values() for t in (g.ingress, g.egress)]
        bounds = {0}
        for table in tables:
            bounds.update(table.port_lo.tolist())
            bounds.update((table.port_hi + 1).tolist())
        port_bounds = np.array(sorted(b for b in bounds if b <= 65535), dtype=np.int32)
        self._port_class = (np.searchsorted(port_bounds, np.arange(65536), side="right") - 1).astype(np.int32)
        self._port_bounds = port_bounds
        self._packer = Packer([bit_width(len(ifaces)), 1, 1, 8, bit_width(len(port_bounds)), bit_width(classes.count)])
        self._keys = np.zeros(0, dtype=np.int64)
        self._results = np.zeros((0, 4), dtype=np.int32)  # reject, ref, sg_ref, nacl_ref
        self.evaluated_keys = 0
        self.key_hashes: list[np.ndarray] = []  # of the keys asked for: the same in every process

    # ----- per record ----------------------------------------------------------------------------

    def predict(self, interface: np.ndarray, egress: np.ndarray, response: np.ndarray, protocol: np.ndarray,
                dstport: np.ndarray, peer_class: np.ndarray, service_port: np.ndarray) -> Prediction:
        """Group the records by key (their service port kept, for the history), decide each key once."""
        port = probe_port(protocol, dstport, response)
        port_class = self._port_class[np.clip(port, 0, 65535)]
        columns = [interface, egress, response, protocol, port_class, peer_class, service_port]
        first, row = local_dense(columns, [*self._packer.widths, 16])
        distinct = self._packer.pack([c[first] for c in columns[:6]])
        # the keys this input needs, decided now or before (the cache outlives one input)
        self.key_hashes.append(mix64(*(c[first] for c in columns[:6])))
        if len(self.key_hashes) > 8:
            self.key_hashes = [distinct_values(np.concatenate(self.key_hashes).view(np.int64)).view(np.uint64)]
        order = np.argsort(distinct)
        pos = np.searchsorted(self._keys, distinct[order])
        known = np.zeros(len(order), dtype=bool)
        inside = pos < len(self._keys)
        known[inside] = self._keys[pos[inside]] == distinct[order][inside]
        if not known.all():
            new = np.unique(distinct[order][~known], return_index=True)[1]
            rows = first[order[~known][new]]
            self._remember(distinct[order][~known][new], self._evaluate(*(c[rows] for c in columns[:6])))
            pos = np.searchsorted(self._keys, distinct[order])
        results = np.empty((len(order), 4), dtype=np.int32)
        results[order] = self._results[pos]
        names = ("interface", "egress", "response", "protocol", "service_port")
        return Prediction(
            row=row, columns={name: columns[i][first] for i, name in zip((0, 1, 2, 3, 6), names, strict=True)},
            reject=results[:, 0].astype(bool), ref=results[:, 1], sg_ref=results[:, 2], nacl_ref=results[:, 3])

    def _remember(self, keys: np.ndarray, results: np.ndarray) -> None:
        self.evaluated_keys += len(keys)
        keys = np.concatenate([self._keys, keys])
        results = np.concatenate([self._results, results])
        order = np.argsort(keys, kind="stable")
        self._keys, self._results = keys[order], results[order]

    # ----- per key -------------------------------------------------------------------------------

    def _evaluate(self, interface: np.ndarray, egress: np.ndarray, response: np.ndarray, protocol: np.ndarray,
                  port_class: np.ndarray, peer_class: np.ndarray) -> np.ndarray:
        family, hi, lo = self.classes.representative(peer_class)
        decision = self.decision
        subnet = decision.subnet_of(interface)
        n = len(interface)
        rows = Crossings(
            interface=interface.astype(np.int32), subnet=subnet, egress=egress.astype(bool),
            response=response.astype(bool), family=family, peer_hi=hi, peer_lo=lo,
            protocol=protocol.astype(np.int16), port=self._port_bounds[port_class].astype(np.int32),
            code=np.zeros(n, dtype=np.int16), crosses_nacl=decision.outside_subnet(subnet, family, hi, lo),
            groups_kept=np.ones(n, dtype=bool))
        decided = decision.decide(rows)
        reject = ~decided.allow
        return np.stack([reject.astype(np.int32), decided.blocker, decided.sg, decided.nacl],
                        axis=1).astype(np.int32)
