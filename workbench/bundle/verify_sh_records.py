"""VERIFY.sh's sections 5 and 5b: signed records (reviews, acknowledgements, receipts,
closures, clocks, page acknowledgements and deliveries) against their statements and signers, and each record's time against the commits
bundle.json places it in (``governance.record_time``'s rule)."""

RECORDS_SH = r"""# --- 5. signed records: reviews, acknowledgements, receipts, closures, clocks, pages ---------------
find . -path './reviews/*' -name '*.statement.json' -o -path './acks/*' -name '*.statement.json' \
    -o -path './reports/*' -name '*.statement.json' \
    -o -path './findings/closures/*' -name '*.statement.json' \
    -o -path './clocks/*' -name '*.statement.json' \
    -o -path './evidence/registrations/*' -name '*.statement.json' \
    -o -path './notify/page-acks/*' -name '*.statement.json' \
    -o -path './notify/deliveries/*' -name '*.statement.json' | sed 's|^\./||' | sort >"$W/records"
RECORD_HEAD='[.subject[0].name, .subject[0].digest.sha256, .predicate.person,
    (.predicate.registry.version | if type == "number" then . else "?" end)] | map(tostring) | join(" ")'
# Every statement's fields from one jq, every record's sha256 from one sha256sum (jrows and
# sums fall back to one j and one sha per file, as before, for a file they cannot read so).
if jrows "$W/records" "$W/records.rows" "one($RECORD_HEAD), one(.predicate.act),
    one(.predicate.clock), one(.predicate.violation), one(.predicate.contract),
    one(.predicate.key), one(.predicate.snapshot)"; then rfast=1; else rfast=0; fi
sed 's/\.statement\.json$/.toml/' "$W/records" >"$W/records.toml"
if sums "$W/records.toml" "$W/records.sums"; then rsums=1; else rsums=0; fi
nrec=0
while read -r st; do
    stem=${st%.statement.json}
    rec=$stem.toml
    if [ "$rfast" = 1 ]; then
        IFS=$TAB read -r r_head r_act r_clk r_viol r_con r_key r_snap <&4
        r_head=${r_head#=} r_act=${r_act#=} r_clk=${r_clk#=} r_viol=${r_viol#=}
        r_con=${r_con#=} r_key=${r_key#=} r_snap=${r_snap#=}
    else
        r_head=$(j "$st" "$RECORD_HEAD")
    fi
    if [ "$rsums" = 1 ]; then IFS= read -r r_sha <&5; else r_sha=$(sha "$rec"); fi
    # shellcheck disable=SC2086
    set -- $r_head
    if [ "${1:-?}" != "$rec" ] || [ "$r_sha" != "${2:-?}" ]; then
        fail "$rec: does not match its statement"
        continue
    fi
    case $st in acks/*) ns=$NS_ACK ;; *) ns=$NS_REV ;; esac
    case $st in
    clocks/*)
        # A clock record's statement must name the clock, person and act its name claims.
        if [ "$rfast" = 0 ]; then
            r_act=$(j "$st" '.predicate.act')
            r_clk=$(j "$st" '.predicate.clock')
        fi
        act=$r_act
        clk=$r_clk
        case $rec in
        "clocks/$clk/"*".${3:-?}.$act.toml") ;;
        *)
            fail "$rec: the statement is for another clock, person or act"
            continue
            ;;
        esac
        ;;
    notify/page-acks/*)
        # A page acknowledgement's statement must name the violation and person its name
        # claims, and the contract the record names.
        if [ "$rfast" = 0 ]; then
            r_viol=$(j "$st" '.predicate.violation')
            r_con=$(j "$st" '.predicate.contract')
        fi
        viol=$r_viol
        said=$(sed -n -E 's/^contract = "([^"]*)"$/\1/p' "$rec" | head -n 1)
        case $rec in
        "notify/page-acks/$viol/"*".${3:-?}.toml") ;;
        *) said="" ;;
        esac
        if [ -z "$said" ] || [ "$said" != "$r_con" ]; then
            fail "$rec: the statement is for another violation, delivery or person"
            continue
        fi
        ;;
    notify/deliveries/*)
        # A delivery's statement must name the key (its first 16 digits are the folder)
        # and person its name claims, and the key the record names.
        if [ "$rfast" = 0 ]; then r_key=$(j "$st" '.predicate.key'); fi
        key=$r_key
        said=$(sed -n -E 's/^key = "([0-9a-f]{64})"$/\1/p' "$rec" | head -n 1)
        case $rec in
        "notify/deliveries/$(printf '%.16s' "$key")/"*".${3:-?}.toml") ;;
        *) said="" ;;
        esac
        if [ -z "$said" ] || [ "$said" != "$key" ]; then
            fail "$rec: the statement is for another violation, delivery or person"
            continue
        fi
        ;;
    findings/closures/*)
        # A closure's statement must name the person and act its file name claims.
        if [ "$rfast" = 0 ]; then r_act=$(j "$st" '.predicate.act'); fi
        act=$r_act
        case $rec in
        *".${3:-?}.$act.toml") ;;
        *)
            fail "$rec: the statement is for another person or act"
            continue
            ;;
        esac
        ;;
    evidence/registrations/*)
        # A registration's statement must name the snapshot, person and act its name claims.
        if [ "$rfast" = 0 ]; then
            r_act=$(j "$st" '.predicate.act')
            r_snap=$(j "$st" '.predicate.snapshot')
        fi
        act=$r_act
        snap=$r_snap
        case $rec in
        "evidence/registrations/$snap/"*".${3:-?}.$act.toml") ;;
        *)
            fail "$rec: the statement is for another snapshot, person or act"
            continue
            ;;
        esac
        ;;
    esac
    p="${3:-?}@$DOMAIN"
    rv=${4:-?}
    case $rv in '' | *[!0-9]*)
        fail "$rec: its statement names no registry version"
        continue ;;
    esac
    if verify_any "$p" "$ns" "$stem.sig" "$st" "$rv"; then
        nrec=$((nrec + 1))
    else
        fail "$rec: no valid signature by $p"
    fi
done <"$W/records" 4<"$W/records.rows" 5<"$W/records.sums"
ok "$nrec signed review/acknowledgement/receipt/closure/clock/registration/page/delivery records verified"

"""

RECORD_TIMES_SH = r"""# --- 5b. record times: not before the parent commit or what it answers, not after its own
# commit or the export (300 s skew); the times of commits are as bundle.json (signed) says.
bj_or_none records "$BJ_RECORDS" "$W/record-times"
EXPORTED=$(jf sj exported "$SJ_EXPORTED" snapshot.json)
# A record's time (T) against its commit (C), parent commit (P), what it answers (A) and the
# export (N): "" when it holds, else why not.
RECORD_TIME_RULE='
    def s(x): if x == "-" or x == "" then null else (x | fromdateiso8601) end;
    (s($t)) as $t | (s($c)) as $c | (s($p)) as $p | (s($a)) as $a | (s($n)) as $n
    | if $t == null then "states no readable time"
      elif $c == null then "bundle.json gives no commit time for it"
      elif $p != null and $t < $p - 300 then "dated before its parent commit: backdated"
      elif $a != null and $t < $a - 300 then "dated before what it answers: backdated"
      elif $t > $c + 300 then "dated after its own commit"
      elif $n != null and $t > $n + 300 then "dated after the export: future-dated"
      else "" end'
# Every record's time as the record states it, then one jq judges them all: four lines a
# record (none of the four can hold a newline), one verdict line each.
: >"$W/record-times.in"
while read -r rec commit parent answers; do
    [ -f "$rec" ] || continue
    # A notify record's own time is when it was recorded (a page acknowledgement read
    # back from PagerDuty was acknowledged before).
    case $rec in notify/*) keys=recorded ;; *) keys='completed|acknowledged|received|recorded' ;; esac
    # (the first line that states it: sed prints it and stops)
    said=$(sed -n -E -e "s/^($keys) = ([0-9T:Z-]+)\$/\\2/" -e "t p" -e d -e :p -e p -e q "$rec" || :)
    printf '%s\n' "$said" "$commit" "$parent" "$answers" >>"$W/record-times.in"
done <"$W/record-times"
if jq -nrR --arg n "$EXPORTED" '[inputs] as $l | range(0; $l | length; 4) as $i
    | $l[$i] as $t | $l[$i + 1] as $c | $l[$i + 2] as $p | $l[$i + 3] as $a
    | try ('"$RECORD_TIME_RULE"') catch "its times cannot be read"' \
    <"$W/record-times.in" >"$W/record-times.why" 2>/dev/null \
    && [ "$(wc -l <"$W/record-times.why" | tr -d ' ')" -eq $(($(wc -l <"$W/record-times.in" | tr -d ' ') / 4)) ]; then
    tfast=1
else
    tfast=0
fi
ntime=0
while read -r rec commit parent answers; do
    [ -f "$rec" ] || continue
    if [ "$tfast" = 1 ]; then
        IFS= read -r why <&4
    else
        case $rec in notify/*) keys=recorded ;; *) keys='completed|acknowledged|received|recorded' ;; esac
        said=$(sed -n -E -e "s/^($keys) = ([0-9T:Z-]+)\$/\\2/" -e "t p" -e d -e :p -e p -e q "$rec" || :)
        why=$(jq -nr --arg t "$said" --arg c "$commit" --arg p "$parent" --arg a "$answers" \
            --arg n "$EXPORTED" "$RECORD_TIME_RULE" 2>/dev/null || echo "its times cannot be read")
    fi
    if [ -n "$why" ]; then
        fail "$rec: $why"
    else
        ntime=$((ntime + 1))
    fi
done <"$W/record-times" 4<"$W/record-times.why"
ok "$ntime record time(s) hold against their commits and the export"
if [ -n "$(find . -path './findings/closures/*' -name '*.exempt-approve.toml' 2>/dev/null)" ]; then
    warn "exemptions: their signatures are checked above, but whether each approver had the authority the signed policy names is checked by \`workbench verify-bundle\` only"
fi
if [ -n "$(find . -path './notify/*' -name '*.toml' 2>/dev/null)" ]; then
    warn "pages: the delivery and page acknowledgement records' signatures and times are checked above, but which deliveries count, who may acknowledge a page, which pages were missed and the page test are checked by \`workbench verify-bundle\` only"
fi
if [ -f findings/closures.toml ]; then
    note "findings/closures.toml: unsigned legacy closures; they do not count in a repository with a key registry"
fi

"""
