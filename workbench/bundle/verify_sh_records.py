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
    notify/page-acks/*)
        # A page acknowledgement's statement must name the violation and person its name
        # claims, and the contract the record names.
        viol=$(j "$st" '.predicate.violation')
        said=$(sed -n -E 's/^contract = "([^"]*)"$/\1/p' "$rec" | head -n 1)
        case $rec in
        "notify/page-acks/$viol/"*".${3:-?}.toml") ;;
        *) said="" ;;
        esac
        if [ -z "$said" ] || [ "$said" != "$(j "$st" '.predicate.contract')" ]; then
            fail "$rec: the statement is for another violation, delivery or person"
            continue
        fi
        ;;
    notify/deliveries/*)
        # A delivery's statement must name the key (its first 16 digits are the folder)
        # and person its name claims, and the key the record names.
        key=$(j "$st" '.predicate.key')
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
        act=$(j "$st" '.predicate.act')
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
        act=$(j "$st" '.predicate.act')
        snap=$(j "$st" '.predicate.snapshot')
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
    case $rv in '' | *[!0-9]*) rv=1 ;; esac
    if verify_any "$p" "$ns" "$stem.sig" "$st" "$rv"; then
        nrec=$((nrec + 1))
    else
        fail "$rec: no valid signature by $p"
    fi
done <"$W/records"
ok "$nrec signed review/acknowledgement/receipt/closure/clock/registration/page/delivery records verified"

"""

RECORD_TIMES_SH = r"""# --- 5b. record times: not before the parent commit or what it answers, not after its own
# commit or the export (300 s skew); the times of commits are as bundle.json (signed) says.
jq -r '.records[]? | [.path, (.commit_time // "-"), (.parent_time // "-"), (.answers_time // "-")]
    | join(" ")' bundle.json 2>/dev/null >"$W/record-times" || : >"$W/record-times"
EXPORTED=$(j snapshot.json '.predicate.exportedAt')
ntime=0
while read -r rec commit parent answers; do
    [ -f "$rec" ] || continue
    # A notify record's own time is when it was recorded (a page acknowledgement read
    # back from PagerDuty was acknowledged before).
    case $rec in notify/*) keys=recorded ;; *) keys='completed|acknowledged|received|recorded' ;; esac
    said=$(sed -n -E "s/^($keys) = ([0-9T:Z-]+)\$/\\2/p" "$rec" | head -n 1)
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
if [ -n "$(find . -path './notify/*' -name '*.toml' 2>/dev/null)" ]; then
    warn "pages: the delivery and page acknowledgement records' signatures and times are checked above, but which deliveries count, who may acknowledge a page, which pages were missed and the page test are checked by \`workbench verify-bundle\` only"
fi
if [ -f findings/closures.toml ]; then
    note "findings/closures.toml: unsigned legacy closures; they do not count in a repository with a key registry"
fi

"""
