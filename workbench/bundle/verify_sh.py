"""VERIFY.sh: the auditor's stock-tool verifier, shipped inside every bundle and printed by
``workbench verify-script`` (its sha256 travels with the trust root: the auditor runs their
own copy, never only the bundle's).

POSIX sh (``set -eu``), needing only ssh-keygen (OpenSSH >= 8.2), sha256sum, jq, tar and
gzip, plus the usual POSIX utilities (cut, sort, cmp, diff, find, sed, awk, mktemp, head, split,
wc). It takes the archive itself and extracts it into a fresh temporary directory, so a
member tar refuses is a failure. Tested for real under ``sh`` (dash, mawk) in tests/bundle
and tests/security. Its checks mirror ``workbench verify-bundle``: see docs/audit.md for
what each one means and where the two differ.

The two awk programs it writes out are here as ``TOML_AWK`` (a strict reader of the plain
TOML layout, failing closed) and ``DERIVE_AWK`` (who must sign, who may export); their
parity with the Python rules is tested in tests/bundle/test_verify_sh_rules.py.

The script is assembled from one constant per section, in the order it runs (``SECTIONS``),
each in the module named after its job: ``verify_sh_archive`` (0. the archive, 1. hashes),
``verify_sh_json`` (1b. one written form of every signed JSON file), ``verify_sh_registry`` (2.), ``verify_sh_snapshot`` (3. snapshot and index, 3b. head map),
``verify_sh_contracts`` (4.), ``verify_sh_records`` (5. records, 5b. their times),
``verify_sh_runs`` (5c. findings runs), ``verify_sh_evidence`` (6.). The bytes are pinned by
tests/bundle/test_verify_sh_golden.py: moving text between sections changes nothing.

JSON is read in batches (the preamble's ``jrows``, ``jfields`` and ``sums``): one ``jq`` per
kind of file, one ``sha256sum`` for many files, instead of one process per file and field
(a ``jq`` start costs more than most checks). A batch is used only when it gives exactly
what the per-file read ``j`` prints (every file one JSON value without a NUL byte, every
field one scalar without a control character); otherwise that section reads file by file
as before, so odd JSON is slower to verify, never judged differently
(tests/bundle/test_verify_sh_batch.py, docs/performance.md "Test suite", third round).
"""

from __future__ import annotations

import hashlib

from workbench.bundle.archive import DEFAULT_LIMITS
from workbench.bundle.verify_sh_archive import ARCHIVE_SH, FILES_SH
from workbench.bundle.verify_sh_awk import DERIVE_AWK, TOML_AWK
from workbench.bundle.verify_sh_clocks import CLOCKS_SH
from workbench.bundle.verify_sh_contracts import CONTRACTS_SH
from workbench.bundle.verify_sh_evidence import EVIDENCE_SH
from workbench.bundle.verify_sh_json import JSON_SH
from workbench.bundle.verify_sh_records import RECORD_TIMES_SH, RECORDS_SH
from workbench.bundle.verify_sh_registry import REGISTRY_SH
from workbench.bundle.verify_sh_runs import RUNS_SH
from workbench.bundle.verify_sh_snapshot import HEADS_SH, SNAPSHOT_SH
from workbench.model.settings import DEFAULT_EXPORTERS

PREAMBLE_SH = r"""#!/bin/sh
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
    # (the digest is the first 64 characters of sha256sum's line: no cut to fork)
    if [ -f "$1" ]; then
        _h=$(sha256sum <"$1") || :
        printf '%.64s\n' "$_h"
    else
        echo "(missing)"
    fi
}
j() {
    # jq -r on a file; prints "?" when the file is missing or not JSON
    _file=$1
    shift
    if [ -f "$_file" ]; then jq -r "$@" "$_file" 2>/dev/null || echo "?"; else echo "?"; fi
}
TAB=$(printf '\t')
# jrows LIST OUT FIELDS: the fields of many JSON files from one jq (a jq costs more than
# the rest of a record's checks: one per file and field made big bundles slow). LIST
# names the files, one a line; OUT gets one line per file, its FIELDS (jq expressions, each
# wrapped in one(...)) prefixed "=" and tab-separated. Each field is then exactly what
# `j FILE EXPR` prints, because jrows fails (status 1, and the caller reads each file with
# j as before) unless every file is one JSON value without a NUL byte (jq reads those
# differently from a file's start) and every field one scalar, printed without control
# characters. So an odd file is read the slow way, never differently.
jrows() {
    _jlist=$1
    _jout=$2
    _jfields=$3
    : >"$_jout"
    set --
    while IFS= read -r _p; do
        [ -f "$_p" ] || return 1
        # (j hands a name starting with "-" to jq as an option, or stdin: so does no batch)
        case $_p in -*) return 1 ;; /*) ;; *) _p=./$_p ;; esac
        set -- "$@" "$_p"
        if [ $# -ge 400 ]; then
            jrows_run "$_jfields" "$@" >>"$_jout" || return 1
            set --
        fi
    done <"$_jlist"
    if [ $# -gt 0 ]; then jrows_run "$_jfields" "$@" >>"$_jout" || return 1; fi
}
jrows_run() {
    _fields=$1
    shift
    if ! cat -- "$@" | tr -cd '\000' | cmp -s - /dev/null; then return 1; fi
    _count=$#
    _i=0
    for _p do
        set -- "$@" --slurpfile "$_i" "$_p"
        _i=$((_i + 1))
    done
    shift "$_count"
    jq -nr --argjson N "$_count" "$@" '
        def one(f): [f] as $v
            | if ($v | length) == 1 and ($v[0] | type | . != "array" and . != "object")
              then $v[0] | (if type == "string" then . else tojson end)
                | if explode | any(. < 32) then error("a control character") else "=" + . end
              else error("not one value") end;
        range(0; $N) as $i | $ARGS.named["\($i)"]
        | if length != 1 then error("not one JSON value") else .[0] end
        | ['"$_fields"'] | join("\t")' 2>/dev/null
}
# sums LIST OUT: what `sha FILE` prints for each file LIST names, one a line, from one
# sha256sum for many files; status 1 (the caller uses sha) if a name needs escaping or
# sha256sum fails
sums() {
    _slist=$1
    _sout=$2
    : >"$_sout"
    : >"$_sout.all"
    set --
    while IFS= read -r _p; do
        case $_p in *\\*) return 1 ;; /*) ;; *) _p=./$_p ;; esac
        if [ -f "$_p" ]; then set -- "$@" "$_p"; fi
        if [ $# -ge 400 ]; then
            sha256sum -- "$@" >>"$_sout.all" 2>/dev/null || return 1
            set --
        fi
    done <"$_slist"
    if [ $# -gt 0 ]; then sha256sum -- "$@" >>"$_sout.all" 2>/dev/null || return 1; fi
    while IFS= read -r _p; do
        if [ -f "$_p" ]; then
            IFS= read -r _s <&6 || return 1
            case $_s in \\*) return 1 ;; esac
            printf '%.64s\n' "$_s"
        else
            echo "(missing)"
        fi
    done <"$_slist" 6<"$_sout.all" >"$_sout.tmp"
    mv "$_sout.tmp" "$_sout"
}
# jfields FILE TAG NAME EXPR [NAME EXPR ...]: for a file several checks read (bundle.json,
# snapshot.json, a registry statement), one jq reads every EXPR into $W/TAG.NAME, each
# exactly what `j FILE EXPR` prints, and marks $W/TAG.ok; `jf TAG NAME EXPR FILE` prints
# it. Without the mark (jf then runs j) unless FILE is one JSON value without NUL bytes
# and every EXPR gives lines of plain text.
jfields() {
    _jf_file=$1
    _jf_tag=$2
    shift 2
    _jf_prog=""
    while [ $# -ge 2 ]; do
        : >"$W/$_jf_tag.$1"
        _jf_prog="$_jf_prog${_jf_prog:+, }out(\"$1\"; $2)"
        shift 2
    done
    case $_jf_file in -*) return 0 ;; esac
    if [ -f "$_jf_file" ] && tr -cd '\000' <"$_jf_file" | cmp -s - /dev/null \
        && jq -nr --slurpfile b "$_jf_file" '
            def out(n; f): f | (if type == "string" then . elif type == "array" or type == "object"
                    then error("not text") else tojson end)
                | if explode | any(. < 32) then error("a control character") else n + "\t" + . end;
            if ($b | length) != 1 then error("not one JSON value") else $b[0] end
            | '"$_jf_prog" >"$W/$_jf_tag.all" 2>/dev/null \
        && awk -v out="$W/$_jf_tag." '{ i = index($0, "\t"); print substr($0, i + 1) >(out substr($0, 1, i - 1)) }' \
            "$W/$_jf_tag.all"; then
        : >"$W/$_jf_tag.ok"
    fi
}
jf() {
    if [ -f "$W/$1.ok" ]; then
        # (its lines, as cat prints them, without a process)
        while IFS= read -r _l; do printf '%s\n' "$_l"; done <"$W/$1.$2"
    else
        j "$4" "$3"
    fi
}
cat >"$W/toml.awk" <<'END_OF_TOML_AWK'
@TOML_AWK@
END_OF_TOML_AWK
cat >"$W/derive.awk" <<'END_OF_DERIVE_AWK'
@DERIVE_AWK@
END_OF_DERIVE_AWK

"""

RESULT_SH = r"""if [ "$FAILS" -gt 0 ]; then
    echo "RESULT: FAIL ($FAILS check(s) failed)"
    exit 1
fi
echo "RESULT: OK"
"""

# The script, section by section, in the order it runs.
SECTIONS = (
    PREAMBLE_SH,
    ARCHIVE_SH,
    FILES_SH,
    JSON_SH,
    REGISTRY_SH,
    SNAPSHOT_SH,
    HEADS_SH,
    CONTRACTS_SH,
    RECORDS_SH,
    RECORD_TIMES_SH,
    RUNS_SH,
    CLOCKS_SH,
    EVIDENCE_SH,
    RESULT_SH,
)


def _build() -> str:
    limits = DEFAULT_LIMITS
    script = "".join(SECTIONS)
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

__all__ = ["DERIVE_AWK", "SECTIONS", "TOML_AWK", "VERIFY_SH", "VERIFY_SH_SHA256"]
