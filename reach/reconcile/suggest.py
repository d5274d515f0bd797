"""From rule usage to a change set: revoke what nothing used, narrow what was used far more narrowly than it
allows. The result is a list of EC2 API calls in CONTRACT §4's change-set shape, so `reach whatif` can check,
against the same flow logs, that nothing observed breaks before anyone applies it.

Only security group lines are changed. Network ACL entries are stateless and shared by a whole subnet's
traffic, responses included: their usage is reported, never turned into a call. Lines that match by group
membership or prefix list are never narrowed to addresses (that would trade intent for today's members).
"""

from __future__ import annotations

from typing import Any

from reach.model.protocols import ICMP_FAMILY, PORTED, protocol_name, protocol_number
from reach.model.vocabulary import Direction, Kind
from reach.reconcile.result import RuleUsage

MAX_PORT_RANGES = 8  # more observed port ranges than this: the line keeps its own port range when narrowed


def suggested_changes(usage: list[RuleUsage]) -> list[dict[str, Any]]:
    """EC2 API calls that revoke unused security group lines and narrow the far wider ones."""
    calls: list[dict[str, Any]] = []
    for line in usage:
        if line.kind != Kind.SECURITY_GROUP or line.status == "used" or line.id is None:
            continue
        if line.status == "wider" and (line.peer_group or line.peer_prefix_list or line.observed.widened):
            continue
        side = "Egress" if line.direction == Direction.EGRESS else "Ingress"
        calls.append({"action": f"RevokeSecurityGroup{side}", "params": _revoke(line)})
        if line.status == "wider":
            calls.append({"action": f"AuthorizeSecurityGroup{side}", "params": _narrowed(line)})
    return calls


def _revoke(line: RuleUsage) -> dict[str, Any]:
    if isinstance(line.rule, str) and line.rule.startswith("sgr-"):
        return {"GroupId": line.id, "SecurityGroupRuleIds": [line.rule]}
    return {"GroupId": line.id, "IpPermissions": [_permission(line, line.allows_sources, line.allows_ports, "")]}


def _narrowed(line: RuleUsage) -> dict[str, Any]:
    seen = [protocol_number(p) for p in line.observed.protocols]
    if line.protocol == -1 and len(seen) == 1 and seen[0] in PORTED:  # all traffic, used by one protocol's ports
        line = line.model_copy(update={"protocol": seen[0], "allows_ports": [[0, 65535]]})
    ports = line.observed.ports if len(line.observed.ports) <= MAX_PORT_RANGES else line.allows_ports
    if line.protocol not in PORTED:
        ports = line.allows_ports
    note = f"narrowed by reach from {line.rule or 'a rule'} to what flow logs show in use"
    permissions = [_permission(line, line.observed.sources, [p], note) for p in ports] or [
        _permission(line, line.observed.sources, line.allows_ports, note)]
    return {"GroupId": line.id, "IpPermissions": permissions}


def _permission(line: RuleUsage, sources: list[str], ports: list[list[int]], note: str) -> dict[str, Any]:
    permission: dict[str, Any] = {"IpProtocol": protocol_name(line.protocol) if line.protocol != -1 else "-1"}
    if line.protocol in PORTED and ports:
        permission["FromPort"], permission["ToPort"] = ports[0][0], ports[-1][1]
    elif line.protocol in ICMP_FAMILY and ports and ports[0][0] == ports[0][1]:
        permission["FromPort"], permission["ToPort"] = ports[0][0], -1
    elif line.protocol in ICMP_FAMILY:
        permission["FromPort"], permission["ToPort"] = -1, -1
    if line.peer_group:
        permission["UserIdGroupPairs"] = [{"GroupId": line.peer_group}]
    elif line.peer_prefix_list:
        permission["PrefixListIds"] = [{"PrefixListId": line.peer_prefix_list}]
    else:
        v4 = [c for c in sources if ":" not in c]
        v6 = [c for c in sources if ":" in c]
        if v4:
            permission["IpRanges"] = [{"CidrIp": c, **({"Description": note} if note else {})} for c in v4]
        if v6:
            permission["Ipv6Ranges"] = [{"CidrIpv6": c, **({"Description": note} if note else {})} for c in v6]
    return permission
