"""The seams' marks worked out in a child process, so the terminal app's interpreter stays
free for keys.

At 1,000 signed contracts the marks are ~6 s of Python. In a thread of the app they held
the interpreter lock, and every key typed meanwhile waited for it (50-500 ms a key). Here
`python -m workbench.service.marks_process` runs the same `compute_marks` on the same
repository, with the same clock and options, on the machine's other core, and answers
with JSON on its stdout (`governance/marks_wire.py`).

What comes back is untrusted: it is rebuilt strictly, and a child that fails, hangs, dies
or answers garbage becomes `MarksUnavailable` with the reason (never a traceback, never
marks the app did not get). The child is stopped when its caller cancels (a newer load,
the app closing), after `timeout` seconds, and stops itself if its parent goes away.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from workbench.governance.marks_wire import (
    WIRE_VERSION,
    SeamMarks,
    WireError,
    decode_marks,
    encode_marks,
)
from workbench.model.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.service.core import Workbench

# A computation that takes longer than this has hung (1,000 contracts: ~6 s of CPU).
DEFAULT_TIMEOUT = 600.0
# How often the waiting thread looks whether it was cancelled.
POLL = 0.1
# How often the child looks whether its parent is still there.
PARENT_POLL = 0.5
# Exit codes of the child besides 0.
EXIT_REFUSED = 2  # a WorkbenchError: its message is the answer
EXIT_ORPHANED = 3


class MarksUnavailable(WorkbenchError):
    """The marks could not be worked out; the message says why, for the user."""


class MarksCancelled(Exception):
    """The caller no longer wants these marks (a newer load, the app closing)."""


def request_for(wb: Workbench) -> dict[str, Any]:
    """What the child needs to open the same session: root, clock and options."""
    return {
        "wire": WIRE_VERSION,
        "root": str(wb.root),
        # The real clock is read by the child; a chosen moment (--now) is passed on.
        "now": None if wb.clock_is_real else wb.now.isoformat(),
        "readonly": wb.readonly,
        "actor": wb.requested_actor,
        "what_if": wb.what_if,
        "trust_root": wb.trust_root,
        "committed": wb.committed,
    }


def start(wb: Workbench) -> subprocess.Popen[bytes]:
    """The child, running this very code (the package it was imported from comes first on
    its path), reading the request from stdin."""
    env = dict(os.environ)
    code = str(Path(__file__).resolve().parent.parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (code, env.get("PYTHONPATH")) if p)
    return subprocess.Popen(
        [sys.executable, "-m", "workbench.service.marks_process"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=str(wb.root),
    )


def stop(child: subprocess.Popen[bytes]) -> None:
    """Stop the child now and reap it (no zombie); a finished one is left as it is."""
    if child.poll() is None:
        child.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=5)


def compute_in_child(
    wb: Workbench,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    cancelled: Callable[[], bool] = lambda: False,
    started: Callable[[subprocess.Popen[bytes]], None] = lambda child: None,
    finished: Callable[[subprocess.Popen[bytes]], None] = lambda child: None,
) -> SeamMarks:
    """The marks from a child process. `started`/`finished` let the caller hold the child
    (to stop it when it closes); `cancelled` is asked every POLL seconds."""
    child = start(wb)
    started(child)
    try:
        out, err = _wait(child, json.dumps(request_for(wb)).encode(), timeout, cancelled)
    finally:
        stop(child)
        finished(child)
    return answer(child.returncode, out, err)


def _wait(
    child: subprocess.Popen[bytes], request: bytes, timeout: float, cancelled: Callable[[], bool]
) -> tuple[bytes, bytes]:
    deadline = time.monotonic() + timeout
    data: bytes | None = request
    while True:
        try:
            # Retrying after a timeout loses no output (the pipes are drained meanwhile).
            return child.communicate(data, timeout=POLL)
        except subprocess.TimeoutExpired:
            data = None
        except OSError as exc:  # e.g. the child died before it read the request
            raise MarksUnavailable(f"the marks process could not be asked: {exc}") from None
        if cancelled():
            raise MarksCancelled
        if time.monotonic() > deadline:
            raise MarksUnavailable(
                f"the marks process gave no answer within {timeout:.0f} s and was stopped"
            )


def answer(code: int | None, out: bytes, err: bytes) -> SeamMarks:
    """The child's answer as marks, or MarksUnavailable saying what went wrong."""
    if code == EXIT_REFUSED:
        try:
            reason = json.loads(out)["error"]
        except (ValueError, KeyError, TypeError):
            reason = None
        if isinstance(reason, str):
            raise MarksUnavailable(f"the marks could not be worked out: {reason}")
    if code != 0:
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        how = (
            f"was stopped by signal {-code}"
            if code is not None and code < 0
            else f"ended with code {code}"
        )
        raise MarksUnavailable(f"the marks process {how}: {last[0][:300]}")
    try:
        return decode_marks(json.loads(out))
    except (ValueError, WireError) as exc:  # json's errors are ValueErrors too
        raise MarksUnavailable(
            f"the marks process answered something that is not marks: {str(exc)[:300]}"
        ) from None


# -- the child -----------------------------------------------------------------------------
def _session(request: dict[str, Any]) -> Workbench:
    from workbench.service.core import Workbench

    if request.get("wire") != WIRE_VERSION:
        raise WorkbenchError(f"marks request of wire version {request.get('wire')!r}")
    now = request["now"]
    return Workbench(
        Path(request["root"]),
        now=datetime.fromisoformat(now) if now is not None else None,
        readonly=bool(request["readonly"]),
        actor=request["actor"],
        what_if=bool(request["what_if"]),
        trust_root=request["trust_root"],
        committed=bool(request["committed"]),
    )


def _leave_with_parent() -> None:
    """Stop as soon as the parent is gone (killed, crashed): never outlive the app."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL)
        os._exit(EXIT_ORPHANED)

    threading.Thread(target=watch, name="marks-parent-watch", daemon=True).start()


def child_main(stdin: IO[bytes], stdout: IO[bytes]) -> int:
    from workbench.service.marks import compute_marks

    _leave_with_parent()
    request = json.loads(stdin.read())
    try:
        marks = compute_marks(_session(request))
    except WorkbenchError as exc:
        stdout.write(json.dumps({"error": str(exc)}).encode())
        return EXIT_REFUSED
    stdout.write(json.dumps(encode_marks(marks)).encode())
    return 0


if __name__ == "__main__":
    # Only the answer goes to the pipe: anything else printed meanwhile goes to stderr.
    answer_pipe = sys.stdout.buffer
    sys.stdout = sys.stderr
    code = child_main(sys.stdin.buffer, answer_pipe)
    answer_pipe.flush()
    sys.exit(code)
