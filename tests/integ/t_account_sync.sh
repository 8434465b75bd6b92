#!/bin/sh
# t_account_sync: provisioning a provider's whole user base with
# "wkdctl account sync": 20,000 accounts over two domains from a generated
# TSV, synced twice (the second run changes and writes nothing: mdb_dump and
# the file's bytes are the same); a file with every kind of conflict,
# checked line by line, with --dry-run changing nothing; --json against
# "account list --json"; and keys imported afterwards published at synced
# aliases and served by wkdd.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gpg mdb_dump python3
need_wkdctl

NACC=20000

make_certs a.test '*.a.test' b.test '*.b.test'
make_store a.test b.test

# run ARGS...: wkdctl on the store; stdout in $T/out, stderr in $T/err,
# exit status in $RC.  Sanitizer reports are kept in $T/san.log.
run() {
	ctl "$@" > "$T/out" 2> "$T/err"
	RC=$?
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/err"
	then
		cat "$T/err" >> "$T/san.log"
	fi
}

# has_line FILE LINE NAME: FILE holds exactly LINE.
has_line() {
	if grep -Fxq -- "$2" "$1"; then
		pass "$3"
	else
		fail "$3"
		diag "  no line '$2' in:"
		sed 's/^/#     /' "$1" | head -20
	fi
}

store_sum() {
	sha256sum "$STORE/data.mdb" | awk '{ print $1 }'
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# A provider's export: user$i in a.test (odd) or b.test (even), with an
# alias in the same domain and, every third, one in the other domain.
awk -v n=$NACC 'BEGIN {
	print "# provider export: primary<TAB>aliases..."
	for (i = 1; i <= n; i++) {
		d = i % 2 ? "a.test" : "b.test"
		o = i % 2 ? "b.test" : "a.test"
		printf "user%d@%s\tu%d.alias@%s", i, d, i, d
		if (i % 3 == 0)
			printf "\tu%d.x@%s", i, o
		printf "\n"
		if (i == n / 2)
			print ""
	}
}' > "$T/users.tsv"
NALIAS=$((NACC + NACC / 3))

# --- first sync: everything new ------------------------------------------
t0=$(now_ms)
run account sync "$T/users.tsv"
t1=$(now_ms)
diag "first sync of $NACC accounts ($NALIAS aliases): $((t1 - t0)) ms"
is "$RC" 0 "first sync: exit 0"
is "$(tail -n 1 "$T/out")" \
    "$NACC lines: $NACC accounts added, $NALIAS aliases added, 0 unchanged, 0 conflicts" \
    "first sync: summary"
is "$(grep -c ': added ' "$T/out")" "$NACC" "first sync: an 'added' line per account"
has_line "$T/out" "$T/users.tsv:2: added user1@a.test (aliases added: u1.alias@a.test)" \
    "first sync: report line of line 2"
has_line "$T/out" "$T/users.tsv:4: added user3@a.test (aliases added: u3.alias@a.test, u3.x@b.test)" \
    "first sync: an account with aliases in both domains"
is "$(grep -c . "$T/err")" 0 "first sync: nothing on stderr"

run account show u3.x@b.test
has_line "$T/out" "account user3@a.test" "u3.x@b.test is user3@a.test's alias"

# --- second sync: nothing to change, nothing written ----------------------
mdb_dump -a "$STORE" > "$T/dump.before"
SUM=$(store_sum)
t0=$(now_ms)
run account sync "$T/users.tsv"
t1=$(now_ms)
diag "second sync of $NACC accounts (all unchanged): $((t1 - t0)) ms"
is "$RC" 0 "second sync: exit 0"
is "$(tail -n 1 "$T/out")" \
    "$NACC lines: 0 accounts added, 0 aliases added, $NACC unchanged, 0 conflicts" \
    "second sync: everything unchanged"
is "$(grep -c ': unchanged ' "$T/out")" "$NACC" "second sync: an 'unchanged' line per account"
mdb_dump -a "$STORE" > "$T/dump.after"
check "second sync: mdb_dump byte-identical" cmp -s "$T/dump.before" "$T/dump.after"
is "$(store_sum)" "$SUM" "second sync: data.mdb unchanged (nothing written)"

# From stdin, the same.
ctl account sync - < "$T/users.tsv" > "$T/out" 2> "$T/err"
is "$?:$(tail -n 1 "$T/out")" \
    "0:$NACC lines: 0 accounts added, 0 aliases added, $NACC unchanged, 0 conflicts" \
    "sync - reads stdin"
has_line "$T/out" "stdin:2: unchanged user1@a.test" "stdin: lines labelled stdin"

# account list --json: exactly the file's accounts and aliases.
ctl account list --json > "$T/list.json"
check "account list --json: $NACC accounts, the file's aliases" \
    python3 - "$T/list.json" "$T/users.tsv" <<'EOF'
import json, sys
accts = json.load(open(sys.argv[1]))
want = {}
for line in open(sys.argv[2]):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    f = line.split("\t")
    want[f[0]] = sorted(f[1:])
got = {}
for a in accts:
    assert a["removed"] is False and a["fpr"] is None, a
    assert all(x["state"] == "alias" for x in a["aliases"]), a
    got[a["primary"]] = sorted(x["address"] for x in a["aliases"])
sys.exit(0 if got == want else 1)
EOF
run account list
is "$(wc -l < "$T/out" | tr -d ' ')" "$NACC" "account list: $NACC lines, as before"
has_line "$T/out" "$(printf 'user3@a.test\t2 aliases')" "account list: plain output unchanged"

# --- conflicts -------------------------------------------------------------
run alias remove user1@a.test u1.alias@a.test
is "$RC" 0 "alias remove: u1.alias@a.test retired"
run account remove user3@a.test
is "$RC" 0 "account remove user3@a.test"

printf '%s\n' \
    '# each kind of conflict, and lines that still apply' \
    "$(printf 'user5@a.test\tu5.alias@a.test\tnew5@a.test')" \
    "$(printf 'user1@a.test\tu1.alias@a.test')" \
    "$(printf 'user3@a.test\tnew3@a.test')" \
    "$(printf 'fresh1@a.test\tu7.alias@a.test')" \
    "$(printf 'fresh2@a.test\tshared@a.test')" \
    'shared@a.test' \
    'fresh3@nohost.test' \
    "$(printf 'not an address\tfresh4@a.test')" \
    "$(printf 'u9.alias@a.test\tfresh5@a.test')" \
    "$(printf 'fresh6@b.test\tf6@b.test')" \
    "$(printf 'user11@a.test\tu11.alias@a.test')" \
    "$(printf 'user13@a.test\tuser12@b.test')" \
    > "$T/c.tsv"
C=$T/c.tsv

SUM=$(store_sum)
run account sync --dry-run "$C"
is "$RC" 1 "dry run with conflicts: exit 1"
is "$(store_sum)" "$SUM" "dry run: data.mdb unchanged"
is "$(tail -n 1 "$T/out")" "dry run: nothing written" "dry run: says so"
sed '$d' "$T/out" > "$T/plan"

run account sync "$C"
is "$RC" 1 "sync with conflicts: exit 1"
check "dry run printed the same report as the sync" cmp -s "$T/plan" "$T/out"
has_line "$T/out" "$C:2: changed user5@a.test (aliases added: new5@a.test)" \
    "line 2: a new alias of an existing account"
has_line "$T/out" "$C:3: conflict: u1.alias@a.test: retired alias of user1@a.test (wkdctl alias add user1@a.test u1.alias@a.test brings it back)" \
    "line 3: retired alias"
has_line "$T/out" "$C:4: conflict: user3@a.test: account removed (its addresses are never reused)" \
    "line 4: removed account"
has_line "$T/out" "$C:5: conflict: u7.alias@a.test: bound to account user7@a.test" \
    "line 5: alias bound to another account"
has_line "$T/out" "$C:6: conflict: shared@a.test: also the primary address on line 7" \
    "line 6: its alias is line 7's primary"
has_line "$T/out" "$C:7: conflict: shared@a.test: also an alias on line 6" \
    "line 7: its primary is line 6's alias"
has_line "$T/out" "$C:8: conflict: fresh3@nohost.test: domain nohost.test is not hosted (wkdctl domain add nohost.test)" \
    "line 8: domain not hosted"
has_line "$T/out" "$C:9: conflict: not an address: not a mail address" \
    "line 9: malformed address"
has_line "$T/out" "$C:10: conflict: u9.alias@a.test: bound to account user9@a.test" \
    "line 10: primary already an alias of another account"
has_line "$T/out" "$C:11: added fresh6@b.test (aliases added: f6@b.test)" \
    "line 11: a new account"
has_line "$T/out" "$C:12: unchanged user11@a.test" "line 12: unchanged"
has_line "$T/out" "$C:13: conflict: user12@b.test: already an account" \
    "line 13: alias already an account"
is "$(grep -c ': conflict: ' "$T/out")" 9 "nine conflict report lines, one per conflicting line"
is "$(tail -n 1 "$T/out")" \
    "12 lines: 1 accounts added, 2 aliases added, 1 unchanged, 9 conflicts" \
    "conflicts: summary"

# What conflicted changed nothing; the rest was applied.
for a in fresh1@a.test fresh2@a.test shared@a.test fresh4@a.test \
    fresh5@a.test new3@a.test; do
	run account show "$a"
	is "$RC" 1 "$a: not bound (its line conflicted)"
done
run account show new5@a.test
has_line "$T/out" "account user5@a.test" "new5@a.test bound to user5@a.test"
run account show f6@b.test
has_line "$T/out" "account fresh6@b.test" "f6@b.test bound to fresh6@b.test"
run show u1.alias@a.test
has_line "$T/out" "  state: retired" "u1.alias@a.test still retired"

# Again: what was applied is unchanged now, and nothing is written.
SUM=$(store_sum)
run account sync "$C"
is "$RC" 1 "conflicts again: exit 1"
is "$(tail -n 1 "$T/out")" \
    "12 lines: 0 accounts added, 0 aliases added, 3 unchanged, 9 conflicts" \
    "conflicts again: applied lines unchanged"
is "$(store_sum)" "$SUM" "conflicts again: data.mdb unchanged"

# --json: the same report, checked against account list --json.
run account sync --json "$C"
is "$RC" 1 "--json: exit 1"
cp "$T/out" "$T/sync.json"
ctl account list --json > "$T/list.json"
check "--json parses; statuses and summary as reported; agrees with account list --json" \
    python3 - "$T/sync.json" "$T/list.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
accts = json.load(open(sys.argv[2]))
owner = {}
for a in accts:
    owner[a["primary"]] = (a["primary"], "primary", a["removed"])
    for x in a["aliases"]:
        owner[x["address"]] = (a["primary"], x["state"], False)
assert r["dry_run"] is False and r["written"] is False, r
assert r["summary"] == {"lines": 12, "accounts_added": 0,
    "aliases_added": 0, "unchanged": 3, "conflicts": 9}, r["summary"]
status = {l["line"]: l["status"] for l in r["lines"]}
want = {2: "unchanged", 11: "unchanged", 12: "unchanged"}
for n in range(2, 14):
    assert status[n] == want.get(n, "conflict"), (n, status[n])
for l in r["lines"]:
    p = l["primary"]
    for x in l["addresses"]:
        a = x["address"]
        if x["status"] == "unchanged":
            # Bound to the line's account, as the file says.
            assert owner[a][0] == p and owner[a][1] in ("primary",
                "alias"), (a, owner.get(a))
        elif x["status"] == "skipped":
            # New, but its line conflicted: not in the store.
            assert a not in owner, a
        else:
            assert x["status"] == "conflict" and x["reason"], x
bad = [l for l in r["lines"] if l["line"] == 9][0]["addresses"][0]
assert bad == {"address": "not an address", "role": "primary",
    "status": "conflict", "reason": "not a mail address"}, bad
EOF
run account sync --json --dry-run "$C"
check "--json --dry-run: dry_run true, written false" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r["dry_run"] is True and r["written"] is False else 1)' "$T/out"

# Odd input: CRLF, "#" in a local part, comments, a line too long, a line
# starting with a tab, control characters and bad UTF-8 in a bad address.
{
	printf 'crlf@a.test\tcrlf.alias@a.test\r\n'
	printf '   # an indented comment\n'
	printf 'a#b@a.test\n'
	printf 'long@a.test'
	awk 'BEGIN { for (i = 0; i < 7000; i++) printf "\tx%d@a.test", i }'
	printf '\n'
	printf '\tlead@a.test\n'
	printf 'bad\001\377x@a.test\n'
	printf 'noeol@a.test'
} > "$T/odd.tsv"
run account sync "$T/odd.tsv"
is "$RC" 1 "odd input: exit 1"
has_line "$T/out" "$T/odd.tsv:1: added crlf@a.test (aliases added: crlf.alias@a.test)" \
    "CRLF line"
has_line "$T/out" "$T/odd.tsv:3: added a#b@a.test" "'#' inside an address"
has_line "$T/out" "$T/odd.tsv:4: conflict: line longer than 65536 bytes" \
    "a line too long"
has_line "$T/out" "$T/odd.tsv:5: conflict: no primary address (the line starts with a tab)" \
    "a line starting with a tab"
has_line "$T/out" "$T/odd.tsv:6: conflict: bad??x@a.test: not a mail address" \
    "control and non-UTF-8 bytes shown as '?'"
has_line "$T/out" "$T/odd.tsv:7: added noeol@a.test" "last line without a newline"
is "$(tail -n 1 "$T/out")" \
    "6 lines: 3 accounts added, 1 aliases added, 0 unchanged, 3 conflicts" \
    "odd input: summary"
run account sync --json "$T/odd.tsv"
check "odd input: --json parses" python3 -c '
import json, sys; json.load(open(sys.argv[1]))' "$T/out"
run account show long@a.test
is "$RC" 1 "the long line's account is not added"

# Usage and errors.
run account sync
is "$RC" 2 "account sync without a file: exit 2"
run account sync --bogus "$C"
is "$RC" 2 "account sync --bogus: exit 2"
run account sync a b
is "$RC" 2 "account sync with two files: exit 2"
run account sync "$T/nonexistent"
is "$RC" 1 "account sync of a missing file: exit 1"
run account list --bogus
is "$RC" 2 "account list --bogus: exit 2"
run list --bogus
is "$RC" 2 "list --bogus: exit 2"

# --- keys at synced aliases, served by wkdd ------------------------------
write_conf
start_wkdd || finish

# A key imported after the sync publishes at the synced alias.
FA=$(gen_key u20.alias@b.test) || { fail "gpg: key for u20.alias@b.test"; finish; }
run import "$T/u20.alias@b.test.pgp"
is "$RC" 0 "import a key for synced alias u20.alias@b.test"
run show u20.alias@b.test
has_line "$T/out" "  key: $FA" "u20.alias@b.test publishes the key"

# A stored key with a UID for an address sync adds as an alias later:
# published by the sync itself.
FB=$(gen_key user22@b.test) || { fail "gpg: key for user22@b.test"; finish; }
gpg -q --batch --pinentry-mode loopback --passphrase '' \
    --quick-add-uid "Test <user22@b.test>" "Test <user22.new@b.test>" \
    >/dev/null 2>&1
gpg -q --batch --export "$FB" > "$T/user22.pgp"
run import "$T/user22.pgp"
is "$RC" 0 "import user22's key (user22.new@b.test not bound yet)"
printf 'user22@b.test\tu22.alias@b.test\tuser22.new@b.test\n' > "$T/add.tsv"
run account sync "$T/add.tsv"
is "$RC" 0 "sync adds user22.new@b.test"
has_line "$T/out" "$T/add.tsv:1: changed user22@b.test (aliases added: user22.new@b.test)" \
    "sync: alias added"
has_line "$T/out" "  published at user22.new@b.test (key $FB)" \
    "sync: the alias published from the stored key"

for a in u20.alias@b.test user22.new@b.test; do
	H=$(hash_of "$a")
	fetch openpgpkey.b.test "/.well-known/openpgpkey/b.test/hu/$H?l=${a%@*}"
	is "$STATUS" 200 "wkdd serves $a"
	ctl export "$a" -o "$T/export.pgp"
	check "$a: wkdd serves what wkdctl export gives" \
	    cmp -s "$T/body" "$T/export.pgp"
done
check_wkdd "after the syncs and imports"

# A new alias for every account, with keys in the store now: each is
# looked up among the stored keys' UIDs, not by scanning the store.
awk -F '\t' '!/^#/ && NF > 0 { print $0 "\tmore" NR "@a.test" }' \
    "$T/users.tsv" > "$T/more.tsv"
t0=$(now_ms)
run account sync "$T/more.tsv"
t1=$(now_ms)
diag "sync of $NACC new aliases of existing accounts: $((t1 - t0)) ms"
is "$RC:$(tail -n 1 "$T/out")" \
    "1:$NACC lines: 0 accounts added, $((NACC - 2)) aliases added, 0 unchanged, 2 conflicts" \
    "a new alias for every account but user1's (retired alias) and user3's (removed)"
run account show more4@a.test
is "$RC" 1 "the removed account gets no alias"
run account show more6@a.test
has_line "$T/out" "account user5@a.test" "more6@a.test bound to user5@a.test"

# list --json: the published addresses, with key and state.
ctl list --json b.test > "$T/pub.json"
check "list --json b.test: the published addresses, fingerprints, states" \
    python3 - "$T/pub.json" "$FA" "$FB" <<'EOF'
import json, sys
l = json.load(open(sys.argv[1]))
got = sorted((x["address"], x["fpr"], x["state"], x["account"]) for x in l)
fa, fb = sys.argv[2], sys.argv[3]
want = sorted([("u20.alias@b.test", fa, "valid", "user20@b.test"),
    ("user22@b.test", fb, "valid", "user22@b.test"),
    ("user22.new@b.test", fb, "valid", "user22@b.test")])
sys.exit(0 if got == want else 1)
EOF
ctl account list --json > "$T/list.json"
check "account list --json: the keys at user22's addresses" \
    python3 - "$T/list.json" "$FB" <<'EOF'
import json, sys
a = [x for x in json.load(open(sys.argv[1])) if x["primary"] == "user22@b.test"]
fb = sys.argv[2]
assert a[0]["fpr"] == fb, a
al = {x["address"]: x for x in a[0]["aliases"]}
assert al["user22.new@b.test"]["fpr"] == fb, al
assert al["u22.alias@b.test"]["fpr"] is None, al
EOF

if [ -s "$T/san.log" ]; then
	fail "wkdctl: sanitizer reports"
	sed 's/^/#   /' "$T/san.log" | head -40
else
	pass "wkdctl: no sanitizer report"
fi
finish
