# tests/integ/netns.sh: a private network with its own DNS, for tests that
# need real names (wkdctl domain check, ACME with pebble).  Source it:
#
#	. "$TOP/tests/integ/netns.sh"
#	netns_require || { echo "ok 1 # SKIP $netns_why"; echo 1..1; exit 0; }
#	netns_up			# or: trap 'netns_down' EXIT is set for you
#	netns_zone example.test <<EOF	# zone file body; $ORIGIN and SOA are
#	openpgpkey CNAME wkd.service.test.	# added; "@" is the apex
#	EOF
#	nsd_start			# serves every netns_zone on $NETNS_DNS
#	netns_srv wkdd -d -f "$conf" &	# a server on the "server" side
#	netns_cli wkdctl domain check example.test	# a client
#	netns_down			# also run by the EXIT trap
#
# The network: two namespaces, $NETNS_S ("server") and $NETNS_C ("client"),
# joined by a veth pair: the server end holds 192.0.2.1/24 and
# 2001:db8::1/64 (documentation ranges, RFC 5737/3849), the client end
# 192.0.2.100/24 and 2001:db8::100/64.  Nothing is added to the host's own
# namespace, and neither namespace has a route out: no packet leaves them.
# netns_addr IP adds another server address (a second host, e.g. a server
# with an expired certificate), reachable from the client at once.
#
# DNS: nsd(8), authoritative for the zones written with netns_zone, listens
# on $NETNS_DNS (192.0.2.1:53).  netns_srv and netns_cli run a command in
# their namespace inside a private mount namespace in which
# /etc/resolv.conf is bind-mounted to "nameserver $NETNS_DNS", so every
# resolver (glibc's res_query, getaddrinfo) asks the test server; the host's
# /etc is never written.  Both wait for their command (use & to run one in
# the background; netns_bg records its pid so that netns_down ends it).
#
# Functions (each returns non-zero on failure; messages go to stderr):
#   netns_require	 0 if the tests can run (root, ip, unshare, nsd); else
#			 1 with the reason in $netns_why
#   netns_up		 create the namespaces and $NETNS_DIR (a temp dir)
#   netns_addr IP[/LEN]	 add an address to the server end (v4 /24, v6 /64)
#   netns_zone NAME [unsigned|bogus]
#			 zone file for NAME from stdin (SOA and NS added);
#			 call before nsd_start, or call nsd_reload after.
#			 With netns_dnssec, the zone is signed unless
#			 "unsigned"; "bogus": signed, then every signature
#			 but the DNSKEY set's spoilt (validation fails)
#   netns_dnssec	 before nsd_start: serve a signed root zone and
#			 every parent zone up to it, delegating (NS, glue,
#			 DS) to each zone written; the root's DS, the trust
#			 anchor, is in $NETNS_ANCHOR (ldns-keygen and
#			 ldns-signzone, Debian: ldnsutils)
#   nsd_start		 start nsd; returns once it answers on port 53
#   nsd_reload		 restart nsd with the current zones
#   netns_srv CMD...	 run CMD in the server namespace
#   netns_cli CMD...	 run CMD in the client namespace
#   netns_bg NAME CMD... start CMD in the server namespace in the
#			 background; its pid is in $NETNS_DIR/NAME.pid,
#			 stdout+stderr in $NETNS_DIR/NAME.log
#   netns_bg_ready NAME CMD...
#			 netns_bg with fd 3 of CMD open on a pipe; waits (at
#			 most 30 s) for CMD's first line there (a readiness
#			 report, e.g. wkdd -R 3 writes its port) and puts it in
#			 $NETNS_READY; fails if none came
#   netns_kill NAME	 end a netns_bg process (by its recorded pid)
#   netns_down		 end every netns_bg process and nsd, delete both
#			 namespaces and $NETNS_DIR (unless KEEP=1)
#
# Needs: iproute2 (ip), util-linux (unshare, mount), nsd (Debian: nsd),
# root (or CAP_NET_ADMIN + CAP_SYS_ADMIN).  Internal variables start with
# _nn_; a test's own variables are left alone.

# Single quotes below are meant ($0 and $@ for sh -c, $ORIGIN for nsd);
# netns_why is for the caller.
# shellcheck disable=SC2016,SC2034
NETNS_S=wkdd-s-$$
NETNS_C=wkdd-c-$$
NETNS_SRV4=192.0.2.1
NETNS_SRV6=2001:db8::1
NETNS_CLI4=192.0.2.100
NETNS_CLI6=2001:db8::100
NETNS_DNS=$NETNS_SRV4
NETNS_DIR=
NETNS_DNSSEC=
NETNS_ANCHOR=
netns_why=

netns_require() {
	if [ "$(id -u)" -ne 0 ]; then
		netns_why="needs root for network namespaces"
		return 1
	fi
	for _nn_t in ip unshare mount nsd; do
		if ! command -v "$_nn_t" >/dev/null 2>&1 &&
		    ! [ -x "/usr/sbin/$_nn_t" ]; then
			netns_why="$_nn_t not installed"
			return 1
		fi
	done
	if ! ip netns add "wkdd-probe-$$" 2>/dev/null; then
		netns_why="cannot create a network namespace"
		return 1
	fi
	ip netns del "wkdd-probe-$$"
	return 0
}

netns_up() {
	NETNS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/wkdd-netns.XXXXXX") || return 1
	mkdir "$NETNS_DIR/zones" || return 1
	printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$NETNS_DNS" \
	    > "$NETNS_DIR/resolv.conf"
	trap 'netns_down' EXIT
	trap 'exit 1' INT TERM HUP
	ip netns add "$NETNS_S" || return 1
	ip netns add "$NETNS_C" || return 1
	ip link add veth-s netns "$NETNS_S" type veth \
	    peer name veth-c netns "$NETNS_C" || return 1
	for _nn_ns in "$NETNS_S" "$NETNS_C"; do
		ip -n "$_nn_ns" link set lo up || return 1
	done
	# No duplicate address detection: addresses are usable at once.
	ip netns exec "$NETNS_S" sh -c \
	    'echo 0 > /proc/sys/net/ipv6/conf/veth-s/accept_dad' || return 1
	ip netns exec "$NETNS_C" sh -c \
	    'echo 0 > /proc/sys/net/ipv6/conf/veth-c/accept_dad' || return 1
	ip -n "$NETNS_S" addr add "$NETNS_SRV4/24" dev veth-s &&
	ip -n "$NETNS_S" addr add "$NETNS_SRV6/64" dev veth-s nodad &&
	ip -n "$NETNS_C" addr add "$NETNS_CLI4/24" dev veth-c &&
	ip -n "$NETNS_C" addr add "$NETNS_CLI6/64" dev veth-c nodad &&
	ip -n "$NETNS_S" link set veth-s up &&
	ip -n "$NETNS_C" link set veth-c up || return 1
}

netns_addr() {
	case $1 in
	*/*)	_nn_a=$1 ;;
	*:*)	_nn_a=$1/64 ;;
	*)	_nn_a=$1/24 ;;
	esac
	case $_nn_a in
	*:*)	ip -n "$NETNS_S" addr add "$_nn_a" dev veth-s nodad ;;
	*)	ip -n "$NETNS_S" addr add "$_nn_a" dev veth-s ;;
	esac
}

# Run "$@" in namespace $1 with the test resolv.conf.
netns__exec() {
	_nn_ns=$1
	shift
	ip netns exec "$_nn_ns" unshare --mount --propagation private sh -c \
	    'mount --bind "$0" /etc/resolv.conf && exec "$@"' \
	    "$NETNS_DIR/resolv.conf" "$@"
}

netns_srv() {
	netns__exec "$NETNS_S" "$@"
}

netns_cli() {
	netns__exec "$NETNS_C" "$@"
}

# netns_cli_bg CMD...: netns_cli in the background, exec'd all the way down
# so that $! is the pid of CMD itself (a function run with & leaves $! the
# pid of a subshell, and killing that leaves CMD running).
netns_cli_bg() {
	(
		exec ip netns exec "$NETNS_C" unshare --mount \
		    --propagation private \
		    sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' \
		    "$NETNS_DIR/resolv.conf" "$@"
	) &
}

netns_bg() {
	_nn_name=$1
	shift
	# exec all the way down: $! is the pid of the command itself.  With
	# _nn_fd3 set, the command's fd 3 is that file, opened in the child
	# (a FIFO's open waits there for the reader, not here).
	(
		[ -z "${_nn_fd3:-}" ] || exec 3>"$_nn_fd3"
		exec ip netns exec "$NETNS_S" unshare --mount \
		    --propagation private \
		    sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' \
		    "$NETNS_DIR/resolv.conf" "$@" \
		    > "$NETNS_DIR/$_nn_name.log" 2>&1
	) &
	echo $! > "$NETNS_DIR/$_nn_name.pid"
}

netns_bg_ready() {
	_nn_name=$1
	NETNS_READY=
	rm -f "$NETNS_DIR/$_nn_name.ready"
	mkfifo "$NETNS_DIR/$_nn_name.ready" || return 1
	# The command opens the FIFO write-only and we read it: what it
	# writes can't be lost before we open it (with a read-write open
	# by the command alone, its close dropped an unread line).
	# All of it is read (until the command closes fd 3, as wkdd -R
	# does), so that a second line never meets a closed pipe.
	_nn_fd3=$NETNS_DIR/$_nn_name.ready
	netns_bg "$@"
	_nn_fd3=
	NETNS_READY=$(timeout 30 cat "$NETNS_DIR/$_nn_name.ready" |
	    head -n 1)
	[ -n "$NETNS_READY" ]
}

netns_kill() {
	[ -n "$NETNS_DIR" ] && [ -f "$NETNS_DIR/$1.pid" ] || return 0
	_nn_pid=$(cat "$NETNS_DIR/$1.pid")
	rm -f "$NETNS_DIR/$1.pid"
	kill "$_nn_pid" 2>/dev/null || return 0
	_nn_i=0
	while kill -0 "$_nn_pid" 2>/dev/null && [ $_nn_i -lt 50 ]; do
		sleep 0.1
		_nn_i=$((_nn_i + 1))
	done
	kill -9 "$_nn_pid" 2>/dev/null
	wait "$_nn_pid" 2>/dev/null
	return 0
}

netns_zone() {
	_nn_z=$1
	_nn_o=$_nn_z.
	_nn_s=$_nn_o
	[ "$_nn_z" = . ] && _nn_o=. && _nn_s=
	{
		printf '$ORIGIN %s\n$TTL 60\n' "$_nn_o"
		printf '@ IN SOA ns.%s hostmaster.%s 1 3600 600 86400 60\n' \
		    "$_nn_s" "$_nn_s"
		printf '@ IN NS ns.%s\nns IN A %s\n' "$_nn_s" "$NETNS_DNS"
		cat
	} > "$NETNS_DIR/zones/$(netns__zfile "$_nn_z")" || return 1
	echo "$_nn_z" >> "$NETNS_DIR/zones/list"
	rm -f "$NETNS_DIR/zones/$_nn_z.mode"
	[ -z "${2:-}" ] || echo "$2" > "$NETNS_DIR/zones/$_nn_z.mode"
}

# The zone file's name for zone $1 ("." is root).
netns__zfile() {
	if [ "$1" = . ]; then echo root.zone; else echo "$1.zone"; fi
}

# The zone above $1: "a.b" -> "b", "b" -> ".".
netns__parent() {
	case $1 in
	*.*)	echo "${1#*.}" ;;
	*)	echo . ;;
	esac
}

netns_dnssec() {
	for _nn_t in ldns-keygen ldns-signzone; do
		command -v "$_nn_t" >/dev/null 2>&1 || {
			echo "netns_dnssec: $_nn_t not installed" >&2
			return 1
		}
	done
	NETNS_DNSSEC=1
}

# Add the missing parent zones, delegate to each zone, sign them from the
# leaves up (each DS goes to the parent before the parent is signed).
netns__sign() {
	_nn_d=$NETNS_DIR/zones
	mkdir -p "$NETNS_DIR/keys" || return 1
	_nn_i=0
	while [ $_nn_i -lt 10 ]; do
		for _nn_z in $(sort -u "$_nn_d/list"); do
			[ "$_nn_z" = . ] && continue
			_nn_p=$(netns__parent "$_nn_z")
			grep -qxF -- "$_nn_p" "$_nn_d/list" ||
			    netns_zone "$_nn_p" < /dev/null || return 1
		done
		_nn_i=$((_nn_i + 1))
	done
	# What is added goes to copies, *.full (nsd_reload starts afresh).
	for _nn_z in $(sort -u "$_nn_d/list"); do
		_nn_f=$_nn_d/$(netns__zfile "$_nn_z")
		cp "$_nn_f" "$_nn_f.full" || return 1
	done
	for _nn_z in $(sort -u "$_nn_d/list"); do
		[ "$_nn_z" = . ] && continue
		_nn_p=$(netns__parent "$_nn_z")
		printf '%s. IN NS ns.%s.\nns.%s. IN A %s\n' "$_nn_z" "$_nn_z" \
		    "$_nn_z" "$NETNS_DNS" \
		    >> "$_nn_d/$(netns__zfile "$_nn_p").full" || return 1
	done
	# Deepest first: by the number of labels.
	for _nn_z in $(sort -u "$_nn_d/list" | awk -F. '
	    { print ($0 == "." ? 0 : NF) " " $0 }' | sort -rn | cut -d' ' -f2)
	do
		_nn_f=$_nn_d/$(netns__zfile "$_nn_z").full
		_nn_m=$(cat "$_nn_d/$_nn_z.mode" 2>/dev/null || echo signed)
		[ "$_nn_m" = unsigned ] && continue
		_nn_o=$_nn_z.
		[ "$_nn_z" = . ] && _nn_o=.
		_nn_k=$(cd "$NETNS_DIR/keys" &&
		    ldns-keygen -a ECDSAP256SHA256 -k "$_nn_o") || return 1
		(cd "$NETNS_DIR/keys" && ldns-signzone -o "$_nn_o" -f \
		    "$_nn_f.signed" "$_nn_f" "$_nn_k") || return 1
		if [ "$_nn_m" = bogus ]; then
			# Flip the first character of each signature.
			awk '$4 == "RRSIG" && $5 != "DNSKEY" {
				c = substr($NF, 1, 1)
				$NF = (c == "A" ? "B" : "A") substr($NF, 2)
			} { print }' "$_nn_f.signed" > "$_nn_f.bogus" &&
			    mv "$_nn_f.bogus" "$_nn_f.signed" || return 1
		fi
		if [ "$_nn_z" = . ]; then
			NETNS_ANCHOR=$NETNS_DIR/root.key
			cp "$NETNS_DIR/keys/$_nn_k.ds" "$NETNS_ANCHOR" ||
			    return 1
		else
			_nn_p=$(netns__parent "$_nn_z")
			cat "$NETNS_DIR/keys/$_nn_k.ds" \
			    >> "$_nn_d/$(netns__zfile "$_nn_p").full" || return 1
		fi
	done
}

netns__nsdconf() {
	{
		cat <<EOF
server:
	ip-address: $NETNS_DNS
	port: 53
	username: ""
	chroot: ""
	zonesdir: "$NETNS_DIR/zones"
	pidfile: "$NETNS_DIR/nsd.self"
	database: ""
	xfrdfile: "$NETNS_DIR/xfrd.state"
	zonelistfile: "$NETNS_DIR/zone.list"
	xfrdir: "$NETNS_DIR"
	verbosity: 1
	hide-version: yes
	server-count: 1
	reuseport: no
remote-control:
	control-enable: no
EOF
		sort -u "$NETNS_DIR/zones/list" | while read -r _nn_z; do
			_nn_f=$(netns__zfile "$_nn_z")
			if [ -f "$NETNS_DIR/zones/$_nn_f.full.signed" ]; then
				_nn_f=$_nn_f.full.signed
			elif [ -f "$NETNS_DIR/zones/$_nn_f.full" ]; then
				_nn_f=$_nn_f.full
			fi
			printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' \
			    "$_nn_z" "$_nn_f"
		done
	} > "$NETNS_DIR/nsd.conf"
}

nsd_start() {
	if [ -n "$NETNS_DNSSEC" ]; then
		rm -f "$NETNS_DIR"/zones/*.full "$NETNS_DIR"/zones/*.signed
		netns__sign || return 1
	fi
	netns__nsdconf || return 1
	_nn_nsd=nsd
	command -v nsd >/dev/null 2>&1 || _nn_nsd=/usr/sbin/nsd
	netns_bg nsd "$_nn_nsd" -d -c "$NETNS_DIR/nsd.conf" || return 1
	# Ready when the last zone is loaded and port 53 is bound.
	_nn_i=0
	while [ $_nn_i -lt 100 ]; do
		if ip netns exec "$NETNS_S" ss -Hlun 'sport = :53' 2>/dev/null |
		    grep -q . && grep -q 'nsd started' \
		    "$NETNS_DIR/nsd.log" 2>/dev/null; then
			if grep -qi 'error' "$NETNS_DIR/nsd.log"; then
				cat "$NETNS_DIR/nsd.log" >&2
				return 1
			fi
			return 0
		fi
		if ! kill -0 "$(cat "$NETNS_DIR/nsd.pid" 2>/dev/null || echo 0)" \
		    2>/dev/null && [ $_nn_i -gt 20 ]; then
			break
		fi
		sleep 0.1
		_nn_i=$((_nn_i + 1))
	done
	echo "nsd did not start:" >&2
	cat "$NETNS_DIR/nsd.log" >&2
	return 1
}

nsd_reload() {
	netns_kill nsd
	nsd_start
}

netns_down() {
	trap - EXIT
	if [ -n "$NETNS_DIR" ] && [ -d "$NETNS_DIR" ]; then
		for _nn_f in "$NETNS_DIR"/*.pid; do
			[ -f "$_nn_f" ] || continue
			_nn_n=${_nn_f##*/}
			_nn_n=${_nn_n%.pid}
			[ "$_nn_n" = nsd ] && [ ! -f "$NETNS_DIR/nsd.pid" ] && continue
			netns_kill "$_nn_n"
		done
	fi
	ip netns del "$NETNS_S" 2>/dev/null
	ip netns del "$NETNS_C" 2>/dev/null
	if [ -n "$NETNS_DIR" ] && [ "${KEEP:-0}" != 1 ]; then
		rm -rf "$NETNS_DIR"
	elif [ -n "$NETNS_DIR" ]; then
		echo "# kept $NETNS_DIR" >&2
	fi
	NETNS_DIR=
	return 0
}
