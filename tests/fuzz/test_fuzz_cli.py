"""The command line as a user drives it, fuzzed: every command and option of `reach --help`, valid and invalid
values (odd paths, huge numbers, unicode, control characters, markup), against copies of the bundled fixtures
made hostile (names, tags and descriptions full of markup, escape sequences and `<script>`; values out of
range; damaged bytes) and damaged change sets, plans, intents and flow logs (`tests/fuzz/inputs.py`).

Properties, whatever the input:
- the exit status is 0, 2, or 1 where 1 means something (`check`'s failed intent, `whatif --fail-on-break`);
- no exception escapes, and no output holds a traceback;
- text output (stdout in text, Mermaid and HTML, stderr always) holds no control character but newlines: what
  came from input is shown escaped;
- JSON output parses, and every object carries `schema_version` (`logs query`'s array excepted);
- an HTML page runs no script and no event handler that came from input;
- `--junit` writes XML that parses; `logs query --sql` writes no file.

    pytest tests/fuzz/test_fuzz_cli.py                # `ci`: 150 examples, under a minute
    pytest tests/fuzz --hypothesis-profile=long      # `long`: 3,000
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from reach.cli import app
from tests.fuzz.harness import fuzz_settings
from tests.fuzz.inputs import MARKER, Workspace, hostile_name, hostile_text, workspaces
from tests.fuzz.mutations import Draw

runner = CliRunner()

# What a user might type where a number, an address, a protocol or a time belongs.
NUMBERS = st.one_of(
    st.sampled_from(["0", "22", "80", "443", "3306", "65535", "65536", "-1", "1.5", "abc", "", " 80", "٣", "+80",
                     "0x50", "1e3", "9" * 30, str(2**63), str(-(2**64))]),
    st.integers(-(2**70), 2**70).map(str),
)
PORTS = st.one_of(NUMBERS, st.sampled_from(["8/0", "8/300", "3/4", "0/0", "-1/-1", "8/", "/0", "80-90", "*"]))
PROTOCOLS = st.sampled_from(["tcp", "udp", "icmp", "icmpv6", "all", "-1", "6", "17", "1", "58", "0", "255", "256",
                             "TCP", "bogus", str(2**63), "", "[/x]"])
ADDRESSES = st.one_of(
    st.sampled_from(["0.0.0.0", "255.255.255.255", "::", "::1", "2001:db8::1", "198.51.100.23", "10.0.0.0/8",
                     "1.1.1.1:80", "10.0.1.100", "10.0.2.50", "eni-", "i-0", "localhost", " 10.0.1.100", "300.1.1.1"]),
    st.ip_addresses().map(str),
)
TIMES = st.sampled_from(["0", "1600000000", "1716195600", "2024-05-20T09:00:00Z", "2024-05-20", "2024-13-45", "x",
                         "99999999999999999999", "-1", "1e10", "now", "", "2024-05-20T09:00:00+99:00"])
LOG_FORMATS = st.sampled_from([
    "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} "
    "${bytes} ${start} ${end} ${action} ${log-status}",
    "${srcaddr} ${dstaddr} ${action}",
    "${bogus}",
    "",
    "version account-id",
    "${[/x]}",
    "${srcaddr}" * 300,
])
COLUMNS = st.sampled_from(["100", "80", "40", "20", "1", "0", "-3", "abc", "1000"])


@dataclass
class Case:
    """One command line, and what its output must be."""

    argv: list[str]
    env: dict[str, str | None]
    format: str  # the --format asked for (text when none)
    may_fail: bool = False  # exit 1 means something for this command line
    junit: Path | None = None
    sql_target: Path | None = None
    cwd: Path = Path(".")


class Cli:
    """Draws the arguments of one command line against one workspace: each value good most of the time (so
    that the commands run to their answers and print the hostile names), wild the rest of the time."""

    def __init__(self, draw: Draw, ws: Workspace, root: Path) -> None:
        self.draw, self.ws, self.root = draw, ws, root

    def likely(self, percent: int) -> bool:
        return bool(self.draw(st.integers(0, 99)) < percent)

    def pick(self, *choices: Any) -> Any:
        return self.draw(st.sampled_from(choices))

    def good_or(self, good: Callable[[], Any], wild: st.SearchStrategy[Any], percent: int = 88) -> Any:
        value = good() if self.likely(percent) else self.draw(wild)
        return value.replace("\x00", "") if isinstance(value, str) else value  # argv cannot hold NUL

    def odd_path(self) -> str:
        return str(self.pick(
            "", "/dev/null", "nonexistent", "-", "~", ".", "a" * 5000, "/nonexistent/x", "/etc", "/proc/self/mem",
            self.root, self.root / "empty", self.root / "missing" / "x", self.root / self.draw(hostile_name),
        ))

    def path(self, good: str | None, percent: int = 88) -> str:
        if good is not None and self.likely(percent):
            return str(self.root / good)
        return self.odd_path()

    def snapshot(self) -> str:
        if self.likely(92):
            return self.path(self.ws.snapshot, 97)
        return str(self.pick("/", self.root / (self.ws.changes or "x"), self.root / "flowlogs"))

    def flow_logs(self) -> list[str]:
        paths = [str(self.root / p) for p in self.ws.flow_logs]
        if self.likely(30):
            paths = [str(self.root / "flowlogs")]
        if self.likely(8):
            paths.append(self.pick(self.odd_path(), "s3://bucket/prefix/", "cloudwatch://[/x]", "s3://"))
        return paths

    def text(self, *usual: str, percent: int = 88) -> str:
        return str(self.good_or(lambda: self.pick(*usual), hostile_text, percent))

    def endpoint(self) -> str:
        return str(self.good_or(lambda: self.pick(*self.ws.endpoints), st.one_of(ADDRESSES, hostile_text),
                                90 if self.ws.endpoints else 0))

    def port(self) -> str:
        return str(self.good_or(lambda: self.pick(*self.ws.ports), PORTS))

    def protocol(self) -> str:
        return str(self.good_or(lambda: self.pick("tcp", "tcp", "udp", "icmp", "all", "6"), PROTOCOLS))

    def number(self, *usual: str) -> str:
        return str(self.good_or(lambda: self.pick(*usual), NUMBERS))

    def format(self, *choices: str) -> str:
        return self.text(*choices, percent=95)

    def remote(self) -> dict[str, Callable[[], Any]]:
        return {"--profile": lambda: self.text("default", "nope"), "--region": lambda: self.text("us-east-1")}

    def options(self, options: dict[str, Callable[[], Any]], percent: int = 40,
                always: tuple[str, ...] = ()) -> list[str]:
        """Each option with its value (a list: repeated), or a flag (True), in a random order. The options in
        `always` are given nine times in ten; the remote ones (--profile, --region) one time in ten."""
        argv: list[str] = []
        for flag in self.draw(st.permutations(sorted(options))):
            chance = 90 if flag in always else 10 if flag in ("--profile", "--region") else percent
            if not self.likely(chance):
                continue
            value = options[flag]()
            if value is True:
                argv.append(flag)
            elif isinstance(value, list):
                for item in value:
                    argv += [flag, item]
            elif isinstance(value, tuple):
                argv += [flag, *value]
            else:
                argv += [flag, value]
        return argv


def _format_of(argv: list[str]) -> str:
    values = [argv[i + 1] for i, token in enumerate(argv[:-1]) if token == "--format"]
    return values[-1] if values else "text"


def explain(c: Cli) -> Case:
    argv = ["explain", c.endpoint(), c.endpoint(), c.port()]
    argv += c.options({
        "--snapshot": c.snapshot,
        "--protocol": c.protocol,
        "--src-port": lambda: c.number("40000", "1024", "65535", "0"),
        "--format": lambda: c.format("text", "json", "html", "mermaid"),
        "--hops": lambda: True,
        "--flow-logs": c.flow_logs,
        **c.remote(),
    }, always=("--snapshot", "--format"))
    return Case(argv, {}, _format_of(argv))


def whatif(c: Cli) -> Case:
    argv = ["whatif", c.path(c.ws.changes)]
    argv += c.options({
        "--snapshot": c.snapshot,
        "--flow-logs": c.flow_logs,
        "--intents": lambda: c.path(c.ws.intents),
        "--log-format": lambda: c.draw(LOG_FORMATS),
        "--format": lambda: c.format("text", "json", "html"),
        "--fail-on-break": lambda: True,
        **c.remote(),
    }, percent=30, always=("--snapshot", "--format"))
    return Case(argv, {}, _format_of(argv), may_fail="--fail-on-break" in argv)


def check(c: Cli) -> Case:
    junit = c.root / "out" / "junit.xml" if c.likely(85) else None
    argv = ["check", c.path(c.ws.intents)]
    argv += c.options({
        "--snapshot": c.snapshot,
        "--format": lambda: c.format("text", "json"),
        "--junit": lambda: str(junit) if junit else c.odd_path(),
    }, percent=60, always=("--snapshot",))
    if junit:
        junit.parent.mkdir(exist_ok=True)
    return Case(argv, {}, _format_of(argv), may_fail=True, junit=junit if "--junit" in argv else None)


def diff(c: Cli) -> Case:
    argv = ["diff", c.path(c.ws.before or c.ws.snapshot), c.snapshot()]
    argv += c.options({
        "--flow-logs": c.flow_logs,
        "--intents": lambda: c.path(c.ws.intents),
        "--log-format": lambda: c.draw(LOG_FORMATS),
        "--format": lambda: c.format("text", "json", "html"),
        **c.remote(),
    }, percent=30, always=("--format",))
    return Case(argv, {}, _format_of(argv))


def reconcile(c: Cli) -> Case:
    argv = ["reconcile", *c.flow_logs()]
    argv += c.options({
        "--snapshot": c.snapshot,
        "--log-format": lambda: c.draw(LOG_FORMATS),
        "--cloudtrail": lambda: [c.path(c.ws.cloudtrail)],
        "--format": lambda: c.format("text", "json", "html"),
        "--quiet": lambda: True,
        "--rule-usage": lambda: True,
        "--suggest-changes": lambda: c.path("out/suggested.json"),
        **c.remote(),
    }, percent=25, always=("--snapshot", "--format", *(("--cloudtrail",) if c.ws.cloudtrail else ())))
    (c.root / "out").mkdir(exist_ok=True)
    return Case(argv, {}, _format_of(argv))


def _record_filters(c: Cli) -> dict[str, Callable[[], Any]]:
    return {
        "--account": lambda: [c.text("123456789012", "123456789010")],
        "--record-region": lambda: [c.text("us-east-1")],
        "--interface": lambda: [c.endpoint()],
        "--between": lambda: (c.draw(TIMES), c.draw(TIMES)),
    }


def logs_summary(c: Cli) -> Case:
    argv = ["logs", "summary", *c.flow_logs()]
    argv += c.options({
        "--log-format": lambda: c.draw(LOG_FORMATS),
        "--format": lambda: c.format("text", "json"),
        "--quiet": lambda: True,
        **_record_filters(c),
        **c.remote(),
    }, percent=15, always=("--format",))
    return Case(argv, {}, _format_of(argv))


def logs_query(c: Cli) -> Case:
    target = c.root / "out" / "copied.csv"
    good = [
        "SELECT * FROM vpc_flow_logs",
        "SELECT interface_id, action, count(*) AS n FROM vpc_flow_logs GROUP BY ALL ORDER BY n DESC",
        "SELECT srcaddr, dstport FROM vpc_flow_logs WHERE dstport > 1000 LIMIT 5",
        "SELECT chr(27) || '[2J[/x]' AS esc, '<script>' AS s",
        "SELECT repeat('x', 100000) AS big",
    ]
    hostile = [
        f"COPY vpc_flow_logs TO '{target}'",
        f"COPY (SELECT 1) TO '{target}'",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_csv_auto('/etc/hostname')",
        "SELECT 1/0 AS x",
        "SELEC",
        "",
        ";",
        "SELECT * FROM vpc_flow_logs; DROP TABLE vpc_flow_logs",
        "INSTALL httpfs",
        f"ATTACH '{c.root}/out/x.db' AS x",
        "SET enable_external_access = true",
        "PRAGMA version",
        "SELECT * FROM vpc_flow_logs LIMIT -1",
    ]
    argv = ["logs", "query", *c.flow_logs()]
    if c.likely(60):
        argv += ["--sql", c.good_or(lambda: c.pick(*good), st.one_of(st.sampled_from(hostile), hostile_text), 60)]
    argv += c.options({
        "--action": lambda: c.text("ACCEPT", "REJECT", "accept", "MAYBE"),
        "--src": c.endpoint,
        "--dst": c.endpoint,
        "--port": lambda: c.number(*c.ws.ports),
        "--both-ways": lambda: True,
        "--top": lambda: c.text("dstport", "srcaddr", "interface_id", "nope", "dstport; DROP TABLE x"),
        "--fields": lambda: c.text("srcaddr,dstport", "srcaddr,,dstport", "*", " action ", "start,end,bytes"),
        "--limit": lambda: c.number("1", "10", "0"),
        "--show-sql": lambda: True,
        "--log-format": lambda: c.draw(LOG_FORMATS),
        "--format": lambda: c.format("text", "json", "csv"),
        "--quiet": lambda: True,
        **_record_filters(c),
    }, percent=12, always=("--format",))
    (c.root / "out").mkdir(exist_ok=True)
    return Case(argv, {}, _format_of(argv), sql_target=target)


def doctor(c: Cli) -> Case:
    argv = ["doctor"] + c.options({
        "--snapshot": c.snapshot,
        "--flow-logs": c.flow_logs,
        "--format": lambda: c.format("text", "json"),
        **c.remote(),
    }, percent=50, always=("--snapshot", "--format"))
    return Case(argv, {}, _format_of(argv))


def exposure(c: Cli) -> Case:
    argv = ["exposure"] + c.options({"--snapshot": c.snapshot, "--format": lambda: c.format("text", "json", "html")},
                                    always=("--snapshot", "--format"))
    return Case(argv, {}, _format_of(argv))


def reachable(c: Cli) -> Case:
    direction = c.pick("--to", "--from")
    argv = ["reachable", direction, c.endpoint()] + c.options({
        "--to" if direction == "--from" else "--from": c.endpoint,
        "--port": c.port,
        "--protocol": c.protocol,
        "--snapshot": c.snapshot,
        "--format": lambda: c.format("text", "json", "html"),
    }, percent=10, always=("--snapshot", "--format"))
    return Case(argv, {}, _format_of(argv))


def schema(c: Cli) -> Case:
    names = ["explain", "reconcile", "whatif", "diff", "check", "doctor", "logs summary", "exposure", "reachable"]
    argv = ["schema", *c.text(*names).split(" ")]
    return Case(argv, {}, "json" if len(argv) > 1 else "text")


def collect(c: Cli) -> Case:
    """Without credentials (the environment has none): every path that refuses before or after asking AWS."""
    argv = ["collect"]
    if c.likely(80):
        argv.append(c.path("collected", 70))
    argv += c.options({
        "--region": lambda: [c.text("us-east-1", "eu-west-1", "mars-1")],
        "--all-regions": lambda: True,
        "--profile": lambda: c.text("default", "nope"),
        "--role-arn": lambda: [c.text("arn:aws:iam::123456789012:role/reach", "not-an-arn")],
        "--redact": lambda: True,
        "--print-policy": lambda: True,
        "--quiet": lambda: True,
    })
    return Case(argv, {}, "json" if "--print-policy" in argv else "text")


def anything(c: Cli) -> Case:
    """Usage errors: help, unknown commands and options, missing and extra arguments."""
    words = ["--help", "--version", "-v", "--", "logs", "explain", "--format", "json", "--nope", "-x", "--snapshot",
             "=", "--format=json"]
    argv = c.draw(st.lists(st.one_of(st.sampled_from(words), hostile_text), max_size=5))
    return Case([a.replace("\x00", "") for a in argv], {}, "help")


COMMANDS: list[Callable[[Cli], Case]] = [
    explain, explain, explain, whatif, whatif, check, check, diff, reconcile, reconcile, logs_summary, logs_query,
    logs_query, doctor, exposure, reachable, schema, collect, anything,
]
# No credentials, no instance metadata, no profile: a source on S3 or CloudWatch fails fast, naming why.
NO_AWS: dict[str, str | None] = {
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    **{name: None for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                               "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
                               "REACH_SNAPSHOT", "FORCE_COLOR", "NO_COLOR")},
}


def case_for(draw: Draw, ws: Workspace, root: Path) -> Case:
    """A command line against the workspace written at `root`, and the environment it runs in."""
    case = draw(st.sampled_from(COMMANDS))(Cli(draw, ws, root))
    case.env = {**NO_AWS, "COLUMNS": draw(COLUMNS)}
    case.cwd = root
    if draw(st.booleans()):
        case.env["FORCE_COLOR"] = "1"
    if "--snapshot" not in case.argv and draw(st.booleans()):
        case.env["REACH_SNAPSHOT"] = str(root / ws.snapshot)
    if draw(st.integers(0, 9)) == 0:
        case.argv.insert(0, "--debug")
    return case


# ----- properties ---------------------------------------------------------------------------------

# rich's own colours (FORCE_COLOR) are the only escape sequences allowed; every other control character, but
# the newline, came from input.
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on") or MARKER in name:
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src") and value and MARKER in value:
                self.problems.append(f"<{tag} {name}={value!r}>")
        if MARKER in tag:
            self.problems.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and MARKER in data:
            self.problems.append(f"script: {data[:80]!r}")


def assert_sound(case: Case, result: Result) -> None:
    allowed = {0, 2, 1} if case.may_fail else {0, 2}
    shown = f"reach {' '.join(map(repr, case.argv))}\nexit {result.exit_code}\n{result.stderr[-2000:]}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(shown) from result.exception
    assert result.exit_code in allowed, shown
    stdout, stderr = result.stdout, result.stderr
    # --debug logs the error's traceback on purpose (DEBUG, on stderr); without it, none is ever shown.
    assert "Traceback" not in stdout and ("Traceback" not in stderr or "--debug" in case.argv), shown
    # A page is text too: printed to a terminal by mistake, it must not retitle it.
    texts = [stderr] + ([stdout] if case.format in ("text", "mermaid", "html", "help") or result.exit_code == 2 else [])
    for text in texts:
        found = _CONTROL.search(_SGR.sub("", text))
        assert found is None, f"{shown}\ncontrol character {found.group()!r} in {text[:3000]!r}" if found else ""
    if result.exit_code == 2:
        assert (stderr + stdout).strip(), f"{shown}\nexit 2 without a word"  # bare `reach`: help on stdout
        return
    if case.format == "json" and result.exit_code in (0, 1):
        document = json.loads(stdout)
        command = [a for a in case.argv if a != "--debug"][:2]
        if command == ["logs", "query"] or command[0] == "schema" or "--print-policy" in case.argv:
            assert isinstance(document, (list, dict)), shown
        else:
            assert isinstance(document, dict) and document.get("schema_version") == 1, shown
    if case.format == "html" and result.exit_code in (0, 1):
        page = _Page()
        page.feed(stdout)
        assert not page.problems, f"{shown}\n{page.problems}"
    if case.junit is not None and case.junit.exists():
        ET.parse(case.junit)  # raises on XML that does not parse
    if case.sql_target is not None:
        assert not case.sql_target.exists(), f"{shown}\nlogs query wrote {case.sql_target}"


def _invoke(case: Case) -> Result:
    loggers = {name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers))
               for name in ("reach", "botocore", "boto3")}
    try:
        with contextlib.chdir(case.cwd):  # relative paths (`--junit -`, `collect x`) land in the example
            return runner.invoke(app, case.argv, env=case.env)
    finally:  # --debug adds a handler on the runner's stderr, closed once the command returns
        for name, (level, handlers) in loggers.items():
            logging.getLogger(name).setLevel(level)
            logging.getLogger(name).handlers[:] = handlers


@fuzz_settings
@given(ws=workspaces(), data=st.data())
def test_any_command_line_exits_0_1_or_2_and_prints_only_what_it_may(ws: Workspace, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory(prefix="reach-fuzz-") as folder:
        root = Path(folder)
        ws.write(root)
        case = case_for(data.draw, ws, root)
        assert_sound(case, _invoke(case))
