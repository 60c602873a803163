"""VERIFY.sh: the auditor's stock-tool verifier shipped inside every bundle.

POSIX sh (``set -eu``), needing only ssh-keygen (OpenSSH >= 8.2), sha256sum and jq, plus
the usual POSIX utilities (cut, sort, cmp, diff, find, sed, awk, mktemp). Tested for real
under ``sh`` (dash) in tests/bundle. Its checks mirror ``workbench verify-bundle``:
see docs/audit.md for what each one means and where the two differ.
"""

VERIFY_SH = r"""#!/bin/sh
# Verify this Handshake Workbench audit bundle with stock tools only:
#   ssh-keygen (OpenSSH >= 8.2), sha256sum and jq.
#
# Usage (from anywhere; it checks the directory it lives in):
#   sh VERIFY.sh ROOT_SHA256 [PREVIOUS_SNAPSHOT_SHA256]
#
#   ROOT_SHA256  sha256 of registry v1's statement.json, obtained OUT OF BAND (engagement
#                letter, an earlier audit). Never take it from this bundle.
#   PREVIOUS_SNAPSHOT_SHA256  sha256 of the snapshot.json you verified last time: this
#                bundle must be that snapshot or extend it (rollback/fork check).
#   STRICT=1     also fail when a contract is not approved or the snapshot has expired.
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
        echo "run it as: sh path/to/VERIFY.sh ROOT_SHA256 [PREVIOUS_SNAPSHOT_SHA256]" >&2
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
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: sh VERIFY.sh ROOT_SHA256 [PREVIOUS_SNAPSHOT_SHA256]" >&2
    exit 2
fi
ROOT=$1
PREV=${2:-}
STRICT=${STRICT:-0}
for tool in ssh-keygen sha256sum jq; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "VERIFY.sh needs $tool" >&2
        exit 2
    fi
done
cd "$(dirname "$0")"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT HUP INT TERM
FAILS=0
ok() { printf 'OK    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; FAILS=$((FAILS + 1)); }
warn() { printf 'WARN  %s\n' "$*"; }
note() { printf 'NOTE  %s\n' "$*"; }
sha() {
    if [ -f "$1" ]; then sha256sum <"$1" | cut -c1-64; else echo "(missing)"; fi
}
j() {
    # jq -r on a file; prints "?" when the file is missing or not JSON
    _file=$1
    shift
    if [ -f "$_file" ]; then jq -r "$@" "$_file" 2>/dev/null || echo "?"; else echo "?"; fi
}

# --- 1. files and hashes -------------------------------------------------------------
if [ ! -f SHA256SUMS ]; then
    fail "SHA256SUMS is missing"
elif sha256sum -c --quiet --strict SHA256SUMS >"$TMP/sums.out" 2>&1; then
    ok "sha256sum -c SHA256SUMS: every listed file matches"
else
    fail "sha256sum -c SHA256SUMS:"
    sed 's/^/      /' "$TMP/sums.out"
fi
find . -type f | sed 's|^\./||' | sort >"$TMP/have"
{ if [ -f SHA256SUMS ]; then cut -c67- SHA256SUMS; fi; echo SHA256SUMS; } | sort >"$TMP/listed"
if cmp -s "$TMP/have" "$TMP/listed"; then
    ok "SHA256SUMS covers every file, none missing, none extra"
else
    fail "the files differ from SHA256SUMS:"
    diff "$TMP/listed" "$TMP/have" | sed -n 's/^< /      missing: /p; s/^> /      extra:   /p'
fi
special=$(find . ! -type f ! -type d | head -n 5)
if [ -n "$special" ]; then fail "links or special files in the bundle: $special"; fi

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
        for k in $old $v; do
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

# --- 3. the exporter's snapshot and the signed index ---------------------------------------
SNAPSIG=snapshot.$EXPORTER.sig
if [ -f "$SNAPSIG" ] && ssh-keygen -Y verify -f "$HD/allowed_signers" -r "$HD/revoked_keys" \
    -I "$EXPORTER" -n "$NS_SNAP" -s "$SNAPSIG" <snapshot.json >/dev/null 2>&1; then
    ok "snapshot.json is signed by the exporter $EXPORTER (registry v$HEADV)"
else
    fail "snapshot.json: no valid signature by the exporter $EXPORTER"
fi
j snapshot.json '.subject[] | "\(.digest.sha256)  \(.name)"' >"$TMP/snap.sums"
if grep -q "  bundle.json\$" "$TMP/snap.sums" && grep -q "  $HD/statement.json\$" "$TMP/snap.sums" \
    && sha256sum -c --quiet --strict "$TMP/snap.sums" >/dev/null 2>&1; then
    ok "snapshot subjects: bundle.json and the registry head v$HEADV match"
else
    fail "snapshot subjects do not match bundle.json and $HD/statement.json"
fi
# shellcheck disable=SC2046
set -- $(j snapshot.json '[.predicate.snapshotVersion, .predicate.expires, (.predicate.previousSnapshot // "null"),
    .predicate.repository] | map(tostring) | join(" ")')
SNAPV=${1:-?} EXPIRES=${2:-?} SNAPPREV=${3:-?}
if [ "${4:-?}" != "$REPO" ]; then fail "the snapshot names another repository than registry v1"; fi
j bundle.json '.files | to_entries[] | "\(.value)  \(.key)"' >"$TMP/index.sums"
if sha256sum -c --quiet --strict "$TMP/index.sums" >"$TMP/index.out" 2>&1; then
    ok "bundle.json (signed) lists the sha256 of every file and they match"
else
    fail "files differ from the signed index bundle.json:"
    sed 's/^/      /' "$TMP/index.out"
fi
{
    j bundle.json '.files | keys[]'
    printf '%s\n' bundle.json snapshot.json SHA256SUMS "$SNAPSIG"
} | sort -u >"$TMP/indexed"
if cmp -s "$TMP/indexed" "$TMP/have"; then
    ok "the signed index covers every file, none missing, none extra"
else
    fail "the files differ from the signed index:"
    diff "$TMP/indexed" "$TMP/have" | sed -n 's/^< /      missing: /p; s/^> /      extra:   /p'
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
if [ -n "$PREV" ]; then
    found=""
    if [ "$(sha snapshot.json)" = "$PREV" ]; then found=$SNAPV; fi
    k=1
    while [ "$k" -lt "$SNAPV" ]; do
        if [ "$(sha "exports/v$k.snapshot.json")" = "$PREV" ]; then found=$k; fi
        k=$((k + 1))
    done
    if [ -n "$found" ] && [ "$chain_ok" -eq 1 ]; then
        ok "snapshot v$SNAPV is or extends the snapshot you kept (v$found)"
    else
        fail "ROLLBACK or FORK: this bundle does not extend the snapshot $PREV you kept"
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
    (.value.head_statement_sha256 // "none")] | map(tostring) | join(" ")' >"$TMP/contracts"
while read -r cid head curfile headsha; do
    if [ "$head" = "none" ]; then
        note "contract $cid: draft (never signed)"
        continue
    fi
    n=1
    prev=""
    cfail=0
    state=""
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
        if [ "$(sha "registry/v$rv/statement.json")" != "$rsha" ]; then
            fail "$cid v$n: names registry v$rv with a digest that is not in the chain"
            cfail=1
        fi
        # every signature file must verify as the principal its name claims
        current=1
        for sig in "$d"/statement.*.sig; do
            [ -f "$sig" ] || continue
            p=${sig#"$d"/statement.}
            p=${p%.sig}
            if verify_any "$p" "$NS_CON" "$sig" "$st" "$rv"; then
                :
            else
                fail "$cid v$n: $(basename "$sig") does not verify as $p (bad, revoked or unregistered key)"
                cfail=1
            fi
        done
        missing=""
        # shellcheck disable=SC2046
        set -- $(j "$d/required.json" '[(.blocked | length)] + .required | map(tostring) | join(" ")')
        blocked=${1:-?}
        if [ $# -gt 0 ]; then shift; fi
        for p in "$@"; do
            if [ -f "$d/statement.$p.sig" ] && verify_any "$p" "$NS_CON" "$d/statement.$p.sig" "$st" "$rv"; then
                if [ "$WHERE" != "$HEADV" ]; then current=0; fi
            else
                missing="$missing $p"
            fi
        done
        if [ -n "$missing" ] || [ "$blocked" != 0 ]; then
            state="pending (missing:${missing:- none}; blocked requirements: $blocked)"
        elif [ "$n" -eq "$head" ] && [ "$current" -eq 0 ]; then
            state="approved when signed, but a signer's key is no longer in the registry head (stale)"
        else
            state="approved"
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
done <"$TMP/contracts"

# --- 5. signed records: reviews, acknowledgements, receipts, closures ----------------------------
find . -path './reviews/*' -name '*.statement.json' -o -path './acks/*' -name '*.statement.json' \
    -o -path './reports/*' -name '*.statement.json' \
    -o -path './findings/closures/*' -name '*.statement.json' | sed 's|^\./||' | sort >"$TMP/records"
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
done <"$TMP/records"
ok "$nrec signed review/acknowledgement/receipt/closure records verified"

# --- 5b. record times: not before the parent commit or what it answers, not after its own
# commit or the export (300 s skew); the times of commits are as bundle.json (signed) says.
jq -r '.records[]? | [.path, (.commit_time // "-"), (.parent_time // "-"), (.answers_time // "-")]
    | join(" ")' bundle.json 2>/dev/null >"$TMP/record-times" || : >"$TMP/record-times"
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
done <"$TMP/record-times"
ok "$ntime record time(s) hold against their commits and the export"
if [ -n "$(find . -path './findings/closures/*' -name '*.exempt-approve.toml' 2>/dev/null)" ]; then
    warn "exemptions: their signatures are checked above, but whether each approver had the authority the signed policy names is checked by \`workbench verify-bundle\` only"
fi
if [ -f findings/closures.toml ]; then
    note "findings/closures.toml: unsigned legacy closures; they do not count in a repository with a key registry"
fi

# --- 6. evidence --------------------------------------------------------------------------------
nev=0
j bundle.json '.evidence.snapshots[] | select(.included) | "\(.sha256)  \(.path)"' >"$TMP/evidence.sums"
if [ -s "$TMP/evidence.sums" ]; then
    if sha256sum -c --quiet --strict "$TMP/evidence.sums" >/dev/null 2>&1; then
        nev=$(wc -l <"$TMP/evidence.sums" | tr -d ' ')
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

# The findings runs' section lives in its own module (one job); it runs before the evidence.
from workbench.bundle.verify_sh_runs import RUNS_SH  # noqa: E402

VERIFY_SH = VERIFY_SH.replace("# --- 6. evidence", RUNS_SH + "# --- 6. evidence", 1)
