#!/bin/sh
# t_mtasts_serve: wkdctl mta-sts builds an RFC 8461 policy and wkdd serves
# it at https://mta-sts.D/.well-known/mta-sts.txt, exact bytes (CRLF) as
# text/plain, only under mta-sts.D of a hosted domain that has one; the
# ETag (the TXT id's source) changes with the policy; crossed names and
# SNI/Host mismatches are 404.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool
need_wkdctl

make_certs a.test '*.a.test' b.test '*.b.test' c.test '*.c.test' \
    '*.z.test'
make_store a.test b.test c.test
MTA=/.well-known/mta-sts.txt

out=$(ctl mta-sts set a.test --mode enforce --mx mail.a.test \
    --mx '*.MX.a.test.' --max-age 604800)
is "$?" 0 "mta-sts set a.test"
diag "$out"
ctl mta-sts set b.test --mode testing --mx mx1.example.net \
    mx2.example.net --max-age 86400 >/dev/null
is "$?" 0 "mta-sts set b.test, patterns after the domain"

# Refused input changes nothing.
ctl mta-sts show a.test > "$T/a.before"
for args in "--mode bogus --mx m.a.test --max-age 1" \
    "--mode enforce --max-age 1" \
    "--mode enforce --mx m.a.test --max-age 31557601" \
    "--mode enforce --mx m.a.test --max-age -1" \
    "--mode enforce --mx m.a.test --max-age 1x" \
    "--mode enforce --mx a.*.test --max-age 1" \
    "--mode enforce --mx *.*.a.test --max-age 1" \
    "--mode enforce --mx localhost --max-age 1" \
    "--mode enforce --mx a_b.test --max-age 1" \
    "--mode enforce --mx m.a.test --mx M.A.test --max-age 1"; do
	# shellcheck disable=SC2086
	ctl mta-sts set a.test $args > /dev/null 2>"$T/err"
	rc=$?
	if [ "$rc" -ne 0 ] && [ -s "$T/err" ]; then
		pass "refused: $args ($(cat "$T/err"))"
	else
		fail "refused: $args (rc $rc)"
	fi
done
ctl mta-sts set x.test --mode none --max-age 1 >/dev/null 2>&1
is "$?" 1 "refused: domain not hosted"
ctl mta-sts set a.test --mx m.a.test --max-age 1 >/dev/null 2>&1
is "$?" 2 "no --mode: usage"
ctl mta-sts show a.test > "$T/a.after"
cmp -s "$T/a.before" "$T/a.after"
check "refused input changed nothing" [ $? -eq 0 ]

write_conf
start_wkdd || finish

printf 'version: STSv1\r\nmode: enforce\r\nmx: mail.a.test\r\nmx: *.mx.a.test\r\nmax_age: 604800\r\n' > "$T/want.a"
fetch mta-sts.a.test $MTA
is "$STATUS" 200 "mta-sts.a.test: 200"
cmp -s "$T/body" "$T/want.a"
check "exact bytes, CRLF lines, version first" [ $? -eq 0 ]
cmp -s "$T/body" "$T/a.after"
check "served bytes are wkdctl mta-sts show's" [ $? -eq 0 ]
is "$(header Content-Type)" "text/plain" "Content-Type: text/plain"
ETAG1=$(header ETag)
check "ETag sent" [ -n "$ETAG1" ]
is "$(header Location)" "" "no redirect"
fetch mta-sts.a.test "$MTA?x=1"
is "$STATUS" 200 "query ignored"
fetch MTA-STS.A.TEST $MTA
is "$STATUS" 200 "name in capitals"
fetch mta-sts.a.test $MTA -I
is "$STATUS" 200 "HEAD"

fetch mta-sts.b.test $MTA
is "$STATUS" 200 "mta-sts.b.test: 200"
printf 'version: STSv1\r\nmode: testing\r\nmx: mx1.example.net\r\nmx: mx2.example.net\r\nmax_age: 86400\r\n' > "$T/want.b"
cmp -s "$T/body" "$T/want.b"
check "b.test's own policy" [ $? -eq 0 ]

# Not served: no policy, not hosted, wrong name, crossed names.
fetch mta-sts.c.test $MTA
is "$STATUS" 404 "hosted domain without a policy: 404"
fetch mta-sts.z.test $MTA
is "$STATUS" 404 "domain not hosted: 404"
fetch a.test $MTA
is "$STATUS" 404 "Host a.test: 404 (only mta-sts.D)"
fetch openpgpkey.a.test $MTA
is "$STATUS" 404 "Host openpgpkey.a.test: 404"
fetch www.a.test $MTA
is "$STATUS" 404 "Host www.a.test: 404"
fetch mta-sts.a.test /.well-known/mta-sts.txt/
is "$STATUS" 404 "trailing slash: 404"
fetch mta-sts.a.test /.well-known/openpgpkey/a.test/policy
is "$STATUS" 404 "WKD policy of a.test under mta-sts.a.test: 404"
fetch mta-sts.a.test /.well-known/openpgpkey/policy
is "$STATUS" 404 "direct WKD under mta-sts.a.test: 404"
fetch openpgpkey.a.test /.well-known/openpgpkey/b.test/policy
is "$STATUS" 404 "Host openpgpkey.a.test, path b.test: 404"
fetch b.test /.well-known/openpgpkey/a.test/policy
is "$STATUS" 404 "Host b.test, advanced path of a.test: 404"
fetch mta-sts.a.test $MTA -H 'Host: mta-sts.b.test'
is "$STATUS" 404 "SNI mta-sts.a.test, Host mta-sts.b.test: 404"
fetch openpgpkey.a.test /.well-known/openpgpkey/b.test/policy \
    -H 'Host: openpgpkey.b.test'
is "$STATUS" 404 "SNI openpgpkey.a.test, Host openpgpkey.b.test: 404"
fetch openpgpkey.b.test /.well-known/openpgpkey/b.test/policy
is "$STATUS" 200 "matching SNI and Host: 200"
check_wkdd "serving"

# A change is seen at once, with a new ETag; removal makes it 404.
ctl mta-sts set a.test --mode testing --mx mail.a.test --max-age 604800 \
    >/dev/null
fetch mta-sts.a.test $MTA
printf 'version: STSv1\r\nmode: testing\r\nmx: mail.a.test\r\nmax_age: 604800\r\n' > "$T/want.a2"
cmp -s "$T/body" "$T/want.a2"
check "changed policy served without reload" [ $? -eq 0 ]
ETAG2=$(header ETag)
if [ -n "$ETAG2" ] && [ "$ETAG1" != "$ETAG2" ]; then
	pass "ETag changed with the policy ($ETAG1 -> $ETAG2)"
else
	fail "ETag changed with the policy ($ETAG1 -> $ETAG2)"
fi
out=$(ctl mta-sts set a.test --mode testing --mx mail.a.test \
    --max-age 604800)
is "$out" "mta-sts.a.test: policy unchanged" "same policy: unchanged"
ctl mta-sts remove a.test > /dev/null
is "$?" 0 "mta-sts remove"
fetch mta-sts.a.test $MTA
is "$STATUS" 404 "removed: 404"
ctl mta-sts remove a.test > /dev/null 2>&1
is "$?" 1 "remove again: error"
ctl mta-sts set c.test --mode none --max-age 0 > /dev/null
fetch mta-sts.c.test $MTA
printf 'version: STSv1\r\nmode: none\r\nmax_age: 0\r\n' > "$T/want.c"
cmp -s "$T/body" "$T/want.c"
check "mode none without mx, max_age 0" [ $? -eq 0 ]
grep -q ' GET mta-sts.c.test mta-sts 200 ' "$LOG"
check "request logged" [ $? -eq 0 ]
finish
