#!/bin/sh
# t_deb: the Debian package, as an admin gets it, on this machine.
#
#   1. dpkg-buildpackage -us -uc -b builds wkdd_VERSION_ARCH.deb from a
#      copy of the tree (through make install); lintian finds no error
#      or warning;
#   2. dpkg -i installs it: programs, conffile, man pages, www page,
#      certbot hook, the _wkdd system user (sysusers.d), /var/lib/wkdd
#      and /run/wkdd (tmpfiles.d), the unit, not enabled;
#      systemd-analyze verify is clean and systemd-analyze security
#      --offline=yes rates the unit 2.0 or less;
#   3. a store as the packaged user: wkdctl init, a domain, an account, a
#      key import; a test certificate where wkdd.conf wants it;
#   4. in private network and mount namespaces (loopback only; /etc/hosts
#      and the trust store bind-mounted), the packaged wkdd started as its
#      unit starts it: the unit's User=, its capabilities (only
#      CAP_NET_BIND_SERVICE), its ExecStart= command line and a
#      $NOTIFY_SOCKET this test reads.  READY=1 and STATUS= arrive; curl
#      and gpg (--locate-external-keys, WKD on port 443) get the key;
#      ExecReload= gives RELOADING=1 then READY=1; the certbot hook
#      hands a renewed certificate to wkdd, which serves it; SIGTERM gives
#      STOPPING=1 and exit 0; every system call wkdd made (strace) is
#      one its unit's seccomp filter allows, every socket of an allowed
#      family, no memory writable and executable;
#   5. dpkg --purge leaves nothing of the package but the data: the store
#      in /var/lib/wkdd and the _wkdd user who owns it (README.Debian).
#
# It installs into the real system (as root; CI runs as root).  It starts
# by purging what an earlier run left (the package; a store holding its
# mark, /var/lib/wkdd/.t_deb), refuses to touch a store it didn't make,
# and purges again at exit, even after a failure.  The unit itself can't
# be started here (PID 1 isn't systemd): its sandbox is rated by
# systemd-analyze, and wkdd's trace held against its filters.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/tap.sh"
. "$TOP/tests/integ/certs.sh"

PKG=wkdd
STORE=/var/lib/wkdd
MARK=$STORE/.t_deb
UNIT=/lib/systemd/system/wkdd.service
HOOK=/usr/libexec/wkdd/certbot-deploy-hook
D=deb.test
A=alice@$D

# --- 4. in the namespaces (this script again, DEB_INNER=1) ---------------

# notify_wait VAR N: wait (at most 20 s) until N messages holding VAR=1
# came to the notify socket.
notify_wait() {
	_i=0
	while [ "$(grep -c "$1=1" "$T/notify.out" 2>/dev/null)" -lt "$2" ]; do
		[ $_i -ge 200 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

# wait_log PATTERN N: wait (at most 10 s) for N lines of wkdd's syslog.
wait_log() {
	_i=0
	while [ "$(grep -cE "$1" "$T/syslog.out")" -lt "$2" ]; do
		[ $_i -ge 100 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

# served_fpr HOST: SHA-256 fingerprint of the certificate wkdd serves
# for HOST.
served_fpr() {
	openssl s_client -connect 127.0.0.1:443 -servername "$1" \
	    </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256
}

inner_done() {
	# wkdd (named by its pidfile), then strace: a killed tracer would
	# leave its tracee running.
	_w=$(cat /run/wkdd/wkdd.pid 2>/dev/null)
	if [ -n "$_w" ] && [ "$(cat "/proc/$_w/comm" 2>/dev/null)" = wkdd ]; then
		kill -KILL "$_w"
	fi
	if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
		kill -KILL "$SPID"
		wait "$SPID" 2>/dev/null
	fi
	for _p in $NPID $LPID; do
		kill "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	[ -d "$T/gh" ] && gpgconf --homedir "$T/gh" --kill all 2>/dev/null
	echo "$tap_n $tap_fail" > "$T/inner.tap"
	exit 0
}

inner() {
	tap_n=$TAP_N0
	WPID=
	SPID=
	NPID=
	LPID=
	trap inner_done EXIT
	trap 'exit 1' INT TERM
	TAP_BAIL=inner_done

	setup "loopback up, /etc/hosts for $D" sh -c "ip link set lo up &&
	    printf '127.0.0.1\tlocalhost\n127.0.0.1\t$D openpgpkey.$D\n' \
	    > '$T/hosts' && mount --bind '$T/hosts' /etc/hosts &&
	    echo 'nameserver 127.0.0.1' > '$T/resolv.conf' &&
	    mount --bind '$T/resolv.conf' /etc/resolv.conf"
	# The system's trust store and the test CA, for gpg (dirmngr).
	setup "trust store with the test CA" sh -c "mkdir '$T/certs' &&
	    cp -a /etc/ssl/certs/. '$T/certs/' &&
	    cp '$T/ca.pem' '$T/certs/wkdd-deb-test-ca.pem' &&
	    ln -sf wkdd-deb-test-ca.pem \
	    '$T/certs/'\$(openssl x509 -hash -noout -in '$T/ca.pem').0 &&
	    cat /etc/ssl/certs/ca-certificates.crt '$T/ca.pem' \
	    > '$T/certs/ca-certificates.crt' &&
	    mount --bind '$T/certs' /etc/ssl/certs"

	# The service manager's side of $NOTIFY_SOCKET, and journald's of
	# /dev/log: datagram sockets that _wkdd may write to; each message
	# one line, its newlines as " | ".
	cat > "$T/dgram.py" <<-'EOF'
	import os, socket, sys
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.bind(sys.argv[1])
	os.chmod(sys.argv[1], 0o666)
	with open(sys.argv[2], "a", buffering=1) as out:
	    while True:
	        m = s.recv(8192).decode("utf-8", "replace")
	        out.write(m.rstrip("\n").replace("\n", " | ") + "\n")
	EOF
	# A private /dev, as the unit's PrivateDevices=yes gives: null,
	# zero, random, urandom, and /dev/log.
	setup "private /dev with null, zero, random, urandom and a /dev/log" \
	    sh -c "mkdir '$T/olddev' && mount --bind /dev '$T/olddev' &&
	    mount -t tmpfs -o mode=755 tmpfs /dev &&
	    for n in null zero random urandom; do
		: > /dev/\$n && mount --bind '$T/olddev/'\$n /dev/\$n || exit 1
	    done"
	: > "$T/syslog.out"
	python3 "$T/dgram.py" /dev/log "$T/syslog.out" &
	LPID=$!

	# The unit's user, command lines and capabilities.
	user=$(sed -n 's/^User=//p' "$UNIT")
	group=$(sed -n 's/^Group=//p' "$UNIT")
	start=$(sed -n 's/^ExecStart=//p' "$UNIT")
	reload=$(sed -n 's/^ExecReload=//p' "$UNIT")
	caps=$(sed -n 's/^AmbientCapabilities=//p' "$UNIT")
	is "$user:$group:$caps" "_wkdd:_wkdd:CAP_NET_BIND_SERVICE" \
	    "unit: User=_wkdd, Group=_wkdd, AmbientCapabilities=CAP_NET_BIND_SERVICE"
	cap=$(echo "$caps" | sed 's/^CAP_//' | tr 'A-Z' 'a-z')

	mkdir -m 755 "$T/nt"
	: > "$T/notify.out"
	python3 "$T/dgram.py" "$T/nt/notify" "$T/notify.out" &
	NPID=$!
	_i=0
	while { [ ! -S "$T/nt/notify" ] || [ ! -S /dev/log ]; } &&
	    [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done

	# As systemd would: a clean environment, the unit's user and group
	# with its supplementary groups, only its capability (ambient and
	# bounding), no_new_privs, ExecStart= as written.  Under strace: what
	# wkdd does is checked against the unit's seccomp filter, address
	# families and MemoryDenyWriteExecute= at the end (systemd itself
	# can't enforce them here).
	# shellcheck disable=SC2086
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    NOTIFY_SOCKET="$T/nt/notify" \
	    strace -f -qq -o "$T/strace.out" \
	    setpriv --reuid="$user" --regid="$group" --init-groups \
	    --bounding-set=-all,+"$cap" --inh-caps=-all,+"$cap" \
	    --ambient-caps=+"$cap" --no-new-privs -- $start \
	    > "$T/wkdd.log" 2>&1 &
	SPID=$!
	WPID=$SPID
	if notify_wait READY 1; then
		pass "READY=1 on the notify socket"
	else
		fail "READY=1 on the notify socket"
		show "$T/wkdd.log" "$T/syslog.out" "$T/notify.out"
		inner_done
	fi
	like "$T/notify.out" '^READY=1 \| STATUS=serving /var/lib/wkdd$' \
	    "READY=1 with STATUS=serving /var/lib/wkdd"
	# wkdd itself, under strace and setpriv.
	WPID=$(cat /run/wkdd/wkdd.pid 2>/dev/null)
	is "$(cat "/proc/${WPID:-0}/comm" 2>/dev/null)" wkdd \
	    "pidfile /run/wkdd/wkdd.pid names wkdd"
	is "$(ps -o user= -p "$WPID" | tr -d ' ')" _wkdd "wkdd runs as _wkdd"
	is "$(awk '$1 == "CapEff:" || $1 == "CapBnd:" { print $2 }' \
	    "/proc/$WPID/status" | sort -u)" 0000000000000400 \
	    "its only capability: CAP_NET_BIND_SERVICE (effective, bounding)"
	is "$(stat -c %U /run/wkdd/wkdd.pid 2>/dev/null)" _wkdd \
	    "pidfile written by _wkdd"
	like "$T/syslog.out" "^<30>.* wkdd\\[$WPID\\]: running as _wkdd \\(uid [0-9]+\\)\$" \
	    "syslog: wkdd says it runs as _wkdd (daemon.info, ident wkdd)"
	like "$T/syslog.out" "^<30>.* wkdd\\[$WPID\\]: listening on 0\\.0\\.0\\.0:443, port 443, [0-9]+ threads?\$" \
	    "syslog: listening on 0.0.0.0:443 (the namespace's)"

	# curl: both methods.
	c="curl -sS --max-time 20 --cacert $T/ca.pem"
	h=$(runuser -u _wkdd -- wkdctl hash "$A" |
	    awk '$1 == "hash" { print $2; exit }')
	st=$($c -o "$T/adv.pgp" -w '%{http_code}' \
	    "https://openpgpkey.$D/.well-known/openpgpkey/$D/hu/$h?l=alice")
	is "$st" 200 "curl: the key by the advanced method: 200"
	cmp -s "$T/adv.pgp" "$T/export.pgp"
	ok $? "curl: the bytes wkdctl export gives"
	st=$($c -o "$T/dir.pgp" -w '%{http_code}' \
	    "https://$D/.well-known/openpgpkey/hu/$h")
	is "$st" 200 "curl: the key by the direct method: 200"
	st=$($c -o /dev/null -w '%{http_code}' "https://$D/")
	is "$st" 200 "curl: the packaged www page at /"

	# gpg, as a user's gpg looks it up.
	mkdir -m 700 "$T/gh"
	timeout 60 gpg --homedir "$T/gh" --batch --no-tty \
	    --auto-key-locate clear,nodefault,wkd \
	    --locate-external-keys "$A" > "$T/gpg.out" 2> "$T/gpg.err"
	ok $? "gpg --locate-external-keys $A (WKD)"
	gpg --homedir "$T/gh" --batch --with-colons --list-keys "$A" \
	    > "$T/gpg.list" 2>/dev/null
	like "$T/gpg.list" "^fpr:+$FPR:" "gpg: the imported key is $A's"
	like "$T/gpg.list" '^sub:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:e' \
	    "gpg: with its encryption subkey"

	# The access lines: under an ident of their own.
	like "$T/syslog.out" "^<30>.* wkdd-access\\[$WPID\\]: 127\\.0\\.0\\.1 GET openpgpkey\\.$D key 200 " \
	    "syslog: access lines under ident wkdd-access"
	unlike "$T/syslog.out" "alice|$h|l=" \
	    "syslog: no local part, hash or query"

	# Reload as ExecReload= does: refused (an error, apart from the
	# access lines), then taken.
	cp /etc/wkdd/wkdd.conf "$T/wkdd.conf.good"
	echo "bogus directive" >> /etc/wkdd/wkdd.conf
	# shellcheck disable=SC2086
	eval "$(echo "$reload" | sed "s/\\\$MAINPID/$WPID/")"
	notify_wait READY 2 && wait_log 'not reloading' 1
	like "$T/syslog.out" "^<27>.* wkdd\\[$WPID\\]: /etc/wkdd/wkdd\\.conf:[0-9]+: .*not reloading\$" \
	    "refused reload: the error in syslog (daemon.err, ident wkdd)"
	like "$T/notify.out" '^READY=1 \| STATUS=serving /var/lib/wkdd; reload of /etc/wkdd/wkdd.conf refused \(see the log\)$' \
	    "refused reload: READY=1, STATUS says it was refused"
	cp "$T/wkdd.conf.good" /etc/wkdd/wkdd.conf
	n=$(grep -c ': reloaded' "$T/syslog.out")
	# shellcheck disable=SC2086
	eval "$(echo "$reload" | sed "s/\\\$MAINPID/$WPID/")"
	if notify_wait READY 3 && wait_log ': reloaded' $((n + 1)); then
		pass "ExecReload=: reloaded"
	else
		fail "ExecReload=: reloaded"
		show "$T/syslog.out" "$T/notify.out"
	fi
	like "$T/notify.out" '^RELOADING=1 \| MONOTONIC_USEC=[0-9]+ \| STATUS=reloading /etc/wkdd/wkdd.conf$' \
	    "RELOADING=1 with MONOTONIC_USEC and STATUS"
	is "$(grep -E '^(READY|RELOADING)=1' "$T/notify.out" | cut -c1-9)" \
	    "$(printf 'READY=1 |\nRELOADING\nREADY=1 |\nRELOADING\nREADY=1 |')" \
	    "READY, then RELOADING and READY for each reload"
	like "$T/notify.out" '^READY=1 \| STATUS=serving /var/lib/wkdd; reloaded /etc/wkdd/wkdd.conf$' \
	    "READY=1 after the reload, STATUS says it was taken"

	# certbot renewed openpgpkey.D's certificate (a lineage of its own
	# /etc/letsencrypt, here in $T): the hook gives it to wkdd.
	lin=$T/le/live/openpgpkey.$D
	mkdir -p "$lin" && chmod 700 "$T/le" &&
	    make_cert "$lin/fullchain.pem" "$lin/privkey.pem" "openpgpkey.$D"
	echo "tls-dir /etc/wkdd/tls" >> /etc/wkdd/wkdd.conf
	n=$(grep -c ': reloaded' "$T/syslog.out")
	RENEWED_LINEAGE=$lin RENEWED_DOMAINS=openpgpkey.$D "$HOOK" \
	    > "$T/hook.out" 2>&1
	ok $? "certbot deploy hook: exit 0"
	like "$T/hook.out" "copied to /etc/wkdd/tls/live/openpgpkey\\.$D" \
	    "hook: copied into tls-dir/live/NAME/"
	like "$T/hook.out" "wkdd reloaded \\(SIGHUP to pid $WPID\\)" \
	    "hook: reloaded wkdd through its pidfile"
	is "$(stat -c '%U %a' "/etc/wkdd/tls/live/openpgpkey.$D/privkey.pem")" \
	    "_wkdd 600" "hook: the key _wkdd's, mode 600"
	wait_log ': reloaded' $((n + 1))
	is "$(served_fpr "openpgpkey.$D")" \
	    "$(openssl x509 -noout -fingerprint -sha256 -in "$lin/fullchain.pem")" \
	    "wkdd serves the renewed certificate for openpgpkey.$D"
	is "$(served_fpr "$D")" \
	    "$(openssl x509 -noout -fingerprint -sha256 -in /etc/wkdd/cert.pem)" \
	    "and tls-cert for $D"
	notify_wait READY 4
	ok $? "READY=1 again after the hook's reload"

	# certbot run with tls-dir as its --config-dir ("wkdctl domain
	# cert"): live/NAME/ links to archive/NAME/, the new files root's.
	m=mta-sts.$D
	mkdir -p "/etc/wkdd/tls/archive/$m" "/etc/wkdd/tls/live/$m" &&
	    chmod 700 /etc/wkdd/tls/archive &&
	    make_cert "/etc/wkdd/tls/archive/$m/fullchain1.pem" \
	    "/etc/wkdd/tls/archive/$m/privkey1.pem" "$m" &&
	    ln -s "../../archive/$m/fullchain1.pem" \
	    "/etc/wkdd/tls/live/$m/fullchain.pem" &&
	    ln -s "../../archive/$m/privkey1.pem" \
	    "/etc/wkdd/tls/live/$m/privkey.pem"
	n=$(grep -c ': reloaded' "$T/syslog.out")
	RENEWED_LINEAGE=/etc/wkdd/tls/live/$m "$HOOK" > "$T/hook2.out" 2>&1
	ok $? "hook, certbot's config-dir is tls-dir: exit 0"
	like "$T/hook2.out" "/etc/wkdd/tls/live/$m: given to _wkdd" \
	    "hook: the lineage given to _wkdd"
	is "$(stat -c %U /etc/wkdd/tls/archive /etc/wkdd/tls/archive/$m \
	    /etc/wkdd/tls/archive/$m/privkey1.pem | sort -u)" _wkdd \
	    "hook: archive/, archive/NAME/ and the key are _wkdd's"
	wait_log ': reloaded' $((n + 1))
	is "$(served_fpr "$m")" "$(openssl x509 -noout -fingerprint -sha256 \
	    -in "/etc/wkdd/tls/archive/$m/fullchain1.pem")" \
	    "wkdd serves $m's certificate from certbot's archive"

	# Stop as systemd does (KillSignal=SIGTERM).  strace exits as wkdd.
	pid=$WPID
	kill -TERM "$WPID"
	wait "$SPID"
	is "$?" 0 "SIGTERM: wkdd exits 0"
	WPID=
	notify_wait STOPPING 1
	like "$T/notify.out" '^STOPPING=1 \| STATUS=stopping \(SIGTERM\)$' \
	    "STOPPING=1 with STATUS"
	check "pidfile removed at exit" [ ! -e /run/wkdd/wkdd.pid ]
	unlike "$T/syslog.out" 'sd_notify|runtime error|Sanitizer' \
	    "wkdd's log: no notify error"
	like "$T/syslog.out" "^<30>.* wkdd\\[$pid\\]: stopped\$" \
	    "syslog: stopped"
	check "nothing on wkdd's standard error (-F logs to syslog)" \
	    [ ! -s "$T/wkdd.log" ]
	# The store as the unit would show it without lock.mdb among its
	# ReadWritePaths= (or after a directory renamed over it): all
	# read-only.  LMDB would read it without its lock; wkdd refuses.
	mount -o bind,ro "$STORE" "$STORE"
	runuser -u _wkdd -- /usr/sbin/wkdd -n > "$T/ro.out" 2>&1
	rc=$?
	umount "$STORE"
	is "$rc" 1 "read-only lock.mdb: wkdd refuses the store (exit 1)"
	like "$T/ro.out" 'lock\.mdb: Read-only file system: lock\.mdb must be writable by' \
	    "read-only lock.mdb: says so"
	python3 "$TOP/tests/integ/sandbox_check.py" "$UNIT" "$T/strace.out" \
	    "${start%% *}" > "$T/sandbox.out" 2>&1
	ok $? "all wkdd did is within the unit's SystemCallFilter=, RestrictAddressFamilies=, MemoryDenyWriteExecute="
	cat "$T/sandbox.out"
	show "$T/notify.out"
	inner_done
}

if [ "${DEB_INNER:-}" = 1 ]; then
	inner
fi

# --- the machine's side -----------------------------------------------------

[ "$(id -u)" -eq 0 ] || skip_all "needs root (installs a package)"
for t in dpkg-buildpackage dh dh_installsysusers lintian systemd-analyze \
    systemd-sysusers systemd-tmpfiles unshare setpriv runuser python3 strace curl \
    gpg gpgconf certtool openssl ip mount timeout; do
	command -v $t >/dev/null 2>&1 || skip_all "$t not installed"
done
unshare --net --mount true 2>/dev/null ||
    skip_all "cannot unshare --net --mount here"

T=$(mktemp -d /tmp/wkdd-deb.XXXXXX) || exit 1
chmod 711 "$T"
INSTALLED=

# purge: the package and the test's store and files, whatever is left.
purge() {
	rm -rf /etc/wkdd/cert.pem /etc/wkdd/key.pem /etc/wkdd/tls
	if [ "$(pkg_status)" != not-installed ]; then
		dpkg_locked --purge $PKG >> "$T/purge.log" 2>&1
	fi
	if [ -e "$MARK" ]; then
		rm -rf "$STORE"
	fi
}

cleanup() {
	[ -n "$INSTALLED" ] && purge
	[ -d "$T/gnupg" ] && gpgconf --homedir "$T/gnupg" --kill all 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# dpkg_locked ARGS...: dpkg, waiting (at most 120 s) while another dpkg
# or apt holds its lock.
dpkg_locked() {
	_i=0
	while :; do
		dpkg "$@" 2> "$T/dpkg.err"
		_rc=$?
		cat "$T/dpkg.err" >&2
		grep -q 'lock' "$T/dpkg.err" && [ $_i -lt 60 ] || return $_rc
		sleep 2
		_i=$((_i + 1))
	done
}

# What an earlier run left: purged.  A store it didn't make: not touched.
if [ -e "$STORE/data.mdb" ] && [ ! -e "$MARK" ]; then
	fail "$STORE holds a store this test didn't make: not touching it"
	tap_plan
	exit 1
fi
# pkg_status: dpkg's status of the package, "not-installed" if none.
pkg_status() {
	_s=$(dpkg-query -W -f='${db:Status-Status}' $PKG 2>/dev/null)
	echo "${_s:-not-installed}"
}
INSTALLED=1
purge
is "$(pkg_status)" not-installed \
    "no $PKG package before the test (an earlier run's purged)"

# 1. Build, in a copy of the tree (the build writes to .. and debian/).
mkdir "$T/src" "$T/src/wkdd"
(cd "$TOP" && tar --exclude='./build*' --exclude=./.git \
    --exclude=node_modules --exclude=./debian/wkdd \
    --exclude=./debian/.debhelper -cf - .) | tar -C "$T/src/wkdd" -xf -
V=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
ARCH=$(dpkg --print-architecture)
DEB=$T/src/${PKG}_${V}_$ARCH.deb
t0=$(date +%s)
(cd "$T/src/wkdd" && dpkg-buildpackage -us -uc -b) > "$T/build.log" 2>&1
rc=$?
diag "dpkg-buildpackage: $(($(date +%s) - t0)) s"
if [ $rc -eq 0 ] && [ -f "$DEB" ]; then
	pass "dpkg-buildpackage -us -uc -b: ${DEB##*/}"
else
	fail "dpkg-buildpackage -us -uc -b: ${DEB##*/}"
	tail -n 40 "$T/build.log" | sed 's/^/#   /'
	tap_plan
	exit 1
fi
if [ -f "$TOP/VERSION" ]; then
	is "$V" "$(cat "$TOP/VERSION")" "debian/changelog's version is VERSION's"
fi
lintian -I --fail-on error,warning "$DEB" > "$T/lintian.out" 2>&1
ok $? "lintian: no error, no warning"
sed -n 's/^\([EWIPX]: \)/#   lintian: \1/p' "$T/lintian.out"

# 2. Install.
dpkg_locked -i "$DEB" > "$T/install.log" 2>&1
ok $? "dpkg -i ${DEB##*/}"
touch "$MARK" 2>/dev/null
is "$(dpkg-query -W -f='${db:Status-Abbrev}' $PKG 2>/dev/null)" "ii " \
    "dpkg: $PKG installed"
dpkg -L $PKG > "$T/files" 2>/dev/null
for f in /usr/sbin/wkdd /usr/sbin/wkdctl "$HOOK"; do
	check "$f installed, executable" [ -x "$f" ]
done
for f in /usr/share/man/man8/wkdd.8.gz /usr/share/man/man8/wkdctl.8.gz \
    /usr/share/man/man5/wkdd.conf.5.gz /usr/share/wkdd/www/index.html \
    /usr/lib/sysusers.d/wkdd.conf /usr/lib/tmpfiles.d/wkdd.conf "$UNIT"; do
	check "$f installed" [ -f "$f" ]
done
dpkg-query -W -f='${Conffiles}\n' $PKG > "$T/conffiles"
like "$T/conffiles" '^ /etc/wkdd/wkdd\.conf [0-9a-f]{32}$' \
    "/etc/wkdd/wkdd.conf is a conffile"
like /etc/wkdd/wkdd.conf '^user		_wkdd$' "wkdd.conf: user _wkdd"
like /etc/wkdd/wkdd.conf '^pidfile		/run/wkdd/wkdd\.pid$' \
    "wkdd.conf: pidfile /run/wkdd/wkdd.pid"
like /etc/wkdd/wkdd.conf '^www		/usr/share/wkdd/www$' \
    "wkdd.conf: www /usr/share/wkdd/www"
getent passwd _wkdd > "$T/passwd"
like "$T/passwd" '^_wkdd:x:[0-9]+:[0-9]+:[^:]*:/var/lib/wkdd:/usr/sbin/nologin$' \
    "sysusers.d: user _wkdd, home /var/lib/wkdd, no shell"
uid=$(cut -d: -f3 "$T/passwd")
check "_wkdd is a system user (uid $uid)" [ "${uid:-1000}" -lt 1000 ]
is "$(stat -c '%U:%G %a' "$STORE" 2>/dev/null)" "_wkdd:_wkdd 750" \
    "tmpfiles.d: $STORE _wkdd's, mode 750"
is "$(stat -c '%U:%G %a' /run/wkdd 2>/dev/null)" "_wkdd:_wkdd 755" \
    "tmpfiles.d: /run/wkdd _wkdd's"
check "the unit isn't enabled on installation" \
    [ ! -e /etc/systemd/system/multi-user.target.wants/wkdd.service ]

systemd-analyze verify "$UNIT" > "$T/verify.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$T/verify.out" ]; then
	pass "systemd-analyze verify $UNIT: clean"
else
	fail "systemd-analyze verify $UNIT: clean (exit $rc)"
	show "$T/verify.out"
fi
systemd-analyze security --offline=yes "$UNIT" > "$T/security.out" 2>&1
score=$(sed -n 's/.*Overall exposure level for wkdd\.service: \([0-9.]*\) .*/\1/p' \
    "$T/security.out")
diag "systemd-analyze security --offline=yes: exposure ${score:-?}"
check "systemd-analyze security: exposure $score <= 2.0" \
    awk -v s="${score:-99}" 'BEGIN { exit !(s + 0 <= 2.0) }'
grep '✗' "$T/security.out" | sed 's/^/#   /'
unlike "$T/security.out" '✗ CapabilityBoundingSet=~CAP_[^N]' \
    "systemd-analyze security: no capability but CAP_NET_BIND_SERVICE"

# The admin API's unit (tests/integ/t_api_unit.sh runs it as it would).
SUNIT=/lib/systemd/system/wkdctl-serve.service
check "$SUNIT installed, not enabled" sh -c "[ -f '$SUNIT' ] &&
    [ ! -e /etc/systemd/system/multi-user.target.wants/wkdctl-serve.service ]"
systemd-analyze verify "$SUNIT" > "$T/sverify.out" 2>&1
rc=$?
check "systemd-analyze verify $SUNIT: clean (exit $rc)" \
    sh -c "[ $rc -eq 0 ] && [ ! -s '$T/sverify.out' ]" || show "$T/sverify.out"
# The daily check of every domain (wkdctl domain check --all).
CUNIT=/lib/systemd/system/wkdctl-check.service
CTIMER=/lib/systemd/system/wkdctl-check.timer
check "$CUNIT and $CTIMER installed, the timer not enabled" sh -c "
    [ -f '$CUNIT' ] && [ -f '$CTIMER' ] &&
    [ ! -e /etc/systemd/system/timers.target.wants/wkdctl-check.timer ]"
like "$CUNIT" '^ExecStart=/usr/sbin/wkdctl -f /etc/wkdd/wkdd.conf domain check --all$' \
    "wkdctl-check.service runs domain check --all"
systemd-analyze verify "$CUNIT" "$CTIMER" > "$T/cverify.out" 2>&1
rc=$?
check "systemd-analyze verify wkdctl-check.service and .timer: clean (exit $rc)" \
    sh -c "[ $rc -eq 0 ] && [ ! -s '$T/cverify.out' ]" || show "$T/cverify.out"
like /etc/group '^_wkdd:x:[0-9]+:(.*,)?_wkdctl(,|$)' \
    "sysusers.d: _wkdctl, in the store's group _wkdd"

# 3. The store, as _wkdd (and as root: the owner stays).
wk() {
	runuser -u _wkdd -- wkdctl "$@"
}
wk init > "$T/init.out" 2>&1
ok $? "wkdctl init as _wkdd (the store of /etc/wkdd/wkdd.conf)"
like "$T/init.out" '^store created in /var/lib/wkdd$' "init: in /var/lib/wkdd"
wkdctl domain add "$D" > "$T/dom.out" 2>&1
ok $? "wkdctl domain add $D (as root)"
wk account add "$A" > "$T/acct.out" 2>&1
ok $? "wkdctl account add $A (as _wkdd)"
GNUPGHOME=$T/gnupg
export GNUPGHOME
mkdir -m 700 "$GNUPGHOME"
gpg -q --batch --pinentry-mode loopback --passphrase '' --quick-gen-key \
    "Alice <$A>" future-default default never > /dev/null 2>&1 &&
    gpg -q --batch --export "$A" > "$T/alice.pgp"
FPR=$(gpg --batch --with-colons --list-keys "$A" 2>/dev/null |
    awk -F: '$1 == "fpr" { print $10; exit }')
unset GNUPGHOME
wk import - < "$T/alice.pgp" > "$T/import.out" 2>&1
ok $? "wkdctl import (as _wkdd, the key on stdin)"
wk export "$A" > "$T/export.pgp" 2>/dev/null
check "wkdctl export: $A's key" [ -s "$T/export.pgp" ]
is "$(stat -c %U "$STORE/data.mdb" "$STORE/lock.mdb" | sort -u)" _wkdd \
    "data.mdb and lock.mdb stay _wkdd's"
setup "test CA and certificate for $D, openpgpkey.$D" \
    sh -c ". '$TOP/tests/integ/certs.sh' && T='$T' && make_ca &&
    make_cert '$T/cert.pem' '$T/key.pem' '$D' 'openpgpkey.$D' &&
    install -m 644 '$T/cert.pem' /etc/wkdd/cert.pem &&
    install -m 600 -o _wkdd -g _wkdd '$T/key.pem' /etc/wkdd/key.pem"
runuser -u _wkdd -- wkdd -n > "$T/n.out" 2>&1
ok $? "wkdd -n as _wkdd: the packaged configuration is OK"

# 4. Serve, in the namespaces.
DEB_INNER=1 TAP_N0=$tap_n T=$T FPR=$FPR unshare --net --mount \
    --propagation private sh "$0"
if [ -f "$T/inner.tap" ]; then
	read -r tap_n f < "$T/inner.tap"
	tap_fail=$((tap_fail + f))
else
	fail "the namespace part ended early"
fi

# 5. Purge: what an admin added goes first (the certificate and key),
# then the package; only the data stays.
rm -rf /etc/wkdd/cert.pem /etc/wkdd/key.pem /etc/wkdd/tls
dpkg_locked --purge $PKG > "$T/purge.log" 2>&1
ok $? "dpkg --purge $PKG"
is "$(pkg_status)" not-installed "dpkg: $PKG not installed after purge"
: > "$T/left"
while read -r f; do
	[ -d "$f" ] && continue
	[ -e "$f" ] || [ -L "$f" ] && echo "$f" >> "$T/left"
done < "$T/files"
for f in /etc/wkdd /run/wkdd \
    /var/lib/systemd/deb-systemd-helper-enabled/wkdd.service.dsh-also \
    /var/lib/systemd/deb-systemd-helper-masked/wkdd.service \
    /etc/systemd/system/multi-user.target.wants/wkdd.service \
    /usr/share/wkdd /usr/libexec/wkdd /usr/share/doc/wkdd; do
	[ -e "$f" ] || [ -L "$f" ] && echo "$f" >> "$T/left"
done
if [ -s "$T/left" ]; then
	fail "after purge, nothing of the package is left"
	show "$T/left"
else
	pass "after purge, nothing of the package is left ($(wc -l < "$T/files") paths checked)"
fi
is "$(stat -c %U "$STORE/data.mdb" 2>/dev/null)" _wkdd \
    "the data stays: $STORE/data.mdb, _wkdd's"
getent passwd _wkdd > /dev/null
ok $? "the _wkdd user stays (it owns the data)"
rm -rf "$STORE"
INSTALLED=
tap_plan
