"""The audit-bundle service: export a signed bundle, verify one offline.

One service for the CLI and the TUI (export dialog, bundle viewer):

* ``wb.bundles.export(out, options, signer=..., progress=..., cancel=...)`` streams
  the archive into a temp file beside ``out``, records the snapshot in ``exports/`` (one
  commit) and renames the file over ``out``. ``progress(stage, done, total)`` is called between steps; ``cancel()`` is
  polled at the same points and, when it returns True, the export stops with
  ``BundleCancelled`` before anything is committed or written.
* ``BundleService.verify(path, root=..., previous=..., ...)`` (a static method: it
  needs no repository) returns a ``BundleReport`` with one ``ContractReport`` per
  contract. ``report.ok`` is the exit status.
* ``last_snapshot()`` says which snapshot version the next export will follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.bundle import layout as bl
from workbench.bundle.archive import DEFAULT_LIMITS, BundleCancelled, Limits
from workbench.bundle.export import ExportError, ExportOptions, ExportResult, build_bundle
from workbench.evidence.closures import ClosureInputs
from workbench.evidence.manifest import Manifest
from workbench.service.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.bundle.source import CountingRuns
    from workbench.bundle.verify import BundleReport
    from workbench.model.people import Person
    from workbench.model.state import GovernanceState
    from workbench.repo.git import GitRepo
    from workbench.service.core import Workbench
    from workbench.signing.keys import Signer
    from workbench.signing.registry import RegistryState
    from workbench.signing.verdict import ContractVerdict

__all__ = [
    "BundleCancelled",
    "BundleService",
    "ExportError",
    "ExportOptions",
    "ExportResult",
    "LastSnapshot",
]


def verify_script() -> tuple[str, str]:
    """VERIFY.sh as every bundle carries it, and its sha256 (what an auditor compares)."""
    from workbench.bundle.verify_sh import VERIFY_SH, VERIFY_SH_SHA256

    return VERIFY_SH, VERIFY_SH_SHA256


Progress = Callable[[str, int, int], None]
Cancel = Callable[[], bool]


@dataclass
class LastSnapshot:
    version: int
    sha256: str
    exported_at: str
    expires: str
    exporter: str | None


class BundleService:
    def __init__(self, wb: Workbench) -> None:
        self.wb = wb

    def last_snapshot(self) -> LastSnapshot | None:
        """The latest recorded export at HEAD (None before the first one)."""
        from workbench.signing.statement import SNAPSHOT_PREDICATE, parse_statement, sha256_hex

        if self.wb.git.is_empty:
            return None
        files = self.wb.git.read_files(
            "HEAD", lambda p: p in ("exports/",) or p.startswith("exports/")
        )
        best: tuple[int, bytes] | None = None
        exporters: dict[int, str] = {}
        for path, data in files.items():
            if m := bl.EXPORT_STATEMENT_RE.fullmatch(path):
                if best is None or int(m.group(1)) > best[0]:
                    best = (int(m.group(1)), data)
            elif m := bl.EXPORT_SIG_RE.fullmatch(path):
                exporters[int(m.group(1))] = m.group(2)
        if best is None:
            return None
        pred = parse_statement(best[1], SNAPSHOT_PREDICATE, subjects=None).predicate
        return LastSnapshot(
            best[0], sha256_hex(best[1]), pred.exportedAt, pred.expires, exporters.get(best[0])
        )

    def default_path(self) -> Path:
        """Where a bundle goes when nobody says: beside the repo, never inside it (a bundle
        in the work tree shows up as an untracked file and a careless `git add` commits
        it). The CLI's `export-bundle` and the app's export dialog both use this."""
        root = self.wb.root
        return root.parent / f"{root.name}-audit-{self.wb.now:%Y%m%dT%H%M%SZ}.tar.gz"

    def make_signer(
        self, key_path: Path | None = None, agent: bool = False, passphrase: str | None = None
    ) -> Signer:
        """The acting person's signer (their key file, ``key_path``, or ssh-agent)."""
        return self.wb.signing.keys.make_signer(
            self.wb.actor().id, key_path=key_path, agent=agent, passphrase=passphrase
        )

    def build(
        self,
        options: ExportOptions,
        signer: Signer,
        *,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> ExportResult:
        """The archive in memory; nothing written or committed (``export`` does both)."""
        source = _SessionSource(self.wb)
        return build_bundle(source, options, signer, progress=progress, cancel=cancel)

    def export(
        self,
        out: Path,
        options: ExportOptions | None = None,
        *,
        signer: Signer | None = None,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> ExportResult:
        """Build the archive straight into a temp file beside ``out`` (members spooled
        beside it, never the whole archive in memory), record the snapshot (commit to
        exports/), then rename the file over ``out``. Anything failing or cancelled before
        the rename removes the temp file: ``out`` is never half a bundle, and a bundle
        already there stays as it was."""
        from workbench.repo.atomic import atomic_stream

        options = options or ExportOptions()
        if options.record:
            self.wb.require_writable("record the export snapshot (use --no-record)")
        signer = signer or self.make_signer()
        out = Path(out)
        if out.exists() and out.is_dir():
            raise WorkbenchError(f"{out} is a directory")
        source = _SessionSource(self.wb)
        with atomic_stream(out, mode=0o644) as handle:
            result = build_bundle(
                source,
                options,
                signer,
                target=handle,
                spool_dir=out.parent,
                progress=progress,
                cancel=cancel,
            )
            if cancel is not None and cancel():
                raise BundleCancelled("export cancelled")
            if options.record:
                person = self.wb.actor().id
                changes: dict[str, bytes | None] = {
                    bl.export_statement(result.snapshot_version): result.snapshot,
                    bl.export_sig(result.snapshot_version, person): result.signature,
                    bl.export_heads(result.snapshot_version): result.heads,
                }
                result.commit = self.wb.commit(
                    changes,
                    f"Export audit bundle snapshot v{result.snapshot_version}\n\n"
                    f"Snapshot sha256: {result.snapshot_sha256}\n"
                    f"Archive sha256: {result.sha256}\n"
                    f"Exported at {result.exported_at}, expires {result.expires}.\n",
                    signer=signer,
                )
            if progress is not None:
                progress("writing the archive", 1, 1)
        return result

    @staticmethod
    def verify(
        source: Path | bytes,
        *,
        root: str | None = None,
        trust_bundle_root: bool = False,
        previous: str | bytes | Path | None = None,
        now: datetime | None = None,
        strict: bool = False,
        recompute: bool = False,
        limits: Limits = DEFAULT_LIMITS,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> BundleReport:
        from workbench.bundle.verify import verify_bundle

        return verify_bundle(
            source,
            root=root,
            trust_bundle_root=trust_bundle_root,
            previous=previous,
            now=now,
            strict=strict,
            recompute=recompute,
            limits=limits,
            progress=progress,
            cancel=cancel,
        )


class _SessionSource:
    """A session seen as an export's source (``workbench.bundle.source.ExportSource``):
    each answer from the room that owns it."""

    def __init__(self, wb: Workbench) -> None:
        self._wb = wb
        # Taken once: one export is one decision (the app makes fresh ones per use).
        self._signing = wb.signing
        self._obligations = wb.obligations

    @property
    def git(self) -> GitRepo:
        return self._wb.git

    @property
    def now(self) -> datetime:
        return self._wb.now

    def state(self, rev: str) -> GovernanceState:
        return self._wb.state(rev)

    def files(self, rev: str) -> dict[str, bytes]:
        return self._wb.files(rev)

    def actor(self) -> Person:
        return self._wb.actor()

    def registry_state(self, rev: str, files: dict[str, bytes]) -> RegistryState:
        return self._signing.registry_state(rev, files)  # type: ignore[no-any-return]

    def version_times(self, contract_id: str) -> dict[str, datetime]:
        return self._obligations.records.version_times(contract_id)

    def counting_runs(self, files: dict[str, bytes]) -> CountingRuns:
        from workbench.service.runs import RunBook

        return RunBook(self._wb.evidence, source=files)

    def verdicts(self) -> list[ContractVerdict]:
        return self._signing.verdicts("HEAD")

    def evidence_manifest(self) -> Manifest:
        return self._wb.evidence.manifest("HEAD")

    def closure_inputs(self) -> ClosureInputs:
        return self._wb.evidence.violations.closure_inputs()

    def clock_index(self, seams: set[str]) -> list[dict[str, object]]:
        from workbench.service.clocks import clock_index

        try:
            return clock_index(self._wb, seams)
        finally:
            _collect_views()

    def page_index(self, seams: set[str]) -> dict[str, object]:
        from workbench.service.notify import page_index

        try:
            return page_index(self._wb, seams)
        finally:
            _collect_views()


def _collect_views() -> None:
    """Free the committed view a clock or page index was computed in. Each view is a whole
    session (its own checked state, records, signatures) in reference cycles with its rooms,
    and in a one-shot command (`export-bundle`) `cache_store` freezes the collector's
    generations after every read (`gc.freeze`): a dropped view is then never collected. At 5,000 contracts the two views kept about
    500 MiB for the rest of the export, beside the runs and OSCAL stages. Unfreezing and
    collecting once costs about 0.1 s there; the next cache read freezes again."""
    import gc

    gc.unfreeze()
    gc.collect()
