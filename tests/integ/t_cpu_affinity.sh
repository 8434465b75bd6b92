#!/bin/sh
# t_cpu_affinity: "cpu-affinity yes" (the default) gives each HTTPS
# thread one CPU of those wkdd may run on, all of them, and each new
# connection to the thread of the CPU that took its SYN (on loopback, the
# client's): clients pinned to each CPU in turn are served by that CPU's
# thread (its run time from /proc/.../schedstat), under the sandbox, with
# nothing logged against it.  "cpu-affinity no": the threads may run on
# every CPU.  On one CPU: one thread, nothing to steer.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gpg taskset
need_wkdctl

make_certs a.test '*.a.test'
make_store a.test
gen_key alice@a.test > /dev/null && ctl account add alice@a.test > /dev/null &&
    ctl import "$T/alice@a.test.pgp" > /dev/null 2>&1 ||
    { fail "a key for alice@a.test"; finish; }
URL=https://a.test:PORT/.well-known/openpgpkey/hu/$(hash_of alice@a.test)

# The CPUs this test (and so wkdd) may run on, as a list "0 1 ...".
CPUS=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status |
    tr ',' '\n' | awk -F- '{ for (c = $1; c <= ($2 == "" ? $1 : $2); c++)
	print c }' | tr '\n' ' ')
NCPU=$(echo $CPUS | wc -w)
diag "CPUs: $CPUS"

# threads: "TID CPUS-ALLOWED" of each HTTPS thread (MHD's), one a line.
threads() {
	for _t in /proc/"$WKDD_PID"/task/*; do
		grep -q '^MHD' "$_t/comm" 2>/dev/null || continue
		echo "${_t##*/} $(awk '/^Cpus_allowed_list:/ { print $2 }' \
		    "$_t/status")"
	done
}

# runtime TID: the nanoseconds the thread has run.
runtime() {
	cut -d ' ' -f 1 "/proc/$WKDD_PID/task/$1/schedstat"
}

# serve_from CPU: 4 clients on CPU, one after the other, each one
# connection and 40 requests on it; all answered 200.
serve_from() {
	_n=0
	for _c in 1 2 3 4; do
		_urls=
		_i=0
		while [ $_i -lt 40 ]; do
			_urls="$_urls -o /dev/null $(echo "$URL" |
			    sed "s/PORT/$PORT/")"
			_i=$((_i + 1))
		done
		taskset -c "$1" curl -sS --max-time 20 \
		    -w '%{http_code}\n' --cacert "$T/ca.pem" \
		    --resolve "a.test:$PORT:127.0.0.1" $_urls \
		    > "$T/codes" 2>> "$T/curl.err"
		_n=$((_n + $(grep -c '^200$' "$T/codes")))
	done
	echo "$_n"
}

# 160 requests from 127.0.0.1 a CPU: not what the enumeration limits are for.
LIMITS="limit-burst 1000000"
NETLIMITS="limit-net-burst 1000000"

# --- the default: pinned, steered ------------------------------------------
write_conf "$LIMITS" "$NETLIMITS"
start_wkdd || finish
threads > "$T/threads"
is "$(wc -l < "$T/threads" | tr -d ' ')" "$NCPU" "a thread for each CPU"
if [ "$NCPU" -gt 1 ]; then
	is "$(awk '{ print $2 }' "$T/threads" | sort -n | tr '\n' ' ')" \
	    "$CPUS" "each thread on one CPU of its own, every CPU taken"
	for cpu in $CPUS; do
		tid=$(awk -v c="$cpu" '$2 == c { print $1 }' "$T/threads")
		before=
		for t in $(awk '{ print $1 }' "$T/threads"); do
			before="$before $t:$(runtime "$t")"
		done
		is "$(serve_from "$cpu")" 160 "CPU $cpu's clients: 160 keys"
		mine=0 all=0
		for tb in $before; do
			t=${tb%%:*}
			d=$(($(runtime "$t") - ${tb#*:}))
			all=$((all + d))
			[ "$t" = "$tid" ] && mine=$d
		done
		diag "CPU $cpu: its thread ran $mine of $all ns"
		# Four connections: hashed over two threads, all four would
		# land on this one once in 16 runs.  9/10: an idle thread's
		# wake-ups.
		ok "$([ $((mine * 10)) -ge $((all * 9)) ]; echo $?)" \
		    "CPU $cpu's connections served by CPU $cpu's thread"
	done
else
	is "$(serve_from $CPUS)" 160 "one CPU: 160 keys"
fi
unlike "$LOG" "SO_ATTACH_REUSEPORT_CBPF|sched_setaffinity|thread [0-9]+ on CPU" \
    "nothing logged against steering or pinning"
like "$LOG" "sandbox: .*seccomp" "... under the sandbox"
ok "$(alive; echo $?)" "wkdd still running"
stop_wkdd

# --- cpu-affinity no: the threads run anywhere ------------------------------
write_conf "$LIMITS" "$NETLIMITS" "cpu-affinity no"
start_wkdd || finish
threads > "$T/threads"
is "$(wc -l < "$T/threads" | tr -d ' ')" "$NCPU" "no: a thread for each CPU"
all=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status)
is "$(awk -v a="$all" '$2 != a' "$T/threads" | wc -l | tr -d ' ')" 0 \
    "no: every thread may run on every CPU ($all)"
first=$(echo $CPUS | cut -d ' ' -f 1)
is "$(serve_from "$first")" 160 "no: 160 keys"
"$WKDD" -nn -f "$CONF" > "$T/out" 2>&1
like "$T/out" "^cpu-affinity no$" "wkdd -nn: cpu-affinity no"
stop_wkdd
finish
