"""Every key of the terminal app, cold and warm, against a bare Textual app's floor (issue 18).

    python -m benchmarks.tui_keys --keep DIR               # build the signed org, then measure
    python -m benchmarks.tui_keys --again DIR --runs 5     # a kept org (gate_verify's too)
    python -m benchmarks.tui_keys --again DIR --code BASE  # BASE/workbench: older code

The organisation is `benchmarks.gate_verify`'s: 1,000 contracts, 2,000 commits, a signed key
registry, every contract co-signed, three signed findings runs with their violation ledger,
clock starts and delivery records: what the app's marks (signatures, violations, reviews,
notices, clocks) really read.

Each run starts `workbench` (the installed entry point's code, as a user runs it) in a
detached tmux session at each size (80×24, 160×48), with `WORKBENCH_KEY_PROBE` set: the app
then logs when its input thread parsed each key, when it wrote each frame, and its own
messages (state, marks) with the monotonic clock and the event loop's CPU seconds
(`workbench/tui/key_probe.py`). A key's latency is measured inside the app, from the parsed
key to the frames it caused, so no screen-scraping loop competes for the 2 cores:

* drawn: to the first frame after the key;
* settled: to the last frame before the screen stayed unchanged for QUIET seconds (or the
  next key);
* cpu: the event loop thread's CPU seconds from the key to the settled frame (steadier than
  wall time on a loaded machine).

Cold: the keys sent as soon as the seams are on screen, while the state and the marks still
load (a frame of a message that landed meanwhile counts: the user waited for it too; the
row says which). Warm: the same keys once the marks are in and the screens are built.
The floor: a bare Textual app (one list of 1,000 rows, a second screen for Enter/Escape,
Textual's own command palette) driven the same way in the same run, timed by the same probe.
Figures are medians and maxima over the runs, with the ratio of the medians to the floor's
Down and the 1-minute load average.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import workbench

ACTING = "p000-0"  # a lead of the generated organisation
SIZES = ((80, 24), (160, 48))
# The messages that answer a key from a worker (see key_timings).
ANSWERS = ("VerdictLoaded",)
QUIET = 0.25  # a key has settled once no frame followed for this long
GAP = 0.6  # between two warm keys (longer than any settle we look for)
COLD_GAP = 0.15  # between two cold keys: keys typed while the app still loads

# (tmux key, label): the list of seams (a 1,000-contract map is the list), a contract and
# back, focus, the command palette, the other screens and back home.
KEYS: list[tuple[str, str]] = [
    ("Down", "Down (seams)"),
    ("Down", "Down (seams, again)"),
    ("Up", "Up (seams)"),
    ("Enter", "Enter (open contract)"),
    ("Escape", "Escape (back to seams)"),
    ("Tab", "Tab"),
    ("BTab", "shift+Tab"),
    ("C-p", "ctrl+p (palette)"),
    ("Escape", "Escape (close palette)"),
    ("2", "2 (Contracts)"),
    ("Down", "Down (contracts)"),
    ("Enter", "Enter (from Contracts)"),
    ("Escape", "Escape (back to Contracts)"),
    ("3", "3 (People)"),
    ("Down", "Down (people)"),
    ("1", "1 (Seams)"),
]
FLOOR_KEYS: list[tuple[str, str]] = [
    ("Down", "Down"),
    ("Down", "Down"),
    ("Up", "Up"),
    ("Enter", "Enter"),
    ("Escape", "Escape"),
    ("C-p", "ctrl+p"),
    ("Escape", "Escape (close palette)"),
]

# Where `workbench` is imported from: this checkout, or `--code DIR`.
CODE: list[str] = []

FLOOR_APP = """
import sys
from textual.app import App
from textual.screen import Screen
from textual.widgets import OptionList, Static
from workbench.tui import key_probe

class Detail(Screen):
    BINDINGS = [("escape", "app.pop_screen", "Back")]
    def compose(self):
        yield Static("\\n".join(f"line {i} of the detail" for i in range(60)))

class Floor(App):
    def compose(self):
        yield Static("floor: a bare Textual app")
        yield OptionList(*[f"seam-{i:04d} team-a → team-b  governed" for i in range(1000)])
    def on_mount(self):
        key_probe.install(self)
    def on_option_list_option_selected(self):
        self.push_screen(Detail())

Floor().run()
"""


@dataclass
class Event:
    kind: str
    t: float
    cpu: float
    name: str = ""


def read_log(path: Path) -> list[Event]:
    out = []
    for line in path.read_text().splitlines():
        kind, t, cpu, *rest = line.split(" ", 3)
        out.append(Event(kind, float(t), float(cpu), rest[0] if rest else ""))
    return out


@dataclass
class Timing:
    label: str
    drawn: float | None
    settled: float | None
    cpu: float | None
    during: list[str] = field(default_factory=list)  # the app's messages in the window


def key_timings(events: list[Event], labels: list[str], sent: list[float]) -> list[Timing]:
    """Per key (in order): its first and settled frame, from the probe's log. A key counts
    from when tmux wrote it (`sent`) or the app's input thread read it, whichever is first:
    a busy app reads its input late, and the user waits for that too."""
    keys = [i for i, e in enumerate(events) if e.kind == "key"]
    if len(keys) != len(labels):
        seen = [events[i].name for i in keys]
        raise SystemExit(f"the app saw {len(keys)} keys ({seen}), {len(labels)} were sent")
    out = []
    for n, i in enumerate(keys):
        end = keys[n + 1] if n + 1 < len(keys) else len(events)
        pressed = min(events[i].t, sent[n])
        window = events[i + 1 : end]
        frames = [e for e in window if e.kind == "frame"]
        during = [e.name for e in window if e.kind == "msg"]
        if not frames:
            # Answered only after the next key (a frozen app): its first later frame.
            later = [e for e in events[end:] if e.kind == "frame"]
            if not later:
                out.append(Timing(labels[n], None, None, None, during))
                continue
            frames = later[:1]
            during.append("answered after the next key")
        settled = frames[0]
        for f in frames[1:]:
            if f.t - settled.t > QUIET:
                break
            settled = f
        # What the key asked a worker for (a contract's signature verdict) is part of its
        # answer, however late it lands: settled is then the frame that drew it.
        asked = [e for e in window if e.kind == "msg" and e.name in ANSWERS]
        if asked:
            drawn = [f for f in frames if f.t >= asked[-1].t]
            settled = max(settled, drawn[0] if drawn else frames[-1], key=lambda f: f.t)
        before = [e for e in events[:i] if e.cpu >= 0]
        cpu = settled.cpu - before[-1].cpu if before else None
        out.append(Timing(labels[n], frames[0].t - pressed, settled.t - pressed, cpu, during))
    return out


class Session:
    """One program in a detached tmux session, with the key probe logging to a file."""

    def __init__(self, command: str, size: tuple[int, int], env: dict[str, str]) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="tui-keys-"))
        self.log = self.folder / "probe.log"
        self.tmux = ["tmux", "-S", str(self.folder / "s")]
        envs = {**env, "WORKBENCH_KEY_PROBE": str(self.log), "TEXTUAL_ANIMATIONS": "none"}
        flags = [a for k, v in envs.items() for a in ("-e", f"{k}={v}")]
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        base["PYTHONPATH"] = os.pathsep.join([*CODE, str(Path(__file__).resolve().parent.parent)])
        self.started = time.perf_counter()
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-s", "b", "-x", str(size[0]), "-y", str(size[1])]
            + flags
            # If the program ends (a crash), its last words stay on screen for `wait`.
            + [f"{command}; echo PROGRAM-ENDED $?; sleep 60"],
            check=True,
            env=base,
        )

    def screen(self) -> str:
        return subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", "b"], capture_output=True, text=True
        ).stdout

    def events(self) -> list[Event]:
        return read_log(self.log) if self.log.exists() else []

    def wait(self, done, timeout: float = 600, poll: float = 0.01) -> None:  # type: ignore[no-untyped-def]
        since = checked = time.perf_counter()
        while not done(self):
            now = time.perf_counter()
            if now - checked > 1 or now - since > timeout:
                # A program that ended (a crash) leaves its last words on screen.
                checked, screen = now, self.screen()
                if now - since > timeout or "PROGRAM-ENDED" in screen:
                    raise SystemExit(f"not reached after {now - since:.0f} s:\n{screen}")
            time.sleep(poll)

    @staticmethod
    def keys_read(s: Session) -> int:
        return sum(e.kind == "key" for e in s.events())

    def send(self, key: str) -> float:
        """When tmux has written the key to the program's terminal."""
        subprocess.run([*self.tmux, "send-keys", "-t", "b", key], check=True)
        return time.perf_counter()

    def keys(self, keys: list[tuple[str, str]], gap: float) -> list[float]:
        """Send `keys`, `gap` apart; wait until the program has read them all and settled."""
        before = self.keys_read(self)
        sent = []
        for n, (key, _) in enumerate(keys, start=1):
            sent.append(self.send(key))
            if key == "Escape":
                # A terminal key that follows a lone Escape in the same read is Alt+key:
                # let the program read the Escape alone first, as a typist's pause does.
                self.wait(lambda s, n=n: self.keys_read(s) >= before + n, 30)
            time.sleep(gap)
        self.wait(lambda s: self.keys_read(s) >= before + len(keys))
        time.sleep(QUIET + 0.3)
        return sent

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], check=False, capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def seams_drawn(s: Session) -> bool:  # polled every 10 ms until the first screen only
    screen = s.screen()
    return "seam-0" in screen or "too many to draw" in screen


def marks_in(s: Session) -> bool:
    return any(e.kind == "msg" and e.name == "MarksLoaded" for e in s.events())


def app_run(
    org: Path, now: str, size: tuple[int, int], marks_timeout: float
) -> tuple[list[Timing], list[Timing], float | None]:
    """One start of the app: the keys while it loads, then the same keys warm (or, if the
    marks are not in after `marks_timeout` seconds, still loading). Also returns the seconds
    from start until the marks were on screen."""
    exe = f"{sys.executable} -m workbench --repo {org} --now {now}"
    s = Session(exe, size, {"WORKBENCH_PERSON": ACTING})
    try:
        s.wait(seams_drawn)
        cold_sent = s.keys(KEYS, COLD_GAP)
        cold_events = s.events()
        try:
            s.wait(marks_in, timeout=marks_timeout)
            time.sleep(2.0)  # the screens built behind the map, the people usage worked out
        except SystemExit:
            if "PROGRAM-ENDED" in s.screen():
                raise
        start = len(s.events())
        sent = s.keys(KEYS, GAP)
        events = s.events()
    finally:
        s.close()
    first = events[0].t
    marks = [e.t - first for e in events if e.kind == "msg" and e.name == "MarksLoaded"]
    labels = [label for _, label in KEYS]
    return (
        key_timings(cold_events, labels, cold_sent),
        key_timings(events[start:], labels, sent),
        marks[0] if marks else None,
    )


def floor_run(size: tuple[int, int]) -> list[Timing]:
    script = Path(tempfile.mkdtemp(prefix="tui-floor-")) / "floor.py"
    script.write_text(FLOOR_APP)
    # The same lone-Escape wait as the app (which sets ESCDELAY to 50 ms; Textual: 100).
    s = Session(f"{sys.executable} {script}", size, {"ESCDELAY": "50"})
    try:
        s.wait(lambda s: "seam-0000" in s.screen())
        time.sleep(0.5)
        start = len(s.events())
        sent = s.keys(FLOOR_KEYS, GAP)
        events = s.events()
    finally:
        s.close()
        shutil.rmtree(script.parent, ignore_errors=True)
    return key_timings(events[start:], [label for _, label in FLOOR_KEYS], sent)


def summarise(runs: list[list[Timing]]) -> dict[str, dict[str, float | int | list[str]]]:
    by: dict[str, list[Timing]] = {}
    for run in runs:
        for t in run:
            by.setdefault(t.label, []).append(t)
    out: dict[str, dict[str, float | int | list[str]]] = {}
    for label, ts in by.items():
        drawn = [t.drawn * 1000 for t in ts if t.drawn is not None]
        settled = [t.settled * 1000 for t in ts if t.settled is not None]
        cpu = [t.cpu * 1000 for t in ts if t.cpu is not None]
        row: dict[str, float | int | list[str]] = {"n": len(ts)}
        if drawn:
            row |= {
                "drawn_median_ms": round(statistics.median(drawn)),
                "drawn_max_ms": round(max(drawn)),
                "settled_median_ms": round(statistics.median(settled)),
                "settled_max_ms": round(max(settled)),
                "cpu_median_ms": round(statistics.median(cpu)) if cpu else -1,
            }
        if len(drawn) < len(ts):
            row["no_frame"] = len(ts) - len(drawn)
        during = sorted({m for t in ts for m in t.during})
        if during:
            row["messages_meanwhile"] = during
        out[label] = row
    return out


# The hook `workbench/tui/app.py` has in `on_mount`, for grafting onto older code.
HOOK = """        if os.environ.get("WORKBENCH_KEY_PROBE"):
            from workbench.tui import key_probe

            key_probe.install(self)
"""


def graft_probe(code: Path) -> None:
    """Give older code (`--code`, e.g. a `git archive` of main from before the probe) this
    checkout's probe, so that both are timed the same way; the probe only observes."""
    tui = code / "workbench" / "tui"
    shutil.copy(Path(__file__).resolve().parent.parent / "workbench/tui/key_probe.py", tui)
    app = tui / "app.py"
    text = app.read_text()
    if "key_probe" not in text:
        anchor = "    def on_mount(self) -> None:\n"
        if anchor not in text:
            raise SystemExit(f"cannot graft the key probe onto {app}")
        app.write_text(text.replace(anchor, anchor + HOOK, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build the organisation here and keep it")
    parser.add_argument("--again", type=Path, metavar="DIR", help="measure a kept organisation")
    parser.add_argument("--code", type=Path, help="import workbench from DIR/workbench")
    parser.add_argument("--sizes", default="80x24,160x48")
    parser.add_argument("--marks-timeout", type=float, default=180)
    args = parser.parse_args()
    if args.code:
        CODE.append(str(args.code.resolve()))
        graft_probe(args.code)
        compileall.compile_dir(args.code / "workbench", quiet=1)
    compileall.compile_dir(Path(workbench.__file__).parent, quiet=1)
    sizes = [tuple(int(n) for n in s.split("x")) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        org = args.again or args.keep or Path(tmp) / "org"
        if not args.again:
            from benchmarks.gate_verify import build

            build(org, args.contracts)
        now = (org / ".git" / "bench-now").read_text().strip()
        report: dict[str, object] = {}
        loads = []
        for size in sizes:
            cold, warm, floor, marks = [], [], [], []
            for _ in range(args.runs):
                c, w, m = app_run(org, now, size, args.marks_timeout)  # type: ignore[arg-type]
                cold.append(c)
                warm.append(w)
                marks.append(m)
                floor.append(floor_run(size))  # type: ignore[arg-type]
                loads.append(os.getloadavg()[0])
            name = f"{size[0]}x{size[1]}"
            report[name] = {
                # Seconds from start until the marks were in (None: not within the timeout,
                # and the "warm" keys were typed while they still loaded).
                "marks_in_s": [None if m is None else round(m, 1) for m in marks],
                "cold": summarise(cold),
                "warm": summarise(warm),
                "floor": summarise(floor),
            }
        report["load"] = {"min": round(min(loads), 1), "max": round(max(loads), 1)}
        print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
