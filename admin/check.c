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
 * the admin API's last_check, wkdd's status page).  Schema, version 2
 * (--last still reads version 1: no resolver, dnssec, methods, clients):
 *
 *   { "version": 2, "domain": A-label, "host": "openpgpkey.DOMAIN",
 *     "checked": "YYYY-MM-DDTHH:MM:SSZ",
 *     "resolver": "ADDR ..." (the forwarders asked),
 *     "dnssec": "secure" | "insecure" | "bogus" | "unknown" (the zone's),
 *     "failed": n, "warnings": n,
 *     "results": [ { "area": "store" | "dnssec" | "dns" | "caa" |
 *                    "https" | "tlsa" | "mta-sts",
 *                    "status": "ok" | "warn" | "fail",
 *                    "detail": text, "fix": text (fail only),
 *                    "dnssec": as above (DNS answers only) }, ... ],
 *     "methods": { "advanced": M, "direct": M } ({} without a resolver),
 *     "clients": [ { "client": "GnuPG" | "Sequoia" | "Thunderbird" |
 *                    "OpenPGP.js/Mailvelope" | "OpenKeychain",
 *                    "method": "advanced" | "direct" | "none",
 *                    "status": "ok" | "warn" | "fail",
 *                    "detail": text, "fix": text (warn, fail) }, ... ] }
 *   M: { "host": name, "resolves": bool, "tls", "policy", "cors", "key":
 *        bool or null (not tried), "status": "ok" | "warn" | "fail",
 *        "detail": text, "fix": text (fail only) }
 *
 * The look-ups validate DNSSEC (libunbound, dns_init()); without any
 * answering resolver the check says so and stops, and nothing is stored.
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
#include <pthread.h>
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
			"           [--port port] [--resolver addr] " \
			"[--trust-anchor file]\n" \
			"           [--json] [--no-store] domain | --all\n" \
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
	if (c->m != NULL && strcmp(status, "ok") != 0 &&
	    c->m->detail[0] == '\0') {
		check_fmt(c->m->detail, sizeof(c->m->detail), "%s", detail);
		check_fmt(c->m->fix, sizeof(c->m->fix), "%s",
		    fix != NULL ? fix : "");
	}
	if (c->silent)
		return;
	if (c->results != NULL && (r = json_pack("{s:s, s:s, s:s}", "area",
	    c->area != NULL ? c->area : "store", "status", status, "detail",
	    detail)) != NULL) {
		if (fix != NULL)
			(void)json_object_set_new(r, "fix", json_string(fix));
		if (c->sec >= 0)
			(void)json_object_set_new(r, "dnssec",
			    json_string(dns_sec_name(c->sec)));
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

	if (!c->silent)
		c->warns++;
	va_start(ap, fmt);
	check_line(c, "warn", NULL, fmt, ap);
	va_end(ap);
}

void
check_fail(struct check *c, const char *fix, const char *fmt, ...)
{
	va_list	 ap;

	if (!c->silent)
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
    size_t *np, int *status, char *cname, size_t cnamesz, int *sec)
{
	static const unsigned	 types[] = { DNS_T_A, DNS_T_AAAA };
	struct dns_ans		 a;
	size_t			 i, t;
	int			 st = DNS_NXDOMAIN, dummy;

	if (sec == NULL)
		sec = &dummy;
	*sec = DNS_SEC_SECURE;
	*np = 0;
	if (cname != NULL && cnamesz > 0)
		cname[0] = '\0';
	for (t = 0; t < 2; t++) {
		(void)dns_query(name, types[t], &a);
		*sec = dns_sec_worse(*sec, a.sec);
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

/*
 * Is the domain hosted here?  The store of ctl if open (--all, the admin
 * API: LMDB wants one handle per process), else opened read-only for the
 * check and closed before its result is stored.
 */
static int
check_hosted(struct check *c, struct ctl *ctl)
{
	char	 fix[KS_DOMAIN_MAX + 32];
	int	 rc, borrowed = 0;

	if (ctl->store == NULL)
		return (0);
	if (ctl->ks != NULL) {
		c->ks = ctl->ks;
		borrowed = 1;
	} else if ((rc = ks_open(&c->ks, ctl->store, KS_RDONLY,
	    ctl->mapsize)) != KS_OK) {
		check_fail(c, "check the store directory (-s or \"store\")",
		    "cannot open the store %s: %s", ctl->store,
		    ks_strerror(rc));
		c->ks = NULL;
		return (0);
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
	return (borrowed);
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
	    cnamesz, NULL) == -1)
		return (-1);
	if (*np > 0 || cname[0] != '\0')
		return (1);
	check_fmt(name, sizeof(name), "*.%s", c->dom);
	if (check_resolve(name, v, CHECK_ADDRS_MAX, np, &st, cname,
	    cnamesz, NULL) == -1)
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
	int		 st, wild, ours = 0, tst, sec;

	check_want(c, c->host, want, sizeof(want));
	wild = check_wildcard(c, wv, &nw, wcname, sizeof(wcname));
	if (check_resolve(c->host, c->addrs, CHECK_ADDRS_MAX, &c->naddrs,
	    &st, cname, sizeof(cname), &sec) == -1) {
		c->sec = sec;
		if (sec == DNS_SEC_BOGUS)
			check_fail(c, "fix the zone's DNSSEC signatures (or "
			    "remove its DS record at the parent)", "%s: DNSSEC "
			    "validation fails (bogus): validating resolvers "
			    "answer SERVFAIL, clients cannot find it",
			    c->host);
		else
			check_fail(c, "check that the zone's name servers "
			    "answer", "%s: %s", c->host,
			    check_status(DNS_FAIL));
		return;
	}
	c->sec = sec;
	c->adv.resolves = c->naddrs > 0;
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
		    &nt, &tst, NULL, 0, NULL) == 0 && nt > 0 &&
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
		c->sec = a.sec;
		if (a.sec == DNS_SEC_BOGUS) {
			dns_ans_free(&a);
			check_fail(c, "fix the zone's DNSSEC signatures (or "
			    "remove its DS record at the parent)", "CAA of %s: "
			    "DNSSEC validation fails (bogus): CAs cannot "
			    "check it and refuse to issue", name);
			return;
		}
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
	/* Not a fallback certificate's: clients refuse it for this host. */
	if (gnutls_x509_crt_check_hostname(crt, c->host) &&
	    x509_tlsa(crt, c->tlsa) == 0) {
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
	c->sec = a.sec;
	if (a.sec == DNS_SEC_BOGUS) {
		check_fail(c, "fix the zone's DNSSEC signatures", "TLSA of %s: "
		    "DNSSEC validation fails (bogus)", name);
		dns_ans_free(&a);
		return;
	}
	if (a.sec == DNS_SEC_INSECURE) {
		if (a.status == DNS_OK)
			check_warn(c, "TLSA records for %s in an unsigned zone "
			    "mean nothing: DANE needs DNSSEC (sign the zone, "
			    "or drop them)", c->host);
		else
			check_ok(c, "no TLSA record for %s; its zone is "
			    "unsigned, and TLSA (DANE) needs DNSSEC", c->host);
		dns_ans_free(&a);
		return;
	}
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
    int *status, int *sec)
{
	struct dns_ans	 a;
	size_t		 i;
	int		 found = -1;

	(void)dns_query(name, DNS_T_TXT, &a);
	*status = a.status;
	*sec = a.sec;
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
	if (check_resolve(name, v, CHECK_ADDRS_MAX, &n, &st, NULL, 0,
	    &c->sec) == -1 || n == 0)
		check_fail(c, want, "%s: %s: MTA-STS senders can't fetch the "
		    "policy", name, check_status(st));
	else
		check_ok(c, "%s resolves", name);

	check_fmt(name, sizeof(name), "_mta-sts.%s", c->dom);
	check_fmt(want, sizeof(want), "publish \"%s. TXT \\\"v=STSv1; "
	    "id=%s\\\"\"", name, id);
	if (check_txt(name, "v=STSv1", txt, sizeof(txt), &st,
	    &c->sec) == -1)
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
	if (check_txt(name, "v=TLSRPTv1", txt, sizeof(txt), &st,
	    &c->sec) == -1) {
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

int
check_addrs(const char *name, char v[][INET6_ADDRSTRLEN], size_t max,
    size_t *np, int *status, char *cname, size_t cnamesz)
{
	return (check_resolve(name, v, max, np, status, cname, cnamesz,
	    NULL));
}

/*
 * The resolver: does it answer at all (". NS")?  If it fails DNSSEC at the
 * root, it strips signatures (or the anchor is stale): go on without
 * validation.  -1 if none works: the zone is not to blame then.
 */
static int
check_resolver(struct check *c)
{
	struct dns_ans	 a;
	char		 used[256], err[256];

	c->sec = -1;
	(void)dns_query(".", DNS_T_NS, &a);
	dns_ans_free(&a);
	if (a.status == DNS_FAIL && a.sec != DNS_SEC_BOGUS) {
		check_fail(c, "check /etc/resolv.conf (or give --resolver)",
		    "no working resolver at %s: nothing checked in DNS, and "
		    "nothing is known about %s's zone", c->resolver, c->dom);
		return (-1);
	}
	if (a.sec == DNS_SEC_BOGUS) {
		check_warn(c, "DNSSEC validation fails at the root through "
		    "%s (%s): it strips DNSSEC records, or the trust anchor "
		    "is stale; answers are not validated", c->resolver,
		    a.why[0] != '\0' ? a.why : "bogus");
		if (dns_init(c->dc->resolver, "", used, sizeof(used), err,
		    sizeof(err)) == -1) {
			check_fail(c, "check /etc/resolv.conf (or give "
			    "--resolver)", "%s", err);
			return (-1);
		}
	}
	return (0);
}

/* DOMAIN's zone: signed (validated), unsigned, or bogus. */
static void
check_dnssec(struct check *c)
{
	struct dns_ans	 a;

	(void)dns_query(c->dom, DNS_T_SOA, &a);
	c->dnssec = c->sec = a.sec;
	switch (a.sec) {
	case DNS_SEC_SECURE:
		check_ok(c, "%s is signed: DNSSEC validates (secure)", c->dom);
		break;
	case DNS_SEC_INSECURE:
		check_ok(c, "%s is unsigned (no DNSSEC): WKD works without "
		    "it; TLSA (DANE) records would mean nothing there",
		    c->dom);
		break;
	case DNS_SEC_BOGUS:
		check_fail(c, "fix the zone's DNSSEC signatures, or remove "
		    "its DS record at the parent (the registrar)", "%s: "
		    "DNSSEC validation fails (bogus: %s): validating "
		    "resolvers answer SERVFAIL for its names", c->dom,
		    a.why[0] != '\0' ? a.why : "bad signatures");
		break;
	default:
		if (a.status == DNS_FAIL)
			check_warn(c, "%s: no answer for its SOA record: "
			    "DNSSEC unknown", c->dom);
		else
			check_warn(c, "%s: answers are not validated (no "
			    "DNSSEC trust anchor: install dns-root-data, or "
			    "give --trust-anchor)", c->dom);
		break;
	}
	dns_ans_free(&a);
}

/* Finds keys with method m: reached, certificate fine, the key (policy). */
static int
check_works(const struct check_method *m, int browser)
{
	if (!m->resolves || !m->tried || !m->tls)
		return (0);
	if (browser && !m->cors)
		return (0);
	return (m->key == 1 || (m->key == -1 && m->policy));
}

/* Reached but refused at the connection or TLS (some clients fall back). */
static int
check_transport_fails(const struct check_method *m)
{
	return (m->resolves && (!m->tried || !m->tls));
}

static json_t *
check_tri(int tried, int v)
{
	return (tried ? json_boolean(v) : json_null());
}

/* methods.advanced or methods.direct of the document. */
static json_t *
check_method_doc(const struct check_method *m, const char *host)
{
	const char	*status, *detail;
	json_t		*o;

	if (check_works(m, 0)) {
		status = m->key == -1 ? "warn" : "ok";
		detail = m->key == -1 ? "policy file served; no key is "
		    "published to fetch" : "policy file and a published key "
		    "served";
	} else {
		status = "fail";
		detail = m->detail[0] != '\0' ? m->detail : "does not work";
	}
	if ((o = json_pack("{s:s, s:b, s:o, s:o, s:o, s:o, s:s, s:s}",
	    "host", host, "resolves", m->resolves,
	    "tls", check_tri(m->resolves && m->tried, m->tls),
	    "policy", check_tri(m->tried && m->tls, m->policy),
	    "cors", check_tri(m->tried && m->tls, m->cors),
	    "key", m->key == -1 ? json_null() : check_tri(m->tried &&
	    m->tls, m->key == 1), "status", status, "detail", detail)) ==
	    NULL)
		return (NULL);
	if (strcmp(status, "fail") == 0 && m->fix[0] != '\0')
		(void)json_object_set_new(o, "fix", json_string(m->fix));
	return (o);
}

/* One client's verdict, appended to a. */
static void
check_client(json_t *a, const char *client, const char *method,
    const char *status, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void
check_client(json_t *a, const char *client, const char *method,
    const char *status, const char *fix, const char *fmt, ...)
{
	va_list	 ap;
	char	 detail[2048];
	json_t	*o;

	va_start(ap, fmt);
	(void)vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if ((o = json_pack("{s:s, s:s, s:s, s:s}", "client", client,
	    "method", method, "status", status, "detail", detail)) == NULL)
		return;
	if (fix != NULL && fix[0] != '\0' && strcmp(status, "ok") != 0)
		(void)json_object_set_new(o, "fix", json_string(fix));
	(void)json_array_append_new(a, o);
}

/* Cause in as a clause into out: trailing full stops and spaces cut. */
static void
check_clause(char *out, size_t outsz, const char *in)
{
	size_t	 n;

	check_fmt(out, outsz, "%s", in[0] != '\0' ? in : "it does not work");
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '.' || out[n - 1] == ' '))
		out[--n] = '\0';
}

/*
 * How each client will look up keys of DOMAIN, and whether it finds them
 * (docs: wkd-clients.md).  GnuPG (dirmngr) uses the advanced method only
 * once openpgpkey.DOMAIN has an address, never falling back; Sequoia
 * falls back to the direct method on network and TLS errors only;
 * Thunderbird on any failure; Mailvelope in Firefox decides by DNS as
 * GnuPG does (OpenPGP.js and Mailvelope in Chrome fall back on network
 * errors); OpenKeychain on a 404 or an unknown host, not on TLS errors.
 */
static json_t *
check_clients(const struct check *c)
{
	const struct check_method *a = &c->adv, *d = &c->dir;
	const char	*afix = a->fix;
	char		 kfix[2 * KS_DOMAIN_MAX + 128];
	const char	*nokey = "publish a key (wkdctl import FILE)";
	char		 adet[sizeof(a->detail)], ddet[sizeof(d->detail)];
	json_t		*v;
	int		 aw = check_works(a, 0), dw = check_works(d, 0);
	int		 abw = check_works(a, 1), dbw = check_works(d, 1);
	int		 nk = c->adv.key == -1 && c->dir.key == -1;

	/* The causes, quoted inside sentences: no final full stop. */
	check_clause(adet, sizeof(adet), a->detail);
	check_clause(ddet, sizeof(ddet), d->detail);
	check_fmt(kfix, sizeof(kfix), "wkdctl domain set %s keep-revoked "
	    "off (then wkdctl republish %s), if OpenKeychain users matter "
	    "more than spreading the revocation", c->dom, c->dom);
	if ((v = json_array()) == NULL)
		return (NULL);
#define OKK(w)	((w) && nk ? "warn" : "ok")
#define KEYS	(nk ? "; no key is published yet to find" : "")
#define KFIX	(nk ? nokey : NULL)

	/* GnuPG. */
	if (a->resolves && aw)
		check_client(v, "GnuPG", "advanced", OKK(1), KFIX, "uses the "
		    "advanced method (%s resolves), which works%s", c->host,
		    KEYS);
	else if (a->resolves)
		check_client(v, "GnuPG", "advanced", "fail", afix, "uses only "
		    "the advanced method once %s resolves, and does not fall "
		    "back: %s", c->host, adet);
	else if (dw)
		check_client(v, "GnuPG", "direct", OKK(1), KFIX, "%s does not "
		    "resolve: uses the direct method, which works%s", c->host,
		    KEYS);
	else
		check_client(v, "GnuPG", "direct", "fail", afix, "%s does not "
		    "resolve, so it uses the direct method: %s", c->host, ddet);

	/* Sequoia sq. */
	if (a->resolves && !check_transport_fails(a)) {
		if (aw)
			check_client(v, "Sequoia", "advanced", OKK(1), KFIX,
			    "uses the advanced method, which works%s", KEYS);
		else
			check_client(v, "Sequoia", "advanced", "fail", afix,
			    "gets an answer at %s and does not fall back "
			    "(only network and TLS errors do): %s", c->host,
			    adet);
	} else if (dw)
		check_client(v, "Sequoia", "direct", a->resolves ? "warn" :
		    OKK(1), a->resolves ? afix : KFIX, "%s; falls back to the "
		    "direct method, which works%s", a->resolves ? adet :
		    "no advanced method", KEYS);
	else
		check_client(v, "Sequoia", "direct", "fail", afix, "%s; falls "
		    "back to the direct method: %s", a->resolves ? adet :
		    "no advanced method", ddet);

	/* Thunderbird. */
	if (aw)
		check_client(v, "Thunderbird", "advanced", OKK(1), KFIX,
		    "uses the advanced method, which works%s", KEYS);
	else if (dw)
		check_client(v, "Thunderbird", "direct", a->resolves ? "warn" :
		    OKK(1), a->resolves ? afix : KFIX, "advanced method: %s; "
		    "falls back to the direct method, which works%s", adet,
		    KEYS);
	else
		check_client(v, "Thunderbird", "direct", "fail", afix,
		    "neither method works: advanced: %s; direct: %s", adet,
		    ddet);

	/* OpenPGP.js and Mailvelope (browsers: CORS counts). */
	if (abw)
		check_client(v, "OpenPGP.js/Mailvelope", "advanced", OKK(1),
		    KFIX, "use the advanced method, which works%s", KEYS);
	else if (!a->resolves && dbw)
		check_client(v, "OpenPGP.js/Mailvelope", "direct", OKK(1),
		    KFIX, "%s does not resolve: use the direct method, which "
		    "works%s", c->host, KEYS);
	else if (!a->resolves)
		check_client(v, "OpenPGP.js/Mailvelope", "direct", "fail",
		    afix, "%s does not resolve, so they use the direct "
		    "method: %s", c->host, d->cors || !dw ? ddet :
		    "no Access-Control-Allow-Origin: *");
	else
		check_client(v, "OpenPGP.js/Mailvelope", "advanced", "fail",
		    afix, "Mailvelope in Firefox uses only the advanced "
		    "method once %s resolves: %s%s", c->host, a->cors || !aw ?
		    adet : "no Access-Control-Allow-Origin: *", dbw &&
		    check_transport_fails(a) ? "; OpenPGP.js and Mailvelope "
		    "in Chrome fall back to the direct method, which works" :
		    "");

	/* OpenKeychain (K-9 Mail, Thunderbird for Android). */
	if (aw && a->nkeys > 1)
		check_client(v, "OpenKeychain", "advanced", "fail", kfix,
		    "uses the advanced method, but the key served holds %d "
		    "keys (the replaced, revoked one too: keep-revoked) and "
		    "it takes only one (\"Expected single keyring in "
		    "stream\")", a->nkeys);
	else if (aw)
		check_client(v, "OpenKeychain", "advanced", OKK(1), KFIX,
		    "uses the advanced method, which works%s", KEYS);
	else if (a->resolves && check_transport_fails(a))
		check_client(v, "OpenKeychain", "advanced", "fail", afix,
		    "a connection or TLS error at %s is final (no fall-back): "
		    "%s", c->host, adet);
	else if (dw)
		check_client(v, "OpenKeychain", "direct", a->resolves ? "warn" :
		    OKK(1), a->resolves ? afix : KFIX, "%s; falls back to the "
		    "direct method (on a 404 or an unknown host), which "
		    "works%s", a->resolves ? adet : "no advanced method",
		    KEYS);
	else
		check_client(v, "OpenKeychain", "direct", "fail", afix, "%s; "
		    "falls back to the direct method: %s", a->resolves ? adet :
		    "no advanced method", ddet);
#undef OKK
#undef KEYS
#undef KFIX
	return (v);
}

/* The check's document (schema at the top), or NULL without memory. */
static json_t *
check_doc(struct check *c, int noresolver)
{
	char		 when[32];
	struct tm	 tm;
	time_t		 now = time(NULL);
	json_t		*doc, *clients, *methods;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return (NULL);
	if (noresolver) {
		methods = json_object();
		clients = json_array();
	} else {
		methods = json_pack("{s:o, s:o}", "advanced",
		    check_method_doc(&c->adv, c->host), "direct",
		    check_method_doc(&c->dir, c->dom));
		clients = check_clients(c);
	}
	if (methods == NULL || clients == NULL) {
		json_decref(methods);
		json_decref(clients);
		return (NULL);
	}
	doc = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:O, "
	    "s:o, s:o}", "version", CHECK_DOC_VERSION, "domain", c->dom,
	    "host", c->host, "checked", when, "resolver", c->resolver,
	    "dnssec", dns_sec_name(c->dnssec), "failed", c->fails,
	    "warnings", c->warns, "results", c->results, "methods", methods,
	    "clients", clients);
	return (doc);
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

/*
 * After the results: the methods and the clients' verdicts of doc (none
 * in a version 1 document), one line each.
 */
static void
check_print_verdicts(const json_t *doc)
{
	static const char *const names[] = { "advanced", "direct" };
	const json_t	*m, *r;
	const char	*st;
	size_t		 i;

	for (i = 0; i < 2; i++) {
		if ((m = json_object_get(json_object_get(doc, "methods"),
		    names[i])) == NULL)
			continue;
		st = check_str(m, "status", "?");
		printf("%s method (https://%s/): %s: %s", names[i],
		    check_str(m, "host", "?"), strcmp(st, "fail") == 0 ?
		    "FAIL" : st, check_str(m, "detail", ""));
		printf("\n");
	}
	json_array_foreach(json_object_get(doc, "clients"), i, r) {
		st = check_str(r, "status", "?");
		printf("%s: %s (%s method): %s", check_str(r, "client", "?"),
		    strcmp(st, "fail") == 0 ? "FAIL" : st,
		    check_str(r, "method", "?"), check_str(r, "detail", ""));
		if (json_object_get(r, "fix") != NULL)
			printf(" — fix: %s", check_str(r, "fix", ""));
		printf("\n");
	}
}

/* --last: the stored result, as JSON or as the lines it was printed as. */
static int
check_last(struct ctl *ctl, const char *dom, int asjson)
{
	struct ks_txn	*txn;
	struct ks_blob	 b;
	json_t		*doc, *r;
	json_int_t	 warns, v;
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
	v = json_integer_value(json_object_get(doc, "version"));
	if (doc == NULL || !json_is_array(json_object_get(doc, "results")) ||
	    v < 1 || v > CHECK_DOC_VERSION) {
		json_decref(doc);
		warnx("%s: the stored check is not a check's result (of "
		    "version 1 to %d)", dom, CHECK_DOC_VERSION);
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
		check_print_verdicts(doc);
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

/* One check at a time: libunbound's context is the process's. */
static pthread_mutex_t	 check_lock = PTHREAD_MUTEX_INITIALIZER;

int
check_one(struct ctl *ctl, const struct zone_conf *dc, const char *dom,
    json_t **docp)
{
	struct check	 c;
	json_t		*doc;
	char		*text = NULL, err[256];
	int		 rc, noresolver = 0, borrowed;

	*docp = NULL;
	memset(&c, 0, sizeof(c));
	c.dc = dc;
	c.sec = -1;
	c.dnssec = DNS_SEC_UNKNOWN;
	c.adv.key = c.dir.key = -1;
	check_fmt(c.dom, sizeof(c.dom), "%s", dom);
	check_fmt(c.host, sizeof(c.host), "openpgpkey.%s", c.dom);
	if ((c.results = json_array()) == NULL) {
		warnx("out of memory");
		return (1);
	}
	(void)pthread_mutex_lock(&check_lock);
	c.area = "store";
	borrowed = check_hosted(&c, ctl);
	c.area = "dns";
	if (dns_init(dc->resolver, dc->anchor, c.resolver,
	    sizeof(c.resolver), err, sizeof(err)) == -1) {
		check_fail(&c, "check /etc/resolv.conf (or give --resolver, "
		    "--trust-anchor)", "no working resolver: %s", err);
		noresolver = 1;
	} else if (check_resolver(&c) == -1)
		noresolver = 1;
	if (!noresolver) {
		c.area = "dnssec";
		check_dnssec(&c);
		c.area = "dns";
		c.m = &c.adv;
		check_host(&c);
		c.m = NULL;
		c.area = "caa";
		check_caa(&c);
		c.sec = -1;
		c.area = "https";
		check_https(&c);
		c.area = "tlsa";
		check_tlsa(&c);
		c.area = "mta-sts";
		check_mtasts(&c);
		c.sec = -1;
		check_direct(&c);
	}
	dns_done();
	(void)pthread_mutex_unlock(&check_lock);

	if (c.ks != NULL && !borrowed)
		ks_close(c.ks);
	c.ks = NULL;
	rc = c.fails > 0 ? 1 : 0;
	if ((doc = check_doc(&c, noresolver)) == NULL ||
	    (text = json_dumps(doc, JSON_COMPACT)) == NULL) {
		warnx("out of memory");
		rc = 1;
	} else if (noresolver && c.hosted && !dc->nostore)
		warnx("%s: not stored: the check could not look at DNS", dom);
	else if (c.hosted && !dc->nostore && check_store(ctl, c.dom, text,
	    c.fails, c.warns) == -1)
		rc = 1;
	if (!dc->json && doc != NULL) {
		check_print_verdicts(doc);
		printf("%s: %d failed, %d warning%s\n", c.dom, c.fails,
		    c.warns, c.warns == 1 ? "" : "s");
	}
	free(text);
	json_decref(c.results);
	*docp = doc;
	return (rc);
}

/* Collects hosted domains' names. */
static int
check_all_cb(const struct ks_domain *d, void *arg)
{
	json_t	*names = arg;

	return (json_array_append_new(names, json_string(d->name)) == 0 ?
	    0 : -1);
}

/* --all: every hosted domain, each stored; 1 if any failed. */
static int
check_run(struct ctl *ctl, const struct zone_conf *dc)
{
	struct ks_txn	*txn;
	json_t		*names, *docs, *doc, *n;
	size_t		 i;
	int		 rc = 0, krc;

	if ((names = json_array()) == NULL || (docs = json_array()) ==
	    NULL) {
		json_decref(names);
		warnx("out of memory");
		return (1);
	}
	if (store_begin(ctl, KS_RDONLY, &txn) == -1) {
		json_decref(names);
		json_decref(docs);
		return (1);
	}
	krc = ks_domain_foreach(txn, check_all_cb, names);
	ks_txn_abort(txn);
	if (krc != KS_OK) {
		warnx("listing the domains: %s", krc == -1 ? "out of memory" :
		    store_strerror(krc));
		json_decref(names);
		json_decref(docs);
		return (1);
	}
	json_array_foreach(names, i, n) {
		if (check_one(ctl, dc, json_string_value(n), &doc) != 0)
			rc = 1;
		if (doc == NULL)
			rc = 1;
		else
			(void)json_array_append_new(docs, doc);
		if (!dc->json && i + 1 < json_array_size(names))
			printf("\n");
	}
	if (dc->json) {
		if (json_dumpf(docs, stdout, JSON_INDENT(2)) != 0)
			rc = 1;
		printf("\n");
	}
	json_decref(names);
	json_decref(docs);
	return (rc);
}

int
check_cmd(struct ctl *ctl, int argc, char **argv)
{
	struct zone_conf	 dc;
	char		 dom[KS_DOMAIN_MAX];
	json_t		*doc;
	int		 i, rc;

	if ((i = zone_getopt(argc, argv, &dc, 1, CHECK_USAGE)) == -1)
		return (2);
	if (argc - i != (dc.all ? 0 : 1) || (dc.all && (dc.last ||
	    dc.nostore))) {
		fprintf(stderr, "usage: wkdctl %s\n", CHECK_USAGE);
		return (2);
	}
	if (dc.target[0] != '\0' && dc.naddrs > 0) {
		warnx("--target and --address exclude each other");
		return (2);
	}
	if (!dc.all && cli_domain(argv[i], dom) == -1)
		return (1);
	if (dc.last)
		return (check_last(ctl, dom, dc.json));
	if (zone_conf_apply(&dc, ctl->conf) == -1)
		return (1);
	if (dc.all)
		rc = check_run(ctl, &dc);
	else {
		rc = check_one(ctl, &dc, dom, &doc);
		if (dc.json && doc != NULL) {
			if (json_dumpf(doc, stdout, JSON_INDENT(2)) != 0)
				rc = 1;
			printf("\n");
		}
		json_decref(doc);
	}
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
