"""`reach check` output: one line per intent, each failure with what blocks it; JSON; JUnit XML for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from pydantic import BaseModel
from rich.console import Console
from rich.text import Text

from reach.errors import ReachError
from reach.report.layout import paragraph
from reach.report.names import Names
from reach.report.outputs import Versioned, dumps
from reach.report.safe import clean, clean_lines
from reach.whatif.results import CheckResult, IntentResult


class CheckSummary(BaseModel):
    intents: int
    passed: int
    failed: int


class CheckOutput(Versioned):
    """`reach check`: the tally, and one result per intent."""

    summary: CheckSummary
    results: list[IntentResult]


def _flow_text(result: IntentResult) -> str:
    flow = result.flow
    if flow is None:
        return ""
    port = f":{flow.dst_port}" if flow.dst_port is not None else ""
    src_port = f" from port {flow.src_port}" if flow.src_port is not None else ""
    return clean(f"{flow.src} -> {flow.dst}{port} {flow.protocol}{src_port}")


def _blocker_text(result: IntentResult, names: Names) -> str | None:
    blocker = result.blocked_by
    if blocker is None:
        return None
    rule = "" if blocker.rule is None else f" rule {blocker.rule}"
    where = ", return path" if blocker.return_path else ""
    detail = names.tag(blocker.detail)
    return clean(f"blocked by {blocker.kind} {blocker.id} {blocker.direction or ''}{rule}{where}: {detail}")


def check_json(result: CheckResult) -> str:
    failed = len(result.failures)
    summary = CheckSummary(intents=len(result.results), passed=len(result.results) - failed, failed=failed)
    return dumps(CheckOutput(summary=summary, results=result.results))


def render_check_text(result: CheckResult, console: Console, names: Names | None = None) -> None:
    """The tally first, then one line per intent; each failure with why and what blocks it."""
    names = names or Names()
    failed = len(result.failures)
    style = "bold green" if not failed else "bold red"
    console.print(Text(f"{len(result.results) - failed} of {len(result.results)} intent(s) hold", style=style))
    for item in result.results:
        mark = Text("PASS", style="bold green") if item.passed else Text("FAIL", style="bold red")
        verdict = clean(f"{item.verdict} ({item.reason})") if item.verdict else "not evaluated"
        paragraph(console, Text.assemble(mark, f"  {clean(item.name)}  ", (_flow_text(item), "dim"), f"  {verdict}"))
        if not item.passed:
            for problem in item.problems:
                paragraph(console, clean(problem), indent=6)
            blocked = _blocker_text(item, names)
            if blocked:
                paragraph(console, Text(blocked, style="red"), indent=6)


def check_junit(result: CheckResult) -> ET.ElementTree:
    """JUnit XML: one test case per intent; a failed expectation is a <failure>, an intent whose ends cannot
    be resolved an <error>. Names and messages are cleaned of control characters, which XML 1.0 cannot hold
    even escaped."""
    errors = [r for r in result.results if not r.passed and r.verdict is None]
    failures = [r for r in result.results if not r.passed and r.verdict is not None]
    suites = ET.Element(
        "testsuites",
        name="reach check",
        tests=str(len(result.results)),
        failures=str(len(failures)),
        errors=str(len(errors)),
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=clean(result.source),
        tests=str(len(result.results)),
        failures=str(len(failures)),
        errors=str(len(errors)),
        skipped="0",
    )
    for item in result.results:
        case = ET.SubElement(suite, "testcase", classname=clean(f"reach.check.{Path(result.source).stem}"),
                             name=clean(item.name))
        if item.passed:
            continue
        tag = "error" if item.verdict is None else "failure"
        problem = ET.SubElement(
            case, tag, message=clean("; ".join(item.problems)),
            type="unresolved" if item.verdict is None else "verdict",
        )
        lines = [_flow_text(item), *(clean(p) for p in item.problems)]
        blocked = _blocker_text(item, Names())
        if blocked:
            lines.append(blocked)
        problem.text = clean_lines("\n".join(line for line in lines if line))
    ET.indent(suites)
    return ET.ElementTree(suites)


def write_check_junit(result: CheckResult, path: str | Path) -> None:
    try:
        check_junit(result).write(path, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise ReachError(f"cannot write the JUnit report {path}: {exc.strerror or exc}") from None
