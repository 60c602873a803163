"""The newcomer path in the terminal app, driven through tmux as a user types it.

After `workbench init` (the README's step 1, from the CLI), everything up to both
co-signatures happens in the app, key by key, at 80×24: the People screen adds two people
and a team (`a`, `t`), the key registry screen signs the registry version that makes the new
lead count (`s`), the palette creates a contract from the data → model template
(`contract: new`), the editor fills its four placeholders (F8 jumps to each; the group
table is pasted as one bracketed paste), `ctrl+s` commits it, and the palette's
`contract: sign` co-signs it; a second session as the other lead signs the registry
version and the contract. The CLI then checks the result as CI would: `verify`, evidence,
`evaluate`, `gate --strict`, `status`. A third session exports the audit bundle from the
app (the palette's `bundle: export`: the dialog offers a file beside the repo and the
lead's own key; Enter) and verifies it in the app's bundle viewer (`bundle: verify` opens on
the bundle just written); the CLI's `verify-bundle` checks the same file against the trust
root (the stock-tool VERIFY.sh stays in the CLI path, `tests/e2e/test_newcomer_path.py`).

Every key waits for what it should show (never a fixed sleep), and each step is timed.

    python -m benchmarks.newcomer_app [--runs 3]

`tests/e2e/test_newcomer_app.py` runs it once and checks the repo it leaves.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.newcomer_path import clean_env

SIZE = (80, 24)
INIT = (
    "workbench init acme-governance --org Acme --domain acme.example "
    '--team data --team-name "Data Engineering" --lead ada --lead-name "Ada Lovelace" '
    '--team model --team-name "Modelling" --lead alan --lead-name "Alan Turing" --no-passphrase'
)
# Pasted over the placeholder group's name: two groups with their bounds, then the last
# group's name (the placeholder's bounds follow it).
GROUPS = '"18-34" = { min = 0.0, max = 1.0 }\n"35-54" = { min = 0.0, max = 1.0 }\n"55+"'
# What CI checks afterwards: the README's evidence and gate steps (step 6 and 7).
CHECKS = [
    ("workbench verify", "workbench verify"),
    (
        "evidence files (as README step 6)",
        "NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)\n"
        'printf \'source,updated_at,available_at\\nwarehouse.orders,%s,%s\\n\' "$NOW" "$NOW" '
        "> ../freshness.csv\n"
        "printf 'attribute,group,count\\nage_band,18-34,310\\nage_band,35-54,420\\n"
        "age_band,55+,270\\n' > ../groups.csv\n"
        "printf 'source,refreshed_at\\nwarehouse.orders,%s\\n' \"$NOW\" > ../lineage.csv",
    ),
    (
        "workbench evidence add ×3",
        "workbench evidence add ../freshness.csv --kind freshness_lags && "
        "workbench evidence add ../groups.csv --kind group_counts && "
        "workbench evidence add ../lineage.csv --kind lineage_manifest",
    ),
    ("workbench evaluate", "workbench evaluate"),
    ("workbench gate --strict", "workbench gate --strict"),
    ("workbench status", "workbench status"),
]


VERIFY_BUNDLE = "cli: workbench verify-bundle (the bundle the app exported)"


@dataclass
class Timed:
    name: str
    seconds: float


@dataclass
class AppPath:
    repo: Path
    steps: list[Timed] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    codes: dict[str, int] = field(default_factory=dict)
    keystrokes: dict[str, int] = field(default_factory=dict)  # per app session

    @property
    def app_seconds(self) -> float:
        return sum(s.seconds for s in self.steps if s.name.startswith("app:"))


class Terminal:
    """One `workbench` session in a private tmux server, at a fixed size."""

    def __init__(self, socket: Path, cwd: Path, env: dict[str, str], command: str) -> None:
        self.socket = socket
        self.keystrokes = 0  # keys the user pressed (a paste counts as one: ctrl+v)
        self.done = socket.with_suffix(".exit")
        self.done.unlink(missing_ok=True)
        args = ["new-session", "-d", "-s", "wb", "-x", str(SIZE[0]), "-y", str(SIZE[1])]
        args += ["-c", str(cwd)]
        full = {**env, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
        full["TEXTUAL_ANIMATIONS"] = "none"
        for key, value in full.items():
            args += ["-e", f"{key}={value}"]
        # The server starts with the newcomer's environment only: nothing of the caller's
        # (a test's XDG_CONFIG_HOME, say) reaches the app.
        self.tmux(*args, f"{command}; echo $? > {shlex.quote(str(self.done))}", env=full)

    def tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        return subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        ).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "wb")

    def wait(self, what: str | Callable[[str], bool], timeout: float = 30.0) -> str:
        test = what if callable(what) else (lambda screen: what in screen)
        deadline = time.monotonic() + timeout
        while not test(screen := self.screen()):
            if self.done.exists() or time.monotonic() > deadline:
                raise AssertionError(f"waited for {what!r}; the screen:\n{screen}")
            time.sleep(0.03)
        return screen

    def settled(self, quiet: float = 0.15, timeout: float = 10.0) -> None:
        """Wait until the screen's text has not changed for `quiet` seconds (a list that
        searches as you type has shown its result)."""
        deadline = time.monotonic() + timeout
        last, since = self.screen(), time.monotonic()
        while time.monotonic() - since < quiet:
            if time.monotonic() > deadline:
                raise AssertionError(f"the screen never settled:\n{last}")
            time.sleep(0.02)
            now = self.screen()
            if now != last:
                last, since = now, time.monotonic()

    def key_and_wait(self, key: str, timeout: float = 10.0) -> None:
        """One key, then wait until the screen's text shows its effect."""
        before = self.screen()
        self.keys(key)
        deadline = time.monotonic() + timeout
        while self.screen() == before:
            if time.monotonic() > deadline:
                raise AssertionError(f"{key} changed nothing:\n{before}")
            time.sleep(0.02)

    def keys(self, *keys: str) -> None:
        self.keystrokes += len(keys)
        self.tmux("send-keys", "-t", "wb", *keys)

    def type(self, text: str) -> None:
        self.keystrokes += len(text)
        self.tmux("send-keys", "-t", "wb", "-l", text)

    def paste(self, text: str) -> None:
        """As a terminal pastes: one bracketed paste (tmux `paste-buffer -p`)."""
        self.keystrokes += 1
        self.tmux("set-buffer", "-b", "wb-paste", text)
        self.tmux("paste-buffer", "-p", "-d", "-b", "wb-paste", "-t", "wb")

    def exit_code(self, timeout: float = 15.0) -> int:
        deadline = time.monotonic() + timeout
        while not self.done.exists():
            if time.monotonic() > deadline:
                raise AssertionError(f"the app did not exit:\n{self.screen()}")
            time.sleep(0.05)
        return int(self.done.read_text().strip() or "-1")

    def close(self) -> None:
        self.tmux("kill-server")


# -- the user's keys --------------------------------------------------------------------
def palette(term: Terminal, command: str, shown: str) -> None:
    """ctrl+p, the command, and Enter once `shown` (its help text) is listed."""
    term.keys("C-p")
    term.wait("Search for commands")
    term.type(command)
    term.wait(shown)
    term.settled(0.3)  # the list searches as you type: Enter takes its first entry
    term.keys("Enter")


def back(term: Terminal, leaving: str) -> None:
    """Escape, and wait until the header no longer says `leaving` (a lone Escape is only
    known once nothing follows it: the next key waits for it)."""
    term.keys("Escape")
    term.wait(lambda screen: leaving not in screen.splitlines()[0])


def add_person(term: Terminal, pid: str, name: str, email: str, role: str) -> None:
    term.keys("a")
    term.wait("Add a person")
    term.settled()
    # Enter moves from field to field; Tab passes a list (the team: the acting lead's).
    term.type(pid)
    term.keys("Enter")
    term.type(name)
    term.keys("Enter")
    term.type(email)
    term.keys("Enter", "Tab")
    term.type(role)
    term.keys("Enter", "Tab", "Enter")  # role, authority (member), key: none, and commit
    term.wait(f"added {pid}")


def choose(term: Terminal, search: str, chosen: str, listed: str) -> None:
    """Open the focused list with Enter, type to find the entry, Enter to take it."""
    term.keys("Enter")
    term.wait(listed)
    term.settled()
    term.type(search)
    term.settled()
    term.keys("Enter")
    term.wait(lambda screen: chosen in screen and listed not in screen)


def sign_in_dialog(term: Terminal, title: str) -> None:
    # Once what is signed has loaded, the Sign button has the focus: Enter signs.
    term.wait(lambda screen: title in screen and "loading…" not in screen)
    term.keys("Enter")


def fill_placeholder(term: Terminal, replacement: str, left: str, paste: bool = False) -> None:
    """F8 to the next placeholder (it selects the template's "TODO: …" string), type (or
    paste) over it, and wait for the check as you type to count one fewer."""
    term.keys("F8")
    if paste:
        term.paste(replacement)
    else:
        term.type(replacement)
    term.wait(left)


def session_ada(term: Terminal, step: Callable[[str], None]) -> None:
    term.wait("as Ada Lovelace (ada)")
    step("app: start, the seam map (as ada)")
    term.keys("3")
    term.wait("Alan Turing")
    add_person(term, "grace.hopper", "Grace Hopper", "grace@acme.example", "Data engineer")
    add_person(term, "joan.clarke", "Joan Clarke", "joan@acme.example", "Product lead")
    step("app: People, a: add two people")
    term.wait("Joan Clarke ")
    term.keys("t")
    term.wait("Add a team")
    term.settled()
    term.type("product")
    term.keys("Enter")
    term.type("Loan Product")
    term.keys("Enter")
    term.settled()
    choose(term, "Joan", "Joan Clarke (joan.clarke) · data", "Alan Turing (alan)")
    term.keys("Tab", "Enter")  # the description (none), and commit
    term.wait("added team product")
    step("app: People, t: add a team led by joan.clarke")
    palette(term, "view: key registry", "Admins, keys, revocations")
    term.wait("Pending version v2")
    term.keys("s")
    sign_in_dialog(term, "Sign key registry v2")
    term.wait(lambda screen: "Signed registry v2" in screen and "Sign key" not in screen)
    back(term, "key registry")
    step("app: key registry, s: sign v2 (the new lead counts)")
    palette(term, "contract: new", "A contract from a seam template")
    term.wait("New contract (as")
    term.settled()
    term.keys("Tab")  # the template: data-model, the first
    choose(term, "Data Eng", "Data Engineering (data)", "Modelling (model)")
    term.keys("Tab")
    choose(term, "Modelling", "Modelling (model)", "Loan Product (product)")
    term.wait("data-to-model")  # the id, from the two teams
    term.keys("Tab", "Tab", "Enter")  # the id, the title (from the teams), and create
    term.wait("edit data-to-model")
    term.wait("4 error(s)")
    step("app: palette, contract: new (data-model template) → the editor")
    fill_placeholder(term, '"warehouse.orders"', "3 error(s)")
    fill_placeholder(term, '"age_band"', "2 error(s)")
    fill_placeholder(term, GROUPS, "1 error(s)", paste=True)
    fill_placeholder(term, '"warehouse.orders"', "✓ valid")
    step("app: editor, F8: fill the 4 placeholders (one a paste of 3 lines)")
    term.keys("C-s")
    term.wait("Commit data-to-model as")
    term.wait("Add contract data-to-model")  # the message, on screen before Enter
    term.keys("Enter")
    term.wait(lambda screen: "Committed" in screen and "Commit data-to-model" not in screen)
    back(term, "edit data-to-model")
    step("app: ctrl+s: review the diff and commit")
    palette(term, "contract: sign data-to-model", "Co-sign")
    sign_in_dialog(term, "Co-sign data-to-model")
    term.wait("Signed data-to-model v1 as ada")
    step("app: palette, contract: sign (ada)")
    term.keys("q")


def session_alan(term: Terminal, step: Callable[[str], None]) -> None:
    term.wait("as Alan Turing (alan)")
    step("app: start, the seam map (as alan)")
    palette(term, "view: key registry", "Admins, keys, revocations")
    term.wait("Pending version v2")
    term.keys("s")
    sign_in_dialog(term, "Sign key registry v2")
    term.wait(lambda screen: "Signed registry v2" in screen and "Sign key" not in screen)
    back(term, "key registry")
    step("app: key registry, s: sign v2 (alan)")
    palette(term, "contract: sign data-to-model", "Co-sign")
    sign_in_dialog(term, "Co-sign data-to-model")
    term.wait("Signed data-to-model v1 as alan")
    step("app: palette, contract: sign (alan)")
    term.keys("q")


def session_export(term: Terminal, step: Callable[[str], None]) -> None:
    term.wait("as Ada Lovelace (ada)")
    step("app: start, the seam map (as ada, after the CLI checks)")
    palette(term, "bundle: export", "Export a signed audit bundle")
    term.wait("Export an audit bundle")
    term.wait("-audit-")  # the output file: beside the repo, focused
    term.wait("key file (blank:")  # the key probed: the lead's own, no passphrase
    term.settled()
    term.keys("Enter")
    term.wait("Audit bundle exported", timeout=60)
    step("app: palette, bundle: export (beside the repo, Enter)")
    palette(term, "bundle: verify", "Verify an audit bundle file")
    term.wait("VERIFIED", timeout=60)
    step("app: palette, bundle: verify (the bundle just written)")
    back(term, "audit bundle")
    term.keys("q")


def run_app_path(workdir: Path, bin_dir: Path) -> AppPath:
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = clean_env(home, bin_dir)
    path = AppPath(workdir / "acme-governance")
    workbench = shlex.quote(str(bin_dir / "workbench"))

    def shell(name: str, command: str, cwd: Path) -> None:
        started = time.perf_counter()
        proc = subprocess.run(
            ["bash", "-c", command],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=300,
        )
        path.steps.append(Timed(name, time.perf_counter() - started))
        path.outputs[name] = proc.stdout + proc.stderr
        path.codes[name] = proc.returncode
        if proc.returncode != 0:
            raise AssertionError(f"{command} failed ({proc.returncode}):\n{path.outputs[name]}")

    def run_session(who: str, session: Callable[[Terminal, Callable[[str], None]], None]) -> None:
        term = Terminal(
            workdir / f"tmux-{session.__name__}.sock",
            path.repo,
            env,
            f"{workbench} {who}".strip(),
        )
        last = time.perf_counter()

        def step(name: str) -> None:
            nonlocal last
            now = time.perf_counter()
            path.steps.append(Timed(name, now - last))
            last = now

        try:
            session(term, step)
            code = term.exit_code()
            step(f"app: q: quit ({'alan' if who else 'ada'})")
            path.codes[session.__name__] = code
            path.keystrokes[session.__name__] = term.keystrokes
        finally:
            term.close()

    shell("cli: " + INIT.split(" --")[0], INIT, workdir)
    for who, session in (("", session_ada), ("--as alan ", session_alan)):
        run_session(who, session)
    for name, command in CHECKS:
        shell(f"cli: {name}", command, path.repo)
    run_session("", session_export)
    shell(
        VERIFY_BUNDLE,
        "workbench verify-bundle ../acme-governance-audit-*.tar.gz "
        '--root "$(workbench registry root)"',
        path.repo,
    )
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    runs: list[AppPath] = []
    for _ in range(args.runs):
        workdir = Path(tempfile.mkdtemp(prefix="newcomer-app-"))
        try:
            runs.append(run_app_path(workdir, bin_dir))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    print("| step | median s | min s |")
    print("|---|---:|---:|")
    for i, step in enumerate(runs[0].steps):
        times = [r.steps[i].seconds for r in runs]
        name = step.name.replace("|", "\\|")
        print(f"| {name} | {statistics.median(times):.2f} | {min(times):.2f} |")
    totals = [sum(s.seconds for s in r.steps) for r in runs]
    apps = [r.app_seconds for r in runs]
    print(f"| **in the app** | **{statistics.median(apps):.1f}** | {min(apps):.1f} |")
    print(f"| **total** | **{statistics.median(totals):.1f}** | {min(totals):.1f} |")
    print()
    for name, count in runs[0].keystrokes.items():
        print(f"keys pressed in {name}: {count}")
    print(f"keys pressed in the app, all sessions: {sum(runs[0].keystrokes.values())}")
    return 0


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    raise SystemExit(main())
