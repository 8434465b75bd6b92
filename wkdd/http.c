/*
 * http.c: the libmicrohttpd side.  One MHD daemon per listening socket,
 * each with its own polling thread; the handler routes the request
 * (route.c), reads the store with one-shot read transactions, and answers
 * on its first call.  The only allocation per request beyond MHD's own is
 * the blob the keystore copies out, which MHD frees with the response.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "keystore.h"
#include "log.h"
#include "metrics.h"
#include "wkdd.h"

#define HTTP_PAGE_MAX	(64 * 1024)
#define HTTP_TOKEN_MAX	4096	/* An ACME key authorization is ~90. */
#define HTTP_ACME_DIR	".well-known/acme-challenge/"
#define HTTP_METHODS	"GET, HEAD, OPTIONS"
#define HTTP_REQHDR_MAX	512	/* Access-Control-Request-Headers kept. */
#define HTTP_CORS_MAX_AGE	"86400"	/* Seconds a preflight is cached. */
#define HTTP_STOP_POLL_MS	20	/* http_stop() counts connections. */
#define HTTP_TEXT	"text/plain; charset=utf-8"
#define HTTP_404	"Not found\n"
#define HTTP_405	"Method not allowed\n"
#define HTTP_500	"Internal server error\n"

/* What a handler answers; http_queue() sends it. */
struct http_reply {
	struct MHD_Response	*resp;	/* NULL: 404, or 500 if status isn't. */
	unsigned		 status;
	size_t			 bytes;	/* Body bytes, for the log. */
	int			 shared;	/* resp outlives the request. */
};

struct http_page {
	struct MHD_Response	*resp;
	size_t			 len;		/* Body bytes, for the log. */
	struct http_page	*next;		/* Retired list. */
};

/* Swapped by http_store_swap() when the store was replaced. */
static _Atomic(struct ks *)		 http_ks;
static struct MHD_Response		*http_r404, *http_r405, *http_r500;
static _Atomic(struct http_page *)	 http_page_cur;
static struct http_page			*http_page_old;	/* Main thread. */
static char				 http_waiting, http_answered;
static int				 http_acme_fd = -1;

static enum MHD_Result	http_handler(void *, struct MHD_Connection *,
			    const char *, const char *, const char *,
			    const char *, size_t *, void **);
static enum MHD_Result	http_plain_handler(void *, struct MHD_Connection *,
			    const char *, const char *, const char *,
			    const char *, size_t *, void **);
static int		http_wait_body(struct MHD_Connection *, void **,
			    size_t *);
static void		http_index(const struct route *, struct http_reply *);
static void		http_mtasts(const struct route *,
			    struct http_reply *);
static void		http_policy(const struct route *,
			    struct http_reply *);
static void		http_key(struct MHD_Connection *, const struct route *,
			    struct http_reply *);
static struct MHD_Response *http_etagged(struct MHD_Response *,
			    const char *);
static enum MHD_Result	http_queue(struct MHD_Connection *, const char *,
			    const struct route *, struct http_reply *,
			    const struct timespec *);
static struct MHD_Response *http_acme(const struct route *, size_t *);
static struct MHD_Response *http_redirect(const struct route *,
			    const char *);
static int		http_hosted(const struct route *);
static int		http_sni_match(struct MHD_Connection *, const char *);
static size_t		http_unescape(void *, struct MHD_Connection *,
			    char *);
static void		http_mhdlog(void *, const char *, va_list)
			    __attribute__((format(printf, 2, 0)));
static struct MHD_Response *http_typed(struct MHD_Response *, const char *);
static struct MHD_Response *http_static(const char *, const char *);
static struct MHD_Response *http_blob(struct ks_blob *, const char *);
static struct MHD_Response *http_options(struct MHD_Connection *);
static int		http_etag_match(const char *, const char *);
static int		http_has_body(struct MHD_Connection *);
static size_t		http_static_len(const struct MHD_Response *);
static void		http_done(struct MHD_Connection *, const char *,
			    const struct route *, unsigned, size_t,
			    const struct timespec *);
static void		http_notify(void *, struct MHD_Connection *, void **,
			    enum MHD_ConnectionNotificationCode);

/*
 * r (may be NULL) with the headers every response carries: CORS for
 * browser clients, and its Content-Type.  NULL if r was, or if out of
 * memory (r is destroyed then).
 */
static struct MHD_Response *
http_typed(struct MHD_Response *r, const char *type)
{
	if (r == NULL)
		return (NULL);
	if (MHD_add_response_header(r, "Access-Control-Allow-Origin",
	    "*") != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    type) != MHD_YES) {
		MHD_destroy_response(r);
		return (NULL);
	}
	return (r);
}

/* A response shared by every request (MHD counts its references). */
static struct MHD_Response *
http_static(const char *body, const char *type)
{
	struct MHD_Response	*r;

	r = MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)
	    body, MHD_RESPMEM_PERSISTENT);
	return (http_typed(r, type));
}

static size_t
http_static_len(const struct MHD_Response *r)
{
	if (r == http_r404)
		return (sizeof(HTTP_404) - 1);
	if (r == http_r405)
		return (sizeof(HTTP_405) - 1);
	return (sizeof(HTTP_500) - 1);
}

int
http_init(struct ks *ks)
{
	http_ks = ks;
	if ((http_r404 = http_static(HTTP_404, HTTP_TEXT)) == NULL ||
	    (http_r405 = http_static(HTTP_405, HTTP_TEXT)) == NULL ||
	    (http_r500 = http_static(HTTP_500, HTTP_TEXT)) == NULL ||
	    MHD_add_response_header(http_r405, MHD_HTTP_HEADER_ALLOW,
	    HTTP_METHODS) != MHD_YES) {
		http_cleanup();
		return (-1);
	}
	return (0);
}

struct ks *
http_store(void)
{
	return (atomic_load(&http_ks));
}

struct ks *
http_store_swap(struct ks *ks)
{
	return (atomic_exchange(&http_ks, ks));
}

void
http_cleanup(void)
{
	struct http_page	*p;

	if (http_r404 != NULL)
		MHD_destroy_response(http_r404);
	if (http_r405 != NULL)
		MHD_destroy_response(http_r405);
	if (http_r500 != NULL)
		MHD_destroy_response(http_r500);
	http_r404 = http_r405 = http_r500 = NULL;
	http_page_free(atomic_exchange(&http_page_cur, NULL));
	while ((p = http_page_old) != NULL) {
		http_page_old = p->next;
		http_page_free(p);
	}
	http_ks = NULL;
	if (http_acme_fd != -1)
		(void)close(http_acme_fd);
	http_acme_fd = -1;
}

int
http_acme_open(const struct conf *conf, char *err, size_t errsz)
{
	if (conf->acme_webroot[0] == '\0')
		return (0);
	if ((http_acme_fd = open(conf->acme_webroot, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		(void)snprintf(err, errsz, "acme-webroot %s: %s",
		    conf->acme_webroot, strerror(errno));
		return (-1);
	}
	return (0);
}

int
http_page_load(const struct conf *conf, struct http_page **pagep, char *err,
    size_t errsz)
{
	struct http_page	*p;
	struct stat		 st;
	char			 path[PATH_MAX], *buf;
	ssize_t			 n;
	size_t			 len = 0;
	int			 fd;

	*pagep = NULL;
	if (conf->www[0] == '\0')
		return (0);
	n = snprintf(path, sizeof(path), "%s/index.html", conf->www);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		(void)snprintf(err, errsz, "www %s: path too long", conf->www);
		return (-1);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)snprintf(err, errsz, "www: %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > HTTP_PAGE_MAX) {
		(void)snprintf(err, errsz, "www: %s: not a regular file of at "
		    "most %d bytes", path, HTTP_PAGE_MAX);
		goto close;
	}
	if ((buf = malloc(st.st_size + 1)) == NULL) {
		(void)snprintf(err, errsz, "www: %s", strerror(errno));
		goto close;
	}
	while (len < (size_t)st.st_size) {
		if ((n = read(fd, buf + len, st.st_size - len)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0) {
			(void)snprintf(err, errsz, "www: %s: %s", path,
			    n == 0 ? "short read" : strerror(errno));
			goto freebuf;
		}
		len += n;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->resp = MHD_create_response_from_buffer_with_free_callback(len,
	    buf, free)) == NULL) {
		(void)snprintf(err, errsz, "www: out of memory");
		free(p);
		goto freebuf;
	}
	buf = NULL;	/* Owned by the response now. */
	p->len = len;
	if ((p->resp = http_typed(p->resp, "text/html; charset=utf-8")) ==
	    NULL) {
		(void)snprintf(err, errsz, "www: out of memory");
		free(p);
		goto close;
	}
	(void)close(fd);
	*pagep = p;
	return (0);
freebuf:
	free(buf);
close:
	(void)close(fd);
	return (-1);
}

void
http_page_install(struct http_page *p)
{
	struct http_page	*old;

	old = atomic_exchange(&http_page_cur, p);
	if (old != NULL) {
		old->next = http_page_old;
		http_page_old = old;
	}
}

void
http_page_free(struct http_page *p)
{
	if (p == NULL)
		return;
	MHD_destroy_response(p->resp);
	free(p);
}

/*
 * MHD would percent-decode the path before the handler sees it; route.c
 * decodes it itself, segment by segment, so that an encoded '/' can't
 * move a segment.  Query arguments are never looked at.
 */
static size_t
http_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return (strlen(s));
}

static void
http_mhdlog(void *cls, const char *fmt, va_list ap)
{
	char	buf[512];
	size_t	len;

	(void)cls;
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	log_flood("mhd: %s", buf);
}

/*
 * A response owning blob b's data (MHD frees it); b is emptied.  NULL if
 * out of memory (b's data is freed then too).
 */
static struct MHD_Response *
http_blob(struct ks_blob *b, const char *type)
{
	struct MHD_Response	*r;

	if (b->len == 0) {
		ks_blob_free(b);
		r = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	} else {
		r = MHD_create_response_from_buffer_with_free_callback(b->len,
		    b->data, free);
		if (r == NULL)
			ks_blob_free(b);
	}
	b->data = NULL;
	b->len = 0;
	return (http_typed(r, type));
}

/*
 * CORS preflight: allow our methods and whatever headers were asked for
 * (Thunderbird sends Authorization, OpenPGP.js X-OpenPGP-Padding), if they
 * are plain header names.
 */
static struct MHD_Response *
http_options(struct MHD_Connection *c)
{
	struct MHD_Response	*r;
	const char		*req, *p;
	int			 good = 1;

	req = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Access-Control-Request-Headers");
	if (req != NULL) {
		if (strlen(req) > HTTP_REQHDR_MAX)
			good = 0;
		for (p = req; good && *p != '\0'; p++)
			if (!((*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') ||
			    strchr("-_, ", *p) != NULL))
				good = 0;
	}
	if ((r = MHD_create_response_from_buffer(0, NULL,
	    MHD_RESPMEM_PERSISTENT)) == NULL)
		return (NULL);
	if (MHD_add_response_header(r, "Access-Control-Allow-Origin",
	    "*") != MHD_YES ||
	    MHD_add_response_header(r, "Access-Control-Allow-Methods",
	    HTTP_METHODS) != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
	    HTTP_METHODS) != MHD_YES ||
	    MHD_add_response_header(r, "Access-Control-Max-Age",
	    HTTP_CORS_MAX_AGE) != MHD_YES ||
	    (req != NULL && good && req[0] != '\0' &&
	    MHD_add_response_header(r, "Access-Control-Allow-Headers",
	    req) != MHD_YES)) {
		MHD_destroy_response(r);
		return (NULL);
	}
	return (r);
}

static int
http_has_body(struct MHD_Connection *c)
{
	const char	*cl;

	if (MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
		return (1);
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	return (cl != NULL && strspn(cl, "0") != strlen(cl));
}

/* If-None-Match value inm against our (quoted) etag; weak comparison. */
static int
http_etag_match(const char *inm, const char *etag)
{
	const char	*p = inm, *q;
	size_t		 elen = strlen(etag);

	if (elen == 0)
		return (0);
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return (1);
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (*p != '"')
			return (0);
		if ((q = strchr(p + 1, '"')) == NULL)
			return (0);
		if ((size_t)(q + 1 - p) == elen && memcmp(p, etag, elen) == 0)
			return (1);
		p = q + 1;
	}
	return (0);
}

/* A route's name in the access log. */
static const char *
http_route_name(int kind)
{
	switch (kind) {
	case ROUTE_KEY:
		return ("key");
	case ROUTE_POLICY:
		return ("policy");
	case ROUTE_INDEX:
		return ("index");
	case ROUTE_OPTIONS:
		return ("options");
	case ROUTE_METHOD:
		return ("method");
	case ROUTE_MTASTS:
		return ("mta-sts");
	case ROUTE_ACME:
		return ("acme");
	case ROUTE_REDIRECT:
		return ("redirect");
	default:
		return ("-");
	}
}

/*
 * A request answered: counted (metrics.c), and one access log line
 * (log.c): client, method, Host, route, status, body bytes, time taken.
 * Never the path, its hash or the query: they reveal who was looked up.
 */
static void
http_done(struct MHD_Connection *c, const char *method, const struct route *r,
    unsigned status, size_t bytes, const struct timespec *t0)
{
	const union MHD_ConnectionInfo	*ci;
	struct timespec			 t1;
	long				 us;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (t1.tv_sec - t0->tv_sec) * 1000000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000;
	metrics_request(r->kind, r->domain, status, bytes, us);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	log_access(ci != NULL ? ci->client_addr : NULL, method, r->host,
	    http_route_name(r->kind), status, bytes, us);
}

/*
 * MHD_OPTION_NOTIFY_CONNECTION, cls METRICS_HTTPS or METRICS_HTTP: a
 * connection opened or closed, and its TLS handshake (metrics.h).
 */
static void
http_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo	*ci;
	int				 listener = (int)(intptr_t)cls;
	gnutls_session_t		 s = NULL;

	(void)socket_context;
	if (listener == METRICS_HTTPS && (ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_GNUTLS_SESSION)) != NULL)
		s = ci->tls_session;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		metrics_conn_open(listener);
		metrics_tls_start(s);
	} else {
		metrics_tls_close(s);
		metrics_conn_close(listener);
	}
}

/*
 * The ETag header of etag (quoted; "" for none) added to r (may be NULL).
 * NULL if r was, or if out of memory (r is destroyed then).
 */
static struct MHD_Response *
http_etagged(struct MHD_Response *r, const char *etag)
{
	if (r != NULL && etag[0] != '\0' &&
	    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag) !=
	    MHD_YES) {
		MHD_destroy_response(r);
		return (NULL);
	}
	return (r);
}

/* "/" of a hosted domain: the www page, shared by every request. */
static void
http_index(const struct route *r, struct http_reply *rep)
{
	struct http_page	*page;

	page = atomic_load(&http_page_cur);
	if (page != NULL && ks_has_domain(http_ks, r->domain) == KS_OK) {
		rep->status = MHD_HTTP_OK;
		rep->bytes = page->len;
		rep->resp = page->resp;
		rep->shared = 1;
	}
}

/* RFC 8461 3.3: the MTA-STS policy as "text/plain", never a redirect. */
static void
http_mtasts(const struct route *r, struct http_reply *rep)
{
	struct ks_blob	 b;
	char		 etag[KS_ETAG_MAX];
	int		 rc;

	memset(&b, 0, sizeof(b));
	if ((rc = ks_has_domain(http_ks, r->domain)) == KS_OK &&
	    (rc = ks_serve_mtasts(http_ks, r->domain, &b)) == KS_OK) {
		memcpy(etag, b.etag, sizeof(etag));
		etag[sizeof(etag) - 1] = '\0';
		rep->status = MHD_HTTP_OK;
		rep->bytes = b.len;
		rep->resp = http_etagged(http_blob(&b, "text/plain"), etag);
	} else if (rc != KS_NOTFOUND) {
		log_warnx("mta-sts %s: %s", r->domain, ks_strerror(rc));
		rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

static void
http_policy(const struct route *r, struct http_reply *rep)
{
	struct ks_blob	 b;
	int		 rc;

	memset(&b, 0, sizeof(b));
	if ((rc = ks_serve_policy(http_ks, r->domain, &b)) == KS_OK) {
		rep->status = MHD_HTTP_OK;
		rep->bytes = b.len;
		rep->resp = http_blob(&b, HTTP_TEXT);
	} else if (rc != KS_NOTFOUND) {
		log_warnx("policy %s: %s", r->domain, ks_strerror(rc));
		rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/* A key, or 304 if the client's If-None-Match names its ETag. */
static void
http_key(struct MHD_Connection *c, const struct route *r,
    struct http_reply *rep)
{
	struct ks_blob	 b;
	const char	*inm;
	char		 etag[KS_ETAG_MAX];
	int		 rc;

	memset(&b, 0, sizeof(b));
	if ((rc = ks_serve_key(http_ks, r->domain, r->hash, &b)) != KS_OK) {
		if (rc != KS_NOTFOUND) {
			log_warnx("key %s/%s: %s", r->domain, r->hash,
			    ks_strerror(rc));
			rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		}
		return;
	}
	memcpy(etag, b.etag, sizeof(etag));
	etag[sizeof(etag) - 1] = '\0';
	inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm != NULL && http_etag_match(inm, etag)) {
		rep->status = MHD_HTTP_NOT_MODIFIED;
		b.len = 0;	/* http_blob() frees the data. */
	} else {
		rep->status = MHD_HTTP_OK;
		rep->bytes = b.len;
	}
	rep->resp = http_etagged(http_blob(&b, "application/octet-stream"),
	    etag);
}

/*
 * Queue rep for the request (404 if it has no response, 500 if one
 * couldn't be built), free what it owns, log the request.
 */
static enum MHD_Result
http_queue(struct MHD_Connection *c, const char *method,
    const struct route *r, struct http_reply *rep, const struct timespec *t0)
{
	enum MHD_Result	 ret;

	if (rep->resp == NULL) {
		rep->shared = 1;
		if (rep->status == MHD_HTTP_NOT_FOUND)
			rep->resp = http_r404;
		else {
			if (rep->status != MHD_HTTP_INTERNAL_SERVER_ERROR)
				log_warnx("%s: out of memory", __func__);
			rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
			rep->resp = http_r500;
		}
	}
	if (rep->resp == http_r404 || rep->resp == http_r405 ||
	    rep->resp == http_r500)
		rep->bytes = http_static_len(rep->resp);
	if (strcmp(method, "HEAD") == 0)
		rep->bytes = 0;
	ret = MHD_queue_response(c, rep->status, rep->resp);
	if (!rep->shared)
		MHD_destroy_response(rep->resp);
	http_done(c, method, r, rep->status, rep->bytes, t0);
	return (ret);
}

static enum MHD_Result
http_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_reply	 rep = { NULL, MHD_HTTP_NOT_FOUND, 0, 0 };
	struct route		 r;
	struct timespec		 t0;
	const char		*host;

	(void)cls;
	(void)version;
	(void)upload_data;
	if (http_wait_body(c, con_cls, upload_data_size))
		return (MHD_YES);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	host = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST);
	route_request(method, host, url, &r);
	if (r.kind != ROUTE_METHOD && r.kind != ROUTE_OPTIONS &&
	    !http_sni_match(c, r.host))
		r.kind = ROUTE_NOTFOUND;

	switch (r.kind) {
	case ROUTE_METHOD:
		rep.status = MHD_HTTP_METHOD_NOT_ALLOWED;
		rep.resp = http_r405;
		rep.shared = 1;
		break;
	case ROUTE_OPTIONS:
		rep.status = MHD_HTTP_NO_CONTENT;
		rep.resp = http_options(c);
		break;
	case ROUTE_INDEX:
		http_index(&r, &rep);
		break;
	case ROUTE_MTASTS:
		http_mtasts(&r, &rep);
		break;
	case ROUTE_POLICY:
		http_policy(&r, &rep);
		break;
	case ROUTE_KEY:
		http_key(c, &r, &rep);
		break;
	default:
		break;
	}
	return (http_queue(c, method, &r, &rep, &t0));
}

/*
 * A response queued on the first call closes the connection after it
 * (MHD can't tell where the body would end), so a request without a body
 * is answered on the second call, once it is all in.  One with a body is
 * answered at once, and the body not read.  Returns 1 if this call is not
 * the one to answer: the handler just returns MHD_YES then.
 */
static int
http_wait_body(struct MHD_Connection *c, void **con_cls,
    size_t *upload_data_size)
{
	if (*con_cls == &http_answered) {
		*upload_data_size = 0;
		return (1);
	}
	if (*con_cls == NULL && !http_has_body(c)) {
		*con_cls = &http_waiting;
		return (1);
	}
	*con_cls = &http_answered;
	return (0);
}

/*
 * The TLS server name, if the client sent one, names host (normalised)?
 * A request for one tenant's name is never answered on a connection made
 * for another's, whose certificate the client checked.  A server name is
 * ASCII (RFC 6066: IDNs as A-labels), so case and a trailing dot are all
 * there is to normalise.
 */
static int
http_sni_match(struct MHD_Connection *c, const char *host)
{
	const union MHD_ConnectionInfo	*ci;
	char				 sni[KS_DOMAIN_MAX + 1];
	struct in6_addr			 a6;
	size_t				 len = sizeof(sni);
	unsigned			 type;
	int				 rc;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL)
		return (1);
	rc = gnutls_server_name_get(ci->tls_session, sni, &len, &type, 0);
	if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return (1);		/* No SNI: the Host decides. */
	if (rc != GNUTLS_E_SUCCESS || type != GNUTLS_NAME_DNS ||
	    len >= sizeof(sni))
		return (0);
	/*
	 * RFC 6066 has no IP literals in a server name, but OpenSSL-based
	 * clients given https://127.0.0.1/ send one: that names no tenant.
	 */
	sni[len] = '\0';
	if (inet_pton(AF_INET, sni, &a6) == 1 ||
	    inet_pton(AF_INET6, sni, &a6) == 1)
		return (1);
	if (len > 0 && sni[len - 1] == '.')
		len--;
	return (len > 0 && strlen(host) == len &&
	    strncasecmp(sni, host, len) == 0);
}

/* The Host, or the domain it is a service name of, is hosted? */
static int
http_hosted(const struct route *r)
{
	int	rc;

	if ((rc = ks_has_domain(http_ks, r->host)) == KS_OK)
		return (1);
	if (strcmp(r->domain, r->host) != 0 &&
	    (rc = ks_has_domain(http_ks, r->domain)) == KS_OK)
		return (1);
	if (rc != KS_NOTFOUND)
		log_warnx("domain %s: %s", r->domain, ks_strerror(rc));
	return (0);
}

/*
 * ACME HTTP-01: acme-webroot/.well-known/acme-challenge/TOKEN (TOKEN
 * checked by route_plain(): base64url only), a regular file, not a link.
 * NULL if there is none; *bytes gets its size.
 */
static struct MHD_Response *
http_acme(const struct route *r, size_t *bytes)
{
	struct MHD_Response	*resp;
	struct stat		 st;
	char			 path[sizeof(HTTP_ACME_DIR) + ROUTE_TOKEN_MAX];
	char			*buf;
	ssize_t			 n;
	size_t			 len = 0;
	int			 fd;

	if (http_acme_fd == -1)
		return (NULL);
	(void)snprintf(path, sizeof(path), "%s%s", HTTP_ACME_DIR, r->token);
	if ((fd = openat(http_acme_fd, path, O_RDONLY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_warn("acme-webroot: %s", path);
		return (NULL);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > HTTP_TOKEN_MAX) {
		log_warnx("acme-webroot: %s: not a regular file of at most "
		    "%d bytes", path, HTTP_TOKEN_MAX);
		(void)close(fd);
		return (NULL);
	}
	if ((buf = malloc(st.st_size + 1)) == NULL) {
		(void)close(fd);
		return (NULL);
	}
	while (len < (size_t)st.st_size) {
		if ((n = read(fd, buf + len, st.st_size - len)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	(void)close(fd);
	if ((resp = MHD_create_response_from_buffer_with_free_callback(len,
	    buf, free)) == NULL) {
		free(buf);
		return (NULL);
	}
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain") != MHD_YES) {
		MHD_destroy_response(resp);
		return (NULL);
	}
	*bytes = len;
	return (resp);
}

/* 301 to https://HOST/PATH (checked by route_plain()); NULL if no memory. */
static struct MHD_Response *
http_redirect(const struct route *r, const char *path)
{
	struct MHD_Response	*resp;
	char			*loc;

	if (asprintf(&loc, "https://%s%s", r->host, path) == -1)
		return (NULL);
	if ((resp = MHD_create_response_from_buffer(0, NULL,
	    MHD_RESPMEM_PERSISTENT)) != NULL &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION,
	    loc) != MHD_YES) {
		MHD_destroy_response(resp);
		resp = NULL;
	}
	free(loc);
	return (resp);
}

/*
 * The plain HTTP listener: only ACME challenges and redirects, and only
 * for hosted names; everything else is 404.
 */
static enum MHD_Result
http_plain_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_reply	 rep = { NULL, MHD_HTTP_NOT_FOUND, 0, 0 };
	struct route		 r;
	struct timespec		 t0;
	const char		*host;

	(void)cls;
	(void)version;
	(void)upload_data;
	if (http_wait_body(c, con_cls, upload_data_size))
		return (MHD_YES);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	host = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST);
	route_plain(method, host, url, &r);
	switch (r.kind) {
	case ROUTE_METHOD:
		rep.status = MHD_HTTP_METHOD_NOT_ALLOWED;
		rep.resp = http_r405;
		rep.shared = 1;
		break;
	case ROUTE_ACME:
		if (http_hosted(&r) &&
		    (rep.resp = http_acme(&r, &rep.bytes)) != NULL)
			rep.status = MHD_HTTP_OK;
		break;
	case ROUTE_REDIRECT:
		if (http_hosted(&r)) {
			rep.status = MHD_HTTP_MOVED_PERMANENTLY;
			rep.resp = http_redirect(&r, url);
		}
		break;
	default:
		break;
	}
	return (http_queue(c, method, &r, &rep, &t0));
}

struct MHD_Daemon *
http_start(int fd, const struct conf *conf, int plain)
{
	struct MHD_Daemon	*d;

	if (plain) {
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
		    MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG,
		    0, NULL, NULL, http_plain_handler, NULL,
		    MHD_OPTION_EXTERNAL_LOGGER, http_mhdlog, NULL,
		    MHD_OPTION_NOTIFY_CONNECTION, http_notify,
		    (void *)(intptr_t)METRICS_HTTP,
		    MHD_OPTION_LISTEN_SOCKET, fd,
		    MHD_OPTION_CONNECTION_LIMIT, conf->max_conns,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, conf->max_conns_per_ip,
		    MHD_OPTION_CONNECTION_TIMEOUT, conf->timeout,
		    MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, NULL,
		    MHD_OPTION_END);
		if (d == NULL)
			log_warnx("cannot start the plain HTTP daemon");
		return (d);
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_TLS | MHD_USE_ITC | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, http_handler, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, http_mhdlog, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, http_notify,
	    (void *)(intptr_t)METRICS_HTTPS,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_HTTPS_CERT_CALLBACK, tls_cert_cb,
	    MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
	    MHD_OPTION_CONNECTION_LIMIT, conf->max_conns,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, conf->max_conns_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, conf->timeout,
	    MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, NULL,
	    MHD_OPTION_END);
	if (d == NULL)
		log_warnx("cannot start the HTTP daemon");
	return (d);
}

void
http_stop(struct MHD_Daemon **ds, size_t n, unsigned wait_ms)
{
	const union MHD_DaemonInfo	*info;
	struct timespec			 ts = { 0,
					    HTTP_STOP_POLL_MS * 1000 * 1000 };
	MHD_socket			 fd[HTTP_DAEMONS_MAX];
	unsigned			 waited, open;
	size_t				 i;

	/* Stop accepting everywhere... */
	if (n > HTTP_DAEMONS_MAX)
		n = HTTP_DAEMONS_MAX;
	for (i = 0; i < n; i++)
		fd[i] = MHD_quiesce_daemon(ds[i]);
	/* ...let open connections finish for a while... */
	for (waited = 0; waited < wait_ms; waited += HTTP_STOP_POLL_MS) {
		for (i = 0, open = 0; i < n; i++) {
			info = MHD_get_daemon_info(ds[i],
			    MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
			if (info != NULL)
				open += info->num_connections;
		}
		if (open == 0)
			break;
		nanosleep(&ts, NULL);
	}
	/* ...close the rest, then the listening sockets (MHD's docs). */
	for (i = 0; i < n; i++) {
		MHD_stop_daemon(ds[i]);
		if (fd[i] != MHD_INVALID_SOCKET)
			(void)close(fd[i]);
	}
}
