"""VERIFY.sh's check of the findings runs (see `workbench.bundle.runs` and docs/audit.md):
each run's files against its statement, the runner's signature with ssh-keygen, the runner's
authority from the signed policy.toml (read by VERIFY.sh's strict toml.awk; a runner named
only through a team:<team> entry is a WARN, never OK), and the run's time against its
commits. Section 5c of VERIFY.sh (see ``workbench.bundle.verify_sh.SECTIONS``)."""

RUNS_SH = r"""# --- 5c. findings runs: each signed by its runner, authorised by the signed policy ---------
bj_or_none runs "$BJ_RUNS" "$W/runs"
RUN_HEAD='[(.subject | length), .subject[0].name, .subject[0].digest.sha256,
    .subject[1].name, .subject[1].digest.sha256, .predicate.run, .predicate.runner,
    .predicate.repository, (.predicate.registry.version | if type == "number" then . elif . == null then "none" else "?" end),
    (.predicate.registry.statementSha256 // "none")] | map(tostring) | join(" ")'
# A run's time (T) against its commit (C), parent commit (P) and the export (N)
RUN_TIME_RULE='
    def s(x): if x == "-" or x == "" then null else (x | fromdateiso8601) end;
    (s($t)) as $t | (s($c)) as $c | (s($p)) as $p | (s($n)) as $n
    | if $t == null then "states no readable time"
      elif $c == null then "bundle.json gives no commit time for it"
      elif $p != null and $t < $p - 300 then "dated before its parent commit: backdated"
      elif $t > $c + 300 then "dated after its own commit"
      elif $n != null and $t > $n + 300 then "dated after the export: future-dated"
      else "" end'
# The signed runs' statements, times and time verdicts each from one jq (jrows falls back
# to one j per file, as before)
: >"$W/runs.signed"
: >"$W/runs.st"
: >"$W/runs.files"
while read -r rpath rid rst rsig rrunner rledger rcommit rparent; do
    if [ "$rst" = "-" ]; then continue; fi
    printf '%s\n' "$rst" >>"$W/runs.st"
    printf '%s\n' "$rpath" >>"$W/runs.files"
    printf '%s\n' "$rcommit" "$rparent" >>"$W/runs.signed"
done <"$W/runs"
if jrows "$W/runs.st" "$W/runs.rows" "one($RUN_HEAD)"; then ufast=1; else ufast=0; fi
wfast=0
: >"$W/runs.why"
if jrows "$W/runs.files" "$W/runs.times" "one(.time)"; then
    while IFS= read -r rcommit && IFS= read -r rparent; do
        IFS= read -r rwhen <&4
        printf '%s\n' "${rwhen#=}" "$rcommit" "$rparent"
    done <"$W/runs.signed" 4<"$W/runs.times" >"$W/runs.in"
    if jq -nrR --arg n "$EXPORTED" '[inputs] as $l | range(0; $l | length; 3) as $i
        | $l[$i] as $t | $l[$i + 1] as $c | $l[$i + 2] as $p
        | try ('"$RUN_TIME_RULE"') catch "its times cannot be read"' \
        <"$W/runs.in" >"$W/runs.why" 2>/dev/null \
        && [ "$(wc -l <"$W/runs.why" | tr -d ' ')" -eq "$(wc -l <"$W/runs.st" | tr -d ' ')" ]; then
        wfast=1
    fi
fi
nrun=0
nauth=0
while read -r rpath rid rst rsig rrunner rledger rcommit rparent; do
    if [ "$rst" = "-" ]; then
        warn "$rpath: not signed (a run of earlier versions); only verify-bundle checks it against the signed ledger that folded it"
        continue
    fi
    if [ "$ufast" = 1 ]; then IFS= read -r u_head <&4; else u_head=$(j "$rst" "$RUN_HEAD"); fi
    if [ "$wfast" = 1 ]; then IFS= read -r u_why <&5; fi
    # shellcheck disable=SC2086
    set -- ${u_head#=}
    if [ "${1:-?}" != 2 ] || [ "${2:-?}" != "$rpath" ] || [ "${4:-?}" != "$rledger" ] \
        || [ "${6:-?}" != "$rid" ] || [ "${7:-?}" != "$rrunner" ] || [ "${8:-?}" != "$REPO" ]; then
        fail "$rpath: its statement is not about this run, runner and repository"
        continue
    fi
    if [ "$(sha "$rpath")" != "${3:-?}" ] || [ "$(sha "$rledger")" != "${5:-?}" ]; then
        fail "$rpath: the findings or the ledger do not match the signed statement (changed after signing)"
        continue
    fi
    rv=${9:-?}
    case $rv in '' | *[!0-9]*) fail "$rpath: the statement names no registry version"; continue ;; esac
    if [ "$(sha "registry/v$rv/statement.json")" != "${10:-?}" ]; then
        fail "$rpath: names registry v$rv with a digest that is not in the chain"
        continue
    fi
    if [ "$rsig" = "-" ] || ! verify_any "$rrunner@$DOMAIN" "$NS_REV" "$rsig" "$rst" "$rv"; then
        fail "$rpath: no valid signature by its runner $rrunner"
        continue
    fi
    # Authority: [evaluation] runners of the policy.toml registry v$rv signed, read by toml.awk
    # (plain layout only, else it fails closed). A person named there is derived here; a
    # team:<team> entry needs the people who had left, which only verify-bundle reads.
    if ! toml_read "registry/v$rv/policy.toml" 'evaluation.runners=a' "$W/runners.$rv"; then
        fail "$rpath: who may sign runs cannot be read: $READ_ERR"
        continue
    fi
    if awk -F '\t' -v r="$rrunner" '$1 == "A" && $4 == r { f = 1 } END { exit !f }' "$W/runners.$rv"; then
        nauth=$((nauth + 1))
    elif awk -F '\t' '$1 == "A" && $4 ~ /^team:/ { f = 1 } END { exit !f }' "$W/runners.$rv"; then
        warn "$rpath: signed by $rrunner; whether a team the policy of registry v$rv names includes $rrunner is not derived with stock tools: verify-bundle checks it"
    else
        fail "$rpath: $rrunner is not an authorised runner in registry v$rv's policy ([evaluation] runners)"
        continue
    fi
    if [ "$wfast" = 1 ]; then
        why=$u_why
    else
        rwhen=$(j "$rpath" '.time')
        why=$(jq -nr --arg t "$rwhen" --arg c "$rcommit" --arg p "$rparent" --arg n "$EXPORTED" \
            "$RUN_TIME_RULE" 2>/dev/null || echo "its times cannot be read")
    fi
    if [ -n "$why" ]; then
        fail "$rpath: $why"
        continue
    fi
    nrun=$((nrun + 1))
done <"$W/runs" 4<"$W/runs.rows" 5<"$W/runs.why"
ok "$nrun findings run(s): files match the runner's signed statement, signature and time hold; $nauth of them by a runner the signed policy names"
for rfile in findings/*.json; do
    [ -f "$rfile" ] || continue
    if ! cut -d' ' -f1 "$W/runs" | grep -qxF "$rfile"; then
        fail "$rfile: a findings run not listed in bundle.json"
    fi
done

"""
