"""VERIFY.sh's section 4: per contract, the statement chain v1..head, the subject digest, every
signature file as the principal its name claims, and the required signers derived from the
signed people.toml and policy.toml (``derive.awk``) against required.json."""

CONTRACTS_SH = r"""# --- 4. contracts -------------------------------------------------------------------------------
bj contracts "$BJ_CONTRACTS" >"$W/contracts"
CONTRACT_HEAD='[(.subject | length), .subject[0].name, .subject[0].digest.sha256,
    .predicate.contract.id, (.predicate.contract.version | if type == "number" then . else "?" end), .predicate.repository,
    (.predicate.contract.previous.statementSha256 // "none"), (.predicate.registry.version | if type == "number" then . else "?" end),
    .predicate.registry.statementSha256] | map(tostring) | join(" ")'
CONTRACT_REQUIRED='[(.blocked | length)] + (.required | sort) | map(tostring) | join(" ")'
# The versions the loop below reads, in its order (up to the first missing statement): their
# statements and required.json each from one jq, their sha256 from one sha256sum (jrows and
# sums fall back to one j and one sha per file, as before)
: >"$W/versions"
while read -r cid head curfile headsha; do
    case $head in none | '' | *[!0-9]*) continue ;; esac
    n=1
    while [ "$n" -le "$head" ] 2>/dev/null && [ -f "contracts/$cid/v$n/statement.json" ]; do
        printf '%s\n' "contracts/$cid/v$n" >>"$W/versions"
        n=$((n + 1))
    done
done <"$W/contracts"
sed 's|$|/statement.json|' "$W/versions" >"$W/versions.st"
sed 's|$|/required.json|' "$W/versions" >"$W/versions.req"
sed 's|$|/contract.toml|' "$W/versions" >"$W/versions.toml"
if jrows "$W/versions.st" "$W/versions.rows" "one($CONTRACT_HEAD)"; then vfast=1; else vfast=0; fi
if jrows "$W/versions.req" "$W/versions.reqrows" "one($CONTRACT_REQUIRED)"; then qfast=1; else qfast=0; fi
if sums "$W/versions.toml" "$W/versions.tsums"; then tsums=1; else tsums=0; fi
if sums "$W/versions.st" "$W/versions.ssums"; then ssums=1; else ssums=0; fi
while read -r cid head curfile headsha; do
    if [ "$head" = "none" ]; then
        note "contract $cid: draft (never signed)"
        continue
    fi
    case $head in '' | *[!0-9]* | 0)
        fail "contract $cid: bundle.json's head is not a version number"
        continue ;;
    esac
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
        if [ "$vfast" = 1 ]; then IFS= read -r c_head <&4; else c_head=$(j "$st" "$CONTRACT_HEAD"); fi
        if [ "$qfast" = 1 ]; then IFS= read -r c_req <&5; fi
        if [ "$tsums" = 1 ]; then IFS= read -r c_tsha <&7; else c_tsha=$(sha "$d/contract.toml"); fi
        if [ "$ssums" = 1 ]; then IFS= read -r c_ssha <&8; else c_ssha=$(sha "$st"); fi
        # shellcheck disable=SC2086
        set -- ${c_head#=}
        if [ "${1:-?}" != 1 ] || [ "${2:-?}" != "contracts/$cid.toml" ]; then
            fail "$cid v$n: the statement is not about contracts/$cid.toml"
            cfail=1
        fi
        if [ "$c_tsha" != "${3:-?}" ]; then
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
        case $rv in '' | *[!0-9]*)
            fail "$cid v$n: the statement names no registry version"
            cfail=1
            rv=1 ;;
        esac
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
        if [ "$qfast" = 1 ]; then c_req=${c_req#=}; else c_req=$(j "$d/required.json" "$CONTRACT_REQUIRED"); fi
        if [ "$known" -eq 1 ] && [ "$c_req" != "$derived_line" ]; then
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
        prev=$c_ssha
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
done <"$W/contracts" 4<"$W/versions.rows" 5<"$W/versions.reqrows" 7<"$W/versions.tsums" \
    8<"$W/versions.ssums"

"""
