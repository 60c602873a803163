"""VERIFY.sh's sections 3 and 3b: the exporter's snapshot (signature, authority from the
signed policy, subjects) and the signed index bundle.json, the earlier snapshots' chain,
and the head map (heads.json) against a snapshot the auditor kept (rollback and fork)."""

SNAPSHOT_SH = r"""# --- 3. the exporter's snapshot and the signed index ---------------------------------------
SJ_SUMS='.subject[] | "\(.digest.sha256)  \(.name)"'
SJ_NAMES='[.subject[].name] | sort | join(" ")'
SJ_HEAD='[.predicate.snapshotVersion, .predicate.expires, (.predicate.previousSnapshot // "null"),
    .predicate.repository] | map(tostring) | join(" ")'
SJ_EXPORTED='.predicate.exportedAt'
jfields snapshot.json sj sums "$SJ_SUMS" names "$SJ_NAMES" head "$SJ_HEAD" exported "$SJ_EXPORTED"
SNAPSIG=snapshot.$EXPORTER.sig
if [ -f "$SNAPSIG" ] && ssh-keygen -Y verify -f "$HD/allowed_signers" -r "$HD/revoked_keys" \
    -I "$EXPORTER" -n "$NS_SNAP" -s "$SNAPSIG" <snapshot.json >/dev/null 2>&1; then
    ok "snapshot.json is signed by the exporter $EXPORTER (registry v$HEADV)"
else
    fail "snapshot.json: no valid signature by the exporter $EXPORTER"
fi
# Only someone the signed policy names may sign a snapshot (keys/policy.toml [export]).
EXPORTER_PERSON=${EXPORTER%@*}
if [ "$(bj person "$BJ_PERSON")" != "$EXPORTER_PERSON" ]; then
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
jf sj sums "$SJ_SUMS" snapshot.json >"$W/snap.sums"
expected_subjects="$HD/statement.json bundle.json"
if [ -f heads.json ]; then expected_subjects="$HD/statement.json bundle.json heads.json"; fi
if [ "$(jf sj names "$SJ_NAMES" snapshot.json)" = "$(printf '%s\n' $expected_subjects | sort | tr '\n' ' ' | sed 's/ $//')" ] \
    && sha256sum -c --quiet --strict "$W/snap.sums" >/dev/null 2>&1; then
    ok "snapshot subjects: $expected_subjects match"
else
    fail "snapshot subjects do not match $expected_subjects"
fi
# shellcheck disable=SC2046
set -- $(jf sj head "$SJ_HEAD" snapshot.json)
SNAPV=${1:-?} EXPIRES=${2:-?} SNAPPREV=${3:-?}
if [ "${4:-?}" != "$REPO" ]; then fail "the snapshot names another repository than registry v1"; fi
bj sums "$BJ_SUMS" >"$W/index.sums"
if sha256sum -c --quiet --strict "$W/index.sums" >"$W/index.out" 2>&1; then
    ok "bundle.json (signed) lists the sha256 of every file and they match"
else
    fail "files differ from the signed index bundle.json:"
    sed 's/^/      /' "$W/index.out"
fi
{
    bj keys "$BJ_KEYS"
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
"""

HEADS_SH = r"""# --- 3b. the head map: the registry head, every signed contract's head and the head findings
# runs, signed with the snapshot; it must agree with bundle.json and the runs' statements
if [ -f heads.json ]; then
    whole=$(bj whole "$BJ_WHOLE")
    case $whole in true | false) ;; *) whole=false ;; esac
    jq -r --slurpfile h heads.json --arg rv "$HEADV" --arg rs "$(sha "$HD/statement.json")" \
        --argjson whole "$whole" '
        $h[0] as $m
        | if ($m | type) != "object" or ($m.contracts | type) != "object"
            or (($m | keys) != ["contracts", "format", "registry"] or $m.format != "handshake-workbench/heads@1")
            and (($m | keys) != ["contracts", "format", "registry", "runs"]
                 or $m.format != "handshake-workbench/heads@2" or ($m.runs | type) != "object")
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
             else empty end),
            (if $m.format == "handshake-workbench/heads@2" then
                (($m.runs | keys | max) // "") as $newest
                | ([.findings[]? | select(.statement != null) | .run | tostring
                    | select(.[0:16] > $newest[0:16] and $m.runs[.] == null)]
                   | if length > 0 then "findings run(s) newer than every head run heads.json names: \(join(", "))" else empty end),
                  ($m.runs | to_entries[]
                   | if (.key | test("^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{10}$")) and (.value | type) == "object"
                       and (.value | keys) == ["statementSha256"]
                     then "RUN \(.key) \(.value.statementSha256) \(if $whole then "whole" else "period" end)"
                     else "heads.json: runs: not a head run entry" end)
             else empty end)
          end' bundle.json >"$W/heads.raw" 2>&1 || echo "heads.json cannot be read" >>"$W/heads.raw"
    grep -v '^RUN ' "$W/heads.raw" >"$W/heads.out" || :
    nrun=0
    grep '^RUN ' "$W/heads.raw" >"$W/heads.runs" || :
    while read -r _ run rsha whole; do
        nrun=$((nrun + 1))
        if [ -f "findings/runs/$run.statement.json" ]; then
            if [ "$(sha "findings/runs/$run.statement.json")" != "$rsha" ]; then
                echo "head findings run $run: another statement than heads.json names" >>"$W/heads.out"
            fi
        elif [ "$whole" = whole ]; then
            echo "head findings run $run: its statement is not in the bundle" >>"$W/heads.out"
        fi
    done <"$W/heads.runs"
    if [ -s "$W/heads.out" ]; then
        fail "heads: $(head -n 5 "$W/heads.out" | tr '\n' ';')"
    else
        ok "heads.json: registry v$HEADV, $(j heads.json '.contracts | length') contract head(s) of the repository and $nrun head findings run(s), consistent with bundle.json"
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
             else "\($c): not a contract id" end),
          (if ($new | has("runs")) then
             (($new.runs | keys | max) // "") as $newest
             | (($old.runs // {}) | to_entries[] | .key as $r | .value.statementSha256 as $s | $new.runs[$r] as $x
                | if $x != null and $x.statementSha256 != $s
                  then "findings run \($r): another statement than in \($n) (fork)"
                  elif $x == null and $newest[0:16] <= $r[0:16]
                  then "findings run \($r) was a head in \($n); no later head run now (rollback of the findings)"
                  elif $x == null and ($r | test("^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{10}$")) then "RUNCHECK \($r) \($s)"
                  else empty end)
           else empty end)' "$W/now.heads" >"$W/since.raw" 2>&1 \
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
        RUNCHECK)
            if [ -f "findings/runs/$_a.statement.json" ] && [ "$(sha "findings/runs/$_a.statement.json")" != "$_b" ]; then
                echo "findings run $_a: another statement than in $_name (fork)" >>"$W/since"
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

"""
