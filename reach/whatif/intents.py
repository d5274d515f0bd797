"""Intents: expected verdicts written as YAML, checked like tests.

- name: internet-to-web-http
  src: 198.51.100.23
  dst: web-server-01
  port: 80
  protocol: tcp
  expect: ACCEPT
  # optional: src_port, and for a REJECT the expected reason and blocked_by fields
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from reach.change.calls import Protocol
from reach.change.inputs import clip
from reach.engine.explain import Analyzer, parse_port
from reach.engine.explanation import Explanation
from reach.errors import ReachError, ResolveError
from reach.model.protocols import ICMP_FAMILY, PORTED, protocol_number
from reach.whatif.results import CheckResult, IntentResult

# An intents file is a short list of flat mappings; anything far bigger or deeper is not one, and a YAML alias
# bomb (a few lines that expand to billions of nodes) must be refused before it is expanded.
MAX_NODES = 100_000
MAX_ALIASES = 1_000
MAX_DEPTH = 32


def _port(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{clip(value)} is not a port (or, for ICMP, a TYPE or TYPE/CODE)")
    return value


# An address, an interface or instance id, or a Name tag: AWS caps a tag's value at 256 characters, so a longer
# end names nothing, and would only be echoed back in every message that quotes it.
Endpoint = Annotated[str, Field(min_length=1, max_length=256)]


class Intent(BaseModel):
    """One expected verdict. Unknown keys are an error: a typo must not make an intent pass."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    src: Endpoint
    dst: Endpoint
    protocol: Protocol = "tcp"
    port: Annotated[int | str, BeforeValidator(_port)]
    src_port: Annotated[int, Field(ge=0, le=65535)] | None = None
    expect: str
    reason: str | None = None
    blocked_by: dict[str, Any] | None = None

    @field_validator("expect")
    @classmethod
    def _verdict(cls, value: str) -> str:
        upper = value.strip().upper()
        if upper not in ("ACCEPT", "REJECT"):
            raise ValueError(f"expect must be ACCEPT or REJECT, not '{clip(value)}'")
        return upper

    @field_validator("port")
    @classmethod
    def _port_in_range(cls, value: int | str, info: ValidationInfo) -> int | str:
        """A port AWS could carry: one out of range is a mistake in the file (exit 2), not a failed intent."""
        if "protocol" not in info.data:
            return value  # the protocol is wrong, and said so
        number = protocol_number(info.data["protocol"])
        if number in PORTED | ICMP_FAMILY:
            try:
                parse_port(number, value)
            except ResolveError:
                what = "an ICMP type or TYPE/CODE (8, 8/0)" if number in ICMP_FAMILY else "a port 0-65535"
                raise ValueError(f"{clip(value)} is not {what}") from None
        return value

    @property
    def label(self) -> str:
        return self.name or f"{self.src} -> {self.dst}:{self.port}/{self.protocol}"

    def explain(self, analyzer: Analyzer) -> Explanation:
        return analyzer.explain(self.src, self.dst, self.port, self.protocol, self.src_port)


def parse_intents(data: Any, source: str = "intents") -> list[Intent]:
    """A YAML/JSON list of intents (or `{"intents": [...]}`) -> intents, each error naming item and field."""
    if isinstance(data, dict) and "intents" in data:
        data = data["intents"]
    if data is None:
        return []
    if not isinstance(data, list):
        raise ReachError(f"{source}: expected a list of intents (src, dst, port, protocol, expect)")
    intents = []
    for position, item in enumerate(data, start=1):
        if isinstance(item, Intent):
            intents.append(item)
            continue
        try:
            intents.append(Intent.model_validate(item))
        except ValidationError as exc:
            name = item.get("name") if isinstance(item, dict) else None
            where = f"intent #{position}" + (f" ({clip(name)})" if name else "")
            problems = "; ".join(_problem(e) for e in exc.errors()[:3])
            raise ReachError(f"{source}: {where}: {problems}") from None
    return intents


def _problem(error: Any) -> str:
    field = clip(".".join(str(p) for p in error["loc"]) or "intent")
    if error["type"] == "extra_forbidden":
        return f"unknown field '{field}' (known: {', '.join(Intent.model_fields)})"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"field '{field}': {clip(message if error['type'] == 'value_error' else message.lower(), 200)}"


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing documents too deep, with too many aliases, or too big once aliases are
    expanded (counted on the node graph, without expanding it), before anything is built from them."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                self._refuse(f"more than {MAX_ALIASES} aliases")
        if self._depth >= MAX_DEPTH:
            self._refuse(f"more than {MAX_DEPTH} levels deep")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None and _expanded_size(node) > MAX_NODES:
            self._refuse(f"more than {MAX_NODES:,} values once its aliases are expanded", node.start_mark)
        return node

    def _refuse(self, limit: str, mark: yaml.Mark | None = None) -> None:
        line = (mark or self.peek_event().start_mark).line + 1
        raise yaml.YAMLError(f"line {line}: {limit}; an intents file is a short list of flat entries")


def _expanded_size(root: yaml.Node) -> int:
    """How many values the document holds with every alias expanded, counting each distinct node once (so a
    bomb is measured, not expanded); a node that contains itself is infinite."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            open_nodes.discard(id(node))
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in _children(node)), MAX_NODES + 1)
            continue
        if id(node) in open_nodes:
            return MAX_NODES + 1  # an alias to an enclosing node: expands forever
        if id(node) in sizes:
            continue
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load_intents(path: str | Path) -> list[Intent]:
    file = Path(path)
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ReachError(f"intents file {file} cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ReachError(f"intents file {file} is not UTF-8 text (byte {exc.start}): is it YAML?") from None
    try:
        data = yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 (a SafeLoader, bounded)
    except yaml.YAMLError as exc:
        raise ReachError(f"intents file {file} is not valid YAML: {clip(str(exc), 300)}") from None
    except ValueError as exc:  # a value YAML recognises but Python cannot hold: a 5,000-digit int, month 13
        raise ReachError(f"intents file {file}: a value cannot be read ({clip(str(exc), 120)})") from None
    return parse_intents(data, str(file))


def check_intents(analyzer: Analyzer, intents: Sequence[Intent], source: str = "intents") -> CheckResult:
    return CheckResult(source=source, results=[check_intent(analyzer, intent) for intent in intents])


def check_intent(analyzer: Analyzer, intent: Intent) -> IntentResult:
    try:
        explanation = intent.explain(analyzer)
    except ResolveError as exc:
        return IntentResult(
            name=intent.label,
            flow=None,
            expect=intent.expect,
            verdict=None,
            reason=None,
            blocked_by=None,
            passed=False,
            problems=[str(exc)],
        )
    problems = mismatches(intent, explanation)
    return IntentResult(
        name=intent.label,
        flow=explanation.flow,
        expect=intent.expect,
        verdict=explanation.verdict,
        reason=explanation.reason,
        blocked_by=explanation.blocked_by,
        passed=not problems,
        problems=problems,
    )


def mismatches(intent: Intent, explanation: Explanation) -> list[str]:
    """What differs from the intent: the verdict, then (if the intent names them) the reason and each
    `blocked_by` field."""
    problems = []
    if explanation.verdict != intent.expect:
        problems.append(f"expected {intent.expect}, got {explanation.verdict} ({explanation.reason})")
        return problems
    if intent.reason is not None and intent.reason != explanation.reason:
        problems.append(f"expected reason {intent.reason}, got {explanation.reason}")
    if intent.blocked_by:
        actual = explanation.blocked_by.model_dump() if explanation.blocked_by else None
        if actual is None:
            problems.append("expected a blocked_by, got none")
        else:
            for key, wanted in intent.blocked_by.items():
                if key not in actual:
                    problems.append(f"blocked_by has no field '{key}'")
                elif not _same(actual[key], wanted):
                    problems.append(f"expected blocked_by.{key} {wanted!r}, got {actual[key]!r}")
    return problems


def _same(actual: Any, wanted: Any) -> bool:
    if actual == wanted:
        return True
    if isinstance(actual, list) and isinstance(wanted, list):
        return sorted(map(str, actual)) == sorted(map(str, wanted))
    return actual is not None and wanted is not None and str(actual) == str(wanted)
