# tests/integ/debkeys.sh: Debian's keyring (the debian-keyring package) as
# test keys, for the tests that need many real ones (t_diskfull, t_crash;
# bench/crash.sh).  Source it after lib.sh, then
#
#	debian_keys		# or skip_all when the keyring is missing
#
# which sets DK_RING (the keyring), and makes $T/dk/users.tsv (every
# debian.org address of its UIDs, lowercase: an account sync file),
# $T/dk/keys/N.pgp (a file per key, bench/split) and $T/dk/pub (the files
# of the keys with a debian.org UID: those an import publishes).  A store
# for them: make_store debian.org, then ctl account sync "$T/dk/users.tsv".

DK_RING=/usr/share/keyrings/debian-keyring.gpg

debian_keys() {
	[ -r "$DK_RING" ] || skip_all "$DK_RING missing (debian-keyring)"
	[ -x "$O/bench/split" ] || {
		fail "$O/bench/split built (make test-bins)"
		finish
	}
	mkdir -p "$T/dk/keys"
	"$O/bench/split" "$DK_RING" "$T/dk/keys" > "$T/dk/uids" || {
		fail "bench/split $DK_RING"
		finish
	}
	tr '\t' '\n' < "$T/dk/uids" | grep -oiE '[^<> ]+@debian\.org' |
	    tr 'A-Z' 'a-z' | sort -u > "$T/dk/users.tsv"
	grep -i '@debian\.org' "$T/dk/uids" | cut -f 1 > "$T/dk/pub"
}
