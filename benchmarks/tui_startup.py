"""Terminal-app performance on a generated 1,000-contract repo.

    python -m benchmarks.tui_startup [--contracts 1000] [--commits 300] [--runs 3]

1. first screen interactive: wall time from starting `workbench` in a real terminal (tmux) until
   the seams are on screen (rows of the list, or the map's note that there are too many to
   draw); run 0 is the first start in a fresh clone, the others reuse the clone's cache; then
   the first start of each of --runs successive days (`--now`), whose checked state is new;
2. keystroke latency in tmux: rows while the state and marks still load, and screen moves
   (first visits of Contracts and People, later switches, opening a contract, Escape);
   Pilot, in process, per key including Textual's idle wait (the first visit of a screen is
   also reported on its own);
3. a 10,000-row list: first render, End/PageUp, and filtering, with a UI timer measuring the
   longest stall of the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import workbench

# A lead of the generated organisation, as a real user is someone (without one, the app
# shows a "who is acting?" notice on every screen).
ACTING = "p000-0"


class Terminal:
    """`workbench --repo REPO` in a detached tmux session, as an installed package runs it
    (bytecode allowed: the children run without PYTHONDONTWRITEBYTECODE)."""

    def __init__(self, repo: Path, args: str = "") -> None:
        self.tmux = ["tmux", "-S", str(Path(tempfile.mkdtemp()) / "s")]
        exe = Path(sys.executable).with_name("workbench")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.started = time.perf_counter()
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-s", "b", "-x", "120", "-y", "36"]
            + ["-e", "TEXTUAL_ANIMATIONS=none", "-e", f"WORKBENCH_PERSON={ACTING}"]
            + [f"{exe} --repo {repo} {args}"],
            check=True,
            env=env,
        )

    def screen(self) -> str:
        return subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-e", "-t", "b"], capture_output=True, text=True
        ).stdout

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 30) -> float:
        """Seconds since start until the screen satisfies `predicate`."""
        while not predicate(screen := self.screen()):
            if time.perf_counter() - self.started > timeout:
                raise SystemExit(f"screen not reached after {timeout} s:\n{screen}")
            time.sleep(0.005)
        return time.perf_counter() - self.started

    def key_until_changed(self, key: str, settle: float = 0.0) -> float:
        """Seconds from sending `key` until the screen changes (with `settle`: until it has
        stopped changing for that long, e.g. a screen drawn over several frames)."""
        return self.key_frames(key, settle)[-1 if settle else 0]

    def key_frames(self, key: str, settle: float) -> list[float]:
        """Seconds from sending `key` to each change of the screen, until it has stopped
        changing for `settle` seconds (or at the first change when `settle` is 0)."""
        before = last = self.screen()
        t = time.perf_counter()
        subprocess.run([*self.tmux, "send-keys", "-t", "b", key], check=True)
        changes: list[float] = []
        while time.perf_counter() - t < 5:
            now = self.screen()
            if now != last:
                last = now
                changes.append(time.perf_counter() - t)
                if not settle:
                    break
            elif changes and time.perf_counter() - t - changes[-1] > settle:
                break
            time.sleep(0.003)
        if not changes or last == before:
            raise SystemExit(f"{key!r}: the screen did not change")
        return changes

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], check=False)


def seams_drawn(screen: str) -> bool:
    # The header alone is not the first screen: wait for the seams themselves (rows of the
    # list, or the map's note that there are too many to draw).
    return "Bench Org" in screen and ("seam-0" in screen or "too many to draw" in screen)


def first_paint(repo: Path, runs: int) -> list[float]:
    """Run 0 is the first start in a fresh clone (nothing in the clone's cache yet)."""
    compileall.compile_dir(Path(workbench.__file__).parent, quiet=1)
    shutil.rmtree(repo / ".git/handshake-workbench/cache", ignore_errors=True)
    out = []
    for _ in range(runs):
        term = Terminal(repo)
        try:
            out.append(term.wait_for(seams_drawn))
            # As a real session would: stay until the marks are in, by when the clone's
            # cache is written (a first start writes it after its first screen).
            term.wait_for(lambda screen: "review:" in screen)
        finally:
            term.close()
    return out


def first_paint_of_each_day(repo: Path, days: int) -> list[float]:
    """The first start of each of `days` successive days (`--now`): the bytes are the same,
    the state checked yesterday is not valid today."""
    out = []
    for day in range(1, days + 1):
        term = Terminal(repo, f"--now 2030-01-{day:02d}T09:00:00+00:00")
        try:
            out.append(term.wait_for(seams_drawn))
            term.wait_for(lambda screen: "review:" in screen)
        finally:
            term.close()
    return out


def startup_latency(repo: Path, keys: int = 25) -> list[float]:
    """Real keystroke latency from the first screen on, while the state and the marks still
    load in the background: time from sending Down until the screen changes."""
    term = Terminal(repo)
    out = []
    try:
        term.wait_for(seams_drawn)
        for _ in range(keys):
            out.append(term.key_until_changed("Down"))
            time.sleep(0.05)
    finally:
        term.close()
    return out


# Screen moves timed in a real terminal: the first visits of 2 and 3, the return to the map,
# the same again, then opening the contract under the cursor and going back with Escape.
SCREEN_KEYS = ("2", "3", "1", "2", "3", "1", "2", "Enter", "Escape")


def screen_visits(repo: Path) -> list[tuple[str, float, float]]:
    """For each of SCREEN_KEYS, once the marks are in: (key, seconds until the new screen is
    drawn, seconds until it has stopped changing for 150 ms). The second figure includes
    what workers fill in later, e.g. a contract's signature verdict."""
    term = Terminal(repo)
    try:
        term.wait_for(lambda screen: "review:" in screen)
        time.sleep(1)
        out = []
        for key in SCREEN_KEYS:
            frames = term.key_frames(key, settle=0.15)
            out.append((key, frames[0], frames[-1]))
            time.sleep(0.3)
        return out
    finally:
        term.close()


async def keystrokes(repo: Path) -> dict[str, list[float]]:
    from workbench.service.core import Workbench
    from workbench.tui.app import WorkbenchApp

    app = WorkbenchApp(Workbench(repo), cursor_blink=False)
    out: dict[str, list[float]] = {"row": [], "screen": [], "map": [], "first visit": []}
    async with app.run_test(size=(120, 36)) as pilot:
        # After start-up: the state and the marks are in. (While a worker computes, Pilot's
        # idle wait cannot tell a busy worker from a busy UI and waits up to a second per
        # key; the real latency during the marks is measured in tmux, see marks_latency.)
        while app.gov_state is None or not app.marks_ready:
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause()
        for _ in range(20):
            t0 = time.perf_counter()
            await pilot.press("down")
            out["map"].append(time.perf_counter() - t0)
        await pilot.press("v")
        for _ in range(30):
            t0 = time.perf_counter()
            await pilot.press("down")
            out["row"].append(time.perf_counter() - t0)
        for i, key in enumerate(["2", "3", "1"] * 3):
            t0 = time.perf_counter()
            await pilot.press(key)
            took = time.perf_counter() - t0
            out["screen"].append(took)
            # The first visit builds the screen (and Textual re-parses the CSS); after that a
            # switch only shows the installed screen.
            if i < 2:
                out["first visit"].append(took)
        await app.workers.wait_for_complete()
    return out


async def big_list(n: int = 10_000) -> dict[str, float]:
    from textual.app import App

    from workbench.tui.widgets.virtual_table import Column, Row, VirtualTable

    stalls: list[float] = []

    class Big(App):
        def compose(self):  # type: ignore[no-untyped-def]
            yield VirtualTable([Column("Seam", 34), Column("State", 20, flex=True)])

        def on_mount(self) -> None:
            self.last = time.perf_counter()
            self.set_interval(0.01, self.tick)

        def tick(self) -> None:
            now = time.perf_counter()
            stalls.append(now - self.last)
            self.last = now

    app = Big()
    rows = [
        Row(f"s{i}", (f"team-{i % 97}-to-team-{i % 89}-{i}", "governed" if i % 7 else "ungoverned"))
        for i in range(n)
    ]
    result = {}
    async with app.run_test(size=(120, 36)) as pilot:
        table = app.query_one(VirtualTable)
        table.focus()
        t0 = time.perf_counter()
        table.set_rows(rows)
        await pilot.pause()
        result["first render"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        await pilot.press("end")
        result["end key"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        await pilot.press("pageup")
        result["pageup key"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        table.set_filter("ungoverned")
        await pilot.pause()
        result["filter"] = time.perf_counter() - t0
        result["longest event-loop stall"] = max(stalls) if stalls else 0.0
    return result


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from benchmarks.generate import generate

    folder = Path(tempfile.mkdtemp(prefix="tui-bench-"))
    try:
        repo = generate(folder / "repo", contracts=args.contracts, commits=args.commits)
        print(f"repo: {args.contracts} contracts, {args.commits} commits")
        if shutil.which("tmux"):
            paints = first_paint(repo, args.runs + 1)
            print(f"first screen interactive (tmux, process start): {ms(paints[1:])}")
            print(f"  the first start in a fresh clone:             {paints[0] * 1000:.0f} ms")
            days = first_paint_of_each_day(repo, args.runs)
            print(f"  the first start of a day:                     {ms(days)}")
            print(f"next row while the state and marks load (tmux): {ms(startup_latency(repo))}")
            print("screen moves in tmux, ms until drawn / until settled:")
            print(
                "  "
                + "  ".join(f"{k} {a * 1000:.0f}/{b * 1000:.0f}" for k, a, b in screen_visits(repo))
            )
        else:
            print("first screen: skipped (no tmux)")
        keys = asyncio.run(keystrokes(repo))
        print(f"seam map, next seam:      {ms(keys['map'])}")
        print(f"seam list, next row:      {ms(keys['row'])}")
        print(f"switch screen (1/2/3):    {ms(keys['screen'])}")
        print(f"  first visit of 2 and 3: {ms(keys['first visit'])}")
        print(f"  every later switch:     {ms(keys['screen'][2:])}")
        for name, value in asyncio.run(big_list()).items():
            print(f"10,000-row list, {name}: {value * 1000:.0f} ms")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
