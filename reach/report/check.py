"""`reach check` output: one line per intent, each failure with what blocks it; JSON; JUnit XML for CI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from reach.report.whatif import blocker_json
from reach.whatif.results import CheckResult, IntentResult


def _flow_text(result: IntentResult) -> str:
    flow = result.flow
    if flow is None:
        return ""
    port = f":{flow.dst_port}" if flow.dst_port is not None else ""
    src_port = f" from port {flow.src_port}" if flow.src_port is not None else ""
    return f"{flow.src} -> {flow.dst}{port} {flow.protocol}{src_port}"


def _blocker_text(result: IntentResult) -> str | None:
    blocker = result.blocked_by
    if blocker is None:
        return None
    rule = "" if blocker.rule is None else f" rule {blocker.rule}"
    where = ", return path" if blocker.return_path else ""
    return f"blocked by {blocker.kind} {blocker.id} {blocker.direction or ''}{rule}{where}: {blocker.detail}"


def intent_json(result: IntentResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "flow": result.flow.model_dump(mode="json") if result.flow else None,
        "expect": result.expect,
        "verdict": result.verdict,
        "reason": result.reason,
        "blocked_by": blocker_json(result.blocked_by),
        "passed": result.passed,
        "problems": result.problems,
    }


def check_json(result: CheckResult) -> str:
    failed = len(result.failures)
    body = {
        "summary": {"intents": len(result.results), "passed": len(result.results) - failed, "failed": failed},
        "results": [intent_json(r) for r in result.results],
    }
    return json.dumps(body, indent=2)


def render_check_text(result: CheckResult, console: Console) -> None:
    for item in result.results:
        mark = Text("PASS", style="bold green") if item.passed else Text("FAIL", style="bold red")
        verdict = f"{item.verdict} ({item.reason})" if item.verdict else "not evaluated"
        console.print(Text.assemble(mark, f"  {item.name}  ", (_flow_text(item), "dim"), f"  {verdict}"))
        if not item.passed:
            for problem in item.problems:
                console.print(f"      {problem}")
            blocked = _blocker_text(item)
            if blocked:
                console.print(Text(f"      {blocked}", style="red"))
    failed = len(result.failures)
    style = "bold green" if not failed else "bold red"
    console.print(Text(f"{len(result.results) - failed} of {len(result.results)} intent(s) hold", style=style))


def check_junit(result: CheckResult) -> ET.ElementTree:
    """JUnit XML: one test case per intent; a failed expectation is a <failure>, an intent whose ends cannot
    be resolved an <error>."""
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
        name=result.source,
        tests=str(len(result.results)),
        failures=str(len(failures)),
        errors=str(len(errors)),
        skipped="0",
    )
    for item in result.results:
        case = ET.SubElement(suite, "testcase", classname=f"reach.check.{Path(result.source).stem}", name=item.name)
        if item.passed:
            continue
        tag = "error" if item.verdict is None else "failure"
        problem = ET.SubElement(
            case, tag, message="; ".join(item.problems), type="unresolved" if item.verdict is None else "verdict"
        )
        lines = [_flow_text(item), *item.problems]
        blocked = _blocker_text(item)
        if blocked:
            lines.append(blocked)
        problem.text = "\n".join(line for line in lines if line)
    ET.indent(suites)
    return ET.ElementTree(suites)


def write_check_junit(result: CheckResult, path: str | Path) -> None:
    check_junit(result).write(path, encoding="utf-8", xml_declaration=True)
