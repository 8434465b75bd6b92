#!/bin/sh
# t_acme_cli: wkdctl's ACME options without a CA: domain add --no-cert,
# domain cert's usage and checks, a configuration that can't work (no
# tls-dir, no acme-webroot, acme-client none): the domain is
# still added (exit 0, the problem said); domain cert exits 1 and changes
# nothing.  The issuance itself is t_acme_pebble's.
. "$(dirname "$0")/lib_wkdctl.sh"

C=$tmp/wkdd.conf
# conf LINE...: $C with the store and the given lines.
conf() {
	{
		echo "store $S"
		for _l; do echo "$_l"; done
	} > "$C"
}
conf
run $WKDCTL -f "$C" init
is "$rc" 0 "init"

run $WKDCTL domain --help
like "$out" '^usage: wkdctl domain add \[--no-cert\] domain' "usage: domain add"
like "$out" '^       wkdctl domain cert \[--mta-sts\] domain' "usage: domain cert"

# No acme-client (the default "none"): nothing is requested.
run $WKDCTL -f "$C" domain add a.test
is "$rc" 0 "acme-client none: domain add exit 0"
unlike "$out" 'certificate' "  ... no certificate mentioned"
is "$(cat "$err")" "" "  ... nothing on stderr"
run $WKDCTL -f "$C" domain cert a.test
is "$rc" 1 "acme-client none: domain cert exit 1"
like "$err" 'no acme-client in the configuration' "  ... says why"

# certbot, but no tls-dir, then no acme-webroot.
conf "acme-client certbot" "acme-webroot $tmp/www"
sum=$(store_sum)
run $WKDCTL -f "$C" domain cert a.test
is "$rc" 1 "no tls-dir: domain cert exit 1"
like "$err" 'acme-client needs tls-dir' "  ... says why"
is "$(store_sum)" "$sum" "  ... store unchanged"
run $WKDCTL -f "$C" domain add b.test
is "$rc" 0 "no tls-dir: domain add still exit 0"
like "$out" '^domain b.test added$' "  ... domain added"
like "$err" 'acme-client needs tls-dir' "  ... the problem said"
like "$err" 'b.test: added without a certificate; .*run: wkdctl domain cert b.test' \
    "  ... and how to retry"
conf "acme-client certbot" "tls-dir $tmp/tls"
run $WKDCTL -f "$C" domain cert b.test
is "$rc" 1 "no acme-webroot: domain cert exit 1"
like "$err" 'acme-client needs acme-webroot' "  ... says why"

# --no-cert: not even the configuration is looked at.
run $WKDCTL -f "$C" domain add --no-cert c.test
is "$rc" 0 "domain add --no-cert: exit 0"
is "$(cat "$err")" "" "  ... nothing on stderr"
run $WKDCTL -f "$C" domain list
like "$out" '^c.test$' "  ... domain added"

# uacme needs the same.
conf "acme-client uacme" "acme-webroot $tmp/www"
run $WKDCTL -f "$C" domain cert c.test
is "$rc" 1 "acme-client uacme, no tls-dir: exit 1"
like "$err" 'acme-client needs tls-dir' "  ... says why"

# Usage and bad input.
for args in "domain cert" "domain cert a.test b.test" \
    "domain cert --bogus a.test" "domain add --no-cert" \
    "domain add --no-cert a b"; do
	# shellcheck disable=SC2086
	run $WKDCTL -f "$C" $args
	is "$rc" 2 "'wkdctl $args': exit 2"
	like "$err" '^usage: wkdctl' "'wkdctl $args': usage on stderr"
done
run $WKDCTL -f "$C" domain cert nothosted.test
is "$rc" 1 "domain cert of a domain not hosted: exit 1"
like "$err" 'nothosted.test: domain not hosted' "  ... says so"
run $WKDCTL -f "$C" domain cert 'bad..name'
is "$rc" 1 "domain cert of a bad name: exit 1"
like "$err" 'not a valid domain name' "  ... says so"
finish
