#!/bin/sh
# t_revoke_paths: "wkdctl revoke" by each of its three ways of getting the
# revocation signature, end to end through a running wkdd: the stored
# revocation certificate made at import of a secret keypair, --with-key
# (protected key, --passphrase-fd) and --certificate (gpg's .rev file).
# The served bytes must carry a revocation signature gpg verifies; forged
# and mismatched certificates are refused and change nothing; the stored
# revocation certificate is never served, and printed only when asked.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"
# shellcheck disable=SC2034 # keys.sh uses $tmp.
tmp=$T
. "$TOP/tests/integ/keys.sh"

need curl certtool gpg
need_wkdctl
keys_init

make_certs a.test '*.a.test'
make_store a.test
for u in stored withkey cert forged; do
	ctl account add "$u@a.test" >/dev/null || fail "account $u@a.test"
done

store_sum() {
	sha256sum "$STORE/data.mdb" | awk '{ print $1 }'
}

# served ADDR: fetch what wkdd serves for ADDR (advanced method) into
# $T/body; STATUS is set.
served() {
	fetch "openpgpkey.a.test" \
	    "/.well-known/openpgpkey/a.test/hu/$(hash_of "$1")?l=${1%@*}"
}

# revoked_ok ADDR FPR NAME: the served key carries exactly one key
# revocation (sigclass 0x20), which gpg verifies ("rev!") and which makes
# the key revoked ("pub:r") in a fresh keyring.
revoked_ok() {
	served "$1"
	is "$STATUS" 200 "$3: served"
	n=$(gpg --batch --list-packets "$T/body" 2>/dev/null |
	    grep -c 'sigclass 0x20')
	is "$n" 1 "$3: served bytes hold one key revocation (list-packets)"
	h=$T/check.$tap_n
	mkdir -p "$h" && chmod 700 "$h"
	GNUPGHOME=$h gpg --batch --quiet --import "$T/body" 2>/dev/null
	GNUPGHOME=$h gpg --batch --check-sigs "$2" > "$T/check" 2>&1
	if grep -q '^rev!' "$T/check"; then
		pass "$3: gpg --check-sigs verifies the revocation (rev!)"
	else
		fail "$3: gpg --check-sigs verifies the revocation (rev!)"
		sed 's/^/#   /' "$T/check"
	fi
	v=$(GNUPGHOME=$h gpg --batch --with-colons --list-keys "$2" \
	    2>/dev/null | awk -F: '$1 == "pub" { print $2 }')
	is "$v" r "$3: gpg lists the key as revoked"
	GNUPGHOME=$h gpgconf --kill all >/dev/null 2>&1
}

# not_revoked ADDR NAME: what is served has no key revocation.
not_revoked() {
	served "$1"
	is "$STATUS" 200 "$2: served"
	n=$(gpg --batch --list-packets "$T/body" 2>/dev/null |
	    grep -c 'sigclass 0x20')
	is "$n" 0 "$2: no revocation served"
}

write_conf
# shellcheck disable=SC2119 # no argument: the default conf.
start_wkdd || finish

# --- 1. Stored revocation certificate, made at import of a keypair.
S1=$(keys_gen 'Stored <stored@a.test>' ed25519)
keys_sec "$S1" "$T/s1.sec"
ctl import "$T/s1.sec" > "$T/out" 2>&1
check "import of an unprotected secret keypair" [ $? -eq 0 ]
if grep -q '^  revocation certificate made and stored' "$T/out"; then
	pass "import says it made and stored a revocation certificate"
else
	fail "import says it made and stored a revocation certificate"
fi
if grep -q 'BEGIN PGP' "$T/out"; then
	fail "import prints no revocation certificate"
else
	pass "import prints no revocation certificate"
fi
ctl show "$S1" > "$T/out" 2>&1
if grep -q 'revocation certificate: stored' "$T/out" &&
    ! grep -q 'BEGIN PGP' "$T/out"; then
	pass "show: 'revocation certificate: stored', not printed"
else
	fail "show: 'revocation certificate: stored', not printed"
fi

# The stored certificate, asked for explicitly (and logged).
ctl export-revocation --reason compromised -o "$T/s1.rev" "$S1" 2>"$T/err"
check "export-revocation writes it when asked" [ -s "$T/s1.rev" ]
check "it is armored" grep -q 'BEGIN PGP PUBLIC KEY BLOCK' "$T/s1.rev"
gpg --batch --dearmor < "$T/s1.rev" > "$T/s1.rev.bin" 2>/dev/null
check "it is one key revocation (0x20)" \
    sh -c "gpg --batch --list-packets '$T/s1.rev.bin' 2>/dev/null | grep -q 'sigclass 0x20'"

# Never reachable over HTTP: every URL shape for the key, and its bytes
# never appear in a response.
HS=$(hash_of stored@a.test)
leak=0
for p in "openpgpkey.a.test /.well-known/openpgpkey/a.test/hu/$HS" \
    "openpgpkey.a.test /.well-known/openpgpkey/a.test/hu/$HS?l=stored" \
    "a.test /.well-known/openpgpkey/hu/$HS" \
    "a.test /.well-known/openpgpkey/hu/$HS?l=stored" \
    "openpgpkey.a.test /.well-known/openpgpkey/a.test/hu/$S1" \
    "a.test /.well-known/openpgpkey/hu/$S1" \
    "openpgpkey.a.test /.well-known/openpgpkey/a.test/policy" \
    "a.test /.well-known/openpgpkey/policy" \
    "openpgpkey.a.test /.well-known/openpgpkey/a.test/hu/" \
    "a.test /.well-known/openpgpkey/revocs/$S1" \
    "a.test /.well-known/openpgpkey/hu/$HS.rev"; do
	# shellcheck disable=SC2086 # host and path.
	fetch $p
	if gpg --batch --list-packets "$T/body" 2>/dev/null |
	    grep -q 'sigclass 0x20'; then
		leak=1
		diag "revocation served at $p"
	fi
	if [ -s "$T/body" ] && od -An -tx1 -v "$T/body" | tr -d ' \n' |
	    grep -q "$(od -An -tx1 -v "$T/s1.rev.bin" | tr -d ' \n' |
	    cut -c1-80)"; then
		leak=1
		diag "revocation bytes in the response to $p"
	fi
done
is "$leak" 0 "stored revocation never served (11 URL shapes)"
not_revoked stored@a.test "before revoke"

before=$(store_sum)
ctl revoke --reason compromised --message "lost laptop" "$S1" \
    > "$T/out" 2>&1
is "$?" 2 "--message without --with-key: usage error"
is "$(store_sum)" "$before" "... store unchanged"

ctl revoke --reason compromised stored@a.test > "$T/out" 2>&1
is "$?" 0 "revoke ADDR with the stored certificate"
check "revoke reports how" \
    grep -q "revoked (compromised), stored revocation certificate" "$T/out"
revoked_ok stored@a.test "$S1" "stored certificate"
served stored@a.test
gpg --batch --list-packets "$T/body" 2>/dev/null > "$T/pk"
check "the reason is 'compromised' (0x02)" \
    grep -q 'revocation reason 0x02' "$T/pk"
# Once the key is revoked, its stored certificates are of no more use,
# and show and export-revocation say so plainly.
ctl show "$S1" > "$T/out" 2>&1
check "show, revoked key: stored certificate no longer needed" grep -q \
    '^  revocation certificate: stored, no longer needed (the key is revoked)$' \
    "$T/out"
ctl export-revocation --reason retired "$S1" > "$T/out" 2>"$T/err"
is "$?" 1 "export-revocation of a revoked key: refused"
check "... because the key is revoked already" grep -q \
    "key $S1: revoked already: no stored revocation certificate applies" \
    "$T/err"
ctl list > "$T/out"
check "list: revoked (compromised)" \
    grep -q "^stored@a.test	$S1	revoked (compromised" "$T/out"
ctl revoke "$S1" > "$T/out" 2>&1
is "$?" 1 "revoking again fails"

# --- 2. --with-key: a protected secret key, passphrase on a descriptor.
S2=$(keys_gen_pw 'With Key <withkey@a.test>' 'pass phrase 2' ed25519)
keys_pub "$S2" "$T/s2.pub"
keys_sec "$S2" "$T/s2.sec" 'pass phrase 2'
ctl import "$T/s2.pub" >/dev/null 2>&1 || fail "import S2"
ctl show "$S2" > "$T/out"
check "public key only: no revocation certificate stored" \
    grep -q 'revocation certificate: none stored' "$T/out"
ctl revoke withkey@a.test > "$T/out" 2>&1
is "$?" 1 "revoke without a stored certificate fails"
check "... and says how to give one" grep -q -- '--with-key' "$T/out"
before=$(store_sum)
ctl revoke --with-key "$T/s2.sec" --passphrase-fd 4 "$S2" \
    4<<-EOF > "$T/out" 2>&1
	wrong
	EOF
is "$?" 1 "--with-key, wrong passphrase: refused"
check "... says so" grep -q 'wrong passphrase' "$T/out"
is "$(store_sum)" "$before" "... store unchanged"
ctl revoke --with-key "$T/s2.sec" "$S2" < /dev/null > "$T/out" 2>&1
is "$?" 1 "--with-key, protected, no passphrase: refused"
ctl revoke --with-key "$T/s1.sec" "$S2" < /dev/null > "$T/out" 2>&1
is "$?" 1 "--with-key with another key's secret: refused"
is "$(store_sum)" "$before" "... store unchanged"
ctl revoke --with-key "$T/s2.sec" --passphrase-fd 4 --reason retired \
    --message "moved to a new key" withkey@a.test 4<<-EOF > "$T/out" 2>&1
	pass phrase 2
	EOF
is "$?" 0 "revoke --with-key (protected, --passphrase-fd)"
revoked_ok withkey@a.test "$S2" "--with-key"
served withkey@a.test
gpg --batch --list-packets "$T/body" 2>/dev/null > "$T/pk"
check "reason retired (0x03) with the message" \
    grep -q 'revocation reason 0x03 (moved to a new key)' "$T/pk"
ctl log "$S2" > "$T/out"
if grep -q 'pass phrase' "$T/out" "$LOG"; then
	fail "passphrase in no log"
else
	pass "passphrase in no log"
fi

# --- 3. --certificate: gpg's own .rev file; first forged ones.
S3=$(keys_gen 'Cert <cert@a.test>' ed25519)
S4=$(keys_gen 'Forged <forged@a.test>' ed25519)
keys_pub "$S3" "$T/s3.pub"
keys_pub "$S4" "$T/s4.pub"
ctl import "$T/s3.pub" "$T/s4.pub" >/dev/null 2>&1 || fail "import S3, S4"
sed 's/^:-----/-----/' "$GNUPGHOME/openpgp-revocs.d/$S3.rev" > "$T/s3.rev"
sed 's/^:-----/-----/' "$GNUPGHOME/openpgp-revocs.d/$S4.rev" > "$T/s4.rev"

before=$(store_sum)
ctl revoke --certificate "$T/s3.rev" "$S4" > "$T/out" 2>&1
is "$?" 1 "another key's revocation certificate: refused"
check "... says why" grep -q 'not a valid revocation of key' "$T/out"
is "$(store_sum)" "$before" "... store unchanged"
# Modified: flip a bit in the signature's last MPI byte.
gpg --batch --dearmor < "$T/s4.rev" > "$T/s4.bin" 2>/dev/null
perl -e 'local $/; my $d = <STDIN>; substr($d, -1, 1) ^= "\x01";
    print $d' < "$T/s4.bin" > "$T/s4.bad"
ctl revoke --certificate "$T/s4.bad" forged@a.test > "$T/out" 2>&1
is "$?" 1 "modified revocation certificate: refused"
check "... as not a valid revocation" grep -q 'refused: not a valid' "$T/out"
is "$(store_sum)" "$before" "... store unchanged"
# Modified in its hashed data: the reason code.
perl -e 'local $/; my $d = <STDIN>; $d =~ s/\x1d\x00/\x1d\x02/ or exit 1;
    print $d' < "$T/s4.bin" > "$T/s4.bad2" ||
    perl -e 'local $/; my $d = <STDIN>; substr($d, 8, 1) ^= "\x01";
    print $d' < "$T/s4.bin" > "$T/s4.bad2"
ctl revoke --certificate "$T/s4.bad2" forged@a.test > "$T/out" 2>&1
is "$?" 1 "revocation certificate with altered hashed data: refused"
check "... as not a valid revocation" grep -q 'refused: not a valid' "$T/out"
# Not a certificate at all: a public key.
ctl revoke --certificate "$T/s4.pub" forged@a.test > "$T/out" 2>&1
is "$?" 1 "a key instead of a revocation certificate: refused"
check "... says why" grep -q 'signature packets only' "$T/out"
is "$(store_sum)" "$before" "... store unchanged"
not_revoked forged@a.test "after the refused certificates"

ctl revoke --certificate "$T/s3.rev" cert@a.test > "$T/out" 2>&1
is "$?" 0 "revoke --certificate (gpg's .rev file)"
revoked_ok cert@a.test "$S3" "--certificate"
# gpg's .rev as written, with its leading colon, is accepted too.
ctl revoke --certificate "$GNUPGHOME/openpgp-revocs.d/$S4.rev" "$S4" \
    > "$T/out" 2>&1
is "$?" 0 "revoke --certificate with gpg's ':'-protected .rev file"
revoked_ok forged@a.test "$S4" "--certificate (colon form)"

# --- Protected keypair at import: a passphrase makes the certificate;
# without one, the import still works and says why none was made.
S5=$(keys_gen_pw 'Prot <stored2@a.test>' 'pw5' ed25519)
keys_sec "$S5" "$T/s5.sec" 'pw5'
ctl account add stored2@a.test >/dev/null
ctl import "$T/s5.sec" < /dev/null > "$T/out" 2>&1
is "$?" 0 "import of a protected keypair without a passphrase"
check "... says no revocation certificate was made" \
    grep -q 'no revocation certificate made: the secret key is passphrase-protected' "$T/out"
before=$(store_sum)
ctl import --passphrase-fd 4 "$T/s5.sec" 4<<-EOF > "$T/out" 2>&1
	bad
	EOF
is "$?" 1 "import with a wrong passphrase fails"
is "$(store_sum)" "$before" "... store unchanged"
ctl import --passphrase-fd 4 "$T/s5.sec" 4<<-EOF > "$T/out" 2>&1
	pw5
	EOF
is "$?" 0 "import with --passphrase-fd"
check "... stores a revocation certificate" \
    grep -q 'revocation certificate made and stored' "$T/out"
# Only the subkeys' secrets (gpg --export-secret-subkeys): imported, with
# no revocation certificate, and --with-key can't sign with it.
S7=$(keys_gen 'Sub <sub@a.test>' ed25519)
kgpg --passphrase '' --quick-add-key "$S7" cv25519 encr 2>/dev/null
kgpg --passphrase '' --export-secret-subkeys "$S7" > "$T/s7.sub"
ctl account add sub@a.test >/dev/null
ctl import --passphrase-fd 4 "$T/s7.sub" 4</dev/null > "$T/out" 2>&1
is "$?" 0 "import of secret subkeys only"
check "... no revocation certificate: primary secret not in the input" \
    grep -q 'no revocation certificate made: the primary secret key is not in the input' "$T/out"
ctl revoke --with-key "$T/s7.sub" "$S7" < /dev/null > "$T/out" 2>&1
is "$?" 1 "--with-key without the primary secret key: refused"

# On a terminal, the passphrase is asked for, not echoed.
S6=$(keys_gen_pw 'Tty <tty@a.test>' 'tty secret' ed25519)
keys_sec "$S6" "$T/s6.sec" 'tty secret'
ctl account add tty@a.test >/dev/null
if command -v script >/dev/null 2>&1; then
	(sleep 1; printf 'tty secret\n') | script -qc \
	    "$WKDCTL -s $STORE import $T/s6.sec" /dev/null > "$T/tty" 2>&1
	check "import on a terminal asks for the passphrase" \
	    grep -q "Passphrase for key $S6" "$T/tty"
	check "... and makes the revocation certificate" \
	    grep -q 'revocation certificate made and stored' "$T/tty"
	if grep -q 'tty secret' "$T/tty"; then
		fail "... without echoing the passphrase"
	else
		pass "... without echoing the passphrase"
	fi
else
	skip "script(1) not installed (terminal prompt)"
fi

ctl revoke --reason superseded stored2@a.test > "$T/out" 2>&1
is "$?" 0 "revoke with the certificate made from the protected key"
revoked_ok stored2@a.test "$S5" "stored (protected key)"

# --- The audit log has each revocation, with how it was made.
ctl log > "$T/log"
for f in "$S1" "$S2" "$S3" "$S4" "$S5"; do
	check "log: $f revoked" grep -q "$f: key $f: valid -> revoked" "$T/log"
done
check "log: the export of a revocation certificate" \
    grep -q "$S1: revocation certificate (compromised) exported" "$T/log"
check "log: --with-key recorded" \
    grep -q "retired: moved to a new key); signed now with the secret key given" "$T/log"

check_wkdd "after the revocations"
finish
