/*
 * check.c: "wkdctl domain check DOMAIN", the onboarding check of
 * WKD-as-a-service.  It looks at what a mail client will meet, through
 * the resolvers of /etc/resolv.conf and over HTTPS, and prints one line per
 * check: "ok: ...", "warn: ..." or "FAIL: ... — fix: ...".  Exit status 0
 * only if nothing failed: warnings (no TLSA record, a certificate expiring
 * within 14 days) leave it 0.
 *
 * Each result is also kept (check->results) for the JSON document that
 * --json prints and that is stored as the domain's last check (ks_check_put:
 * the admin API's last_check, wkdd's status page).  Schema, version 1:
 *
 *   { "version": 1, "domain": A-label, "host": "openpgpkey.DOMAIN",
 *     "checked": "YYYY-MM-DDTHH:MM:SSZ", "failed": n, "warnings": n,
 *     "results": [ { "area": "store" | "dns" | "caa" | "https" | "tlsa" |
 *                    "mta-sts",
 *                    "status": "ok" | "warn" | "fail",
 *                    "detail": text, "fix": text (fail only) }, ... ] }
 *
 * No result names a local part: the key fetched is named by its size only.
 */

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>

#include "keystore.h"
#include "conf.h"
#include "wkdctl.h"

#define CHECK_USAGE	"domain check [--target name | --address ip ...] " \
			"[--caa ca]\n           [--tlsrpt uri] [--cert file] " \
			"[--tls-dir dir] [--cafile file]\n" \
			"           [--port port] [--json] [--no-store] " \
			"domain\n" \
			"domain check --last [--json] domain"

/* snprintf(3) that may truncate: for messages and names known to fit. */
void
check_fmt(char *buf, size_t bufsz, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, bufsz, fmt, ap);
	va_end(ap);
}

/* A result as a line: "ok: ...", "warn: ..." or "FAIL: ... — fix: FIX". */
static void
check_print(const char *status, const char *detail, const char *fix)
{
	printf("%s: %s", strcmp(status, "fail") == 0 ? "FAIL" : status,
	    detail);
	if (fix != NULL)
		printf(" — fix: %s", fix);
	printf("\n");
}

/*
 * One result: kept for the record and, unless --json, printed as a line:
 * "ok: ...", "warn: ..." or "FAIL: ... — fix: FIX".
 */
static void __attribute__((format(printf, 4, 0)))
check_line(struct check *c, const char *status, const char *fix,
    const char *fmt, va_list ap)
{
	char	 detail[2048];
	json_t	*r;

	(void)vsnprintf(detail, sizeof(detail), fmt, ap);
	if (c->results != NULL && (r = json_pack("{s:s, s:s, s:s}", "area",
	    c->area != NULL ? c->area : "store", "status", status, "detail",
	    detail)) != NULL) {
		if (fix != NULL)
			(void)json_object_set_new(r, "fix", json_string(fix));
		(void)json_array_append_new(c->results, r);
	}
	if (!c->dc->json)
		check_print(status, detail, fix);
}

void
check_ok(struct check *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	check_line(c, "ok", NULL, fmt, ap);
	va_end(ap);
}

void
check_warn(struct check *c, const char *fmt, ...)
{
	va_list	 ap;

	c->warns++;
	va_start(ap, fmt);
	check_line(c, "warn", NULL, fmt, ap);
	va_end(ap);
}

void
check_fail(struct check *c, const char *fix, const char *fmt, ...)
{
	va_list	 ap;

	c->fails++;
	va_start(ap, fmt);
	check_line(c, "fail", fix, fmt, ap);
	va_end(ap);
}

static const char *
check_status(int status)
{
	switch (status) {
	case DNS_OK:
		return ("found");
	case DNS_NODATA:
		return ("no such record");
	case DNS_NXDOMAIN:
		return ("no such name");
	default:
		return ("no answer (timeout, SERVFAIL or REFUSED)");
	}
}

/* The record the customer should publish for name, as one line in buf. */
static void
check_want(const struct check *c, const char *name, char *buf, size_t bufsz)
{
	size_t	 i, off;
	int	 n;

	if (c->dc->target[0] != '\0') {
		check_fmt(buf, bufsz, "publish \"%s. CNAME %s.\"", name,
		    c->dc->target);
		return;
	}
	if (c->dc->naddrs == 0) {
		check_fmt(buf, bufsz, "publish \"%s. CNAME <this "
		    "service's name>.\" (see wkdctl dns)", name);
		return;
	}
	n = snprintf(buf, bufsz, "publish");
	off = n > 0 ? (size_t)n : 0;
	for (i = 0; i < c->dc->naddrs && off < bufsz; i++) {
		n = snprintf(buf + off, bufsz - off, "%s \"%s. %s %s\"",
		    i > 0 ? " and" : "", name,
		    strchr(c->dc->addrs[i], ':') != NULL ? "AAAA" : "A",
		    c->dc->addrs[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* Addresses (A and AAAA, CNAMEs followed) of name into v; -1 on DNS error. */
static int
check_resolve(const char *name, char v[][INET6_ADDRSTRLEN], size_t max,
    size_t *np, int *status, char *cname, size_t cnamesz)
{
	static const unsigned	 types[] = { DNS_T_A, DNS_T_AAAA };
	struct dns_ans		 a;
	size_t			 i, t;
	int			 st = DNS_NXDOMAIN;

	*np = 0;
	if (cname != NULL && cnamesz > 0)
		cname[0] = '\0';
	for (t = 0; t < 2; t++) {
		(void)dns_query(name, types[t], &a);
		if (a.status == DNS_FAIL) {
			dns_ans_free(&a);
			*status = DNS_FAIL;
			return (-1);
		}
		if (a.status == DNS_OK || (a.status == DNS_NODATA &&
		    st == DNS_NXDOMAIN))
			st = a.status;
		if (cname != NULL && a.cname[0] != '\0')
			check_fmt(cname, cnamesz, "%s", a.cname);
		for (i = 0; i < a.nrr && *np < max; i++)
			check_fmt(v[(*np)++], INET6_ADDRSTRLEN, "%s",
			    a.rr[i].text);
		dns_ans_free(&a);
	}
	*status = st;
	return (0);
}

/* True if the two address lists hold the same set. */
static int
check_same(char a[][INET6_ADDRSTRLEN], size_t na,
    char b[][INET6_ADDRSTRLEN], size_t nb)
{
	size_t	 i, j;

	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++)
			if (strcmp(a[i], b[j]) == 0)
				break;
		if (j == nb)
			return (0);
	}
	for (j = 0; j < nb; j++) {
		for (i = 0; i < na; i++)
			if (strcmp(a[i], b[j]) == 0)
				break;
		if (i == na)
			return (0);
	}
	return (1);
}

static void
check_list(char v[][INET6_ADDRSTRLEN], size_t n, char *buf, size_t bufsz)
{
	size_t	 i, off = 0;
	int	 k;

	buf[0] = '\0';
	for (i = 0; i < n && off < bufsz; i++) {
		k = snprintf(buf + off, bufsz - off, "%s%s", i ? " " : "",
		    v[i]);
		if (k < 0)
			break;
		off += (size_t)k;
	}
}

static void
check_hosted(struct check *c, const char *store, size_t mapsize)
{
	char	 fix[KS_DOMAIN_MAX + 32];
	int	 rc;

	if (store == NULL)
		return;
	if ((rc = ks_open(&c->ks, store, KS_RDONLY, mapsize)) != KS_OK) {
		check_fail(c, "check the store directory (-s or \"store\")",
		    "cannot open the store %s: %s", store, ks_strerror(rc));
		c->ks = NULL;
		return;
	}
	if ((rc = ks_has_domain(c->ks, c->dom)) == KS_OK) {
		c->hosted = 1;
		check_ok(c, "%s is hosted here", c->dom);
	}
	else if (rc == KS_NOTFOUND) {
		check_fmt(fix, sizeof(fix), "wkdctl domain add %s", c->dom);
		check_fail(c, fix, "%s is not hosted here", c->dom);
	}
	else
		check_fail(c, "check the store", "%s: %s", c->dom,
		    ks_strerror(rc));
}

/*
 * A wildcard in DOMAIN answers for any name: ask for a random one and for
 * "*" itself.  Returns 1 (addresses in v), 0 (none), -1 (DNS error).
 */
static int
check_wildcard(struct check *c, char v[][INET6_ADDRSTRLEN], size_t *np,
    char *cname, size_t cnamesz)
{
	unsigned char	 rnd[8];
	char		 hex[2 * sizeof(rnd) + 1], name[DNS_NAME_MAX];
	int		 st;

	if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0)
		return (-1);
	x509_hex(rnd, sizeof(rnd), hex);
	check_fmt(name, sizeof(name), "_wkdd-%s.%s", hex, c->dom);
	if (check_resolve(name, v, CHECK_ADDRS_MAX, np, &st, cname,
	    cnamesz) == -1)
		return (-1);
	if (*np > 0 || cname[0] != '\0')
		return (1);
	check_fmt(name, sizeof(name), "*.%s", c->dom);
	if (check_resolve(name, v, CHECK_ADDRS_MAX, np, &st, cname,
	    cnamesz) == -1)
		return (-1);
	return (*np > 0 || cname[0] != '\0');
}

/* openpgpkey.DOMAIN: exists, points at the service, no wildcard. */
static void
check_host(struct check *c)
{
	char		 wv[CHECK_ADDRS_MAX][INET6_ADDRSTRLEN];
	char		 tv[CHECK_ADDRS_MAX][INET6_ADDRSTRLEN];
	char		 wcname[DNS_NAME_MAX], cname[DNS_NAME_MAX];
	char		 want[1024], list[512];
	struct dns_ans	 a;
	size_t		 nw = 0, nt = 0, i, j;
	int		 st, wild, ours = 0, tst;

	check_want(c, c->host, want, sizeof(want));
	wild = check_wildcard(c, wv, &nw, wcname, sizeof(wcname));
	if (check_resolve(c->host, c->addrs, CHECK_ADDRS_MAX, &c->naddrs,
	    &st, cname, sizeof(cname)) == -1) {
		check_fail(c, "check that the zone's name servers answer",
		    "%s: %s", c->host, check_status(DNS_FAIL));
		return;
	}
	/* Its own CNAME, not one of a wildcard. */
	(void)dns_query(c->host, DNS_T_CNAME, &a);
	if (a.status == DNS_OK && a.nrr > 0)
		check_fmt(cname, sizeof(cname), "%s", a.rr[0].text);
	dns_ans_free(&a);

	if (st == DNS_NXDOMAIN && cname[0] == '\0') {
		check_fail(c, want, "%s does not exist: mail clients fall "
		    "back to the direct method", c->host);
		return;
	}
	if (c->naddrs == 0) {
		if (cname[0] != '\0')
			check_fail(c, want, "%s is a CNAME to %s, which has "
			    "no address", c->host, cname);
		else
			check_fail(c, want, "%s has no address (A or AAAA)",
			    c->host);
		return;
	}
	check_list(c->addrs, c->naddrs, list, sizeof(list));

	/* Does it reach the service? */
	if (c->dc->target[0] != '\0') {
		if (cname[0] != '\0' && dns_name_eq(cname, c->dc->target))
			ours = 1;
		else if (check_resolve(c->dc->target, tv, CHECK_ADDRS_MAX,
		    &nt, &tst, NULL, 0) == 0 && nt > 0 &&
		    check_same(c->addrs, c->naddrs, tv, nt))
			ours = 2;
	} else if (c->dc->naddrs > 0) {
		ours = 1;
		for (i = 0; i < c->naddrs; i++) {
			for (j = 0; j < c->dc->naddrs; j++)
				if (strcmp(c->addrs[i], c->dc->addrs[j]) == 0)
					break;
			if (j == c->dc->naddrs)
				ours = 0;
		}
	} else
		ours = 1;	/* Nothing to compare with. */

	if (wild == 1 && (check_same(c->addrs, c->naddrs, wv, nw) &&
	    dns_name_eq(cname, wcname))) {
		if (ours)
			check_warn(c, "%s answers as the wildcard *.%s does "
			    "(at this service too): if it has no record of "
			    "its own, give it one", c->host, c->dom);
		else {
			check_fail(c, want, "the wildcard *.%s captures %s "
			    "(%s%s%s): clients find no WKD there and do not "
			    "fall back", c->dom, c->host,
			    wcname[0] != '\0' ? wcname : "",
			    wcname[0] != '\0' ? " " : "", list);
			return;
		}
	} else if (wild == 1)
		check_ok(c, "%s has records of its own (%s has a wildcard)",
		    c->host, c->dom);
	else if (wild == 0)
		check_ok(c, "no wildcard record in %s", c->dom);
	else
		check_warn(c, "could not ask for a wildcard in %s", c->dom);

	c->host_ok = ours != 0;
	if (ours == 0)
		check_fail(c, want, "%s points at %s%s%s, not at this "
		    "service", c->host, cname[0] != '\0' ? cname : "",
		    cname[0] != '\0' ? " " : "", list);
	else if (ours == 2)
		check_ok(c, "%s has the addresses of %s (%s); a CNAME to "
		    "it would follow their changes", c->host, c->dc->target,
		    list);
	else if (cname[0] != '\0')
		check_ok(c, "%s is a CNAME to %s (%s)", c->host, cname, list);
	else
		check_ok(c, "%s has addresses %s", c->host, list);
}

/*
 * CAA (RFC 8659): the first non-empty CAA set, from openpgpkey.DOMAIN
 * (CNAMEs followed) up towards the root, must let the CA issue.
 */
static void
check_caa(struct check *c)
{
	struct dns_ans	 a;
	const char	*name = c->host;
	char		 tag[256], val[256], fix[1024], at[DNS_NAME_MAX];
	const unsigned char *p;
	size_t		 i, tl, vl, nissue = 0;
	int		 allowed = 0, critical = 0;

	for (;;) {
		(void)dns_query(name, DNS_T_CAA, &a);
		/* Above the domain, a parent that won't answer ends it. */
		if (a.status == DNS_FAIL && strlen(name) < strlen(c->dom)) {
			dns_ans_free(&a);
			check_ok(c, "no CAA records up to %s: any CA may "
			    "issue for %s", c->dom, c->host);
			return;
		}
		if (a.status == DNS_FAIL) {
			check_fail(c, "check that the zone's name servers "
			    "answer CAA queries", "CAA of %s: %s", name,
			    check_status(a.status));
			dns_ans_free(&a);
			return;
		}
		if (a.status == DNS_OK)
			break;
		dns_ans_free(&a);
		if ((name = strchr(name, '.')) == NULL || *++name == '\0') {
			check_ok(c, "no CAA records: any CA may issue for %s",
			    c->host);
			return;
		}
	}
	check_fmt(at, sizeof(at), "%s", name);
	for (i = 0; i < a.nrr; i++) {
		p = a.rr[i].rdata;
		if (a.rr[i].rdlen < 2 || (tl = p[1]) + 2 > a.rr[i].rdlen)
			continue;
		vl = a.rr[i].rdlen - 2 - tl;
		check_fmt(tag, sizeof(tag), "%.*s", (int)tl, p + 2);
		check_fmt(val, sizeof(val), "%.*s", (int)vl, p + 2 + tl);
		if (strcasecmp(tag, "issue") == 0) {
			nissue++;
			/* "ca.example; key=value": the domain comes first. */
			val[strcspn(val, "; \t")] = '\0';
			if (c->dc->caa[0] != '\0' &&
			    dns_name_eq(val, c->dc->caa))
				allowed = 1;
		} else if ((p[0] & 0x80) && strcasecmp(tag, "issuewild") &&
		    strcasecmp(tag, "iodef"))
			critical = 1;
	}
	dns_ans_free(&a);
	if (critical) {
		check_fail(c, "remove the critical CAA record or use a CA that "
		    "knows its tag", "a critical CAA record at %s has a tag "
		    "CAs don't know: no CA may issue", at);
		return;
	}
	if (nissue == 0) {
		check_ok(c, "CAA records at %s don't restrict issuers", at);
		return;
	}
	if (c->dc->caa[0] == '\0') {
		check_warn(c, "CAA records at %s restrict who may issue "
		    "certificates for %s: make sure this service's CA is one "
		    "(--caa)", at, c->host);
		return;
	}
	if (allowed)
		check_ok(c, "CAA at %s lets %s issue for %s", at, c->dc->caa,
		    c->host);
	else {
		check_fmt(fix, sizeof(fix), "add \"%s. CAA 0 issue "
		    "\\\"%s\\\"\"", at, c->dc->caa);
		check_fail(c, fix, "CAA records at %s do not let %s issue "
		    "certificates for %s", at, c->dc->caa, c->host);
	}
}

/* The TLSA hash of the configured certificate, if no server's is known. */
static void
check_cert_tlsa(struct check *c)
{
	gnutls_x509_crt_t	 crt;
	char			 path[PATH_MAX];

	if (c->have_tlsa || x509_cert_path(c->dc, c->host, path,
	    sizeof(path)) == -1)
		return;
	if (x509_load(path, &crt) == -1)
		return;
	if (x509_tlsa(crt, c->tlsa) == 0) {
		c->have_tlsa = 1;
		c->tlsa_from = "the configured certificate";
	}
	gnutls_x509_crt_deinit(crt);
}

/* DANE: _443._tcp.openpgpkey.DOMAIN TLSA must match the certificate. */
static void
check_tlsa(struct check *c)
{
	struct dns_ans	 a;
	char		 name[DNS_NAME_MAX], hex[2 * DNS_TLSA_LEN + 1];
	char		 fix[DNS_NAME_MAX + 128];
	const unsigned char *p;
	size_t		 i, n311 = 0;
	int		 match = 0;

	check_fmt(name, sizeof(name), "_%u._tcp.%s", c->dc->port,
	    c->host);
	check_cert_tlsa(c);
	if (c->have_tlsa) {
		x509_hex(c->tlsa, DNS_TLSA_LEN, hex);
		check_fmt(fix, sizeof(fix), "publish \"%s. TLSA 3 1 1 "
		    "%s\"", name, hex);
	} else
		check_fmt(fix, sizeof(fix), "publish the TLSA record "
		    "of wkdctl dns");
	(void)dns_query(name, DNS_T_TLSA, &a);
	if (a.status != DNS_OK) {
		if (a.status == DNS_FAIL)
			check_fail(c, "check that the zone's name servers "
			    "answer TLSA queries", "TLSA of %s: %s", name,
			    check_status(a.status));
		else
			check_warn(c, "no TLSA record (DANE) for %s: %s",
			    c->host, fix);
		dns_ans_free(&a);
		return;
	}
	for (i = 0; i < a.nrr; i++) {
		p = a.rr[i].rdata;
		if (a.rr[i].rdlen != 3 + DNS_TLSA_LEN || p[0] != 3 ||
		    p[1] != 1 || p[2] != 1)
			continue;
		n311++;
		if (c->have_tlsa && memcmp(p + 3, c->tlsa, DNS_TLSA_LEN) == 0)
			match = 1;
	}
	dns_ans_free(&a);
	if (n311 == 0)
		check_warn(c, "TLSA records for %s are not \"3 1 1\": not "
		    "checked", c->host);
	else if (!c->have_tlsa)
		check_warn(c, "TLSA records for %s: no certificate to compare "
		    "them with", c->host);
	else if (match)
		check_ok(c, "TLSA 3 1 1 of %s matches %s", c->host,
		    c->tlsa_from);
	else
		check_fail(c, fix, "TLSA records of %s do not match %s: "
		    "DANE clients will refuse it", c->host, c->tlsa_from);
}

/* TXT record's strings, joined, of the first record starting with pfx. */
static int
check_txt(const char *name, const char *pfx, char *out, size_t outsz,
    int *status)
{
	struct dns_ans	 a;
	size_t		 i;
	int		 found = -1;

	(void)dns_query(name, DNS_T_TXT, &a);
	*status = a.status;
	for (i = 0; i < a.nrr && found == -1; i++) {
		/* A record cut short still shows what it starts with. */
		(void)dns_txt(&a.rr[i], out, outsz);
		if (strncmp(out, pfx, strlen(pfx)) == 0)
			found = 0;
	}
	dns_ans_free(&a);
	if (found == -1 && outsz > 0)
		out[0] = '\0';
	return (found);
}

/* MTA-STS and TLSRPT records, if the store has a policy for DOMAIN. */
static void
check_mtasts(struct check *c)
{
	struct ks_blob	 b;
	char		 id[33], name[DNS_NAME_MAX], txt[1024], want[1200];
	char		 v[CHECK_ADDRS_MAX][INET6_ADDRSTRLEN];
	char		*p;
	size_t		 n;
	int		 rc, st;

	if (c->ks == NULL)
		return;
	memset(&b, 0, sizeof(b));
	rc = ks_serve_mtasts(c->ks, c->dom, &b);
	if (rc == KS_OK && zone_mtasts_id(b.etag, id, sizeof(id)) == -1)
		rc = KS_CORRUPT;
	ks_blob_free(&b);
	if (rc == KS_NOTFOUND)
		return;
	if (rc != KS_OK) {
		check_fail(c, "check the store", "MTA-STS policy of %s: %s",
		    c->dom, ks_strerror(rc));
		return;
	}
	check_fmt(name, sizeof(name), "mta-sts.%s", c->dom);
	check_want(c, name, want, sizeof(want));
	if (check_resolve(name, v, CHECK_ADDRS_MAX, &n, &st, NULL, 0) == -1 ||
	    n == 0)
		check_fail(c, want, "%s: %s: MTA-STS senders can't fetch the "
		    "policy", name, check_status(st));
	else
		check_ok(c, "%s resolves", name);

	check_fmt(name, sizeof(name), "_mta-sts.%s", c->dom);
	check_fmt(want, sizeof(want), "publish \"%s. TXT \\\"v=STSv1; "
	    "id=%s\\\"\"", name, id);
	if (check_txt(name, "v=STSv1", txt, sizeof(txt), &st) == -1)
		check_fail(c, want, "%s: no v=STSv1 TXT record (%s)", name,
		    check_status(st));
	else if ((p = strstr(txt, "id=")) == NULL ||
	    strncmp(p + 3, id, strlen(id)) != 0 ||
	    isalnum((unsigned char)p[3 + strlen(id)]))
		check_fail(c, want, "%s: \"%s\" does not name the current "
		    "policy (id=%s): senders keep the old one", name, txt, id);
	else
		check_ok(c, "%s names the current policy (id=%s)", name, id);

	check_fmt(name, sizeof(name), "_smtp._tls.%s", c->dom);
	if (check_txt(name, "v=TLSRPTv1", txt, sizeof(txt), &st) == -1) {
		if (c->dc->tlsrpt != NULL) {
			check_fmt(want, sizeof(want), "publish \"%s. TXT "
			    "\\\"v=TLSRPTv1; rua=%s\\\"\"", name,
			    c->dc->tlsrpt);
			check_fail(c, want, "%s: no v=TLSRPTv1 TXT record",
			    name);
		} else
			check_warn(c, "%s: no TLS reporting (TLSRPT) record",
			    name);
	} else if (c->dc->tlsrpt != NULL && strstr(txt, c->dc->tlsrpt) == NULL)
		check_warn(c, "%s: \"%s\" does not report to %s", name, txt,
		    c->dc->tlsrpt);
	else
		check_ok(c, "%s: %s", name, txt);
}

/* The check's document (schema at the top), or NULL without memory. */
static json_t *
check_doc(struct check *c)
{
	char		 when[32];
	struct tm	 tm;
	time_t		 now = time(NULL);

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return (NULL);
	return (json_pack("{s:i, s:s, s:s, s:s, s:i, s:i, s:O}", "version", 1,
	    "domain", c->dom, "host", c->host, "checked", when, "failed",
	    c->fails, "warnings", c->warns, "results", c->results));
}

/*
 * Keep doc as dom's last check, in a write transaction of its own after
 * the network work (the check took seconds; no writer waited on it).
 * 0, or -1 after warning.
 */
static int
check_store(struct ctl *ctl, const char *dom, const char *doc,
    int fails, int warns)
{
	struct ks_txn	*txn;
	int		 rc;

	if (store_begin(ctl, 0, &txn) == -1)
		return (-1);
	if ((rc = ks_check_put(txn, dom, doc, strlen(doc))) != KS_OK) {
		warnx("%s: keeping the check's result: %s", dom,
		    store_strerror(rc));
		return (-store_abort(txn));
	}
	if (audit_log(txn, dom, "domain checked: %d failed, %d warning%s",
	    fails, warns, warns == 1 ? "" : "s") != KS_OK)
		return (-store_abort(txn));
	return (store_commit(ctl, txn));
}

/* The string at key of o, or dflt. */
static const char *
check_str(const json_t *o, const char *key, const char *dflt)
{
	const char	*v = json_string_value(json_object_get(o, key));

	return (v != NULL ? v : dflt);
}

/* --last: the stored result, as JSON or as the lines it was printed as. */
static int
check_last(struct ctl *ctl, const char *dom, int asjson)
{
	struct ks_txn	*txn;
	struct ks_blob	 b;
	json_t		*doc, *r;
	json_int_t	 warns;
	size_t		 i;
	int		 rc;

	if (store_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	rc = ks_check_get(txn, dom, &b);
	ks_txn_abort(txn);
	if (rc != KS_OK) {
		if (rc == KS_NOTFOUND)
			warnx("%s: never checked (wkdctl domain check %s)",
			    dom, dom);
		else
			warnx("%s: %s", dom, store_strerror(rc));
		return (1);
	}
	doc = json_loadb((const char *)b.data, b.len, 0, NULL);
	ks_blob_free(&b);
	if (doc == NULL || !json_is_array(json_object_get(doc, "results"))) {
		json_decref(doc);
		warnx("%s: the stored check is not a check's result", dom);
		return (1);
	}
	rc = 0;
	if (asjson) {
		rc = json_dumpf(doc, stdout, JSON_INDENT(2)) == 0 ? 0 : 1;
		printf("\n");
	} else {
		printf("checked %s\n", check_str(doc, "checked", "?"));
		json_array_foreach(json_object_get(doc, "results"), i, r)
			check_print(check_str(r, "status", "?"),
			    check_str(r, "detail", ""),
			    check_str(r, "fix", NULL));
		warns = json_integer_value(json_object_get(doc, "warnings"));
		printf("%s: %lld failed, %lld warning%s\n", dom,
		    (long long)json_integer_value(json_object_get(doc,
		    "failed")), (long long)warns, warns == 1 ? "" : "s");
	}
	json_decref(doc);
	if (fflush(stdout) == EOF) {
		warn("stdout");
		return (1);
	}
	return (rc);
}

int
check_cmd(struct ctl *ctl, int argc, char **argv)
{
	struct zone_conf	 dc;
	struct check	 c;
	json_t		*doc;
	char		*text = NULL;
	int		 i, rc;

	if ((i = zone_getopt(argc, argv, &dc, 1, CHECK_USAGE)) == -1)
		return (2);
	if (argc - i != 1) {
		fprintf(stderr, "usage: wkdctl %s\n", CHECK_USAGE);
		return (2);
	}
	if (dc.target[0] != '\0' && dc.naddrs > 0) {
		warnx("--target and --address exclude each other");
		return (2);
	}
	memset(&c, 0, sizeof(c));
	c.dc = &dc;
	if (cli_domain(argv[i], c.dom) == -1)
		return (1);
	if (dc.last)
		return (check_last(ctl, c.dom, dc.json));
	if (zone_conf_apply(&dc, ctl->conf) == -1)
		return (1);
	check_fmt(c.host, sizeof(c.host), "openpgpkey.%s", c.dom);
	if ((c.results = json_array()) == NULL) {
		warnx("out of memory");
		return (1);
	}

	c.area = "store";
	check_hosted(&c, ctl->store, ctl->mapsize);
	c.area = "dns";
	check_host(&c);
	c.area = "caa";
	check_caa(&c);
	c.area = "https";
	check_https(&c);
	c.area = "tlsa";
	check_tlsa(&c);
	c.area = "mta-sts";
	check_mtasts(&c);

	if (c.ks != NULL)
		ks_close(c.ks);
	c.ks = NULL;
	rc = c.fails > 0 ? 1 : 0;
	if ((doc = check_doc(&c)) == NULL ||
	    (text = json_dumps(doc, JSON_COMPACT)) == NULL) {
		warnx("out of memory");
		rc = 1;
	} else if (c.hosted && !dc.nostore && check_store(ctl, c.dom, text,
	    c.fails, c.warns) == -1)
		rc = 1;
	if (dc.json && doc != NULL) {
		if (json_dumpf(doc, stdout, JSON_INDENT(2)) != 0)
			rc = 1;
		printf("\n");
	} else if (!dc.json)
		printf("%s: %d failed, %d warning%s\n", c.dom, c.fails,
		    c.warns, c.warns == 1 ? "" : "s");
	free(text);
	json_decref(doc);
	json_decref(c.results);
	if (fflush(stdout) == EOF) {
		warn("stdout");
		return (1);
	}
	return (rc);
}

int
cmd_domain_check(struct ctl *ctl, int argc, char **argv)
{
	return (check_cmd(ctl, argc, argv));
}
