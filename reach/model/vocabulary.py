"""The words reach answers in: component kinds, directions, verdicts, decisions and reason codes.

String-valued enums (`StrEnum`), so a member is equal to, hashes like and serialises as its value: the
JSON contract is unchanged, and code that still compares with the plain string keeps working while it is
converted.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """A component a packet meets, as CONTRACT §2's `blocked_by.kind` and every hop name it."""

    SECURITY_GROUP = "security-group"
    NETWORK_ACL = "network-acl"
    ROUTE_TABLE = "route-table"
    INTERNET_GATEWAY = "internet-gateway"
    EGRESS_ONLY_INTERNET_GATEWAY = "egress-only-internet-gateway"
    NAT_GATEWAY = "nat-gateway"
    NETWORK_INTERFACE = "network-interface"
    VPC_PEERING_CONNECTION = "vpc-peering-connection"
    TRANSIT_GATEWAY = "transit-gateway"
    TRANSIT_GATEWAY_ROUTE_TABLE = "transit-gateway-route-table"
    VPC_ENDPOINT = "vpc-endpoint"
    VPN_GATEWAY = "vpn-gateway"
    VPN_CONNECTION = "vpn-connection"
    DIRECT_CONNECT_GATEWAY = "direct-connect-gateway"
    LOAD_BALANCER = "load-balancer"
    INTERNET = "internet"
    AWS_SERVICE = "aws-service"  # answered by the instance's host: Amazon DNS, instance metadata, Time Sync...
    VPC_BLOCK_PUBLIC_ACCESS = "vpc-block-public-access"


class Direction(StrEnum):
    """As seen from the component: a network ACL's inbound rules are `ingress`."""

    INGRESS = "ingress"
    EGRESS = "egress"

    @property
    def opposite(self) -> Direction:
        return Direction.EGRESS if self is Direction.INGRESS else Direction.INGRESS


class Verdict(StrEnum):
    """A flow's fate, and a flow-log record's `action`."""

    ACCEPT = "ACCEPT"
    REJECT = "REJECT"


class Action(StrEnum):
    """What one hop did to the packet."""

    ALLOW = "allow"
    DENY = "deny"


class Reason(StrEnum):
    """Why a flow ends as it does. Where AWS Reachability Analyzer has an explanation code for the same
    cause, the member carries that very name; the others are reach's own, named the same way."""

    ACCEPTED = "ACCEPTED"
    # filters at an interface
    ENI_SG_RULES_MISMATCH = "ENI_SG_RULES_MISMATCH"
    SUBNET_ACL_RESTRICTION = "SUBNET_ACL_RESTRICTION"
    UNKNOWN_PEERED_SGS = "UNKNOWN_PEERED_SGS"
    SG_REFERENCING_SUPPORT = "SG_REFERENCING_SUPPORT"
    SG_REFERENCES_NOT_PRESERVED = "SG_REFERENCES_NOT_PRESERVED"
    ENI_SOURCE_DEST_CHECK_RESTRICTION = "ENI_SOURCE_DEST_CHECK_RESTRICTION"
    # routing
    NO_ROUTE_TO_DESTINATION = "NO_ROUTE_TO_DESTINATION"
    BAD_STATE_ROUTE = "BAD_STATE_ROUTE"
    ROUTING_LOOP = "ROUTING_LOOP"
    ASYMMETRIC_ROUTE = "ASYMMETRIC_ROUTE"
    VPC_ADDRESS_NOT_IN_SUBNET = "VPC_ADDRESS_NOT_IN_SUBNET"
    DESTINATION_ADDRESS_UNASSIGNED = "DESTINATION_ADDRESS_UNASSIGNED"
    INGRESS_RTB_TRAFFIC_REDIRECTION = "INGRESS_RTB_TRAFFIC_REDIRECTION"
    PROTOCOL_RESTRICTION = "PROTOCOL_RESTRICTION"  # a service the host answers only on its own port
    # gateways
    IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS = "IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS"
    IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS = "IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS"
    IGW_DESTINATION_ADDRESS_NOT_IN_RFC1918_EGRESS = "IGW_DESTINATION_ADDRESS_NOT_IN_RFC1918_EGRESS"
    IGW_DESTINATION_ADDRESS_NOT_IN_RFC6598_EGRESS = "IGW_DESTINATION_ADDRESS_NOT_IN_RFC6598_EGRESS"
    IGW_SOURCE_ADDRESS_NOT_IN_RFC1918_INGRESS = "IGW_SOURCE_ADDRESS_NOT_IN_RFC1918_INGRESS"
    IGW_SOURCE_ADDRESS_NOT_IN_RFC6598_INGRESS = "IGW_SOURCE_ADDRESS_NOT_IN_RFC6598_INGRESS"
    NAT_GATEWAY_NO_SESSION = "NAT_GATEWAY_NO_SESSION"
    NGW_PROTOCOL_RESTRICTION = "NGW_PROTOCOL_RESTRICTION"
    NGW_REQUIRES_SOURCE_IN_VPC = "NGW_REQUIRES_SOURCE_IN_VPC"
    PCX_REQUIRES_ADDRESS_IN_VPC_CIDR = "PCX_REQUIRES_ADDRESS_IN_VPC_CIDR"
    VPCE_GATEWAY_PROTOCOL_RESTRICTION = "VPCE_GATEWAY_PROTOCOL_RESTRICTION"
    # transit gateways
    TGW_ROUTE_AZ_RESTRICTION = "TGW_ROUTE_AZ_RESTRICTION"
    TGW_ATTACH_MISSING_TGW_RTB_ASSOCIATION = "TGW_ATTACH_MISSING_TGW_RTB_ASSOCIATION"
    TGW_RTB_ROUTES_ARE_UNKNOWN = "TGW_RTB_ROUTES_ARE_UNKNOWN"
    TGW_RTB_NO_ROUTE_TO_TGW_ATTACHMENT = "TGW_RTB_NO_ROUTE_TO_TGW_ATTACHMENT"
    TGW_RTB_CANNOT_ROUTE = "TGW_RTB_CANNOT_ROUTE"
    TGW_RTB_BAD_STATE_ROUTE = "TGW_RTB_BAD_STATE_ROUTE"
    BAD_STATE_ATTACHMENT = "BAD_STATE_ATTACHMENT"
    # load balancers
    ELBV2_NO_TARGETS_IN_AZ = "ELBV2_NO_TARGETS_IN_AZ"
    ELBV2_LISTENER_HAS_NO_TG = "ELBV2_LISTENER_HAS_NO_TG"
    ELBV2_LISTENERS_MISMATCH = "ELBV2_LISTENERS_MISMATCH"
    # what the snapshot does not say
    BAD_STATE = "BAD_STATE"
    UNKNOWN_RESOURCE = "UNKNOWN_RESOURCE"
    UNSUPPORTED_COMPONENT = "UNSUPPORTED_COMPONENT"
    # VPN and the edge of what the snapshot shows
    BAD_STATE_VPN = "BAD_STATE_VPN"
    TGW_BAD_STATE_VPN = "TGW_BAD_STATE_VPN"
    VGW_PRIVATE_IP_ASSOCIATION_FOR_EGRESS = "VGW_PRIVATE_IP_ASSOCIATION_FOR_EGRESS"
    VGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS = "VGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS"
    UNKNOWN_DESTINATION = "UNKNOWN_DESTINATION"  # left through a gateway whose far side is not in the snapshot
    # recorded by flow logs only (reject-reason BPA)
    VPC_BLOCK_PUBLIC_ACCESS_ENABLED = "VPC_BLOCK_PUBLIC_ACCESS_ENABLED"

    @property
    def analyzer_code(self) -> str | None:
        """Reachability Analyzer's explanation code for the same cause, None where it has none."""
        return None if self in _REACH_ONLY else self.value


_REACH_ONLY = frozenset(
    {
        Reason.ACCEPTED,
        Reason.ROUTING_LOOP,
        Reason.ASYMMETRIC_ROUTE,
        Reason.VPC_ADDRESS_NOT_IN_SUBNET,
        Reason.DESTINATION_ADDRESS_UNASSIGNED,
        Reason.NAT_GATEWAY_NO_SESSION,
        Reason.UNSUPPORTED_COMPONENT,
    }
)
