"""VERIFY.sh's section 6: shipped evidence snapshot files against the sha256 the manifest
registers, and how many were left out (hash only)."""

EVIDENCE_SH = r"""# --- 6. evidence --------------------------------------------------------------------------------
nev=0
j bundle.json '.evidence.snapshots[] | select(.included) | "\(.sha256)  \(.path)"' >"$W/evidence.sums"
if [ -s "$W/evidence.sums" ]; then
    if sha256sum -c --quiet --strict "$W/evidence.sums" >/dev/null 2>&1; then
        nev=$(wc -l <"$W/evidence.sums" | tr -d ' ')
        ok "$nev evidence snapshot file(s) match the sha256 registered in the evidence manifest"
    else
        fail "an evidence snapshot file does not match its registered sha256"
    fi
fi
left=$(j bundle.json '[.evidence.snapshots[] | select(.included | not)] | length')
if [ "$left" != 0 ]; then note "$left evidence snapshot(s) not shipped: only their sha256 and metadata are in bundle.json"; fi

"""
