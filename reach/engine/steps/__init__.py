"""The walker's steps: one module per component kind that moves a packet.

Each step takes the leg (`reach.engine.leg.Leg`: state, topology and trace) and a move
(`reach.engine.moves`), appends what it finds to the trace, and returns the next move, an `Arrival`, or
None where the path ends. `reach.engine.walk` dispatches: a route's target by its kind (`STEPS`), every
other move by its type. No step imports the walker, and this package imports none of its modules.

- `filters`: the interface decision's answer said as hops (security groups, network ACLs)
- `vpc_router`: leaving an interface, route lookup, local delivery, arrival in a subnet
- `internet_gateway`: internet and egress-only internet gateways, the internet itself
- `nat_gateway`, `peering`, `transit_gateway`, `endpoint` (gateway and interface endpoints),
  `load_balancer`, `appliance` (appliance ENIs, source/destination check, NAT instances)
- `edge`: where the snapshot ends: VPN gateways, flows that start outside, responses coming back in
"""
