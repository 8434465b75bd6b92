/*
 * metrics.c: see metrics.h.  Names follow Prometheus's conventions
 * (wkdd_ prefix, _total counters, _seconds and _bytes units); no label
 * ever holds an address or a hash, and domain labels only come with
 * metrics-domains on.  The store's figures are LMDB's own counts
 * (ks_stats()), read at each scrape.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "keystore.h"
#include "limit.h"
#include "log.h"
#include "metrics.h"
#include "wkdd.h"

#ifndef WKDD_VERSION
#define WKDD_VERSION	"unknown"
#endif

#define M_TEXT		"text/plain; version=0.0.4; charset=utf-8"
#define M_CONNS		16	/* Scrapers at once. */
#define M_TIMEOUT	10	/* Seconds. */
#define M_DOMAINS_MAX	4096	/* Per-domain slots (a power of two). */

/* Routes as the metrics name them. */
enum { MR_KEY, MR_POLICY, MR_MTASTS, MR_INDEX, MR_ACME, MR_LOOKUP,
    MR_TLSRPT, MR_OTHER, MR_COUNT };
static const char *const m_routes[MR_COUNT] = {
	"key", "policy", "mta-sts", "index", "acme", "lookup", "tlsrpt", "other"
};

/* The statuses wkdd answers with; anything else (none today) is "other". */
static const unsigned m_statuses[] = {
	200, 204, 301, 304, 400, 404, 405, 413, 415, 429, 500, 503, 507
};
#define M_NSTATUS	(sizeof(m_statuses) / sizeof(m_statuses[0]) + 1)

/* Request duration buckets, microseconds; the last is +Inf. */
static const long m_buckets[] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
	250000, 500000, 1000000
};
#define M_NBUCKET	(sizeof(m_buckets) / sizeof(m_buckets[0]) + 1)

/*
 * The counters, one block per thread that counts (struct m_thread): a
 * thread adds to its own block only, with a relaxed load and store (no
 * locked instruction, no cache line shared with another thread), and a
 * scrape sums the blocks.  A thread's block is made at its first count
 * and put on m_threads for good; when the thread ends it is marked free
 * and the next new thread takes it over, counts and all, so the sums
 * never go back.  If a block can't be allocated the thread counts in
 * m_spare, shared, with atomic additions.  Connections open is a sum of
 * pluses and minuses: a block's share may be negative.
 */
struct m_thread {
	atomic_ullong		 requests[MR_COUNT][M_NSTATUS];
	atomic_ullong		 hist[MR_COUNT][M_NBUCKET]; /* Not cumulated. */
	atomic_ullong		 usec[MR_COUNT];
	atomic_ullong		 bytes[MR_COUNT];
	atomic_llong		 open[2];
	atomic_ullong		 conns[2];
	atomic_ullong		 hs[3];
	atomic_ullong		 lim[2];	/* Allowed, limited. */
	atomic_ullong		 tlsrpt[METRICS_TR_COUNT];
	int			 in_use;	/* Under m_threads_mtx. */
	struct m_thread		*next;
};
static struct m_thread		*m_threads;	/* Under m_threads_mtx. */
static struct m_thread		 m_spare;
static pthread_mutex_t		 m_threads_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t		 m_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t		 m_key;
static int			 m_key_ok;
static _Thread_local struct m_thread	*m_self;
static const char *const m_tlsrpt_names[METRICS_TR_COUNT] = {
	"accepted", "malformed", "too-large", "unhosted", "content-type",
	"spool-full", "limited", "error"
};

/*
 * metrics-domains: an open-addressing table of domains, filled by the
 * request threads themselves (a slot is claimed with a compare-and-swap,
 * its name written, then published; a thread that meets a slot being
 * named waits that memcpy out), read by scrapes.  Only a domain that
 * answered 200 or 304 gets a slot, so only hosted domains can take them;
 * when all are taken, requests count in m_domain_overflow.
 */
#define SLOT_FREE	0
#define SLOT_WRITING	1
#define SLOT_READY	2
struct m_domain {
	atomic_int	 state;
	char		 name[KS_DOMAIN_MAX];
	atomic_ullong	 n[MR_COUNT];
};
static struct m_domain	*m_domains;
static atomic_ullong	 m_domain_overflow;

static time_t		 m_started;

/* A growing text buffer for a scrape (the metrics thread only). */
struct m_buf {
	char	*p;
	size_t	 len, cap;
	int	 oom;
};

static void	mb_printf(struct m_buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	mb_label(struct m_buf *, const char *);
static void	mb_head(struct m_buf *, const char *, const char *,
		    const char *);
static void	m_store(struct m_buf *);
static void	m_certs(struct m_buf *);
static void	m_cert_cb(const char *, const char *, time_t, void *);
static void	m_domain_count(const char *, int);
static enum MHD_Result	m_handler(void *, struct MHD_Connection *,
			    const char *, const char *, const char *,
			    const char *, size_t *, void **);

/* Add n to counter a of block t (the calling thread's, or m_spare). */
#define ADD(t, a, n)	do {						\
	if ((t) == &m_spare)						\
		atomic_fetch_add_explicit(&m_spare.a, (n),		\
		    memory_order_relaxed);				\
	else								\
		atomic_store_explicit(&(t)->a, atomic_load_explicit(	\
		    &(t)->a, memory_order_relaxed) + (n),		\
		    memory_order_relaxed);				\
} while (0)
#define GET(a)		atomic_load_explicit(&(a), memory_order_relaxed)
#define DADD(a, n)	atomic_fetch_add_explicit(&(a), (n), \
			    memory_order_relaxed)

/* A thread ends: its block waits for the next thread. */
static void
m_thread_end(void *arg)
{
	struct m_thread	*t = arg;

	pthread_mutex_lock(&m_threads_mtx);
	t->in_use = 0;
	pthread_mutex_unlock(&m_threads_mtx);
}

static void
m_key_init(void)
{
	m_key_ok = pthread_key_create(&m_key, m_thread_end) == 0;
}

/* The calling thread's block, made or taken over at its first count. */
static struct m_thread *
m_me(void)
{
	struct m_thread	*t;

	if (m_self != NULL)
		return (m_self);
	(void)pthread_once(&m_key_once, m_key_init);
	pthread_mutex_lock(&m_threads_mtx);
	for (t = m_threads; t != NULL && t->in_use; t = t->next)
		;
	if (t == NULL && m_key_ok &&
	    (t = aligned_alloc(64, (sizeof(*t) + 63) / 64 * 64)) != NULL) {
		memset(t, 0, sizeof(*t));
		t->next = m_threads;
		m_threads = t;
	}
	if (t != NULL) {
		if (pthread_setspecific(m_key, t) == 0)
			t->in_use = 1;
		else
			t = NULL;
	}
	pthread_mutex_unlock(&m_threads_mtx);
	return (m_self = t != NULL ? t : &m_spare);
}

int
metrics_init(const struct conf *conf)
{
	m_started = time(NULL);
	if (strcmp(conf->metrics_domains, "on") == 0 &&
	    (m_domains = calloc(M_DOMAINS_MAX, sizeof(*m_domains))) == NULL)
		return (-1);
	return (0);
}

void
metrics_cleanup(void)
{
	free(m_domains);
	m_domains = NULL;
}

static int
m_route(int kind)
{
	switch (kind) {
	case ROUTE_KEY:
		return (MR_KEY);
	case ROUTE_POLICY:
		return (MR_POLICY);
	case ROUTE_MTASTS:
		return (MR_MTASTS);
	case ROUTE_INDEX:
	case ROUTE_WWW:
	case ROUTE_STATUS:
		return (MR_INDEX);	/* The web page. */
	case ROUTE_LOOKUP:
		return (MR_LOOKUP);
	case ROUTE_ACME:
		return (MR_ACME);
	case ROUTE_TLSRPT:
		return (MR_TLSRPT);
	default:
		return (MR_OTHER);
	}
}

void
metrics_request(int kind, const char *domain, unsigned status, size_t bytes,
    long usec)
{
	struct m_thread	*t = m_me();
	size_t		 i;
	int		 r = m_route(kind);

	for (i = 0; i < M_NSTATUS - 1 && m_statuses[i] != status; i++)
		;
	ADD(t, requests[r][i], 1);
	for (i = 0; i < M_NBUCKET - 1 && usec > m_buckets[i]; i++)
		;
	ADD(t, hist[r][i], 1);
	ADD(t, usec[r], usec > 0 ? (unsigned long long)usec : 0);
	ADD(t, bytes[r], bytes);
	if (m_domains != NULL && r != MR_OTHER && r != MR_ACME &&
	    (status == 200 || status == 304) && domain[0] != '\0')
		m_domain_count(domain, r);
}

void
metrics_tlsrpt(int result)
{
	struct m_thread	*t;

	if (result >= 0 && result < METRICS_TR_COUNT) {
		t = m_me();
		ADD(t, tlsrpt[result], 1);
	}
}

/* FNV-1a; the table is for counting, not a defence (hosted names only). */
static void
m_domain_count(const char *domain, int r)
{
	struct m_domain	*d;
	uint32_t	 h = 2166136261u;
	size_t		 i, len = strlen(domain);
	const char	*p;
	int		 st;

	if (len >= KS_DOMAIN_MAX)
		return;
	for (p = domain; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (i = 0; i < M_DOMAINS_MAX; i++) {
		d = &m_domains[(h + i) & (M_DOMAINS_MAX - 1)];
again:
		st = atomic_load_explicit(&d->state, memory_order_acquire);
		if (st == SLOT_FREE) {
			if (!atomic_compare_exchange_strong(&d->state, &st,
			    SLOT_WRITING))
				goto again;	/* Taken meanwhile. */
			memcpy(d->name, domain, len + 1);
			DADD(d->n[r], 1);
			atomic_store_explicit(&d->state, SLOT_READY,
			    memory_order_release);
			return;
		}
		/*
		 * Being named by another thread, which may be counting this
		 * very domain (its first request): wait for the name, a
		 * memcpy away, so that no domain gets two slots.
		 */
		while (st == SLOT_WRITING)
			st = atomic_load_explicit(&d->state,
			    memory_order_acquire);
		if (strcmp(d->name, domain) == 0) {
			DADD(d->n[r], 1);
			return;
		}
	}
	DADD(m_domain_overflow, 1);
}

void
metrics_conn_open(int listener)
{
	struct m_thread	*t = m_me();

	ADD(t, open[listener != METRICS_HTTPS], 1);
	ADD(t, conns[listener != METRICS_HTTPS], 1);
}

void
metrics_conn_close(int listener)
{
	struct m_thread	*t = m_me();

	ADD(t, open[listener != METRICS_HTTPS], -1);
}

void
metrics_handshake(int result)
{
	struct m_thread	*t;

	if (result >= METRICS_HS_FULL && result <= METRICS_HS_FAILED) {
		t = m_me();
		ADD(t, hs[result], 1);
	}
}

void
metrics_limit(int limited)
{
	struct m_thread	*t = m_me();

	ADD(t, lim[limited != 0], 1);
}

/*
 * GnuTLS calls this after each handshake message of a hooked session; the
 * client's Finished, read, ends a handshake, full or resumed.  The
 * session's db pointer (gnutls_db_set_ptr(), unused without a session
 * cache; MHD keeps the session's own pointer for itself) points to the
 * connection's mark, set here, which the caller gives metrics_tls_close():
 * at MHD's CLOSED the session may be freed already (MHD 0.9.75's
 * MHD_cleanup_connections() calls gnutls_deinit() before the notifier).
 */
static int
m_hs_hook(gnutls_session_t s, unsigned htype, unsigned when,
    unsigned incoming, const gnutls_datum_t *msg)
{
	int	*done = gnutls_db_get_ptr(s);

	(void)msg;
	if (htype == GNUTLS_HANDSHAKE_FINISHED && when == GNUTLS_HOOK_POST &&
	    incoming && done != NULL && !*done) {
		*done = 1;
		metrics_handshake(gnutls_session_is_resumed(s) ?
		    METRICS_HS_RESUMED : METRICS_HS_FULL);
	}
	return (0);
}

void
metrics_tls_start(gnutls_session_t s, int *done)
{
	if (s == NULL || done == NULL)
		return;
	*done = 0;
	gnutls_db_set_ptr(s, done);
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_FINISHED,
	    GNUTLS_HOOK_POST, m_hs_hook);
}

void
metrics_tls_close(int done)
{
	if (!done)
		metrics_handshake(METRICS_HS_FAILED);
}

static void
mb_printf(struct m_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*p;
	size_t	 cap;
	int	 n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += n;
			return;
		}
		cap = b->cap * 2 + n;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

/* A label value, escaped as the text format wants (\\, \", \n). */
static void
mb_label(struct m_buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			mb_printf(b, "\\%c", *v);
		else if (*v == '\n')
			mb_printf(b, "\\n");
		else
			mb_printf(b, "%c", *v);
	}
}

static void
mb_head(struct m_buf *b, const char *name, const char *type,
    const char *help)
{
	mb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The store's figures; wkdd_store_up 0 if it can't be read. */
static void
m_store(struct m_buf *b)
{
	struct ks_stats	 st;
	int		 rc;

	rc = http_store() != NULL ? ks_stats(http_store(), &st) :
	    KS_NOTFOUND;
	mb_head(b, "wkdd_store_up", "gauge",
	    "1 if the store could be read at this scrape.");
	mb_printf(b, "wkdd_store_up %d\n", rc == KS_OK);
	if (rc != KS_OK)
		return;
	mb_head(b, "wkdd_store_map_bytes", "gauge",
	    "Most the store may grow to (store-size, or its own).");
	mb_printf(b, "wkdd_store_map_bytes %llu\n",
	    (unsigned long long)st.map_bytes);
	mb_head(b, "wkdd_store_used_bytes", "gauge",
	    "Bytes of the store's pages in use.");
	mb_printf(b, "wkdd_store_used_bytes %llu\n",
	    (unsigned long long)st.used_bytes);
	mb_head(b, "wkdd_store_readers", "gauge",
	    "LMDB reader slots in use (all processes).");
	mb_printf(b, "wkdd_store_readers %u\n", st.readers);
	mb_head(b, "wkdd_store_readers_max", "gauge",
	    "LMDB reader slots in all.");
	mb_printf(b, "wkdd_store_readers_max %u\n", st.max_readers);
	mb_head(b, "wkdd_store_last_change_timestamp_seconds", "gauge",
	    "When the newest change was made with wkdctl (its audit entry).");
	if (st.changed >= 0)
		mb_printf(b, "wkdd_store_last_change_timestamp_seconds "
		    "%lld\n", (long long)st.changed);
	mb_head(b, "wkdd_store_transaction_id", "gauge",
	    "LMDB's id of the last write transaction: changes with every "
	    "commit.");
	mb_printf(b, "wkdd_store_transaction_id %llu\n",
	    (unsigned long long)st.txnid);
	mb_head(b, "wkdd_store_replaced", "gauge",
	    "1 if the store's data.mdb on disk is gone or is another file "
	    "than the one served.");
	mb_printf(b, "wkdd_store_replaced %d\n", st.ondisk != KS_OK);
	mb_head(b, "wkdd_domains", "gauge", "Hosted domains.");
	mb_printf(b, "wkdd_domains %llu\n", (unsigned long long)st.domains);
	mb_head(b, "wkdd_addresses", "gauge",
	    "Addresses bound to accounts (primary, aliases, retired).");
	mb_printf(b, "wkdd_addresses %llu\n",
	    (unsigned long long)st.addresses);
	if (st.published != UINT64_MAX) {
		mb_head(b, "wkdd_published_addresses", "gauge",
		    "Addresses that serve a key.");
		mb_printf(b, "wkdd_published_addresses %llu\n",
		    (unsigned long long)st.published);
	}
	mb_head(b, "wkdd_published_entries", "gauge",
	    "Keys served: (domain, hash) entries, Unicode-hash ones included.");
	mb_printf(b, "wkdd_published_entries %llu\n",
	    (unsigned long long)st.wkd);
	mb_head(b, "wkdd_certificates", "gauge",
	    "OpenPGP certificates stored.");
	mb_printf(b, "wkdd_certificates %llu\n", (unsigned long long)st.certs);
}

/*
 * The stored TLS reports' session counts (wkdctl tlsrpt ingest's sums):
 * per domain with metrics-domains on, else summed.
 */
struct m_tr {
	struct m_buf		*b;
	int			 pass;	/* 0: failed, 1: successful. */
	unsigned long long	 sum;
};

static int
m_tr_cb(const struct ks_tlsrpt_sum *s, void *arg)
{
	struct m_tr	*t = arg;
	uint64_t	 n = t->pass ? s->success : s->failure;

	if (m_domains == NULL) {
		t->sum += n;
		return (0);
	}
	mb_printf(t->b, "wkdd_tlsrpt_%s_sessions_total{domain=\"",
	    t->pass ? "successful" : "failed");
	mb_label(t->b, s->domain);
	mb_printf(t->b, "\"} %llu\n", (unsigned long long)n);
	return (0);
}

static void
m_tlsrpt_store(struct m_buf *b)
{
	struct ks_reader	*rd;
	struct m_tr		 t = { b, 0, 0 };
	int			 rc = KS_NOTFOUND;

	if (http_store() == NULL ||
	    ks_reader_new(http_store(), &rd) != KS_OK)
		return;
	for (t.pass = 0; t.pass < 2; t.pass++) {
		t.sum = 0;
		mb_head(b, t.pass ? "wkdd_tlsrpt_successful_sessions_total" :
		    "wkdd_tlsrpt_failed_sessions_total", "counter",
		    t.pass ? "Successful sessions in the stored TLS reports "
		    "(by domain with metrics-domains on)." :
		    "Failed sessions in the stored TLS reports (by domain "
		    "with metrics-domains on).");
		if ((rc = ks_reader_tlsrpt(rd, m_tr_cb, &t)) != KS_OK)
			break;
		if (m_domains == NULL)
			mb_printf(b, "wkdd_tlsrpt_%s_sessions_total %llu\n",
			    t.pass ? "successful" : "failed", t.sum);
	}
	ks_reader_end(rd);
	ks_reader_free(rd);
	if (rc != KS_OK)
		log_warnx("metrics: tlsrpt: %s", ks_strerror(rc));
}

static void
m_cert_cb(const char *dir, const char *name, time_t expiry, void *arg)
{
	struct m_buf	*b = arg;

	if (expiry == (time_t)-1)
		return;
	mb_printf(b, "wkdd_tls_certificate_expiry_timestamp_seconds{source=\"%s"
	    "\",name=\"", dir == NULL ? "tls-cert" : "tls-dir");
	mb_label(b, name);
	mb_printf(b, "\"} %lld\n", (long long)expiry);
}

static void
m_certs(struct m_buf *b)
{
	mb_head(b, "wkdd_tls_certificate_expiry_timestamp_seconds", "gauge",
	    "When each certificate served expires: tls-cert (name: its first "
	    "DNS name) and each tls-dir name.");
	(void)tls_foreach(m_cert_cb, b);
}

/* The counts of every block, summed (the sums of a scrape). */
struct m_sums {
	unsigned long long	 requests[MR_COUNT][M_NSTATUS];
	unsigned long long	 hist[MR_COUNT][M_NBUCKET];
	unsigned long long	 usec[MR_COUNT];
	unsigned long long	 bytes[MR_COUNT];
	long long		 open[2];
	unsigned long long	 conns[2];
	unsigned long long	 hs[3];
	unsigned long long	 lim[2];
	unsigned long long	 tlsrpt[METRICS_TR_COUNT];
};

static void
m_sum_one(struct m_sums *s, struct m_thread *t)
{
	size_t	r, i;

	for (r = 0; r < MR_COUNT; r++) {
		for (i = 0; i < M_NSTATUS; i++)
			s->requests[r][i] += GET(t->requests[r][i]);
		for (i = 0; i < M_NBUCKET; i++)
			s->hist[r][i] += GET(t->hist[r][i]);
		s->usec[r] += GET(t->usec[r]);
		s->bytes[r] += GET(t->bytes[r]);
	}
	for (i = 0; i < 2; i++) {
		s->open[i] += GET(t->open[i]);
		s->conns[i] += GET(t->conns[i]);
		s->lim[i] += GET(t->lim[i]);
	}
	for (i = 0; i < 3; i++)
		s->hs[i] += GET(t->hs[i]);
	for (i = 0; i < METRICS_TR_COUNT; i++)
		s->tlsrpt[i] += GET(t->tlsrpt[i]);
}

static void
m_sum(struct m_sums *s)
{
	struct m_thread	*t;

	memset(s, 0, sizeof(*s));
	m_sum_one(s, &m_spare);
	pthread_mutex_lock(&m_threads_mtx);
	for (t = m_threads; t != NULL; t = t->next)
		m_sum_one(s, t);
	pthread_mutex_unlock(&m_threads_mtx);
}

long
metrics_render(char **out)
{
	static const char *const listeners[2] = { "https", "http" };
	static const char *const hs[3] = { "full", "resumed", "failed" };
	struct m_buf		 b = { NULL, 0, 0, 0 };
	struct m_sums		 c;
	unsigned long long	 n, cum;
	size_t			 r, i;

	*out = NULL;
	m_sum(&c);
	if ((b.p = malloc(b.cap = 16384)) == NULL)
		return (-1);
	b.p[0] = '\0';
	mb_head(&b, "wkdd_build_info", "gauge",
	    "wkdd's version and the libraries it runs with; always 1.");
	mb_printf(&b, "wkdd_build_info{version=\"%s\",microhttpd=\"%s\","
	    "gnutls=\"%s\"} 1\n", WKDD_VERSION, MHD_get_version(),
	    gnutls_check_version(NULL));
	mb_head(&b, "wkdd_start_time_seconds", "gauge",
	    "When wkdd started, seconds since the epoch.");
	mb_printf(&b, "wkdd_start_time_seconds %lld\n", (long long)m_started);

	mb_head(&b, "wkdd_requests_total", "counter",
	    "Requests answered, by route and status.");
	for (r = 0; r < MR_COUNT; r++)
		for (i = 0; i < M_NSTATUS; i++) {
			if ((n = c.requests[r][i]) == 0)
				continue;
			mb_printf(&b, "wkdd_requests_total{route=\"%s\","
			    "status=", m_routes[r]);
			if (i < M_NSTATUS - 1)
				mb_printf(&b, "\"%u\"} %llu\n", m_statuses[i],
				    n);
			else
				mb_printf(&b, "\"other\"} %llu\n", n);
		}
	mb_head(&b, "wkdd_request_duration_seconds", "histogram",
	    "From the complete request to its response queued, by route.");
	for (r = 0; r < MR_COUNT; r++) {
		for (i = 0, cum = 0; i < M_NBUCKET; i++) {
			cum += c.hist[r][i];
			if (i < M_NBUCKET - 1)
				mb_printf(&b, "wkdd_request_duration_seconds_"
				    "bucket{route=\"%s\",le=\"%g\"} %llu\n",
				    m_routes[r], m_buckets[i] / 1e6, cum);
			else
				mb_printf(&b, "wkdd_request_duration_seconds_"
				    "bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
				    m_routes[r], cum);
		}
		mb_printf(&b, "wkdd_request_duration_seconds_sum{route=\"%s\"} "
		    "%.6f\n", m_routes[r], c.usec[r] / 1e6);
		mb_printf(&b, "wkdd_request_duration_seconds_count{route="
		    "\"%s\"} %llu\n", m_routes[r], cum);
	}
	mb_head(&b, "wkdd_response_bytes_total", "counter",
	    "Body bytes of the responses queued, by route.");
	for (r = 0; r < MR_COUNT; r++)
		mb_printf(&b, "wkdd_response_bytes_total{route=\"%s\"} %llu\n",
		    m_routes[r], c.bytes[r]);

	mb_head(&b, "wkdd_connections_open", "gauge",
	    "Connections open, by listener (https: listen, http: "
	    "listen-http).");
	for (i = 0; i < 2; i++)
		mb_printf(&b, "wkdd_connections_open{listener=\"%s\"} %lld\n",
		    listeners[i], c.open[i]);
	mb_head(&b, "wkdd_connections_total", "counter",
	    "Connections accepted, by listener.");
	for (i = 0; i < 2; i++)
		mb_printf(&b, "wkdd_connections_total{listener=\"%s\"} %llu\n",
		    listeners[i], c.conns[i]);
	mb_head(&b, "wkdd_tls_handshakes_total", "counter",
	    "TLS handshakes: full, resumed (a session ticket or ID), failed "
	    "(closed before the client's Finished).");
	for (i = 0; i < 3; i++)
		mb_printf(&b, "wkdd_tls_handshakes_total{result=\"%s\"} %llu\n",
		    hs[i], c.hs[i]);
	mb_head(&b, "wkdd_log_suppressed_total", "counter",
	    "libmicrohttpd messages not logged: over the limit per minute.");
	mb_printf(&b, "wkdd_log_suppressed_total %llu\n", log_suppressed());
	mb_head(&b, "wkdd_lookup_limit_total", "counter",
	    "Key lookups through the enumeration limits: allowed, limited "
	    "(429).");
	mb_printf(&b, "wkdd_lookup_limit_total{result=\"allowed\"} %llu\n"
	    "wkdd_lookup_limit_total{result=\"limited\"} %llu\n", c.lim[0],
	    c.lim[1]);
	mb_head(&b, "wkdd_slow_closed_total", "counter",
	    "Connections closed at request-timeout without a request head.");
	mb_printf(&b, "wkdd_slow_closed_total %llu\n", limit_conn_reaped());

	mb_head(&b, "wkdd_tlsrpt_reports_total", "counter",
	    "TLS reports POSTed to /tlsrpt, by what became of them.");
	for (i = 0; i < METRICS_TR_COUNT; i++)
		mb_printf(&b, "wkdd_tlsrpt_reports_total{result=\"%s\"} "
		    "%llu\n", m_tlsrpt_names[i], c.tlsrpt[i]);

	m_store(&b);
	m_tlsrpt_store(&b);
	m_certs(&b);

	if (m_domains != NULL) {
		mb_head(&b, "wkdd_domain_responses_total", "counter",
		    "Found responses (200, 304) by hosted domain and route "
		    "(metrics-domains on).");
		for (i = 0; i < M_DOMAINS_MAX; i++) {
			if (atomic_load_explicit(&m_domains[i].state,
			    memory_order_acquire) != SLOT_READY)
				continue;
			for (r = 0; r < MR_COUNT; r++) {
				if ((n = GET(m_domains[i].n[r])) == 0)
					continue;
				mb_printf(&b, "wkdd_domain_responses_total{"
				    "domain=\"");
				mb_label(&b, m_domains[i].name);
				mb_printf(&b, "\",route=\"%s\"} %llu\n",
				    m_routes[r], n);
			}
		}
		mb_head(&b, "wkdd_domain_overflow_total", "counter",
		    "Found responses not counted by domain: more than 4096 "
		    "domains.");
		mb_printf(&b, "wkdd_domain_overflow_total %llu\n",
		    GET(m_domain_overflow));
	}
	if (b.oom) {
		free(b.p);
		return (-1);
	}
	*out = b.p;
	return ((long)b.len);
}

/* 503's reason, or NULL: the tls-cert pair, when it expires. */
struct m_health {
	time_t	 now;
	int	 seen;
	char	 why[256];
};

static void
m_health_cb(const char *dir, const char *name, time_t expiry, void *arg)
{
	struct m_health	*h = arg;

	(void)name;
	if (dir != NULL)
		return;
	h->seen = 1;
	if (expiry != (time_t)-1 && expiry <= h->now)
		(void)snprintf(h->why, sizeof(h->why), "certificate expired "
		    "%lld seconds ago", (long long)(h->now - expiry));
}

int
metrics_health(char **out)
{
	struct m_health	 h;
	struct ks_stats	 st;
	int		 rc;

	memset(&h, 0, sizeof(h));
	h.now = time(NULL);
	if (http_store() == NULL)
		(void)snprintf(h.why, sizeof(h.why), "store not open");
	else if ((rc = ks_stats(http_store(), &st)) != KS_OK)
		(void)snprintf(h.why, sizeof(h.why), "store unreadable: %s",
		    ks_strerror(rc));
	else if (st.ondisk != KS_OK)
		(void)snprintf(h.why, sizeof(h.why), "store data.mdb %s on "
		    "disk, and no new store opens there", st.ondisk ==
		    ESTALE ? "replaced" : "gone");
	else if (tls_foreach(m_health_cb, &h) == -1 || !h.seen)
		(void)snprintf(h.why, sizeof(h.why), "no certificate loaded");
	if (asprintf(out, "%s\n", h.why[0] != '\0' ? h.why : "ok") == -1) {
		*out = NULL;
		return (-1);
	}
	return (h.why[0] != '\0' ? MHD_HTTP_SERVICE_UNAVAILABLE :
	    MHD_HTTP_OK);
}

static enum MHD_Result
m_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	static int		 waiting;
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;
	char			*text = NULL;
	long			 len;
	unsigned		 status = MHD_HTTP_OK;

	(void)cls;
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	if (*con_cls == NULL) {		/* Answer once it is all in. */
		*con_cls = &waiting;
		return (MHD_YES);
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		len = asprintf(&text, "Method not allowed\n");
	} else if (strcmp(url, "/metrics") == 0)
		len = metrics_render(&text);
	else if (strcmp(url, "/healthz") == 0) {
		if ((len = metrics_health(&text)) != -1) {
			status = (unsigned)len;
			len = (long)strlen(text);
		}
	} else {
		status = MHD_HTTP_NOT_FOUND;
		len = asprintf(&text, "Not found: /metrics, /healthz\n");
	}
	if (len < 0 || (resp =
	    MHD_create_response_from_buffer_with_free_callback((size_t)len,
	    text, free)) == NULL) {
		free(text);
		return (MHD_NO);
	}
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    status == MHD_HTTP_OK && strcmp(url, "/metrics") == 0 ? M_TEXT :
	    "text/plain; charset=utf-8") != MHD_YES ||
	    (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
	    "GET, HEAD") != MHD_YES)) {
		MHD_destroy_response(resp);
		return (MHD_NO);
	}
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return (ret);
}

struct MHD_Daemon *
metrics_start(int fd, const struct conf *conf)
{
	struct MHD_Daemon	*d;

	(void)conf;
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ITC, 0, NULL, NULL, m_handler, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)M_CONNS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)M_TIMEOUT,
	    MHD_OPTION_END);
	if (d == NULL)
		log_warnx("cannot start the metrics daemon");
	return (d);
}
