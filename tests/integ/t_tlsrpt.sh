#!/bin/sh
# t_tlsrpt: TLS reports (RFC 8460) for hosted domains.  Reports built from
# RFC 8460's example and real-world shapes (tests/integ/tlsrpt/: several
# policies, failure details, sts, tlsa and no-policy-found, fractions and
# offsets in dates) reach the spool two ways: POSTed to the real wkdd over
# TLS (application/tlsrpt+gzip and +json) and mailed to `wkdctl tlsrpt
# receive` (multipart/report, base64); malformed, oversized, gzip bombs,
# unhosted domains and wrong content types are refused with the spool
# unchanged.  `wkdctl tlsrpt ingest` stores them (dedup by report-id,
# malformed files to rejected/), `summary` adds them up (text and --json,
# by exact figures), wkdd's metrics carry the failure counts, backups
# carry the reports and removing a domain drops them.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool python3 gzip
need_wkdctl

R=$TOP/tests/integ/tlsrpt
SPOOL=$T/spool
mkdir -p "$SPOOL"
make_certs a.test '*.a.test' b.test '*.b.test' c.test '*.c.test'
make_store a.test b.test
write_conf "tlsrpt-spool $SPOOL" "tlsrpt-spool-max 4" \
    "metrics-listen 127.0.0.1:0" "metrics-domains on"

# tctl ARGS...: wkdctl with the test's wkdd.conf (its tlsrpt-spool).
tctl() {
	"$WKDCTL" -s "$STORE" -f "$CONF" "$@"
}

# spool_state: the spool's listing, names and sizes (rejected/ too).
spool_state() {
	(cd "$SPOOL" && find . -type f | sort | xargs -r ls -l |
	    awk '{ print $5, $9 }')
}

# mail TYPE FILE [ENCODING]: a report mail as Google and Microsoft send
# it: multipart/report (report-type=tlsrpt), a text part, then FILE as
# TYPE (gzip: compressed), base64 unless ENCODING says 7bit.
mail() {
	python3 - "$1" "$2" "${3:-base64}" <<'EOF'
import sys, gzip
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.mime.application import MIMEApplication
from email import encoders
typ, path, enc = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(path, 'rb').read()
if typ.endswith('gzip'):
    data = gzip.compress(data)
m = MIMEMultipart('report', report_type='tlsrpt')
m['From'] = 'noreply-smtp-tls-reporting@google.example'
m['To'] = 'tlsrpt@a.test'
m['Subject'] = 'Report Domain: a.test Submitter: google.com Report-ID: <x>'
m['TLS-Report-Domain'] = 'a.test'
m['TLS-Report-Submitter'] = 'google.com'
m.attach(MIMEText('This is an aggregate TLS report from google.com\n'))
p = MIMEApplication(data, typ.split('/')[1],
    _encoder=encoders.encode_base64 if enc == 'base64' else
    encoders.encode_7or8bit)
p.add_header('Content-Disposition', 'attachment',
    filename='google.com!a.test!1!2!001.json' + ('.gz' if
    typ.endswith('gzip') else ''))
m.attach(p)
sys.stdout.write(m.as_string())
EOF
}

# --- wkdctl dns: the rua that points here ---------------------------------

ctl mta-sts set a.test --mode testing --mx '*.mail.a.test' --max-age 86400 \
    > /dev/null
tab=$(printf '\t')
tctl dns --target wkd.service.test a.test > "$T/out" 2>&1
like "$T/out" "^_smtp\._tls\.a\.test\.${tab}3600${tab}IN${tab}TXT${tab}\"v=TLSRPTv1; rua=https://mta-sts\.a\.test/tlsrpt\"$" \
    "dns with tlsrpt-spool: rua=https://mta-sts.a.test/tlsrpt"
tctl dns --target wkd.service.test --tlsrpt mailto:tls@a.test a.test \
    > "$T/out" 2>&1
like "$T/out" "rua=mailto:tls@a\.test,https://mta-sts\.a\.test/tlsrpt\"$" \
    "dns --tlsrpt mailto: both URIs"
ctl dns --target wkd.service.test a.test > "$T/out" 2>&1
unlike "$T/out" "/tlsrpt" "dns without tlsrpt-spool: no https rua"

# --- wkdctl tlsrpt receive -----------------------------------------------

mail application/tlsrpt+gzip "$R/rfc8460.json" > "$T/m1"
tctl tlsrpt receive < "$T/m1" > "$T/out" 2>&1
is "$?" 0 "receive: RFC 8460's example, gzip, base64, multipart/report"
like "$T/out" "report 5065427c-23d3-47ca-b6e0-946ea0e8c4be from Company-X spooled" \
    "receive names the report and its sender"
is "$(ls "$SPOOL" | grep -c '\.json$')" 1 "one file in the spool"
f=$(ls "$SPOOL" | head -n 1)
cmp -s "$SPOOL/$f" "$R/rfc8460.json"
check "the spooled file is the report's JSON, decompressed" [ $? -eq 0 ]
is "$(stat -c %a "$SPOOL/$f")" 640 "spooled file mode 640"
mail application/tlsrpt+json "$R/google.json" 7bit > "$T/m2"
tctl tlsrpt receive < "$T/m2" >/dev/null
is "$?" 0 "receive: a +json part, 7bit"

# Refused: nothing spooled.
before=$(spool_state)
# refuse NAME FILE: receive of mail FILE exits 1 with a message.
refuse() {
	tctl tlsrpt receive < "$2" > "$T/out" 2> "$T/err"
	_rc=$?
	if [ "$_rc" -eq 1 ] && [ -s "$T/err" ]; then
		pass "receive refuses $1 ($(head -n 1 "$T/err"))"
	else
		fail "receive refuses $1 (rc $_rc)"
		show "$T/out" "$T/err"
	fi
}
sed 's/"a.test"/"c.test"/' "$R/rfc8460.json" > "$T/unhosted.json"
mail application/tlsrpt+gzip "$T/unhosted.json" > "$T/m"
refuse "a domain not hosted" "$T/m"
printf '{"organization-name": "X", "report-id": "1"' > "$T/trunc.json"
mail application/tlsrpt+json "$T/trunc.json" > "$T/m"
refuse "truncated JSON" "$T/m"
sed 's/"sts"/"dane"/' "$R/rfc8460.json" > "$T/badtype.json"
mail application/tlsrpt+json "$T/badtype.json" > "$T/m"
refuse "an unknown policy-type" "$T/m"
sed 's/"total-failure-session-count": 303/"total-failure-session-count": -3/' \
    "$R/rfc8460.json" > "$T/neg.json"
mail application/tlsrpt+json "$T/neg.json" > "$T/m"
refuse "a negative session count" "$T/m"
sed 's/2016-04-01T23:59:59Z/2016-03-31T23:59:59Z/' "$R/rfc8460.json" \
    > "$T/range.json"
mail application/tlsrpt+json "$T/range.json" > "$T/m"
refuse "a date-range ending before it starts" "$T/m"
# A gzip bomb: 64 MiB of zeros, 64 KiB compressed.
head -c 67108864 /dev/zero | gzip -9 > "$T/bomb.gz"
python3 - "$T/bomb.gz" > "$T/m" <<'EOF'
import sys, base64
data = open(sys.argv[1], 'rb').read()
print('Content-Type: application/tlsrpt+gzip\nContent-Transfer-Encoding: base64\n')
print(base64.encodebytes(data).decode())
EOF
refuse "a gzip bomb (64 MiB of zeros)" "$T/m"
like "$T/err" "tlsrpt-max-size" "the bomb: over tlsrpt-max-size"
printf 'From: x@y\nContent-Type: text/plain\n\nhello\n' > "$T/m"
refuse "a mail without a report part" "$T/m"
printf 'Content-Type: application/tlsrpt+gzip\nContent-Transfer-Encoding: base64\n\nnot*base64\n' \
    > "$T/m"
refuse "bad base64" "$T/m"
printf 'Content-Type: application/tlsrpt+gzip\n\nnot gzip at all\n' > "$T/m"
refuse "a +gzip part that isn't gzip" "$T/m"
is "$(spool_state)" "$before" "refused reports changed nothing in the spool"

# --- ingest ----------------------------------------------------------------

mail application/tlsrpt+gzip "$R/microsoft.json" > "$T/m3"
tctl tlsrpt receive < "$T/m3" >/dev/null
is "$?" 0 "receive: Microsoft's shape (tlsa, no-policy-found)"
mail application/tlsrpt+gzip "$R/b.json" > "$T/m4"
tctl tlsrpt receive < "$T/m4" >/dev/null
is "$?" 0 "receive: b.test's report"
# A file that isn't a report, dropped into the spool by hand.
printf 'junk' > "$SPOOL/0.junk.json"
out=$(tctl tlsrpt ingest 2>"$T/err")
is "$?" 3 "ingest: exit 3 with a file rejected"
is "$out" "5 files: 4 reports stored, 0 duplicates, 1 rejected" \
    "ingest counts files, reports, duplicates, rejected"
like "$T/err" "0.junk.json: not a TLS report" "the bad file named"
is "$(ls "$SPOOL" | grep -c json)" 0 "ingested files removed from the spool"
check "the bad file moved to rejected/" [ -f "$SPOOL/rejected/0.junk.json" ]

# Dedup: the same report again (another copy of a mail) is stored once.
tctl tlsrpt receive < "$T/m1" >/dev/null
tctl tlsrpt receive < "$T/m3" >/dev/null
out=$(tctl tlsrpt ingest --json)
is "$?" 0 "ingest again: exit 0"
is "$out" '{"files":2,"stored":0,"duplicates":2,"rejected":0}' \
    "the same reports again: duplicates, nothing stored (--json)"
out=$(tctl tlsrpt ingest)
is "$out" "0 files: 0 reports stored, 0 duplicates, 0 rejected" \
    "an empty spool: nothing to do"

# --- summary ---------------------------------------------------------------

cat > "$T/want.a" <<'EOF'
a.test: 3 reports, 2016-04-01 00:00:00Z to 2016-04-02 23:59:59Z
  sessions: 6573 successful, 306 failed
  failures: certificate-expired 100, starttls-not-supported 201, tlsa-invalid 2, validation-failure 3
  organizations: Company-X 1, Google Inc. 1, Microsoft Corporation 1
  mx hosts (failed sessions): *.mail.a.test 0, mx-backup.mail.a.test 3, mx1.mail.a.test 102, mx2.mail.a.test 200, mx3.mail.a.test 1
  policy types (sessions): no-policy-found 8, sts 6829, tlsa 42
EOF
tctl tlsrpt summary a.test > "$T/got.a"
is "$?" 0 "summary a.test"
cmp -s "$T/got.a" "$T/want.a"
check "summary a.test: sessions, failures by type, organisations, MX hosts, policy types" \
    [ $? -eq 0 ]
[ $? -eq 0 ] || show "$T/got.a"
tctl tlsrpt summary > "$T/got.all"
is "$(grep -c '^[a-z].*: [0-9]* reports\?,' "$T/got.all")" 2 \
    "summary of all domains: a.test and b.test"
like "$T/got.all" "b.test: 1 report, " "b.test's report"
like "$T/got.all" "failures: sts-policy-fetch-error 4" \
    "b.test's failure"

tctl tlsrpt summary --json a.test > "$T/got.json"
is "$?" 0 "summary --json"
python3 - "$T/got.json" > "$T/jcheck" 2>&1 <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
d = j["domains"]
assert len(d) == 1, d
d = d[0]
assert d["domain"] == "a.test"
assert d["reports"] == 3
assert d["successful_sessions"] == 6573
assert d["failed_sessions"] == 306
assert d["failures"] == {"certificate-expired": 100,
    "starttls-not-supported": 201, "tlsa-invalid": 2,
    "validation-failure": 3}, d["failures"]
assert d["organizations"] == {"Company-X": 1, "Google Inc.": 1,
    "Microsoft Corporation": 1}
assert d["policy_types"] == {"sts": 6829, "tlsa": 42,
    "no-policy-found": 8}
assert d["mx_hosts"]["mx1.mail.a.test"] == 102
assert d["first"] == "2016-04-01 00:00:00Z"
assert d["last"] == "2016-04-02 23:59:59Z"
print("ok")
EOF
is "$(cat "$T/jcheck")" ok "summary --json: the same figures"
[ "$(cat "$T/jcheck")" = ok ] || show "$T/jcheck" "$T/got.json"

tctl tlsrpt summary --since 2016-04-02 a.test > "$T/out"
like "$T/out" "a.test: 2 reports, 2016-04-02 00:00:00Z" \
    "--since: the reports ending since then"
like "$T/out" "sessions: 1247 successful, 3 failed" "--since: their sessions"
out=$(tctl tlsrpt summary --days 30 a.test)
is "$out" "no reports for a.test" "--days 30: none of 2016's"
tctl tlsrpt summary c.test > /dev/null 2>&1
is "$?" 1 "summary of a domain not hosted: exit 1"
tctl tlsrpt summary --days 0 > /dev/null 2>&1
is "$?" 2 "--days 0: usage"
tctl tlsrpt bogus > /dev/null 2>&1
is "$?" 2 "unknown subcommand: usage"
tctl log tlsrpt > "$T/out"
like "$T/out" "tls reports ingested: 4 stored" \
    "ingest is in the audit log"

# --- POST /tlsrpt to wkdd ---------------------------------------------------

start_wkdd || finish
MPORT=$(echo "$PORTS" | sed -n 2p)
# Copies with report-ids of their own: new to the store.
for f in rfc8460 google microsoft b; do
	sed 's/"report-id": *"\([^"]*\)"/"report-id":"\1-https"/' \
	    "$R/$f.json" > "$T/$f.json"
	gzip -9nc "$T/$f.json" > "$T/$f.json.gz"
done
# post HOST TYPE FILE [CURL-ARGS...]: POST FILE to https://HOST/tlsrpt.
post() {
	_h=$1 _ty=$2 _f=$3
	shift 3
	fetch "$_h" /tlsrpt -X POST -H "Content-Type: $_ty" \
	    --data-binary "@$_f" "$@"
}
post mta-sts.a.test application/tlsrpt+gzip "$T/rfc8460.json.gz"
is "$STATUS" 200 "POST gzip to https://mta-sts.a.test/tlsrpt: 200"
is "$(ls "$SPOOL" | grep -c '\.json$')" 1 "spooled"
f=$(ls "$SPOOL" | grep '\.json$' | head -n 1)
cmp -s "$SPOOL/$f" "$T/rfc8460.json"
check "the spooled file is the report, inflated" [ $? -eq 0 ]
post a.test 'application/tlsrpt+json; charset=utf-8' "$T/google.json"
is "$STATUS" 200 "POST +json (a parameter after the type) to the domain"
post openpgpkey.b.test application/tlsrpt+gzip "$T/b.json.gz"
is "$STATUS" 200 "POST to openpgpkey.b.test: 200"

before=$(spool_state)
# refused STATUS NAME HOST TYPE FILE [CURL-ARGS...]
refused() {
	_st=$1 _n=$2
	shift 2
	post "$@"
	is "$STATUS" "$_st" \
	    "POST $_n: $_st ($(head -c 100 "$T/body" | tr -d '\n'))"
}
refused 404 "to a name not hosted (c.test)" mta-sts.c.test \
    application/tlsrpt+json "$T/google.json"
refused 404 "of a report for c.test" mta-sts.a.test \
    application/tlsrpt+json "$T/unhosted.json"
like "$T/body" "policy-domain c.test is not hosted" "the 404 says why"
refused 415 "as text/plain" mta-sts.a.test text/plain "$T/google.json"
refused 415 "as application/json" mta-sts.a.test application/json \
    "$T/google.json"
refused 415 "without a Content-Type" mta-sts.a.test "" "$T/google.json"
refused 400 "truncated JSON" mta-sts.a.test application/tlsrpt+json \
    "$T/trunc.json"
like "$T/body" "not JSON" "the 400 says why"
refused 400 "an unknown policy-type" mta-sts.a.test \
    application/tlsrpt+json "$T/badtype.json"
refused 400 "JSON sent as +gzip" mta-sts.a.test application/tlsrpt+gzip \
    "$T/google.json"
head -c 100 "$T/rfc8460.json.gz" > "$T/cut.gz"
refused 400 "cut gzip" mta-sts.a.test application/tlsrpt+gzip "$T/cut.gz"
refused 413 "a gzip bomb (64 MiB of zeros)" mta-sts.a.test \
    application/tlsrpt+gzip "$T/bomb.gz"
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
j["policies"][0]["policy"]["policy-string"] = ["x" * 1000] * 1200
print(json.dumps(j))' "$T/rfc8460.json" > "$T/big.json"
refused 413 "of 1.2 MB (Content-Length)" mta-sts.a.test \
    application/tlsrpt+json "$T/big.json"
refused 413 "of 1.2 MB, chunked" mta-sts.a.test application/tlsrpt+json \
    "$T/big.json" -H "Transfer-Encoding: chunked"
fetch mta-sts.a.test /tlsrpt
is "$STATUS" 405 "GET /tlsrpt: 405"
is "$(header Allow)" POST "405 with Allow: POST"
is "$(spool_state)" "$before" "refused POSTs changed nothing in the spool"

post mta-sts.a.test application/tlsrpt+gzip "$T/microsoft.json.gz"
is "$STATUS" 200 "a fourth report: 200"
post mta-sts.a.test application/tlsrpt+gzip "$T/microsoft.json.gz"
is "$STATUS" 507 "the spool full (tlsrpt-spool-max 4): 507"
is "$(ls "$SPOOL" | grep -c '\.json$')" 4 "four files in the spool"
check_wkdd "after the POSTs"

tctl tlsrpt ingest > "$T/out"
is "$(cat "$T/out")" "4 files: 4 reports stored, 0 duplicates, 0 rejected" \
    "ingest of what wkdd spooled"
tctl tlsrpt summary a.test > "$T/out"
like "$T/out" "^a.test: 6 reports" "a.test: 6 reports now"
like "$T/out" "sessions: 13146 successful, 612 failed" "their sessions"

curl -sS --max-time 20 -o "$T/scrape" "http://127.0.0.1:$MPORT/metrics"
is "$?" 0 "scrape /metrics"
# metric NAME: its value in the scrape.
metric() {
	awk -v m="$1" '$1 == m { print $2 }' "$T/scrape"
}
is "$(metric 'wkdd_tlsrpt_reports_total{result="accepted"}')" 4 \
    "metrics: 4 reports accepted"
is "$(metric 'wkdd_tlsrpt_reports_total{result="malformed"}')" 4 \
    "metrics: 4 malformed"
is "$(metric 'wkdd_tlsrpt_reports_total{result="too-large"}')" 3 \
    "metrics: 3 too large"
is "$(metric 'wkdd_tlsrpt_reports_total{result="unhosted"}')" 1 \
    "metrics: 1 for a domain not hosted (the Host's 404 is not a report's)"
is "$(metric 'wkdd_tlsrpt_reports_total{result="content-type"}')" 3 \
    "metrics: 3 of the wrong type"
is "$(metric 'wkdd_tlsrpt_reports_total{result="spool-full"}')" 1 \
    "metrics: 1 refused, the spool full"
is "$(metric 'wkdd_tlsrpt_failed_sessions_total{domain="a.test"}')" 612 \
    "metrics: a.test's failed sessions, from the store"
is "$(metric 'wkdd_tlsrpt_successful_sessions_total{domain="b.test"}')" \
    20 "metrics: b.test's successful sessions"
is "$(metric 'wkdd_requests_total{route="tlsrpt",status="200"}')" 4 \
    "metrics: route tlsrpt, status 200"
if command -v promtool >/dev/null; then
	promtool check metrics < "$T/scrape" > "$T/promtool.out" 2>&1
	check "promtool check metrics: clean" [ $? -eq 0 ] ||
	    show "$T/promtool.out"
fi

post mta-sts.a.test application/tlsrpt+gzip "$T/rfc8460.json.gz" \
    -X PUT
is "$STATUS" 405 "PUT /tlsrpt: 405"
fetch a.test /tlsrptx -X POST -H "Content-Type: application/tlsrpt+json" \
    --data-binary "@$T/google.json"
is "$STATUS" 405 "POST /tlsrptx: as any other path, 405"

# Without tlsrpt-spool: no reports taken, nothing written.
check "wkdd stops" stop_wkdd
write_conf "metrics-listen 127.0.0.1:0"
start_wkdd || finish
MPORT=$(echo "$PORTS" | sed -n 2p)
before=$(spool_state)
post mta-sts.a.test application/tlsrpt+gzip "$T/rfc8460.json.gz"
is "$STATUS" 404 "without tlsrpt-spool: POST /tlsrpt is 404"
is "$(spool_state)" "$before" "and nothing is written"
curl -sS --max-time 20 -o "$T/scrape" "http://127.0.0.1:$MPORT/metrics"
is "$(metric wkdd_tlsrpt_failed_sessions_total)" 620 \
    "metrics-domains off: the failed sessions of all domains, summed"
unlike "$T/scrape" 'domain=' "and no domain label"

# tlsrpt-rate: one bucket for all senders.
check "wkdd stops" stop_wkdd
write_conf "tlsrpt-spool $SPOOL" "tlsrpt-rate 2"
start_wkdd || finish
before=$(spool_state)
post mta-sts.a.test text/plain "$T/google.json"
is "$STATUS" 415 "tlsrpt-rate 2: a first POST (of the wrong type)"
post mta-sts.b.test text/plain "$T/google.json"
is "$STATUS" 415 "a second, under another name"
post mta-sts.a.test application/tlsrpt+json "$T/google.json"
is "$STATUS" 429 "a third: 429"
check "with Retry-After" [ -n "$(header Retry-After)" ]
is "$(spool_state)" "$before" "nothing written"

# --- the admin API: GET /v1/tlsrpt ----------------------------------------

tctl token add --read-only viewer > "$T/tok.all" 2>/dev/null
tctl token add --read-only --domain b.test bonly > "$T/tok.b" 2>/dev/null
ASOCK=$T/api.sock
# Not through tctl: $! must be wkdctl's own pid, not a subshell's.
"$WKDCTL" -s "$STORE" -f "$CONF" serve --socket "$ASOCK" > "$T/serve.log" 2>&1 &
SERVE_PID=$!
_i=0
while [ ! -S "$ASOCK" ] && [ $_i -lt 100 ] && kill -0 $SERVE_PID 2>/dev/null
do
	sleep 0.1	# Polling for the socket, not timing the server.
	_i=$((_i + 1))
done
check "wkdctl serve: its socket" [ -S "$ASOCK" ]
# api TOKENFILE QUERY: GET /v1/tlsrpt?QUERY; STATUS, body in $T/api.json.
api() {
	STATUS=$(curl -sS --max-time 20 --unix-socket "$ASOCK" \
	    -H "Authorization: Bearer $(cat "$1")" -o "$T/api.json" \
	    -w '%{http_code}' "http://localhost/v1/tlsrpt?$2" \
	    2>"$T/curl.err") || STATUS=000
}
# jdomains: "domain reports failed" of each item of the last answer.
jdomains() {
	python3 -c 'import json, sys
for d in json.load(open(sys.argv[1]))["domains"]:
    print(d["domain"], d["reports"], d["failed_sessions"])' "$T/api.json"
}
api "$T/tok.all" ""
is "$STATUS" 200 "GET /v1/tlsrpt: 200"
is "$(jdomains | tr '\n' ';')" "a.test 6 612;b.test 2 8;" \
    "GET /v1/tlsrpt: both domains, as summary --json"
api "$T/tok.all" "domain=A.Test&since=2016-04-02"
is "$(jdomains)" "a.test 4 6" "?domain=A.Test&since=2016-04-02"
api "$T/tok.b" ""
is "$(jdomains | tr '\n' ';')" "b.test 2 8;" "a token for b.test: b.test's only"
api "$T/tok.b" "domain=a.test"
is "$STATUS" 404 "a token for b.test asking for a.test: 404"
api "$T/tok.all" "days=0"
is "$STATUS" 400 "?days=0: 400"
api "$T/tok.all" "days=1&since=2016-01-01"
is "$STATUS" 400 "?days and ?since: 400"
kill -TERM $SERVE_PID 2>/dev/null
wait $SERVE_PID 2>/dev/null
SERVE_PID=

# --- backup, domain removal ------------------------------------------------

tctl backup "$T/backup.mdb" > /dev/null
is "$?" 0 "backup"
tctl domain remove b.test > /dev/null 2>&1
is "$?" 0 "domain remove b.test"
tctl tlsrpt summary > "$T/out"
unlike "$T/out" "b.test" "b.test's reports went with the domain"
tctl restore "$T/backup.mdb" > /dev/null 2>&1
is "$?" 0 "restore"
tctl tlsrpt summary > "$T/out"
like "$T/out" "b.test: 2 reports" \
    "the backup carried b.test's reports"

# --- prune -----------------------------------------------------------------

tctl tlsrpt prune --before 2016-04-02 > "$T/out"
is "$(cat "$T/out")" "2 reports ending before 2016-04-02 00:00:00Z pruned" \
    "prune --before: RFC 8460's example, both copies"
tctl tlsrpt summary a.test > "$T/out"
like "$T/out" "^a.test: 4 reports, 2016-04-02 00:00:00Z to " \
    "the rest stays"
like "$T/out" "sessions: 2494 successful, 6 failed" "their sessions"
tctl tlsrpt prune --before 2016-04-02 --days 3 > /dev/null 2>&1
is "$?" 2 "prune --before and --days: usage"
tctl tlsrpt prune --days 1 > "$T/out"
like "$T/out" "^6 reports ending before " "prune --days 1: all of 2016's"
tctl tlsrpt summary > "$T/out"
is "$(cat "$T/out")" "no reports" "nothing left"

# --- ingest in batches: 300 reports, two transactions ------------------------

python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
for i in range(300):
    j["report-id"] = "batch-%03d" % i
    open("%s/batch-%03d.json" % (sys.argv[2], i), "w").write(json.dumps(j))
' "$R/google.json" "$SPOOL"
# (wkdd.conf has no tlsrpt-spool now: --spool.)
tctl tlsrpt ingest --spool "$SPOOL" > "$T/out" 2> "$T/err"
show "$T/err"
is "$(cat "$T/out")" "300 files: 300 reports stored, 0 duplicates, 0 rejected" \
    "ingest of 300 files"
tctl log tlsrpt > "$T/out"
is "$(grep -c 'tls reports ingested: 256 stored' "$T/out")" 1 \
    "the first transaction took 256"
is "$(grep -c 'tls reports ingested: 44 stored' "$T/out")" 1 \
    "the second the other 44"
tctl tlsrpt summary a.test > "$T/out"
like "$T/out" "^a.test: 300 reports" "all 300 stored"

finish
