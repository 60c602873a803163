"""A hostile governance repo: every string an insider can commit carries terminal controls.

Built once per test process from the shared demo (`demo_template`), the way a hostile
insider with an ordinary member key and push rights would: TOML escapes in contract,
people, settings, action and diagnostic files (raw control bytes are refused by
`model.text`, escapes are not), a commit with a hostile message and author name, an
evidence file with hostile values and column names, records whose notes are hostile
(signed by their real authors), and an exported audit bundle with a hostile file name.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW, copy_demo
from workbench.model import safe_text

A = "applicant-data-to-credit-model"
POLICY = "policy-data-to-claims-agent"

# Terminal controls: an OSC 8 hyperlink, clear screen, SGR, a one-byte C1 CSI, BEL,
# backspace, DEL, a right-to-left override, a bidi isolate and a zero-width space.
CONTROLS = (
    "\x1b]8;;http://e.vil\x07L\x1b]8;;\x07\x1b[2J\x1b[31m\x9b1m\x07\x08\x7f\u202e\u2066\u200b"
)
# Markup for the other media: HTML, a Markdown link and image, a table break, a code span,
# Textual markup with an action link.
MARKUP = "<script>x</script>[c](http://e.vil)![i](http://e.vil/p)|`[@click=app.bell]q[/]"
# A newline inside a one-line field would start a forged line of output.
FORGED = "\nFORGED"
HOSTILE = CONTROLS + MARKUP + FORGED
# For people's roles (at most 120 characters). Names themselves must be one visible line
# (keys/people.toml fails validation otherwise: tests/core/test_validation.py), so the
# hostile text rides in the fields validation leaves free.
SHORT = CONTROLS + "&amp;[c](x)|[@click=app.bell]q[/]"
# What the neutralised OSC 8 looks like on a terminal.
VISIBLE = safe_text.line("\x1b]8;;http://e.vil")

# Text fields per file that a member can change in an ordinary commit.
FIELDS = {
    "contracts/": ("title", "description", "channel", "reason", "statement"),
    "keys/people.toml": ("role", "description"),
    "workbench.toml": ("name", "what"),
    "actions/": ("title",),
    "diagnostics/": ("promises",),
    # Evidence: registrations are signed (poisoning one breaks its signature); hostile
    # sources come in through `evidence add --source` below, registered by the provider.
}


def toml_escaped(text: str) -> str:
    """`text` as the body of a TOML basic string, every non-printable character escaped."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch.isascii() and ch.isprintable() or not safe_text.is_unsafe(ch):
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(f"\\U{ord(ch):08X}")
    return "".join(out)


def poison_file(path: Path, keys: tuple[str, ...], payload: str = HOSTILE) -> int:
    """Append `payload` to every one-line basic string of `keys` in a TOML file."""
    pattern = re.compile(rf'^(\s*(?:{"|".join(keys)})\s*=\s*")([^"\\\n]*)(")', re.MULTILINE)
    text = path.read_text(encoding="utf-8")
    new, count = pattern.subn(lambda m: m.group(1) + m.group(2) + toml_escaped(payload) + '"', text)
    path.write_text(new, encoding="utf-8")
    return count


def run_cli(repo: Path | None, *args: str, who: str | None = None) -> tuple[int, str, str]:
    """The CLI in-process: exit code, stdout, stderr.

    At the real clock, like a user: commands that record something refuse a what-if
    `--now`, and the hostile repo's records are made at the real time.
    """
    from workbench.cli.main import main

    argv = []
    if repo is not None:
        argv += ["--repo", str(repo)]
    if who:
        argv += ["--as", who]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([*argv, *args])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def key(repo: Path, person: str) -> str:
    return str(repo / ".git" / "handshake-workbench" / "demo-keys" / f"{person}_ed25519")


def hostile_csv(path: Path) -> Path:
    controls = CONTROLS  # raw characters: evidence files have no text hygiene
    path.write_text(
        f"attribute,group,count,observed_at,note{controls}\n"
        f'age_band,"18-25{controls}{MARKUP.replace(chr(34), "")}",7998,2026-11-26 07:00:00,x\n'
        "age_band,26-40,18539,2026-11-26 07:00:00,x\n"
        "age_band,41-60,14000,2026-11-26 07:00:00,x\n"
        "age_band,61+,4000,2026-11-26 07:00:00,x\n",
        encoding="utf-8",
    )
    return path


@dataclass(frozen=True)
class Hostile:
    root: Path
    bundle: Path
    trust_root: str
    csv: Path


def _must(result: tuple[int, str, str], *ok: int) -> str:
    code, out, err = result
    assert code in (ok or (0,)), f"setup step failed ({code}):\n{out}\n{err}"
    return out


@pytest.fixture(scope="session")
def hostile_template(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    from workbench.repo.git import Author, GitRepo

    base = tmp_path_factory.mktemp("hostile")
    root = copy_demo(demo_template, base / "repo")
    changed: dict[str, bytes | None] = {}
    for prefix, keys in FIELDS.items():
        paths = sorted((root / prefix).rglob("*.toml")) if prefix.endswith("/") else [root / prefix]
        for path in paths:
            if poison_file(path, keys, SHORT if prefix.startswith("keys/") else HOSTILE):
                changed[path.relative_to(root).as_posix()] = path.read_bytes()
    assert len(changed) >= 8, changed.keys()
    # An insider's commit: hostile message and author name, straight into git.
    GitRepo(root).commit_files(
        changed,
        f"Update wording {HOSTILE}\n\nBody {HOSTILE}\n",
        Author(f"Mallory {CONTROLS}", "mallory@evil.example"),
        when=FIXED_NOW.replace(hour=8),
    )
    # Hostile evidence values and column names, then a run that records findings about them.
    csv = hostile_csv(base / "hostile.csv")
    _must(
        run_cli(
            root,
            "evidence",
            "add",
            str(csv),
            "--kind",
            "group_counts",
            "--contract",
            A,
            "--source",
            f"export {HOSTILE}",
            "--name",
            "hostile-counts",
            who="dana.okafor",
        )
    )
    _must(run_cli(root, "evaluate", who="ci.pipeline"), 0, 1)  # the demo's runner
    # Records by their real authors, with hostile free text.
    _must(
        run_cli(
            root,
            "review",
            A,
            "--notes",
            f"looked {HOSTILE}",
            "--key",
            key(root, "dana.okafor"),
            who="dana.okafor",
        )
    )
    # An exemption request with a hostile reason, for the approver to see and sign.
    expires = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    _must(
        run_cli(
            root,
            "violations",
            "close",
            f"{A}/age-representation",
            "--exempt",
            "--reason",
            f"accepted {HOSTILE}",
            "--approver",
            "grace.whitfield",
            "--expires",
            expires,
            who="ravi.iyer",
        )
    )
    answers = base / "answers.toml"
    answers.write_text(
        "[answers]\n"
        'interface_owner = "tomas.lindqvist"\n'
        f'promises = "{toml_escaped("answers " + HOSTILE)}"\n'
        'paged = "yuki.tanaka"\npage_within = "PT30M"\n'
        'page_mechanism = "pagerduty:policy-data-oncall"\nviolation_surfaces = "downstream-report"\n'
        'watched_by = "other-side"\nchange_channel = "slack:#seam-policy-claims"\n'
        'change_ack_by = "aisha.rahman"\nchange_ack_within = "PT48H"\n'
        'last_reviewed = "unknown"\npeople_still_right = "yes"\n',
        encoding="utf-8",
    )
    _must(run_cli(root, "diagnose", POLICY, "--answers", str(answers), who="tomas.lindqvist"), 0, 1)
    # An exported bundle, then one file added under a hostile name (what an attacker who
    # hands over the bundle could do; the verifier must name it without obeying it).
    exported = base / "export.tar.gz"
    out = _must(
        run_cli(
            root,
            "export-bundle",
            "--out",
            str(exported),
            "--key",
            key(root, "grace.whitfield"),  # an exporter the signed policy names
            "--json",
            who="grace.whitfield",
        )
    )
    import json

    trust_root = json.loads(out)["root_sha256"]
    bundle = base / "hostile-bundle.tar.gz"
    with tarfile.open(exported) as src, tarfile.open(bundle, "w:gz") as dst:
        for member in src.getmembers():
            dst.addfile(member, src.extractfile(member) if member.isfile() else None)
        data = HOSTILE.encode()
        info = tarfile.TarInfo(f"extra{CONTROLS}.txt")
        info.size = len(data)
        dst.addfile(info, io.BytesIO(data))
    return Hostile(root, bundle, trust_root, csv)


@pytest.fixture
def hostile(hostile_template: Hostile, tmp_path: Path) -> Hostile:
    """A private copy of the hostile repo for one test."""
    root = copy_demo(hostile_template.root, tmp_path / "hostile")
    bundle = tmp_path / "hostile-bundle.tar.gz"
    shutil.copyfile(hostile_template.bundle, bundle)
    return Hostile(root, bundle, hostile_template.trust_root, hostile_template.csv)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout
