"""The reconcile result as data: `model_dump()` is CONTRACT §3's JSON, plus added fields (never fewer)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, computed_field

from reach.model.vocabulary import Kind, Reason


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Summary(_Frozen):
    records: int  # every record read (NODATA and SKIPDATA included)
    evaluated: int  # records placed on an interface of the snapshot and predicted
    agree: int
    disagree: int
    skipped: int  # NODATA, SKIPDATA, no action, interface not in the snapshot, addresses not the interface's
    unparsable: int
    nodata: int = 0
    skipdata: int = 0
    no_action: int = 0
    unknown_interface: int = 0
    unplaceable: int = 0
    responses: int = 0  # evaluated records found to be responses (checked against network ACLs only)
    response_methods: dict[str, int] = {}  # how each response was told: tcp_flags, pairing, ports
    keys: int = 0  # distinct keys the kernel evaluated
    first_seen: int | None = None
    last_seen: int | None = None
    # bytes of per-key counts written to disk and folded out of core (counts stay exact)
    spilled_bytes: int = 0
    estimated: bool = False  # some count is a sketch's estimate (distinct flows past 4,096 per rule)


class RuleToDiffer(_Frozen):
    """A rule that would have to differ for the snapshot to predict what was observed."""

    kind: str
    id: str | None
    direction: str | None
    rule: int | str | None
    detail: str
    needed: str  # in plain words: what would have to be true instead
    must: str = "allow"  # allow | deny: what the component would have to do with this traffic
    traffic: str = ""  # e.g. "inbound tcp 80 from"
    peer: str = ""


class TrailEvent(_Frozen):
    """A CloudTrail event that changed a component (CloudTrail's own names where it has them)."""

    event: str  # eventName
    time: int  # epoch seconds
    principal: str | None  # userIdentity.arn
    source_ip: str | None  # sourceIPAddress
    components: list[str]  # the sg-/acl-/rtb-/eni- ids it touched
    rules: list[str] = []  # security group rule ids it names
    summary: str = ""
    source: str | None = None  # file it was read from


class ChangePoint(_Frozen):
    """When the observed action of a group flipped."""

    at: int  # start of the first record showing the new action
    previous: int | None  # start of the last record showing the old action before it
    before: str  # ACCEPT | REJECT
    after: str
    records_before: int
    records_after: int


class TimelineBucket(_Frozen):
    start: int  # epoch seconds: where the bucket starts
    accept: int  # observed ACCEPT records whose start falls in it
    reject: int


class Timeline(_Frozen):
    """Observed records over time, both actions, for the picture of a disagreement or a blocking rule."""

    seconds: int  # width of a bucket (a minute, widened so that a timeline has at most 240 buckets)
    buckets: list[TimelineBucket]  # the buckets with records, in time order


class Blocking(_Frozen):
    """Observed REJECT records explained by one rule (CONTRACT's `blocked_by` fields)."""

    kind: str
    id: str | None
    direction: str | None
    rule: int | str | None
    return_path: bool
    records: int
    flows: int  # distinct 5-tuples (a request and its response are one flow)
    first_seen: int
    last_seen: int
    groups: list[str] | None = None
    detail: str = ""
    flows_estimated: bool = False  # past 4096 flows the count is a sketch's estimate (within a few percent)
    ports: list[str] = []  # the most rejected services, e.g. "tcp 3306"
    interfaces: list[str] = []  # the interfaces that logged them, most records first
    # the rule's REJECT records over time, with the ACCEPT records it should have rejected (disagreements)
    timeline: Timeline | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def reason(self) -> Reason | None:
        """The reason code of the rule's kind, as `explain` gives it for the same block."""
        return _BLOCKING_REASONS.get(self.kind)


# What a REJECT recorded by flow logs can be attributed to: a filter at the interface, or BPA.
_BLOCKING_REASONS: dict[str, Reason] = {
    Kind.NETWORK_ACL: Reason.SUBNET_ACL_RESTRICTION,
    Kind.SECURITY_GROUP: Reason.ENI_SG_RULES_MISMATCH,
    Kind.VPC_BLOCK_PUBLIC_ACCESS: Reason.VPC_BLOCK_PUBLIC_ACCESS_ENABLED,
}


class Disagreement(_Frozen):
    interface_id: str
    direction: str
    observed: str
    predicted: str
    src: str
    dst: str
    dst_port: int | None
    protocol: str
    records: int
    first_seen: int
    last_seen: int
    explanation: str
    response: bool = False  # the records are responses (only a network ACL can reject those)
    src_port: int | None = None
    service_port: int | None = None
    blocked_by: dict[str, object] | None = None  # the predicted blocker, when the snapshot says REJECT
    rules_to_differ: list[RuleToDiffer] = []
    change_point: ChangePoint | None = None
    suspected_event: TrailEvent | None = None
    # the records of the same interface, direction, service and deciding rule over time, both actions
    timeline: Timeline | None = None


class SkippedInterface(_Frozen):
    interface_id: str
    records: int
    reason: str


class UnparsableSample(_Frozen):
    source: str
    line: int
    text: str
    reason: str


class ObservedUse(_Frozen):
    """The tightest description of what used an allow line: the peers seen and the ports (ICMP: types)."""

    sources: list[str]  # CIDRs of the peers (sources inbound, destinations outbound)
    ports: list[list[int]]  # [[lo, hi], ...] merged
    widened: bool = False  # more distinct peers than reach keeps exactly: sources are wider prefixes
    ports_widened: bool = False  # more port ranges than are listed: the listed ranges cover them
    protocols: list[str] = []  # the protocols seen (a line for all traffic may be used by one)


class RuleUsage(_Frozen):
    """One allow line of a security group or network ACL on an interface the flow logs cover (CONTRACT §9)."""

    kind: str
    id: str | None
    rule: int | str | None
    direction: str | None
    records: int  # observed ACCEPT records this line decided
    flows: int
    first_seen: int | None
    last_seen: int | None
    observed: ObservedUse
    detail: str = ""
    status: str = "used"  # unused | wider (allows far more than was used) | used
    narrowness: float = 0.0  # log2 of how much more the line allows than was used (addresses x ports)
    flows_estimated: bool = False
    allows_sources: list[str] = []  # the line's own peer CIDRs
    allows_ports: list[list[int]] = []
    protocol: int = -1
    interfaces: list[str] = []  # the covered interfaces it applies to (the first ten)
    interface_count: int = 0
    peer_group: str | None = None  # the line matches members of this security group
    peer_prefix_list: str | None = None


class ReconcileResult(_Frozen):
    summary: Summary
    blocking: list[Blocking]
    disagreements: list[Disagreement]
    skipped_interfaces: list[SkippedInterface] = []
    bad_lines: list[UnparsableSample] = []
    cloudtrail_events: int | None = None  # EC2 change events read with --cloudtrail
    notes: list[str] = []
    rule_usage: list[RuleUsage] = []  # every allow line of the covered interfaces, unused ones first


def utc_text(epoch: int | None, *, zone: bool = True) -> str:
    """Epoch seconds as '2024-03-12 14:07:05 UTC'."""
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S" + (" UTC" if zone else ""))


class ObservedRecord(_Frozen):
    """One record the model predicts for an explained flow, next to what the logs recorded for it."""

    interface_id: str
    direction: str
    predicted: str  # ACCEPT | REJECT
    return_path: bool
    srcaddr: str | None
    dstaddr: str | None
    srcport: int | None
    dstport: int | None
    protocol: int | None
    records: int  # observed records matching it
    accept: int
    reject: int
    first_seen: int | None = None
    last_seen: int | None = None
    agrees: bool | None = None  # None when nothing was logged
    why_none: list[str] = []  # when nothing was logged: why none may be expected


class Observed(_Frozen):
    """`reach explain --flow-logs`: the predicted records per interface next to the observed ones."""

    records: list[ObservedRecord]
    unreached: list[str] = []  # where the flow stops before reaching more interfaces
    read: int = 0  # records read
    unparsable: int = 0
