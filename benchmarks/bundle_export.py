"""Benchmark: `workbench export-bundle` and `workbench verify-bundle` as whole processes on an
organisation with signatures, findings runs and history: peak RSS and CPU seconds (issue 18:
export at 5,000 contracts was 1.69 GiB peak RSS; target ≤ 1 GiB).

    python -m benchmarks.bundle_export --contracts 5000 --repeat 2 --keep DIR
    python -m benchmarks.bundle_export --again DIR --repeat 2                # re-measure
    python -m benchmarks.bundle_export --again DIR --repeat 2 --code BASE    # older code

The organisation is `benchmarks.gate_verify`'s (`generate.py`, 2,000 commits; a signed key
registry and every contract co-signed by both leads; three signed daily findings runs with
their violation ledger; per contract a signed clock start and two signed delivery records),
plus an exporter: a person `audit.bench` whose key registry v1 lists and whom the signed
policy's `[export] exporters` names, as an organisation authorises the person who signs its
audit bundles (docs/audit.md, "Who may export"). The key is kept in
`.git/bench-exporter-key` so `--again` can sign with it.

Each round copies the organisation (the export records its snapshot in `exports/`, one
commit, as a user's export does, so it runs at the real time: `--now` is refused for a
command that records) and times `workbench --as audit.bench export-bundle --key KEY --out
B`, then `workbench verify-bundle B --root R` with the registry root pinned, each a fresh
process. Figures: the child's peak RSS (getrusage
`ru_maxrss`) and CPU seconds (user + system), which on a shared machine move less than the
wall time; the 1-minute load average is printed beside them.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization

import workbench
from benchmarks import gate_verify
from benchmarks.gate_history import _env
from benchmarks.sign_org import EXPORTER_KEYS

EXPORTER = "audit.bench"
KEY_FILE = "bench-exporter-key"


def build(root: Path, contracts: int, commits: int) -> None:
    gate_verify.build(root, contracts, commits, exporter=EXPORTER)
    key = EXPORTER_KEYS[EXPORTER].private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    path = root / ".git" / KEY_FILE
    path.write_bytes(key)
    path.chmod(0o600)


def _workbench(args: list[str], cwd: Path) -> str:
    path = [*gate_verify.CODE, str(Path(__file__).resolve().parent.parent)]
    out = subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**_env(), "PYTHONPATH": os.pathsep.join(path)},
    )
    if out.returncode != 0:
        raise SystemExit(f"workbench {' '.join(args)}: {out.returncode}\n{out.stderr[-2000:]}")
    return out.stdout


def measure(root: Path, repeat: int, work: Path) -> dict[str, object]:
    key = root / ".git" / KEY_FILE
    trust_root = _workbench(["registry", "root"], root).split()[0]
    rows: dict[str, dict[str, list[float]]] = {
        name: {"wall": [], "rss": [], "cpu": []} for name in ("export-bundle", "verify-bundle")
    }
    loads: list[float] = []
    size = 0
    for i in range(repeat):
        clone = work / f"org-{i}"
        subprocess.run(["cp", "-a", str(root), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "update-index", "-q", "--refresh"])
        bundle = work / f"bundle-{i}.tar.gz"
        export = [sys.executable, "-m", "workbench", "--as", EXPORTER]
        export += ["export-bundle", "--key", str(key), "--out", str(bundle)]
        verify = [sys.executable, "-m", "workbench", "verify-bundle"]
        verify += [str(bundle), "--root", trust_root]
        for name, cmd in (("export-bundle", export), ("verify-bundle", verify)):
            wall, rss, cpu = gate_verify.timed(cmd, clone)
            rows[name]["wall"].append(wall)
            rows[name]["rss"].append(rss)
            rows[name]["cpu"].append(cpu)
            if name == "export-bundle" and not bundle.exists():
                raise SystemExit("export-bundle wrote no bundle (run it by hand to see why)")
        size = bundle.stat().st_size
        loads.append(os.getloadavg()[0])
        shutil.rmtree(clone, ignore_errors=True)
        bundle.unlink(missing_ok=True)
    out: dict[str, object] = {
        name: {
            "wall_median_s": round(statistics.median(r["wall"]), 2),
            "cpu_median_s": round(statistics.median(r["cpu"]), 2),
            "cpu_min_s": round(min(r["cpu"]), 2),
            "peak_rss_mib": round(max(r["rss"])),
        }
        for name, r in rows.items()
    }
    out["bundle_mib"] = round(size / (1 << 20), 1)
    out["load"] = {"min": round(min(loads), 1), "max": round(max(loads), 1)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contracts", type=int, default=5000)
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="build the organisation here and keep it")
    parser.add_argument("--again", type=Path, metavar="DIR", help="measure a kept organisation")
    parser.add_argument("--code", type=Path, help="import workbench from DIR/workbench")
    args = parser.parse_args()
    if args.code:
        gate_verify.CODE.append(str(args.code.resolve()))
        compileall.compile_dir(args.code / "workbench", quiet=1)
    compileall.compile_dir(Path(workbench.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.again or args.keep or Path(tmp) / "org"
        if not args.again:
            t0 = time.perf_counter()
            build(root, args.contracts, args.commits)
            print(
                f"built {args.contracts} contracts in {time.perf_counter() - t0:.0f} s", flush=True
            )
        print(json.dumps(measure(root, args.repeat, Path(tmp)), indent=1), flush=True)


if __name__ == "__main__":
    main()
