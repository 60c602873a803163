"""VERIFY.sh's section on regulatory clocks (inserted before the evidence section).

What it checks from the bundle's bytes with stock tools: every clock record is signed (the
records section verified each signature and that its statement names the clock, person
and act of its file name); each start's deadline is its ``at`` plus its ``duration`` (for
durations in weeks, days, hours, minutes and seconds; a calendar-month duration is left to
``verify-bundle``); the stop that counts names its start's exact bytes; and the state
bundle.json states for each clock (running, expired, met, met late, withdrawn) and its
deadline are what the records give at the export time. A clock past its deadline at export
is a WARN (a FAIL with STRICT=1). Who may stop a clock, and a deadline that a kind declared
later brings forward, are decided by ``verify-bundle`` only (a WARN says so).
"""

from __future__ import annotations

CLOCKS_SH = r"""# --- 5d. regulatory clocks: deadlines and states from the signed start and stop records ------
clock_secs() {
    # an ISO-8601 duration in weeks, days, hours, minutes, seconds, as seconds ("" otherwise)
    jq -nr --arg d "$1" '
        if ($d | test("^P([0-9]+W)?([0-9]+D)?(T([0-9]+H)?([0-9]+M)?([0-9]+S)?)?$"))
           and $d != "P" and $d != "PT" and ($d | endswith("T") | not) then
            ($d | capture("^P((?<w>[0-9]+)W)?((?<d>[0-9]+)D)?(T((?<h>[0-9]+)H)?((?<m>[0-9]+)M)?((?<s>[0-9]+)S)?)?$"))
            | [.w, .d, .h, .m, .s] | map((. // "0") | tonumber)
            | .[0] * 604800 + .[1] * 86400 + .[2] * 3600 + .[3] * 60 + .[4]
        else "" end' 2>/dev/null || echo ""
}
clock_field() {
    # a flat `key = value` line as the workbench writes it (strings unquoted)
    sed -n -E "s/^$2 = \"?([^\"]*)\"?\$/\\1/p" "$1" | head -n 1
}
find . -path './clocks/*' -name '*.toml' | sed 's|^\./||' | sort >"$W/clock-records"
nclk=0
nstop=0
while read -r rec; do
    if [ ! -f "${rec%.toml}.statement.json" ] || [ ! -f "${rec%.toml}.sig" ]; then
        fail "$rec: a clock record without its statement and signature does not count"
    fi
done <"$W/clock-records"
grep '\.start\.toml$' "$W/clock-records" >"$W/clock-starts" || :
while read -r start; do
    dir=${start%/*}
    cid=${dir#clocks/}
    at=$(clock_field "$start" at)
    dl=$(clock_field "$start" deadline)
    dur=$(clock_field "$start" duration)
    if [ -z "$at" ] || [ -z "$dl" ] || [ -z "$dur" ]; then
        fail "$start: states no readable at, deadline or duration"
        continue
    fi
    secs=$(clock_secs "$dur")
    if [ -n "$secs" ]; then
        same=$(jq -nr --arg a "$at" --arg d "$dl" --argjson s "$secs" \
            '(($a | fromdateiso8601) + $s) == ($d | fromdateiso8601)' 2>/dev/null || echo false)
        if [ "$same" != true ]; then
            fail "clock $cid: deadline $dl is not $at + $dur"
            continue
        fi
    else
        note "clock $cid: $dur counts calendar months; its deadline is checked by workbench verify-bundle"
    fi
    ssha=$(sha "$start")
    mine=""
    find "$dir" -name '*.stop.toml' | sort >"$W/clock-stops"
    while read -r stopf; do
        nstop=$((nstop + 1))
        if [ "$(clock_field "$stopf" start_sha256)" != "$ssha" ]; then
            fail "$stopf: stops other bytes than $start"
            continue
        fi
        outcome=$(clock_field "$stopf" outcome)
        stopped=$(clock_field "$stopf" recorded)
        if [ "$outcome" = withdrawn ]; then
            mine=withdrawn
        elif [ "$(jq -nr --arg s "$stopped" --arg d "$dl" '($s | fromdateiso8601) < ($d | fromdateiso8601)' 2>/dev/null)" = true ]; then
            mine=met
        else
            mine=met-late
        fi
        break
    done <"$W/clock-stops"
    if [ -z "$mine" ]; then
        past=$(jq -nr --arg n "$EXPORTED" --arg d "$dl" '($n | fromdateiso8601) >= ($d | fromdateiso8601)' 2>/dev/null || echo "?")
        if [ "$past" = true ]; then mine=expired; else mine=running; fi
    fi
    stated=$(jq -r --arg id "$cid" '[.clocks[]? | select(.id == $id) | .state] | first // "none"' bundle.json 2>/dev/null || echo "?")
    sdl=$(jq -r --arg id "$cid" '[.clocks[]? | select(.id == $id) | .deadline] | first // ""' bundle.json 2>/dev/null || echo "")
    case $stated in due-soon) stated=running ;; esac
    if [ "$stated" != "$mine" ]; then
        fail "clock $cid: bundle.json says $stated, its records give $mine"
        continue
    fi
    later=$(jq -nr --arg s "$sdl" --arg d "$dl" '($s | fromdateiso8601) > ($d | fromdateiso8601)' 2>/dev/null || echo true)
    if [ "$later" != false ]; then
        fail "clock $cid: bundle.json gives deadline ${sdl:-none}, later than its start record's $dl"
        continue
    fi
    if [ "$mine" = expired ]; then
        if [ "$STRICT" = 1 ]; then
            fail "clock $cid ($(clock_field "$start" kind) on $(clock_field "$start" seam)): EXPIRED at export (deadline $sdl)"
        else
            warn "clock $cid ($(clock_field "$start" kind) on $(clock_field "$start" seam)): EXPIRED at export (deadline $sdl)"
        fi
    fi
    nclk=$((nclk + 1))
done <"$W/clock-starts"
bj_or_none clocks "$BJ_CLOCKS" "$W/clock-ids"
while read -r cid; do
    if ! grep -q "^clocks/$cid/[^/]*\.start\.toml\$" "$W/clock-starts"; then
        fail "clock $cid: listed in bundle.json without its start record"
    fi
done <"$W/clock-ids"
if [ "$nstop" -gt 0 ]; then
    warn "clocks: the stop records' signatures are checked above, but whether each person who stopped a clock could is checked by \`workbench verify-bundle\` only"
fi
if [ -s "$W/clock-starts" ] || [ -s "$W/clock-ids" ]; then
    ok "$nclk clock(s): deadlines and states as the signed records give them"
fi

"""
