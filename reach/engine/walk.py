"""The walker: follows one packet hop by hop through the compiled network, forward then back.

Blocked-path style, like Reachability Analyzer: a filter that denies is recorded as a blocker and the
walk goes on as if it had allowed, so every blocker on the path is found, not only the first. Routing
failures end the walk (there is nowhere further to go). While no filter has denied, the walk also notes
the records flow logs would write on each interface it crosses.

The walk is a loop over moves (`reach.engine.moves`): each step (`reach.engine.steps`) takes the leg and a
move and returns the next move, until one returns an `Arrival` or None. A route's target goes to the step
for its kind (`STEPS`), every other move to the step for its type (`MOVES`). A step that must see where a
sub-walk ends (a load balancer's leg to each target) is a generator: it yields the sub-walk's first move
and is sent its arrival.
"""

from __future__ import annotations

from collections.abc import Callable
from types import GeneratorType
from typing import Any, cast

from reach.engine.leg import Arrival, Leg
from reach.engine.moves import (
    AtBalancer,
    AtNat,
    AtService,
    Enter,
    Follow,
    FromOutside,
    FromService,
    Internet,
    Local,
    Move,
    NatFromInternet,
    Next,
    Reenter,
    RouteOut,
    Send,
    Unmasquerade,
    Walks,
)
from reach.engine.steps import (
    appliance,
    aws_service,
    edge,
    endpoint,
    internet_gateway,
    load_balancer,
    nat_gateway,
    peering,
    transit_gateway,
    vpc_router,
    vpn_gateway,
)
from reach.model.vocabulary import Kind, Reason

Step = Callable[[Leg, Any], Next | Walks]

# A route's target kind -> the step that takes the packet there.
STEPS: dict[str, Step] = {
    "local": vpc_router.local_route,
    Kind.INTERNET_GATEWAY: internet_gateway.out,
    Kind.EGRESS_ONLY_INTERNET_GATEWAY: internet_gateway.egress_only,
    Kind.NAT_GATEWAY: nat_gateway.to_nat,
    Kind.VPC_PEERING_CONNECTION: peering.across,
    Kind.NETWORK_INTERFACE: appliance.to_appliance,
    Kind.TRANSIT_GATEWAY: transit_gateway.enter,
    Kind.VPC_ENDPOINT: endpoint.to_gateway_endpoint,
    Kind.VPN_GATEWAY: vpn_gateway.out,
}

# Every other move -> its step.
MOVES: dict[type, Step] = {
    Send: vpc_router.send,
    RouteOut: vpc_router.route_out,
    Local: vpc_router.local,
    Enter: vpc_router.enter,
    AtNat: nat_gateway.at_nat,
    NatFromInternet: nat_gateway.from_internet,
    AtBalancer: load_balancer.at_load_balancer,
    Unmasquerade: appliance.unmasquerade,
    Internet: internet_gateway.internet,
    FromOutside: edge.from_outside,
    Reenter: edge.reenter,
    AtService: aws_service.at_service,
    FromService: aws_service.from_service,
}


def walk(leg: Leg, move: Next) -> Arrival | None:
    """Follow `move` to where the packet ends: an arrival, or None where the path stops."""
    while move is not None and not isinstance(move, Arrival):
        done = _step(move)(leg, move)
        # GeneratorType, not the Generator ABC: the ABC's isinstance is slow, and this runs for every move
        move = _drive(leg, done) if isinstance(done, GeneratorType) else cast(Next, done)
    return move


def _step(move: Move) -> Step:
    if isinstance(move, Follow):
        return STEPS.get(move.route.target_kind, _unsupported)
    return MOVES[type(move)]


def _drive(leg: Leg, steps: Walks) -> Next:
    """Run a generator step: walk each move it yields and send it the arrival, until it returns its next move."""
    try:
        sub = next(steps)
        while True:
            sub = steps.send(walk(leg, sub))
    except StopIteration as done:
        return done.value


def _unsupported(leg: Leg, move: Follow) -> Next:
    route, table = move.route, move.table
    leg.block(
        Kind.ROUTE_TABLE,
        table.id,
        Reason.UNSUPPORTED_COMPONENT,
        f"{table.id} routes {route.destination} to {route.target_id} ({route.target_kind}), which reach does not "
        "model yet",
        rule=route.destination,
    )
    return None
