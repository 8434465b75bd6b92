#!/bin/sh
# t_crash: kill -9 of wkdctl import at random points of a large import
# (Debian's keyring, 900 keys, in batches of 25), CRASH_TRIALS times
# (default 50; no trial starts after CRASH_BUDGET seconds, default 240:
# about 45 s on 2 idle CPUs, more under ASan or a loaded machine),
# while wkdd serves the store throughout: after each kill the store
# opens, every address the import had reported as published is published,
# every address the store publishes is served with the key it names
# (nothing partial), and wkdctl backup's copy checks; a client fetching
# keys all along never gets a torn or invalid answer (each one parsed:
# one User ID, no secret packet).  The driver is tests/integ/crash.py;
# bench/crash.sh runs more trials.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"
. "$TOP/tests/integ/debkeys.sh"

need curl certtool python3
need_wkdctl
debian_keys
TRIALS=${CRASH_TRIALS:-50}

make_certs debian.org openpgpkey.debian.org
make_store debian.org
setup "account sync" ctl account sync "$T/dk/users.tsv"
setup "backup of the store without keys" ctl backup "$T/base.mdb"
# No limit on lookups: the client and the checks make thousands.
write_conf "limit-rate 0" "access-log off"
start_wkdd || finish

python3 "$TOP/tests/integ/crash.py" --wkdctl "$WKDCTL" --store "$STORE" \
    --base "$T/base.mdb" --ring "$DK_RING" --users "$T/dk/users.tsv" \
    --port "$PORT" --ca "$T/ca.pem" --trials "$TRIALS" \
    --budget "${CRASH_BUDGET:-240}" > "$T/crash.out" 2>&1
rc=$?
show "$T/crash.out"
fig() {
	awk -v k="$1" '$1 == k { print $2 }' "$T/crash.out"
}
ok $rc "crash.py: no problem found"
is "$(fig trials)" "$TRIALS" "$TRIALS trials"
check "most kills landed mid-import ($(fig killed) of $(fig trials))" \
    test "$(fig killed)" -ge $((TRIALS / 2))
is "$(fig problems)" 0 "after each kill: the store opens, what was reported is published, all it publishes served as named, backup checks"
check "the client made requests throughout ($(fig requests))" \
    test "$(fig requests)" -gt "$TRIALS"
is "$(fig bad)" 0 "no torn or invalid answer among $(fig ok200) keys served"
is "$(fig other)" 0 "no answer but 200 or 404"
check "the last import, to its end, published keys ($(fig last_published))" \
    test "$(fig last_published)" -gt 800
check_wkdd "after $TRIALS kills"
finish
