"""The two awk programs VERIFY.sh writes out and runs: ``TOML_AWK`` (a strict reader of the
plain TOML layout, failing closed) and ``DERIVE_AWK`` (who must sign, who may export). Their
parity with the Python rules is tested in tests/bundle/test_verify_sh_rules.py."""

TOML_AWK = r"""# toml.awk - a strict reader of the few TOML keys VERIFY.sh needs (see docs/audit.md).
#
#   awk -v want="seam.provider=s seam.consumer=s cosigners=a terms[].kind=s" -f toml.awk FILE
#
# It lexes the whole file (comments, bare/quoted/dotted keys, tables, arrays of tables,
# basic/literal/multi-line strings, arrays over several lines, inline tables, scalars) so
# that nothing inside a string or a value can pass for a key, then prints the wanted keys:
#   T <tab> PATTERN[] <tab> IDX              an element of a wanted array of tables
#   V <tab> PATTERN <tab> IDX <tab> VALUE    a wanted string or true/false
#   E <tab> PATTERN <tab> IDX                a wanted array is present (maybe empty)
#   A <tab> PATTERN <tab> IDX <tab> VALUE    one string of that array
#   C <tab> PATTERN[] <tab> IDX <tab> TEXT   for a wanted "PATTERN[]=c": one line per key
#                                            (and sub-table) of that element, its value as
#                                            written with comments and spaces outside
#                                            strings left out, to tell whether two versions
#                                            of the element are the same
# A wanted key must be written plainly: `key = value` under its own [table] / [[table]]
# header, its value a plain string (letters, digits, . _ : -), true/false, or a one-level
# array of such strings. Anything else that touches a wanted key or table (dotted keys,
# inline tables, a table given twice, escapes, other value types), or any text this lexer
# does not fully understand, prints "ERROR <tab> line N: WHAT" and exits 3: fail closed.
function fail(what) {
    printf "ERROR\tline %d: %s\n", line, what
    exit 3
}
function ch() { return substr(src, pos, 1) }
function ws() { while (pos <= n && (ch() == " " || ch() == "\t")) pos++ }
function comment() {
    if (ch() == "#") { while (pos <= n && ch() != "\n") pos++ }
}
# spaces, newlines and comments (inside arrays)
function wsnl() {
    while (pos <= n) {
        ws()
        comment()
        if (ch() == "\n") { pos++; line++ } else return
    }
}
function eol() {
    ws()
    comment()
    if (pos > n) return
    if (ch() != "\n") fail("unexpected text after a value or header")
    pos++
    line++
}
# one simple key: bare, "basic" (no escapes) or 'literal'; sets KEY and KEYRAW (bare-safe?)
function simplekey(   c, start) {
    c = ch()
    if (c == "\"" || c == "'") {
        if (substr(src, pos, 3) == c c c) fail("a multi-line string used as a key")
        start = ++pos
        while (pos <= n && ch() != c) {
            if (ch() == "\n") fail("unterminated quoted key")
            if (c == "\"" && ch() == "\\") fail("an escape in a quoted key")
            pos++
        }
        if (pos > n) fail("unterminated quoted key")
        KEY = substr(src, start, pos - start)
        pos++
    } else {
        start = pos
        while (pos <= n && ch() ~ /[A-Za-z0-9_-]/) pos++
        if (pos == start) fail("a key was expected")
        KEY = substr(src, start, pos - start)
    }
    # a component that is not a bare key can never equal a wanted one
    if (KEY !~ /^[A-Za-z0-9_-]+$/) KEY = "\"" KEY
}
# a dotted key: sets KN and KC[1..KN]
function dottedkey() {
    KN = 0
    while (1) {
        ws()
        simplekey()
        KC[++KN] = KEY
        ws()
        if (ch() != ".") return
        pos++
    }
}
function mlstring(q,   run) {
    pos += 3
    while (1) {
        if (pos > n) fail("unterminated multi-line string")
        if (ch() == "\n") { line++; pos++; continue }
        if (q == "\"" && ch() == "\\") {
            pos++
            if (ch() == "\n") line++
            pos++
            continue
        }
        if (substr(src, pos, 3) == q q q) {
            run = 3
            while (substr(src, pos + run, 1) == q) run++
            if (run > 5) fail("more than two quotes before the end of a multi-line string")
            pos += run
            return
        }
        pos++
    }
}
# a string value at pos; sets SVAL and SPLAIN (no escapes, plain-id characters only)
function string(   q, start, esc, from) {
    q = ch()
    from = pos
    if (substr(src, pos, 3) == q q q) {
        mlstring(q)
        SVAL = ""
        SPLAIN = 0
        NT = substr(src, from, pos - from)
        return
    }
    start = ++pos
    esc = 0
    while (pos <= n && ch() != q) {
        if (ch() == "\n") fail("unterminated string")
        if (q == "\"" && ch() == "\\") { esc = 1; pos++ }
        pos++
    }
    if (pos > n) fail("unterminated string")
    SVAL = substr(src, start, pos - start)
    pos++
    SPLAIN = !esc && SVAL ~ /^[a-z0-9][a-z0-9._:-]*$/
    NT = substr(src, from, pos - from)
}
# any value at pos; returns s (string), b (true/false), a (array), t (inline table), o (other).
# For a top-level array (depth 1), collects its strings in AV[1..AN] and sets APLAIN.
# Sets NT: the value as written, without comments or spaces outside strings.
function value(depth,   c, start, tok, t, buf, sep, key, i) {
    c = ch()
    if (c == "\"" || c == "'") { string(); return "s" }
    if (c == "[") {
        pos++
        if (depth == 1) { AN = 0; APLAIN = 1 }
        buf = "["
        sep = ""
        while (1) {
            wsnl()
            if (pos > n) fail("unterminated array")
            if (ch() == "]") { pos++; NT = buf "]"; return "a" }
            t = value(depth + 1)
            buf = buf sep NT
            sep = ","
            if (depth == 1) {
                if (t == "s" && SPLAIN) AV[++AN] = SVAL
                else APLAIN = 0
            }
            wsnl()
            if (ch() == ",") { pos++; continue }
            if (ch() == "]") { pos++; NT = buf "]"; return "a" }
            fail("unexpected text in an array")
        }
    }
    if (c == "{") {
        pos++
        ws()
        buf = "{"
        sep = ""
        if (ch() == "}") { pos++; NT = "{}"; return "t" }
        while (1) {
            dottedkey()
            key = KC[1]
            for (i = 2; i <= KN; i++) key = key "." KC[i]
            ws()
            if (ch() != "=") fail("'=' expected in an inline table")
            pos++
            ws()
            value(depth + 1)
            buf = buf sep key "=" NT
            sep = ","
            ws()
            if (ch() == ",") { pos++; ws(); continue }
            if (ch() == "}") { pos++; NT = buf "}"; return "t" }
            fail("unexpected text in an inline table")
        }
    }
    start = pos
    while (pos <= n && ch() ~ /[A-Za-z0-9_+.:-]/) pos++
    if (pos == start) fail("a value was expected")
    tok = substr(src, start, pos - start)
    # a date and a time may be separated by one space
    if (tok ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$/ && ch() == " " \
        && substr(src, pos + 1, 1) ~ /[0-9]/) {
        pos++
        while (pos <= n && ch() ~ /[A-Za-z0-9_+.:-]/) pos++
    }
    NT = substr(src, start, pos - start)
    if (tok == "true" || tok == "false") { BVAL = tok; return "b" }
    return "o"
}
# PAT of a concrete path; IDX the array-of-tables indexes on it
function join(a, b) { return a == "" ? b : a "." b }
function header(   aot, i, p, pat, idx, last) {
    aot = substr(src, pos, 2) == "[["
    pos += aot ? 2 : 1
    dottedkey()
    if (aot) {
        if (substr(src, pos, 2) != "]]") fail("']]' expected")
        pos += 2
    } else {
        if (ch() != "]") fail("']' expected")
        pos++
    }
    eol()
    p = ""
    pat = ""
    idx = ""
    for (i = 1; i <= KN; i++) {
        p = p SUBSEP KC[i]
        pat = join(pat, KC[i])
        if (pat in leaf) fail("[" pat "] redefines the key " pat)
        if (i < KN && (p in count)) {
            # through an array of tables: its last element
            last = count[p]
            p = p SUBSEP last
            pat = pat "[]"
            idx = idx (idx == "" ? "" : ",") last
        }
    }
    if (aot) {
        if (pat in table) fail("[[" pat "]] must be written [" pat "]")
        if (p in defined) fail("[[" pat "]] after [" pat "]")
        count[p]++
        idx = idx (idx == "" ? "" : ",") count[p]
        p = p SUBSEP count[p]
        pat = pat "[]"
        if (pat in table) printf "T\t%s\t%s\n", pat, idx
    } else {
        if ((pat "[]") in table) fail("[" pat "] must be written [[" pat "]]")
        if (p in defined || p in count) fail("[" pat "] is defined twice")
    }
    defined[p] = 1
    CUR = p
    CURPAT = pat
    CURIDX = idx
    if (aot && (pat in canon)) {
        CANON_P = p
        CANON_PAT = pat
        CANON_IDX = idx
    } else if (inside(p)) {
        canonical((aot ? "[[" : "[") relative(p) (aot ? "]]" : "]"))
    }
}
# within the element of a "c" array of tables being read, and the path relative to it
function inside(p) { return CANON_P != "" && (p == CANON_P || index(p, CANON_P SUBSEP) == 1) }
function relative(p,   rel) {
    rel = substr(p, length(CANON_P) + 2)
    gsub(SUBSEP, ".", rel)
    return rel
}
# one line of an element's text; backslash, tab and newline escaped so lines stay distinct
function canonical(text) {
    gsub(/\\/, "\\\\", text)
    gsub(/\t/, "\\t", text)
    gsub(/\n/, "\\n", text)
    printf "C\t%s\t%s\t%s\n", CANON_PAT, CANON_IDX, text
}
function keyval(   i, pat, p, t, k, kind, j, rel) {
    dottedkey()
    ws()
    if (ch() != "=") fail("'=' expected after a key")
    pos++
    ws()
    if (pos > n || ch() == "\n" || ch() == "#") fail("a value was expected")
    pat = CURPAT
    p = CUR
    for (i = 1; i <= KN; i++) {
        pat = join(pat, KC[i])
        p = p SUBSEP KC[i]
        if (i < KN && (pat in leaf || pat in table || (pat "[]") in table))
            fail("the dotted key " pat "... must be written as a [table]")
    }
    if (pat in table || (pat "[]") in table)
        fail(pat " must be written as a [" pat "] table, not as a value")
    if (inside(CUR)) {
        # (before the value: an inline table's keys are read into KC too)
        rel = relative(CUR)
        for (i = 1; i <= KN; i++) rel = rel (rel == "" ? "" : ".") KC[i]
    }
    t = value(1)
    eol()
    if (inside(CUR)) canonical(rel "=" NT)
    if (!(pat in leaf)) return
    if (p in seen) fail(pat " is given twice")
    seen[p] = 1
    kind = leaf[pat]
    if (kind == "s") {
        if (t != "s" || !SPLAIN) fail(pat " must be a plain string (letters, digits, . _ : -)")
        printf "V\t%s\t%s\t%s\n", pat, CURIDX == "" ? "-" : CURIDX, SVAL
    } else if (kind == "b") {
        if (t != "b") fail(pat " must be true or false")
        printf "V\t%s\t%s\t%s\n", pat, CURIDX == "" ? "-" : CURIDX, BVAL
    } else {
        if (t != "a" || !APLAIN) fail(pat " must be an array of plain strings")
        printf "E\t%s\t%s\n", pat, CURIDX == "" ? "-" : CURIDX
        for (j = 1; j <= AN; j++) printf "A\t%s\t%s\t%s\n", pat, CURIDX == "" ? "-" : CURIDX, AV[j]
    }
}
BEGIN {
    k = split(want, w, " ")
    for (i = 1; i <= k; i++) {
        eq = index(w[i], "=")
        name = substr(w[i], 1, eq - 1)
        if (substr(w[i], eq + 1) == "c") {
            canon[name] = 1
            table[name] = 1
        } else {
            leaf[name] = substr(w[i], eq + 1)
        }
        # every table on the way to a wanted key
        m = split(name, parts, ".")
        pat = ""
        for (j = 1; j < m; j++) {
            pat = join(pat, parts[j])
            table[pat] = 1
        }
    }
    src = ""
    first = 1
}
{
    sub(/\r$/, "")
    src = first ? $0 : src "\n" $0
    first = 0
}
END {
    n = length(src)
    pos = 1
    line = 1
    CUR = ""
    CURPAT = ""
    CURIDX = ""
    while (pos <= n) {
        ws()
        c = ch()
        if (pos > n) break
        if (c == "\n") { pos++; line++; continue }
        if (c == "#") { comment(); continue }
        if (c == "[") header()
        else keyval()
    }
}
"""

DERIVE_AWK = r"""# derive.awk - who must sign a contract version, and who may sign a snapshot, from the
# records toml.awk read out of people.toml, policy.toml and (for signers) contract.toml.
#
#   awk -v mode=signers -f derive.awk PEOPLE.rec POLICY.rec CONTRACT.rec BASE.rec
#       R <tab> PERSON     a required signer (one line each, unsorted)
#       B <tab> WHY        a requirement nobody can meet (the contract stays pending)
#   BASE.rec is the last approved version before this one ("BASE <tab> yes" and its
#   records) or "BASE <tab> none": the change co-signer of every term this version adds,
#   changes or removes relative to it must sign (the one named then, and the one now).
#   An element's C lines compare as a set.
#   awk -v mode=exporters -f derive.awk PEOPLE.rec POLICY.rec
#       X <tab> PERSON     a person the policy's [export] exporters authorise
#
# The same rule as workbench.signing.verdict.required_signers and
# workbench.signing.snapshot.authorised_exporters (tests/bundle/test_verify_sh_rules.py
# checks they agree); POLICY defaults as in keys/policy.toml when a key is absent.
function fail(what) {
    printf "ERROR\t%s\n", what
    failed = 1
    exit 3
}
# an element of this version and one of the base written the same (its lines as a set:
# the order of keys does not matter, and no key is written twice)
function same(i, j,   k, parts) {
    if (lines[3, i] != lines[4, j]) return 0
    for (k in line) {
        split(k, parts, SUBSEP)
        if (parts[1] == 3 && parts[2] == i && !((4, j, parts[3]) in line)) return 0
    }
    return 1
}
function need(file, pat, i,   key) {
    key = pat SUBSEP i
    if (!((file, key) in val)) fail(FILES[file] ": an entry of " pat " has no " pat)
    return val[file, key]
}
BEGIN { FS = "\t" }
FNR == 1 { file++ }
$1 == "T" { cnt[file, $2]++ }
$1 == "V" { val[file, $2 SUBSEP $3] = $4 }
$1 == "E" { has[file, $2] = 1 }
$1 == "A" { arr[file, $2, ++alen[file, $2]] = $4 }
$1 == "C" { line[file, $3, $4] = 1; lines[file, $3]++ }
$1 == "BASE" { hasbase = $2 == "yes" }
END {
    if (failed) exit 3
    FILES[1] = "people.toml"
    FILES[2] = "policy.toml"
    FILES[3] = "contract.toml"
    FILES[4] = "contract.toml (the last approved version)"
    # people.toml: team -> lead, person -> team (a later entry wins, as in a dict)
    for (i = 1; i <= cnt[1, "teams[]"]; i++) {
        id = need(1, "teams[].id", i)
        lead[id] = need(1, "teams[].lead", i)
    }
    for (i = 1; i <= cnt[1, "people[]"]; i++) {
        id = need(1, "people[].id", i)
        team[id] = need(1, "people[].team", i)
    }
    # policy.toml [approval] and [export]
    ct = ((2, "approval.compliance_team" SUBSEP "-") in val) ? val[2, "approval.compliance_team" SUBSEP "-"] : ""
    nsa = ((2, "approval.no_self_approval" SUBSEP "-") in val) ? val[2, "approval.no_self_approval" SUBSEP "-"] : "true"
    if (has[2, "approval.compliance_term_kinds"]) {
        for (i = 1; i <= alen[2, "approval.compliance_term_kinds"]; i++)
            kinds[arr[2, "approval.compliance_term_kinds", i]] = 1
    } else {
        kinds["representation"] = 1
    }
    if (mode == "exporters") {
        if (has[2, "export.exporters"]) {
            m = alen[2, "export.exporters"]
            for (i = 1; i <= m; i++) entry[i] = arr[2, "export.exporters", i]
        } else {
            m = split(DEFAULT_EXPORTERS, entry, " ")
        }
        for (i = 1; i <= m; i++) {
            e = entry[i]
            if (e == "admins") {
                for (j = 1; j <= alen[2, "admins"]; j++) print "X\t" arr[2, "admins", j]
            } else if (e == "compliance-lead") {
                if (ct != "" && (ct in lead)) print "X\t" lead[ct]
            } else if (e ~ /^lead:/) {
                t = substr(e, 6)
                if (t in lead) print "X\t" lead[t]
            } else {
                print "X\t" e
            }
        }
        exit 0
    }
    # contract.toml: the two party leads, every co-signer, the compliance lead
    for (s = 1; s <= 2; s++) {
        side = s == 1 ? "provider" : "consumer"
        t = need(3, "seam." side, "-")
        if (!(t in lead)) {
            print "B\t" side " team '" t "' is not in the registry's people.toml"
            continue
        }
        print "R\t" lead[t]
        party[lead[t]] = 1
    }
    nco = alen[3, "cosigners"]
    for (i = 1; i <= nco; i++) print "R\t" arr[3, "cosigners", i]
    # change co-signers: terms (by id, a later one wins) that differ from the base version
    for (i = 1; i <= cnt[3, "terms[]"]; i++) {
        id = need(3, "terms[].id", i)
        now[id] = i
        ids[id] = 1
    }
    if (hasbase) {
        for (i = 1; i <= cnt[4, "terms[]"]; i++) {
            id = need(4, "terms[].id", i)
            was[id] = i
            ids[id] = 1
        }
    }
    for (id in ids) {
        if ((id in now) && (id in was) && same(now[id], was[id])) continue
        if ((id in was) && ((4, "terms[].change_cosigner" SUBSEP was[id]) in val))
            print "R\t" val[4, "terms[].change_cosigner" SUBSEP was[id]]
        if ((id in now) && ((3, "terms[].change_cosigner" SUBSEP now[id]) in val))
            print "R\t" val[3, "terms[].change_cosigner" SUBSEP now[id]]
    }
    hit = 0
    for (i = 1; i <= cnt[3, "terms[]"]; i++) {
        if (need(3, "terms[].kind", i) in kinds) hit = 1
    }
    if (ct == "" || !hit) exit 0
    if (!(ct in lead)) {
        print "B\tcompliance team '" ct "' is not defined"
    } else if (nsa == "true" && (lead[ct] in party)) {
        independent = 0
        for (i = 1; i <= nco; i++) {
            p = arr[3, "cosigners", i]
            if (!(p in party) && (p in team) && team[p] == ct) independent = 1
        }
        if (!independent) {
            print "B\tno self-approval: " lead[ct] " leads a party of this seam and cannot also give its compliance sign-off"
        }
    } else {
        print "R\t" lead[ct]
    }
}
"""
