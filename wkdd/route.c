/*
 * route.c: which WKD resource a request names.  Both layouts of
 * draft-koch-openpgp-webkey-service:
 *
 *   direct    Host: D               /.well-known/openpgpkey/hu/HASH
 *                                   /.well-known/openpgpkey/policy
 *   advanced  Host: openpgpkey.D    /.well-known/openpgpkey/D/hu/HASH
 *                                   /.well-known/openpgpkey/D/policy
 *
 * The Host is lowered, its :port and trailing dot dropped.  The path's D is
 * percent-decoded and normalised with ks_domain_norm() (lowercase, no
 * trailing dot, IDN to A-label) and must then equal the Host's D, so that
 * one tenant's keys are never served under another's name.  Everything
 * else, directories included, is not found.
 *
 *   MTA-STS   Host: mta-sts.D       /.well-known/mta-sts.txt
 *   TLSRPT    Host: D, mta-sts.D,   /tlsrpt (any method: tlsrpt.c takes
 *             openpgpkey.D          POST, else 405; D is the domain)
 *
 * The web page (www.c), on D and openpgpkey.D alike:
 *
 *   /, /index.html, /lookup, /lookup.json, /lookup.asc, /status, /NAME
 *
 * Plain HTTP (route_plain()): /.well-known/acme-challenge/TOKEN, or a
 * redirect to https.
 */
#include <stdio.h>
#include <string.h>

#include "keystore.h"
#include "wkdd.h"

#define ROUTE_SEGS	5		/* .well-known/openpgpkey/D/hu/HASH */
#define ROUTE_SEG_MAX	(KS_DOMAIN_MAX * 4)	/* Decoded bytes. */
#define ROUTE_PREFIX	"openpgpkey."
#define ROUTE_MTA_PREFIX	"mta-sts."
#define ROUTE_MTASTS_PATH	"/.well-known/mta-sts.txt"
#define ROUTE_ACME_PATH		"/.well-known/acme-challenge/"
#define ROUTE_PATH_MAX		2048	/* Redirected. */
#define ROUTE_INDEX_HTML	"/index.html"	/* Served as "/". */
#define ROUTE_WWW_NAME_MAX	64	/* www.c's longest name + 1. */

static int	route_host(const char *, char *, size_t);
static int	route_decode(const char *, size_t, char *, size_t);
static int	route_www(const char *, size_t, struct route *);

int
route_hex(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * Percent-decode in (len bytes) into out (outsz bytes, NUL-terminated).
 * Returns the decoded length, or -1 for a bad escape, an encoded NUL or
 * '/', an empty result or no room.
 */
static int
route_decode(const char *in, size_t len, char *out, size_t outsz)
{
	size_t	i, n = 0;
	int	hi, lo, c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c == '%') {
			if (i + 2 >= len)
				return (-1);
			if ((hi = route_hex(in[i + 1])) == -1 ||
			    (lo = route_hex(in[i + 2])) == -1)
				return (-1);
			c = hi << 4 | lo;
			if (c == '\0' || c == '/')
				return (-1);
			i += 2;
		}
		if (n + 1 >= outsz)
			return (-1);
		out[n++] = c;
	}
	if (n == 0)
		return (-1);
	out[n] = '\0';
	return ((int)n);
}

/*
 * The web page's paths (www.c), one segment name (len bytes, after the
 * '/'): the lookups, the status page, or a file's name, which is
 * [a-z0-9][a-z0-9._-]* (no escapes, no way out of the directory).  Sets
 * r->kind (and r->fmt or r->token) and returns it; ROUTE_NOTFOUND if it
 * is none of them.
 */
static int
route_www(const char *name, size_t len, struct route *r)
{
	static const struct {
		const char	*name;
		int		 kind, fmt;
	} pages[] = {
		{ "lookup", ROUTE_LOOKUP, ROUTE_FMT_HTML },
		{ "lookup.json", ROUTE_LOOKUP, ROUTE_FMT_JSON },
		{ "lookup.asc", ROUTE_LOOKUP, ROUTE_FMT_ASC },
		{ "status", ROUTE_STATUS, 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		if (strlen(pages[i].name) == len &&
		    memcmp(pages[i].name, name, len) == 0) {
			r->fmt = pages[i].fmt;
			return (r->kind = pages[i].kind);
		}
	if (len == 0 || len >= ROUTE_WWW_NAME_MAX || !((name[0] >= 'a' &&
	    name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
		return (ROUTE_NOTFOUND);
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '.' || name[i] == '_' || name[i] == '-'))
			return (ROUTE_NOTFOUND);
	memcpy(r->token, name, len);
	r->token[len] = '\0';
	return (r->kind = ROUTE_WWW);
}

/* The Host header to a normalised name in out; -1 if it isn't one. */
static int
route_host(const char *host, char *out, size_t outsz)
{
	char		 buf[KS_DOMAIN_MAX + 1];
	const char	*colon;
	size_t		 len;

	if (host == NULL || host[0] == '[')	/* No IP literals. */
		return (-1);
	if ((colon = strchr(host, ':')) != NULL)
		len = colon - host;
	else
		len = strlen(host);
	if (len == 0 || len >= sizeof(buf))
		return (-1);
	memcpy(buf, host, len);
	buf[len] = '\0';
	if (ks_domain_norm(buf, out, outsz) != KS_OK)
		return (-1);
	return (0);
}

int
route_request(const char *method, const char *host, const char *path,
    struct route *r)
{
	char		 seg[ROUTE_SEGS][ROUTE_SEG_MAX];
	char		 dom[KS_DOMAIN_MAX];
	const char	*p, *e, *end, *hash;
	size_t		 nseg = 0, plen = sizeof(ROUTE_PREFIX) - 1;
	int		 n;

	memset(r, 0, sizeof(*r));
	if (route_host(host, r->host, sizeof(r->host)) == -1)
		r->host[0] = '\0';
	if (path != NULL && strncmp(path, ROUTE_TLSRPT_PATH,
	    sizeof(ROUTE_TLSRPT_PATH) - 1) == 0 &&
	    (path[sizeof(ROUTE_TLSRPT_PATH) - 1] == '\0' ||
	    path[sizeof(ROUTE_TLSRPT_PATH) - 1] == '?')) {
		/* Reports about the Host's domain (tlsrpt.c checks it). */
		if (r->host[0] == '\0')
			return (r->kind = ROUTE_NOTFOUND);
		plen = sizeof(ROUTE_MTA_PREFIX) - 1;
		if (strncmp(r->host, ROUTE_MTA_PREFIX, plen) != 0 ||
		    r->host[plen] == '\0') {
			plen = sizeof(ROUTE_PREFIX) - 1;
			if (strncmp(r->host, ROUTE_PREFIX, plen) != 0 ||
			    r->host[plen] == '\0')
				plen = 0;
		}
		(void)snprintf(r->domain, sizeof(r->domain), "%s",
		    r->host + plen);
		return (r->kind = ROUTE_TLSRPT);
	}
	if (strcmp(method, "OPTIONS") == 0)
		return (r->kind = ROUTE_OPTIONS);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return (r->kind = ROUTE_METHOD);
	if (r->host[0] == '\0')
		return (r->kind = ROUTE_NOTFOUND);
	if (strncmp(r->host, ROUTE_PREFIX, plen) == 0 && r->host[plen] != '\0')
		r->advanced = 1;

	if (path == NULL || path[0] != '/')
		return (r->kind = ROUTE_NOTFOUND);
	if ((end = strchr(path, '?')) == NULL)
		end = path + strlen(path);

	if ((size_t)(end - path) == sizeof(ROUTE_MTASTS_PATH) - 1 &&
	    memcmp(path, ROUTE_MTASTS_PATH, end - path) == 0) {
		/* Only under mta-sts.D, as RFC 8461 puts it. */
		plen = sizeof(ROUTE_MTA_PREFIX) - 1;
		if (strncmp(r->host, ROUTE_MTA_PREFIX, plen) != 0 ||
		    r->host[plen] == '\0')
			return (r->kind = ROUTE_NOTFOUND);
		r->advanced = 0;
		(void)snprintf(r->domain, sizeof(r->domain), "%s",
		    r->host + plen);
		return (r->kind = ROUTE_MTASTS);
	}

	if (end - path == 1 || ((size_t)(end - path) ==
	    sizeof(ROUTE_INDEX_HTML) - 1 && memcmp(path, ROUTE_INDEX_HTML,
	    sizeof(ROUTE_INDEX_HTML) - 1) == 0)) {
		(void)snprintf(r->domain, sizeof(r->domain), "%s",
		    r->host + (r->advanced ? plen : 0));
		return (r->kind = ROUTE_INDEX);
	}
	if (route_www(path + 1, end - path - 1, r) != ROUTE_NOTFOUND) {
		(void)snprintf(r->domain, sizeof(r->domain), "%s",
		    r->host + (r->advanced ? plen : 0));
		return (r->kind);
	}

	/* Decoded segments; an empty one ("//", a trailing '/') is 404. */
	for (p = path + 1; p <= end; p = e + 1) {
		if ((e = memchr(p, '/', end - p)) == NULL)
			e = end;
		if (nseg == ROUTE_SEGS)
			return (r->kind = ROUTE_NOTFOUND);
		if (route_decode(p, e - p, seg[nseg], sizeof(seg[0])) == -1)
			return (r->kind = ROUTE_NOTFOUND);
		nseg++;
	}
	if (nseg < 3 || strcmp(seg[0], ".well-known") != 0 ||
	    strcmp(seg[1], "openpgpkey") != 0)
		return (r->kind = ROUTE_NOTFOUND);

	hash = NULL;
	dom[0] = '\0';
	if (nseg == 3 && strcmp(seg[2], "policy") == 0)
		r->kind = ROUTE_POLICY;
	else if (nseg == 4 && strcmp(seg[3], "policy") == 0) {
		r->kind = ROUTE_POLICY;
		if (ks_domain_norm(seg[2], dom, sizeof(dom)) != KS_OK)
			return (r->kind = ROUTE_NOTFOUND);
	} else if (nseg == 4 && strcmp(seg[2], "hu") == 0) {
		r->kind = ROUTE_KEY;
		hash = seg[3];
	} else if (nseg == 5 && strcmp(seg[3], "hu") == 0) {
		r->kind = ROUTE_KEY;
		hash = seg[4];
		if (ks_domain_norm(seg[2], dom, sizeof(dom)) != KS_OK)
			return (r->kind = ROUTE_NOTFOUND);
	} else
		return (r->kind = ROUTE_NOTFOUND);

	if (dom[0] != '\0') {
		/* Advanced: the Host must be openpgpkey.<the path's D>. */
		if (!r->advanced || strcmp(r->host + plen, dom) != 0)
			return (r->kind = ROUTE_NOTFOUND);
		n = snprintf(r->domain, sizeof(r->domain), "%s", dom);
	} else {
		/* Direct: the Host is the domain. */
		r->advanced = 0;
		n = snprintf(r->domain, sizeof(r->domain), "%s", r->host);
	}
	if (n < 0 || (size_t)n >= sizeof(r->domain))
		return (r->kind = ROUTE_NOTFOUND);
	if (hash != NULL) {
		if (!ks_hash_valid(hash, strlen(hash)))
			return (r->kind = ROUTE_NOTFOUND);
		memcpy(r->hash, hash, KS_HASH_LEN + 1);
	}
	return (r->kind);
}

int
route_plain(const char *method, const char *host, const char *path,
    struct route *r)
{
	const char	*pfx[] = { ROUTE_PREFIX, ROUTE_MTA_PREFIX };
	const char	*p, *tok;
	size_t		 i, plen, len;

	memset(r, 0, sizeof(*r));
	if (route_host(host, r->host, sizeof(r->host)) == -1)
		r->host[0] = '\0';
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return (r->kind = ROUTE_METHOD);
	if (r->host[0] == '\0' || path == NULL || path[0] != '/')
		return (r->kind = ROUTE_NOTFOUND);
	(void)snprintf(r->domain, sizeof(r->domain), "%s", r->host);
	for (i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++) {
		plen = strlen(pfx[i]);
		if (strncmp(r->host, pfx[i], plen) == 0 &&
		    r->host[plen] != '\0') {
			(void)snprintf(r->domain, sizeof(r->domain), "%s",
			    r->host + plen);
			break;
		}
	}

	len = strcspn(path, "?");
	plen = sizeof(ROUTE_ACME_PATH) - 1;
	if (len > plen && strncmp(path, ROUTE_ACME_PATH, plen) == 0) {
		/* base64url only: no '/', '.', '%', so no way out. */
		tok = path + plen;
		len -= plen;
		if (len >= sizeof(r->token))
			return (r->kind = ROUTE_NOTFOUND);
		for (p = tok; p < tok + len; p++)
			if (!((*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' ||
			    *p == '_'))
				return (r->kind = ROUTE_NOTFOUND);
		memcpy(r->token, tok, len);
		r->token[len] = '\0';
		return (r->kind = ROUTE_ACME);
	}
	if (strncmp(path, ROUTE_ACME_PATH, plen - 1) == 0)
		return (r->kind = ROUTE_NOTFOUND);	/* Bad or no token. */
	/* Redirected as is: it must be safe in a Location header. */
	if (strlen(path) > ROUTE_PATH_MAX)
		return (r->kind = ROUTE_NOTFOUND);
	for (p = path; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return (r->kind = ROUTE_NOTFOUND);
	return (r->kind = ROUTE_REDIRECT);
}
