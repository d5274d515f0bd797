"""`reach collect` output: a progress bar per account and region while it runs, then what was written and
which calls failed."""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, Task, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from reach.report.layout import Cell, Column, left_out, print_table
from reach.report.safe import clean, escape_markup
from reach.snapshot.collector import CollectResult

# The resource counts worth a word in the summary, by call.
_HEADLINE = (
    ("describe-vpcs", "VPC"),
    ("describe-subnets", "subnet"),
    ("describe-network-interfaces", "interface"),
    ("describe-instances", "reservation"),
    ("describe-security-groups", "security group"),
    ("describe-flow-logs", "flow log"),
    ("describe-load-balancers", "load balancer"),
    ("describe-transit-gateways", "transit gateway"),
)


class CollectProgress:
    """Rich progress bars on stderr, one per account/region; implements the collector's Progress protocol."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=True,
        )
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> CollectProgress:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._progress.stop()

    @property
    def tasks(self) -> list[Task]:
        """One task per account/region: its total (calls planned so far) and completed counts."""
        return self._progress.tasks

    def planned(self, target: str, calls: int) -> None:
        with self._lock:
            task = self._tasks.get(target)
            if task is None:
                # the description is read as rich markup by the progress column: escaped
                self._tasks[target] = self._progress.add_task(escape_markup(target), total=calls)
            else:
                self._progress.update(task, total=(self._progress.tasks[task].total or 0) + calls)

    def finished(self, target: str, call: str, ok: bool) -> None:
        with self._lock:
            self._progress.advance(self._tasks[target])


def render_collect_text(result: CollectResult, console: Console, *, quiet: bool = False) -> None:
    """What was collected (unless quiet), then every failed call (always)."""
    if not quiet:
        scope = f"{len(result.accounts)} account(s) x {len(result.regions)} region(s)"
        console.print(Text.assemble(
            ("Collected  ", "bold"),
            f"{len(result.files)} files from {scope} in {result.seconds:.1f} s ({result.requests} requests)",
            " (redacted)" if result.redacted else "",
        ))
        items: dict[tuple[str, str], dict[str, int]] = {}
        for record in result.calls:
            items.setdefault((record.account, record.region), {})[record.call] = record.items
        for (account, region), counts in sorted(items.items()):
            words = [f"{counts[call]} {label}{'' if counts[call] == 1 else 's'}" for call, label in _HEADLINE
                     if counts.get(call)]
            console.print(Text(clean(f"  {account}/{region}: {', '.join(words) or 'nothing'}")))
    if result.errors:
        denied = len(result.denied)
        title = f"{len(result.errors)} call(s) failed" + (f", {denied} denied" if denied else "")
        rows: list[list[Cell]] = [
            [clean(f"{error.account}/{error.region}"), clean(error.action), clean(error.resource or ""),
             Text(clean(f"{error.code}: {error.message}"), style="red" if error.denied else "yellow")]
            for error in result.errors
        ]
        columns = [Column("account/region", drop=1), Column("call"), Column("resource", drop=2), Column("error")]
        left_out(console, print_table(console, columns, rows, title=Text(title, style="bold red")),
                 f"{result.outdir}/manifest.json")
        if denied:
            console.print("  Denied calls are left out of the snapshot: `reach collect --print-policy` "
                          "prints the policy that allows every call.")
    if not quiet and result.collected:
        out = result.outdir
        console.print(Text(clean(f"Snapshot in {out}; next: reach explain SRC DST PORT --snapshot {out}, "
                                 f"reach doctor --snapshot {out}")), soft_wrap=True)
