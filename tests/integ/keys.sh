# tests/integ/keys.sh: gpg helpers for tests that need real OpenPGP keys.
# Source it after setting $tmp (a private temp directory):
#
#	keys_init		throwaway GNUPGHOME in $tmp/gnupg (sets $GNUPGHOME)
#	keys_gen UID [ALGO]	new key with primary UID; prints its fingerprint
#	keys_gen_pw UID PW	the same, protected by passphrase PW
#	keys_adduid FPR UID	add a UID
#	keys_revuid FPR UID	revoke a UID
#	keys_photo FPR		add a photo ID (a tiny JPEG made on the fly)
#	keys_revoke FPR		revoke the key (gpg's stored revocation cert)
#	keys_certify SIGNER FPR	exportable third-party certification
#	keys_pub FPR FILE	export the public key (binary) to FILE
#	keys_sec FPR FILE	export the secret keypair (binary) to FILE
#	wks_install FILE ADDR DIR  gpg-wks-client --install-key; prints the path
#
# gpg runs with --batch and an empty passphrase unless one is given.

# shellcheck disable=SC2154 # $tmp is the caller's.
WKS_CLIENT=${WKS_CLIENT:-/usr/lib/gnupg/gpg-wks-client}

keys_init() {
	GNUPGHOME=$tmp/gnupg
	export GNUPGHOME
	mkdir -p "$GNUPGHOME"
	chmod 700 "$GNUPGHOME"
	printf 'allow-loopback-pinentry\n' > "$GNUPGHOME/gpg-agent.conf"
	printf 'no-auto-check-trustdb\n' > "$GNUPGHOME/gpg.conf"
}

# Stop the agent this GNUPGHOME started (by its socket, not by name).
keys_fini() {
	[ -n "${GNUPGHOME:-}" ] || return 0
	gpgconf --kill gpg-agent >/dev/null 2>&1 || true
	gpgconf --kill dirmngr >/dev/null 2>&1 || true
}

kgpg() {
	gpg --batch --quiet --no-tty --pinentry-mode loopback "$@"
}

keys_gen() {
	kgpg --passphrase "" --quick-gen-key "$1" "${2:-future-default}" default never \
	    2>/dev/null || return 1
	kgpg --with-colons --list-keys "=$1" 2>/dev/null |
	    awk -F: '$1 == "fpr" { print $10; exit }'
}

keys_gen_pw() {
	kgpg --passphrase "$2" --quick-gen-key "$1" "${3:-future-default}" default never \
	    2>/dev/null || return 1
	kgpg --with-colons --list-keys "=$1" 2>/dev/null |
	    awk -F: '$1 == "fpr" { print $10; exit }'
}

keys_adduid() {
	kgpg --passphrase "${3:-}" --quick-add-uid "$1" "$2" 2>/dev/null
}

keys_revuid() {
	kgpg --passphrase "${3:-}" --quick-revoke-uid "$1" "$2" 2>/dev/null
}

# A valid 1x1 baseline JPEG (gpg only checks the JFIF magic and size).
keys_jpeg() {
	{
		printf '\377\330\377\340\000\020JFIF\000\001\001\000\000\001\000\001\000\000'
		printf '\377\333\000\103\000'
		i=0
		while [ $i -lt 64 ]; do printf '\001'; i=$((i + 1)); done
		printf '\377\300\000\013\010\000\001\000\001\001\001\021\000'
		printf '\377\304\000\024\000\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000'
		printf '\377\304\000\024\020\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000'
		printf '\377\332\000\010\001\001\000\000\077\000\322\317\040\377\331'
	} > "$1"
}

keys_photo() {
	keys_jpeg "$tmp/photo.jpg"
	printf 'addphoto\n%s\nsave\n' "$tmp/photo.jpg" |
	    gpg --batch --no-tty --pinentry-mode loopback --passphrase "${2:-}" \
	    --command-fd 0 --status-fd 2 --edit-key "$1" >/dev/null 2>&1
}

keys_revoke() {
	sed 's/^:-----/-----/' "$GNUPGHOME/openpgp-revocs.d/$1.rev" |
	    kgpg --import >/dev/null 2>&1
}

keys_certify() {
	kgpg --passphrase "${3:-}" -u "$1" --quick-sign-key "$2" >/dev/null 2>&1
}

keys_pub() {
	kgpg --export "$1" > "$2"
}

keys_sec() {
	kgpg --passphrase "${3:-}" --export-secret-keys "$1" > "$2"
}

wks_install() {
	"$WKS_CLIENT" -C "$3" --install-key "$1" "$2" >/dev/null 2>&1 || return 1
	# gpg lowers the domain's ASCII letters only.
	# shellcheck disable=SC2018,SC2019
	d=$(printf '%s\n' "${2#*@}" | tr 'A-Z' 'a-z')
	h=$("$WKS_CLIENT" --print-wkd-hash "$2" | awk '{ print $1 }')
	printf '%s/%s/hu/%s\n' "$3" "$d" "$h"
}
