"""VPC peering connections: an active peering carries traffic for the other VPC's CIDRs only
(`PCX_REQUIRES_ADDRESS_IN_VPC_CIDR`), where the other VPC's local route delivers it: so no transitive
peering and no edge-to-edge routing (a peer cannot reach the internet, a VPN or a gateway endpoint through
this VPC). Security group references survive a peering within one Region only. A peering or peer VPC the
snapshot lacks (another account) is where the path leaves what reach can see.
"""

from __future__ import annotations

from reach.engine.leg import Leg
from reach.engine.moves import Follow, Local, Next
from reach.model.vocabulary import Kind, Reason


def across(leg: Leg, move: Follow) -> Next:
    pcx_id, vpc_id, packet = move.route.target_id, move.subnet.vpc_id, move.packet
    peering, connected = leg.topology.peering(pcx_id)
    if peering is None:
        note = f"{pcx_id} is not in the snapshot: the path leaves what reach can see there"
        if leg.lacks("VpcPeeringConnections"):
            note += " (the snapshot has no VpcPeeringConnections, describe-vpc-peering-connections)"
        return leg.leave(Kind.VPC_PEERING_CONNECTION, pcx_id, f"leaves the snapshot through {pcx_id}", packet, note,
                         assumed=True)
    if peering.status != "active":
        leg.block(Kind.VPC_PEERING_CONNECTION, pcx_id, Reason.BAD_STATE, f"{pcx_id} is {peering.status}, not active")
        return None
    other = peering.other_side(vpc_id)
    if other is None:
        leg.block(Kind.VPC_PEERING_CONNECTION, pcx_id, Reason.BAD_STATE, f"{pcx_id} does not connect {vpc_id}")
        return None
    if not any(c.contains(packet.family, packet.dst) for c in other.cidrs):
        leg.block(
            Kind.VPC_PEERING_CONNECTION,
            pcx_id,
            Reason.PCX_REQUIRES_ADDRESS_IN_VPC_CIDR,
            f"{pcx_id} carries only traffic for {other.vpc_id}'s CIDRs "
            f"({', '.join(str(c) for c in other.cidrs)}); {packet.dst_text} is outside them",
        )
        return None
    leg.hop(Kind.VPC_PEERING_CONNECTION, pcx_id, f"{pcx_id} carries it to {other.vpc_id}")
    here = peering.requester if other is peering.accepter else peering.accepter
    if here.region and other.region and here.region != other.region:
        # "You cannot reference the security group of a peer VPC that's in a different Region"
        leg.discard_groups(Reason.SG_REFERENCES_NOT_PRESERVED, f"{pcx_id}, a peering across Regions")
    if other.vpc_id not in connected:
        leg.assume(f"{other.vpc_id} (peer of {pcx_id}) is not in the snapshot: the path leaves what reach can see")
        return leg.exit(Kind.VPC_PEERING_CONNECTION, pcx_id, packet, f"through {pcx_id} into {other.vpc_id}")
    return Local(other.vpc_id, packet)
