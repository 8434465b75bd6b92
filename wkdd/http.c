/*
 * http.c: the libmicrohttpd side.  The handler routes the request
 * (route.c), reads the store through its thread's reader (one snapshot per
 * request, no transaction begun or freed), and answers on its second call.
 *
 * Threads.  Each listen address has a listener (struct http_listener).  An
 * HTTPS listener runs one MHD daemon per CPU, each with its own polling
 * thread, pinned to its CPU, and its own listening socket, bound to the
 * same address with SO_REUSEPORT: a BPF program gives each new connection
 * to the socket of the CPU that took its SYN (http_steer()), and a
 * handshake wakes only the thread that takes it (MHD's thread pool would
 * put one shared socket in every worker's epoll set, without
 * EPOLLEXCLUSIVE, and wake them all).  A plain HTTP listener (ACME,
 * redirects) runs one daemon.
 *
 * What is per thread: its struct http_worker, which MHD hands to every
 * callback of that thread's daemon (the request handler, the accept
 * policy and the connection notifier, as their cls): the store reader
 * (struct ks_reader) and the accept in progress.  What a listener's
 * threads share: its connection counts (total and per client address,
 * under lim_mtx), which carry max-connections and max-connections-per-ip
 * across its daemons; the count over all listeners (http_conns_all,
 * atomic), which max-connections bounds too.  limit.c's buckets and
 * connection deadlines are shared under its own striped locks; a
 * connection's socket context is its struct limit_conn (made at STARTED,
 * carrying its http_peer).  What all threads share, read only or atomic:
 * the static responses, the page (http_page_cur), the store handle, tls.c's
 * certificates and ticket key.  A hook that counts requests (per thread,
 * then summed) belongs in http_queue(), the one place every request ends;
 * one that counts handshakes, in http_notify().
 */
#include <sys/stat.h>

#include <sys/socket.h>

#include <linux/filter.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
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

#include "frame.h"
#include "keystore.h"
#include "limit.h"
#include "log.h"
#include "metrics.h"
#include "wkdd.h"

#define HTTP_TOKEN_MAX	4096	/* An ACME key authorization is ~90. */
#define HTTP_ACME_DIR	".well-known/acme-challenge/"
#define HTTP_METHODS	"GET, HEAD, OPTIONS"
#define HTTP_REQHDR_MAX	512	/* Access-Control-Request-Headers kept. */
#define HTTP_CORS_MAX_AGE	"86400"	/* Seconds a preflight is cached. */
#define HTTP_STOP_POLL_MS	20	/* Stopping: connections counted. */
#define HTTP_TEXT	"text/plain; charset=utf-8"
#define HTTP_404	"Not found\n"
#define HTTP_405	"Method not allowed\n"
#define HTTP_500	"Internal server error\n"
#define HTTP_429	"Too many requests\n"	/* limit.c's. */
#define HTTP_400	"Bad request\n"	/* frame.c's. */
#define HTTP_THREADS_MAX	64	/* Daemons of an HTTPS listener. */
/*
 * A connection's memory (MHD's default is 32 KiB, zeroed at every
 * request): a WKD request and its response headers take under 1 KiB, and
 * nginx's default is 1 KiB for headers, 8 KiB for a large request.
 */
#define HTTP_CONN_MEMORY	(8 * 1024)
#define HTTP_LIM_BUCKETS	1024	/* Of the per-address counts. */


/* A client address's open connections to one listener. */
struct http_peer {
	unsigned char		 addr[16];	/* IPv4: first 4 bytes. */
	int			 family;
	unsigned		 conns;
	unsigned		 bucket;
	struct http_peer	*next;		/* In its bucket. */
};

/*
 * A connection: its peer count and, on HTTPS, its TLS output (http_push()).
 * MHD 0.9.75 sends a response's head and body with two gnutls_record_send()
 * calls; GnuTLS pushes each record at once, so each took a sendmsg(2).
 * When http_queue() has queued a response whose body follows its head
 * (armed), the next record pushed (the head's) is kept in held and
 * reported sent, and goes out with the body's record in one sendmsg(2).
 * Bytes are only ever delayed to the next push, in order: a short or
 * failed write keeps what is left and answers EAGAIN, which MHD waits out
 * as for any write (poll(2) on the socket), calling GnuTLS again.
 */
#define HTTP_HOLD_MAX	1024	/* A head's record: under 600 bytes. */
struct http_conn {
	struct http_peer	*peer;
	int			 fd;
	int			 armed;
	int			 hs_done;	/* metrics.c's mark. */
	size_t			 held;
	unsigned char		 hold[HTTP_HOLD_MAX];
};

struct http_listener;

/* One thread: its daemon and everything only it touches. */
struct http_worker {
	struct http_listener	*l;
	struct MHD_Daemon	*d;
	int			 fd;		/* Its listening socket. */
	int			 cpu;		/* It runs there (or -1). */
	struct ks_reader	*rd;
	struct ks		*rd_ks;		/* The store rd reads. */
	struct http_peer	*pending;	/* Accepted, not yet started. */
};

struct http_listener {
	int			 plain;
	size_t			 n;
	struct http_worker	 w[HTTP_THREADS_MAX];
	pthread_mutex_t		 lim_mtx;
	unsigned		 max, max_per_ip;
	unsigned		 conns;		/* All its daemons'. */
	struct http_peer	*peers[HTTP_LIM_BUCKETS];
};

/* Swapped by http_store_swap() when the store was replaced. */
static _Atomic(struct ks *)		 http_ks;
static struct MHD_Response		*http_r404, *http_r405, *http_r500;
static struct MHD_Response		*http_r400;	/* Connection: close. */
/* The same four for HTTPS, with Strict-Transport-Security (hsts). */
static struct MHD_Response		*http_s404, *http_s405, *http_s500;
static struct MHD_Response		*http_s400;
static char				 http_hsts[48];	/* Value, or "". */
static char				 http_waiting, http_answered;
static int				 http_acme_fd = -1;
static _Atomic unsigned			 http_keepalive = 5;	/* Seconds. */
/* Connections of every listener (max-connections counts them all). */
static _Atomic unsigned			 http_conns_all;

static enum MHD_Result	http_handler(void *, struct MHD_Connection *,
			    const char *, const char *, const char *,
			    const char *, size_t *, void **);
static enum MHD_Result	http_plain_handler(void *, struct MHD_Connection *,
			    const char *, const char *, const char *,
			    const char *, size_t *, void **);
static int		http_wait_body(struct MHD_Connection *, void **,
			    size_t *);
static int		http_is_tlsrpt(void *);
static int		http_tlsrpt_start(struct http_worker *,
			    struct MHD_Connection *, const char *,
			    const char *, void **, enum MHD_Result *);
static enum MHD_Result	http_tlsrpt_body(struct http_worker *,
			    struct MHD_Connection *, const char *,
			    const char *, size_t *, void **);
static void		http_completed(void *, struct MHD_Connection *,
			    void **, enum MHD_RequestTerminationCode);
static int		http_refused(struct MHD_Connection *, const char *,
			    const char *, const char *, void **,
			    enum MHD_Result *);
static void		http_mtasts(struct ks_reader *, const struct route *,
			    struct http_reply *);
static void		http_policy(struct ks_reader *, const struct route *,
			    struct http_reply *);
static void		http_key(struct ks_reader *, struct MHD_Connection *,
			    const struct route *, struct http_reply *);
static struct MHD_Response *http_etagged(struct MHD_Response *,
			    const char *);
static enum MHD_Result	http_queue(struct MHD_Connection *, const char *,
			    const struct route *, struct http_reply *,
			    const struct timespec *);
static struct MHD_Response *http_acme(const struct route *, size_t *);
static struct MHD_Response *http_redirect(const struct route *,
			    const char *);
static int		http_hosted(struct ks_reader *, const struct route *);
static struct ks_reader *http_reader(struct http_worker *);
static enum MHD_Result	http_accept(void *, const struct sockaddr *,
			    socklen_t);
static struct http_peer **http_peer_find(struct http_listener *,
			    const struct sockaddr *, socklen_t,
			    struct http_peer *);
static void		http_peer_drop(struct http_listener *,
			    struct http_peer *);
static size_t		http_cpus(int *, size_t);
static void		http_steer(struct http_listener *);
static int		http_sibling(int, char *, size_t);
static int		http_sni_match(struct MHD_Connection *, const char *);
static size_t		http_unescape(void *, struct MHD_Connection *,
			    char *);
static void		http_mhdlog(void *, const char *, va_list)
			    __attribute__((format(printf, 2, 0)));
static struct MHD_Response *http_typed(struct MHD_Response *, const char *);
static struct MHD_Response *http_static(const char *, const char *);
static struct MHD_Response *http_blob(struct ks_blob *, const char *,
			    int *);
static struct MHD_Response *http_body(size_t, const void *, void (*)(void *));
static ssize_t		http_body_read(void *, uint64_t, char *, size_t);
static ssize_t		http_push(gnutls_transport_ptr_t, const giovec_t *,
			    int);
static struct MHD_Response *http_options(struct MHD_Connection *);
static int		http_has_body(struct MHD_Connection *);
static const struct sockaddr *http_client(struct MHD_Connection *);
static struct limit_conn *http_conn(struct MHD_Connection *);
static int		http_limited(struct MHD_Connection *,
			    struct http_reply *);
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

	r = http_body(strlen(body), body, NULL);
	return (http_typed(r, type));
}

/*
 * A response of the len (> 0) bytes at data, read through MHD's content
 * reader (fr, if not NULL, frees data with the response).  Not a buffer
 * response: MHD 0.9.75 sends a buffer response's head with TCP_CORK set
 * when head and body are under 1400 bytes, then a setsockopt(2) to push
 * (one more system call per response, for as long as the connection
 * lives); a reader's head it sends pushed, uncorked, and its body too.
 * With http_push() holding the head, both go out in one sendmsg(2).
 */
static struct MHD_Response *
http_body(size_t len, const void *data, void (*fr)(void *))
{
	return (MHD_create_response_from_callback(len, len < 16384 ? len :
	    16384, http_body_read, (void *)(uintptr_t)data, fr));
}

/* MHD asks at most the bytes left from pos (total - pos). */
static ssize_t
http_body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	memcpy(buf, (const char *)cls + pos, max);
	return ((ssize_t)max);
}

static size_t
http_static_len(const struct MHD_Response *r)
{
	if (r == http_r404 || r == http_s404)
		return (sizeof(HTTP_404) - 1);
	if (r == http_r405 || r == http_s405)
		return (sizeof(HTTP_405) - 1);
	if (r == http_r400 || r == http_s400)
		return (sizeof(HTTP_400) - 1);
	return (sizeof(HTTP_500) - 1);
}

void
http_hsts_set(const struct conf *conf)
{
	if (conf->hsts == 0)
		http_hsts[0] = '\0';
	else
		(void)snprintf(http_hsts, sizeof(http_hsts), "max-age=%u",
		    conf->hsts);
}

unsigned
http_hsts_age(void)
{
	return (http_hsts[0] == '\0' ? 0 : (unsigned)strtoul(http_hsts + 8,
	    NULL, 10));
}

int
http_hsts_add(struct MHD_Response *r)
{
	if (r == NULL || http_hsts[0] == '\0' || MHD_get_response_header(r,
	    "Strict-Transport-Security") != NULL)
		return (0);
	return (MHD_add_response_header(r, "Strict-Transport-Security",
	    http_hsts) == MHD_YES ? 0 : -1);
}

/* The shared 404, 405, 500 and 400, for plain HTTP (s 0) or HTTPS. */
static int
http_statics(int s, struct MHD_Response **r404, struct MHD_Response **r405,
    struct MHD_Response **r500, struct MHD_Response **r400)
{
	if ((*r404 = http_static(HTTP_404, HTTP_TEXT)) == NULL ||
	    (*r405 = http_static(HTTP_405, HTTP_TEXT)) == NULL ||
	    (*r500 = http_static(HTTP_500, HTTP_TEXT)) == NULL ||
	    (*r400 = http_static(HTTP_400, HTTP_TEXT)) == NULL ||
	    MHD_add_response_header(*r400, MHD_HTTP_HEADER_CONNECTION,
	    "close") != MHD_YES ||
	    MHD_add_response_header(*r405, MHD_HTTP_HEADER_ALLOW,
	    HTTP_METHODS) != MHD_YES)
		return (-1);
	if (s && (http_hsts_add(*r404) == -1 || http_hsts_add(*r405) == -1 ||
	    http_hsts_add(*r500) == -1 || http_hsts_add(*r400) == -1))
		return (-1);
	return (0);
}

int
http_init(struct ks *ks)
{
	http_ks = ks;
	if (http_statics(0, &http_r404, &http_r405, &http_r500,
	    &http_r400) == -1 || http_statics(1, &http_s404, &http_s405,
	    &http_s500, &http_s400) == -1) {
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

/*
 * The thread's reader of the store requests use now, made again when
 * http_store_swap() replaced the store (the old handle stays open until
 * exit).  NULL if it can't be made (logged).
 */
static struct ks_reader *
http_reader(struct http_worker *w)
{
	struct ks	*ks = atomic_load(&http_ks);
	int		 rc;

	if (w->rd != NULL && w->rd_ks == ks)
		return (w->rd);
	ks_reader_free(w->rd);
	w->rd = NULL;
	if ((rc = ks_reader_new(ks, &w->rd)) != KS_OK) {
		log_warnx("store reader: %s", ks_strerror(rc));
		return (NULL);
	}
	w->rd_ks = ks;
	return (w->rd);
}

void
http_cleanup(void)
{
	if (http_r404 != NULL)
		MHD_destroy_response(http_r404);
	if (http_r405 != NULL)
		MHD_destroy_response(http_r405);
	if (http_r500 != NULL)
		MHD_destroy_response(http_r500);
	if (http_r400 != NULL)
		MHD_destroy_response(http_r400);
	http_r404 = http_r405 = http_r500 = http_r400 = NULL;
	if (http_s404 != NULL)
		MHD_destroy_response(http_s404);
	if (http_s405 != NULL)
		MHD_destroy_response(http_s405);
	if (http_s500 != NULL)
		MHD_destroy_response(http_s500);
	if (http_s400 != NULL)
		MHD_destroy_response(http_s400);
	http_s404 = http_s405 = http_s500 = http_s400 = NULL;
	www_cleanup();
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
 * A response owning blob b's data (MHD frees it); b is emptied, *body set
 * to 1 if the response has a body (http_body()'s).  NULL if out of memory
 * (b's data is freed then too).
 */
static struct MHD_Response *
http_blob(struct ks_blob *b, const char *type, int *body)
{
	struct MHD_Response	*r;

	if (b->len == 0) {
		ks_blob_free(b);
		r = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	} else {
		if ((r = http_body(b->len, b->data, free)) == NULL)
			ks_blob_free(b);
		else
			*body = 1;
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
int
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
	case ROUTE_WWW:
		return ("www");
	case ROUTE_LOOKUP:
		return ("lookup");
	case ROUTE_STATUS:
		return ("status");
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
	case ROUTE_TLSRPT:
		return ("tlsrpt");
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
	if (status == MHD_HTTP_TOO_MANY_REQUESTS && !limit_log_limited())
		return;		/* limit.c: a flood's lines summarised. */
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	log_access(ci != NULL ? ci->client_addr : NULL, method, r->host,
	    http_route_name(r->kind), status, bytes, us);
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

/* RFC 8461 3.3: the MTA-STS policy as "text/plain", never a redirect. */
static void
http_mtasts(struct ks_reader *rd, const struct route *r,
    struct http_reply *rep)
{
	struct ks_blob	 b;
	char		 etag[KS_ETAG_MAX];
	int		 rc;

	if ((rc = ks_reader_mtasts(rd, r->domain, &b)) == KS_OK) {
		memcpy(etag, b.etag, sizeof(etag));
		etag[sizeof(etag) - 1] = '\0';
		rep->status = MHD_HTTP_OK;
		rep->bytes = b.len;
		rep->resp = http_etagged(http_blob(&b, "text/plain",
		    &rep->body), etag);
	} else if (rc != KS_NOTFOUND) {
		log_warnx("mta-sts %s: %s", r->domain, ks_strerror(rc));
		rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

static void
http_policy(struct ks_reader *rd, const struct route *r,
    struct http_reply *rep)
{
	struct ks_blob	 b;
	int		 rc;

	if ((rc = ks_reader_policy(rd, r->domain, &b)) == KS_OK) {
		rep->status = MHD_HTTP_OK;
		rep->bytes = b.len;
		rep->resp = http_blob(&b, HTTP_TEXT, &rep->body);
	} else if (rc != KS_NOTFOUND) {
		log_warnx("policy %s: %s", r->domain, ks_strerror(rc));
		rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/* A key, or 304 if the client's If-None-Match names its ETag. */
static void
http_key(struct ks_reader *rd, struct MHD_Connection *c,
    const struct route *r, struct http_reply *rep)
{
	struct ks_blob	 b;
	const char	*inm;
	char		 etag[KS_ETAG_MAX];
	int		 rc;

	if ((rc = ks_reader_key(rd, r->domain, r->hash, &b)) != KS_OK) {
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
	rep->resp = http_etagged(http_blob(&b, "application/octet-stream",
	    &rep->body), etag);
}

/* c's deadline (limit.c), or NULL. */
static struct limit_conn *
http_conn(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo	*ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return (ci != NULL ? ci->socket_context : NULL);
}

/* The client's address, or NULL. */
static const struct sockaddr *
http_client(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo	*ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	return (ci != NULL ? ci->client_addr : NULL);
}

/*
 * limit.c's hook, for every lookup route (key requests now; a JSON lookup
 * endpoint later): 1 if c's client is over its limits, with rep set to
 * 429 and Retry-After (or 500 if out of memory); else 0, a token taken.
 */
static int
http_limited(struct MHD_Connection *c, struct http_reply *rep)
{
	char		 secs[16];
	unsigned	 retry;

	if (limit_take(http_client(c), &retry))
		return (0);
	rep->status = MHD_HTTP_TOO_MANY_REQUESTS;
	rep->bytes = sizeof(HTTP_429) - 1;
	(void)snprintf(secs, sizeof(secs), "%u", retry);
	if ((rep->resp = http_typed(http_body(sizeof(HTTP_429) - 1, HTTP_429,
	    NULL), HTTP_TEXT)) != NULL &&
	    MHD_add_response_header(rep->resp, MHD_HTTP_HEADER_RETRY_AFTER,
	    secs) != MHD_YES) {
		MHD_destroy_response(rep->resp);
		rep->resp = NULL;
	}
	if (rep->resp == NULL)
		rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	else
		rep->body = 1;
	return (1);
}

/*
 * Queue rep for the request (404 if it has no response, 500 if one
 * couldn't be built), free what it owns, log the request.
 */
static enum MHD_Result
http_queue(struct MHD_Connection *c, const char *method,
    const struct route *r, struct http_reply *rep, const struct timespec *t0)
{
	const union MHD_ConnectionInfo	*ci;
	struct limit_conn		*lc;
	struct http_conn		*hc;
	enum MHD_Result			 ret;

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
	    rep->resp == http_r500 || rep->resp == http_r400) {
		rep->bytes = http_static_len(rep->resp);
		rep->body = 1;
	}
	/*
	 * HTTPS: Strict-Transport-Security on every answer (the shared ones
	 * have twins with it; the page has it), never on plain HTTP.
	 */
	if (http_hsts[0] != '\0' && (ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_GNUTLS_SESSION)) != NULL &&
	    ci->tls_session != NULL) {
		if (rep->resp == http_r404)
			rep->resp = http_s404;
		else if (rep->resp == http_r405)
			rep->resp = http_s405;
		else if (rep->resp == http_r500)
			rep->resp = http_s500;
		else if (rep->resp == http_r400)
			rep->resp = http_s400;
		else if (!rep->shared && http_hsts_add(rep->resp) == -1)
			log_warnx("%s: out of memory", __func__);
	}
	if (strcmp(method, "HEAD") == 0 || rep->status < 200 ||
	    rep->status == MHD_HTTP_NO_CONTENT ||
	    rep->status == MHD_HTTP_NOT_MODIFIED)
		rep->body = 0;		/* MHD sends no body. */
	if (strcmp(method, "HEAD") == 0)
		rep->bytes = 0;
	ret = MHD_queue_response(c, rep->status, rep->resp);
	/* limit.c: the next head by the deadline, a short idle till then. */
	lc = http_conn(c);
	limit_conn_idle(lc);
	/* http_push(): the head's record waits for the body's. */
	if (ret == MHD_YES && rep->body && lc != NULL &&
	    (hc = limit_conn_arg(lc)) != NULL && hc->fd != -1)
		hc->armed = 1;
	(void)MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT,
	    atomic_load_explicit(&http_keepalive, memory_order_relaxed));
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
	struct http_worker	*w = cls;
	struct http_reply	 rep = { NULL, MHD_HTTP_NOT_FOUND, 0, 0, 0 };
	struct ks_reader	*rd;
	struct route		 r;
	struct timespec		 t0;
	const char		*host;
	enum MHD_Result		 ret;

	if (http_is_tlsrpt(*con_cls))	/* tlsrpt.c: a report's body. */
		return (http_tlsrpt_body(w, c, method, upload_data,
		    upload_data_size, con_cls));
	if (http_refused(c, method, url, version, con_cls, &ret)) /* frame.c */
		return (ret);
	if (*con_cls == NULL && tlsrpt_enabled() &&
	    strncmp(url, ROUTE_TLSRPT_PATH, sizeof(ROUTE_TLSRPT_PATH) - 1) ==
	    0 && http_tlsrpt_start(w, c, method, url, con_cls, &ret))
		return (ret);
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
	case ROUTE_WWW:
	case ROUTE_LOOKUP:
	case ROUTE_STATUS:
	case ROUTE_MTASTS:
	case ROUTE_POLICY:
	case ROUTE_KEY:
		/* limit.c: key lookups only, never policy (limit.h). */
		if ((r.kind == ROUTE_KEY || r.kind == ROUTE_LOOKUP) &&
		    http_limited(c, &rep))
			break;
		if ((rd = http_reader(w)) == NULL) {
			rep.status = MHD_HTTP_INTERNAL_SERVER_ERROR;
			break;
		}
		if (r.kind == ROUTE_INDEX || r.kind == ROUTE_WWW)
			www_file(rd, c, &r, &rep);
		else if (r.kind == ROUTE_LOOKUP) {
			www_lookup(rd, c, &r, &rep);
			if (rep.status == MHD_HTTP_NOT_FOUND ||	/* limit.c */
			    rep.status == MHD_HTTP_BAD_REQUEST)
				limit_miss(http_client(c));
		} else if (r.kind == ROUTE_STATUS)
			www_status(rd, c, &r, &rep);
		else if (r.kind == ROUTE_MTASTS)
			http_mtasts(rd, &r, &rep);
		else if (r.kind == ROUTE_POLICY)
			http_policy(rd, &r, &rep);
		else {
			http_key(rd, c, &r, &rep);
			if (rep.status == MHD_HTTP_NOT_FOUND)	/* limit.c */
				limit_miss(http_client(c));
		}
		ks_reader_end(rd);
		break;
	default:
		break;
	}
	return (http_queue(c, method, &r, &rep, &t0));
}

/*
 * TLS reports (tlsrpt.c): POST /tlsrpt under a hosted name.  The head is
 * checked on the first call (answered at once if refused: MHD closes the
 * connection then, the body unread); the body is gathered into the
 * request's struct tlsrpt_req (its MHD context, freed by
 * http_completed()) and the report answered once it is all in (routed
 * again then, for the log and the metrics).
 */
/* A request's context is a report's (not NULL nor a mark of ours)? */
static int
http_is_tlsrpt(void *ctx)
{
	return (ctx != NULL && ctx != &http_waiting && ctx != &http_answered &&
	    tlsrpt_is(ctx));
}

/* A text response of status with body text (a static string or msg). */
static void
http_text(struct http_reply *rep, unsigned status, const char *text)
{
	rep->status = status;
	rep->bytes = strlen(text);
	rep->resp = http_typed(MHD_create_response_from_buffer(rep->bytes,
	    (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY), HTTP_TEXT);
}

static const char *
http_tlsrpt_text(unsigned status)
{
	switch (status) {
	case 200:
		return ("Report accepted\n");
	case 404:
		return (HTTP_404);
	case 405:
		return (HTTP_405);
	case 413:
		return ("Report too large\n");
	case 415:
		return ("Not application/tlsrpt+gzip or "
		    "application/tlsrpt+json\n");
	case 507:
		return ("Report spool full: try later\n");
	default:
		return (HTTP_500);
	}
}

/* 1 if the request is POST /tlsrpt's (*ret to return), else 0. */
static int
http_tlsrpt_start(struct http_worker *w, struct MHD_Connection *c,
    const char *method, const char *url, void **con_cls,
    enum MHD_Result *ret)
{
	struct http_reply	 rep = { NULL, MHD_HTTP_NOT_FOUND, 0, 0, 0 };
	struct tlsrpt_req	*q;
	struct route		 r;
	struct timespec		 t0;
	const char		*host;
	char			 secs[16];
	unsigned		 status, retry = 1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	host = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST);
	route_request(method, host, url, &r);
	if (r.kind != ROUTE_TLSRPT)
		return (0);	/* "/tlsrpt..." but another path. */
	*con_cls = &http_answered;
	*ret = MHD_YES;
	if (!http_sni_match(c, r.host) || !http_hosted(http_reader(w), &r)) {
		*ret = http_queue(c, method, &r, &rep, &t0);
		return (1);
	}
	if (strcmp(method, "POST") != 0) {
		http_text(&rep, MHD_HTTP_METHOD_NOT_ALLOWED, HTTP_405);
		if (rep.resp != NULL && MHD_add_response_header(rep.resp,
		    MHD_HTTP_HEADER_ALLOW, "POST") != MHD_YES) {
			MHD_destroy_response(rep.resp);
			rep.resp = NULL;
		}
		*ret = http_queue(c, method, &r, &rep, &t0);
		return (1);
	}
	if (!tlsrpt_take(&retry)) {
		http_text(&rep, MHD_HTTP_TOO_MANY_REQUESTS, HTTP_429);
		(void)snprintf(secs, sizeof(secs), "%u", retry);
		if (rep.resp != NULL && MHD_add_response_header(rep.resp,
		    MHD_HTTP_HEADER_RETRY_AFTER, secs) != MHD_YES) {
			MHD_destroy_response(rep.resp);
			rep.resp = NULL;
		}
		*ret = http_queue(c, method, &r, &rep, &t0);
		return (1);
	}
	status = tlsrpt_begin(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE), MHD_lookup_connection_value(c,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH), &q);
	if (status != 0) {
		http_text(&rep, status, http_tlsrpt_text(status));
		*ret = http_queue(c, method, &r, &rep, &t0);
		return (1);
	}
	*con_cls = q;
	return (1);
}

static enum MHD_Result
http_tlsrpt_body(struct http_worker *w, struct MHD_Connection *c,
    const char *method, const char *data, size_t *size, void **con_cls)
{
	struct http_reply	 rep = { NULL, MHD_HTTP_NOT_FOUND, 0, 0, 0 };
	struct tlsrpt_req	*q = *con_cls;
	struct ks_reader	*rd;
	struct route		 r;
	struct timespec		 t0;
	const char		*host;
	char			 msg[320], text[400];
	unsigned		 status;

	if (*size > 0) {
		if (tlsrpt_body(q, data, *size) == -1)
			return (MHD_NO);	/* Closed. */
		*size = 0;
		return (MHD_YES);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	host = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST);
	route_request(method, host, ROUTE_TLSRPT_PATH, &r);
	if ((rd = http_reader(w)) == NULL)
		status = 500;
	else
		status = tlsrpt_end(q, rd, msg, sizeof(msg));
	*con_cls = &http_answered;
	tlsrpt_free(q);
	if ((status == 400 || status == 404) && msg[0] != '\0') {
		(void)snprintf(text, sizeof(text), "%s: %s\n", status == 400 ?
		    "Not a TLS report" : "Not found", msg);
		http_text(&rep, status, text);
	} else
		http_text(&rep, status, http_tlsrpt_text(status));
	return (http_queue(c, method, &r, &rep, &t0));
}

/* MHD's request completed: a report's context, if left, freed. */
static void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	if (http_is_tlsrpt(*con_cls)) {
		tlsrpt_free(*con_cls);
		*con_cls = NULL;
	}
}

/*
 * frame.c's hook: on a request's first call (its head complete), 1 if its
 * framing is refused, with 400 queued (Connection: close: nothing after
 * it is read) and *ret for the handler to return; else 0.
 */
static int
http_refused(struct MHD_Connection *c, const char *method, const char *url,
    const char *version, void **con_cls, enum MHD_Result *ret)
{
	struct http_reply	 rep = { NULL, MHD_HTTP_BAD_REQUEST, 0, 1, 0 };
	struct route		 r;
	struct timespec		 t0;
	const char		*why;

	if (*con_cls != NULL)
		return (0);
	limit_conn_request(http_conn(c));	/* The head is in. */
	if ((why = frame_check(c, method, url, version)) == NULL)
		return (0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	log_debug("request refused: %s", why);
	*con_cls = &http_answered;
	memset(&r, 0, sizeof(r));
	rep.resp = http_r400;
	*ret = http_queue(c, method, &r, &rep, &t0);
	return (1);
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
http_hosted(struct ks_reader *rd, const struct route *r)
{
	int	rc;

	if (rd == NULL)
		return (0);
	if ((rc = ks_reader_has_domain(rd, r->host)) == KS_OK ||
	    (strcmp(r->domain, r->host) != 0 &&
	    (rc = ks_reader_has_domain(rd, r->domain)) == KS_OK)) {
		ks_reader_end(rd);
		return (1);
	}
	ks_reader_end(rd);
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
	struct http_worker	*w = cls;
	struct http_reply	 rep = { NULL, MHD_HTTP_NOT_FOUND, 0, 0, 0 };
	struct route		 r;
	struct timespec		 t0;
	const char		*host;
	enum MHD_Result		 ret;

	(void)upload_data;
	if (http_refused(c, method, url, version, con_cls, &ret)) /* frame.c */
		return (ret);
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
		if (http_hosted(http_reader(w), &r) &&
		    (rep.resp = http_acme(&r, &rep.bytes)) != NULL)
			rep.status = MHD_HTTP_OK;
		break;
	case ROUTE_REDIRECT:
		if (http_hosted(http_reader(w), &r)) {
			rep.status = MHD_HTTP_MOVED_PERMANENTLY;
			rep.resp = http_redirect(&r, url);
		}
		break;
	default:
		break;
	}
	return (http_queue(c, method, &r, &rep, &t0));
}

/*
 * The peer of a client address in l's table (lim_mtx held): a pointer to
 * the link that holds it, or to the NULL ending its bucket (then add, if
 * not NULL, is put there with the address).
 */
static struct http_peer **
http_peer_find(struct http_listener *l, const struct sockaddr *sa,
    socklen_t len, struct http_peer *add)
{
	const struct sockaddr_in	*s4 = (const void *)sa;
	const struct sockaddr_in6	*s6 = (const void *)sa;
	struct http_peer		**pp;
	unsigned char			 a[16];
	uint32_t			 h = 2166136261u;
	size_t				 i;

	/*
	 * An IPv6 source is its /64 (one host may hold all of it), an
	 * IPv4-mapped one its IPv4 address.
	 */
	memset(a, 0, sizeof(a));
	if (sa->sa_family == AF_INET6 && len >= sizeof(*s6)) {
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			memcpy(a, &s6->sin6_addr.s6_addr[12], 4);
		else
			memcpy(a, &s6->sin6_addr, 8);
	} else if (sa->sa_family == AF_INET && len >= sizeof(*s4))
		memcpy(a, &s4->sin_addr, 4);
	for (i = 0; i < sizeof(a); i++)
		h = (h ^ a[i]) * 16777619u;
	h %= HTTP_LIM_BUCKETS;
	for (pp = &l->peers[h]; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->family == sa->sa_family &&
		    memcmp((*pp)->addr, a, sizeof(a)) == 0)
			return (pp);
	if (add != NULL) {
		memcpy(add->addr, a, sizeof(a));
		add->family = sa->sa_family;
		add->conns = 0;
		add->bucket = h;
		add->next = NULL;
		*pp = add;
	}
	return (pp);
}

/* One connection of p's closed (lim_mtx held). */
static void
http_peer_drop(struct http_listener *l, struct http_peer *p)
{
	struct http_peer	**pp;

	l->conns--;
	atomic_fetch_sub(&http_conns_all, 1);
	if (--p->conns > 0)
		return;
	for (pp = &l->peers[p->bucket]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			free(p);
			return;
		}
}

/*
 * MHD's accept policy: max-connections and max-connections-per-ip over
 * all the listener's daemons.  The connection counts from here; its
 * http_notify(STARTED), in the same thread right after, takes it over,
 * and one MHD drops in between (out of memory) is given back at the
 * thread's next accept.
 */
static enum MHD_Result
http_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
	struct http_worker	*w = cls;
	struct http_listener	*l = w->l;
	struct http_peer	*p, *add;
	enum MHD_Result		 ok = MHD_NO;

	if ((add = malloc(sizeof(*add))) == NULL)
		return (MHD_NO);
	pthread_mutex_lock(&l->lim_mtx);
	if (w->pending != NULL) {
		http_peer_drop(l, w->pending);
		w->pending = NULL;
	}
	if (l->conns < l->max && atomic_load(&http_conns_all) < l->max) {
		if ((p = *http_peer_find(l, sa, len, NULL)) == NULL) {
			p = *http_peer_find(l, sa, len, add);
			add = NULL;
		}
		if (p->conns < l->max_per_ip) {	/* max_per_ip >= 1. */
			p->conns++;
			l->conns++;
			atomic_fetch_add(&http_conns_all, 1);
			w->pending = p;
			ok = MHD_YES;
		}
	}
	pthread_mutex_unlock(&l->lim_mtx);
	free(add);
	return (ok);
}

/*
 * GnuTLS's output for a connection (struct http_conn): the records iov
 * holds, with what was held before them, in one sendmsg(2).  The bytes
 * sent of iov's, or -1 with errno (EAGAIN when only held bytes went out,
 * or not all of them: GnuTLS keeps iov's records and MHD tries again).
 */
static ssize_t
http_push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int n)
{
	struct http_conn	*hc = ptr;
	struct iovec		 v[64];
	struct msghdr		 msg;
	size_t			 total = 0, off;
	ssize_t			 w;
	int			 i, k = 0;

	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (hc->armed) {
		hc->armed = 0;
		if (total > 0 && hc->held + total <= sizeof(hc->hold)) {
			for (i = 0, off = hc->held; i < n; i++) {
				memcpy(hc->hold + off, iov[i].iov_base,
				    iov[i].iov_len);
				off += iov[i].iov_len;
			}
			hc->held = off;
			return ((ssize_t)total);
		}
	}
	if (hc->held > 0) {
		v[k].iov_base = hc->hold;
		v[k++].iov_len = hc->held;
	}
	for (i = 0; i < n && k < (int)(sizeof(v) / sizeof(v[0])); i++) {
		v[k].iov_base = iov[i].iov_base;
		v[k++].iov_len = iov[i].iov_len;
	}
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = v;
	msg.msg_iovlen = k;
	if ((w = sendmsg(hc->fd, &msg, MSG_NOSIGNAL)) == -1)
		return (-1);
	if ((size_t)w < hc->held) {
		memmove(hc->hold, hc->hold + w, hc->held - w);
		hc->held -= w;
		errno = EAGAIN;
		return (-1);
	}
	w -= hc->held;
	hc->held = 0;
	if (w == 0 && total > 0) {
		errno = EAGAIN;
		return (-1);
	}
	return (w);
}

/*
 * A connection starts (before its TLS handshake) or closes.  Started: it
 * takes the count http_accept() made, its TLS session gets tickets
 * (tls.c's key), and metrics.c counts it and hooks its handshake.
 * Closed: the count goes, and metrics.c counts that.
 */
static void
http_notify(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_ConnectionNotificationCode what)
{
	struct http_worker		*w = cls;
	const union MHD_ConnectionInfo	*ci;
	struct http_conn		*hc;
	struct http_peer		*p;
	int				 listener, fd, rfd, sfd;
	gnutls_session_t		 s = NULL;

	listener = w->l->plain ? METRICS_HTTP : METRICS_HTTPS;
	if (!w->l->plain && (ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_GNUTLS_SESSION)) != NULL)
		s = ci->tls_session;
	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		/* limit.c: its deadline; the peer count rides along. */
		fd = (ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD)) != NULL ?
		    ci->connect_fd : -1;
		hc = fd != -1 ? malloc(sizeof(*hc)) : NULL;
		if (hc == NULL || (*ctx = limit_conn_open(fd, hc)) == NULL) {
			free(hc);
			pthread_mutex_lock(&w->l->lim_mtx);	/* No memory. */
			if (w->pending != NULL)
				http_peer_drop(w->l, w->pending);
			pthread_mutex_unlock(&w->l->lim_mtx);
			hc = NULL;
		} else {
			hc->peer = w->pending;
			hc->fd = -1;
			hc->armed = 0;
			hc->held = 0;
		}
		w->pending = NULL;
		if (s != NULL)
			tls_session_start(s);
		/* MHD set the socket as transport (set_int): ours pushes. */
		if (s != NULL && hc != NULL) {
			gnutls_transport_get_int2(s, &rfd, &sfd);
			if (rfd == fd && sfd == fd) {
				hc->fd = fd;
				gnutls_transport_set_ptr2(s,
				    (gnutls_transport_ptr_t)(intptr_t)fd, hc);
				gnutls_transport_set_vec_push_function(s,
				    http_push);
			}
		}
		metrics_conn_open(listener);
		metrics_tls_start(s, hc != NULL ? &hc->hs_done : NULL);
		return;
	}
	/* s is only looked at, not used: MHD may have freed it. */
	hc = *ctx != NULL ? limit_conn_arg(*ctx) : NULL;
	if (s != NULL && hc != NULL)
		metrics_tls_close(hc->hs_done);
	metrics_conn_close(listener);
	if (*ctx != NULL) {
		p = hc->peer;
		free(hc);
		limit_conn_close(*ctx);
		if (p != NULL) {
			pthread_mutex_lock(&w->l->lim_mtx);
			http_peer_drop(w->l, p);
			pthread_mutex_unlock(&w->l->lim_mtx);
		}
		*ctx = NULL;
	}
}

/* The CPUs this process may run on, up to max of them (at least one). */
static size_t
http_cpus(int *cpu, size_t max)
{
	cpu_set_t	set;
	size_t		n = 0;
	int		c;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (c = 0; c < CPU_SETSIZE && n < max; c++)
			if (CPU_ISSET(c, &set))
				cpu[n++] = c;
	if (n == 0)
		cpu[n++] = -1;		/* Anywhere: one thread. */
	return (n);
}

/*
 * Each connection to the thread of the CPU that took its SYN: a classic
 * BPF program on the port's SO_REUSEPORT group picks the socket whose
 * index is that CPU's place in l's list (SKF_AD_CPU); another CPU's (one
 * brought online since) gets -1, and the kernel's hash.  With each
 * thread pinned to its CPU (http_start()), a connection is served where
 * its packets arrive: for a NIC that spreads flows over CPUs (RSS), on
 * the CPU of its queue; for a client on this machine, on the client's
 * CPU, so the client's thread and wkdd's take turns on one core instead
 * of each waiting for the other's time slice on two.  Hashed, a thread
 * whose CPU the client held had its connections wait out the client's
 * slice: keep-alive p99 7.5 ms instead of 1.3 (BENCHMARKS.md).  Without
 * the program (an old kernel), the hash spreads them as before.
 */
static void
http_steer(struct http_listener *l)
{
	struct sock_filter	code[2 + 2 * HTTP_THREADS_MAX];
	struct sock_fprog	prog;
	size_t			i, k = 0;

	code[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    (uint32_t)(SKF_AD_OFF + SKF_AD_CPU));
	for (i = 0; i < l->n; i++) {
		code[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
		    BPF_K, (uint32_t)l->w[i].cpu, 0, 1);
		code[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		    (uint32_t)i);
	}
	code[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    UINT32_MAX);
	prog.len = (unsigned short)k;
	prog.filter = code;
	if (setsockopt(l->w[0].fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF,
	    &prog, sizeof(prog)) == -1)
		log_warnx("SO_ATTACH_REUSEPORT_CBPF: %s; connections go to "
		    "threads by hash", strerror(errno));
}

/*
 * Another listening socket on fd's address (fd has SO_REUSEPORT, and so
 * does this one); -1 with err set.  Only sockets of the same user join a
 * port's group: wkdd's, bound as root.
 */
static int
http_sibling(int fd, char *err, size_t errsz)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	int			 s, on = 1;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    (s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1) {
		(void)snprintf(err, errsz, "socket: %s", strerror(errno));
		return (-1);
	}
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1 ||
	    (ss.ss_family == AF_INET6 && setsockopt(s, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
	    bind(s, (struct sockaddr *)&ss, len) == -1 ||
	    listen(s, SOMAXCONN) == -1) {
		(void)snprintf(err, errsz, "SO_REUSEPORT socket: %s",
		    strerror(errno));
		(void)close(s);
		return (-1);
	}
	return (s);
}

struct http_listener *
http_listener_new(int fd, int plain, int pin, char *err, size_t errsz)
{
	struct http_listener	*l;
	int			 cpu[HTTP_THREADS_MAX];
	size_t			 i, n;

	n = plain ? 1 : http_cpus(cpu, HTTP_THREADS_MAX);
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		(void)snprintf(err, errsz, "%s", strerror(errno));
		return (NULL);
	}
	if (pthread_mutex_init(&l->lim_mtx, NULL) != 0) {
		(void)snprintf(err, errsz, "pthread_mutex_init failed");
		free(l);
		return (NULL);
	}
	l->plain = plain;
	l->w[0].fd = fd;
	for (l->n = 1; l->n < n; l->n++)
		if ((l->w[l->n].fd = http_sibling(fd, err, errsz)) == -1) {
			for (i = 1; i < l->n; i++)
				(void)close(l->w[i].fd);
			pthread_mutex_destroy(&l->lim_mtx);
			free(l);
			return (NULL);
		}
	for (i = 0; i < l->n; i++) {
		l->w[i].l = l;
		l->w[i].cpu = pin && l->n > 1 ? cpu[i] : -1;
	}
	if (pin && l->n > 1)
		http_steer(l);
	return (l);
}

size_t
http_listener_threads(const struct http_listener *l)
{
	return (l->n);
}

int
http_start(struct http_listener *l, const struct conf *conf)
{
	struct http_worker	*w;
	cpu_set_t		 all, one;
	unsigned		 flags;
	size_t			 i;
	int			 pinned;

	l->max = conf->max_conns;
	l->max_per_ip = conf->max_conns_per_ip;
	atomic_store(&http_keepalive, conf->keepalive_timeout);
	/*
	 * poll(2), not epoll: in MHD 0.9.75's epoll loop a TLS handshake
	 * waiting for the client stays on the ready list (nothing clears its
	 * read-ready state), and the thread spins, recv() and epoll_wait(0),
	 * until the client's next flight comes: half the CPU of a full
	 * handshake (BENCHMARKS.md).  A thread polls only its own share of
	 * the connections.
	 */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
	    MHD_USE_ERROR_LOG;
	/*
	 * Each thread on its CPU (http_steer()): MHD's thread inherits the
	 * affinity this one has while it starts the daemon.
	 */
	pinned = l->w[0].cpu != -1 &&
	    sched_getaffinity(0, sizeof(all), &all) == 0;
	for (i = 0; i < l->n; i++) {
		w = &l->w[i];
		if (http_reader(w) == NULL)
			break;
		if (pinned) {
			CPU_ZERO(&one);
			CPU_SET(w->cpu, &one);
			if (sched_setaffinity(0, sizeof(one), &one) == -1)
				log_warnx("thread %zu on CPU %d: %s", i,
				    w->cpu, strerror(errno));
		}
		/* The counts are ours (http_accept()): none per daemon. */
		if (l->plain)
			w->d = MHD_start_daemon(flags, 0, http_accept, w,
			    http_plain_handler, w,
			    MHD_OPTION_EXTERNAL_LOGGER, http_mhdlog, NULL,
			    MHD_OPTION_LISTEN_SOCKET, w->fd,
			    MHD_OPTION_CONNECTION_LIMIT, conf->max_conns,
			    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
			    (size_t)HTTP_CONN_MEMORY,
			    MHD_OPTION_NOTIFY_CONNECTION, http_notify, w,
			    MHD_OPTION_CONNECTION_TIMEOUT, conf->timeout,
			    MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, NULL,
			    MHD_OPTION_END);
		else
			w->d = MHD_start_daemon(flags | MHD_USE_TLS, 0,
			    http_accept, w, http_handler, w,
			    MHD_OPTION_EXTERNAL_LOGGER, http_mhdlog, NULL,
			    MHD_OPTION_LISTEN_SOCKET, w->fd,
			    MHD_OPTION_HTTPS_CERT_CALLBACK, tls_cert_cb,
			    MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL,
			    MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
			    MHD_OPTION_CONNECTION_LIMIT, conf->max_conns,
			    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
			    (size_t)HTTP_CONN_MEMORY,
			    MHD_OPTION_NOTIFY_CONNECTION, http_notify, w,
			    MHD_OPTION_CONNECTION_TIMEOUT, conf->timeout,
			    MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, NULL,
			    MHD_OPTION_END);
		if (w->d == NULL) {
			log_warnx("cannot start the %sHTTP daemon",
			    l->plain ? "plain " : "");
			break;
		}
	}
	if (pinned && sched_setaffinity(0, sizeof(all), &all) == -1)
		log_warnx("sched_setaffinity: %s", strerror(errno));
	return (i == l->n ? 0 : -1);
}

void
http_listener_stop(struct http_listener **ls, size_t n, unsigned wait_ms)
{
	const union MHD_DaemonInfo	*info;
	struct timespec			 ts = { 0,
					    HTTP_STOP_POLL_MS * 1000 * 1000 };
	struct http_listener		*l;
	struct http_peer		*p;
	MHD_socket			 fd;
	unsigned			 waited, open;
	size_t				 i, j;

	/* Stop accepting everywhere (the sockets are ours again)... */
	for (i = 0; i < n; i++)
		for (j = 0, l = ls[i]; j < l->n; j++)
			if (l->w[j].d != NULL) {
				fd = MHD_quiesce_daemon(l->w[j].d);
				l->w[j].fd = fd == MHD_INVALID_SOCKET ? -1 : fd;
			}
	/* ...let open connections finish for a while... */
	for (waited = 0; waited < wait_ms; waited += HTTP_STOP_POLL_MS) {
		for (i = 0, open = 0; i < n; i++)
			for (j = 0, l = ls[i]; j < l->n; j++) {
				if (l->w[j].d == NULL)
					continue;
				info = MHD_get_daemon_info(l->w[j].d,
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
		l = ls[i];
		for (j = 0; j < l->n; j++) {
			if (l->w[j].d != NULL)
				MHD_stop_daemon(l->w[j].d);
			if (l->w[j].fd != -1)
				(void)close(l->w[j].fd);
			ks_reader_free(l->w[j].rd);
		}
		for (j = 0; j < HTTP_LIM_BUCKETS; j++)
			while ((p = l->peers[j]) != NULL) {
				l->peers[j] = p->next;
				free(p);
			}
		pthread_mutex_destroy(&l->lim_mtx);
		free(l);
		ls[i] = NULL;
	}
}

void
http_stop(struct MHD_Daemon **ds, size_t n)
{
	MHD_socket	 fd;
	size_t		 i;

	/* The connections, then the listening socket (MHD's docs). */
	for (i = 0; i < n; i++) {
		fd = MHD_quiesce_daemon(ds[i]);
		MHD_stop_daemon(ds[i]);
		if (fd != MHD_INVALID_SOCKET)
			(void)close(fd);
	}
}
