"""A real OpenSSH server on loopback for the sync tests: started as the current user on a
free port with its own host key and one authorized key, so a clone reaches the bare origin
over `ssh://` exactly as a lead's laptop reaches the team's git server. Nothing of the
machine's own ssh setup is read or changed (host keys, known_hosts, ~/.ssh)."""

from __future__ import annotations

import contextlib
import getpass
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class SshServer:
    port: int
    user: str
    ssh_command: str  # a clone's core.sshCommand: this client key, this server's host key
    log: Path

    def accepted(self) -> int:
        """How many ssh logins the server accepted so far."""
        return self.log.read_text(errors="replace").count("Accepted publickey")

    def url(self, path: Path) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{path}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )


@contextlib.contextmanager
def ssh_server(folder: Path) -> Iterator[SshServer]:
    """sshd on 127.0.0.1 until the block ends. Fails (never skips) without OpenSSH's
    server: `scripts/ensure-tools.sh` installs it."""
    sshd = shutil.which("sshd") or SSHD
    if not Path(sshd).is_file():
        raise RuntimeError(
            "the ssh transport test needs OpenSSH's server (sshd): run "
            "`bash scripts/ensure-tools.sh` (installs openssh-server as root)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    host, client = folder / "host_ed25519", folder / "client_ed25519"
    _keygen(host)
    _keygen(client)
    authorized = folder / "authorized_keys"
    authorized.write_text((folder / "client_ed25519.pub").read_text())
    known = folder / "known_hosts"
    port = _free_port()
    known.write_text(f"[127.0.0.1]:{port} {(folder / 'host_ed25519.pub').read_text()}")
    config = folder / "sshd_config"
    config.write_text(
        "\n".join(
            [
                "ListenAddress 127.0.0.1",
                f"Port {port}",
                f"HostKey {host}",
                f"AuthorizedKeysFile {authorized}",
                f"PidFile {folder / 'sshd.pid'}",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                "UsePAM no",
                "StrictModes no",  # the temporary folder's modes are pytest's
                "",
            ]
        )
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory (as root)
    log = folder / "sshd.log"
    with log.open("wb") as err:
        server = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)], stderr=err)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sshd did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        command = (
            f"ssh -i {client} -o IdentitiesOnly=yes -o BatchMode=yes "
            f"-o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes"
        )
        yield SshServer(port, getpass.getuser(), command, log)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
