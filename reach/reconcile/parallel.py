"""Reconcile on every core: the input split into tasks, each read, placed and predicted by a worker process
with its own copy of the compiled network, folded from small partial results.

    tasks      one per file; a large plain file cut into byte ranges on line ends (gzip: one per file);
               an s3:// or cloudwatch:// source, one task
    phase 1    each task reads its share into a Partial; records whose response only their reverse can tell
               (pairing candidates) go to spool files, by partition of connections
    phase 2    each partition's candidates, from every task, are told and folded by one worker
    fold       the parent merges the partials (counts, sketches, per-key tables that DuckDB folds out of core)
               and reports, exactly as one process reading everything in order would

Nothing is shared between workers and no record passes through the parent: the network is sent once per
worker, and what comes back is partial aggregates (or the names of files that hold them).
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from reach.errors import FlowLogError
from reach.flowlogs import FlowLogStats, read_flow_logs, sources
from reach.flowlogs.fields import header_fields, parse_log_format, split_fields
from reach.flowlogs.filters import Filters
from reach.flowlogs.reader import not_flow_logs
from reach.flowlogs.sources import GZIP_MAGIC, PARQUET_MAGIC, FilePart, first_line, line_ranges, local_files
from reach.flowlogs.stats import MAX_BAD_LINES, SOURCE_BAD_LINES, BadLine
from reach.model.network import Network
from reach.reconcile.cloudtrail import CloudTrail
from reach.reconcile.finish import finish
from reach.reconcile.partial import Partial
from reach.reconcile.pipeline import Reconciler
from reach.reconcile.result import ReconcileResult

RANGE_BYTES = 64 << 20  # a plain file larger than this is cut into byte ranges
SMALL_INPUT = 16 << 20  # local input smaller than this is read in the calling process: workers cost more
_REMOTE = ("s3://", "cloudwatch://")


def default_jobs() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


@dataclass(frozen=True)
class Task:
    """One worker's share: a whole source, a file, or a byte range of one (`part` k of a file's ranges)."""

    index: int  # position in the input: results fold in this order where order shows (bad-line samples)
    source: int  # which of the command's FLOWLOG arguments it comes from
    path: str
    part: FilePart | None = None
    range_number: int = 0


@dataclass
class TaskResult:
    task: Task
    partial: Partial
    stats: FlowLogStats
    lines: int = 0  # lines of a byte range (to number the bad lines of the ranges after it)
    headers: list[tuple[str, ...]] = field(default_factory=list)  # formats its header lines set, in order


# ----- the plan --------------------------------------------------------------------------------


def _is_plain_text(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(64)
    return not head.startswith((GZIP_MAGIC, PARQUET_MAGIC)) and not head.lstrip().startswith((b"{", b"[", b"H4sI"))


def plan(sources: Sequence[str], jobs: int, log_format: tuple[str, ...] | None,
         range_bytes: int = RANGE_BYTES) -> list[Task]:
    """The tasks, in input order. A large plain file is cut into ranges so that every worker gets a share;
    the format each range starts in is the file's first-line header (or the given/default one), checked
    once every range is read (a header further down redoes the ranges after it)."""
    tasks: list[Task] = []
    for s, source in enumerate(sources):
        if source.startswith(_REMOTE):
            tasks.append(Task(len(tasks), s, source))
            continue
        for path in local_files(Path(source), Filters()):
            size = path.stat().st_size
            if jobs <= 1 or size <= range_bytes or not _is_plain_text(path):  # ranges are for sharing out
                tasks.append(Task(len(tasks), s, str(path)))
                continue
            parts = min(size // range_bytes + 1, jobs)  # a share per worker: every partial costs a merge
            header = _header(path)
            fmt = header or log_format
            for k, (start, end) in enumerate(line_ranges(path, int(parts))):
                tasks.append(Task(len(tasks), s, str(path), FilePart(str(path), start, end, fmt), k))
    return tasks


def _header(path: Path) -> tuple[str, ...] | None:
    try:
        return header_fields(split_fields(first_line(path).decode("utf-8").lstrip("\ufeff")))
    except UnicodeDecodeError:
        return None


# ----- a worker --------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Settings:
    log_format: str | None
    rule_usage: bool
    spool: str
    profile: str | None
    region: str | None
    quiet: bool = True  # no progress line (workers never draw one)
    in_process: bool = False  # tasks run in the calling process, one after another


_network: Network | None = None
_settings = _Settings(None, True, "", None, None)


WORKER_MEMORY = {"ARROW_DEFAULT_MEMORY_POOL": "system", "MALLOC_ARENA_MAX": "2",
                 "MALLOC_MMAP_THRESHOLD_": str(4 << 20)}
WORKER_BLOCK = 4 << 20  # a worker reads text in blocks this big: less in flight per process, same speed
WORKER_CHUNK = 1 << 17  # records a worker reconciles at a time
WORKER_BUDGET = 24 << 20  # bytes of per-key counts a worker holds before they go to the spool


def _start_worker(network: bytes, settings: _Settings) -> None:
    global _network, _settings
    _network = pickle.loads(network)
    _settings = settings
    sources.BLOCK_SIZE = WORKER_BLOCK


def _read(task: Task) -> TaskResult:
    """Phase 1: read a task's share into a partial; its candidates and large tables go to the spool."""
    assert _network is not None
    settings = _settings
    stream = read_flow_logs([task.part if task.part is not None else task.path], quiet=settings.quiet,
                            log_format=settings.log_format, profile=settings.profile, region=settings.region)
    stream.check_sources = False
    reconciler = _reconciler()
    try:
        for batch in stream:
            reconciler.add(batch)
        partial = reconciler.partial()
    finally:
        reconciler.close()
    _send_light(partial)
    lines = sum(p.lines for p in stream.parsers)
    headers = [h for p in stream.parsers for h in p.headers]
    return TaskResult(task, partial, stream.stats, lines, headers)


def _reconciler() -> Reconciler:
    assert _network is not None
    reconciler = Reconciler(_network, rule_usage=_settings.rule_usage, spool=_settings.spool)
    if not _settings.in_process:  # one of several processes: each holds less
        reconciler.CHUNK = WORKER_CHUNK
        reconciler.state.cells.budget = reconciler.state.candidates.budget = WORKER_BUDGET
    return reconciler


def _resolve(pieces: list[tuple[int, Partial]]) -> Partial:
    """Phase 2: tell and fold the pairing candidates of some partitions (every record of theirs)."""
    assert _network is not None
    reconciler = _reconciler()
    try:
        for partition, holder in pieces:
            held = holder.candidates.take(partition)
            if held is not None:
                reconciler.resolve(held)
        partial = reconciler.partial()
    finally:
        reconciler.close()
    _send_light(partial)
    return partial


def _send_light(partial: Partial) -> None:
    """What goes back to the parent stays small: per-key tables past a few MB and every held record go to
    the spool as files (in a worker process; in the calling one nothing travels)."""
    if _network is not None and _settings.in_process:
        return
    if partial.cells.held_bytes > (8 << 20):
        partial.cells.spill()
    if partial.candidates.rows:
        partial.candidates.spill()


# ----- the parent ------------------------------------------------------------------------------


def reconcile_sources(network: Network, sources: Sequence[str], *, jobs: int | None = None,
                      log_format: str | None = None, cloudtrail: CloudTrail | None = None,
                      rule_usage: bool = True, profile: str | None = None, region: str | None = None,
                      range_bytes: int = RANGE_BYTES, small_input: int = SMALL_INPUT,
                      quiet: bool = True) -> ReconcileResult:
    """reconcile(…) over flow-log sources with `jobs` worker processes (default: every core this process
    may use). The answer is the one `reconcile` gives reading the same sources in one process."""
    jobs = jobs or default_jobs()
    fmt = parse_log_format(log_format) if log_format else None
    for source in sources:
        if not source.startswith(_REMOTE) and not Path(source).exists():
            raise FlowLogError(f"{source}: no such file or directory")
    tasks = plan(sources, jobs, fmt, range_bytes)
    remote = any(t.path.startswith(_REMOTE) for t in tasks)
    size = sum(t.part.end - t.part.start if t.part else Path(t.path).stat().st_size for t in tasks if not remote)
    workers = 1 if not remote and size < small_input else min(jobs, max(len(tasks), 1))
    spool = tempfile.mkdtemp(prefix="reach-reconcile-")
    settings = _Settings(log_format, rule_usage, spool, profile, region, quiet or workers > 1)
    try:
        with _pool(network, settings, workers) as pool:
            results = _phase_one(pool, tasks)
            merged, stats = fold_reads(results, sources)
            _phase_two(pool, merged, workers)
        return finish(merged, network, read_stats=stats, cloudtrail=cloudtrail, rule_usage=rule_usage)
    finally:
        shutil.rmtree(spool, ignore_errors=True)


class _InProcess(Executor):
    """One job: the tasks run here, one after another (no process to start, nothing to pickle)."""

    def map(self, fn, *iterables, timeout=None, chunksize=1):  # type: ignore[no-untyped-def]
        return map(fn, *iterables)


def _pool(network: Network, settings: _Settings, workers: int) -> Executor:
    if workers <= 1:
        global _network, _settings
        _network, _settings = network, dataclasses.replace(settings, in_process=True)
        return _InProcess()
    payload = pickle.dumps(network, protocol=pickle.HIGHEST_PROTOCOL)
    # Read by the workers' allocators as they start: large arrays mapped and freed memory given back, rather
    # than kept per thread (a worker holds about 0.5 GB instead of 0.65).
    for name, value in WORKER_MEMORY.items():
        os.environ.setdefault(name, value)
    # Workers fork from a server that imported reach once (not fork itself: this process runs threads).
    context = get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(payload, settings))


def _phase_one(pool: Executor, tasks: list[Task]) -> list[TaskResult]:
    """Read every task; a byte range that started in the wrong format (a header line in an earlier range
    changed it) is read again in the right one, until every range agrees with what precedes it."""
    results = list(pool.map(_read, tasks))
    while True:
        redo = []
        by_file: dict[str, list[TaskResult]] = {}
        for r in results:
            if r.task.part is not None:
                by_file.setdefault(r.task.path, []).append(r)
        for ranges in by_file.values():
            ranges.sort(key=lambda r: r.task.range_number)
            current = ranges[0].task.part.log_format if ranges[0].task.part else None
            for r in ranges:
                assert r.task.part is not None
                if r.task.part.log_format != current:
                    redo.append(Task(r.task.index, r.task.source, r.task.path,
                                     FilePart(r.task.path, r.task.part.start, r.task.part.end, current),
                                     r.task.range_number))
                    break  # the ranges after it follow from its own headers: check them next round
                if r.headers:
                    current = r.headers[-1]
        if not redo:
            return results
        again = {t.index: t for t in redo}
        decided = [r.partial.key_hashes for r in results if r.task.index in again]  # a process decides a key once
        for r in results:
            if r.task.index in again:
                r.partial.cells.remove_files()
        redone = list(pool.map(_read, redo))
        redone[0].partial.key_hashes.extend(k for hashes in decided for k in hashes)
        results = [r for r in results if r.task.index not in again] + redone
        results.sort(key=lambda r: r.task.index)


def fold_reads(results: list[TaskResult], sources: Sequence[str]) -> tuple[Partial, FlowLogStats]:
    """The tasks' partials merged, and their read counts as one read in input order would count them."""
    results = sorted(results, key=lambda r: r.task.index)
    merged = results[0].partial if results else None
    stats = FlowLogStats()
    line_offset: dict[str, int] = {}
    files: set[str] = set()
    per_source: dict[int, tuple[int, int, list[BadLine]]] = {}
    for r in results:
        if merged is not r.partial and merged is not None:
            merged.merge(r.partial)
        offset = line_offset.get(r.task.path, 0) if r.task.part is not None else 0
        line_offset[r.task.path] = offset + r.lines
        st = r.stats
        for name in ("records", "filtered", "unparsable", "nodata", "skipdata", "headers", "bytes_read"):
            setattr(stats, name, getattr(stats, name) + getattr(st, name))
        files.add(r.task.path)
        shifted = [b._replace(line=b.line + offset) for b in st.bad_lines]
        stats.bad_lines.extend(shifted[: MAX_BAD_LINES - len(stats.bad_lines)])
        records, bad, samples = per_source.get(r.task.source, (0, 0, []))
        per_source[r.task.source] = (records + st.records + st.filtered, bad + st.unparsable,
                                     (samples + shifted)[:SOURCE_BAD_LINES])
    stats.files = len(files)
    for s, (records, bad, samples) in sorted(per_source.items()):
        if not records and bad:
            raise FlowLogError(not_flow_logs(sources[s], bad, samples))
    return merged if merged is not None else Partial(0), stats


def _phase_two(pool: Executor, merged: Partial, jobs: int) -> None:
    """Tell the held candidates, a group of partitions per worker, and fold what they make."""
    spool = merged.candidates
    held = [p for p in range(spool.partitions) if spool.parts.get(p) or spool.files.get(p)]
    if not held:
        return
    groups = [held[k::jobs] for k in range(min(jobs, len(held)))]
    work = [[(p, Partial(0, candidates=spool.pieces(p))) for p in group] for group in groups]
    spool.parts, spool.files, spool.rows = {}, {}, 0
    for partial in pool.map(_resolve, work):
        merged.merge(partial)

