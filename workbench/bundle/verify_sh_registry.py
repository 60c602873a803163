"""VERIFY.sh's section 2: the key registry chain v1..vN from the pinned root, each version's
statement, admin signatures (ssh-keygen) and files, as ``signing.registry_chain.walk_chain``
checks it in Python."""

REGISTRY_SH = r"""# --- 2. the key registry chain from the pinned root --------------------------------------
REG_HEAD='[(.predicate.registry.version | if type == "number" then . else "?" end), (.predicate.registry.previous.statementSha256 // "none"),
    (.subject | map(select(.name == "keys/allowed_signers" or .name == "keys/revoked_keys"
    or .name == "keys/policy.toml" or .name == "keys/people.toml") | .name + "=" + .digest.sha256)
    | sort | join(","))] | map(tostring) | join(" ")'
REG_ADMINS='[.predicate.threshold | if type == "number" then . else "?" end] + ([.predicate.admins[].principal] | unique) | map(tostring) | join(" ")'
REG_REPO='.predicate.repository'
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
        # every field of this version's statement the chain reads, from one jq
        jfields "$st" "reg$v" head "$REG_HEAD" admins "$REG_ADMINS" repo "$REG_REPO"
        # shellcheck disable=SC2046
        set -- $(jf "reg$v" head "$REG_HEAD" "$st")
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
            set -- $(jf "reg$k" admins "$REG_ADMINS" "$base/statement.json")
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
REPO=$(jf reg1 repo "$REG_REPO" registry/v1/statement.json)
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

"""
