/*
 * checkhttps.c: the HTTPS half of "wkdctl domain check": at each address
 * of openpgpkey.DOMAIN, the certificate served (trust, names, expiry, its
 * TLSA hash), the policy file and one published key, fetched exactly as a
 * client fetches them.
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

#include "keystore.h"
#include "conf.h"
#include "wkdctl.h"

/* A published key of DOMAIN to fetch: its hash, l= and bytes. */
struct check_key {
	const char	*dom;
	struct ks_txn	*txn;
	char		 hash[KS_HASH_LEN + 1];
	char		 local[KS_ADDR_MAX];
	struct ks_blob	 blob;
};

static int
check_key_cb(const struct ks_addr *a, void *arg)
{
	struct check_key	*k = arg;
	char			 dom[KS_DOMAIN_MAX];

	if (a->fpr[0] == '\0' || a->state == KS_ADDR_RETIRED ||
	    (a->flags & (KS_AF_UNPUBLISHED | KS_AF_REMOVED)) != 0 ||
	    wkd_split(a->addr, k->local, sizeof(k->local), dom,
	    sizeof(dom)) == -1 || strcmp(dom, k->dom) != 0)
		return (0);
	if (ks_wkd_hash(k->local, strlen(k->local), k->hash) != KS_OK ||
	    ks_wkd_get(k->txn, k->dom, k->hash, &k->blob) != KS_OK)
		return (0);
	return (1);
}

/*
 * Why a certificate is refused, and the fix.  With an ACME client
 * configured, wkdctl gets the certificate itself.
 */
static const char *
check_cert_fix(const struct check *c, unsigned v, char *buf, size_t bufsz)
{
	if (c->dc->acme && (v & (GNUTLS_CERT_EXPIRED |
	    GNUTLS_CERT_UNEXPECTED_OWNER | GNUTLS_CERT_SIGNER_NOT_FOUND |
	    GNUTLS_CERT_SIGNER_NOT_CA))) {
		(void)snprintf(buf, bufsz, "wkdctl domain cert %s", c->dom);
		return (buf);
	}
	if (v & GNUTLS_CERT_EXPIRED)
		return ("renew the certificate");
	if (v & GNUTLS_CERT_NOT_ACTIVATED)
		return ("serve a certificate that is valid now (check the "
		    "clock)");
	if (v & GNUTLS_CERT_UNEXPECTED_OWNER)
		return ("serve a certificate that names the host (tls-dir, "
		    "ACME)");
	if (v & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
		return ("serve the full chain of a public CA (fullchain.pem)");
	return ("serve a valid certificate from a public CA");
}

/* The certificate the server presented, as a client judges it: 0 if fine. */
static int
check_crt(struct check *c, const char *where, gnutls_x509_crt_t crt,
    unsigned verify)
{
	gnutls_datum_t	 txt = { NULL, 0 };
	time_t		 exp, now = time(NULL);
	char		 date[64], fix[KS_DOMAIN_MAX + 32];
	struct tm	 tm;

	if (crt == NULL) {
		check_fail(c, "serve a certificate", "%s presented no "
		    "certificate", where);
		return (-1);
	}
	if (c->m == &c->adv && !c->silent &&
	    gnutls_x509_crt_check_hostname(crt, c->host) &&
	    x509_tlsa(crt, c->tlsa) == 0) {
		c->have_tlsa = 1;
		c->tlsa_from = "the certificate served";
	}
	exp = gnutls_x509_crt_get_expiration_time(crt);
	if (exp == (time_t)-1 || gmtime_r(&exp, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", &tm) == 0)
		check_fmt(date, sizeof(date), "an unknown date");
	if (verify != 0) {
		if (gnutls_certificate_verification_status_print(verify,
		    GNUTLS_CRT_X509, &txt, 0) < 0)
			txt.data = NULL;
		while (txt.data != NULL && txt.size > 0 &&
		    isspace(txt.data[txt.size - 1]))
			txt.data[--txt.size] = '\0';
		check_fail(c, check_cert_fix(c, verify, fix, sizeof(fix)),
		    "%s: clients refuse the certificate for %s (expires %s): "
		    "%s", where, c->host,
		    date, txt.data != NULL ? (char *)txt.data : "invalid");
		gnutls_free(txt.data);
		return (-1);
	}
	if (exp != (time_t)-1 && exp - now < WKDD_CERT_SOON)
		check_warn(c, "%s: the certificate for %s expires within %d "
		    "days (%s): renew it", where, c->host, WKDD_CERT_SOON_DAYS,
		    date);
	else
		check_ok(c, "%s: valid certificate for %s, until %s", where,
		    c->host, date);
	return (0);
}

/* Address text ip, port into *ss; its length, or 0 if not an address. */
static unsigned
check_sockaddr(const char *ip, unsigned port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return (sizeof(*sin));
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return (sizeof(*sin6));
	}
	return (0);
}

/*
 * GET the policy file at where (ss): the certificate served and the
 * response are checked.  Returns 0 if HTTPS works there, -1 if not.
 */
static int
check_policy_at(struct check *c, const struct sockaddr_storage *ss,
    unsigned sslen, const char *where)
{
	struct https_resp	 r;
	gnutls_x509_crt_t	 crt;
	unsigned		 verify;
	char			 path[KS_DOMAIN_MAX + 64], err[256];
	char			 val[256], fix[512];
	int			 rc;

	check_fmt(path, sizeof(path), "%s/policy", c->wkpath);
	c->m->tried = 1;
	rc = https_get((const struct sockaddr *)ss, sslen, c->host, path,
	    c->dc->cafile, &crt, &verify, &r, err, sizeof(err));
	if (rc == -1 && crt == NULL) {
		c->m->tls = 0;
		check_fmt(fix, sizeof(fix), "run wkdd with a certificate for "
		    "%s on %s", c->host, where);
		check_fail(c, fix, "%s: no HTTPS for %s: %s", where, c->host,
		    err);
		return (-1);
	}
	if (check_crt(c, where, crt, verify) == -1)
		c->m->tls = 0;
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (rc == -1) {
		c->m->tls = 0;
		check_fail(c, "check wkdd's log", "%s: GET %s: %s", where,
		    path, err);
		return (-1);
	}
	if (r.status != 200) {
		c->m->policy = 0;
		check_fail(c, "wkdctl domain add (it writes the policy)",
		    "%s: GET %s: status %d: clients stop looking up keys of "
		    "%s", where, path, r.status, c->dom);
	} else if (https_header(&r, "Access-Control-Allow-Origin", val,
	    sizeof(val)) == -1 || strcmp(val, "*") != 0) {
		c->m->cors = 0;
		check_fail(c, "serve it with wkdd", "%s: GET %s: no "
		    "\"Access-Control-Allow-Origin: *\": browser clients fail",
		    where, path);
	} else
		check_ok(c, "%s: policy file served", where);
	https_resp_free(&r);
	return (0);
}

/* GET key k at where (ss), as a client would, and compare it. */
static void
check_key_at(struct check *c, const struct check_key *k,
    const struct sockaddr_storage *ss, unsigned sslen, const char *where)
{
	struct https_resp	 r;
	gnutls_x509_crt_t	 crt;
	unsigned		 verify;
	char			 path[KS_DOMAIN_MAX + 4 * KS_ADDR_MAX + 64];
	char			 l[3 * KS_ADDR_MAX + 1], val[256], err[256];
	int			 rc;

	(void)io_pct(k->local, l, sizeof(l));
	check_fmt(path, sizeof(path), "%s/hu/%s?l=%s", c->wkpath, k->hash, l);
	rc = https_get((const struct sockaddr *)ss, sslen, c->host, path,
	    c->dc->cafile, &crt, &verify, &r, err, sizeof(err));
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	/*
	 * Not the path: its l= is the local part, which is private, and its
	 * hash (a dictionary finds the local part) goes into the stored
	 * result that the status page shows.
	 */
	check_fmt(path, sizeof(path), "a published key");
	if (rc == -1) {
		c->m->key = 0;
		check_fail(c, "check wkdd's log", "%s: GET %s: %s", where,
		    path, err);
		return;
	}
	if (r.status != 200 || r.bodylen == 0 || (r.body[0] & 0x80) == 0)
		c->m->key = 0;
	else if (c->m->nkeys == 0)
		c->m->nkeys = pgp_nkeys(r.body, r.bodylen);
	if (r.status != 200)
		check_fail(c, "check wkdd's log and store", "%s: GET %s: "
		    "status %d", where, path, r.status);
	else if (https_header(&r, "Content-Type", val, sizeof(val)) == -1 ||
	    strcasecmp(val, "application/octet-stream") != 0)
		check_fail(c, "serve keys with wkdd", "%s: GET %s: "
		    "Content-Type is not application/octet-stream", where,
		    path);
	else if (r.bodylen == 0 || (r.body[0] & 0x80) == 0)
		check_fail(c, "serve keys with wkdd", "%s: GET %s: not a "
		    "binary OpenPGP key", where, path);
	else if (r.bodylen != k->blob.len ||
	    memcmp(r.body, k->blob.data, r.bodylen) != 0)
		check_fail(c, "check that this server serves the store",
		    "%s: GET %s: not the key in the store", where, path);
	else if (https_header(&r, "Access-Control-Allow-Origin", val,
	    sizeof(val)) == -1 || strcmp(val, "*") != 0) {
		c->m->cors = 0;
		check_fail(c, "serve it with wkdd", "%s: GET %s: no "
		    "\"Access-Control-Allow-Origin: *\"", where, path);
	} else
		check_ok(c, "%s: %s served (%zu bytes, as stored)", where,
		    path, r.bodylen);
	https_resp_free(&r);
}

/* One published key of c->dom, from the store, into *k; 1 if found. */
static int
check_find_key(struct check *c, struct check_key *k)
{
	int	 have = 0;

	memset(k, 0, sizeof(*k));
	k->dom = c->dom;
	if (c->ks != NULL && ks_txn_begin(c->ks, KS_RDONLY, &k->txn) == KS_OK) {
		have = ks_addr_foreach_domain(k->txn, c->dom, check_key_cb,
		    k) == 1;
		ks_txn_abort(k->txn);
	}
	return (have);
}

/*
 * The policy file and key k (if have_key) at addresses v of c->host, under
 * c->wkpath, into c->m; all of them, or only the first if once.
 */
static void
check_site(struct check *c, char v[][INET6_ADDRSTRLEN], size_t n,
    const struct check_key *k, int have_key, int once)
{
	struct sockaddr_storage	 ss;
	unsigned		 sslen;
	char			 where[INET6_ADDRSTRLEN + 16];
	size_t			 i;

	c->m->tls = c->m->policy = c->m->cors = 1;
	c->m->key = have_key ? 1 : -1;
	for (i = 0; i < n; i++) {
		if ((sslen = check_sockaddr(v[i], c->dc->port, &ss)) == 0)
			continue;
		check_fmt(where, sizeof(where), "%s%s%s port %u",
		    strchr(v[i], ':') ? "[" : "", v[i],
		    strchr(v[i], ':') ? "]" : "", c->dc->port);
		if (check_policy_at(c, &ss, sslen, where) == 0 && have_key)
			check_key_at(c, k, &ss, sslen, where);
		if (once)
			break;
	}
}

/*
 * Over HTTPS, at each address of openpgpkey.DOMAIN: the certificate, the
 * policy file and one published key, exactly as a client fetches them.
 * If it does not reach this service, a silent look at what clients meet
 * there instead (for the verdicts).
 */
void
check_https(struct check *c)
{
	struct check_key	 k;
	char			 wk[KS_DOMAIN_MAX + 32];
	int			 have_key;

	have_key = check_find_key(c, &k);
	check_fmt(wk, sizeof(wk), "/.well-known/openpgpkey/%s", c->dom);
	c->wkpath = wk;
	c->m = &c->adv;
	if (!c->host_ok) {
		if (c->naddrs > 0) {
			if (!c->dc->json)
				printf("skip: HTTPS checks: %s does not reach "
				    "this service\n", c->host);
			c->silent = 1;
			check_site(c, c->addrs, c->naddrs, &k, have_key, 1);
			c->silent = 0;
		}
	} else {
		if (c->ks != NULL && !have_key)
			check_warn(c, "%s has no published key to fetch",
			    c->dom);
		check_site(c, c->addrs, c->naddrs, &k, have_key, 0);
	}
	c->m = NULL;
	c->wkpath = NULL;
	ks_blob_free(&k.blob);
}

/*
 * The direct method, as a client falling back to it meets it: DOMAIN's
 * addresses, then the policy file and a key at https://DOMAIN/.  Silent:
 * only c->dir is filled in (the service does not need it).
 */
void
check_direct(struct check *c)
{
	struct check_key	 k;
	char			 v[CHECK_ADDRS_MAX][INET6_ADDRSTRLEN];
	char			 host[DNS_NAME_MAX], cname[DNS_NAME_MAX];
	size_t			 n = 0;
	int			 have_key, st = DNS_FAIL;

	have_key = check_find_key(c, &k);
	c->m = &c->dir;
	c->silent = 1;
	if (check_addrs(c->dom, v, CHECK_ADDRS_MAX, &n, &st, cname,
	    sizeof(cname)) == -1 || n == 0) {
		check_fmt(c->dir.detail, sizeof(c->dir.detail), "%s has no "
		    "address (%s)", c->dom, st == DNS_FAIL ?
		    "its look-up fails" : "no A or AAAA record");
	} else {
		c->dir.resolves = 1;
		memcpy(host, c->host, sizeof(host));
		check_fmt(c->host, sizeof(c->host), "%s", c->dom);
		c->wkpath = "/.well-known/openpgpkey";
		check_site(c, v, n, &k, have_key, 1);
		memcpy(c->host, host, sizeof(c->host));
		c->wkpath = NULL;
	}
	check_fmt(c->dir.fix, sizeof(c->dir.fix), "serve https://%s/"
	    ".well-known/openpgpkey/ too: reverse-proxy it to this service "
	    "keeping the Host, or redirect it (same site) to "
	    "https://%s/.well-known/openpgpkey/%s/", c->dom, c->host, c->dom);
	c->silent = 0;
	c->m = NULL;
	ks_blob_free(&k.blob);
}
