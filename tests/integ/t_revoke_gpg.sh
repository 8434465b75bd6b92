#!/bin/sh
# shellcheck disable=SC2317,SC2119 # functions called through io_step/check.
# t_revoke_gpg: GnuPG learns of a revocation through wkdd at once.  For
# each way "wkdctl revoke" gets its signature (stored certificate,
# --with-key, --certificate), gpg --locate-external-keys finds the key
# valid, then, right after the revoke and with wkdd still running,
# revoked.  Runs in network and mount namespaces, as the interop tests
# (tests/interop/lib.sh): wkdd on 127.0.0.1:443, names in a private
# /etc/hosts, the test CA in a private trust store.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
O=${O:-$TOP/build}
export TOP O
. "$TOP/tests/interop/lib.sh"
io_need dirmngr
io_enter

# io_setup without the interop fixtures: our own keys and store.
T=$(mktemp -d /tmp/wkdd-rv.XXXXXX) || exit 1
trap io_cleanup EXIT
trap 'exit 1' HUP INT TERM
chmod 755 "$T"
mkdir -p "$T/home" "$T/gh" "$T/syscerts" "$T/keys"
cp -a /etc/ssl/certs/. "$T/syscerts/" 2>/dev/null
[ -f "$T/syscerts/ca-certificates.crt" ] ||
    : > "$T/syscerts/ca-certificates.crt"
io_step "namespace: loopback up, /etc/hosts and resolv.conf" \
    "$T/setup.log" io_netns
io_step "test CA and server certificate" "$T/ca.log" io_ca
io_step "trust store with the test CA" "$T/trust.log" io_trust with

G=$(io_newhome gen)
# W ARGS...: wkdctl on the test store.
W() {
	"$O/wkdctl" -s "$T/store" "$@"
}

# mkkey TAG: a key for TAG@adv.test in $G; fingerprint in $T/keys/TAG.fpr,
# public key in TAG.pub, secret keypair in TAG.sec.
mkkey() {
	io_gpg "$G" --status-fd 1 --quick-gen-key "$1@$IO_D_ADV" \
	    future-default default never > "$T/keys/$1.status" || return 1
	_f=$(awk '$2 == "KEY_CREATED" { print $4 }' "$T/keys/$1.status")
	[ -n "$_f" ] || return 1
	echo "$_f" > "$T/keys/$1.fpr"
	io_gpg "$G" --export "$_f" > "$T/keys/$1.pub" &&
	io_gpg "$G" --export-secret-keys "$_f" > "$T/keys/$1.sec"
}

store() {
	W init && W domain add "$IO_D_ADV" &&
	for _t in stored withkey cert; do
		mkkey "$_t" && W account add "$_t@$IO_D_ADV" || return 1
	done &&
	W import "$T/keys/stored.sec" &&
	W import "$T/keys/withkey.pub" "$T/keys/cert.pub" &&
	sed 's/^:-----/-----/' "$G/openpgp-revocs.d/$(cat "$T/keys/cert.fpr").rev" \
	    > "$T/keys/cert.rev"
}
io_step "keys (gpg) and store (wkdctl)" "$T/store.log" store
gpgconf --homedir "$G" --kill all 2>/dev/null
io_step "wkdd listening on 127.0.0.1:443" "$T/start.log" io_server

# lookup TAG STATE: gpg --locate-external-keys TAG@adv.test imports the
# key with its one UID, revoked if STATE is "revoked".
lookup() {
	io_gpg_get "$1.$2" "$1@$IO_D_ADV"
	_rc=$?
	if [ "$_rc" -eq 0 ] && io_colons_check "$T/$1.$2.list" \
	    "$1@$IO_D_ADV" "$(cat "$T/keys/$1.fpr")" "$2"; then
		return 0
	fi
	echo "# gpg exit $_rc"
	show "$T/$1.$2.err" "$T/$1.$2.list"
	io_dirmngr_diag "$T/$1.$2.dirmngr"
	return 1
}

# revoked_line TAG: gpg's human listing after the lookup says "revoked".
revoked_line() {
	grep -q 'revoked' "$T/$1.revoked.out" ||
	    grep -q ':r:' "$T/$1.revoked.list"
}

for t in stored withkey cert; do
	check "gpg: $t@$IO_D_ADV found, valid, before revoke" \
	    lookup "$t" valid
done

# quiet COMMAND...: its output into $T/cmd.out, shown on failure.
quiet() {
	"$@" > "$T/cmd.out" 2>&1 && return 0
	show "$T/cmd.out"
	return 1
}

check "wkdctl revoke (stored revocation certificate)" \
    quiet W revoke --reason compromised "stored@$IO_D_ADV"
check "wkdctl revoke --with-key" \
    quiet W revoke --with-key "$T/keys/withkey.sec" --reason retired \
    "withkey@$IO_D_ADV"
check "wkdctl revoke --certificate (gpg's .rev)" \
    quiet W revoke --certificate "$T/keys/cert.rev" "cert@$IO_D_ADV"

for t in stored withkey cert; do
	check "gpg: $t@$IO_D_ADV found revoked, at once" \
	    lookup "$t" revoked
	check "gpg: $t: the listing says revoked" revoked_line "$t"
done

io_done
