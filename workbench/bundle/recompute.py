"""`verify-bundle --recompute`: judge every finding again from the bundle's own bytes.

A findings file is covered by the exporter's signature only, so without this an exporter
could turn a failing finding into a passing one. Recomputing takes, for each finding with
a query, the contract version it was evaluated against (found in the bundle by the
``contract_sha256`` the finding records), the evidence snapshots it cites (shipped files
whose sha256 matches), and runs the term's check again as the evaluation does - the same
jobs (`evidence.runner.CheckJob`), the same evaluation worker process under the memory cap
and run budget of the bundle's ``[evidence]`` settings, the same locked-down DuckDB
sandbox - with the finding's own clock. Status, observed value, limit, the SQL run and the
detail rows must all come out the same.

The page test is judged again from the people.toml and workbench.toml the run read (by the
sha256 its inputs record) and the contract. A violation the evaluation recorded before any
query (evidence missing, too old or failing its sha256) is listed as such: there is no
query to run, and a recorded violation claims nothing in anyone's favour; a pass or warn
without a query is a difference.

Every finding gets one line: ``same``, ``DIFFERENT`` (what differs), ``no-query``, or
``not recomputed`` with the reason (evidence files not shipped, the contract version or the
people.toml the run read not in the bundle). A finding that is not recomputed is never
reported as verified.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.evidence.errors import EvidenceError
from workbench.signing.statement import sha256_hex

MAX_REPORTED = 200


@dataclass
class FindingCheck:
    run: str
    contract: str
    term: str
    outcome: str  # same | different | skipped | no-query (a violation decided before querying)
    message: str

    def to_json(self) -> dict[str, str]:
        return {
            "run": self.run,
            "contract": self.contract,
            "term": self.term,
            "outcome": self.outcome,
            "message": self.message,
        }


@dataclass
class Recomputed:
    findings: list[FindingCheck] = field(default_factory=list)

    @property
    def different(self) -> list[FindingCheck]:
        return [f for f in self.findings if f.outcome == "different"]

    @property
    def skipped(self) -> list[FindingCheck]:
        return [f for f in self.findings if f.outcome == "skipped"]


def _contracts_by_sha(files: Mapping[str, bytes]) -> dict[str, tuple[str, bytes]]:
    out = {}
    for path, data in files.items():
        parts = path.split("/")
        if parts[0] == "contracts" and (
            (len(parts) == 4 and parts[3] == "contract.toml")
            or (len(parts) == 3 and parts[2] == "current.toml")
        ):
            out[sha256_hex(data)] = (parts[1], data)
    return out


def recompute_findings(files: Mapping[str, bytes]) -> Recomputed:
    """Judge every finding of every run in ``files`` again (see the module docstring)."""
    import tomllib

    from workbench.evidence.findings import parse_run
    from workbench.evidence.manifest import MANIFEST_PATH, parse_manifest
    from workbench.evidence.runner import limits_for
    from workbench.evidence.worker import run_isolated
    from workbench.model.settings import Settings

    out = Recomputed()
    manifest = {}
    raw = files.get(MANIFEST_PATH)
    if raw is not None:
        try:
            manifest = {
                s.id: s for s in parse_manifest(raw.decode("utf-8"), MANIFEST_PATH).snapshots
            }
        except (UnicodeDecodeError, ValueError, EvidenceError):
            manifest = {}
    try:
        settings = Settings.model_validate(tomllib.loads(files["workbench.toml"].decode()))
    except (KeyError, UnicodeDecodeError, ValueError):
        settings = None
    # The run's limits as the evaluation had them: [evidence] of the bundle's settings.
    limits = limits_for(settings)
    contracts = _contracts_by_sha(files)
    parsed: dict[bytes, Any] = {}
    with tempfile.TemporaryDirectory(prefix="workbench-recompute-") as tmp:
        written: dict[str, Path] = {}
        for path in sorted(files):
            if not (
                path.startswith("findings/") and path.endswith(".json") and path.count("/") == 1
            ):
                continue
            try:
                run = parse_run(files[path], path)
            except (ValueError, EvidenceError) as exc:
                out.findings.append(FindingCheck(path, "", "", "different", str(exc)))
                continue
            inputs = {**(run.get("inputs") or {}), "time": run.get("time")}
            prepared: list[tuple[dict[str, Any], FindingCheck | Any]] = []
            # A shipped run is untrusted: each finding is checked to be an object first.
            shipped: list[object] = list(run.get("findings") or [])
            for finding in shipped:
                if not isinstance(finding, dict):
                    out.findings.append(
                        FindingCheck(path, "", "", "different", "a finding is not an object")
                    )
                    continue
                key = len(prepared)
                prepared.append(
                    (
                        finding,
                        _prepare(
                            key,
                            path,
                            finding,
                            files,
                            manifest,
                            contracts,
                            parsed,
                            Path(tmp),
                            written,
                            inputs,
                        ),
                    )
                )
            jobs = [job for _f, job in prepared if not isinstance(job, FindingCheck)]
            # The same code and the same sandbox as the evaluation: its worker process,
            # under the memory cap and the run budget.
            ran, _stats = run_isolated(jobs, limits) if jobs else ({}, None)
            for finding, job in prepared:
                if isinstance(job, FindingCheck):
                    out.findings.append(job)
                else:
                    out.findings.append(_compare(path, finding, ran.get(job.key), len(job.views)))
    return out


def _prepare(  # noqa: PLR0911, PLR0913 - one outcome per reason a finding cannot be judged
    key: int,
    run: str,
    finding: dict[str, Any],
    files: Mapping[str, bytes],
    manifest: dict[str, Any],
    contracts: dict[str, tuple[str, bytes]],
    parsed: dict[bytes, Any],
    tmp: Path,
    written: dict[str, Path],
    run_inputs: dict[str, Any],
) -> FindingCheck | Any:
    """The evaluation job that judges ``finding`` again, or its outcome when there is none."""
    from workbench.evidence.checks import VIOLATING, needs
    from workbench.evidence.findings import PAGE_TEST
    from workbench.evidence.runner import CheckJob, ViewFile, view_name
    from workbench.model.state import parse_contract
    from workbench.model.terms import DecisionThresholdTerm

    cid, term_id = _printable(finding.get("contract")), _printable(finding.get("term"))

    def result(outcome: str, message: str) -> FindingCheck:
        return FindingCheck(run, cid, term_id, outcome, message)

    status = finding.get("status")
    found = contracts.get(str(finding.get("contract_sha256")))
    if term_id == PAGE_TEST and found is not None and found[0] == cid:
        return _page_test_again(finding, found[1], run_inputs, files, result)
    if found is None or found[0] != cid:
        return result(
            "skipped",
            "not recomputed: the contract version it was evaluated against is not in the bundle",
        )
    if found[1] not in parsed:
        parsed[found[1]] = parse_contract(f"contracts/{cid}.toml", found[1])
    contract = parsed[found[1]]
    if contract is None:
        return result("skipped", "not recomputed: the evaluated contract version does not parse")
    term = contract.term(term_id)
    if term is None:
        return result("different", f"the evaluated contract has no term {term_id}")
    if not finding.get("sql"):
        # The evaluation decided before querying (evidence missing, too old or failing its
        # sha256): that can only ever be a violation.
        if status in VIOLATING:
            return result(
                "no-query",
                f"{status} before any query "
                f"({_printable(finding.get('reason') or status)}): "
                "a violation, nothing to recompute",
            )
        return result("different", f"recorded {status!r} without running any query")
    cited = {str(s.get("view")): s for s in finding.get("snapshots") or [] if isinstance(s, dict)}
    # in the order the evaluation bound them: the term's own order of views
    order = [n.view for n in needs(term) if n.view in cited] + sorted(
        set(cited) - {n.view for n in needs(term)}
    )
    views = {}
    for view in order:
        sid = str(cited[view].get("id"))
        entry = manifest.get(sid)
        if entry is None or entry.sha256 != cited[view].get("sha256"):
            return result(
                "different", f"cites {sid}, which the evidence manifest does not register"
            )
        data = files.get(entry.path)
        if data is None or sha256_hex(data) != entry.sha256:
            return result("skipped", f"not recomputed: evidence {sid} is not shipped in the bundle")
        if sid not in written:
            target = tmp / f"{view_name(sid)}.{entry.format}"
            target.write_bytes(data)
            written[sid] = target
        views[view] = ViewFile(sid, str(written[sid]), entry.kind, entry.format)
    clock_text = finding.get("clock")
    try:
        clock = datetime.fromisoformat(str(clock_text).replace("Z", "+00:00"))
    except ValueError:
        return result("different", f"the finding's clock {clock_text!r} is not a time")
    adopted = contract.adopted if isinstance(term, DecisionThresholdTerm) else None
    return CheckJob(key, term, clock, views, adopted)


def _compare(run: str, finding: dict[str, Any], again: Any, snapshots: int) -> FindingCheck:
    cid, term_id = _printable(finding.get("contract")), _printable(finding.get("term"))
    if again is None:
        return FindingCheck(run, cid, term_id, "skipped", "not recomputed: the check did not run")
    differences = []
    for key, mine in (
        ("status", again.status),
        ("observed", again.observed),
        ("limit", again.limit),
        ("sql", again.sql),
        ("details", again.details),
    ):
        theirs = finding.get(key)
        if _plain(theirs) != _plain(mine):
            differences.append(
                f"{key}: recorded {_short(theirs)}, recomputed {_short(mine)}"
                if key not in ("sql", "details")
                else f"the recorded {key} differs from what the term gives on this evidence"
            )
    engine = _other_engine(finding)
    if differences:
        if engine:
            # The auditor's DuckDB ran the SQL the finding records; the run's engine ran its
            # transpilation (`engine.sql`): either may be where the two part.
            differences.append(f"the run used {engine}; recomputed with DuckDB")
        return FindingCheck(run, cid, term_id, "different", "; ".join(differences))
    by = f" with DuckDB (the run used {engine})" if engine else ""
    return FindingCheck(
        run,
        cid,
        term_id,
        "same",
        f"{finding.get('status')} (recomputed{by} from {snapshots} snapshot file(s))",
    )


def _other_engine(finding: dict[str, Any]) -> str:
    """The engine a finding says it ran on, other than the DuckDB the recomputation uses
    (`evaluate --engine spark`), as `spark at local[2]`; "" for DuckDB's own findings."""
    engine = finding.get("engine")
    if not isinstance(engine, dict) or not engine.get("name"):
        return ""
    where = f" at {_printable(engine['endpoint'], 80)}" if engine.get("endpoint") else ""
    return f"the {_printable(engine['name'], 40)} engine{where}"


def _page_test_again(
    finding: dict[str, Any],
    contract_raw: bytes,
    inputs: dict[str, Any],
    files: Mapping[str, bytes],
    result: Callable[[str, str], FindingCheck],
) -> FindingCheck:
    """The page test again, with the people.toml and workbench.toml the run read (found in
    the bundle by the sha256 the run's inputs record) and the run's day."""
    from workbench.governance.paging import page_test
    from workbench.model.state import load_state

    by_sha = {sha256_hex(d): d for p, d in files.items() if p.endswith("people.toml")}
    people = by_sha.get(str(inputs.get("people_sha256")))
    settings = files.get("workbench.toml")
    if people is None or settings is None or sha256_hex(settings) != inputs.get("settings_sha256"):
        return result(
            "skipped",
            "not recomputed: the people.toml or workbench.toml the run read is not in the bundle",
        )
    try:
        day = datetime.fromisoformat(str(inputs.get("time")).replace("Z", "+00:00")).date()
    except ValueError:
        return result("different", "the run's time is not a time")
    floor = _floor_of_run(inputs, files)
    if floor is None:
        return result(
            "skipped",
            "not recomputed: the signed keys/policy.toml whose floor the run used is not in "
            "the bundle",
        )
    cid = str(finding.get("contract"))
    path = f"contracts/{cid}.toml"
    state = load_state(
        {"workbench.toml": settings, "keys/people.toml": people, path: contract_raw},
        day,
        floor=floor,
    )
    doc = state.contracts.get(cid)
    if doc is None:
        return result("skipped", "not recomputed: the evaluated contract version does not load")
    again = page_test(state, doc.contract, day)
    recorded = (finding.get("status"), finding.get("limit"))
    if recorded != (again.status, again.limit):
        return result(
            "different",
            f"status: recorded {_short(recorded[0])}, recomputed {_short(again.status)}"
            + ("" if recorded[1] == again.limit else "; the limit differs"),
        )
    return result("same", f"{again.status} (the page test, from people.toml and the contract)")


def _floor_of_run(inputs: dict[str, Any], files: Mapping[str, bytes]) -> Any:
    """The signed floor the run judged with: the registry's policy.toml it names by sha256
    (a run without one was made under the built-in floor), or None if it is not here."""
    from workbench.model.policy_floor import DEFAULT_FLOOR
    from workbench.signing.floor import floor_in
    from workbench.signing.registry import RegistryError

    wanted = inputs.get("policy_sha256")
    if wanted is None:
        return DEFAULT_FLOOR
    for path, data in sorted(files.items()):
        policy = path.startswith("registry/") and path.endswith("/policy.toml")
        if policy and sha256_hex(data) == wanted:
            try:
                return floor_in(data, f"the floor of {path}")
            except RegistryError:
                return None
    return None


def _printable(value: Any, limit: int = 200) -> str:
    """Text from the bundle, safe for a terminal: no control or format characters."""
    text = str(value)
    safe = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    return safe if len(safe) <= limit else safe[: limit - 3] + "..."


def _plain(value: Any) -> Any:
    """JSON round trip, so a recomputed value compares as the recorded one was written."""
    import json

    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
