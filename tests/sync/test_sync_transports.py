"""`workbench sync` over the transports a team uses: a bare repository on disk (file), a
smart-HTTP server (`git http-backend` behind a loopback HTTP server) and ssh (a real sshd
on loopback, started by the test with its own keys: tests/sync/ssh_server.py)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW
from tests.signing.demo_helpers import signer
from tests.sync.conftest import CREDIT, Origin, git
from tests.sync.git_http import GitHTTPServer
from tests.sync.ssh_server import ssh_server
from workbench.service.core import Workbench


def session(root: Path, actor: str, hours: float) -> Workbench:
    return Workbench(root, now=FIXED_NOW + timedelta(hours=hours), actor=actor)


def co_sign_from_two_laptops(a: Path, b: Path) -> None:
    session(a, "ravi.iyer", 1).signing.contracts.sign(CREDIT, signer(a, "ravi.iyer"))
    session(b, "sofia.marquez", 2).signing.contracts.sign(CREDIT, signer(b, "sofia.marquez"))
    first = session(a, "ravi.iyer", 2.1).sync.run()
    assert first.pushed and first.outcome.startswith("pushed"), first.to_json()
    second = session(b, "sofia.marquez", 2.2).sync.run()
    assert second.pushed and second.merge_commit, second.to_json()
    third = session(a, "ravi.iyer", 2.3).sync.run()
    assert third.outcome.startswith("fast-forward"), third.to_json()
    for root in (a, b):
        verdict = session(root, "ravi.iyer", 3).signing.verdict(CREDIT)
        assert verdict.state == "approved", verdict.reason


def test_two_leads_co_sign_over_a_file_remote(origin: Origin, tmp_path: Path) -> None:
    a = origin.clone(tmp_path / "a", url=f"file://{origin.bare}")
    b = origin.clone(tmp_path / "b", url=f"file://{origin.bare}")
    co_sign_from_two_laptops(a, b)
    assert git(origin.bare, "fsck", "--strict").returncode == 0


def test_two_leads_co_sign_over_smart_http(origin: Origin, tmp_path: Path) -> None:
    served = tmp_path / "srv"
    served.mkdir()
    shutil.move(str(origin.bare), served / "governance.git")
    git(served / "governance.git", "config", "http.receivepack", "true")
    with GitHTTPServer(served) as server:
        url = server.url("governance.git")
        remote = Origin(served / "governance.git", origin.keys, origin.pin)
        a = remote.clone(tmp_path / "a", url=url)
        b = remote.clone(tmp_path / "b", url=url)
        co_sign_from_two_laptops(a, b)
        # It really went over HTTP: the smart protocol's endpoints, pushes included.
        paths = {(method, path.rsplit("/", 1)[-1]) for method, path, _ in server.requests}
        assert ("POST", "git-upload-pack") in paths and ("POST", "git-receive-pack") in paths
        assert all(status == 200 for _m, _p, status in server.requests), server.requests
    assert git(served / "governance.git", "fsck", "--strict").returncode == 0


def test_sync_over_http_names_the_server_error(origin: Origin, tmp_path: Path) -> None:
    served = tmp_path / "srv"
    served.mkdir()
    shutil.move(str(origin.bare), served / "governance.git")
    with GitHTTPServer(served) as server:
        remote = Origin(served / "governance.git", origin.keys, origin.pin)
        a = remote.clone(tmp_path / "a", url=server.url("governance.git"))
        git(a, "remote", "set-url", "origin", server.url("nothing-here.git"))
        from workbench.service.errors import WorkbenchError

        with pytest.raises(WorkbenchError, match="git fetch origin failed"):
            session(a, "ravi.iyer", 1).sync.run()


def test_two_leads_co_sign_over_ssh(origin: Origin, tmp_path: Path) -> None:
    with ssh_server(tmp_path / "sshd") as server:
        url = server.url(origin.bare)
        clones = []
        for name in ("a", "b"):
            # How a lead points git at a server: the clone's own ssh command (or ~/.ssh).
            git(tmp_path, "-c", f"core.sshCommand={server.ssh_command}", "clone", "-q", url, name)
            clone = origin.clone_files(tmp_path / name)
            git(clone, "config", "core.sshCommand", server.ssh_command)
            clones.append(clone)
        co_sign_from_two_laptops(*clones)
        # Both signatures reached the origin, through the server (its log says who came in).
        names = git(origin.bare, "ls-tree", "--name-only", "HEAD", f"attestations/{CREDIT}/")
        assert {"v2.ravi.iyer.sig", "v2.sofia.marquez.sig"} <= {
            Path(p).name for p in names.stdout.split()
        }
        assert server.accepted() >= 4  # two clones, two fetches and a push at least
