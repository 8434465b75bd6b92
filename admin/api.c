/*
 * api.c: "wkdctl serve", the admin API: a second front end over the
 * operations the command line calls (account_create(), import_keys(),
 * revoke_key(), ...), JSON over HTTP (libmicrohttpd) on a unix socket.
 *
 * One request at a time (MHD's one internal thread): each runs as a
 * command does, in one transaction, committed or aborted whole, and wkdd
 * sees a commit on its next request.  What the operations warn (to
 * stderr on the command line) is caught for the request and becomes its
 * error message, so nothing of it, local parts included, is logged.
 *
 * Every request needs "Authorization: Bearer SECRET" of a token (see
 * token.c): else 401 without detail.  A token scoped to domains gets 404
 * for anything outside them, as for what doesn't exist; a read-only one
 * 403 for a change.  Errors are {"error":{"code":CODE,"message":TEXT}}.
 */

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <microhttpd.h>

#include "keystore.h"
#include "wkdctl.h"

#define API_SOCKET	"/run/wkdctl/api.sock"
#define API_BODY_MAX	(4 * 1024 * 1024)	/* A key export: KS_CERT_MAX. */
#define API_ALIASES_MAX	64
#define API_RATE	100	/* Requests a second per token. */
#define API_SEGS	6
/* The TLS listener's versions: wkdd's (wkdd.h). */
#define API_TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define API_PEM_MAX	(1024 * 1024)

/* A token's request budget: a bucket of rate requests, refilled. */
#define API_RATE_SLOTS	256
struct api_rate {
	char		 name[KS_TOKEN_NAME_MAX];
	double		 left;
	struct timespec	 last;
};

struct api {
	/*
	 * The unix socket's daemon and the TLS listener's each have a
	 * thread: requests are answered one at a time all the same (the
	 * caught warnings, the audit actor and the rates are global).
	 */
	pthread_mutex_t	 lock;
	struct ctl	*ctl;
	size_t		 maxbody;
	unsigned	 rate;		/* Per token per second; 0: none. */
	struct api_rate	 rates[API_RATE_SLOTS];
	const char	*resolver;	/* POST .../check: --resolver. */
	const char	*anchor;	/* --trust-anchor. */
	const char	*cafile;	/* --cafile: check's, locate's. */
	const char	*vks;		/* locate: the key server, or NULL. */
};

/* One request: its body as read, then the answer. */
struct api_conn {
	unsigned char	*body;
	size_t		 len, cap;
	size_t		 seen;		/* Bytes sent, kept or not. */
	int		 toobig;
};

/* A body over the cap is read and dropped up to this, then cut off. */
#define API_DISCARD_MAX	((size_t)64 * 1024 * 1024)

/* What a handler gets. */
struct api_req {
	struct api		*api;
	struct MHD_Connection	*c;
	const struct ks_token	*tk;
	const char		*method;
	char			*seg[API_SEGS];
	size_t			 nseg;
	const unsigned char	*body;
	size_t			 len;
	/* The answer: JSON, or raw bytes (malloc(3)ed) of type ctype. */
	int			 status;
	json_t			*out;
	unsigned char		*raw;
	size_t			 rawlen;
	const char		*ctype;
};

/*
 * MHD's own messages (a TLS handshake that failed, say) come from either
 * daemon's thread, while a request may have stderr swapped for its
 * catch: they go to a stream of their own on the same descriptor.
 */
static FILE	*api_mhdfp;

static void
api_mhdlog(void *arg, const char *fmt, va_list ap)
{
	(void)arg;
	if (api_mhdfp == NULL)
		return;
	(void)fprintf(api_mhdfp, "wkdctl serve: ");
	(void)vfprintf(api_mhdfp, fmt, ap);
	(void)fflush(api_mhdfp);
}

/* The warnings of an operation, caught (see the top). */
static FILE	*api_saved_stderr;
static char	*api_caught;
static size_t	 api_caughtlen;

static void
api_catch(void)
{
	FILE	*fp;

	api_caught = NULL;
	api_caughtlen = 0;
	if ((fp = open_memstream(&api_caught, &api_caughtlen)) == NULL)
		return;
	api_saved_stderr = stderr;
	stderr = fp;
}

/* The warnings caught, "wkdctl: " dropped and lines joined; free(3) it. */
static char *
api_uncatch(void)
{
	char	*s, *p, *q;
	size_t	 pre = strlen(program_invocation_short_name) + 2;

	if (api_saved_stderr == NULL)
		return (NULL);
	(void)fclose(stderr);
	stderr = api_saved_stderr;
	api_saved_stderr = NULL;
	if ((s = api_caught) == NULL)
		return (NULL);
	for (p = q = s; *p != '\0';) {
		if (strncmp(p, program_invocation_short_name, pre - 2) == 0 &&
		    strncmp(p + pre - 2, ": ", 2) == 0)
			p += pre;
		while (*p != '\0' && *p != '\n')
			*q++ = *p++;
		if (*p == '\n') {
			p++;
			if (*p != '\0') {
				*q++ = ';';
				*q++ = ' ';
			}
		}
	}
	*q = '\0';
	return (s);
}

/* Answer with an error: code (stable), message (msg, else the caught). */
static void
api_error(struct api_req *r, int status, const char *code, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
api_error(struct api_req *r, int status, const char *code, const char *fmt,
    ...)
{
	va_list	 ap;
	char	 msg[1024];

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(r->out);
	r->status = status;
	r->out = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message",
	    msg);
}

/* Answer an operation's refusal: what it warned, else what. */
static void
api_refused(struct api_req *r, int status, const char *code,
    const char *what)
{
	char	*w = api_uncatch();

	api_error(r, status, code, "%s", w != NULL && *w != '\0' ? w : what);
	free(w);
	api_catch();
}

static void
api_notfound(struct api_req *r)
{
	api_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such resource");
}

static int
api_writable(struct api_req *r)
{
	if (r->tk->flags & KS_TOKEN_RDONLY) {
		api_error(r, MHD_HTTP_FORBIDDEN, "read_only",
		    "this token may not change anything");
		return (0);
	}
	return (1);
}

/* The body as JSON into fields: 0, or -1 having answered 400. */
static int
api_body(struct api_req *r, struct api_field *f, size_t n)
{
	char	 err[256];

	if (api_json_parse((const char *)r->body, r->len, f, n, err,
	    sizeof(err)) == -1) {
		api_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", "%s", err);
		return (-1);
	}
	return (0);
}

/*
 * in normalised into addr, its domain reachable by the token: 0; else
 * 404 (a domain out of scope is as one that doesn't exist) or 400.
 */
static int
api_addr(struct api_req *r, const char *in, char addr[KS_ADDR_MAX])
{
	char	 dom[KS_DOMAIN_MAX];

	if (ks_addr_norm(in, addr, KS_ADDR_MAX, dom, sizeof(dom)) != KS_OK) {
		api_error(r, MHD_HTTP_BAD_REQUEST, "bad_address",
		    "not a mail address");
		return (-1);
	}
	if (!token_scoped(r->tk, dom)) {
		api_notfound(r);
		return (-1);
	}
	return (0);
}

/* Is addr (normalised) in a domain the token reaches? */
static int
api_addr_scoped(const struct ks_token *tk, const char *addr)
{
	const char	*at = strrchr(addr, '@');

	return (at != NULL && token_scoped(tk, at + 1));
}

static int
api_begin(struct api_req *r, int flags, struct ks_txn **txn)
{
	if (store_begin(r->api->ctl, flags, txn) == -1) {
		api_refused(r, MHD_HTTP_SERVICE_UNAVAILABLE, "store_error",
		    "the store can't be opened");
		return (-1);
	}
	return (0);
}

static int
api_commit(struct api_req *r, struct ks_txn *txn)
{
	if (store_commit(r->api->ctl, txn) == -1) {
		api_refused(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error",
		    "the change could not be committed");
		return (-1);
	}
	return (0);
}

/* GET /v1/domains */
struct api_doms {
	const struct ks_token	*tk;
	json_t			*a;
};

static int
api_domains_cb(const struct ks_domain *d, void *arg)
{
	struct api_doms	*w = arg;

	if (token_scoped(w->tk, d->name))
		json_array_append_new(w->a, json_pack("{s:s,s:b}", "name",
		    d->name, "keep_revoked",
		    (d->flags & KS_DOM_KEEP_REVOKED) != 0));
	return (0);
}

static void
api_domains(struct api_req *r)
{
	struct ks_txn	*txn;
	struct api_doms	 w;
	int		 rc;

	if (api_begin(r, KS_RDONLY, &txn) == -1)
		return;
	w.tk = r->tk;
	w.a = json_array();
	if ((rc = ks_domain_foreach(txn, api_domains_cb, &w)) != KS_OK) {
		json_decref(w.a);
		api_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error",
		    "%s", store_strerror(rc));
	} else {
		r->status = MHD_HTTP_OK;
		r->out = json_pack("{s:o}", "domains", w.a);
	}
	ks_txn_abort(txn);
}

/* The domain of seg, hosted and reachable, into dom: 0, or -1 (404). */
static int
api_dom(struct api_req *r, struct ks_txn *txn, const char *seg,
    char dom[KS_DOMAIN_MAX], struct ks_domain *d)
{
	if (ks_domain_norm(seg, dom, KS_DOMAIN_MAX) != KS_OK ||
	    !token_scoped(r->tk, dom) || ks_domain_get(txn, dom, d) != KS_OK) {
		api_notfound(r);
		return (-1);
	}
	return (0);
}

/* wkdd.conf's service and certificates, as "dns" reads them, into dc. */
static void
api_zone_conf(struct api_req *r, struct zone_conf *dc)
{
	memset(dc, 0, sizeof(*dc));
	dc->port = 443;
	(void)zone_conf_apply(dc, r->api->ctl->conf);
}

/* The certificate served for openpgpkey.DOM, as JSON; NULL if none. */
static json_t *
api_cert(const struct zone_conf *dc, const char *dom)
{
	gnutls_x509_crt_t	 crt;
	char			 path[PATH_MAX], host[KS_DOMAIN_MAX + 16];
	char			 when[32];
	time_t			 exp;
	json_t			*j;

	(void)snprintf(host, sizeof(host), "openpgpkey.%s", dom);
	if (x509_cert_path(dc, host, path, sizeof(path)) == -1)
		return (NULL);
	if (x509_load(path, &crt) == -1)
		return (json_pack("{s:s,s:b}", "file", path, "readable", 0));
	exp = gnutls_x509_crt_get_expiration_time(crt);
	io_date(exp, when, sizeof(when));
	j = json_pack("{s:s,s:b,s:s,s:b,s:b}", "file", path, "readable", 1,
	    "expires", when, "expired", exp < time(NULL), "names_host",
	    gnutls_x509_crt_check_hostname(crt, host) != 0);
	gnutls_x509_crt_deinit(crt);
	return (j);
}

/*
 * GET /v1/domains/{d}: its settings, how many addresses it has and
 * publishes, its MTA-STS policy, the certificate served for it, and its
 * last onboarding check ("domain check"'s stored document; null if never
 * checked).
 */
static void
api_domain(struct api_req *r)
{
	struct ks_txn		*txn;
	struct ks_domain	 d;
	struct store_addrs	 l;
	struct zone_conf	 dc;
	struct ks_blob		 b;
	char			 dom[KS_DOMAIN_MAX];
	json_t			*cert, *check = NULL;
	size_t			 i, pub = 0;
	int			 rc, mtasts;

	if (api_begin(r, KS_RDONLY, &txn) == -1)
		return;
	memset(&l, 0, sizeof(l));
	memset(&b, 0, sizeof(b));
	if (api_dom(r, txn, r->seg[2], dom, &d) == -1)
		goto out;
	if (store_addrs_domain(txn, dom, &l) == -1 ||
	    ((rc = ks_mtasts_get(txn, dom, &b)) != KS_OK &&
	    rc != KS_NOTFOUND)) {
		api_refused(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error",
		    "the store failed");
		goto out;
	}
	mtasts = rc == KS_OK;
	ks_blob_free(&b);
	if ((rc = ks_check_get(txn, dom, &b)) == KS_OK)
		check = json_loadb((const char *)b.data, b.len, 0, NULL);
	else if (rc != KS_NOTFOUND) {
		api_refused(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error",
		    "the store failed");
		goto out;
	}
	for (i = 0; i < l.n; i++)
		if (l.v[i].fpr[0] != '\0')
			pub++;
	api_zone_conf(r, &dc);
	cert = api_cert(&dc, dom);
	r->status = MHD_HTTP_OK;
	r->out = json_pack("{s:s,s:b,s:I,s:I,s:b,s:o,s:o}", "name", d.name,
	    "keep_revoked", (d.flags & KS_DOM_KEEP_REVOKED) != 0,
	    "addresses", (json_int_t)l.n, "published", (json_int_t)pub,
	    "mta_sts", mtasts, "certificate", cert != NULL ? cert :
	    json_null(), "last_check", check != NULL ? check : json_null());
	check = NULL;
out:
	json_decref(check);
	ks_blob_free(&b);
	store_addrs_free(&l);
	ks_txn_abort(txn);
}

/*
 * POST /v1/domains/{d}/check: run "wkdctl domain check D" (wkdd.conf's
 * service and certificates; serve's --resolver and --trust-anchor), store
 * it as the domain's last check and answer its document, failed or not.
 * It takes seconds, during which the API answers nothing else.
 */
static void
api_domain_check(struct api_req *r)
{
	struct ks_txn		*txn;
	struct ks_domain	 d;
	struct zone_conf	 dc;
	char			 dom[KS_DOMAIN_MAX];
	json_t			*doc;
	int			 rc;

	if (!api_writable(r))
		return;
	if (api_begin(r, KS_RDONLY, &txn) == -1)
		return;
	rc = api_dom(r, txn, r->seg[2], dom, &d);
	ks_txn_abort(txn);
	if (rc == -1)
		return;
	api_zone_conf(r, &dc);
	dc.json = 1;
	dc.resolver = r->api->resolver;
	dc.anchor = r->api->anchor;
	dc.cafile = r->api->cafile;
	(void)check_one(r->api->ctl, &dc, dom, &doc);
	if (doc == NULL) {
		api_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
		    "out of memory");
		return;
	}
	r->status = MHD_HTTP_OK;
	r->out = doc;
}

/*
 * GET /v1/domains/{d}/dns: the records "wkdctl dns DOMAIN" prints (with
 * wkdd.conf's service-name or service-address, acme-ca, tlsrpt-rua,
 * tls-dir, tls-cert), as the zone text and as records.
 */
static void
api_domain_dns(struct api_req *r)
{
	struct ks_txn		*txn;
	struct ks_domain	 d;
	struct zone_conf	 dc;
	struct ks_blob		 b;
	char			 dom[KS_DOMAIN_MAX], *z = NULL, *w, *line, *p;
	char			*f[5];
	size_t			 zlen = 0, nf;
	json_t			*recs;
	FILE			*fp;
	int			 rc;

	memset(&b, 0, sizeof(b));
	if (api_begin(r, KS_RDONLY, &txn) == -1)
		return;
	if (api_dom(r, txn, r->seg[2], dom, &d) == -1) {
		ks_txn_abort(txn);
		return;
	}
	rc = ks_mtasts_get(txn, dom, &b);
	ks_txn_abort(txn);
	if (rc != KS_OK && rc != KS_NOTFOUND) {
		api_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error",
		    "%s", store_strerror(rc));
		return;
	}
	api_zone_conf(r, &dc);
	if ((fp = open_memstream(&z, &zlen)) == NULL) {
		ks_blob_free(&b);
		api_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
		    "out of memory");
		return;
	}
	rc = zone_write(fp, &dc, dom, rc == KS_OK ? b.etag : NULL);
	ks_blob_free(&b);
	if (fclose(fp) != 0 || rc == -1) {
		free(z);
		api_refused(r, MHD_HTTP_CONFLICT, "no_service", rc == -1 ?
		    "wkdd.conf names no service-name or service-address" :
		    "out of memory");
		return;
	}
	/* The records: the lines that aren't comments, by their tabs. */
	recs = json_array();
	if ((w = strdup(z)) != NULL) {
		for (p = w; (line = strsep(&p, "\n")) != NULL;) {
			if (*line == '\0' || *line == ';')
				continue;
			for (nf = 0; nf < 4 && line != NULL; nf++)
				f[nf] = strsep(&line, "\t");
			if (nf < 4 || line == NULL)
				continue;
			f[4] = line;
			json_array_append_new(recs, json_pack("{s:s,s:I,s:s,"
			    "s:s,s:s}", "name", f[0], "ttl",
			    (json_int_t)strtol(f[1], NULL, 10), "class", f[2],
			    "type", f[3], "data", f[4]));
		}
		free(w);
	}
	w = api_uncatch();
	r->status = MHD_HTTP_OK;
	r->out = json_pack("{s:s,s:s,s:o,s:s?}", "domain", dom, "zone", z,
	    "records", recs, "warnings", w != NULL && *w != '\0' ? w : NULL);
	free(w);
	free(z);
	api_catch();
}

/* POST /v1/accounts {"primary": ..., "aliases": [...]} */
static void
api_account_create(struct api_req *r)
{
	static char		 in[API_ALIASES_MAX][KS_ADDR_MAX];
	static char		 al[API_ALIASES_MAX][KS_ADDR_MAX];
	char			 primary[KS_ADDR_MAX], p[KS_ADDR_MAX];
	char			*alv[API_ALIASES_MAX];
	struct ks_txn		*txn;
	json_t			*a;
	size_t			 i, n = 0;
	struct api_field	 f[] = {
		{ "primary", API_STR, 1, p, sizeof(p), NULL, 0, NULL, NULL,
		    0 },
		{ "aliases", API_STRV, 0, NULL, 0, in, API_ALIASES_MAX, &n,
		    NULL, 0 },
	};

	if (!api_writable(r) || api_body(r, f, 2) == -1 ||
	    api_addr(r, p, primary) == -1)
		return;
	for (i = 0; i < n; i++) {
		if (api_addr(r, in[i], al[i]) == -1)
			return;
		alv[i] = al[i];
	}
	if (api_begin(r, 0, &txn) == -1)
		return;
	if (account_create(txn, primary, alv, n) == -1) {
		ks_txn_abort(txn);
		api_refused(r, MHD_HTTP_CONFLICT, "rejected",
		    "the account could not be created");
		return;
	}
	if (api_commit(r, txn) == -1)
		return;
	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(al[i]));
	r->status = MHD_HTTP_CREATED;
	r->out = json_pack("{s:s,s:o}", "account", primary, "aliases", a);
}

/* GET /v1/accounts/{addr} */
static void
api_account_show(struct api_req *r)
{
	struct ks_txn		*txn;
	struct ks_addr		 a;
	struct store_addrs	 l;
	char			 addr[KS_ADDR_MAX];
	json_t			*v;
	size_t			 i;
	int			 removed;

	if (api_addr(r, r->seg[2], addr) == -1 ||
	    api_begin(r, KS_RDONLY, &txn) == -1)
		return;
	memset(&l, 0, sizeof(l));
	if (ks_addr_get(txn, addr, &a) != KS_OK) {
		api_notfound(r);
		goto out;
	}
	if (store_addrs(txn, a.account, &l) == -1 ||
	    account_removed(txn, &a, &removed) != KS_OK) {
		api_refused(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error",
		    "the store failed");
		goto out;
	}
	v = json_array();
	for (i = 0; i < l.n; i++)
		if (api_addr_scoped(r->tk, l.v[i].addr))
			json_array_append_new(v, json_pack("{s:s,s:s,s:s?}",
			    "address", l.v[i].addr, "state",
			    store_state(l.v[i].state), "fpr",
			    l.v[i].fpr[0] != '\0' ? l.v[i].fpr : NULL));
	r->status = MHD_HTTP_OK;
	r->out = json_pack("{s:s?,s:b,s:o}", "account",
	    api_addr_scoped(r->tk, a.account) ? a.account : NULL,
	    "removed", removed, "addresses", v);
out:
	store_addrs_free(&l);
	ks_txn_abort(txn);
}

/* The account addr names, reachable, into acct: 0, or -1 answered. */
static int
api_account_of(struct api_req *r, struct ks_txn *txn, const char *addr,
    char acct[KS_ADDR_MAX])
{
	struct ks_addr	 a;

	if (ks_addr_get(txn, addr, &a) != KS_OK ||
	    !api_addr_scoped(r->tk, a.account)) {
		api_notfound(r);
		return (-1);
	}
	(void)snprintf(acct, KS_ADDR_MAX, "%s", a.account);
	return (0);
}

/* POST /v1/accounts/{addr}/aliases {"alias": ...} */
static void
api_alias_add(struct api_req *r)
{
	struct ks_txn		*txn;
	char			 addr[KS_ADDR_MAX], acct[KS_ADDR_MAX];
	char			 in[KS_ADDR_MAX], alias[KS_ADDR_MAX];
	char			 fpr[KS_FPR_MAX];
	int			 rc;
	struct api_field	 f[] = {
		{ "alias", API_STR, 1, in, sizeof(in), NULL, 0, NULL, NULL,
		    0 },
	};

	if (!api_writable(r) || api_addr(r, r->seg[2], addr) == -1 ||
	    api_body(r, f, 1) == -1 || api_addr(r, in, alias) == -1 ||
	    api_begin(r, 0, &txn) == -1)
		return;
	if (api_account_of(r, txn, addr, acct) == -1) {
		ks_txn_abort(txn);
		return;
	}
	fpr[0] = '\0';
	if ((rc = account_alias_add(txn, acct, alias, fpr)) == -1) {
		ks_txn_abort(txn);
		api_refused(r, MHD_HTTP_CONFLICT, "rejected",
		    "the alias could not be added");
		return;
	}
	if (api_commit(r, txn) == -1)
		return;
	r->status = MHD_HTTP_CREATED;
	r->out = json_pack("{s:s,s:s,s:s?}", "account", acct, "alias", alias,
	    "published", rc == 1 ? fpr : NULL);
}

/* DELETE /v1/accounts/{addr}/aliases/{alias} */
static void
api_alias_retire(struct api_req *r)
{
	struct ks_txn	*txn;
	char		 addr[KS_ADDR_MAX], acct[KS_ADDR_MAX];
	char		 alias[KS_ADDR_MAX];

	if (!api_writable(r) || api_addr(r, r->seg[2], addr) == -1 ||
	    api_addr(r, r->seg[4], alias) == -1 ||
	    api_begin(r, 0, &txn) == -1)
		return;
	if (api_account_of(r, txn, addr, acct) == -1) {
		ks_txn_abort(txn);
		return;
	}
	if (account_alias_retire(txn, acct, alias) == -1) {
		ks_txn_abort(txn);
		api_refused(r, MHD_HTTP_CONFLICT, "rejected",
		    "the alias could not be retired");
		return;
	}
	if (api_commit(r, txn) == -1)
		return;
	r->status = MHD_HTTP_OK;
	r->out = json_pack("{s:s,s:s,s:s}", "account", acct, "alias", alias,
	    "state", "retired");
}

/*
 * Stored key fpr and the addresses serving it (into l), if the token
 * reaches it: a scoped token, only a key serving or imported for one of
 * its addresses, and (all) only if every address serving it is
 * reachable.  0, or -1 answered 404.
 */
static int
api_key_reach(struct api_req *r, struct ks_txn *txn, const char *fpr,
    struct store_addrs *l, int all)
{
	struct ks_certinfo	 ci;
	struct ks_blob		 b;
	size_t			 i, in = 0;

	memset(&b, 0, sizeof(b));
	if (ks_cert_get(txn, fpr, &b) != KS_OK) {
		api_notfound(r);
		return (-1);
	}
	ks_blob_free(&b);
	if (store_addrs_key(txn, fpr, l) == -1) {
		api_refused(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error",
		    "the store failed");
		return (-1);
	}
	if (r->tk->ndomains == 0)
		return (0);
	for (i = 0; i < l->n; i++)
		if (api_addr_scoped(r->tk, l->v[i].addr))
			in++;
	if (in == 0 && ks_certinfo_get(txn, fpr, &ci) == KS_OK &&
	    ci.account[0] != '\0' && api_addr_scoped(r->tk, ci.account))
		in++;
	if (in == 0 || (all && in != l->n)) {
		api_notfound(r);
		return (-1);
	}
	return (0);
}

/* The same for a fingerprint as the client wrote it (seg). */
static int
api_key(struct api_req *r, struct ks_txn *txn, const char *seg,
    char fpr[KS_FPR_MAX], struct store_addrs *l, int all)
{
	if (cli_fpr(seg, fpr) == -1) {
		api_notfound(r);
		return (-1);
	}
	return (api_key_reach(r, txn, fpr, l, all));
}

/*
 * A scoped token uploads only new keys or keys it reaches whole: a
 * stored key merged with the upload would change another tenant's.
 * 0, or -1 answered 404.
 */
static int
api_keys_reach(struct api_req *r, struct ks_txn *txn,
    const struct pgp_certs *certs)
{
	struct store_addrs	 l;
	struct ks_blob		 b;
	size_t			 i;
	int			 rc;

	if (r->tk->ndomains == 0)
		return (0);
	for (i = 0; i < certs->n; i++) {
		memset(&b, 0, sizeof(b));
		if (ks_cert_get(txn, certs->v[i].fpr, &b) != KS_OK)
			continue;
		ks_blob_free(&b);
		memset(&l, 0, sizeof(l));
		rc = api_key_reach(r, txn, certs->v[i].fpr, &l, 1);
		store_addrs_free(&l);
		if (rc == -1)
			return (-1);
	}
	return (0);
}

/* The sync report as "account sync --json" prints it, as JSON. */
static json_t *
api_sync_report(const struct sync_report *rep, int dry, int written)
{
	json_t	*j;
	char	*s = NULL;
	size_t	 len = 0;
	FILE	*fp;

	if ((fp = open_memstream(&s, &len)) == NULL)
		return (NULL);
	sync_print_json(fp, "(request)", rep, dry, written);
	if (fclose(fp) != 0) {
		free(s);
		return (NULL);
	}
	j = json_loadb(s, len, 0, NULL);
	free(s);
	return (j);
}

/*
 * POST /v1/accounts/sync[?dry_run=1]: the body is an "account sync" file
 * (a line per account: primary, then aliases, tab-separated), applied as
 * that command does, in one transaction.  A scoped token may name only
 * addresses of its domains (else 404, nothing done).
 */
static void
api_accounts_sync(struct api_req *r)
{
	struct sync_report	 rep;
	struct ks_txn		*txn;
	const char		*q;
	FILE			*fp;
	size_t			 i, j;
	int			 rd, dry, written = 0;

	memset(&rep, 0, sizeof(rep));
	q = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND,
	    "dry_run");
	dry = q != NULL && (strcmp(q, "1") == 0 || strcmp(q, "true") == 0);
	if (!api_writable(r))
		return;
	if (r->len == 0 || (fp = fmemopen((void *)(uintptr_t)r->body, r->len,
	    "r")) == NULL) {
		api_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "no sync file in the body");
		return;
	}
	rd = sync_read(fp, "(request)", &rep);
	(void)fclose(fp);
	if (rd == -1) {
		api_refused(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "the sync file could not be read");
		goto out;
	}
	for (i = 0; i < rep.n; i++)
		for (j = 0; j < rep.v[i].n; j++)
			if (rep.v[i].v[j].norm &&
			    !api_addr_scoped(r->tk, rep.v[i].v[j].addr)) {
				api_notfound(r);
				goto out;
			}
	if (api_begin(r, 0, &txn) == -1)
		goto out;
	if (sync_accounts(txn, NULL, &rep) == -1) {
		ks_txn_abort(txn);
		api_refused(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error",
		    "the sync failed: nothing changed");
		goto out;
	}
	if (dry || (rep.added == 0 && rep.aliases == 0))
		ks_txn_abort(txn);
	else if (api_commit(r, txn) == -1)
		goto out;
	else
		written = 1;
	r->status = rep.conflicts > 0 ? MHD_HTTP_MULTI_STATUS : MHD_HTTP_OK;
	if ((r->out = api_sync_report(&rep, dry, written)) == NULL)
		api_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
		    "the report could not be made");
out:
	sync_report_free(&rep);
}

/*
 * DELETE /v1/accounts/{primary} (account remove): everything its
 * addresses publish taken down; they stay bound to it for good.  A scoped
 * token needs every address of the account in its domains.
 */
static void
api_account_remove(struct api_req *r)
{
	struct ks_txn		*txn;
	struct store_addrs	 l;
	struct ks_addr		 a;
	char			 addr[KS_ADDR_MAX];
	size_t			 i, nunpub, nbound;

	memset(&l, 0, sizeof(l));
	if (!api_writable(r) || api_addr(r, r->seg[2], addr) == -1 ||
	    api_begin(r, 0, &txn) == -1)
		return;
	if (ks_addr_get(txn, addr, &a) != KS_OK ||
	    store_addrs(txn, a.account, &l) == -1) {
		ks_txn_abort(txn);
		api_notfound(r);
		goto out;
	}
	for (i = 0; i < l.n; i++)
		if (!api_addr_scoped(r->tk, l.v[i].addr)) {
			ks_txn_abort(txn);
			api_notfound(r);
			goto out;
		}
	if (account_retire(txn, addr, &nunpub, &nbound) == -1) {
		ks_txn_abort(txn);
		api_refused(r, MHD_HTTP_CONFLICT, "rejected",
		    "the account could not be removed");
		goto out;
	}
	if (api_commit(r, txn) == -1)
		goto out;
	r->status = MHD_HTTP_OK;
	r->out = json_pack("{s:s,s:b,s:I,s:I}", "account", addr, "removed",
	    1, "unpublished", (json_int_t)nunpub, "bound",
	    (json_int_t)nbound);
out:
	store_addrs_free(&l);
}

/* POST /v1/addresses/{addr}/unpublish and .../publish */
static void
api_address_publish(struct api_req *r)
{
	struct ks_txn	*txn;
	char		 addr[KS_ADDR_MAX], fpr[KS_FPR_MAX];
	int		 on = strcmp(r->seg[3], "publish") == 0, rc;

	if (!api_writable(r) || api_addr(r, r->seg[2], addr) == -1 ||
	    api_begin(r, 0, &txn) == -1)
		return;
	fpr[0] = '\0';
	rc = on ? publish_on(txn, addr, fpr) : publish_off(txn, addr, fpr);
	if (rc == -1) {
		ks_txn_abort(txn);
		api_refused(r, MHD_HTTP_CONFLICT, "rejected", on ?
		    "the address could not be published" :
		    "the address could not be unpublished");
		return;
	}
	if (api_commit(r, txn) == -1)
		return;
	r->status = MHD_HTTP_OK;
	r->out = on ? json_pack("{s:s,s:b,s:s?}", "address", addr,
	    "published", rc == 1, "fpr", rc == 1 ? fpr : NULL) :
	    json_pack("{s:s,s:b,s:s?}", "address", addr, "published", 0,
	    "was", fpr[0] != '\0' ? fpr : NULL);
}

/* pgp_read()'s filter: UIDs of hosted domains the token reaches. */
struct api_hosted {
	struct ks_txn		*txn;
	const struct ks_token	*tk;
};

static int
api_hosted_cb(const char *domain, void *arg)
{
	struct api_hosted	*h = arg;
	struct ks_domain	 d;

	return (token_scoped(h->tk, domain) &&
	    ks_domain_get(h->txn, domain, &d) == KS_OK);
}

/* The import report as the CLI's --json prints it, as JSON. */
static json_t *
api_report(const struct import_report *rep, int committed)
{
	json_t	*j;
	char	*s = NULL;
	size_t	 len = 0;
	FILE	*fp;

	if ((fp = open_memstream(&s, &len)) == NULL)
		return (NULL);
	import_json(fp, rep, committed);
	if (fclose(fp) != 0) {
		free(s);
		return (NULL);
	}
	j = json_loadb(s, len, 0, NULL);
	free(s);
	return (j);
}

/*
 * POST /v1/keys[?account=ADDR]: the body is keys as "wkdctl import"
 * reads them (binary or armored, public or secret).
 */
static void
api_keys_import(struct api_req *r)
{
	struct pgp_certs	 certs;
	struct import_report	 rep;
	struct api_hosted	 h;
	struct ks_txn		*txn;
	struct pass		 pp;
	const char		*account;
	char			 addr[KS_ADDR_MAX], acct[KS_ADDR_MAX];
	json_t			*rj;
	int			 st;

	memset(&certs, 0, sizeof(certs));
	memset(&rep, 0, sizeof(rep));
	pass_init(&pp);
	pp.state = -1;		/* No passphrase: never a prompt. */
	account = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND,
	    "account");
	if (!api_writable(r) ||
	    (account != NULL && api_addr(r, account, addr) == -1))
		return;
	if (r->len == 0) {
		api_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "no key in the body");
		return;
	}
	if (api_begin(r, 0, &txn) == -1)
		return;
	if (account != NULL && (import_account(txn, addr, acct) == -1 ||
	    !api_addr_scoped(r->tk, acct))) {
		ks_txn_abort(txn);
		api_error(r, MHD_HTTP_NOT_FOUND, "not_found",
		    "no such account");
		return;
	}
	h.txn = txn;
	h.tk = r->tk;
	certs.hosted = api_hosted_cb;
	certs.hosted_arg = &h;
	if (pgp_read("(request)", r->body, r->len, &pp, &certs) == -1) {
		ks_txn_abort(txn);
		api_refused(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "bad_key",
		    "the body holds no OpenPGP key that can be read");
		goto out;
	}
	certs.hosted = NULL;
	if (api_keys_reach(r, txn, &certs) == -1) {
		ks_txn_abort(txn);
		goto out;
	}
	pgp_precheck(&certs);
	if (certs.n == 0) {
		ks_txn_abort(txn);
		api_refused(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "bad_key",
		    "the body holds no OpenPGP key that can be read");
		goto out;
	}
	if (import_keys(txn, account != NULL ? acct : NULL, &certs, 0, NULL,
	    &rep) == -1 || rep.n == 0 || import_status(&rep) == 1) {
		ks_txn_abort(txn);
		api_refused(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "key_rejected",
		    rep.n == 0 ? "no OpenPGP key found" :
		    "no key was imported: the store is unchanged");
		if ((rj = api_report(&rep, 0)) != NULL)
			json_object_set_new(r->out, "report", rj);
		goto out;
	}
	st = import_status(&rep);
	if (api_commit(r, txn) == -1)
		goto out;
	r->status = st == 0 ? MHD_HTTP_OK : MHD_HTTP_MULTI_STATUS;
	if ((r->out = api_report(&rep, 1)) == NULL)
		api_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
		    "the report could not be made");
out:
	pass_clear(&pp);
	import_report_free(&rep);
	pgp_certs_free(&certs);
}

/* show_key_info()'s description as JSON, UIDs outside the scope left out. */
static void
api_key_describe(struct api_req *r, const char *d, json_t *o)
{
	json_t		*uids = json_array();
	const char	*p, *nl, *t;
	char		 line[1024], addr[KS_ADDR_MAX];
	size_t		 len, tl;
	int		 revoked;

	for (p = d; p != NULL && *p != '\0'; p = *nl != '\0' ? nl + 1 : nl) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		len = nl - p;
		if (len >= sizeof(line))
			continue;
		memcpy(line, p, len);
		line[len] = '\0';
		if (strncmp(line, "uid: ", 5) == 0) {
			t = line + 5;
			tl = strlen(t);
			if ((revoked = tl > 10 &&
			    strcmp(t + tl - 10, " (revoked)") == 0))
				tl -= 10;
			/* Of a domain the token doesn't reach: not said. */
			if (r->tk->ndomains > 0 && (ks_uid_addr(t, tl, addr,
			    sizeof(addr)) != KS_OK ||
			    !api_addr_scoped(r->tk, addr)))
				continue;
			json_array_append_new(uids, json_pack("{s:s%,s:b}",
			    "uid", t, tl, "revoked", revoked));
		} else if (strncmp(line, "subkeys: ", 9) == 0)
			json_object_set_new(o, "subkeys", json_integer(
			    strtol(line + 9, NULL, 10)));
	}
	json_object_set_new(o, "uids", uids);
}

/* GET /v1/keys/{fpr}: what "wkdctl show FPR" says. */
static void
api_key_show(struct api_req *r)
{
	struct ks_txn		*txn;
	struct store_addrs	 l;
	struct show_keyinfo	 k;
	char			 fpr[KS_FPR_MAX], when[32];
	json_t			*a, *rv;
	size_t			 i;
	int			 rc;

	memset(&l, 0, sizeof(l));
	if (api_begin(r, KS_RDONLY, &txn) == -1)
		return;
	if (api_key(r, txn, r->seg[2], fpr, &l, 0) == -1) {
		ks_txn_abort(txn);
		goto out;
	}
	rc = show_key_info(txn, fpr, &k);
	ks_txn_abort(txn);
	if (rc == -1) {
		api_refused(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error",
		    "the key could not be read");
		goto out;
	}
	a = json_array();
	for (i = 0; i < k.served.n; i++)
		if (api_addr_scoped(r->tk, k.served.v[i].addr))
			json_array_append_new(a,
			    json_string(k.served.v[i].addr));
	rv = json_array();
	for (i = 0; i < 4; i++)
		if (k.revreasons & (1U << i))
			json_array_append_new(rv,
			    json_string(pgp_reason_name(i)));
	r->out = json_pack("{s:s,s:s,s:I,s:o,s:{s:b,s:o}}", "fpr", fpr,
	    "state", k.state, "size", (json_int_t)k.size, "served", a,
	    "revocation_certificate", "stored", k.hasrev, "reasons", rv);
	if (k.info) {
		io_date(k.created, when, sizeof(when));
		json_object_set_new(r->out, "created", json_string(when));
		if (k.expires != 0) {
			io_date(k.expires, when, sizeof(when));
			json_object_set_new(r->out, "expires",
			    json_string(when));
		} else
			json_object_set_new(r->out, "expires", json_null());
		json_object_set_new(r->out, "revoked",
		    json_boolean(k.revoked));
		json_object_set_new(r->out, "expired",
		    json_boolean(k.expired));
	}
	api_key_describe(r, k.describe, r->out);
	r->status = MHD_HTTP_OK;
	show_keyinfo_free(&k);
out:
	store_addrs_free(&l);
}

/* ?armor=1: b armored into the answer; else b itself. b is taken. */
static void
api_export_answer(struct api_req *r, struct ks_blob *b)
{
	const char	*q;
	char		*arm;
	size_t		 alen;

	q = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, "armor");
	if (q != NULL && (strcmp(q, "1") == 0 || strcmp(q, "true") == 0)) {
		if (pgp_armor(b->data, b->len, &arm, &alen) == -1) {
			ks_blob_free(b);
			api_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "internal", "the key could not be armored");
			return;
		}
		ks_blob_free(b);
		r->raw = (unsigned char *)arm;
		r->rawlen = alen;
		r->ctype = "application/pgp-keys";
	} else if (q != NULL && strcmp(q, "0") != 0 &&
	    strcmp(q, "false") != 0) {
		ks_blob_free(b);
		api_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "armor: 1 or 0");
		return;
	} else {
		r->raw = b->data;
		r->rawlen = b->len;
		b->data = NULL;
		r->ctype = "application/octet-stream";
	}
	r->status = MHD_HTTP_OK;
}

/*
 * GET /v1/keys/{fpr}/export[?armor=1]: the stored certificate ("export
 * --key").  A scoped token, only a key it reaches whole: its UIDs might
 * name other tenants' addresses otherwise.
 */
static void
api_key_export(struct api_req *r)
{
	struct ks_txn		*txn;
	struct store_addrs	 l;
	struct ks_blob		 b;
	char			 fpr[KS_FPR_MAX];
	int			 rc;

	memset(&l, 0, sizeof(l));
	if (api_begin(r, KS_RDONLY, &txn) == -1)
		return;
	if (api_key(r, txn, r->seg[2], fpr, &l, 1) == -1) {
		ks_txn_abort(txn);
		store_addrs_free(&l);
		return;
	}
	store_addrs_free(&l);
	rc = show_export(txn, NULL, fpr, &b);
	ks_txn_abort(txn);
	if (rc == -1) {
		api_refused(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error",
		    "the key could not be read");
		return;
	}
	api_export_answer(r, &b);
}

/* GET /v1/addresses/{addr}/export[?armor=1]: the bytes served there. */
static void
api_address_export(struct api_req *r)
{
	struct ks_txn	*txn;
	struct ks_blob	 b;
	char		 addr[KS_ADDR_MAX];
	int		 rc;

	if (api_addr(r, r->seg[2], addr) == -1 ||
	    api_begin(r, KS_RDONLY, &txn) == -1)
		return;
	rc = show_export(txn, addr, NULL, &b);
	ks_txn_abort(txn);
	if (rc == -1) {
		api_refused(r, MHD_HTTP_NOT_FOUND, "not_found",
		    "no key published there");
		return;
	}
	api_export_answer(r, &b);
}

/*
 * GET /v1/keys[?domain=D | ?account=ADDR]: the published addresses and
 * their keys, as "wkdctl list" has them, grouped by key.  A scoped token
 * sees only its domains' addresses.
 */
struct api_keys {
	struct api_req	*r;
	json_t		*keys;		/* By fingerprint. */
};

static int
api_keys_add(const struct show_item *it, void *arg)
{
	struct api_keys	*w = arg;
	json_t		*k, *a;

	if (!api_addr_scoped(w->r->tk, it->addr))
		return (0);
	if ((k = json_object_get(w->keys, it->fpr)) == NULL) {
		k = json_pack("{s:s,s:s,s:[]}", "fpr", it->fpr, "state",
		    it->state, "addresses");
		if (k == NULL || json_object_set_new(w->keys, it->fpr, k) == -1)
			return (-1);
	}
	a = json_pack("{s:s,s:s}", "address", it->addr, "account",
	    it->account);
	return (json_array_append_new(json_object_get(k, "addresses"), a));
}

static void
api_keys_list(struct api_req *r)
{
	struct ks_txn		*txn;
	struct ks_domain	 d;
	struct api_keys		 w;
	const char		*qd, *qa, *key;
	char			 dom[KS_DOMAIN_MAX], addr[KS_ADDR_MAX];
	char			 acct[KS_ADDR_MAX];
	json_t			*v, *arr;
	size_t			 i;
	int			 rc = 0;

	qd = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND,
	    "domain");
	qa = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND,
	    "account");
	if (qd != NULL && qa != NULL) {
		api_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "domain or account, not both");
		return;
	}
	if (qa != NULL && api_addr(r, qa, addr) == -1)
		return;
	if (api_begin(r, KS_RDONLY, &txn) == -1)
		return;
	w.r = r;
	if ((w.keys = json_object()) == NULL)
		goto fail;
	if (qd != NULL) {
		if (api_dom(r, txn, qd, dom, &d) == -1)
			goto out;
		rc = show_list(txn, dom, NULL, api_keys_add, &w);
	} else if (qa != NULL) {
		if (api_account_of(r, txn, addr, acct) == -1)
			goto out;
		rc = show_list(txn, NULL, acct, api_keys_add, &w);
	} else if (r->tk->ndomains == 0)
		rc = show_list(txn, NULL, NULL, api_keys_add, &w);
	else
		for (i = 0; i < r->tk->ndomains && rc == 0; i++)
			if (ks_domain_get(txn, r->tk->domains[i], &d) == KS_OK)
				rc = show_list(txn, r->tk->domains[i], NULL,
				    api_keys_add, &w);
	if (rc == -1 || (arr = json_array()) == NULL)
		goto fail;
	json_object_foreach(w.keys, key, v)
		json_array_append(arr, v);
	r->status = MHD_HTTP_OK;
	r->out = json_pack("{s:o}", "keys", arr);
	goto out;
fail:
	api_refused(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error",
	    "the store failed");
out:
	json_decref(w.keys);
	ks_txn_abort(txn);
}

/* POST /v1/keys/{fpr}/revoke [{"reason": ...}]: the stored certificate. */
static void
api_key_revoke(struct api_req *r)
{
	struct revoke_req	 req;
	struct revoke_result	 res;
	struct ks_txn		*txn;
	struct store_addrs	 l;
	char			 fpr[KS_FPR_MAX], reason[32];
	const char		*ct;
	json_t			*a;
	size_t			 i;
	struct api_field	 f[] = {
		{ "reason", API_STR, 0, reason, sizeof(reason), NULL, 0, NULL,
		    NULL, 0 },
	};

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	memset(&l, 0, sizeof(l));
	req.reason = PGP_REV_UNSPECIFIED;
	if (!api_writable(r))
		return;
	ct = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	/* A revocation certificate made elsewhere (gpg's .rev), verified. */
	if (r->len > 0 && ct != NULL &&
	    (strncmp(ct, "application/pgp-signature", 25) == 0 ||
	    strncmp(ct, "application/octet-stream", 24) == 0)) {
		req.certdata = r->body;
		req.certlen = r->len;
		req.certname = "(request)";
	} else if (r->len > 0 && api_body(r, f, 1) == -1)
		return;
	if (req.certdata == NULL && r->len > 0 && f[0].seen &&
	    (req.reason = pgp_reason_code(reason)) == -1) {
		api_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", "reason: "
		    "one of compromised, superseded, retired, unspecified");
		return;
	}
	if (api_begin(r, 0, &txn) == -1)
		return;
	if (api_key(r, txn, r->seg[2], fpr, &l, 1) == -1) {
		ks_txn_abort(txn);
		goto out;
	}
	req.fpr = fpr;
	if (revoke_key(txn, &req, &res) == -1) {
		ks_txn_abort(txn);
		api_refused(r, MHD_HTTP_CONFLICT, "rejected",
		    "the key could not be revoked");
		goto out;
	}
	if (api_commit(r, txn) == -1)
		goto out;
	a = json_array();
	for (i = 0; i < res.nserved; i++)
		json_array_append_new(a, json_string(res.served[i]));
	r->status = MHD_HTTP_OK;
	r->out = json_pack("{s:s,s:s,s:o}", "fpr", fpr, "reason",
	    pgp_reason_name(res.reason), "served", a);
out:
	revoke_result_free(&res);
	store_addrs_free(&l);
}

/*
 * DELETE /v1/keys/{fpr} (wkdctl remove): the key and all it published; a
 * scoped token, only a key it reaches whole.
 */
static void
api_key_remove(struct api_req *r)
{
	struct ks_txn		*txn;
	struct store_addrs	 l, gone;
	char			 fpr[KS_FPR_MAX];
	json_t			*a;
	size_t			 i;

	memset(&l, 0, sizeof(l));
	memset(&gone, 0, sizeof(gone));
	if (!api_writable(r) || api_begin(r, 0, &txn) == -1)
		return;
	if (api_key(r, txn, r->seg[2], fpr, &l, 1) == -1) {
		ks_txn_abort(txn);
		goto out;
	}
	if (remove_key(txn, fpr, &gone) == -1) {
		ks_txn_abort(txn);
		api_refused(r, MHD_HTTP_CONFLICT, "rejected",
		    "the key could not be removed");
		goto out;
	}
	if (api_commit(r, txn) == -1)
		goto out;
	a = json_array();
	for (i = 0; i < gone.n; i++)
		json_array_append_new(a, json_string(gone.v[i].addr));
	r->status = MHD_HTTP_OK;
	r->out = json_pack("{s:s,s:b,s:o}", "fpr", fpr, "removed", 1,
	    "unpublished", a);
out:
	store_addrs_free(&gone);
	store_addrs_free(&l);
}

/*
 * POST /v1/addresses/{addr}/republish, /v1/accounts/{addr}/republish,
 * /v1/domains/{d}/republish: "wkdctl republish", its report as JSON.  A
 * scoped token, an account only if all its addresses are in its domains.
 */
static void
api_republish(struct api_req *r)
{
	static const char *const what[] = {
	    "published", "unchanged", "nothing to publish", "skipped" };
	struct republish_report	 rep;
	struct ks_txn		*txn;
	struct ks_domain	 d;
	struct ks_addr		 a;
	struct store_addrs	 l;
	char			 addr[KS_ADDR_MAX], dom[KS_DOMAIN_MAX];
	const char		*kind = r->seg[1];
	json_t			*arr;
	size_t			 i;

	memset(&rep, 0, sizeof(rep));
	memset(&l, 0, sizeof(l));
	if (!api_writable(r))
		return;
	if (strcmp(kind, "domains") != 0 && api_addr(r, r->seg[2], addr) == -1)
		return;
	if (api_begin(r, 0, &txn) == -1)
		return;
	if (strcmp(kind, "domains") == 0) {
		if (api_dom(r, txn, r->seg[2], dom, &d) == -1)
			goto abort;
	} else {
		if (ks_addr_get(txn, addr, &a) != KS_OK ||
		    store_addrs(txn, a.account, &l) == -1) {
			api_notfound(r);
			goto abort;
		}
		for (i = 0; i < l.n; i++)
			if (strcmp(kind, "accounts") == 0 &&
			    !api_addr_scoped(r->tk, l.v[i].addr)) {
				api_notfound(r);
				goto abort;
			}
	}
	if (republish_addrs(txn, strcmp(kind, "domains") == 0 ? dom : NULL,
	    strcmp(kind, "domains") == 0 ? NULL : a.account,
	    strcmp(kind, "addresses") == 0 ? addr : NULL, &rep) == -1) {
		api_refused(r, MHD_HTTP_CONFLICT, "rejected",
		    "nothing could be republished");
		goto abort;
	}
	if (api_commit(r, txn) == -1)
		goto out;
	arr = json_array();
	for (i = 0; i < rep.n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s?,s:s?,"
		    "s:s?}", "address", rep.v[i].addr, "result",
		    what[rep.v[i].what], "fpr",
		    rep.v[i].what <= REPUBLISH_SAME ? rep.v[i].fpr : NULL,
		    "was", rep.v[i].what == REPUBLISH_PUBLISHED &&
		    rep.v[i].old[0] != '\0' ? rep.v[i].old : NULL, "why",
		    rep.v[i].what > REPUBLISH_SAME ? rep.v[i].why : NULL));
	r->status = MHD_HTTP_OK;
	r->out = json_pack("{s:o}", "republished", arr);
	goto out;
abort:
	ks_txn_abort(txn);
out:
	store_addrs_free(&l);
	free(rep.v);
}

/*
 * GET /v1/log: the audit log, oldest first, filtered (api_logq), a page
 * at a time: "next" is the "after" of the next page, null at the end.  A
 * scoped token sees entries about its domains and their addresses, and
 * those it made itself (of keys it uploaded or revoked, say).
 */
struct api_log {
	const struct ks_token	*tk;
	struct api_logq		 q;
	char			 self[KS_TOKEN_NAME_MAX + 8];
	size_t			 n;
	uint64_t		 last;
	int			 more;
	json_t			*a;
};

static int
api_log_cb(const struct ks_logent *e, void *arg)
{
	struct api_log	*w = arg;
	const char	*at;
	char		 when[32];
	struct tm	 tm;
	time_t		 t = e->time;

	if (w->q.until != 0 && e->time > w->q.until)
		return (0);
	if (w->q.subject[0] != '\0' && !audit_match(w->q.subject, w->q.kind,
	    e))
		return (0);
	if (w->q.domain[0] != '\0' && !audit_match(w->q.domain, 2, e))
		return (0);
	if (w->q.actor[0] != '\0' && strcmp(w->q.actor, e->user) != 0)
		return (0);
	if (w->q.action[0] != '\0' && strstr(e->detail, w->q.action) == NULL)
		return (0);
	if (w->tk->ndomains > 0 && strcmp(e->user, w->self) != 0 &&
	    ((at = strrchr(e->subject, '@')) != NULL ?
	    !token_scoped(w->tk, at + 1) : !token_scoped(w->tk, e->subject)))
		return (0);
	if (w->n == w->q.limit) {
		w->more = 1;
		return (1);
	}
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(when, sizeof(when), "@%lld",
		    (long long)e->time);
	json_array_append_new(w->a, json_pack("{s:I,s:s,s:I,s:s,s:s,s:s,s:s}",
	    "seq", (json_int_t)e->seq, "time", when, "epoch",
	    (json_int_t)e->time, "user", e->user, "command", e->cmd,
	    "subject", e->subject, "detail", e->detail));
	w->last = e->seq;
	w->n++;
	return (0);
}

/* MHD_get_connection_values()'s callback: each query argument into q. */
struct api_args {
	struct api_logq	*q;
	char		 err[256];
	int		 bad;
};

static enum MHD_Result
api_log_args_cb(void *arg, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct api_args	*a = arg;

	(void)kind;
	if (api_log_arg(a->q, key, value, a->err, sizeof(a->err)) == -1) {
		a->bad = 1;
		return (MHD_NO);
	}
	return (MHD_YES);
}

static void
api_log(struct api_req *r)
{
	struct api_log	 w;
	struct api_args	 args;
	struct ks_txn	*txn;
	int		 rc;

	memset(&w, 0, sizeof(w));
	w.tk = r->tk;
	(void)snprintf(w.self, sizeof(w.self), "token:%s", r->tk->name);
	api_log_init(&w.q);
	memset(&args, 0, sizeof(args));
	args.q = &w.q;
	(void)MHD_get_connection_values(r->c, MHD_GET_ARGUMENT_KIND,
	    api_log_args_cb, &args);
	if (args.bad) {
		api_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", "%s",
		    args.err);
		return;
	}
	/* A subject or domain out of scope is as one never logged. */
	if ((w.q.domain[0] != '\0' && !token_scoped(r->tk, w.q.domain)) ||
	    (w.q.subject[0] != '\0' && w.q.kind == 2 &&
	    !token_scoped(r->tk, w.q.subject)) ||
	    (w.q.subject[0] != '\0' && w.q.kind == 0 &&
	    !api_addr_scoped(r->tk, w.q.subject))) {
		api_notfound(r);
		return;
	}
	if (api_begin(r, KS_RDONLY, &txn) == -1)
		return;
	w.a = json_array();
	rc = ks_log_after(txn, w.q.after, w.q.since, api_log_cb, &w);
	ks_txn_abort(txn);
	if (rc != KS_OK && rc != 1) {
		json_decref(w.a);
		api_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error",
		    "%s", store_strerror(rc));
		return;
	}
	r->status = MHD_HTTP_OK;
	r->out = w.more ? json_pack("{s:o,s:I}", "entries", w.a, "next",
	    (json_int_t)w.last) : json_pack("{s:o,s:n}", "entries", w.a,
	    "next");
}

/* The routes: method, path segments after "v1" ("*": any one). */
/*
 * GET /v1/locate?addr=ADDR: "wkdctl locate --json" for another domain's
 * address (any token: nothing of ours is read or changed), by WKD then
 * serve's --vks; 200 with found true or false, the tries and their
 * errors.  Requests wait meanwhile (one at a time): each try is bounded
 * by https_fetch()'s timeouts.
 */
static void
api_locate(struct api_req *r)
{
	const char	*q;
	char		 addr[KS_ADDR_MAX], dom[KS_DOMAIN_MAX];

	q = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, "addr");
	if (q == NULL || ks_addr_norm(q, addr, sizeof(addr), dom,
	    sizeof(dom)) != KS_OK) {
		api_error(r, MHD_HTTP_BAD_REQUEST, "bad_address",
		    "addr: not a mail address");
		return;
	}
	if ((r->out = locate_lookup(addr, r->api->vks, r->api->cafile)) ==
	    NULL) {
		api_refused(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "locate_failed",
		    "the address could not be looked up");
		return;
	}
	r->status = MHD_HTTP_OK;
}

/*
 * GET /v1/tlsrpt[?domain=D][&days=N | &since=TIME]: "wkdctl tlsrpt
 * summary --json", the stored TLS reports per domain; a scoped token
 * sees its domains' only (another domain is 404).
 */
static void
api_tlsrpt(struct api_req *r)
{
	struct ks_txn		*txn;
	struct ks_domain	 d;
	const char		*qd, *qn, *qs;
	char			 dom[KS_DOMAIN_MAX], *end, when[32];
	int64_t			 since = 0;
	long			 days;
	json_t			*a;
	size_t			 i;
	int			 rc = 0;

	qd = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND,
	    "domain");
	qn = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, "days");
	qs = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND,
	    "since");
	if (qn != NULL && qs != NULL) {
		api_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "days or since, not both");
		return;
	}
	if (qn != NULL) {
		errno = 0;
		days = strtol(qn, &end, 10);
		if (errno != 0 || end == qn || *end != '\0' || days < 1 ||
		    days > 36500) {
			api_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
			    "days: from 1 to 36500");
			return;
		}
		since = (int64_t)time(NULL) - (int64_t)days * 86400;
	}
	if (qs != NULL && audit_time(qs, &since) == -1) {
		api_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "since: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]Z or @SECONDS");
		return;
	}
	if (api_begin(r, KS_RDONLY, &txn) == -1)
		return;
	if ((a = json_array()) == NULL)
		goto fail;
	if (qd != NULL) {
		if (api_dom(r, txn, qd, dom, &d) == -1)
			goto out;
		rc = tlsrpt_summary_add(txn, dom, since, a);
	} else if (r->tk->ndomains == 0)
		rc = tlsrpt_summary_add(txn, NULL, since, a);
	else
		for (i = 0; i < r->tk->ndomains && rc == 0; i++)
			rc = tlsrpt_summary_add(txn, r->tk->domains[i], since,
			    a);
	if (rc == -1)
		goto fail;
	r->status = MHD_HTTP_OK;
	r->out = json_pack("{s:O}", "domains", a);
	if (r->out != NULL && since != 0) {
		io_date(since, when, sizeof(when));
		json_object_set_new(r->out, "since", json_string(when));
	}
	goto out;
fail:
	api_refused(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error",
	    "the store failed");
out:
	json_decref(a);
	ks_txn_abort(txn);
}

static const struct api_route {
	const char	*method;
	size_t		 nseg;
	const char	*seg[API_SEGS];
	void		(*fn)(struct api_req *);
} api_routes[] = {
	{ "GET", 2, { "v1", "domains" }, api_domains },
	{ "GET", 3, { "v1", "domains", "*" }, api_domain },
	{ "GET", 4, { "v1", "domains", "*", "dns" }, api_domain_dns },
	{ "POST", 4, { "v1", "domains", "*", "republish" }, api_republish },
	{ "POST", 4, { "v1", "domains", "*", "check" }, api_domain_check },
	{ "POST", 2, { "v1", "accounts" }, api_account_create },
	{ "POST", 3, { "v1", "accounts", "sync" }, api_accounts_sync },
	{ "GET", 3, { "v1", "accounts", "*" }, api_account_show },
	{ "DELETE", 3, { "v1", "accounts", "*" }, api_account_remove },
	{ "POST", 4, { "v1", "accounts", "*", "republish" }, api_republish },
	{ "POST", 4, { "v1", "accounts", "*", "aliases" }, api_alias_add },
	{ "DELETE", 5, { "v1", "accounts", "*", "aliases", "*" },
	    api_alias_retire },
	{ "GET", 2, { "v1", "keys" }, api_keys_list },
	{ "POST", 2, { "v1", "keys" }, api_keys_import },
	{ "GET", 3, { "v1", "keys", "*" }, api_key_show },
	{ "DELETE", 3, { "v1", "keys", "*" }, api_key_remove },
	{ "POST", 4, { "v1", "keys", "*", "revoke" }, api_key_revoke },
	{ "GET", 4, { "v1", "keys", "*", "export" }, api_key_export },
	{ "GET", 2, { "v1", "log" }, api_log },
	{ "POST", 4, { "v1", "addresses", "*", "publish" },
	    api_address_publish },
	{ "POST", 4, { "v1", "addresses", "*", "unpublish" },
	    api_address_publish },
	{ "POST", 4, { "v1", "addresses", "*", "republish" }, api_republish },
	{ "GET", 4, { "v1", "addresses", "*", "export" }, api_address_export },
	{ "GET", 2, { "v1", "locate" }, api_locate },
	{ "GET", 2, { "v1", "tlsrpt" }, api_tlsrpt },
};

static void
api_route(struct api_req *r)
{
	const struct api_route	*rt;
	size_t			 i, j;
	int			 path = 0;

	for (i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++) {
		rt = &api_routes[i];
		if (rt->nseg != r->nseg)
			continue;
		for (j = 0; j < rt->nseg; j++)
			if (strcmp(rt->seg[j], "*") != 0 &&
			    strcmp(rt->seg[j], r->seg[j]) != 0)
				break;
		if (j < rt->nseg)
			continue;
		path = 1;
		if (strcmp(rt->method, r->method) == 0) {
			rt->fn(r);
			return;
		}
	}
	if (path)
		api_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
		    "method not allowed here");
	else
		api_notfound(r);
}

/* The bearer token of the request, checked, into *tk: 0 or -1. */
static int
api_auth(struct api *api, struct MHD_Connection *c, struct ks_token *tk)
{
	struct ks_txn	*txn;
	const char	*h;
	int		 rc;

	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return (-1);
	if (store_begin(api->ctl, KS_RDONLY, &txn) == -1)
		return (-1);
	rc = token_auth(txn, h + 7, tk);
	ks_txn_abort(txn);
	return (rc);
}

/*
 * May token name make a request now?  Each token has a bucket of
 * api->rate requests, refilled at api->rate a second; the least recently
 * used slot goes to a token not seen lately.
 */
static int
api_rate_ok(struct api *api, const char *name)
{
	struct api_rate	*b, *old = NULL;
	struct timespec	 now;
	double		 dt;
	size_t		 i;

	if (api->rate == 0)
		return (1);
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	for (i = 0, b = NULL; i < API_RATE_SLOTS; i++) {
		if (strcmp(api->rates[i].name, name) == 0) {
			b = &api->rates[i];
			break;
		}
		if (old == NULL || api->rates[i].last.tv_sec <
		    old->last.tv_sec)
			old = &api->rates[i];
	}
	if (b == NULL) {
		b = old;
		(void)snprintf(b->name, sizeof(b->name), "%s", name);
		b->left = api->rate;
	} else {
		dt = (now.tv_sec - b->last.tv_sec) +
		    (now.tv_nsec - b->last.tv_nsec) / 1e9;
		b->left += dt * api->rate;
		if (b->left > api->rate)
			b->left = api->rate;
	}
	b->last = now;
	if (b->left < 1)
		return (0);
	b->left -= 1;
	return (1);
}

/* Split path ("/v1/a/b") into r's segments (MHD has decoded it). */
static int
api_split(char *path, struct api_req *r)
{
	char	*p = path, *s;

	if (*p++ != '/')
		return (-1);
	r->nseg = 0;
	while ((s = strsep(&p, "/")) != NULL) {
		if (*s == '\0' || r->nseg == API_SEGS)
			return (-1);
		r->seg[r->nseg++] = s;
	}
	return (0);
}

/* Answer with raw bytes (malloc(3)ed, taken) of type ctype. */
static enum MHD_Result
api_respond_raw(struct MHD_Connection *c, int status, unsigned char *raw,
    size_t len, const char *ctype)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;

	if ((resp = MHD_create_response_from_buffer(len, raw,
	    MHD_RESPMEM_MUST_FREE)) == NULL) {
		free(raw);
		return (MHD_NO);
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    ctype);
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return (ret);
}

static enum MHD_Result
api_respond(struct MHD_Connection *c, int status, json_t *out)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;
	char			*s;

	if (out == NULL ||
	    (s = json_dumps(out, JSON_COMPACT | JSON_ENSURE_ASCII)) == NULL) {
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		s = strdup("{\"error\":{\"code\":\"internal\",\"message\":"
		    "\"out of memory\"}}");
		if (s == NULL)
			return (MHD_NO);
	}
	json_decref(out);
	if ((resp = MHD_create_response_from_buffer(strlen(s), s,
	    MHD_RESPMEM_MUST_FREE)) == NULL) {
		free(s);
		return (MHD_NO);
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return (ret);
}

static enum MHD_Result	api_answer(struct api *, struct MHD_Connection *,
			    const char *, const char *, struct api_conn *);

static enum MHD_Result
api_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *uploadsz, void **con_cls)
{
	struct api	*api = cls;
	struct api_conn	*ac = *con_cls;
	unsigned char	*nb;
	size_t		 ncap;
	enum MHD_Result	 ret;

	(void)version;
	if (ac == NULL) {
		if ((ac = calloc(1, sizeof(*ac))) == NULL)
			return (MHD_NO);
		*con_cls = ac;
		return (MHD_YES);
	}
	if (*uploadsz > 0) {
		/* Read it all, keeping at most maxbody bytes. */
		ac->seen += *uploadsz;
		if (ac->seen > api->maxbody + API_DISCARD_MAX)
			return (MHD_NO);
		if (!ac->toobig && *uploadsz > api->maxbody - ac->len) {
			ac->toobig = 1;
			io_wipe(ac->body, ac->cap);
			ac->body = NULL;
			ac->len = ac->cap = 0;
		}
		if (!ac->toobig) {
			if (ac->len + *uploadsz > ac->cap) {
				ncap = ac->cap == 0 ? 65536 : ac->cap;
				while (ncap < ac->len + *uploadsz)
					ncap *= 2;
				if ((nb = malloc(ncap)) == NULL)
					return (MHD_NO);
				if (ac->len > 0)
					memcpy(nb, ac->body, ac->len);
				io_wipe(ac->body, ac->cap);
				ac->body = nb;
				ac->cap = ncap;
			}
			memcpy(ac->body + ac->len, upload, *uploadsz);
			ac->len += *uploadsz;
		}
		*uploadsz = 0;
		return (MHD_YES);
	}

	(void)pthread_mutex_lock(&api->lock);
	ret = api_answer(api, c, url, method, ac);
	(void)pthread_mutex_unlock(&api->lock);
	return (ret);
}

/* The request, read whole: authenticated, limited, routed, answered. */
static enum MHD_Result
api_answer(struct api *api, struct MHD_Connection *c, const char *url,
    const char *method, struct api_conn *ac)
{
	struct api_req	 r;
	struct ks_token	 tk;
	char		*path, line[600], who[80];

	memset(&r, 0, sizeof(r));
	r.api = api;
	r.c = c;
	r.method = method;
	r.body = ac->body;
	r.len = ac->len;
	if (api_auth(api, c, &tk) == -1)
		/* No detail: not even whether the token exists. */
		return (api_respond(c, MHD_HTTP_UNAUTHORIZED,
		    json_pack("{s:{s:s,s:s}}", "error", "code",
		    "unauthorized", "message", "authentication required")));
	r.tk = &tk;
	if (!api_rate_ok(api, tk.name)) {
		api_error(&r, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited",
		    "more than %u requests a second", api->rate);
		return (api_respond(c, r.status, r.out));
	}
	if (ac->toobig) {
		api_error(&r, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
		    "the body is over %zu bytes", api->maxbody);
		return (api_respond(c, r.status, r.out));
	}
	if ((path = strdup(url)) == NULL)
		return (MHD_NO);
	(void)snprintf(who, sizeof(who), "token:%s", tk.name);
	(void)snprintf(line, sizeof(line), "api %s %s", method, url);
	if (api_split(path, &r) == -1 || r.nseg < 1 ||
	    strcmp(r.seg[0], "v1") != 0)
		api_notfound(&r);
	else {
		audit_actor(who, line);
		api_catch();
		api_route(&r);
		free(api_uncatch());
		audit_actor(NULL, NULL);
	}
	free(path);
	if (r.raw != NULL && r.out == NULL)
		return (api_respond_raw(c, r.status, r.raw, r.rawlen,
		    r.ctype));
	free(r.raw);
	if (r.out == NULL)
		api_error(&r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
		    "no answer");
	return (api_respond(c, r.status, r.out));
}

static void
api_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct api_conn	*ac = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (ac == NULL)
		return;
	io_wipe(ac->body, ac->cap);	/* May hold secret keys. */
	free(ac);
	*con_cls = NULL;
}

/* A unix socket at path, mode 660 (a stale socket replaced): fd or -1. */
static int
api_listen(const char *path)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		warnx("%s: socket path too long", path);
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			warnx("%s: exists and is not a socket", path);
			return (-1);
		}
		(void)unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		warn("socket");
		return (-1);
	}
	/* Made 600 by the umask, then opened to the group. */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0660) == -1 || listen(fd, 64) == -1) {
		warn("%s", path);
		(void)close(fd);
		return (-1);
	}
	return (fd);
}

/* A PEM file as a NUL-terminated string (MHD's form): NULL on failure. */
static char *
api_pem(const char *path)
{
	unsigned char	*data;
	char		*s;
	size_t		 len;

	if (io_read_file(path, API_PEM_MAX, &data, &len) == -1)
		return (NULL);
	if ((s = malloc(len + 1)) == NULL) {
		warn(NULL);
		io_wipe(data, len);
		return (NULL);
	}
	memcpy(s, data, len);
	s[len] = '\0';
	io_wipe(data, len);	/* The key's file. */
	return (s);
}

/* "ADDRESS:PORT" ("[v6]:PORT") into sa: 0, or -1 after warning. */
static int
api_inet(const char *in, struct sockaddr_storage *sa, socklen_t *salen)
{
	struct addrinfo	 hints, *res;
	char		 host[64];
	const char	*port, *h = in;
	size_t		 hl;
	int		 rc;

	if (in[0] == '[') {
		if ((port = strstr(in, "]:")) == NULL)
			goto bad;
		h = in + 1;
		hl = port - h;
		port += 2;
	} else {
		if ((port = strrchr(in, ':')) == NULL)
			goto bad;
		hl = port - in;
		port++;
	}
	if (hl == 0 || hl >= sizeof(host) || *port == '\0')
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		warnx("--listen %s: %s", in, gai_strerror(rc));
		return (-1);
	}
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*salen = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
bad:
	warnx("--listen %s: want ADDRESS:PORT or [ADDRESS]:PORT", in);
	return (-1);
}

/* The TLS listener on listen, with cert and key (PEM): NULL on failure. */
static struct MHD_Daemon *
api_tls_start(struct api *api, const char *listen, const char *certfile,
    const char *keyfile)
{
	struct sockaddr_storage	 sa;
	struct MHD_Daemon	*d;
	const union MHD_DaemonInfo *di;
	socklen_t		 salen;
	char			*cert, *key;
	unsigned		 flags = MHD_USE_INTERNAL_POLLING_THREAD |
				    MHD_USE_ERROR_LOG | MHD_USE_TLS;

	if (api_inet(listen, &sa, &salen) == -1)
		return (NULL);
	if (sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if ((cert = api_pem(certfile)) == NULL)
		return (NULL);
	if ((key = api_pem(keyfile)) == NULL) {
		free(cert);
		return (NULL);
	}
	d = MHD_start_daemon(flags, 0, NULL, NULL, api_handler, api,
	    MHD_OPTION_EXTERNAL_LOGGER, api_mhdlog, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_HTTPS_MEM_CERT, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key,
	    MHD_OPTION_HTTPS_PRIORITIES, API_TLS_PRIORITIES,
	    MHD_OPTION_NOTIFY_COMPLETED, api_completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, 60U,
	    MHD_OPTION_CONNECTION_LIMIT, 64U,
	    MHD_OPTION_END);
	/* MHD has its credentials: the PEM strings are no longer needed. */
	explicit_bzero(key, strlen(key));
	free(key);
	free(cert);
	if (d == NULL) {
		warnx("--listen %s: the TLS listener did not start (address "
		    "in use, or a certificate or key that can't be used)",
		    listen);
		return (NULL);
	}
	if ((di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)) != NULL)
		fprintf(stderr, "wkdctl serve: listening on %.*s:%u (TLS)\n",
		    (int)(strrchr(listen, ':') - listen), listen,
		    (unsigned)di->port);
	return (d);
}

int
cmd_serve(struct ctl *ctl, int argc, char **argv)
{
	struct api		 api;
	struct MHD_Daemon	*d, *td = NULL;
	const char		*sock = API_SOCKET, *listen = NULL;
	const char		*certfile = NULL, *keyfile = NULL;
	sigset_t		 set;
	mode_t			 um;
	char			*end;
	unsigned long long	 n;
	int			 ch, fd, sig;
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "max-body", required_argument, NULL, 'm' },
		{ "rate", required_argument, NULL, 'r' },
		{ "listen", required_argument, NULL, 'l' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "resolver", required_argument, NULL, 'R' },
		{ "trust-anchor", required_argument, NULL, 'A' },
		{ "cafile", required_argument, NULL, 'C' },
		{ "vks", required_argument, NULL, 'v' },
		{ "no-vks", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&api, 0, sizeof(api));
	api.ctl = ctl;
	api.maxbody = API_BODY_MAX;
	api.rate = API_RATE;
	api.vks = LOCATE_VKS;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'R':
			api.resolver = optarg;
			break;
		case 'A':
			api.anchor = optarg;
			break;
		case 'C':
			api.cafile = optarg;
			break;
		case 'm':
			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || n < 1024 ||
			    n > 64ULL * 1024 * 1024) {
				warnx("--max-body %s: from 1024 to %llu bytes",
				    optarg, 64ULL * 1024 * 1024);
				return (1);
			}
			api.maxbody = n;
			break;
		case 'r':
			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || n > 100000) {
				warnx("--rate %s: from 0 (no limit) to 100000 "
				    "requests a second", optarg);
				return (1);
			}
			api.rate = n;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'c':
			certfile = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'v':
			if (strncasecmp(optarg, "https://", 8) != 0) {
				warnx("--vks %s: not an https URL", optarg);
				return (EXIT_USAGE);
			}
			api.vks = optarg;
			break;
		case 'n':
			api.vks = NULL;
			break;
		default:
			return (cli_usage(SERVE_USAGE));
		}
	}
	if (optind != argc)
		return (cli_usage(SERVE_USAGE));
	/* Over TCP, only TLS: tokens never cross a network in the clear. */
	if ((listen != NULL) != (certfile != NULL) ||
	    (certfile != NULL) != (keyfile != NULL)) {
		warnx("--listen, --tls-cert and --tls-key go together");
		return (cli_usage(SERVE_USAGE));
	}
	if ((fd = dup(STDERR_FILENO)) == -1 ||
	    (api_mhdfp = fdopen(fd, "w")) == NULL) {
		warn("stderr");
		return (1);
	}
	if (pthread_mutex_init(&api.lock, NULL) != 0) {
		warnx("pthread_mutex_init failed");
		return (1);
	}
	/* The store is opened now: a problem shows before serving. */
	if (store_open(ctl, 0) == -1)
		return (1);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	/* MHD's thread inherits the mask: the signals come to sigwait. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		warnx("signals can't be blocked");
		return (1);
	}
	um = umask(0117);
	fd = api_listen(sock);
	(void)umask(um);
	if (fd == -1)
		return (1);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, api_handler, &api,
	    MHD_OPTION_EXTERNAL_LOGGER, api_mhdlog, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_NOTIFY_COMPLETED, api_completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, 60U,
	    MHD_OPTION_CONNECTION_LIMIT, 64U,
	    MHD_OPTION_END);
	if (d == NULL) {
		warnx("%s: the HTTP daemon did not start", sock);
		(void)close(fd);
		(void)unlink(sock);
		return (1);
	}
	fprintf(stderr, "wkdctl serve: listening on %s\n", sock);
	if (listen != NULL &&
	    (td = api_tls_start(&api, listen, certfile, keyfile)) == NULL) {
		MHD_stop_daemon(d);
		(void)close(fd);
		(void)unlink(sock);
		return (1);
	}
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			break;
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	if (td != NULL)
		MHD_stop_daemon(td);
	MHD_stop_daemon(d);
	(void)close(fd);
	(void)unlink(sock);
	(void)fclose(api_mhdfp);
	api_mhdfp = NULL;
	return (0);
}
