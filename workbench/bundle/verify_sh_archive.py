"""VERIFY.sh's first two sections (see ``workbench.bundle.verify_sh`` for the whole script and
docs/audit.md for what each check means): 0. the archive, read by the script itself under
the same caps as ``verify-bundle`` (``bundle.archive.DEFAULT_LIMITS``, filled in at
``@MAX_...@``), member names and types checked before extraction; 1. SHA256SUMS over every
extracted file."""

ARCHIVE_SH = r"""# --- 0. the archive: caps, member names and types, then extraction ------------------------
# The same caps as verify-bundle: bytes on disk, inflated bytes (at most MAX_RATIO times the
# compressed size once past RATIO_FLOOR), members. Inflating stops at the cap (head -c).
MAX_COMPRESSED=@MAX_COMPRESSED@
MAX_TOTAL=@MAX_TOTAL@
MAX_RATIO=@MAX_RATIO@
RATIO_FLOOR=@RATIO_FLOOR@
MAX_MEMBERS=@MAX_MEMBERS@
size=$(wc -c <"$ARCHIVE" | tr -d ' ')
if [ "$size" -gt "$MAX_COMPRESSED" ]; then
    fail "archive: $size bytes, over the $MAX_COMPRESSED cap"
    stop
fi
cap=$((size * MAX_RATIO))
if [ "$cap" -lt "$RATIO_FLOOR" ]; then cap=$RATIO_FLOOR; fi
if [ "$cap" -gt "$MAX_TOTAL" ]; then cap=$MAX_TOTAL; fi
inflated=$(gzip -dc <"$ARCHIVE" 2>"$W/gzip.err" | head -c $((cap + 1)) | wc -c | tr -d ' ')
if [ "$inflated" -gt "$cap" ]; then
    fail "archive: inflates to more than $cap bytes ($MAX_RATIO times its size, at most $MAX_TOTAL): a decompression bomb? Not extracted"
    stop
fi
if [ -s "$W/gzip.err" ]; then
    fail "archive: not a clean gzip stream: $(head -n 1 "$W/gzip.err")"
    stop
fi
if ! tar -tzf "$ARCHIVE" >"$W/members" 2>"$W/tar.err"; then
    fail "archive: tar cannot list it: $(head -n 1 "$W/tar.err")"
    stop
fi
if [ "$(wc -l <"$W/members" | tr -d ' ')" -gt "$MAX_MEMBERS" ]; then
    fail "archive: more than $MAX_MEMBERS members"
    stop
fi
bad=$(awk '
    length($0) > 400 { print; next }
    {
        n = split($0, part, "/")
        for (i = 1; i <= n; i++)
            if (part[i] !~ /^[A-Za-z0-9@+_=][A-Za-z0-9@+_.=-]*$/) { print; next }
    }' "$W/members" | head -n 3)
if [ -n "$bad" ]; then
    fail "archive: unsafe member name(s) (absolute, '..', directories, odd characters): $bad"
    stop
fi
dup=$(sort "$W/members" | uniq -d | head -n 3)
if [ -n "$dup" ]; then
    fail "archive: member(s) appear twice: $dup"
    stop
fi
if ! tar -xzf "$ARCHIVE" -C "$B" 2>"$W/tar.err"; then
    fail "archive: tar refused or could not extract a member; a partial extraction is never OK:"
    sed -n '1,5s/^/      /p' "$W/tar.err"
    stop
fi
cd "$B"
find . -type f | sed 's|^\./||' | sort >"$W/have"
if ! sort "$W/members" | cmp -s - "$W/have"; then
    fail "archive: the extracted files are not the archive's members (links, or a member skipped)"
    stop
fi
special=$(find . ! -type f ! -type d | head -n 5)
linked=$(find . -type f -links +1 | head -n 5)
if [ -n "$special$linked" ]; then
    fail "archive: links or special files: $special $linked"
    stop
fi
ok "archive: $(wc -l <"$W/have" | tr -d ' ') regular files, safe names, within the size caps, extracted whole"
if [ -f VERIFY.sh ] && ! cmp -s VERIFY.sh "$SELF"; then
    note "the bundle's own VERIFY.sh differs from the script you ran (another workbench version, or changed); this run used yours"
fi

"""

FILES_SH = r"""# --- 1. files and hashes -------------------------------------------------------------
if [ ! -f SHA256SUMS ]; then
    fail "SHA256SUMS is missing"
elif sha256sum -c --quiet --strict SHA256SUMS >"$W/sums.out" 2>&1; then
    ok "sha256sum -c SHA256SUMS: every listed file matches"
else
    fail "sha256sum -c SHA256SUMS:"
    sed 's/^/      /' "$W/sums.out"
fi
{ if [ -f SHA256SUMS ]; then cut -c67- SHA256SUMS; fi; echo SHA256SUMS; } | sort >"$W/listed"
if cmp -s "$W/have" "$W/listed"; then
    ok "SHA256SUMS covers every file, none missing, none extra"
else
    fail "the files differ from SHA256SUMS:"
    diff "$W/listed" "$W/have" | sed -n 's/^< /      missing: /p; s/^> /      extra:   /p'
fi

# bundle.json, the signed index, feeds most sections below: one jq reads everything they take
# from it (jfields); `bj NAME EXPR` prints what `j bundle.json EXPR` prints.
BJ_HEAD='[.domain, .namespaces.registry, .namespaces.contract, .namespaces.snapshot,
    .namespaces.ack, .namespaces.review, (.registry.head | if type == "number" then . else "?" end), .exporter.principal, .repository]
    | map(tostring) | join(" ")'
BJ_PERSON='.exporter.person'
BJ_SUMS='.files | to_entries[] | "\(.value)  \(.key)"'
BJ_KEYS='.files | keys[]'
BJ_WHOLE='if .scope.since == null and .scope.until == null then true else false end'
BJ_CONTRACTS='.contracts | to_entries[] | [.key,
    (.value.head | if . == null then "none" elif type == "number" then . else "?" end), (.value.current // "none"),
    (.value.head_statement_sha256 // "none")] | map(tostring) | join(" ")'
BJ_RECORDS='.records[]? | [.path, (.commit_time // "-"), (.parent_time // "-"), (.answers_time // "-")]
    | join(" ")'
BJ_RUNS='.findings[]? | [.path, .run, (.statement // "-"), (.signature // "-"), (.runner // "-"),
    (.ledger // "-"), (.commit_time // "-"), (.parent_time // "-")] | join(" ")'
BJ_CLOCKS='.clocks[]?.id'
BJ_EVIDENCE='.evidence.snapshots[] | select(.included == true) | "\(.sha256)  \(.path)"'
BJ_TABLES='.evidence.snapshots[]? | select(.table != null)
    | "\(.id) \(.sha256) \(.listing // "-") \(if (.table | type) == "object" and (.table | keys) == ["format", "version"]
        and (.table.format | type) == "string" and ((.table.version | type) == "number" or ((.table.version | type) == "string" and (.table.version | test("^[0-9]{16,19}$"))
        and ((.table.version | length) > 16 or .table.version > "9007199254740991")))
        then "\(.table.format)@\(.table.version)" else "?" end)"'
# each listed snapshot's id and the sha256 a signed registration must register for it
BJ_REGISTERED='.evidence.snapshots[]? | "\(.id) \(.sha256)"'
BJ_LEFT='[.evidence.snapshots[] | select(.included == false and .table == null)] | length'
# what the evidence list says is shipped (an included file, a table's listing), and the ids
# of entries whose "included" is not true or false
BJ_SHIPPED='.evidence.snapshots[]? | if .table != null then .listing else select(.included == true) | .path end
    | tostring'
BJ_INCLUDED='[.evidence.snapshots[]? | select((.included | type) != "boolean") | .id | tostring] | join(" ")'
jfields bundle.json bj head "$BJ_HEAD" person "$BJ_PERSON" sums "$BJ_SUMS" keys "$BJ_KEYS" \
    whole "$BJ_WHOLE" contracts "$BJ_CONTRACTS" records "$BJ_RECORDS" runs "$BJ_RUNS" \
    clocks "$BJ_CLOCKS" evidence "$BJ_EVIDENCE" tables "$BJ_TABLES" left "$BJ_LEFT" \
    shipped "$BJ_SHIPPED" included "$BJ_INCLUDED" registered "$BJ_REGISTERED"
bj() { jf bj "$1" "$2" bundle.json; }
# bj_or_none NAME EXPR OUT: EXPR's lines in OUT, or none at all when jq fails
bj_or_none() {
    if [ -f "$W/bj.ok" ]; then cp "$W/bj.$1" "$3"; else jq -r "$2" bundle.json 2>/dev/null >"$3" || : >"$3"; fi
}
# shellcheck disable=SC2046
set -- $(bj head "$BJ_HEAD")
DOMAIN=${1:-?} NS_REG=${2:-?} NS_CON=${3:-?} NS_SNAP=${4:-?} NS_ACK=${5:-?} NS_REV=${6:-?}
HEADV=${7:-?} EXPORTER=${8:-?} BREPO=${9:-?}
case $HEADV in '' | *[!0-9]*) fail "bundle.json: no registry head"; HEADV=0 ;; esac

"""
