#!/bin/sh
# wkdctl's command line: --help everywhere, exit statuses, the config file,
# init, domains, accounts and aliases (bindings are for good).
. "$(dirname "$0")/lib_wkdctl.sh"

# --help for wkdctl and every command: exit 0, usage on stdout.
run $WKDCTL --help
is "$rc" 0 "wkdctl --help: exit 0"
like "$out" '^usage: wkdctl \[-V\] \[-f file\] \[-s dir\] command' "wkdctl --help: usage"
# The command list: each name, a blank, then its summary (no run-on).
like "$out" '^  export-revocation +print a stored revocation' \
    "wkdctl --help: long command names stay apart from their summary"
like "$out" '^  init +create a new store' "wkdctl --help: summaries aligned"
for c in init domain account alias import list show export hash remove log; do
	run $WKDCTL $c --help
	is "$rc" 0 "$c --help: exit 0"
	like "$out" "^usage: wkdctl $c" "$c --help: usage on stdout"
	run $WKDCTL help $c
	like "$out" "^usage: wkdctl $c" "help $c"
done
run $WKDCTL domain add --help
like "$out" '^usage: wkdctl domain add \[--no-cert\] domain' "domain add --help"

# Bad usage: exit 2, usage on stderr, nothing on stdout.
for args in "" "frobnicate" "-x list" "domain" "domain add" "domain frob x" \
    "account" "account add" "account show" "alias add a@b" "import" \
    "import --bogus x" "show" "export" "export -o" "remove" "list a b" \
    "init extra" "domain list --bogus"; do
	# shellcheck disable=SC2086
	run $W $args
	is "$rc" 2 "'wkdctl $args': exit 2"
	like "$err" '^usage: wkdctl' "'wkdctl $args': usage on stderr"
done

# No store yet.
run $W domain list
is "$rc" 1 "no store: exit 1"
like "$err" 'no store here|wkdctl init' "no store: says to run init"

mkdir "$tmp/emptydir"
run $WKDCTL -s "$tmp/emptydir" domain list
is "$rc" 1 "empty directory: exit 1"
like "$err" 'no store here \(run "wkdctl init"\)' "empty directory: says to run init"

# init.
run $W init
is "$rc" 0 "init"
[ -f "$S/data.mdb" ]
ok $? "init created data.mdb"
run $W init
is "$rc" 1 "init again refused"
like "$err" 'already exists' "init again: message"

# A store this user may not read (or whose lock file it may not write)
# is "permission denied", with whose store it is, never "no store here".
if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null &&
    id nobody >/dev/null 2>&1; then
	mkdir -m 755 "$tmp/perm" && chmod 711 "$tmp"
	$WKDCTL -s "$tmp/perm/s" init > /dev/null 2>&1
	chmod 750 "$tmp/perm/s"
	run runuser -u nobody -- $WKDCTL -s "$tmp/perm/s" domain list
	is "$rc" 1 "store of another user: exit 1"
	like "$err" "perm/s: permission denied \(the store is root's: run wkdctl as root\)" \
	    "store directory not searchable: permission denied, whose"
	unlike "$err" 'no store here' "store directory not searchable: not \"no store here\""
	chmod 755 "$tmp/perm/s"
	run runuser -u nobody -- $WKDCTL -s "$tmp/perm/s" domain list
	like "$err" "perm/s: permission denied \(the store is root's" \
	    "store files not readable: permission denied, whose"
	# init as root of wkdd.conf's store with a user: given to that user.
	printf 'store %s\nuser nobody\n' "$tmp/perm/u" > "$tmp/perm/u.conf"
	run $WKDCTL -f "$tmp/perm/u.conf" init
	like "$out" '^store given to user nobody' "init as root with user: says whose"
	is "$(stat -c %U "$tmp/perm/u" "$tmp/perm/u/data.mdb" \
	    "$tmp/perm/u/lock.mdb" | sort -u)" nobody \
	    "init as root with user: directory, data and lock file that user's"
	run $WKDCTL -f "$tmp/perm/u.conf" domain add perm.test
	run runuser -u nobody -- $WKDCTL -f "$tmp/perm/u.conf" domain list
	is "$(cat "$out")" perm.test "that user reads what root wrote"
	# Without a user directive: the user wkdd becomes (_wkdd, if any).
	printf 'store %s\n' "$tmp/perm/n" > "$tmp/perm/n.conf"
	run $WKDCTL -f "$tmp/perm/n.conf" init
	if id _wkdd >/dev/null 2>&1; then
		like "$out" '^store given to user _wkdd \(the user wkdd becomes\)' \
		    "init as root without user: given to _wkdd, as wkdd becomes it"
		is "$(stat -c %U "$tmp/perm/n/data.mdb")" _wkdd \
		    "init as root without user: data.mdb is _wkdd's"
	else
		unlike "$out" 'given to' "init as root without user, no _wkdd: kept"
		is "$(stat -c %U "$tmp/perm/n/data.mdb")" root \
		    "init as root without user, no _wkdd: data.mdb stays root's"
	fi
	chmod 700 "$tmp"
else
	skip "permission denied: needs root, runuser and user nobody"
	skip "init as root with user: needs root, runuser and user nobody"
	skip "init as root without user: needs root"
fi

# The store from the config file (-f), and -s over it.
cat > "$tmp/wkdd.conf" <<CONF
store $tmp/store2
store-size 8M
CONF
run $WKDCTL -f "$tmp/wkdd.conf" init
is "$rc" 0 "init with -f (store from the config file)"
[ -f "$tmp/store2/data.mdb" ]
ok $? "config file's store created"
run $WKDCTL -f "$tmp/wkdd.conf" domain add conf.example
run $WKDCTL -f "$tmp/wkdd.conf" -s "$S" domain list
unlike "$out" 'conf.example' "-s wins over the config file"
run $WKDCTL -f "$tmp/wkdd.conf" domain list
like "$out" '^conf\.example$' "config file's store used"
printf 'stroe /x\n' > "$tmp/bad.conf"
run $WKDCTL -f "$tmp/bad.conf" domain list
is "$rc" 1 "bad config file: exit 1"
like "$err" 'bad.conf:1' "bad config file: file:line message"
run $WKDCTL -f "$tmp/missing.conf" domain list
is "$rc" 1 "missing -f file: exit 1"

# Domains.
run $W domain add example.org
is "$rc" 0 "domain add"
run $W domain add EXAMPLE.ORG.
is "$rc" 1 "domain add again (other case, trailing dot): refused"
like "$err" 'already hosted' "domain add again: message"
run $W domain add münchen.de
is "$rc" 0 "domain add IDN"
like "$out" 'xn--mnchen-3ya\.de' "IDN domain stored as A-label"
run $W domain add 'bad..domain'
is "$rc" 1 "invalid domain refused"
run $W domain add example.net
run $W domain list
is "$(tr '\n' ' ' < "$out")" "example.net example.org xn--mnchen-3ya.de " "domain list"

# Policy files (draft §4.5).
printf '# our policy\nprotocol-version: 5\r\nmailbox-only\n\nexample.org_x: y\n' > "$tmp/policy"
run $W domain policy EXAMPLE.org "$tmp/policy"
is "$rc" 0 "domain policy"
mdb_dump -s policy "$S" > "$tmp/pdump"
like "$tmp/pdump" "$(od -An -tx1 "$tmp/policy" | tr -d ' \n')" "policy stored byte for byte"
printf 'mailbox-only' | $W domain policy example.org - > "$out" 2> "$err"
is "$?" 1 "policy without final newline refused (stdin)"
like "$err" ':1: last line has no newline' "no final newline: message with line"
printf 'ok\n9lives\n' > "$tmp/p2"
run $W domain policy example.org "$tmp/p2"
like "$err" 'p2:2: a keyword must start with a letter' "bad keyword: file:line"
printf 'protocol-version 5\n' > "$tmp/p3"
run $W domain policy example.org "$tmp/p3"
is "$rc" 1 "keyword without colon refused (the one-liner pitfall)"
head -c 20000 /dev/zero | tr '\0' '#' > "$tmp/p4"; echo >> "$tmp/p4"
run $W domain policy example.org "$tmp/p4"
like "$err" 'too large' "policy over 16 KiB refused"
run $W domain policy nothosted.example "$tmp/policy"
like "$err" 'not hosted' "policy for an unhosted domain refused"
is "$(mdb_dump -s policy "$S")" "$(cat "$tmp/pdump")" "refused policies changed nothing"
: > "$tmp/p5"
run $W domain policy example.org "$tmp/p5"
is "$rc" 0 "empty policy accepted"

# Accounts and aliases.
run $W account add Alice@Example.org --alias alice.smith@example.org --alias 'al@MÜNCHEN.de'
is "$rc" 0 "account add with aliases"
run $W account show al@xn--mnchen-3ya.de
like "$out" '^account alice@example\.org$' "account show via an alias"
like "$out" 'alias +alice\.smith@example\.org' "account show lists the alias"
like "$out" 'alias +al@xn--mnchen-3ya\.de' "IDN alias normalised"
run $W account add bob@example.org
is "$rc" 0 "second account"
run $W account add carol@foreign.example
is "$rc" 1 "account in an unhosted domain refused"
like "$err" 'not hosted' "unhosted domain: message"
run $W account add ALICE@example.org
is "$rc" 1 "account add of an existing account refused"
run $W account add dave@example.org --alias alice.smith@example.org
is "$rc" 1 "account add with an alias bound elsewhere refused"
like "$err" 'already bound to account alice@example\.org' "bound elsewhere: message"
run $W account show dave@example.org
is "$rc" 1 "failed account add created nothing"
run $W alias add bob@example.org alice.smith@example.org
is "$rc" 1 "alias add of another account's alias refused"
run $W alias add bob@example.org alice@example.org
is "$rc" 1 "alias add of another account's primary refused"
run $W alias add alice.smith@example.org x@example.org
is "$rc" 1 "alias add to a non-primary refused"
run $W alias add bob@example.org robert@example.org
is "$rc" 0 "alias add"
run $W alias remove bob@example.org robert@example.org
is "$rc" 0 "alias remove"
run $W account show robert@example.org
like "$out" 'retired +robert@example\.org' "removed alias is retired"
run $W alias add alice@example.org robert@example.org
is "$rc" 1 "retired alias can't move to another account"
like "$err" 'never reused' "retired alias: message"
run $W account add robert@example.org
is "$rc" 1 "retired alias can't become an account"
run $W alias remove bob@example.org robert@example.org
is "$rc" 1 "alias remove twice refused"
run $W alias remove bob@example.org bob@example.org
is "$rc" 1 "primary can't be removed as an alias"
run $W alias remove alice@example.org bob@example.org
is "$rc" 1 "alias remove with the wrong account refused"
run $W account list
like "$out" '^alice@example\.org' "account list: alice"
like "$out" '^bob@example\.org' "account list: bob"
unlike "$out" 'robert' "account list shows primaries only"

# The audit log has every change, with the operator.
run $W log
like "$out" '^[0-9-]+T[0-9:]+Z [^ ]+ example\.org: domain added$' "log: domain added"
like "$out" ' example\.org: policy set \(65 bytes\)$' "log: policy set"
like "$out" ' alice@example\.org: account added$' "log: account added"
like "$out" ' robert@example\.org: alias of bob@example\.org retired$' "log: alias retired"
run $W log Robert@Example.ORG
is "$(wc -l < "$out" | tr -d ' ')" 2 "log ADDRESS: only that address (added, retired)"
unlike "$out" 'dave@' "log ADDRESS: no failed command in the log"

# Read-only commands don't change the store.
before=$(store_sum)
$W list >/dev/null 2>&1; $W account list >/dev/null 2>&1
$W show alice@example.org >/dev/null 2>&1; $W domain list >/dev/null 2>&1
$W log >/dev/null 2>&1
is "$(store_sum)" "$before" "read-only commands leave data.mdb as it was"

# Failed commands change nothing.
before=$(store_sum)
$W account add zed@example.org --alias alice@example.org >/dev/null 2>&1
$W domain add example.org >/dev/null 2>&1
is "$(store_sum)" "$before" "failed commands leave data.mdb as it was"

finish
