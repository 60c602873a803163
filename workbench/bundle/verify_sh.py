"""VERIFY.sh: the auditor's stock-tool verifier, shipped inside every bundle and printed by
``workbench verify-script`` (its sha256 travels with the trust root: the auditor runs their
own copy, never only the bundle's).

POSIX sh (``set -eu``), needing only ssh-keygen (OpenSSH >= 8.2), sha256sum, jq, tar and
gzip, plus the usual POSIX utilities (cut, sort, cmp, diff, find, sed, awk, mktemp, head,
wc). It takes the archive itself and extracts it into a fresh temporary directory, so a
member tar refuses is a failure. Tested for real under ``sh`` (dash, mawk) in tests/bundle
and tests/security. Its checks mirror ``workbench verify-bundle``: see docs/audit.md for
what each one means and where the two differ.

The two awk programs it writes out are here as ``TOML_AWK`` (a strict reader of the plain
TOML layout, failing closed) and ``DERIVE_AWK`` (who must sign, who may export); their
parity with the Python rules is tested in tests/bundle/test_verify_sh_rules.py.
"""

from __future__ import annotations

import hashlib

from workbench.bundle.archive import DEFAULT_LIMITS
from workbench.model.settings import DEFAULT_EXPORTERS

VERIFY_SH_TEMPLATE = r"""#!/bin/sh
# Verify a Handshake Workbench audit bundle with stock tools only:
#   ssh-keygen (OpenSSH >= 8.2), sha256sum, jq, tar, gzip and the POSIX utilities.
#
# Usage:
#   sh VERIFY.sh BUNDLE.tar.gz ROOT_SHA256 [PREVIOUS_SNAPSHOT_SHA256]
#
#   BUNDLE.tar.gz  the archive as you received it: this script lists, size-checks and
#                extracts it itself into a fresh temporary directory, so a member tar
#                refused or skipped is a failure, never a silently partial bundle.
#   ROOT_SHA256  sha256 of registry v1's statement.json, obtained OUT OF BAND (engagement
#                letter, an earlier audit). Never take it from the bundle.
#   PREVIOUS_SNAPSHOT_SHA256  sha256 of the snapshot.json you verified last time: this
#                bundle must be that snapshot or extend it, and no registry or contract
#                head may have gone back since (rollback/fork check).
#   STRICT=1     also fail when a contract is not approved or the snapshot has expired.
#
# Run YOUR OWN copy of this script (`workbench verify-script`, its sha256 given to you with
# the root), not the copy inside a bundle: a bundle's author could ship a lying script.
#
# Prints OK / FAIL / WARN / NOTE per check and exits 1 if any check failed.
set -eu
LC_ALL=C
export LC_ALL
# Names, ids and file names below come from the bundle: everything this script prints
# passes one filter, so no control or non-ASCII byte reaches your terminal (each shows
# as '?'). The script runs itself again under the filter; exit codes pass through.
if [ "${VERIFY_SH_FILTERED:-}" != 1 ]; then
    if [ ! -f "$0" ]; then
        echo "run it as: sh path/to/VERIFY.sh BUNDLE.tar.gz ROOT_SHA256 [PREVIOUS_SNAPSHOT_SHA256]" >&2
        exit 2
    fi
    VERIFY_SH_FILTERED=1
    export VERIFY_SH_FILTERED
    _status=$(mktemp)
    {
        {
            if sh "$0" "$@"; then _code=0; else _code=$?; fi
            echo "$_code" >"$_status"
        } 2>&1 1>&3 3>&- | tr -c '\11\12\40-\176' '[?*]' >&2
    } 3>&1 | tr -c '\11\12\40-\176' '[?*]'
    _code=$(cat "$_status")
    rm -f "$_status"
    exit "${_code:-2}"
fi
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: sh VERIFY.sh BUNDLE.tar.gz ROOT_SHA256 [PREVIOUS_SNAPSHOT_SHA256]" >&2
    exit 2
fi
ARCHIVE=$1
ROOT=$2
PREV=${3:-}
STRICT=${STRICT:-0}
for tool in ssh-keygen sha256sum jq tar gzip awk; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "VERIFY.sh needs $tool" >&2
        exit 2
    fi
done
if [ ! -f "$ARCHIVE" ]; then
    echo "VERIFY.sh: $ARCHIVE is not a file (give the bundle's .tar.gz)" >&2
    exit 2
fi
case $ARCHIVE in /*) ;; *) ARCHIVE=$PWD/$ARCHIVE ;; esac
case $0 in /*) SELF=$0 ;; *) SELF=$PWD/$0 ;; esac
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT HUP INT TERM
W=$TMP/work
B=$TMP/bundle
mkdir "$W" "$B"
FAILS=0
ok() { printf 'OK    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; FAILS=$((FAILS + 1)); }
warn() { printf 'WARN  %s\n' "$*"; }
note() { printf 'NOTE  %s\n' "$*"; }
stop() {
    echo "RESULT: FAIL ($FAILS check(s) failed; the rest of the bundle was not read)"
    exit 1
}
sha() {
    if [ -f "$1" ]; then sha256sum <"$1" | cut -c1-64; else echo "(missing)"; fi
}
j() {
    # jq -r on a file; prints "?" when the file is missing or not JSON
    _file=$1
    shift
    if [ -f "$_file" ]; then jq -r "$@" "$_file" 2>/dev/null || echo "?"; else echo "?"; fi
}
cat >"$W/toml.awk" <<'END_OF_TOML_AWK'
@TOML_AWK@
END_OF_TOML_AWK
cat >"$W/derive.awk" <<'END_OF_DERIVE_AWK'
@DERIVE_AWK@
END_OF_DERIVE_AWK

# --- 0. the archive: caps, member names and types, then extraction ------------------------
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
            if (part[i] !~ /^[A-Za-z0-9@+_=-][A-Za-z0-9@+_.=-]*$/) { print; next }
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

# --- 1. files and hashes -------------------------------------------------------------
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

# shellcheck disable=SC2046
set -- $(j bundle.json '[.domain, .namespaces.registry, .namespaces.contract, .namespaces.snapshot,
    .namespaces.ack, .namespaces.review, .registry.head, .exporter.principal, .repository]
    | map(tostring) | join(" ")')
DOMAIN=${1:-?} NS_REG=${2:-?} NS_CON=${3:-?} NS_SNAP=${4:-?} NS_ACK=${5:-?} NS_REV=${6:-?}
HEADV=${7:-?} EXPORTER=${8:-?} BREPO=${9:-?}
case $HEADV in '' | *[!0-9]*) fail "bundle.json: no registry head"; HEADV=0 ;; esac

# --- 2. the key registry chain from the pinned root --------------------------------------
REG_OK=1
if [ "$HEADV" -ge 1 ]; then
    v=1
    prev_sha=""
    while [ "$v" -le "$HEADV" ]; do
        d=registry/v$v
        st=$d/statement.json
        s=$(sha "$st")
        if [ "$v" -eq 1 ]; then
            if [ "$s" = "$ROOT" ]; then
                ok "registry v1 is the pinned trust root $ROOT"
            else
                fail "registry v1 has sha256 $s, not the pinned root $ROOT: not the registry you trust"
                REG_OK=0
                break
            fi
        fi
        step_ok=1
        # shellcheck disable=SC2046
        set -- $(j "$st" '[.predicate.registry.version, (.predicate.registry.previous.statementSha256 // "none"),
            (.subject | map(select(.name == "keys/allowed_signers" or .name == "keys/revoked_keys"
            or .name == "keys/policy.toml" or .name == "keys/people.toml") | .name + "=" + .digest.sha256)
            | sort | join(","))] | map(tostring) | join(" ")')
        if [ "${1:-?}" != "$v" ]; then
            fail "registry v$v: the statement says another version (rollback or skip)"
            step_ok=0
        fi
        pv=${2:-?}
        subjects=${3:-}
        if [ "$v" -eq 1 ] && [ "$pv" != "none" ]; then
            fail "registry v1 must not name a previous version"
            step_ok=0
        elif [ "$v" -gt 1 ] && [ "$pv" != "$prev_sha" ]; then
            fail "registry v$v does not name v$((v - 1)) as previous (forked or rewritten chain)"
            step_ok=0
        fi
        have="keys/allowed_signers=$(sha "$d/allowed_signers"),keys/people.toml=$(sha "$d/people.toml")"
        have="$have,keys/policy.toml=$(sha "$d/policy.toml"),keys/revoked_keys=$(sha "$d/revoked_keys")"
        if [ "$have" != "$subjects" ]; then
            fail "registry v$v: its files do not match its statement (sha256)"
            step_ok=0
        fi
        dups=$(grep -v '^#' "$d/allowed_signers" 2>/dev/null | awk 'NF { print $NF }' | sort | uniq -d)
        if [ -n "$dups" ]; then
            fail "registry v$v: a key is listed under two principals in allowed_signers"
            step_ok=0
        fi
        if [ "$v" -eq 1 ]; then old=1; else old=$((v - 1)); fi
        for k in $(if [ "$old" -eq "$v" ]; then echo "$v"; else echo "$old $v"; fi); do
            base=registry/v$k
            # shellcheck disable=SC2046
            set -- $(j "$base/statement.json" '[.predicate.threshold] + ([.predicate.admins[].principal] | unique) | map(tostring) | join(" ")')
            need=${1:-?}
            if [ $# -gt 0 ]; then shift; fi
            count=0
            for p in "$@"; do
                sig=$d/statement.$p.sig
                if [ -f "$sig" ] && ssh-keygen -Y verify -f "$base/allowed_signers" -I "$p" \
                    -n "$NS_REG" -s "$sig" <"$st" >/dev/null 2>&1; then
                    count=$((count + 1))
                fi
            done
            case $need in '' | *[!0-9]*) need=999 ;; esac
            if [ "$count" -lt "$need" ]; then
                fail "registry v$v: signed by $count admin(s) of v$k, threshold $need"
                step_ok=0
            fi
        done
        if [ "$step_ok" -eq 1 ]; then
            ok "registry v$v: files match, chained, signed by the admin thresholds of v$old and v$v"
        else
            REG_OK=0
        fi
        prev_sha=$s
        v=$((v + 1))
    done
fi
if [ -d "registry/v$((HEADV + 1))" ]; then fail "registry v$((HEADV + 1)) is present but not the head in bundle.json"; fi
HD=registry/v$HEADV
REPO=$(j registry/v1/statement.json '.predicate.repository')
if [ "$BREPO" != "$REPO" ]; then fail "bundle.json names another repository than registry v1"; fi

# verify_any PRINCIPAL NAMESPACE SIG STATEMENT FROM_VERSION: the signature verifies with
# the key the registry gives PRINCIPAL, in the head (current) or in an earlier version
# down to FROM_VERSION (historic), never with a key revoked in the head. Sets WHERE.
verify_any() {
    WHERE=""
    _k=$HEADV
    while [ "$_k" -ge "$5" ] && [ "$_k" -ge 1 ]; do
        if ssh-keygen -Y verify -f "registry/v$_k/allowed_signers" -r "$HD/revoked_keys" \
            -I "$1" -n "$2" -s "$3" <"$4" >/dev/null 2>&1; then
            WHERE=$_k
            return 0
        fi
        _k=$((_k - 1))
    done
    return 1
}

# Who must sign and who may export are read from files whose bytes are signed (a contract
# version's contract.toml: the subject of its co-signed statement; people.toml and
# policy.toml: subjects of the admin-signed registry statement), by toml.awk, which reads
# only the plain layout and fails closed on anything else.
WANT_CONTRACT='seam.provider=s seam.consumer=s cosigners=a terms[].kind=s terms[].id=s terms[].change_cosigner=s terms[]=c'
WANT_PEOPLE='teams[].id=s teams[].lead=s people[].id=s people[].team=s'
WANT_POLICY='admins=a approval.no_self_approval=b approval.compliance_team=s approval.compliance_term_kinds=a export.exporters=a'
DEFAULT_EXPORTERS='@DEFAULT_EXPORTERS@'
READ_ERR=""
# toml_read FILE WANT OUT: the wanted keys of FILE; on failure READ_ERR says where and why
toml_read() {
    if [ ! -f "$1" ]; then
        READ_ERR="$1 is missing"
        return 1
    fi
    if awk -v want="$2" -f "$W/toml.awk" "$1" >"$3" 2>"$W/awk.err"; then return 0; fi
    READ_ERR="$1: $(awk -F '\t' '$1 == "ERROR" { print $2; exit }' "$3")$(head -n 1 "$W/awk.err")"
    return 1
}
# registry_read K: people.toml and policy.toml of registry vK, read once
registry_read() {
    if [ -f "$W/policy.$1" ]; then return 0; fi
    toml_read "registry/v$1/people.toml" "$WANT_PEOPLE" "$W/people.$1" \
        && toml_read "registry/v$1/policy.toml" "$WANT_POLICY" "$W/policy.tmp" \
        && mv "$W/policy.tmp" "$W/policy.$1"
}
derive_error() { awk -F '\t' '$1 == "ERROR" { print $2; exit }' "$1"; }

# --- 3. the exporter's snapshot and the signed index ---------------------------------------
SNAPSIG=snapshot.$EXPORTER.sig
if [ -f "$SNAPSIG" ] && ssh-keygen -Y verify -f "$HD/allowed_signers" -r "$HD/revoked_keys" \
    -I "$EXPORTER" -n "$NS_SNAP" -s "$SNAPSIG" <snapshot.json >/dev/null 2>&1; then
    ok "snapshot.json is signed by the exporter $EXPORTER (registry v$HEADV)"
else
    fail "snapshot.json: no valid signature by the exporter $EXPORTER"
fi
# Only someone the signed policy names may sign a snapshot (keys/policy.toml [export]).
EXPORTER_PERSON=${EXPORTER%@*}
if [ "$(j bundle.json '.exporter.person')" != "$EXPORTER_PERSON" ]; then
    fail "bundle.json names another exporter than the signature file $SNAPSIG"
fi
if ! registry_read "$HEADV"; then
    fail "cannot derive who may export from $READ_ERR (not in the plain layout VERIFY.sh reads); use workbench verify-bundle"
elif ! awk -v mode=exporters -v DEFAULT_EXPORTERS="$DEFAULT_EXPORTERS" -f "$W/derive.awk" \
    "$W/people.$HEADV" "$W/policy.$HEADV" >"$W/exporters"; then
    fail "cannot derive who may export: $(derive_error "$W/exporters"); use workbench verify-bundle"
elif awk -F '\t' -v p="$EXPORTER_PERSON" '$1 == "X" && $2 == p { found = 1 } END { exit !found }' "$W/exporters"; then
    ok "$EXPORTER_PERSON may sign audit snapshots (keys/policy.toml [export] of registry v$HEADV)"
else
    fail "snapshot.json: $EXPORTER_PERSON may not sign an audit snapshot: keys/policy.toml [export] exporters of registry v$HEADV names $(awk -F '\t' '$1 == "X" { print $2 }' "$W/exporters" | sort -u | tr '\n' ' ')"
fi
j snapshot.json '.subject[] | "\(.digest.sha256)  \(.name)"' >"$W/snap.sums"
expected_subjects="$HD/statement.json bundle.json"
if [ -f heads.json ]; then expected_subjects="$HD/statement.json bundle.json heads.json"; fi
if [ "$(j snapshot.json '[.subject[].name] | sort | join(" ")')" = "$(printf '%s\n' $expected_subjects | sort | tr '\n' ' ' | sed 's/ $//')" ] \
    && sha256sum -c --quiet --strict "$W/snap.sums" >/dev/null 2>&1; then
    ok "snapshot subjects: $expected_subjects match"
else
    fail "snapshot subjects do not match $expected_subjects"
fi
# shellcheck disable=SC2046
set -- $(j snapshot.json '[.predicate.snapshotVersion, .predicate.expires, (.predicate.previousSnapshot // "null"),
    .predicate.repository] | map(tostring) | join(" ")')
SNAPV=${1:-?} EXPIRES=${2:-?} SNAPPREV=${3:-?}
if [ "${4:-?}" != "$REPO" ]; then fail "the snapshot names another repository than registry v1"; fi
j bundle.json '.files | to_entries[] | "\(.value)  \(.key)"' >"$W/index.sums"
if sha256sum -c --quiet --strict "$W/index.sums" >"$W/index.out" 2>&1; then
    ok "bundle.json (signed) lists the sha256 of every file and they match"
else
    fail "files differ from the signed index bundle.json:"
    sed 's/^/      /' "$W/index.out"
fi
{
    j bundle.json '.files | keys[]'
    printf '%s\n' bundle.json snapshot.json SHA256SUMS "$SNAPSIG"
} | sort -u >"$W/indexed"
if cmp -s "$W/indexed" "$W/have"; then
    ok "the signed index covers every file, none missing, none extra"
else
    fail "the files differ from the signed index:"
    diff "$W/indexed" "$W/have" | sed -n 's/^< /      missing: /p; s/^> /      extra:   /p'
fi

case $SNAPV in '' | *[!0-9]*) fail "snapshot.json: no snapshotVersion"; SNAPV=1 ;; esac
k=1
prev_snap="null"
chain_ok=1
while [ "$k" -lt "$SNAPV" ]; do
    f=exports/v$k.snapshot.json
    if [ "$(j "$f" '[.predicate.snapshotVersion, (.predicate.previousSnapshot // "null")] | map(tostring) | join(" ")')" != "$k $prev_snap" ]; then
        fail "earlier snapshot v$k is missing or does not chain"
        chain_ok=0
    fi
    prev_snap=$(sha "$f")
    k=$((k + 1))
done
if [ "$SNAPPREV" != "$prev_snap" ]; then
    fail "snapshot v$SNAPV does not name the earlier snapshot v$((SNAPV - 1)) as previous"
    chain_ok=0
fi
if [ "$chain_ok" -eq 1 ] && [ "$SNAPV" -gt 1 ]; then
    ok "snapshot v$SNAPV extends the chain of earlier snapshots v1..v$((SNAPV - 1))"
elif [ "$chain_ok" -eq 1 ]; then
    ok "snapshot v1 is the first export (no earlier snapshots)"
fi
# --- 3b. the head map: the registry head and every signed contract's head, signed with the
# snapshot; it must agree with bundle.json
if [ -f heads.json ]; then
    jq -r --slurpfile h heads.json --arg rv "$HEADV" --arg rs "$(sha "$HD/statement.json")" '
        $h[0] as $m
        | if ($m | type) != "object" or ($m | keys) != ["contracts", "format", "registry"]
            or $m.format != "handshake-workbench/heads@1" or ($m.contracts | type) != "object"
          then "heads.json is not a head map"
          else
            (if $m.registry != {version: ($rv | tonumber), statementSha256: $rs}
             then "the registry head is v\($m.registry.version), not v\($rv)" else empty end),
            (.contracts | to_entries[] | .key as $c | .value as $e
             | if $e.head == null
               then (if $m.contracts[$c] != null then "\($c): signed in heads.json, unsigned here" else empty end)
               elif $m.contracts[$c] != {version: $e.head, statementSha256: $e.head_statement_sha256}
               then "\($c): head differs from bundle.json" else empty end),
            (if .scope.contracts == null
             then ($m.contracts | keys[]) as $k
                  | (if .contracts[$k] == null then "\($k): a signed contract left out of an unscoped bundle" else empty end)
             else empty end)
          end' bundle.json >"$W/heads.out" 2>&1 || echo "heads.json cannot be read" >>"$W/heads.out"
    if [ -s "$W/heads.out" ]; then
        fail "heads: $(head -n 5 "$W/heads.out" | tr '\n' ';')"
    else
        ok "heads.json: registry v$HEADV and $(j heads.json '.contracts | length') contract head(s) of the repository, consistent with bundle.json"
    fi
else
    note "no head map (heads.json): a bundle made before head maps"
fi

# since_kept K: what went back (or forked) since snapshot vK the auditor kept, from what vK
# signed: its registry head subject and its head map exports/vK.heads.json (by digest)
since_kept() {
    _kept=exports/v$1.snapshot.json
    _name="the snapshot v$1 you kept"
    KEPT_NOTE=""
    : >"$W/since"
    _kh=$(j "$_kept" '[.subject[] | select(.name == "heads.json") | .digest.sha256] | .[0] // "none"')
    if [ "$_kh" = none ]; then
        # shellcheck disable=SC2046
        set -- $(j "$_kept" '[.subject[] | select(.name | startswith("registry/v") and endswith("/statement.json"))
            | "\(.name | ltrimstr("registry/v") | rtrimstr("/statement.json")) \(.digest.sha256)"]
            | if length == 1 then .[0] else "none" end')
        case ${1:-none} in '' | *[!0-9]*)
            echo "$_name names no registry head" >>"$W/since"
            return 0 ;;
        esac
        jq -n --argjson v "$1" --arg d "${2:-?}" \
            '{format: "handshake-workbench/heads@1", registry: {version: $v, statementSha256: $d}, contracts: {}}' \
            >"$W/kept.heads"
        KEPT_NOTE="; contract heads not compared: $_name predates head maps (verify-bundle --previous-snapshot OLD_BUNDLE compares them)"
    elif [ "$(sha "exports/v$1.heads.json")" != "$_kh" ]; then
        echo "exports/v$1.heads.json is missing or not the head map $_name signed" >>"$W/since"
        return 0
    elif [ ! -f heads.json ]; then
        echo "this bundle has no head map to compare with $_name" >>"$W/since"
        return 0
    else
        cp "exports/v$1.heads.json" "$W/kept.heads"
    fi
    if [ -f heads.json ]; then cp heads.json "$W/now.heads"; else
        jq -n --argjson v "$HEADV" --arg d "$(sha "$HD/statement.json")" \
            '{registry: {version: $v, statementSha256: $d}, contracts: {}}' >"$W/now.heads"
    fi
    jq -r --slurpfile k "$W/kept.heads" --arg n "$_name" '
        $k[0] as $old | . as $new
        | (if $new.registry.version < $old.registry.version
           then "registry head v\($new.registry.version) is OLDER than the v\($old.registry.version) in \($n) (rollback)"
           elif $new.registry.version == $old.registry.version and $new.registry.statementSha256 != $old.registry.statementSha256
           then "registry v\($new.registry.version) is another statement than in \($n) (fork)"
           elif $new.registry.version > $old.registry.version
           then "RCHECK \($old.registry.version) \($old.registry.statementSha256)"
           else empty end),
          ($old.contracts | to_entries[] | .key as $c | .value as $o | $new.contracts[$c] as $x
           | if $x == null then "\($c): signed at v\($o.version) in \($n), now no signed version"
             elif $x.version < $o.version then "\($c): head v\($x.version) is OLDER than the v\($o.version) in \($n) (rollback)"
             elif $x.version == $o.version and $x.statementSha256 != $o.statementSha256
             then "\($c) v\($x.version): another statement than in \($n) (fork)"
             elif ($c | test("^[a-z0-9][a-z0-9._-]*$")) then "CHECK \($c) \($o.version) \($o.statementSha256)"
             else "\($c): not a contract id" end)' "$W/now.heads" >"$W/since.raw" 2>&1 \
        || echo "the head maps cannot be compared" >>"$W/since.raw"
    while read -r _what _a _b _c; do
        case $_what in
        RCHECK)
            if [ "$(sha "registry/v$_a/statement.json")" != "$_b" ]; then
                echo "registry v$_a is another statement than in $_name (fork)" >>"$W/since"
            fi ;;
        CHECK)
            if [ -f "contracts/$_a/v$_b/statement.json" ] && [ "$(sha "contracts/$_a/v$_b/statement.json")" != "$_c" ]; then
                echo "$_a v$_b: another statement than in $_name (fork)" >>"$W/since"
            fi ;;
        *) echo "$_what $_a $_b $_c" | sed 's/ *$//' >>"$W/since" ;;
        esac
    done <"$W/since.raw"
}

if [ -n "$PREV" ]; then
    found=""
    if [ "$(sha snapshot.json)" = "$PREV" ]; then found=$SNAPV; fi
    k=1
    while [ "$k" -lt "$SNAPV" ]; do
        if [ "$(sha "exports/v$k.snapshot.json")" = "$PREV" ]; then found=$k; fi
        k=$((k + 1))
    done
    if [ -z "$found" ] || [ "$chain_ok" -ne 1 ]; then
        fail "ROLLBACK or FORK: this bundle does not extend the snapshot $PREV you kept"
    elif [ "$found" = "$SNAPV" ]; then
        ok "snapshot v$SNAPV is the snapshot you kept"
    else
        since_kept "$found"
        if [ -s "$W/since" ]; then
            fail "ROLLBACK or FORK since the snapshot v$found you kept: $(head -n 5 "$W/since" | tr '\n' ';')"
        else
            ok "snapshot v$SNAPV extends the snapshot you kept (v$found); no registry or contract head went back since$KEPT_NOTE"
        fi
    fi
else
    note "no previous snapshot given: a rollback to an older bundle cannot be detected"
fi
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
if [ "$NOW" \> "$EXPIRES" ] || [ "$NOW" = "$EXPIRES" ]; then
    if [ "$STRICT" = 1 ]; then fail "the snapshot expired at $EXPIRES"; else
        warn "the snapshot expired at $EXPIRES: history is still valid, 'current' status is not"
    fi
else
    ok "snapshot v$SNAPV is current until $EXPIRES"
fi

# --- 4. contracts -------------------------------------------------------------------------------
j bundle.json '.contracts | to_entries[] | [.key, (.value.head // "none"), (.value.current // "none"),
    (.value.head_statement_sha256 // "none")] | map(tostring) | join(" ")' >"$W/contracts"
while read -r cid head curfile headsha; do
    if [ "$head" = "none" ]; then
        note "contract $cid: draft (never signed)"
        continue
    fi
    n=1
    prev=""
    cfail=0
    state=""
    # the last version approved under the registry head: change co-signers are asked for
    # every term a version changes relative to it
    printf 'BASE\tnone\n' >"$W/base.rec"
    while [ "$n" -le "$head" ]; do
        d=contracts/$cid/v$n
        st=$d/statement.json
        if [ ! -f "$st" ]; then
            fail "$cid v$n: statement missing (the chain is broken)"
            cfail=1
            break
        fi
        # shellcheck disable=SC2046
        set -- $(j "$st" '[(.subject | length), .subject[0].name, .subject[0].digest.sha256,
            .predicate.contract.id, .predicate.contract.version, .predicate.repository,
            (.predicate.contract.previous.statementSha256 // "none"), .predicate.registry.version,
            .predicate.registry.statementSha256] | map(tostring) | join(" ")')
        if [ "${1:-?}" != 1 ] || [ "${2:-?}" != "contracts/$cid.toml" ]; then
            fail "$cid v$n: the statement is not about contracts/$cid.toml"
            cfail=1
        fi
        if [ "$(sha "$d/contract.toml")" != "${3:-?}" ]; then
            fail "$cid v$n: contract.toml does not match the statement's subject digest"
            cfail=1
        fi
        if [ "${4:-?}" != "$cid" ] || [ "${5:-?}" != "$n" ] || [ "${6:-?}" != "$REPO" ]; then
            fail "$cid v$n: the statement names another contract, version or repository"
            cfail=1
        fi
        pv=${7:-?}
        if { [ "$n" -eq 1 ] && [ "$pv" != "none" ]; } || { [ "$n" -gt 1 ] && [ "$pv" != "$prev" ]; }; then
            fail "$cid v$n: does not name v$((n - 1)) as previous (forked chain)"
            cfail=1
        fi
        rv=${8:-?}
        rsha=${9:-?}
        case $rv in '' | *[!0-9]*) rv=1 ;; esac
        if [ "$rv" != "${seen_rv:-}" ]; then
            seen_rv=$rv
            seen_rsha=$(sha "registry/v$rv/statement.json")
        fi
        if [ "$seen_rsha" != "$rsha" ]; then
            fail "$cid v$n: names registry v$rv with a digest that is not in the chain"
            cfail=1
        fi
        # every signature file must verify as the principal its name claims
        current=1
        : >"$W/valid"
        for sig in "$d"/statement.*.sig; do
            [ -f "$sig" ] || continue
            p=${sig#"$d"/statement.}
            p=${p%.sig}
            if verify_any "$p" "$NS_CON" "$sig" "$st" "$rv"; then
                printf '%s\t%s\n' "$p" "$WHERE" >>"$W/valid"
            else
                fail "$cid v$n: $(basename "$sig") does not verify as $p (bad, revoked or unregistered key)"
                cfail=1
            fi
        done
        # who had to sign: derived here from contract.toml (the statement's subject) and
        # people.toml/policy.toml of the registry version the rule uses (the head for the
        # head version), never taken from required.json, which must agree; the change
        # co-signers against the last version approved under the registry head (base.rec)
        if [ "$n" -eq "$head" ]; then rk=$HEADV; else rk=$rv; fi
        printf 'B\tunknown\n' >"$W/derived"
        known=1
        if ! registry_read "$rk" || ! toml_read "$d/contract.toml" "$WANT_CONTRACT" "$W/contract.rec"; then
            fail "$cid v$n: cannot derive the required signers from $READ_ERR (not in the plain layout VERIFY.sh reads); use workbench verify-bundle"
            cfail=1
            known=0
            cp "$W/derived" "$W/derived.head"
        elif ! awk -v mode=signers -f "$W/derive.awk" "$W/people.$rk" "$W/policy.$rk" \
            "$W/contract.rec" "$W/base.rec" >"$W/derived"; then
            fail "$cid v$n: cannot derive the required signers: $(derive_error "$W/derived"); use workbench verify-bundle"
            cfail=1
            known=0
            printf 'B\tunknown\n' >"$W/derived"
            cp "$W/derived" "$W/derived.head"
        elif [ "$rk" = "$HEADV" ]; then
            : >"$W/derived.head" # the same rule and files: judged from derived below
        elif ! awk -v mode=signers -f "$W/derive.awk" "$W/people.$HEADV" "$W/policy.$HEADV" \
            "$W/contract.rec" "$W/base.rec" >"$W/derived.head" 2>/dev/null; then
            printf 'B\tunknown\n' >"$W/derived.head"
        fi
        # One pass: the required principals (sorted, as jq sorts) and blocked count, who of
        # them has no valid signature, whether every signature counts in the head, and
        # whether the version is approved under the registry head (the next base).
        awk -F '\t' -v head="$HEADV" -v dom="$DOMAIN" -v valid="$W/valid" -v dh="$W/derived.head" \
            -v same="$([ "$known" -eq 1 ] && [ "$rk" = "$HEADV" ] && echo 1)" '
            FILENAME == valid { where[$1] = $2; next }
            FILENAME == dh || same {
                # (a lookup with "in": reading where[x] would create it)
                if ($1 != "R" || !(($2 "@" dom) in where) || where[$2 "@" dom] != head) hbad = 1
                if (!same) next
            }
            $1 == "B" { blocked++ }
            $1 == "R" && !(($2 "@" dom) in seen) { seen[$2 "@" dom] = 1; req[++n] = $2 "@" dom }
            END {
                for (i = 2; i <= n; i++) {
                    x = req[i]
                    for (k = i - 1; k >= 1 && req[k] > x; k--) req[k + 1] = req[k]
                    req[k + 1] = x
                }
                line = blocked + 0
                missing = ""
                current = 1
                for (i = 1; i <= n; i++) {
                    line = line " " req[i]
                    if (!(req[i] in where)) missing = missing " " req[i]
                    else if (where[req[i]] != head) current = 0
                }
                print line
                print "missing" missing
                print current " " (hbad ? 0 : 1)
            }' "$W/valid" "$W/derived.head" "$W/derived" >"$W/judged"
        {
            read -r derived_line
            read -r missing
            read -r current approved
        } <"$W/judged"
        missing=${missing#missing}
        blocked=${derived_line%% *}
        if [ "$known" -eq 1 ] && [ "$(j "$d/required.json" \
            '[(.blocked | length)] + (.required | sort) | map(tostring) | join(" ")')" != "$derived_line" ]; then
            fail "$cid v$n: required.json disagrees with the signers derived from contract.toml and registry v$rk (${derived_line#"$blocked"}; $blocked blocked)"
            cfail=1
        fi
        if [ -n "$missing" ] || [ "$blocked" != 0 ]; then
            state="pending (missing:${missing:- none}; blocked requirements: $blocked)"
        elif [ "$n" -eq "$head" ] && [ "$current" -eq 0 ]; then
            state="approved when signed, but a signer's key is no longer in the registry head (stale)"
        else
            state="approved"
        fi
        # approved under the registry head (its people, policy and keys)? then it is the
        # base the versions after it are compared with
        if [ "${approved:-0}" = 1 ]; then
            { printf 'BASE\tyes\n'; cat "$W/contract.rec"; } >"$W/base.rec"
        fi
        prev=$(sha "$st")
        n=$((n + 1))
    done
    if [ "$curfile" != "none" ]; then
        state="stale: contracts/$cid/current.toml changed after v$head ($state at v$head)"
    fi
    if [ -d "contracts/$cid/v$((head + 1))" ]; then
        fail "$cid: v$((head + 1)) is present but bundle.json says the head is v$head"
        cfail=1
    fi
    if [ "$headsha" != "$prev" ]; then
        fail "$cid: the head statement is not the one the signed index names (mix-and-match?)"
        cfail=1
    fi
    if [ "$cfail" -eq 0 ]; then
        case $state in
        approved) ok "contract $cid: v$head approved; chain v1..v$head intact" ;;
        *)
            if [ "$STRICT" = 1 ]; then fail "contract $cid: $state"; else ok "contract $cid: chain v1..v$head intact; $state"; fi
            ;;
        esac
    fi
done <"$W/contracts"

# --- 5. signed records: reviews, acknowledgements, receipts, closures, clocks ----------------------
find . -path './reviews/*' -name '*.statement.json' -o -path './acks/*' -name '*.statement.json' \
    -o -path './reports/*' -name '*.statement.json' \
    -o -path './findings/closures/*' -name '*.statement.json' \
    -o -path './clocks/*' -name '*.statement.json' | sed 's|^\./||' | sort >"$W/records"
nrec=0
while read -r st; do
    stem=${st%.statement.json}
    rec=$stem.toml
    # shellcheck disable=SC2046
    set -- $(j "$st" '[.subject[0].name, .subject[0].digest.sha256, .predicate.person,
        .predicate.registry.version] | map(tostring) | join(" ")')
    if [ "${1:-?}" != "$rec" ] || [ "$(sha "$rec")" != "${2:-?}" ]; then
        fail "$rec: does not match its statement"
        continue
    fi
    case $st in acks/*) ns=$NS_ACK ;; *) ns=$NS_REV ;; esac
    case $st in
    clocks/*)
        # A clock record's statement must name the clock, person and act its name claims.
        act=$(j "$st" '.predicate.act')
        clk=$(j "$st" '.predicate.clock')
        case $rec in
        "clocks/$clk/"*".${3:-?}.$act.toml") ;;
        *)
            fail "$rec: the statement is for another clock, person or act"
            continue
            ;;
        esac
        ;;
    findings/closures/*)
        # A closure's statement must name the person and act its file name claims.
        act=$(j "$st" '.predicate.act')
        case $rec in
        *".${3:-?}.$act.toml") ;;
        *)
            fail "$rec: the statement is for another person or act"
            continue
            ;;
        esac
        ;;
    esac
    p="${3:-?}@$DOMAIN"
    rv=${4:-?}
    case $rv in '' | *[!0-9]*) rv=1 ;; esac
    if verify_any "$p" "$ns" "$stem.sig" "$st" "$rv"; then
        nrec=$((nrec + 1))
    else
        fail "$rec: no valid signature by $p"
    fi
done <"$W/records"
ok "$nrec signed review/acknowledgement/receipt/closure/clock records verified"

# --- 5b. record times: not before the parent commit or what it answers, not after its own
# commit or the export (300 s skew); the times of commits are as bundle.json (signed) says.
jq -r '.records[]? | [.path, (.commit_time // "-"), (.parent_time // "-"), (.answers_time // "-")]
    | join(" ")' bundle.json 2>/dev/null >"$W/record-times" || : >"$W/record-times"
EXPORTED=$(j snapshot.json '.predicate.exportedAt')
ntime=0
while read -r rec commit parent answers; do
    [ -f "$rec" ] || continue
    said=$(sed -n -E 's/^(completed|acknowledged|received|recorded) = ([0-9T:Z-]+)$/\2/p' "$rec" | head -n 1)
    why=$(jq -nr --arg t "$said" --arg c "$commit" --arg p "$parent" --arg a "$answers" \
        --arg n "$EXPORTED" '
        def s(x): if x == "-" or x == "" then null else (x | fromdateiso8601) end;
        (s($t)) as $t | (s($c)) as $c | (s($p)) as $p | (s($a)) as $a | (s($n)) as $n
        | if $t == null then "states no readable time"
          elif $c == null then "bundle.json gives no commit time for it"
          elif $p != null and $t < $p - 300 then "dated before its parent commit: backdated"
          elif $a != null and $t < $a - 300 then "dated before what it answers: backdated"
          elif $t > $c + 300 then "dated after its own commit"
          elif $n != null and $t > $n + 300 then "dated after the export: future-dated"
          else "" end' 2>/dev/null || echo "its times cannot be read")
    if [ -n "$why" ]; then
        fail "$rec: $why"
    else
        ntime=$((ntime + 1))
    fi
done <"$W/record-times"
ok "$ntime record time(s) hold against their commits and the export"
if [ -n "$(find . -path './findings/closures/*' -name '*.exempt-approve.toml' 2>/dev/null)" ]; then
    warn "exemptions: their signatures are checked above, but whether each approver had the authority the signed policy names is checked by \`workbench verify-bundle\` only"
fi
if [ -f findings/closures.toml ]; then
    note "findings/closures.toml: unsigned legacy closures; they do not count in a repository with a key registry"
fi

# --- 6. evidence --------------------------------------------------------------------------------
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

if [ "$FAILS" -gt 0 ]; then
    echo "RESULT: FAIL ($FAILS check(s) failed)"
    exit 1
fi
echo "RESULT: OK"
"""

TOML_AWK = r"""# toml.awk - a strict reader of the few TOML keys VERIFY.sh needs (see docs/audit.md).
#
#   awk -v want="seam.provider=s seam.consumer=s cosigners=a terms[].kind=s" -f toml.awk FILE
#
# It lexes the whole file (comments, bare/quoted/dotted keys, tables, arrays of tables,
# basic/literal/multi-line strings, arrays over several lines, inline tables, scalars) so
# that nothing inside a string or a value can pass for a key, then prints the wanted keys:
#   T <tab> PATTERN[] <tab> IDX              an element of a wanted array of tables
#   V <tab> PATTERN <tab> IDX <tab> VALUE    a wanted string or true/false
#   E <tab> PATTERN <tab> IDX                a wanted array is present (maybe empty)
#   A <tab> PATTERN <tab> IDX <tab> VALUE    one string of that array
#   C <tab> PATTERN[] <tab> IDX <tab> TEXT   for a wanted "PATTERN[]=c": one line per key
#                                            (and sub-table) of that element, its value as
#                                            written with comments and spaces outside
#                                            strings left out, to tell whether two versions
#                                            of the element are the same
# A wanted key must be written plainly: `key = value` under its own [table] / [[table]]
# header, its value a plain string (letters, digits, . _ : -), true/false, or a one-level
# array of such strings. Anything else that touches a wanted key or table (dotted keys,
# inline tables, a table given twice, escapes, other value types), or any text this lexer
# does not fully understand, prints "ERROR <tab> line N: WHAT" and exits 3: fail closed.
function fail(what) {
    printf "ERROR\tline %d: %s\n", line, what
    exit 3
}
function ch() { return substr(src, pos, 1) }
function ws() { while (pos <= n && (ch() == " " || ch() == "\t")) pos++ }
function comment() {
    if (ch() == "#") { while (pos <= n && ch() != "\n") pos++ }
}
# spaces, newlines and comments (inside arrays)
function wsnl() {
    while (pos <= n) {
        ws()
        comment()
        if (ch() == "\n") { pos++; line++ } else return
    }
}
function eol() {
    ws()
    comment()
    if (pos > n) return
    if (ch() != "\n") fail("unexpected text after a value or header")
    pos++
    line++
}
# one simple key: bare, "basic" (no escapes) or 'literal'; sets KEY and KEYRAW (bare-safe?)
function simplekey(   c, start) {
    c = ch()
    if (c == "\"" || c == "'") {
        if (substr(src, pos, 3) == c c c) fail("a multi-line string used as a key")
        start = ++pos
        while (pos <= n && ch() != c) {
            if (ch() == "\n") fail("unterminated quoted key")
            if (c == "\"" && ch() == "\\") fail("an escape in a quoted key")
            pos++
        }
        if (pos > n) fail("unterminated quoted key")
        KEY = substr(src, start, pos - start)
        pos++
    } else {
        start = pos
        while (pos <= n && ch() ~ /[A-Za-z0-9_-]/) pos++
        if (pos == start) fail("a key was expected")
        KEY = substr(src, start, pos - start)
    }
    # a component that is not a bare key can never equal a wanted one
    if (KEY !~ /^[A-Za-z0-9_-]+$/) KEY = "\"" KEY
}
# a dotted key: sets KN and KC[1..KN]
function dottedkey() {
    KN = 0
    while (1) {
        ws()
        simplekey()
        KC[++KN] = KEY
        ws()
        if (ch() != ".") return
        pos++
    }
}
function mlstring(q,   run) {
    pos += 3
    while (1) {
        if (pos > n) fail("unterminated multi-line string")
        if (ch() == "\n") { line++; pos++; continue }
        if (q == "\"" && ch() == "\\") {
            pos++
            if (ch() == "\n") line++
            pos++
            continue
        }
        if (substr(src, pos, 3) == q q q) {
            run = 3
            while (substr(src, pos + run, 1) == q) run++
            if (run > 5) fail("more than two quotes before the end of a multi-line string")
            pos += run
            return
        }
        pos++
    }
}
# a string value at pos; sets SVAL and SPLAIN (no escapes, plain-id characters only)
function string(   q, start, esc, from) {
    q = ch()
    from = pos
    if (substr(src, pos, 3) == q q q) {
        mlstring(q)
        SVAL = ""
        SPLAIN = 0
        NT = substr(src, from, pos - from)
        return
    }
    start = ++pos
    esc = 0
    while (pos <= n && ch() != q) {
        if (ch() == "\n") fail("unterminated string")
        if (q == "\"" && ch() == "\\") { esc = 1; pos++ }
        pos++
    }
    if (pos > n) fail("unterminated string")
    SVAL = substr(src, start, pos - start)
    pos++
    SPLAIN = !esc && SVAL ~ /^[a-z0-9][a-z0-9._:-]*$/
    NT = substr(src, from, pos - from)
}
# any value at pos; returns s (string), b (true/false), a (array), t (inline table), o (other).
# For a top-level array (depth 1), collects its strings in AV[1..AN] and sets APLAIN.
# Sets NT: the value as written, without comments or spaces outside strings.
function value(depth,   c, start, tok, t, buf, sep, key, i) {
    c = ch()
    if (c == "\"" || c == "'") { string(); return "s" }
    if (c == "[") {
        pos++
        if (depth == 1) { AN = 0; APLAIN = 1 }
        buf = "["
        sep = ""
        while (1) {
            wsnl()
            if (pos > n) fail("unterminated array")
            if (ch() == "]") { pos++; NT = buf "]"; return "a" }
            t = value(depth + 1)
            buf = buf sep NT
            sep = ","
            if (depth == 1) {
                if (t == "s" && SPLAIN) AV[++AN] = SVAL
                else APLAIN = 0
            }
            wsnl()
            if (ch() == ",") { pos++; continue }
            if (ch() == "]") { pos++; NT = buf "]"; return "a" }
            fail("unexpected text in an array")
        }
    }
    if (c == "{") {
        pos++
        ws()
        buf = "{"
        sep = ""
        if (ch() == "}") { pos++; NT = "{}"; return "t" }
        while (1) {
            dottedkey()
            key = KC[1]
            for (i = 2; i <= KN; i++) key = key "." KC[i]
            ws()
            if (ch() != "=") fail("'=' expected in an inline table")
            pos++
            ws()
            value(depth + 1)
            buf = buf sep key "=" NT
            sep = ","
            ws()
            if (ch() == ",") { pos++; ws(); continue }
            if (ch() == "}") { pos++; NT = buf "}"; return "t" }
            fail("unexpected text in an inline table")
        }
    }
    start = pos
    while (pos <= n && ch() ~ /[A-Za-z0-9_+.:-]/) pos++
    if (pos == start) fail("a value was expected")
    tok = substr(src, start, pos - start)
    # a date and a time may be separated by one space
    if (tok ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$/ && ch() == " " \
        && substr(src, pos + 1, 1) ~ /[0-9]/) {
        pos++
        while (pos <= n && ch() ~ /[A-Za-z0-9_+.:-]/) pos++
    }
    NT = substr(src, start, pos - start)
    if (tok == "true" || tok == "false") { BVAL = tok; return "b" }
    return "o"
}
# PAT of a concrete path; IDX the array-of-tables indexes on it
function join(a, b) { return a == "" ? b : a "." b }
function header(   aot, i, p, pat, idx, last) {
    aot = substr(src, pos, 2) == "[["
    pos += aot ? 2 : 1
    dottedkey()
    if (aot) {
        if (substr(src, pos, 2) != "]]") fail("']]' expected")
        pos += 2
    } else {
        if (ch() != "]") fail("']' expected")
        pos++
    }
    eol()
    p = ""
    pat = ""
    idx = ""
    for (i = 1; i <= KN; i++) {
        p = p SUBSEP KC[i]
        pat = join(pat, KC[i])
        if (pat in leaf) fail("[" pat "] redefines the key " pat)
        if (i < KN && (p in count)) {
            # through an array of tables: its last element
            last = count[p]
            p = p SUBSEP last
            pat = pat "[]"
            idx = idx (idx == "" ? "" : ",") last
        }
    }
    if (aot) {
        if (pat in table) fail("[[" pat "]] must be written [" pat "]")
        if (p in defined) fail("[[" pat "]] after [" pat "]")
        count[p]++
        idx = idx (idx == "" ? "" : ",") count[p]
        p = p SUBSEP count[p]
        pat = pat "[]"
        if (pat in table) printf "T\t%s\t%s\n", pat, idx
    } else {
        if ((pat "[]") in table) fail("[" pat "] must be written [[" pat "]]")
        if (p in defined || p in count) fail("[" pat "] is defined twice")
    }
    defined[p] = 1
    CUR = p
    CURPAT = pat
    CURIDX = idx
    if (aot && (pat in canon)) {
        CANON_P = p
        CANON_PAT = pat
        CANON_IDX = idx
    } else if (inside(p)) {
        canonical((aot ? "[[" : "[") relative(p) (aot ? "]]" : "]"))
    }
}
# within the element of a "c" array of tables being read, and the path relative to it
function inside(p) { return CANON_P != "" && (p == CANON_P || index(p, CANON_P SUBSEP) == 1) }
function relative(p,   rel) {
    rel = substr(p, length(CANON_P) + 2)
    gsub(SUBSEP, ".", rel)
    return rel
}
# one line of an element's text; backslash, tab and newline escaped so lines stay distinct
function canonical(text) {
    gsub(/\\/, "\\\\", text)
    gsub(/\t/, "\\t", text)
    gsub(/\n/, "\\n", text)
    printf "C\t%s\t%s\t%s\n", CANON_PAT, CANON_IDX, text
}
function keyval(   i, pat, p, t, k, kind, j, rel) {
    dottedkey()
    ws()
    if (ch() != "=") fail("'=' expected after a key")
    pos++
    ws()
    if (pos > n || ch() == "\n" || ch() == "#") fail("a value was expected")
    pat = CURPAT
    p = CUR
    for (i = 1; i <= KN; i++) {
        pat = join(pat, KC[i])
        p = p SUBSEP KC[i]
        if (i < KN && (pat in leaf || pat in table || (pat "[]") in table))
            fail("the dotted key " pat "... must be written as a [table]")
    }
    if (pat in table || (pat "[]") in table)
        fail(pat " must be written as a [" pat "] table, not as a value")
    if (inside(CUR)) {
        # (before the value: an inline table's keys are read into KC too)
        rel = relative(CUR)
        for (i = 1; i <= KN; i++) rel = rel (rel == "" ? "" : ".") KC[i]
    }
    t = value(1)
    eol()
    if (inside(CUR)) canonical(rel "=" NT)
    if (!(pat in leaf)) return
    if (p in seen) fail(pat " is given twice")
    seen[p] = 1
    kind = leaf[pat]
    if (kind == "s") {
        if (t != "s" || !SPLAIN) fail(pat " must be a plain string (letters, digits, . _ : -)")
        printf "V\t%s\t%s\t%s\n", pat, CURIDX == "" ? "-" : CURIDX, SVAL
    } else if (kind == "b") {
        if (t != "b") fail(pat " must be true or false")
        printf "V\t%s\t%s\t%s\n", pat, CURIDX == "" ? "-" : CURIDX, BVAL
    } else {
        if (t != "a" || !APLAIN) fail(pat " must be an array of plain strings")
        printf "E\t%s\t%s\n", pat, CURIDX == "" ? "-" : CURIDX
        for (j = 1; j <= AN; j++) printf "A\t%s\t%s\t%s\n", pat, CURIDX == "" ? "-" : CURIDX, AV[j]
    }
}
BEGIN {
    k = split(want, w, " ")
    for (i = 1; i <= k; i++) {
        eq = index(w[i], "=")
        name = substr(w[i], 1, eq - 1)
        if (substr(w[i], eq + 1) == "c") {
            canon[name] = 1
            table[name] = 1
        } else {
            leaf[name] = substr(w[i], eq + 1)
        }
        # every table on the way to a wanted key
        m = split(name, parts, ".")
        pat = ""
        for (j = 1; j < m; j++) {
            pat = join(pat, parts[j])
            table[pat] = 1
        }
    }
    src = ""
    first = 1
}
{
    sub(/\r$/, "")
    src = first ? $0 : src "\n" $0
    first = 0
}
END {
    n = length(src)
    pos = 1
    line = 1
    CUR = ""
    CURPAT = ""
    CURIDX = ""
    while (pos <= n) {
        ws()
        c = ch()
        if (pos > n) break
        if (c == "\n") { pos++; line++; continue }
        if (c == "#") { comment(); continue }
        if (c == "[") header()
        else keyval()
    }
}
"""

DERIVE_AWK = r"""# derive.awk - who must sign a contract version, and who may sign a snapshot, from the
# records toml.awk read out of people.toml, policy.toml and (for signers) contract.toml.
#
#   awk -v mode=signers -f derive.awk PEOPLE.rec POLICY.rec CONTRACT.rec BASE.rec
#       R <tab> PERSON     a required signer (one line each, unsorted)
#       B <tab> WHY        a requirement nobody can meet (the contract stays pending)
#   BASE.rec is the last approved version before this one ("BASE <tab> yes" and its
#   records) or "BASE <tab> none": the change co-signer of every term this version adds,
#   changes or removes relative to it must sign (the one named then, and the one now).
#   An element's C lines compare as a set.
#   awk -v mode=exporters -f derive.awk PEOPLE.rec POLICY.rec
#       X <tab> PERSON     a person the policy's [export] exporters authorise
#
# The same rule as workbench.signing.verdict.required_signers and
# workbench.signing.snapshot.authorised_exporters (tests/bundle/test_verify_sh_rules.py
# checks they agree); POLICY defaults as in keys/policy.toml when a key is absent.
function fail(what) {
    printf "ERROR\t%s\n", what
    failed = 1
    exit 3
}
# an element of this version and one of the base written the same (its lines as a set:
# the order of keys does not matter, and no key is written twice)
function same(i, j,   k, parts) {
    if (lines[3, i] != lines[4, j]) return 0
    for (k in line) {
        split(k, parts, SUBSEP)
        if (parts[1] == 3 && parts[2] == i && !((4, j, parts[3]) in line)) return 0
    }
    return 1
}
function need(file, pat, i,   key) {
    key = pat SUBSEP i
    if (!((file, key) in val)) fail(FILES[file] ": an entry of " pat " has no " pat)
    return val[file, key]
}
BEGIN { FS = "\t" }
FNR == 1 { file++ }
$1 == "T" { cnt[file, $2]++ }
$1 == "V" { val[file, $2 SUBSEP $3] = $4 }
$1 == "E" { has[file, $2] = 1 }
$1 == "A" { arr[file, $2, ++alen[file, $2]] = $4 }
$1 == "C" { line[file, $3, $4] = 1; lines[file, $3]++ }
$1 == "BASE" { hasbase = $2 == "yes" }
END {
    if (failed) exit 3
    FILES[1] = "people.toml"
    FILES[2] = "policy.toml"
    FILES[3] = "contract.toml"
    FILES[4] = "contract.toml (the last approved version)"
    # people.toml: team -> lead, person -> team (a later entry wins, as in a dict)
    for (i = 1; i <= cnt[1, "teams[]"]; i++) {
        id = need(1, "teams[].id", i)
        lead[id] = need(1, "teams[].lead", i)
    }
    for (i = 1; i <= cnt[1, "people[]"]; i++) {
        id = need(1, "people[].id", i)
        team[id] = need(1, "people[].team", i)
    }
    # policy.toml [approval] and [export]
    ct = ((2, "approval.compliance_team" SUBSEP "-") in val) ? val[2, "approval.compliance_team" SUBSEP "-"] : ""
    nsa = ((2, "approval.no_self_approval" SUBSEP "-") in val) ? val[2, "approval.no_self_approval" SUBSEP "-"] : "true"
    if (has[2, "approval.compliance_term_kinds"]) {
        for (i = 1; i <= alen[2, "approval.compliance_term_kinds"]; i++)
            kinds[arr[2, "approval.compliance_term_kinds", i]] = 1
    } else {
        kinds["representation"] = 1
    }
    if (mode == "exporters") {
        if (has[2, "export.exporters"]) {
            m = alen[2, "export.exporters"]
            for (i = 1; i <= m; i++) entry[i] = arr[2, "export.exporters", i]
        } else {
            m = split(DEFAULT_EXPORTERS, entry, " ")
        }
        for (i = 1; i <= m; i++) {
            e = entry[i]
            if (e == "admins") {
                for (j = 1; j <= alen[2, "admins"]; j++) print "X\t" arr[2, "admins", j]
            } else if (e == "compliance-lead") {
                if (ct != "" && (ct in lead)) print "X\t" lead[ct]
            } else if (e ~ /^lead:/) {
                t = substr(e, 6)
                if (t in lead) print "X\t" lead[t]
            } else {
                print "X\t" e
            }
        }
        exit 0
    }
    # contract.toml: the two party leads, every co-signer, the compliance lead
    for (s = 1; s <= 2; s++) {
        side = s == 1 ? "provider" : "consumer"
        t = need(3, "seam." side, "-")
        if (!(t in lead)) {
            print "B\t" side " team '" t "' is not in the registry's people.toml"
            continue
        }
        print "R\t" lead[t]
        party[lead[t]] = 1
    }
    nco = alen[3, "cosigners"]
    for (i = 1; i <= nco; i++) print "R\t" arr[3, "cosigners", i]
    # change co-signers: terms (by id, a later one wins) that differ from the base version
    for (i = 1; i <= cnt[3, "terms[]"]; i++) {
        id = need(3, "terms[].id", i)
        now[id] = i
        ids[id] = 1
    }
    if (hasbase) {
        for (i = 1; i <= cnt[4, "terms[]"]; i++) {
            id = need(4, "terms[].id", i)
            was[id] = i
            ids[id] = 1
        }
    }
    for (id in ids) {
        if ((id in now) && (id in was) && same(now[id], was[id])) continue
        if ((id in was) && ((4, "terms[].change_cosigner" SUBSEP was[id]) in val))
            print "R\t" val[4, "terms[].change_cosigner" SUBSEP was[id]]
        if ((id in now) && ((3, "terms[].change_cosigner" SUBSEP now[id]) in val))
            print "R\t" val[3, "terms[].change_cosigner" SUBSEP now[id]]
    }
    hit = 0
    for (i = 1; i <= cnt[3, "terms[]"]; i++) {
        if (need(3, "terms[].kind", i) in kinds) hit = 1
    }
    if (ct == "" || !hit) exit 0
    if (!(ct in lead)) {
        print "B\tcompliance team '" ct "' is not defined"
    } else if (nsa == "true" && (lead[ct] in party)) {
        independent = 0
        for (i = 1; i <= nco; i++) {
            p = arr[3, "cosigners", i]
            if (!(p in party) && (p in team) && team[p] == ct) independent = 1
        }
        if (!independent) {
            print "B\tno self-approval: " lead[ct] " leads a party of this seam and cannot also give its compliance sign-off"
        }
    } else {
        print "R\t" lead[ct]
    }
}
"""


def _build() -> str:
    from workbench.bundle.verify_sh_runs import RUNS_SH

    limits = DEFAULT_LIMITS
    # The findings runs' section lives in its own module (one job), before the evidence.
    from workbench.bundle.verify_sh_clocks import CLOCKS_SH

    script = VERIFY_SH_TEMPLATE.replace(
        "# --- 6. evidence", RUNS_SH + CLOCKS_SH + "# --- 6. evidence", 1
    )
    for name, value in (
        ("@TOML_AWK@", TOML_AWK.rstrip("\n")),
        ("@DERIVE_AWK@", DERIVE_AWK.rstrip("\n")),
        ("@DEFAULT_EXPORTERS@", " ".join(DEFAULT_EXPORTERS)),
        ("@MAX_COMPRESSED@", str(limits.max_compressed)),
        ("@MAX_TOTAL@", str(limits.max_total)),
        ("@MAX_RATIO@", str(limits.max_ratio)),
        ("@RATIO_FLOOR@", str(limits.ratio_floor)),
        ("@MAX_MEMBERS@", str(limits.max_members)),
    ):
        assert name in script, name
        script = script.replace(name, value)
    return script


# The exact script every bundle ships and `workbench verify-script` prints; its sha256 is
# what the organisation gives the auditor next to the trust root.
VERIFY_SH = _build()
VERIFY_SH_SHA256 = hashlib.sha256(VERIFY_SH.encode()).hexdigest()
