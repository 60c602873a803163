"""VERIFY.sh's section 1b: every signed JSON file is one JSON value written in its one form,
as ``verify-bundle`` requires it (``signing.canonical.written_form_problem``, the files
``layout.is_signed_json`` names). jq reads a duplicate key, NaN, ``1.0``, ``01`` or a
byte-order mark without a word where Python's strict reader refuses them; so the script
re-prints each file with jq (``tojson``, which is ``jq -c``) and compares the bytes:
whatever jq would have to guess at is not in that form. ``JSON_FORM`` is also the test a
table's data-file listing passes in section 6 (in its pretty form).
"""

# The jq definition both sections use: integers only, within ±(2^53-1), never -0; keys
# sorted by code point (jq keeps a file's key order, ``keys`` sorts); no path deeper than
# signing.canonical.MAX_JSON_DEPTH.
JSON_FORM_JQ = (
    "def one_form: ([.. | numbers | select(. != floor"
    ' or (if . < 0 then -. else . end) > 9007199254740991 or tojson == "-0")] | length) == 0'
    " and ([.. | objects | keys_unsorted == keys] | all)"
    " and (([paths | length] | max // 0) <= 64);"
)

JSON_SH = (
    r"""# --- 1b. one reading of every signed JSON file --------------------------------------------
# bundle.json, the head maps, every snapshot and statement and required.json must be one
# JSON value exactly as jq prints it back (compact, keys sorted and once each, integers,
# UTF-8, at most one final newline): then jq and verify-bundle read the same values.
JSON_FORM='"""
    + JSON_FORM_JQ
    + r"""'
# json_form FILE...: status 0 when every FILE (named ./...) is in its one compact form
json_form() {
    if ! cat -- "$@" | tr -cd '\000' | cmp -s - /dev/null; then return 1; fi
    awk 1 "$@" >"$W/json.want" || return 1
    _n=$#
    _i=0
    for _p do
        set -- "$@" --slurpfile "$_i" "$_p"
        _i=$((_i + 1))
    done
    shift "$_n"
    jq -nr --argjson N "$_n" "$@" "$JSON_FORM"'
        range(0; $N) as $i | $ARGS.named["\($i)"]
        | if length == 1 and (.[0] | one_form) then .[0] | tojson else error("not in its form") end' \
        >"$W/json.got" 2>/dev/null && cmp -s "$W/json.want" "$W/json.got"
}
awk '!/^evidence\/(snapshots|tables)\// && (/(^|\/)[^\/]*statement\.json$/ || /(^|\/)required\.json$/ \
    || /^(bundle|heads|snapshot)\.json$/ || /^exports\/v.*\.json$/) { print "./" $0 }' "$W/have" >"$W/json.list"
njson=$(wc -l <"$W/json.list" | tr -d ' ')
jbad=0
# 400 files to a jq; a batch that is not all in form is gone through file by file, to name them
split -l 400 "$W/json.list" "$W/json.part."
for part in "$W"/json.part.*; do
    [ -f "$part" ] || continue
    set -f
    # shellcheck disable=SC2046
    set -- $(cat "$part")
    set +f
    if [ $# -gt 0 ] && ! json_form "$@"; then
        for _f do
            if ! json_form "$_f"; then
                fail "${_f#./}: not one JSON value in its one written form (compact, keys sorted and once each, integers only, UTF-8, no byte-order mark); verify-bundle refuses it too"
                jbad=$((jbad + 1))
            fi
        done
    fi
done
if [ "$jbad" = 0 ]; then ok "$njson signed JSON file(s) in their one written form"; fi

"""
)
