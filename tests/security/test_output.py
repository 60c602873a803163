"""Red-team class: terminal and markup injection through every output.

The hostile repo (tests/security/conftest.py) carries escape sequences, C1 controls, bidi
overrides, zero-width characters, HTML, Markdown and Textual markup in every string an
insider can commit. Every command of the CLI (enumerated from its argparse tree, so a new
command fails here until it is given arguments) is run in every output format it offers;
nothing it prints may contain a control character other than newline and tab, and no
one-line field may start a line of its own.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.conftest import copy_demo
from tests.security.conftest import (
    CONTROLS,
    HOSTILE,
    MARKUP,
    POLICY,
    VISIBLE,
    A,
    Hostile,
    key,
    run_cli,
)
from workbench.model import safe_text

DEMO_PUB = "keys/pub/{person}.pub"

# Base arguments of every command. Placeholders: {repo}, {tmp}, {bundle}, {csv}, {root},
# {key:PERSON}, {pub:PERSON}. `who` is the acting person; `writes` runs on a private copy.
COMMANDS: dict[tuple[str, ...], list[dict[str, object]]] = {
    ("init",): [{"args": ["{tmp}/new-repo"], "repo": False}],
    ("validate",): [{"args": []}],
    ("status",): [{"args": []}],
    ("show",): [{"args": [A]}, {"args": [A, "--raw"]}],
    ("log",): [{"args": [A]}],
    ("diff",): [{"args": [A, "HEAD~8", "HEAD"]}],
    ("demo",): [{"args": ["{tmp}/demo", "--no-tui"], "repo": False}],
    ("person", "add"): [
        {
            "args": ["kim.lee", "--name", "Kim Lee", "--email", "kim@meridian.example"],
            "who": "dana.okafor",
            "writes": True,
        }
    ],
    ("person", "leave"): [
        {"args": ["yuki.tanaka", "--on", "2027-06-30"], "who": "dana.okafor", "writes": True}
    ],
    ("team", "add"): [
        {
            "args": ["platform", "--name", "Platform", "--lead", "yuki.tanaka"],
            "who": "dana.okafor",
            "writes": True,
        }
    ],
    ("team", "lead"): [{"args": ["applicant-data", "dana.okafor"], "who": "dana.okafor"}],
    ("contract", "new"): [
        {
            "args": [
                "new-seam",
                "--template",
                "data-model",
                "--provider",
                "applicant-data",
                "--consumer",
                "loan-decisioning",
            ],
            "who": "dana.okafor",
            "writes": True,
        }
    ],
    ("contract", "params"): [{"args": ["model-product"], "repo": False}],
    ("contract", "save"): [{"args": [A], "who": "dana.okafor", "writes": True}],
    ("keygen",): [{"args": ["--person", "dana.okafor", "--no-passphrase", "--path", "{tmp}/k"]}],
    ("sign",): [{"args": [A, "--key", "{key:ravi.iyer}"], "who": "ravi.iyer", "writes": True}],
    ("verify",): [{"args": []}, {"args": [A]}, {"args": ["--findings"]}],
    ("registry", "init"): [{"args": ["--admin", "erin.walsh"], "writes": True}],
    ("registry", "add-key"): [
        {"args": ["yuki.tanaka", "{pub:dana.okafor}"], "who": "erin.walsh", "writes": True}
    ],
    ("registry", "revoke"): [{"args": ["yuki.tanaka"], "who": "erin.walsh", "writes": True}],
    ("registry", "rotate"): [
        {"args": ["dana.okafor", "{pub:ravi.iyer}"], "who": "erin.walsh", "writes": True}
    ],
    ("registry", "sign"): [
        {"args": ["--key", "{key:erin.walsh}"], "who": "erin.walsh", "writes": True}
    ],
    ("registry", "runners"): [{"args": ["ci.pipeline"], "who": "erin.walsh", "writes": True}],
    ("registry", "root"): [{"args": []}],
    ("registry", "head"): [{"args": []}],
    ("registry", "floor"): [
        {"args": []},
        {"args": ["--contracts", "claims-*", "--limit", "ack_window=PT24H"], "writes": True},
    ],
    ("registry", "exporters"): [
        {"args": ["admins", "lead:applicant-data"], "who": "grace.whitfield", "writes": True}
    ],
    ("registry", "show"): [{"args": []}],
    ("evidence", "add"): [
        {
            "args": ["{csv}", "--kind", "group_counts", "--contract", A, "--source", HOSTILE],
            "who": "dana.okafor",
            "writes": True,
        }
    ],
    ("evidence", "register"): [{"args": [], "who": "dana.okafor"}],  # no legacy manifest: exit 2
    ("evidence", "withdraw"): [
        {"args": ["hostile-counts", "--reason", HOSTILE], "who": "dana.okafor", "writes": True}
    ],
    ("evidence", "list"): [{"args": []}, {"args": ["--verify"]}],
    ("evidence", "query"): [
        {"args": ["SELECT * FROM group_counts"]},
        {"args": ["SELECT nope FROM group_counts"]},  # the error names the column
    ],
    ("evaluate",): [{"args": [], "who": "ci.pipeline", "writes": True}],  # the demo's runner
    ("violations",): [{"args": []}],
    ("violations", "show"): [{"args": [f"{A}/age-representation"]}],
    ("violations", "close"): [
        {
            "args": [f"{A}/age-representation", "--resolved", "--note", "fixed"],
            "who": "dana.okafor",
            "writes": True,
        }
    ],
    ("violations", "approve"): [
        {"args": [f"{A}/age-representation"], "who": "grace.whitfield", "writes": True}
    ],
    ("reviews",): [{"args": []}],
    ("review",): [
        {
            "args": [A, "--notes", "ok", "--key", "{key:dana.okafor}"],
            "who": "dana.okafor",
            "writes": True,
        }
    ],
    ("notices",): [{"args": []}],
    ("ack",): [
        {"args": [A, "--key", "{key:ravi.iyer}"], "who": "ravi.iyer", "writes": True},
    ],
    ("actions",): [{"args": []}, {"args": ["lint"]}],
    ("diagnose",): [{"args": [POLICY, "--show"]}],
    ("due",): [{"args": []}],
    ("gate",): [{"args": []}],
    ("report", "weekly"): [{"args": ["--week", "2026-W48"]}],
    ("report", "boundary"): [{"args": ["--quarter", "2026-Q4"]}],
    ("export-bundle",): [
        {
            "args": ["--out", "{tmp}/b.tar.gz", "--key", "{key:grace.whitfield}"],
            "who": "grace.whitfield",  # an exporter the signed policy names
            "writes": True,
        }
    ],
    ("verify-script",): [{"args": ["--sha256"], "repo": False}],
    ("completion",): [{"args": ["bash"], "repo": False}],
    # The hostile repo has no remote: the refusal is printed (the sync itself with hostile
    # incoming history: tests/sync/test_sync_clones.py::test_sync_prints_hostile_text_as_text).
    ("sync",): [{"args": ["--dry-run"]}, {"args": [], "who": "dana.okafor", "writes": True}],
    ("merge-driver",): [{"args": ["install"], "writes": True}],
    ("export", "odcs"): [{"args": [A]}],
    ("import", "odcs"): [
        {
            "args": [
                str(Path(__file__).resolve().parents[1] / "data/odcs/orders.odcs.yaml"),
                "--provider",
                "applicant-data",
                "--consumer",
                "credit-risk-model",
            ],
            "who": "dana.okafor",
            "writes": True,
        }
    ],
    # Sends nothing: no network in the red-team run (deliveries: tests/notify/).
    ("notify",): [{"args": ["--dry-run"]}],
    ("page",): [
        {"args": []},
        {
            "args": ["ack", f"{A}/age-representation", "--note", HOSTILE],
            "who": "sam.ortiz",
            "writes": True,
        },
    ],
    ("clocks",): [
        {"args": []},
        {"args": ["kinds", "--seam", A]},
        {
            "args": ["start", "eu-ai-act-art73", "--seam", A, "--note", HOSTILE],
            "who": "dana.okafor",
            "writes": True,
        },
        {"args": ["--all"]},
    ],
    ("verify-bundle",): [
        {"args": ["{bundle}", "--root", "{root}"], "repo": False},
        {"args": ["{bundle}", "--trust-bundle-root", "--strict"], "repo": False},
    ],
}

# Commands whose output must show the hostile text (neutralised): the run really carried it.
SHOWS_REPO_TEXT = {
    ("show",),
    ("log",),
    ("diff",),
    ("notices",),
    ("evidence", "list"),
    ("evidence", "query"),
    ("evaluate",),
    ("violations",),
    ("violations", "show"),
    ("gate",),
    ("report", "weekly"),
    ("report", "boundary"),
    ("diagnose",),
    ("actions",),
    ("due",),
    ("verify-bundle",),
}

ALLOWED_CONTROLS = {"\n", "\t"}


def leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """Every command path of the argparse tree, with its parser."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix, parser
        return
    if prefix and not subs[0].required:
        yield prefix, parser
    for name, child in subs[0].choices.items():
        yield from leaf_commands(child, (*prefix, name))


def output_variants(parser: argparse.ArgumentParser) -> list[list[str]]:
    """The output formats a command offers: [] plus --json, or each --format choice."""
    options = {o: a for a in parser._actions for o in a.option_strings}
    if "--format" in options:
        return [["--format", choice] for choice in options["--format"].choices]
    return [[], ["--json"]] if "--json" in options else [[]]


def expand(value: str, h: Hostile, repo: Path, tmp: Path) -> str:
    def sub(m: re.Match[str]) -> str:
        what, _, arg = m.group(1).partition(":")
        if what == "key":
            return key(repo, arg)
        if what == "pub":
            return str(repo / DEMO_PUB.format(person=arg))
        return {
            "repo": str(repo),
            "tmp": str(tmp),
            "bundle": str(h.bundle),
            "csv": str(h.csv),
            "root": h.trust_root,
        }[what]

    return re.sub(r"\{([a-z]+(?::[a-z.]+)?)\}", sub, value)


def unsafe_in(text: str) -> list[str]:
    return sorted(
        {safe_text.visible(c) for c in text if safe_text.is_unsafe(c) and c not in ALLOWED_CONTROLS}
    )


def check_format(fmt: list[str], out: str, args: list[str]) -> str | None:
    """Each structured output still parses, and markup stays text."""
    if not out.strip() or "--raw" in args:
        return None
    try:
        if fmt in (["--json"], ["--format", "json"], ["--format", "sarif"]):
            json.loads(out)
        elif fmt == ["--format", "junit"]:
            ET.fromstring(out.encode("utf-8"))
        elif fmt == ["--format", "html"] and "<script" in out:
            return "raw <script> in HTML"
    except (ValueError, ET.ParseError) as exc:
        return f"does not parse: {exc}"
    return None


def test_every_command_neutralises_terminal_controls(
    hostile_template: Hostile, tmp_path: Path
) -> None:
    from workbench.cli.main import build_parser

    commands = dict(leaf_commands(build_parser()))
    missing = sorted(set(commands) - set(COMMANDS))
    assert not missing, f"give these new commands arguments in COMMANDS: {missing}"
    assert len(commands) >= 36

    h = hostile_template
    offences: list[str] = []
    shown: set[tuple[str, ...]] = set()
    runs = 0
    for path, parser in commands.items():
        for n, case in enumerate(COMMANDS[path]):
            for fmt in output_variants(parser):
                tmp = tmp_path / f"{'-'.join(path)}-{n}-{len(fmt) and fmt[-1].strip('-')}"
                tmp.mkdir()
                repo = h.root
                if case.get("writes"):
                    repo = copy_demo(h.root, tmp / "repo")
                args = [expand(str(a), h, repo, tmp) for a in case["args"]]  # type: ignore[union-attr]
                code, out, err = run_cli(
                    repo if case.get("repo", True) else None,
                    *path,
                    *args,
                    *fmt,
                    who=case.get("who"),  # type: ignore[arg-type]
                )
                runs += 1
                name = " ".join([*path, *args[:1], *fmt])
                for stream, text in (("stdout", out), ("stderr", err)):
                    bad = unsafe_in(text)
                    if bad:
                        offences.append(f"{name}: raw {', '.join(bad)} on {stream}")
                    if re.search(r"^FORGED", text, re.MULTILINE):
                        offences.append(f"{name}: a one-line field broke the line on {stream}")
                    if "Traceback" in text or "unexpected error" in text:
                        offences.append(f"{name}: crashed: {text[-300:]}")
                problem = check_format(fmt, out, args)
                if problem:
                    offences.append(f"{name}: {problem}")
                if code not in (0, 1, 2):
                    offences.append(f"{name}: exit code {code}")
                if VISIBLE in out + err or "\\u001b]8;;http://e.vil" in out:
                    shown.add(path)
    assert not offences, f"{len(offences)} of {runs} runs:\n" + "\n".join(offences)
    # The hostile text really reached these commands' output (the check above can fail).
    assert shown >= SHOWS_REPO_TEXT, sorted(SHOWS_REPO_TEXT - shown)


# -- the formats, one by one ---------------------------------------------------------------


def test_junit_xml_is_well_formed_with_hostile_strings(hostile_template: Hostile) -> None:
    code, out, _ = run_cli(hostile_template.root, "gate", "--format", "junit")
    assert code == 1
    root = ET.fromstring(out.encode("utf-8"))  # raw ESC/BEL are not XML 1.0: this raised
    texts = [e.text or "" for e in root.iter()] + [
        v for e in root.iter() for v in e.attrib.values()
    ]
    assert any(VISIBLE in t for t in texts)
    assert not [t for t in texts if unsafe_in(t)]
    assert not any("\n" in v for e in root.iter() for v in e.attrib.values())


def test_sarif_messages_are_plain_text_with_hostile_strings(hostile_template: Hostile) -> None:
    code, out, _ = run_cli(hostile_template.root, "gate", "--format", "sarif")
    assert code == 1
    assert not unsafe_in(out)
    doc = json.loads(out)
    messages = [r["message"]["text"] for r in doc["runs"][0]["results"]]
    hostile = [m for m in messages if "\\x1b" in m and "e.vil" in m]
    assert hostile, "the hostile names reach the SARIF messages"
    # A viewer shows message.text as text: no control character, no embedded link.
    assert not [m for m in hostile if unsafe_in(m) or re.search(r"(?<!\\)\[[^\]]*\]\(", m)]


def test_json_output_is_exact_data_without_raw_controls(hostile_template: Hostile) -> None:
    code, out, _ = run_cli(hostile_template.root, "show", A, "--json")
    assert code == 0
    assert not unsafe_in(out), "C1, DEL and bidi characters are \\u escapes in JSON"
    data = json.loads(out)
    assert data["title"].endswith(HOSTILE), "the data itself is unchanged"


def test_html_report_escapes_hostile_strings(hostile_template: Hostile) -> None:
    for report in (["weekly", "--week", "2026-W48"], ["boundary", "--quarter", "2026-Q4"]):
        code, out, _ = run_cli(hostile_template.root, "report", *report, "--format", "html")
        assert code == 0
        assert "<script" not in out
        assert "&lt;script&gt;" in out, "the hostile title is shown, escaped"
        assert 'href="http://e.vil' not in out and "<img" not in out
        assert not unsafe_in(out)
        # The page forbids scripts and remote loads even if an escape were ever missed.
        assert "default-src 'none'" in out
        # The tags are only the report's own.
        tags = set(re.findall(r"<([a-zA-Z0-9]+)", out))
        allowed = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p"}
        assert tags <= allowed | {"ul", "li", "table", "tr", "th", "td", "code", "strong"}


def test_markdown_report_cannot_break_tables_or_inject_links(hostile_template: Hostile) -> None:
    from markdown_it import MarkdownIt

    for report in (["weekly", "--week", "2026-W48"], ["boundary", "--quarter", "2026-Q4"]):
        code, out, _ = run_cli(hostile_template.root, "report", *report, "--format", "md")
        assert code == 0
        assert not unsafe_in(out)
        assert not re.search(r"^FORGED", out, re.MULTILINE)
        # A real CommonMark + GFM-table renderer, with raw HTML allowed (as many viewers do).
        html = MarkdownIt("commonmark", {"html": True}).enable("table").render(out)
        assert "<script" not in html and "<img" not in html
        assert 'href="http://e.vil' not in html and 'href="x"' not in html
        assert "&lt;script&gt;" in html, "the hostile text is there, as text"
    # Table rows keep their column count although a statement holds a '|'.
    code, out, _ = run_cli(hostile_template.root, "report", "weekly", "--week", "2026-W48")
    rows = [r for r in out.splitlines() if r.startswith("| `")]
    assert rows
    header = next(r for r in out.splitlines() if r.startswith("| assertion"))
    cells = lambda r: len(re.split(r"(?<!\\)\|", r))  # noqa: E731
    assert {cells(r) for r in rows} == {cells(header)}


def test_markdown_escape_renders_as_the_original_text() -> None:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True})
    for text in (MARKUP, "a_b*c*", "**x** `y` [z](u) <b>&amp; #1 @team ~~s~~ $x$ \\"):
        rendered = md.render(safe_text.markdown(text))
        inner = re.sub(r"^<p>|</p>\n$", "", rendered)
        import html

        assert html.unescape(inner) == text, rendered


def test_no_raw_controls_even_for_a_forged_line(hostile_template: Hostile) -> None:
    """The verdict lines of verify-bundle and the gate cannot be forged by a field."""
    code, out, _ = run_cli(None, "verify-bundle", str(hostile_template.bundle), "--root", "0" * 64)
    assert code == 1
    assert [line for line in out.splitlines() if line.startswith("RESULT:")] == [
        out.splitlines()[-1]
    ]
    code, out, _ = run_cli(hostile_template.root, "gate")
    assert not re.search(r"^FORGED", out, re.MULTILINE)
    assert CONTROLS not in out


def test_the_terminal_app_gets_the_raw_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """Textual writes its own escape sequences: the CLI's filter steps aside for it (the
    app neutralises repo text itself, see test_tui_output.py), and comes back after."""
    import sys

    import workbench.tui.launch
    from workbench.cli.main import main
    from workbench.cli.output import TerminalSafeStream

    seen: list[object] = []
    monkeypatch.setattr(workbench.tui.launch, "run", lambda args: seen.append(sys.stdout) or 0)
    before = sys.stdout
    assert main([]) == 0
    assert seen and not isinstance(seen[0], TerminalSafeStream)
    assert sys.stdout is before
