"""VERIFY.sh's section 6: shipped evidence snapshot files against the sha256 bundle.json
lists, tables' data-file listings likewise (each in its one written form, its version a
number), no evidence file that is not listed, each listed sha256 registered by a signed
registration in the bundle, and how many were left out (hash only). Whether a registration
counts (authority, withdrawals, names taken) and the TOML manifest are ``verify-bundle``'s:
VERIFY.sh says WARN for them (docs/audit.md, *Limits*)."""

EVIDENCE_SH = r"""# --- 6. evidence --------------------------------------------------------------------------------
nev=0
bad_inc=$(bj included "$BJ_INCLUDED")
if [ -n "$bad_inc" ]; then fail "evidence: $bad_inc: included is not true or false"; fi
bj evidence "$BJ_EVIDENCE" >"$W/evidence.sums"
if [ -s "$W/evidence.sums" ]; then
    if sha256sum -c --quiet --strict "$W/evidence.sums" >/dev/null 2>&1; then
        nev=$(wc -l <"$W/evidence.sums" | tr -d ' ')
        ok "$nev evidence snapshot file(s) match the sha256 bundle.json lists"
    else
        fail "an evidence snapshot file does not match its registered sha256"
    fi
fi
# Nothing under evidence/ but the manifest, the registrations and what the list ships.
bj shipped "$BJ_SHIPPED" | sort -u >"$W/ev.listed"
grep '^evidence/' "$W/have" | grep -v -e '^evidence/manifest\.toml$' -e '^evidence/registrations/' >"$W/ev.have" || :
awk 'NR == FNR { listed[$0] = 1; next } !($0 in listed)' "$W/ev.listed" "$W/ev.have" >"$W/ev.stray"
while IFS= read -r stray; do
    fail "$stray: evidence file not listed as included"
done <"$W/ev.stray"
# A table (Delta version, Iceberg snapshot id): its rows stay where they are; the bundle
# carries its data-file listing (every file's path, size and sha256), whose sha256 is the one
# registered for the snapshot, written in its one pretty form (jq -a --indent 1). A version
# is a number, or past 2^53 (an Iceberg snapshot id: 63 bits, beyond what jq reads exactly)
# its decimal digits as a string; never both forms of one version.
bj tables "$BJ_TABLES" >"$W/tables"
ntab=0
while read -r sid ssha lst tver; do
    case $sid in '' | *[!a-z0-9._-]*)
        fail "evidence: a table snapshot id that is not an id"
        continue ;;
    esac
    if [ "$tver" = "?" ]; then
        fail "$sid: bundle.json names no table format and version (a string and a number)"
    elif [ "$lst" != "evidence/tables/$sid.json" ] || [ ! -f "$lst" ]; then
        fail "$sid: a table without its data-file listing (evidence/tables/$sid.json)"
    elif [ "$(sha "$lst")" != "$ssha" ]; then
        fail "$lst: does not match its registered sha256"
    elif ! tr -cd '\000' <"$lst" | cmp -s - /dev/null \
        || ! jq -an --indent 1 --slurpfile v "./$lst" "$JSON_FORM"'
            if ($v | length) == 1 and ($v[0] | one_form) then $v[0] else error("not in its form") end' \
            2>/dev/null | cmp -s - "$lst"; then
        fail "$lst: not one JSON value in its one written form (jq -a --indent 1); verify-bundle refuses it too"
    elif [ "$(j "$lst" 'if (.format | type) == "string" and ((.version | type) == "number" or ((.version | type) == "string" and (.version | test("^[0-9]{16,19}$"))
        and ((.version | length) > 16 or .version > "9007199254740991"))) then "\(.format)@\(.version)" else "?" end')" != "$tver" ]; then
        fail "$lst: lists another table or version than bundle.json names ($tver)"
    else
        ntab=$((ntab + 1))
    fi
done <"$W/tables"
if [ "$ntab" -gt 0 ]; then ok "$ntab table version(s) pinned by their data-file listing (file hashes) as registered"; fi
# Each listed sha256 is one a signed registration in the bundle registers for that snapshot
# (its [facts] sha256, read by toml.awk; section 5 checked the registration's signature).
bj registered "$BJ_REGISTERED" >"$W/ev.registered"
nreg=0
while read -r sid ssha; do
    case $sid in '' | *[!a-z0-9._-]*) continue ;; esac
    found=0
    unread=""
    for r in evidence/registrations/"$sid"/*.register.toml; do
        [ -f "$r" ] || continue
        if ! awk -v want="facts.sha256=s" -f "$W/toml.awk" "$r" >"$W/reg.facts" 2>/dev/null; then
            unread="$r: $(awk -F '\t' '$1 == "ERROR" { print $2; exit }' "$W/reg.facts")"
            continue
        fi
        if awk -F '\t' -v s="$ssha" '$1 == "V" && $4 == s { f = 1 } END { exit !f }' "$W/reg.facts"; then found=1; fi
    done
    if [ "$found" = 1 ]; then
        nreg=$((nreg + 1))
    elif [ -n "$unread" ]; then
        fail "cannot read the registration $unread (not in the plain layout VERIFY.sh reads); use workbench verify-bundle"
    else
        fail "$sid: no signed registration in the bundle registers sha256 $ssha"
    fi
done <"$W/ev.registered"
if [ "$nreg" -gt 0 ]; then
    ok "$nreg listed evidence snapshot(s) each registered with that sha256 by a signed registration"
    warn "evidence: whether each registration counts (its signer's authority over the contract, withdrawals, names taken) and evidence/manifest.toml are verify-bundle's to judge"
fi
left=$(bj left "$BJ_LEFT")
if [ "$left" != 0 ]; then note "$left evidence snapshot(s) not shipped: only their sha256 and metadata are in bundle.json"; fi

"""
