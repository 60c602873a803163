"""The evaluation worker: a run's checks in a child process under a hard memory cap.

DuckDB's ``memory_limit`` bounds its buffer manager, not everything a query allocates:
``repeat('x', 3000000000)`` reached ≈ 5.8 GB RSS under a 512 MB limit, and results
fetched into Python are not counted at all. A limit that holds has to come from the
operating system, and it must not apply to the workbench process itself (git, the TUI).
So `workbench evaluate` runs its checks in one child process per run:

* the child sets ``RLIMIT_DATA`` (private memory: heap and anonymous mappings, what
  queries allocate) to ``[evidence] memory_cap`` and ``RLIMIT_AS`` to the cap plus room
  for the interpreter's and DuckDB's mappings, before it reads its request (so before any
  query or evidence byte; DuckDB itself is loaded first, see `prestart`). An allocation
  beyond the cap fails inside DuckDB (``Out of Memory Error``) or Python
  (``MemoryError``): that term is `error`, named, and the worker goes on;
* the child reports each term's result as one JSON line as soon as it has it, and says
  which terms it starts; if it dies anyway (a signal, a crash), the parent records the
  term it was running as `error` and starts a new worker for the rest;
* the parent enforces the run budget too: a worker silent past the deadline is killed,
  its term is `error` ("stopped"), every term not run is `error` ("budget exhausted").

One process per run, not per term: the normal path pays one interpreter start (≈ 0.3 s),
and the worker's queries share one watchdog thread instead of a thread per query.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import IO, Any

from workbench.evidence.checks import CheckResult, limit_for
from workbench.evidence.runner import CheckJob, Limits, exhausted, stopped_by_budget

# Room above the cap for what RLIMIT_AS counts but memory use does not: shared libraries,
# thread stacks, DuckDB's and the allocator's reserved address ranges (≈ 0.8 GB at start).
_AS_HEADROOM = 2 * 2**30
# How long past the budget a silent worker gets (it interrupts its own query first).
_KILL_GRACE_S = 5.0


class _Garbled(Exception):
    pass


@dataclass
class WorkerStats:
    """What the run's workers used (not part of findings: measurements vary)."""

    workers: int = 0
    peak_rss: int = 0  # bytes, the largest worker's peak resident set
    restarts: list[str] = field(default_factory=list)  # why a worker ended early
    # What ran otherwise than planned (a batch that fell back to per-term queries, and
    # why): said on stderr and in the run's commit message, never silently.
    notes: list[str] = field(default_factory=list)


def run_isolated(
    jobs: Sequence[CheckJob], limits: Limits
) -> tuple[dict[int, CheckResult], WorkerStats]:
    """Run `jobs` in worker processes under `limits`; every job gets a result."""
    results: dict[int, CheckResult] = {}
    stats = WorkerStats()
    if not jobs:
        return results, stats
    by_key = {j.key: j for j in jobs}
    start = time.monotonic()
    no_batch: set[int] = set()
    while True:
        pending = [j for j in jobs if j.key not in results]
        if not pending:
            break
        remaining = limits.run_budget_s - (time.monotonic() - start)
        if remaining <= 0:
            for job in pending:
                results[job.key] = exhausted(job, limits)
            break
        before = len(results)
        in_flight, ended, why = _one_worker(pending, limits, remaining, no_batch, results, stats)
        if ended == "done":
            continue
        stats.restarts.append(why)
        if ended == "budget":
            for key in in_flight:
                results.setdefault(key, stopped_by_budget(by_key[key], limits))
            continue  # the next round marks the rest "budget exhausted"
        if len(in_flight) > 1 and not set(in_flight) <= no_batch:
            no_batch.update(in_flight)  # a batch query: run its terms one by one
            stats.notes.append(
                f"batch: the evaluation worker stopped during a batch of {len(in_flight)} "
                f"terms ({why}); they run one query each in a new worker"
            )
            continue
        for key in in_flight:
            results[key] = CheckResult(
                "error",
                limit=limit_for(by_key[key].term),
                reason=f"the evaluation worker stopped while running this check ({why}); "
                f"memory cap {limits.memory_cap_text} ([evidence] memory_cap)",
            )
        if not in_flight and len(results) == before:
            # Nothing started, nothing finished: the worker cannot run at all.
            for job in pending:
                results[job.key] = CheckResult(
                    "error", limit=limit_for(job.term), reason=f"evaluation worker failed: {why}"
                )
    return results, stats


def _one_worker(
    jobs: Sequence[CheckJob],
    limits: Limits,
    remaining_s: float,
    no_batch: set[int],
    results: dict[int, CheckResult],
    stats: WorkerStats,
) -> tuple[list[int], str, str]:
    """One worker over `jobs`: collects results; returns (keys in flight when it ended,
    "done" | "budget" | "died", why)."""
    request = pickle.dumps(
        {
            "limits": limits,
            "remaining_s": remaining_s,
            "batch": not (no_batch & {j.key for j in jobs}),
            "jobs": list(jobs),
        }
    )
    proc, err = _take_spare() or _spawn()
    with err:
        stats.workers += 1
        assert proc.stdin is not None and proc.stdout is not None
        in_flight: list[int] = []
        ended, why = "died", ""
        try:
            try:
                proc.stdin.write(request)
                proc.stdin.close()
            except BrokenPipeError:
                pass
            deadline = time.monotonic() + remaining_s + _KILL_GRACE_S
            buffer = b""
            with selectors.DefaultSelector() as sel:
                sel.register(proc.stdout, selectors.EVENT_READ)
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        ended, why = "budget", "run budget used up"
                        break
                    if not sel.select(left):
                        continue
                    chunk = os.read(proc.stdout.fileno(), 1 << 16)
                    if not chunk:
                        break
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        try:
                            message = json.loads(line)
                            if "start" in message:
                                in_flight = [k for k in message["start"] if k not in results]
                            elif "result" in message:
                                key = int(message["result"])
                                results[key] = CheckResult(**message["check"])
                                if key in in_flight:
                                    in_flight.remove(key)
                            elif "note" in message:
                                stats.notes.append(str(message["note"]))
                            elif message.get("done"):
                                ended = "done"
                        except (ValueError, TypeError, KeyError, AttributeError):
                            # Not our protocol: treat the worker as failed, never trust it.
                            why = f"unreadable worker output {line[:80]!r}"
                            raise _Garbled(why) from None
        except _Garbled as exc:
            ended, why = "garbled", str(exc)
        finally:
            proc.stdout.close()
            status, usage = _reap(proc.pid, wait_s=5.0 if ended == "done" else 0.0)
            # Reaped here (wait4 gives this worker's own peak RSS); Popen must not wait again.
            proc.returncode = os.waitstatus_to_exitcode(status)
            stats.peak_rss = max(stats.peak_rss, usage.ru_maxrss * 1024)
        if ended == "died":
            err.seek(0)
            tail = err.read()[-400:].decode("utf-8", "replace").strip().splitlines()
            code = proc.returncode
            if code is not None and code < 0:
                why = f"killed by signal {signal.Signals(-code).name}"
            else:
                why = f"exit code {code}" + (f": {tail[-1]}" if tail else "")
    return in_flight, ended, why


def _spawn() -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """A new worker process (it loads DuckDB and the checks, then waits for its request)
    and the file its stderr goes to."""
    import workbench

    env = dict(os.environ)
    # The worker must run this very code (a checkout on sys.path, not another install).
    package_parent = str(Path(workbench.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    err = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the worker (`_close`)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.evidence.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
        )
    except BaseException:
        err.close()
        raise
    return proc, err


# A worker started ahead of its request (`prestart`): one per process, used by the next run.
_spare: tuple[subprocess.Popen[bytes], IO[bytes]] | None = None
_spare_lock = threading.Lock()  # the app may evaluate on a thread


def prestart() -> None:
    """Start the evaluation worker now, so that its interpreter start and imports (≈ 0.2 s
    of a second core) overlap the caller's planning and hashing. It reads nothing but its
    request: the memory cap is set, and evidence read, only once the request arrives
    (`_child`). Pair with `discard_spare` (a run that ends early never sends one)."""
    global _spare
    with _spare_lock:
        if _spare is None:
            _spare = _spawn()


def _take_spare() -> tuple[subprocess.Popen[bytes], IO[bytes]] | None:
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is not None and spare[0].poll() is not None:  # it died waiting: start anew
        _close(*spare)
        return None
    return spare


def discard_spare() -> None:
    """Stop a worker that `prestart` started and no run used."""
    spare = _take_spare()
    if spare is not None:
        _close(*spare)


def _close(proc: subprocess.Popen[bytes], err: IO[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.wait()
    err.close()


def _reap(pid: int, wait_s: float) -> tuple[int, Any]:
    """Wait for the worker (killing it after `wait_s`); (wait status, its rusage)."""
    end = time.monotonic() + wait_s
    while time.monotonic() < end:
        got, status, usage = os.wait4(pid, os.WNOHANG)
        if got:
            return status, usage
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _got, status, usage = os.wait4(pid, 0)
    return status, usage


@contextlib.contextmanager
def capped_memory(cap: int) -> Iterator[None]:
    """Cap this process's private memory at what it uses now plus `cap` (soft
    ``RLIMIT_DATA``), restored afterwards. For a one-shot command that runs one untrusted
    query in-process (`workbench evidence query`); `evaluate` uses a worker instead."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    used = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmData:"):
                used = int(line.split()[1]) * 1024
    if not used:
        yield  # no /proc: DuckDB's own memory_limit only
        return
    limit = used + cap
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


# --------------------------------------------------------------------------- the child


def _cap_memory(limits: Limits) -> None:
    import resource

    for which, value in (
        (resource.RLIMIT_DATA, limits.memory_cap),
        (resource.RLIMIT_AS, limits.memory_cap + _AS_HEADROOM),
    ):
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def _child() -> int:
    # Load DuckDB and the checks first: a worker may be started ahead of its request
    # (`prestart`), and these imports are most of its start. Nothing untrusted has been
    # read yet; the cap below is set before the request's jobs touch any evidence.
    import duckdb  # noqa: F401

    from workbench.evidence import batch, sandbox  # noqa: F401

    request = pickle.loads(sys.stdin.buffer.read())
    limits: Limits = request["limits"]
    _cap_memory(limits)
    deadline = time.monotonic() + float(request["remaining_s"])
    out = sys.stdout

    def emit(what: str, payload: Any) -> None:
        line: dict[str, Any]
        if what == "start":
            line = {"start": list(payload)}
        elif what == "note":
            line = {"note": str(payload)}
        else:
            key, result = payload
            # Shallow: json renders the details as they are (`asdict` deep-copied every
            # bin and row of 4,000 results, ≈ 0.4 s).
            line = {
                "result": key,
                "check": {f.name: getattr(result, f.name) for f in fields(result)},
            }
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        # Results go out with the next "start" (before any further work) or at the end,
        # not one write each: a worker that dies has still sent every finished result.
        if what != "result":
            out.flush()

    from workbench.evidence.runner import run_jobs
    from workbench.evidence.sandbox import Watchdog

    run_jobs(
        request["jobs"],
        limits,
        deadline=deadline,
        emit=emit,
        watchdog=Watchdog(),
        batch=bool(request["batch"]),
    )
    out.write(json.dumps({"done": True}) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child())
