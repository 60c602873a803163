"""Hostile or broken files where a registered snapshot should be (docs/evidence.md,
"Files that are not regular files"): a symlink loop, a directory link to its parent, a
FIFO, a socket, a device node, a directory, an unreadable file and a file that vanishes or
is swapped for a FIFO between the stat and the hash. Each is refused for its own snapshot
with a reason naming the path (never a traceback, never a hang), and every other snapshot
is still judged. Real files, real git repos, the real CLI."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import stat
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workbench.evidence.hash_cache import HashCache
from workbench.evidence.manifest import (
    Snapshot,
    SnapshotIntegrity,
    sha256_file,
    snapshot_id,
    verify_snapshot,
)

DATA = b"score\n0.25\n0.75\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "evidence" / "snapshots").mkdir(parents=True)
    (root / ".git").mkdir()  # the hash cache lives in the clone's .git
    return root


def snap(path: str, data: bytes = DATA) -> Snapshot:
    digest = __import__("hashlib").sha256(data).hexdigest()
    return Snapshot(
        id=snapshot_id(digest),
        kind="score_samples",
        path=path,
        sha256=digest,
        size=len(data),
        format="csv",
        captured_at=datetime(2026, 3, 1, tzinfo=UTC),
        source="test",
    )


def verdict(root: Path, path: str) -> SnapshotIntegrity:
    return verify_snapshot(snap(path), root)


def test_a_symlink_loop_is_an_unsafe_path(repo: Path) -> None:
    ev = repo / "evidence" / "snapshots"
    (ev / "a.csv").symlink_to("b.csv")
    (ev / "b.csv").symlink_to("a.csv")
    got = verdict(repo, "evidence/snapshots/a.csv")
    assert (got.ok, got.status) == (False, "unsafe_path")
    assert "evidence/snapshots/a.csv" in got.reason and "symlink loop" in got.reason
    assert str(repo) not in got.reason  # findings must not depend on where the clone sits


def test_a_link_to_itself_and_a_loop_through_a_directory_are_unsafe(repo: Path) -> None:
    ev = repo / "evidence" / "snapshots"
    (ev / "self.csv").symlink_to("self.csv")
    (ev / "d1").symlink_to("d2")
    (ev / "d2").symlink_to("d1")
    for path in ("evidence/snapshots/self.csv", "evidence/snapshots/d1/x.csv"):
        got = verdict(repo, path)
        assert got.status == "unsafe_path" and "symlink loop" in got.reason, (path, got)


def test_a_directory_link_to_its_parent_is_not_a_file(repo: Path) -> None:
    ev = repo / "evidence" / "snapshots"
    (ev / "up").symlink_to("..")  # evidence/snapshots/up -> evidence/
    got = verdict(repo, "evidence/snapshots/up")
    assert got.status == "unsafe_path" and "is a directory" in got.reason, got
    got = verdict(repo, "evidence/snapshots/up/snapshots/up/snapshots/up")
    assert got.status == "unsafe_path" and "is a directory" in got.reason, got
    (ev / "root").symlink_to("../..")  # out of evidence/: the root check says so
    assert verdict(repo, "evidence/snapshots/root").status == "outside_roots"


def test_a_directory_is_an_unsafe_path(repo: Path) -> None:
    (repo / "evidence" / "snapshots" / "dir.csv").mkdir()
    got = verdict(repo, "evidence/snapshots/dir.csv")
    assert (got.ok, got.status) == (False, "unsafe_path")
    assert "evidence/snapshots/dir.csv is a directory, not a regular file" in got.reason


def test_a_fifo_is_refused_without_opening_it(repo: Path) -> None:
    # Opening a FIFO for reading blocks until a writer comes: the verdict must come from the
    # stat alone (this test would hang otherwise).
    os.mkfifo(repo / "evidence" / "snapshots" / "pipe.csv")
    got = verdict(repo, "evidence/snapshots/pipe.csv")
    assert got.status == "unsafe_path" and "is a named pipe (FIFO)" in got.reason, got


def test_a_socket_is_refused(repo: Path) -> None:
    path = repo / "evidence" / "snapshots" / "s.csv"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(str(path))
        except OSError as exc:  # a path longer than sun_path
            pytest.skip(f"cannot bind a unix socket here: {exc}")
        got = verdict(repo, "evidence/snapshots/s.csv")
    assert got.status == "unsafe_path" and "is a socket" in got.reason, got


def test_a_device_is_refused(repo: Path) -> None:
    # A link to a device leaves the evidence roots; a device node inside them (made where
    # the test may) is refused by its type, never read (/dev/zero would never end).
    link = repo / "evidence" / "snapshots" / "zero.csv"
    link.symlink_to("/dev/zero")
    assert verdict(repo, "evidence/snapshots/zero.csv").status == "outside_roots"
    node = repo / "evidence" / "snapshots" / "null.csv"
    try:
        os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except OSError:
        return  # no CAP_MKNOD here: the link above is what an unprivileged insider can make
    got = verdict(repo, "evidence/snapshots/null.csv")
    assert got.status == "unsafe_path" and "is a character device" in got.reason, got


def _as_nobody(work: Callable[[], str]) -> str:
    """`work()` in a forked child without root's right to read every file (the suite may
    run as root, for whom chmod 000 changes nothing); its answer through a pipe."""
    if os.geteuid() != 0:
        return work()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to nobody, answer, exit without running pytest's cleanup
        answer = "child failed"
        try:
            os.setgid(65534)
            os.setuid(65534)
            answer = work()
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            answer = f"child raised {exc!r}"
        finally:
            os.write(write_end, answer.encode())
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as fh:
        answer = fh.read().decode()
    os.waitpid(pid, 0)
    return answer


@pytest.fixture
def walkable() -> Iterator[Path]:
    """A repository every user may walk through (pytest's own tmp dirs are root's only)."""
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="wb-unreadable-"))
    try:
        root = base / "repo"
        (root / "evidence" / "snapshots").mkdir(parents=True)
        (root / ".git").mkdir()
        for d in (base, root, root / "evidence", root / "evidence" / "snapshots"):
            d.chmod(0o755)
        yield root
    finally:
        shutil.rmtree(base)


@pytest.mark.parametrize("hasher_name", ["sha256_file", "hash_cache"])
def test_an_unreadable_file_is_refused(walkable: Path, hasher_name: str) -> None:
    repo = walkable
    path = repo / "evidence" / "snapshots" / "secret.csv"
    path.write_bytes(DATA)
    path.chmod(0)
    snapshot = snap("evidence/snapshots/secret.csv")

    def work() -> str:
        hasher = sha256_file if hasher_name == "sha256_file" else _cache(repo).sha256
        got = verify_snapshot(snapshot, repo, None, hasher)
        return json.dumps([got.ok, got.status, got.reason])

    answer = _as_nobody(work)
    assert answer.startswith("["), answer
    ok, status, reason = json.loads(answer)
    assert (ok, status) == (False, "unsafe_path"), reason
    assert "evidence/snapshots/secret.csv cannot be read" in reason and "ermission" in reason


def _cache(root: Path) -> HashCache:
    return HashCache(root, writable=False)


@pytest.fixture(params=["sha256_file", "hash_cache"])
def hasher(request: pytest.FixtureRequest, repo: Path) -> Callable[[Path], tuple[str, int]]:
    return sha256_file if request.param == "sha256_file" else _cache(repo).sha256


def test_a_file_that_vanishes_before_its_hash_is_missing(
    repo: Path, hasher: Callable[[Path], tuple[str, int]]
) -> None:
    path = repo / "evidence" / "snapshots" / "gone.csv"
    path.write_bytes(DATA)

    def vanishing(p: Path) -> tuple[str, int]:  # the file goes between the stat and the read
        path.unlink()
        return hasher(p)

    got = verify_snapshot(snap("evidence/snapshots/gone.csv"), repo, None, vanishing)
    assert (got.ok, got.status) == (False, "missing"), got
    assert "evidence/snapshots/gone.csv vanished" in got.reason


def test_a_file_swapped_for_a_fifo_before_its_hash_is_not_waited_on(
    repo: Path, hasher: Callable[[Path], tuple[str, int]]
) -> None:
    # The stat said "regular file"; a FIFO put in its place before the open must not make
    # the hash wait for a writer that never comes (this test would hang).
    path = repo / "evidence" / "snapshots" / "swap.csv"
    path.write_bytes(DATA)

    def swapping(p: Path) -> tuple[str, int]:
        path.unlink()
        os.mkfifo(path)
        return hasher(p)

    got = verify_snapshot(snap("evidence/snapshots/swap.csv"), repo, None, swapping)
    assert got.status == "unsafe_path" and "is a named pipe (FIFO)" in got.reason, got


# --------------------------------------------------------------------------- the whole tool


def cli(repo: Path | None, *args: str, what_if: bool = True) -> tuple[int, str, str]:
    from tests.conftest import FIXED_NOW
    from workbench.cli.main import main

    # At the demo's time (its evidence is fresh then); a command that records uses the clock.
    at = ["--now", FIXED_NOW.strftime("%Y-%m-%dT%H:%M:%SZ")] if what_if else []
    where = [] if repo is None else ["--repo", str(repo)]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*at, *where, *args])
    return code, out.getvalue(), err.getvalue()


LINEAGE_CONTRACT = "applicant-data-to-credit-model"


def lineage_snapshot(root: Path) -> Snapshot:
    """The lineage manifest the demo's `source-lineage` term reads (the newest one)."""
    from tests.conftest import FIXED_NOW
    from workbench.service.core import Workbench

    infos = Workbench(root, now=FIXED_NOW).evidence.snapshots(contract=LINEAGE_CONTRACT)
    return next(
        i.snapshot
        for i in infos
        if i.snapshot.kind == "lineage_manifest" and i.snapshot.contract == LINEAGE_CONTRACT
    )


def _commit_all(root: Path, message: str) -> None:
    """A hostile insider's commit (plain git: no workbench rule is asked)."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "Mallory", "GIT_AUTHOR_EMAIL": "m@example.org"}
    env |= {"GIT_COMMITTER_NAME": "Mallory", "GIT_COMMITTER_EMAIL": "m@example.org"}
    subprocess.run(["git", "-C", str(root), "add", "-A", "evidence"], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "commit", "-qm", message], check=True, env=env)


@contextlib.contextmanager
def sabotaged(root: Path, make: Callable[[Path], None]) -> Iterator[Snapshot]:
    target = lineage_snapshot(root)
    path = root / target.path
    path.unlink()
    make(path)
    yield target


def _evaluate(root: Path) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    code, out, err = cli(root, "--readonly", "evaluate", "--json")
    assert "Traceback" not in out + err and "unexpected error" not in err, err
    return code, json.loads(out), err


def test_evaluate_refuses_a_looping_snapshot_and_judges_every_other(
    demo_repo: Path, tmp_path: Path
) -> None:
    # The exit code is the one a snapshot linked out of the roots gives (the same kind of
    # refusal), measured on a copy of the same repository.
    from tests.conftest import copy_demo

    outside = copy_demo(demo_repo, tmp_path / "outside")
    with sabotaged(outside, lambda p: p.symlink_to("/etc/hostname")):
        want_code, want, _ = _evaluate(outside)

    def loop(p: Path) -> None:
        p.symlink_to(p.name + ".b")
        p.with_name(p.name + ".b").symlink_to(p.name)

    with sabotaged(demo_repo, loop) as target:
        _commit_all(demo_repo, "a symlink loop where the lineage evidence was")
        code, got, _err = _evaluate(demo_repo)
    assert code == want_code
    assert got["inputs"]["snapshots"][target.id] == "unsafe_path"
    by_term = {(f["contract"], f["term"]): f for f in got["findings"]}
    bad = by_term[(LINEAGE_CONTRACT, "source-lineage")]
    assert bad["status"] == "error"
    assert target.path in bad["reason"] and "symlink loop" in bad["reason"], bad
    assert "evidence/registrations/" in bad["reason"]  # names the record that registers it
    # Every other term is judged as in the run that refused the outside link.
    others = {k: f["status"] for k, f in by_term.items() if k[1] != "source-lineage"}
    assert others == {
        (f["contract"], f["term"]): f["status"]
        for f in want["findings"]
        if f["term"] != "source-lineage"
    }
    assert "pass" in others.values()

    # The other commands on the same repository: a verdict each, no crash.
    code, out, err = cli(demo_repo, "--readonly", "evidence", "list", "--verify")
    assert code == 1 and "Traceback" not in err and "unexpected" not in err, err  # 1: a bad one
    assert target.id in out + err and "symlink loop" in out + err, (out, err)
    code, out, err = cli(demo_repo, "--readonly", "gate")
    assert code == 1 and "unexpected" not in err and "gate FAILED" in out, err
    bundle = tmp_path / "audit.tar.gz"
    code, out, err = cli(
        demo_repo,
        "--as",
        "grace.whitfield",
        "export-bundle",
        "--out",
        str(bundle),
        "--no-record",
        what_if=False,
    )
    assert code == 0 and bundle.is_file(), err
    code, out, err = cli(None, "verify-bundle", str(bundle), "--trust-bundle-root", what_if=False)
    assert "unexpected" not in err and "Traceback" not in err, err
    assert code in (0, 1), (code, out, err)


@pytest.mark.parametrize("kind", ["fifo", "directory", "chain_to_loop"])
def test_evaluate_refuses_other_non_files_by_their_type(demo_repo: Path, kind: str) -> None:
    def make(p: Path) -> None:
        if kind == "fifo":
            os.mkfifo(p)
        elif kind == "directory":
            p.mkdir()
        else:  # a chain of links that ends in a loop further on
            p.symlink_to("c1")
            p.with_name("c1").symlink_to("c2")
            p.with_name("c2").symlink_to("c1")

    with sabotaged(demo_repo, make) as target:
        _code, got, _err = _evaluate(demo_repo)
    bad = next(f for f in got["findings"] if f["term"] == "source-lineage")
    assert got["inputs"]["snapshots"][target.id] == "unsafe_path", bad
    want = {"fifo": "named pipe (FIFO)", "directory": "is a directory", "chain_to_loop": "loop"}
    assert want[kind] in bad["reason"] and target.path in bad["reason"], bad
