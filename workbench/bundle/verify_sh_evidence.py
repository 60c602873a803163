"""VERIFY.sh's section 6: shipped evidence snapshot files against the sha256 the manifest
registers, tables' data-file listings likewise, and how many were left out (hash only)."""

EVIDENCE_SH = r"""# --- 6. evidence --------------------------------------------------------------------------------
nev=0
bj evidence "$BJ_EVIDENCE" >"$W/evidence.sums"
if [ -s "$W/evidence.sums" ]; then
    if sha256sum -c --quiet --strict "$W/evidence.sums" >/dev/null 2>&1; then
        nev=$(wc -l <"$W/evidence.sums" | tr -d ' ')
        ok "$nev evidence snapshot file(s) match the sha256 registered in the evidence manifest"
    else
        fail "an evidence snapshot file does not match its registered sha256"
    fi
fi
# A table (Delta version, Iceberg snapshot id): its rows stay where they are; the bundle
# carries its data-file listing (every file's path, size and sha256), whose sha256 is the one
# registered for the snapshot.
# listed_version LISTING: the version's digits as written (` "version": N` on a line of its
# own, as `evidence add` writes the listing), not through jq's numbers: jq 1.6 rounds an
# Iceberg snapshot id (63 bits) to a double, so two ids would read as one.
listed_version() {
    jq -Rr 'capture("^ \"version\": (?<v>-?[0-9]+)$") | .v' "$1" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'
}
bj tables "$BJ_TABLES" >"$W/tables"
ntab=0
while read -r sid ssha lst tver; do
    case $sid in '' | *[!a-z0-9._-]*)
        fail "evidence: a table snapshot id that is not an id"
        continue ;;
    esac
    if [ "$lst" != "evidence/tables/$sid.json" ] || [ ! -f "$lst" ]; then
        fail "$sid: a table without its data-file listing (evidence/tables/$sid.json)"
    elif [ "$(sha "$lst")" != "$ssha" ]; then
        fail "$lst: does not match its registered sha256"
    elif [ "$(j "$lst" '.format')@$(listed_version "$lst")" != "$tver" ]; then
        fail "$lst: lists another table or version than bundle.json names ($tver)"
    else
        ntab=$((ntab + 1))
    fi
done <"$W/tables"
if [ "$ntab" -gt 0 ]; then ok "$ntab table version(s) pinned by their data-file listing (file hashes) as registered"; fi
left=$(bj left "$BJ_LEFT")
if [ "$left" != 0 ]; then note "$left evidence snapshot(s) not shipped: only their sha256 and metadata are in bundle.json"; fi

"""
