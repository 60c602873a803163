"""What registering evidence checks before it writes (`EvidenceService.add`): the contract
and term it is for, and that a file or table lies under this machine's evidence roots."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.evidence.checks import needs
from workbench.evidence.errors import UnsafePath
from workbench.evidence.manifest import Manifest, Snapshot, resolve_snapshot_path
from workbench.service.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.service.core import Workbench
    from workbench.service.evidence_registrations import Registrations


def check_target(wb: Workbench, contract: str, term: str | None, kind: str) -> None:
    """The contract exists, and the term (if named) is one of its terms reading `kind`."""
    doc = wb.contract(contract)
    if term is None:
        return
    t = doc.contract.term(term)
    if t is None:
        known = ", ".join(x.id for x in doc.contract.terms) or "none"
        raise WorkbenchError(f"contract {contract!r} has no term {term!r} (terms: {known})")
    kinds = {n.kind for n in needs(t)}
    if kind not in kinds:
        raise WorkbenchError(
            f"term {term!r} ({t.kind}) reads {', '.join(sorted(kinds)) or 'no evidence'}, "
            f"not {kind!r}"
        )


def under_roots(path: str, root: Path, roots: Any) -> Path:
    """`path` resolved under the repository or an evidence root, else an error saying how
    to name its directory as a root on this machine."""
    from workbench.service.evidence import ROOTS_ENV

    try:
        return resolve_snapshot_path(path, root, roots)
    except UnsafePath as exc:
        raise WorkbenchError(
            f"{exc}. Name its directory as an evidence root on this machine: "
            f"`roots = [...]` under [evidence] in your config.toml, or "
            f"${ROOTS_ENV} (docs/evidence.md, 'Evidence roots')"
        ) from None


def pin_table(root: Path, roots: Any, fmt: str, location: Path, version: int | None) -> Any:
    """A table version resolved and hashed, its location and every data file under the
    evidence roots (they stay where they are: tables are never copied into git)."""
    from workbench.evidence import tables

    under_roots(str(location.resolve()), root, roots)
    try:
        return tables.pin(fmt, location.resolve(), version, lambda p: under_roots(p, root, roots))
    except tables.TableError as exc:  # "missing: " is the run's status word, not the user's
        raise WorkbenchError(str(exc).removeprefix("missing: ")) from None


def name_taken(holder: Snapshot) -> str:
    """Why `evidence add --name` is refused when another snapshot holds the name: which
    one (its bytes and when and by whom it was registered) and how to move the name."""
    from workbench.model.safe_text import line

    target = line(holder.contract or "repository-wide") + (
        f" / {line(holder.term)}" if holder.term else ""
    )
    when = (
        f"{holder.registered_at:%Y-%m-%d %H:%MZ}" if holder.registered_at else "at an unknown time"
    )
    by = f" by {line(holder.registered_by)}" if holder.registered_by else ""
    return (
        f"snapshot name {line(holder.name or '')!r} is held by {holder.id} (sha256 "
        f"{holder.sha256[:16]}…, {holder.kind} for {target}, captured "
        f"{holder.captured_at:%Y-%m-%d %H:%MZ}, registered {when}{by}); to point the name at "
        "this file instead, run the command again with --replace (the earlier snapshot stays "
        "registered under its id)"
    )


def name_holder(
    name: str | None,
    replace: bool,
    manifests: tuple[Manifest, Manifest],
    registrations: Registrations,
    person: str,
) -> Snapshot | None:
    """The snapshot that holds `name` now (None: free) in the selection or the legacy
    manifest, refused unless `replace` confirms that the name is to move to the file being
    registered, and unless `person` may register for the holder's contract (the rule
    `decide_registrations` applies to the record, asked up front)."""
    if replace and name is None:
        raise WorkbenchError("--replace needs --name: it moves a name to this file")
    holder = next((h for m in manifests if name and (h := m.resolve(name))), None)
    if holder is None:
        return None
    if not replace:
        raise WorkbenchError(name_taken(holder))
    why = registrations.authority_problem(person, holder.contract)
    if why is not None:
        raise WorkbenchError(f"--replace: the name is {holder.id}'s, and {why}")
    return holder
