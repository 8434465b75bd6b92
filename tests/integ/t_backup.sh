#!/bin/sh
# t_backup: wkdctl backup while wkdd serves and a writer runs (every copy
# a consistent snapshot, mode 600, never a partial file), wkdctl restore
# while wkdd serves (served from the next request, no reload, no failed
# request meanwhile), files that aren't a wkdd store (garbage, empty, a
# truncated copy, another program's LMDB file, a copy whose published key
# holds a secret-key packet) refused with the store unchanged, and a new
# replica made from a backup.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gpg mdb_dump mdb_load perl
need_wkdctl

make_certs a.test
make_store a.test
ctl account add alice@a.test > /dev/null &&
    FPR=$(gen_key alice@a.test) && ctl import "$T/alice@a.test.pgp" \
    > /dev/null || { fail "setup: alice's key"; finish; }
H=$(hash_of alice@a.test)
KEY=/.well-known/openpgpkey/hu/$H
write_conf
start_wkdd || finish
fetch a.test "$KEY"
is "$STATUS" 200 "alice's key served"
cp "$T/body" "$T/alice.served"

# --- backup ---------------------------------------------------------------
umask 022
ctl backup "$T/b1.mdb" > "$T/out" 2>&1
is "$?" 0 "backup: exit 0"
like "$T/out" "^$T/b1.mdb: [0-9]+ bytes, format 3: 1 domains, 1 addresses, 1 keys, [0-9]+ entries served" \
    "backup: says what it holds"
is "$(stat -c %a "$T/b1.mdb")" 600 "backup: mode 600 (umask 022)"
is "$(ls -a "$T" | grep -c '^\.b1\.mdb\.')" 0 "backup: no temporary file left"
cmp -s "$STORE/data.mdb" "$T/b1.mdb"
check "backup: compacted, not a byte copy" [ $? -ne 0 ]

# Backups while a writer adds accounts, one transaction each (the account
# and its audit entry): each copy holds whole transactions only.
(
	i=0
	while [ $i -lt 60 ]; do
		ctl account add "u$i@a.test" > /dev/null 2>&1 || exit 1
		i=$((i + 1))
	done
) &
WRITER=$!
n=0 bad=0
while kill -0 "$WRITER" 2>/dev/null || [ $n -lt 3 ]; do
	n=$((n + 1))
	ctl backup "$T/w.mdb" > /dev/null 2>&1 || bad=$((bad + 1))
	rm -rf "$T/w"
	mkdir "$T/w"
	"$WKDCTL" -s "$T/w" restore "$T/w.mdb" > /dev/null 2>&1 ||
	    bad=$((bad + 1))
	accts=$("$WKDCTL" -s "$T/w" account list | grep -c '@')
	added=$("$WKDCTL" -s "$T/w" log | grep -c 'account added')
	[ "$accts" -eq "$added" ] || {
		bad=$((bad + 1))
		diag "copy $n: $accts accounts, $added creations logged"
	}
	[ "$(stat -c %a "$T/w.mdb")" = 600 ] || bad=$((bad + 1))
done
wait "$WRITER"
is "$?" 0 "the writer ran throughout"
is "$bad" 0 "$n backups during the writes: each consistent, restorable, mode 600"
check_wkdd "backups while serving"

# --- restore while serving ---------------------------------------------------
ctl remove "$FPR" > /dev/null
fetch a.test "$KEY"
is "$STATUS" 404 "key removed: 404"
sum_before=$(md5sum < "$STORE/data.mdb")
# A client polling while the store is restored: only 404 then 200.
(
	while [ ! -e "$T/stop" ]; do
		curl -s -o /dev/null -w '%{http_code}\n' --cacert "$T/ca.pem" \
		    --resolve "a.test:$PORT:127.0.0.1" "https://a.test:$PORT$KEY"
	done
) > "$T/poll" &
POLL=$!
# wait_poll CODE: until the poller has seen CODE (at most 10 s).
wait_poll() {
	_i=0
	while ! grep -q "^$1\$" "$T/poll" && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}
wait_poll 404
ctl restore "$T/b1.mdb" > "$T/out" 2>&1
is "$?" 0 "restore: exit 0"
like "$T/out" "restored; wkdd serves it from its next request" "restore: says so"
fetch a.test "$KEY"
is "$STATUS" 200 "restored while serving: the key is served again, no reload"
cmp -s "$T/body" "$T/alice.served"
check "... the same bytes as before" [ $? -eq 0 ]
wait_poll 200
touch "$T/stop"
wait "$POLL"
is "$(sort -u "$T/poll" | tr '\n' ' ')" "200 404 " \
    "a client polling meanwhile got only 404, then 200"
is "$(ctl account list | grep -c '@')" 1 "the restored store: one account"
ctl log | tail -n 1 | grep -q 'restored from a backup'
check "restore is in the audit log" [ $? -eq 0 ]
check_wkdd "restore while serving"
rm -f "$T/stop"

# --- files that aren't a store: refused, nothing changed ------------------
sum_before=$(md5sum < "$STORE/data.mdb")
list_before=$(ctl list)
# refused NAME FILE: restore of FILE exits 1, says nothing changed, and
# data.mdb is the same bytes.
refused() {
	ctl restore "$2" > "$T/out" 2>&1
	_rc=$?
	if [ $_rc -eq 1 ] && grep -q 'nothing changed' "$T/out" &&
	    [ "$(md5sum < "$STORE/data.mdb")" = "$sum_before" ]; then
		pass "restore refuses $1, store unchanged"
	else
		fail "restore refuses $1, store unchanged (exit $_rc)"
		sed 's/^/#   /' "$T/out"
	fi
}
head -c 100000 /dev/urandom > "$T/garbage"
refused "random bytes" "$T/garbage"
like "$T/out" "not a wkdd store" "... saying it isn't a wkdd store"
: > "$T/empty"
refused "an empty file" "$T/empty"
cp "$WKDD" "$T/program"
refused "a program" "$T/program"
refused "a directory" "$T"
refused "a missing file" "$T/none"
sz=$(stat -c %s "$T/b1.mdb")
head -c $((sz / 2)) "$T/b1.mdb" > "$T/half.mdb"
refused "a truncated backup" "$T/half.mdb"
printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n key\n value\nDATA=END\n' |
    mdb_load -n "$T/other.mdb"
refused "another program's LMDB file" "$T/other.mdb"
# The published key's bytes replaced by a secret-key packet (tag 5).
mdb_dump -n -a -p "$T/b1.mdb" > "$T/dump"
perl -e '
	my ($in, $db, $done) = (0, "", 0);
	while (<STDIN>) {
		$db = $1 if /^database=(.*)$/;
		$in = 1 if /^HEADER=END/;
		if ($db eq "wkd" && $in && !$done && /^ (.*)$/ && $seen++ % 2) {
			# Value: version 1, etag length 0, then the packet.
			print " \\01\\00\\95\\00\\04\\04abc\n";
			$done = 1;
			next;
		}
		$in = 0 if /^DATA=END/;
		print;
	}' < "$T/dump" > "$T/dump.secret"
mdb_load -n -f "$T/dump.secret" "$T/secret.mdb" 2>"$T/load.err"
if [ -s "$T/secret.mdb" ]; then
	refused "a published key holding secret-key material" "$T/secret.mdb"
else
	fail "setup: a copy with a secret-key packet"
	show "$T/load.err"
fi
is "$(ctl list)" "$list_before" "store as it was after all of them"
fetch a.test "$KEY"
is "$STATUS" 200 "still serving the key"

# --- a new replica from a backup ---------------------------------------------
ctl backup "$T/ship.mdb" > /dev/null
"$WKDCTL" -s "$T/replica" restore "$T/ship.mdb" > "$T/out" 2>&1
is "$?" 0 "restore into a directory that doesn't exist: a new replica"
stop_wkdd
# "sandbox no": Landlock allows the store's directory as it was at start
# (that inode), so a directory moved over it is followed only without
# the sandbox (t_sandbox.sh has the other case).
{ sed "s|^store .*|store $T/replica|" "$CONF"; echo "sandbox no"; } \
    > "$T/replica.conf"
start_wkdd "$T/replica.conf" || finish
fetch a.test "$KEY"
is "$STATUS" 200 "the replica's wkdd serves the key"
cmp -s "$T/body" "$T/alice.served"
check "... the same bytes" [ $? -eq 0 ]
fetch a.test /.well-known/openpgpkey/policy
is "$STATUS" 200 "... and the policy file"

# The store directory replaced by hand (a copy moved over it): wkdd
# notices on its own (a look a second) and serves the new one.
"$WKDCTL" -s "$T/nokey" restore "$T/ship.mdb" > /dev/null &&
    "$WKDCTL" -s "$T/nokey" remove "$FPR" > /dev/null ||
    fail "setup: a store without the key"
mv "$T/replica" "$T/replica.old" && mv "$T/nokey" "$T/replica"
i=0
while [ $i -lt 100 ]; do
	fetch a.test "$KEY"
	[ "$STATUS" = 404 ] && break
	sleep 0.1
	i=$((i + 1))
done
is "$STATUS" 404 "store directory replaced: served from the new one, no reload"
like "$LOG" "store $T/replica was replaced: serving the new one" \
    "... and logged"
rm -rf "$T/replica.old"

finish
