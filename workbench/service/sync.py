"""`workbench sync`: fetch, verify what came in, merge, push; and say what moved.

Order (docs/sync.md):

1. the checked-out branch must be writable (no merge or rebase half-way through);
2. `git fetch` of the upstream branch into a private ref (`repo.remote`);
3. an in-memory merge with the local branch (`repo.integrate.plan`): nothing, a
   fast-forward, a merge commit (built, signed, on no branch yet) or conflicts;
4. **verification before anything points at it**: the history that would be accepted (the
   fetched head, or the merge commit) is judged in a scratch view whose HEAD is that commit
   (`repo.scratch`), by the same `wb.signing.verdict_set` as `verify`: the registry
   chain and its history, the contracts' statement histories and the pinned trust root.
   Anything it has that the local branch has not (`governance.sync_summary.refusals`)
   refuses the sync: nothing is merged, nothing pushed, exit 1. A remote branch that
   shares no history with the local one is refused too;
5. the branch advances (working tree first, never over uncommitted changes; then a
   compare-and-swap), or, on conflicts, the clone is left mid-merge with the conflicts
   named and nothing pushed;
6. `git push` (fast-forward only; when the remote moved meanwhile, the whole sync runs
   again, up to three times);
7. the summary: records that came in and went out, verdicts that changed, notices now
   waiting for the acting person, violations opened or closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.repo import layout
from workbench.service.errors import WorkbenchError, WriteRefused

if TYPE_CHECKING:
    from workbench.evidence.manifest_merge import ManifestMerge
    from workbench.governance.sync_summary import Picture, SyncSummary
    from workbench.repo.integrate import MergePlan, Resolver
    from workbench.repo.merge_state import Upstream
    from workbench.service.core import Workbench
    from workbench.signing.keys import Signer

Progress = Callable[[str, int, int], None]
Cancel = Callable[[], bool]
ATTEMPTS = 3


class SyncCancelled(WorkbenchError):
    """The person stopped the sync before anything changed."""


@dataclass
class SyncConflict:
    path: str
    advice: str


@dataclass
class SyncReport:
    remote: str
    branch: str
    url: str
    dry_run: bool
    outcome: str = ""  # one line: what happened (or would)
    before: str | None = None
    after: str | None = None
    incoming: str | None = None  # the fetched head
    merge_commit: str | None = None
    pushed: bool = False
    refusals: list[str] = field(default_factory=list)
    conflicts: list[SyncConflict] = field(default_factory=list)
    summary: SyncSummary | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refusals and not self.conflicts

    def to_json(self) -> dict[str, object]:
        return {
            "remote": self.remote,
            "branch": self.branch,
            "url": self.url,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "outcome": self.outcome,
            "before": self.before,
            "after": self.after,
            "incoming": self.incoming,
            "merge_commit": self.merge_commit,
            "pushed": self.pushed,
            "refused": self.refusals,
            "conflicts": [{"path": c.path, "advice": c.advice} for c in self.conflicts],
            "summary": self.summary.to_json() if self.summary else None,
            "notes": self.notes,
        }


class SyncService:
    def __init__(self, wb: Workbench) -> None:
        self.wb = wb

    # -- where -----------------------------------------------------------------------------
    def upstream(self, remote: str | None = None) -> Upstream:
        from workbench.repo.merge_state import current_branch, upstream_of

        repo = self.wb.git.repo
        names = [n for n in repo.remotes.names() if n is not None]
        if remote is not None and remote not in names:
            known = ", ".join(names) or "none"
            raise WorkbenchError(
                f"no remote {remote!r} in this clone (remotes: {known}); add one with "
                f"`git remote add {remote} URL`"
            )
        branch = current_branch(repo)
        if branch is None:
            raise WriteRefused(
                "HEAD is not on a branch: sync works on the checked-out branch; "
                "`git switch main` first"
            )
        found = upstream_of(repo, branch, remote)
        if found is None:
            raise WorkbenchError(
                f"{branch} has no upstream and this clone has no remote 'origin': add one with "
                "`git remote add origin URL`, or name it: `workbench sync --remote NAME`"
            )
        return found

    # -- the sync --------------------------------------------------------------------------
    def run(
        self,
        remote: str | None = None,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
        interactive: bool = True,
        signer: Signer | None = None,
    ) -> SyncReport:
        from workbench.repo import merge_driver
        from workbench.repo import remote as transport
        from workbench.repo.branch import writable_branch

        wb = self.wb
        self._signer = signer  # signs the merge commit (the app's unlocked key)
        if not dry_run:
            wb.require_writable("sync (use --dry-run to see what would happen)")
        repo = wb.git.repo
        writable_branch(repo)
        up = self.upstream(remote)
        report = SyncReport(
            up.remote,
            up.branch,
            transport.display_url(repo.remotes[up.remote].url or ""),
            dry_run,
        )
        if not dry_run:
            merge_driver.install(wb.root)
        report.notes += self._trust_notes()
        say = progress or (lambda _stage, _done, _total: None)
        try:
            for attempt in range(ATTEMPTS):
                if self._attempt(report, up, say, cancel, interactive):
                    return report
                report.notes.append(
                    f"{up.name} moved while syncing (attempt {attempt + 1}); syncing again"
                )
            raise WorkbenchError(
                f"{up.name} kept moving ({ATTEMPTS} attempts): your merge is committed "
                "locally; run `workbench sync` again in a moment to push it"
            )
        except transport.TransportCancelled as exc:
            raise SyncCancelled(str(exc)) from exc

    def _attempt(
        self,
        report: SyncReport,
        up: Upstream,
        say: Progress,
        cancel: Cancel | None,
        interactive: bool,
    ) -> bool:
        """One fetch-verify-merge-push; False when the push lost a race (try again)."""

        def stop() -> None:
            if cancel is not None and cancel():
                raise SyncCancelled("sync cancelled: nothing was changed")

        merge = self._fetch_and_plan(report, up, say, cancel, interactive)
        stop()
        if merge is None:
            return True  # refused: unrelated history
        pictures = self._verify(report, up, merge, say)
        if pictures is None:
            return True  # refused: the incoming history does not verify
        stop()
        ours, theirs = merge.ours, report.incoming
        final = ours if merge.kind == "conflicts" else (merge.target or report.merge_commit or ours)
        self._summarise(report, merge, *pictures)
        if report.dry_run:
            report.outcome = _would(merge, up)
            report.conflicts = [SyncConflict(p, _advice(p)) for p in merge.conflicts]
            return True
        # -- from here on, the clone changes ---------------------------------------------
        if merge.kind == "conflicts":
            self._start_conflicted(report, up, merge)
            return True
        self._advance(report, up, merge, say)
        report.after = final
        if final == theirs:
            report.outcome = (
                f"fast-forward to {up.name} ({len(merge.incoming)} commit(s))"
                if merge.kind == "fast-forward"
                else f"up to date with {up.name}"
            )
            return True
        return self._push(report, up, merge, final, say, cancel, interactive)

    def _fetch_and_plan(
        self,
        report: SyncReport,
        up: Upstream,
        say: Progress,
        cancel: Cancel | None,
        interactive: bool,
    ) -> MergePlan | None:
        """Fetch into the private ref and plan the merge in memory; None when refused (the
        remote shares no history with the branch)."""
        from workbench.repo import integrate
        from workbench.repo import remote as transport

        wb = self.wb
        repo = wb.git.repo
        say("fetching", 0, 1)
        theirs = transport.fetch(
            wb.root, up.remote, up.branch, progress=say, cancel=cancel, interactive=interactive
        )
        ours = wb.git.head_id()
        if ours is None:
            raise WorkbenchError("this clone has no commit yet: nothing to sync")
        report.before, report.incoming = ours, theirs
        if theirs is None:
            return integrate.MergePlan("ahead", ours, ours, [], _all_commits(repo, ours))
        merge = integrate.plan(repo, ours, theirs, self._resolvers())
        if merge.kind != "unrelated":
            return merge
        report.refusals.append(
            f"{up.name} shares no history with your {up.branch}: it is another repository, "
            "or a wholly replaced history. Nothing was merged. Check the remote "
            f"(`git log {transport.incoming_ref(up.remote, up.branch)}`)"
        )
        report.outcome = "refused: unrelated history"
        return None

    def _verify(
        self, report: SyncReport, up: Upstream, merge: MergePlan, say: Progress
    ) -> tuple[Picture | None, Picture | None] | None:
        """The pictures of HEAD and of the history that would be accepted; None (and the
        refusals in the report) when that history has problems HEAD has not."""
        from workbench.governance.sync_summary import refusals
        from workbench.repo.remote import incoming_ref

        say("verifying", 0, 1)
        candidate = self._candidate(merge, report)
        if candidate is None:
            say("verifying", 1, 1)
            return None, None
        before, after = self.picture(None), self.picture(candidate)
        report.refusals = refusals(before, after)
        if report.refusals:
            held = incoming_ref(up.remote, up.branch)
            report.outcome = (
                f"refused: what {up.name} holds does not verify; nothing was merged or pushed"
            )
            report.notes.append(
                f"the fetched history is kept for inspection at {held} "
                f"(`git log -p {up.branch}..{held}`)"
            )
            return None
        say("verifying", 1, 1)
        return before, after

    def _summarise(
        self, report: SyncReport, merge: MergePlan, before: Picture | None, after: Picture | None
    ) -> None:
        from workbench.governance.sync_summary import summarise

        repo = self.wb.git.repo
        ours, theirs = merge.ours, report.incoming
        base = _merge_base(repo, ours, theirs)
        pushes = {"ahead": len(merge.outgoing), "merge": len(merge.outgoing) + 1}
        report.summary = summarise(
            before or after or _empty(),
            after or before or _empty(),
            _changed(repo, base, theirs) if merge.incoming else [],
            _changed(repo, base, ours) if merge.kind in ("ahead", "merge") else [],
            len(merge.incoming),
            pushes.get(merge.kind, 0),
            _changed(repo, base, theirs, deleted=True) if merge.incoming else [],
        )

    def _start_conflicted(self, report: SyncReport, up: Upstream, merge: MergePlan) -> None:
        """Leave the clone mid-merge with the conflicts named; nothing is pushed."""
        from workbench.repo import integrate

        assert report.incoming is not None
        self._track(up, report.incoming)
        left = integrate.start_merge(
            self.wb.git.repo,
            self.wb.git.local_dir,
            merge.ours,
            up.tracking,
            self._resolvers(),
            self._merge_message(up, merge),
        )
        report.conflicts = [SyncConflict(p, _advice(p)) for p in left]
        report.outcome = (
            f"merge of {up.name} started with {len(left)} conflict(s); nothing was pushed. "
            "Resolve them (the app shows both sides), commit, then sync again"
        )
        report.after = merge.ours

    def _advance(self, report: SyncReport, up: Upstream, merge: MergePlan, say: Progress) -> None:
        """Move the branch to the fetched head or the merge commit; track what came in."""
        from workbench.repo import integrate

        if merge.kind in ("fast-forward", "merge"):
            say("merging", 0, 1)
            new = merge.theirs if merge.kind == "fast-forward" else report.merge_commit
            assert new is not None
            integrate.advance(
                self.wb.git.repo,
                self.wb.git.local_dir,
                merge.ours,
                new,
                f"workbench sync: {up.name}",
            )
            say("merging", 1, 1)
        if report.incoming is not None:
            self._track(up, report.incoming)
            self._forget_incoming(up)

    def _push(
        self,
        report: SyncReport,
        up: Upstream,
        merge: MergePlan,
        final: str,
        say: Progress,
        cancel: Cancel | None,
        interactive: bool,
    ) -> bool:
        """Push `final` as a fast-forward; False when the remote moved meanwhile."""
        from workbench.repo import remote as transport

        say("pushing", 0, 1)
        try:
            transport.push(
                self.wb.root,
                up.remote,
                final,
                up.branch,
                progress=say,
                cancel=cancel,
                interactive=interactive,
            )
        except transport.PushRejected:
            report.merge_commit = None
            return False
        except transport.TransportCancelled as exc:
            raise SyncCancelled(
                f"{exc}; your branch is merged locally but may not have reached {up.name}: "
                "run `workbench sync` again"
            ) from exc
        except transport.TransportError:
            # A remote that moved under the push can also say "failed to update ref" (its
            # own compare-and-swap): if it moved, sync again; any other failure is reported.
            now = transport.fetch(self.wb.root, up.remote, up.branch, interactive=interactive)
            if now != report.incoming:
                report.merge_commit = None
                return False
            raise
        report.pushed = True
        self._track(up, final)
        say("pushing", 1, 1)
        done = {"ahead": "pushed", "merge": "merged and pushed", "fast-forward": "pushed"}
        report.outcome = f"{done.get(merge.kind, 'pushed')}: {up.name} is now {final[:8]}"
        return True

    # -- pieces ----------------------------------------------------------------------------
    def _trust_notes(self) -> list[str]:
        """As `verify` says it: without a pinned root, a wholly replaced registry that
        shares history with this clone cannot be told from the genuine one."""
        from workbench.signing.trust import TrustRootError, pinned_source

        wb = self.wb
        try:
            pinned, _source = pinned_source(
                wb.trust_root, wb.root / layout.LOCAL_DIR / "trust-root"
            )
        except TrustRootError as exc:
            raise WorkbenchError(str(exc)) from exc
        if pinned is not None:
            return []
        return [
            "trust root NOT pinned: the incoming registry is checked against its own history "
            "only; pin the root you got out of band (`workbench registry root --pin`, "
            "--root or $WORKBENCH_TRUST_ROOT)"
        ]

    def _resolvers(self) -> dict[str, Resolver]:
        from workbench.evidence.manifest import MANIFEST_PATH
        from workbench.evidence.manifest_merge import merge_manifests

        def manifest(_path: str, base: bytes | None, ours: bytes, theirs: bytes) -> bytes | None:
            try:
                merged = merge_manifests(
                    None if base is None else base.decode("utf-8"),
                    ours.decode("utf-8"),
                    theirs.decode("utf-8"),
                )
            except UnicodeDecodeError:
                return None
            return merged.text.encode("utf-8") if merged is not None and merged.clean else None

        return {MANIFEST_PATH: manifest}

    def _candidate(self, merge: MergePlan, report: SyncReport) -> str | None:
        """The commit whose history would be accepted: None when nothing comes in."""
        from workbench.repo import integrate

        if merge.kind in ("up-to-date", "ahead"):
            return None
        if merge.kind in ("fast-forward", "conflicts"):
            return merge.theirs
        try:
            author, signer = self._author()
        except WorkbenchError:
            if not report.dry_run:
                raise
            author, signer = ("workbench sync --dry-run", "nobody@invalid"), None
        report.merge_commit = integrate.merge_commit(
            self.wb.git.repo,
            merge,
            self._merge_message_for(report, merge),
            author,
            None if report.dry_run else self.wb.record_time(),
            None if report.dry_run else signer,
        )
        return report.merge_commit

    def _merge_message_for(self, report: SyncReport, merge: MergePlan) -> str:
        from workbench.repo.merge_state import Upstream

        up = Upstream(report.remote, report.branch, "", False)
        return self._merge_message(up, merge)

    def _merge_message(self, up: Upstream, merge: MergePlan) -> str:
        repo = self.wb.git.repo
        import pygit2

        def commit(oid: str) -> pygit2.Commit:
            return repo[oid].peel(pygit2.Commit)

        authors = sorted({commit(c).author.name for c in merge.incoming[:200]})
        who = ", ".join(authors[:5]) + (f" and {len(authors) - 5} more" if len(authors) > 5 else "")
        lines = [f"Sync with {up.name}: merge {len(merge.incoming)} commit(s) by {who}", ""]
        for c in merge.incoming[:20]:
            message = commit(c).message
            lines.append(f"* {c[:8]} {message.splitlines()[0] if message else ''}")
        if len(merge.incoming) > 20:
            lines.append(f"* ... and {len(merge.incoming) - 20} more")
        if merge.resolved:
            lines += ["", "Merged by the workbench: " + ", ".join(merge.resolved)]
        return "\n".join(lines) + "\n"

    def _author(self) -> tuple[tuple[str, str], Callable[[bytes], str] | None]:
        """Who makes the merge commit: the acting person (signed with their key, like every
        workbench commit); else git's user.name and user.email, unsigned."""
        wb = self.wb
        try:
            actor = wb.actor()
        except WorkbenchError:
            actor = None
        if actor is not None:
            return (actor.name, actor.email), wb.signing.keys.commit_signer(
                actor, getattr(self, "_signer", None)
            )
        config = wb.git.repo.config
        try:
            return (str(config["user.name"]), str(config["user.email"])), None
        except KeyError:
            raise WorkbenchError(
                "a merge commit needs an author: say who you are (`--as PERSON`, "
                "$WORKBENCH_PERSON) or set git's user.name and user.email"
            ) from None

    def _track(self, up: Upstream, commit: str) -> None:
        """Point the remote-tracking ref at what was accepted (for ahead/behind)."""
        import pygit2

        self.wb.git.repo.create_reference_direct(
            up.tracking, pygit2.Oid(hex=commit), True, message="workbench sync"
        )

    def _forget_incoming(self, up: Upstream) -> None:
        from workbench.repo.remote import incoming_ref

        ref = self.wb.git.repo.references.get(incoming_ref(up.remote, up.branch))
        if ref is not None:
            ref.delete()

    # -- pictures ---------------------------------------------------------------------------
    def picture(self, commit: str | None) -> Picture:
        """The state at `commit` (None: this clone's HEAD) as `governance.sync_summary`
        compares it. Another commit is judged in a scratch view whose HEAD it is, so that
        every history check walks exactly the history that would be accepted."""
        wb = self.wb
        if commit is None:
            return _picture(wb.committed_view(), self._person())
        from workbench.repo.scratch import scratch_view
        from workbench.service.core import Workbench
        from workbench.signing.trust import TrustRootError, pinned_source

        try:
            pinned, _source = pinned_source(
                wb.trust_root, wb.root / layout.LOCAL_DIR / "trust-root"
            )
        except TrustRootError as exc:
            raise WorkbenchError(str(exc)) from exc
        with scratch_view(wb.git.repo, commit, layout.SETTINGS) as folder:
            view = Workbench(
                folder,
                now=None if wb.clock_is_real else wb.now,
                readonly=True,
                actor=self._person(),
                hold_worktree=True,
                trust_root=pinned,
                committed=True,
            )
            return _picture(view, self._person())

    def _person(self) -> str | None:
        try:
            return self.wb.actor().id
        except WorkbenchError:
            return None


def _picture(view: Workbench, person: str | None) -> Picture:
    from workbench.governance.sync_summary import Picture

    try:
        found = view.signing.verdict_set("HEAD")
    except WorkbenchError as exc:
        return Picture(registry_problems=(f"cannot verify: {exc}",))
    verdicts = {v.contract_id: (v.state, v.reason) for v in found.verdicts}
    problems = tuple(dict.fromkeys([*found.registry.problems, *found.trust.problems]))
    waiting: dict[str, str] = {}
    opened: dict[str, str] = {}
    if person is not None:
        try:
            for notice in view.obligations.notices.statuses(pending_only=True):
                for req in notice.requirements:
                    if req.person == person and req.open:
                        waiting[f"{notice.contract}@{notice.short}"] = (
                            f"{notice.id} ({notice.short}) {req.describe()}"
                        )
        except WorkbenchError:
            pass
    try:
        for v in view.evidence.open_now():
            opened[v.id] = f"{v.contract} / {v.term} ({v.worst_status})"
    except WorkbenchError:
        pass
    return Picture(verdicts, problems, waiting, opened)


def _empty() -> Picture:
    from workbench.governance.sync_summary import Picture

    return Picture()


def _range(repo, tip: str | None, hide: str | None) -> list[str]:  # type: ignore[no-untyped-def]
    import pygit2

    if tip is None:
        return []
    walker = repo.walk(pygit2.Oid(hex=tip), pygit2.enums.SortMode.TOPOLOGICAL)
    if hide is not None:
        walker.hide(pygit2.Oid(hex=hide))
    return [str(c.id) for c in walker]


def _all_commits(repo, tip: str) -> list[str]:  # type: ignore[no-untyped-def]
    return _range(repo, tip, None)


def _changed(repo, old: str | None, new: str | None, *, deleted: bool = False) -> list[str]:  # type: ignore[no-untyped-def]
    """Paths added or changed from commit `old` to commit `new` (or, with `deleted`, the
    paths it removed)."""
    import pygit2

    if new is None or old == new:
        return []
    new_tree = repo[pygit2.Oid(hex=new)].peel(pygit2.Commit).tree
    if old is None:
        return [] if deleted else sorted(_paths(repo, new_tree, ""))
    old_tree = repo[pygit2.Oid(hex=old)].peel(pygit2.Commit).tree
    out = []
    for delta in old_tree.diff_to_tree(new_tree).deltas:
        if (delta.status == pygit2.enums.DeltaStatus.DELETED) == deleted:
            out.append(delta.old_file.path if deleted else delta.new_file.path)
    return sorted(out)


def _paths(repo, tree, prefix: str) -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    for entry in tree:
        if entry.type_str == "tree":
            out += _paths(repo, repo[entry.id], f"{prefix}{entry.name}/")
        else:
            out.append(prefix + entry.name)
    return out


def _merge_base(repo, ours: str, theirs: str | None) -> str | None:  # type: ignore[no-untyped-def]
    import pygit2

    if theirs is None:
        return None
    base = repo.merge_base(pygit2.Oid(hex=ours), pygit2.Oid(hex=theirs))
    return None if base is None else str(base)


def _would(merge: MergePlan, up: Upstream) -> str:
    n_in, n_out = len(merge.incoming), len(merge.outgoing)
    return {
        "up-to-date": f"dry run: up to date with {up.name}; nothing to do",
        "ahead": f"dry run: would push {n_out} commit(s) to {up.name}",
        "fast-forward": f"dry run: would fast-forward to {up.name} ({n_in} commit(s))",
        "merge": f"dry run: would merge {n_in} commit(s) of {up.name} and push {n_out + 1}",
        "conflicts": (
            f"dry run: merging {up.name} would conflict in {len(merge.conflicts)} file(s); "
            "nothing would be pushed"
        ),
    }.get(merge.kind, merge.kind)


def _advice(path: str) -> str:
    from workbench.governance.sync_summary import conflict_advice

    return conflict_advice(path)


# -- the evidence manifest's merge driver (the CLI's `merge-driver`, run by git) -----------


def install_merge_driver(root: Path) -> bool:
    """Register the manifest's merge driver in the clone at `root` (True: something
    changed). See `workbench.repo.merge_driver`."""
    from workbench.repo.merge_driver import install

    return install(root)


def merge_manifest_texts(base: str | None, ours: str, theirs: str) -> ManifestMerge | None:
    """The manifest's three-way merge by snapshot id (`evidence.manifest_merge`)."""
    from workbench.evidence.manifest_merge import merge_manifests

    return merge_manifests(base, ours, theirs)
