/*
 * tlsrpt.c: TLS reports (RFC 8460 section 3) POSTed to
 * https://NAME/tlsrpt, NAME a hosted domain or a service name of one
 * (mta-sts.D, openpgpkey.D): the rua that `wkdctl dns` prints,
 * https://mta-sts.D/tlsrpt.  Only with tlsrpt-spool set (else 404).
 *
 * A report is application/tlsrpt+gzip or application/tlsrpt+json (415
 * otherwise), at most tlsrpt-max-size bytes as sent and as JSON once
 * inflated (413: report_gunzip() stops there, so a gzip bomb costs that
 * much memory and no more), valid by report.c (400), every policy-domain
 * hosted (404); then it is spooled (report_spool_put(): a file written,
 * fsync(2)ed and renamed into tlsrpt-spool) for wkdctl tlsrpt ingest,
 * and answered 200.  A spool of tlsrpt-spool-max files refuses with 507.
 * POSTs take a token of one bucket for all senders (tlsrpt-rate a minute,
 * as many at once): more get 429, so that reports can't make the daemon
 * inflate and parse without end.
 * Nothing here writes to the store: the daemon stays read-only towards
 * it, and the spool is the one directory it writes.
 *
 * The request's body is gathered in a struct tlsrpt_req, the request's
 * MHD context from the first call (the head) to the last (body done),
 * freed by tlsrpt_free() from MHD's completion callback.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "keystore.h"
#include "log.h"
#include "metrics.h"
#include "report.h"
#include "wkdd.h"

#define TLSRPT_MAGIC	0x74727074u	/* "trpt" */
#define TLSRPT_GZIP	"application/tlsrpt+gzip"
#define TLSRPT_JSON	"application/tlsrpt+json"

struct tlsrpt_req {
	unsigned	 magic;
	int		 gzip;
	int		 over;		/* Body past max: 413 at its end. */
	unsigned char	*buf;
	size_t		 len, cap, max;
};

static int		 tlsrpt_fd = -1;	/* The spool; -1: off. */
static pthread_mutex_t	 tlsrpt_mtx = PTHREAD_MUTEX_INITIALIZER;
static _Atomic size_t	 tlsrpt_max = REPORT_MAX_DEFAULT;
static _Atomic unsigned	 tlsrpt_files = 1000;
/* The rate's bucket, under tlsrpt_mtx: tokens, and when last filled. */
static unsigned		 tlsrpt_rate = 120;
static double		 tlsrpt_tokens = 120;
static struct timespec	 tlsrpt_filled;

int
tlsrpt_open(const struct conf *conf, char *err, size_t errsz)
{
	if (conf->tlsrpt_spool[0] == '\0')
		return (0);
	if ((tlsrpt_fd = open(conf->tlsrpt_spool, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		(void)snprintf(err, errsz, "tlsrpt-spool %s: %s",
		    conf->tlsrpt_spool, strerror(errno));
		return (-1);
	}
	tlsrpt_conf(conf);
	return (0);
}

void
tlsrpt_conf(const struct conf *conf)
{
	atomic_store(&tlsrpt_max, conf->tlsrpt_max_size != 0 ?
	    conf->tlsrpt_max_size : REPORT_MAX_DEFAULT);
	atomic_store(&tlsrpt_files, conf->tlsrpt_spool_max);
	(void)pthread_mutex_lock(&tlsrpt_mtx);
	tlsrpt_rate = conf->tlsrpt_rate;
	if (tlsrpt_tokens > tlsrpt_rate)
		tlsrpt_tokens = tlsrpt_rate;
	(void)pthread_mutex_unlock(&tlsrpt_mtx);
}

int
tlsrpt_take(unsigned *retry)
{
	struct timespec	 now;
	double		 dt;
	int		 ok;

	clock_gettime(CLOCK_MONOTONIC, &now);
	(void)pthread_mutex_lock(&tlsrpt_mtx);
	if (tlsrpt_rate == 0) {
		(void)pthread_mutex_unlock(&tlsrpt_mtx);
		return (1);
	}
	if (tlsrpt_filled.tv_sec != 0 || tlsrpt_filled.tv_nsec != 0) {
		dt = (now.tv_sec - tlsrpt_filled.tv_sec) +
		    (now.tv_nsec - tlsrpt_filled.tv_nsec) / 1e9;
		tlsrpt_tokens += dt * tlsrpt_rate / 60.0;
		if (tlsrpt_tokens > tlsrpt_rate)
			tlsrpt_tokens = tlsrpt_rate;
	}
	tlsrpt_filled = now;
	if ((ok = tlsrpt_tokens >= 1.0))
		tlsrpt_tokens -= 1.0;
	else
		*retry = (unsigned)((1.0 - tlsrpt_tokens) * 60.0 /
		    tlsrpt_rate) + 1;
	(void)pthread_mutex_unlock(&tlsrpt_mtx);
	if (!ok)
		metrics_tlsrpt(METRICS_TR_LIMITED);
	return (ok);
}

int
tlsrpt_enabled(void)
{
	return (tlsrpt_fd != -1);
}

int
tlsrpt_is(const void *ctx)
{
	const struct tlsrpt_req	*q = ctx;

	return (q != NULL && q->magic == TLSRPT_MAGIC);
}

unsigned
tlsrpt_begin(const char *type, const char *length, struct tlsrpt_req **qp)
{
	struct tlsrpt_req	*q;
	char			*end;
	size_t			 tlen, max = atomic_load(&tlsrpt_max);
	unsigned long long	 n;
	int			 gzip;

	*qp = NULL;
	/* A media type, maybe parameters after it. */
	if (type == NULL)
		tlen = 0;
	else
		tlen = strcspn(type, "; \t");
	if (type != NULL && tlen == sizeof(TLSRPT_GZIP) - 1 &&
	    strncasecmp(type, TLSRPT_GZIP, tlen) == 0)
		gzip = 1;
	else if (type != NULL && tlen == sizeof(TLSRPT_JSON) - 1 &&
	    strncasecmp(type, TLSRPT_JSON, tlen) == 0)
		gzip = 0;
	else {
		metrics_tlsrpt(METRICS_TR_TYPE);
		return (415);
	}
	if (length != NULL) {
		errno = 0;
		n = strtoull(length, &end, 10);
		if (errno == 0 && *end == '\0' && n > max) {
			metrics_tlsrpt(METRICS_TR_TOOBIG);
			return (413);
		}
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		metrics_tlsrpt(METRICS_TR_ERROR);
		return (500);
	}
	q->magic = TLSRPT_MAGIC;
	q->gzip = gzip;
	q->max = max;
	*qp = q;
	return (0);
}

int
tlsrpt_body(struct tlsrpt_req *q, const char *data, size_t len)
{
	unsigned char	*nb;
	size_t		 ncap;

	if (q->over || len > q->max - q->len) {
		/* Read on (at most as much again), answered 413. */
		q->over = 1;
		q->len += len;
		return (q->len > 2 * q->max ? -1 : 0);
	}
	if (q->len + len > q->cap) {
		ncap = q->cap == 0 ? 16384 : q->cap;
		while (ncap < q->len + len)
			ncap *= 2;
		if (ncap > q->max)
			ncap = q->max;
		if ((nb = realloc(q->buf, ncap)) == NULL)
			return (-1);
		q->buf = nb;
		q->cap = ncap;
	}
	memcpy(q->buf + q->len, data, len);
	q->len += len;
	return (0);
}

/* Every policy domain of r hosted?  Else the first that isn't, in bad. */
static int
tlsrpt_hosted(struct ks_reader *rd, const struct report *r, char *bad,
    size_t badsz)
{
	struct report_policy	 p;
	size_t			 i;
	int			 rc;

	for (i = 0; i < r->npolicies; i++) {
		report_policy(r, i, &p);
		if ((rc = ks_reader_has_domain(rd, p.domain)) != KS_OK) {
			if (rc != KS_NOTFOUND)
				log_warnx("tlsrpt: domain %s: %s", p.domain,
				    ks_strerror(rc));
			(void)snprintf(bad, badsz, "%s", p.domain);
			return (rc == KS_NOTFOUND ? 0 : -1);
		}
	}
	return (1);
}

unsigned
tlsrpt_end(struct tlsrpt_req *q, struct ks_reader *rd, char *msg,
    size_t msgsz)
{
	struct report	 r;
	unsigned char	*json = NULL;
	const void	*in = q->buf;
	size_t		 jlen = q->len;
	char		 err[256], bad[KS_DOMAIN_MAX], name[128];
	int		 rc;
	unsigned	 status;

	msg[0] = '\0';
	if (q->over) {
		metrics_tlsrpt(METRICS_TR_TOOBIG);
		return (413);
	}
	if (q->gzip) {
		if ((rc = report_gunzip(q->buf, q->len, q->max, &json, &jlen,
		    err, sizeof(err))) != 0)
			goto refused;
		in = json;
	}
	if ((rc = report_parse(in, jlen, q->max, &r, err, sizeof(err))) !=
	    0)
		goto refused;
	if ((rc = tlsrpt_hosted(rd, &r, bad, sizeof(bad))) != 1) {
		ks_reader_end(rd);
		report_free(&r);
		free(json);
		if (rc == -1) {
			metrics_tlsrpt(METRICS_TR_ERROR);
			return (500);
		}
		(void)snprintf(msg, msgsz, "policy-domain %s is not hosted "
		    "here", bad);
		metrics_tlsrpt(METRICS_TR_UNHOSTED);
		return (404);
	}
	ks_reader_end(rd);
	(void)pthread_mutex_lock(&tlsrpt_mtx);
	rc = report_spool_put(tlsrpt_fd, in, jlen,
	    atomic_load(&tlsrpt_files), name, sizeof(name));
	(void)pthread_mutex_unlock(&tlsrpt_mtx);
	if (rc == 0) {
		log_info("tlsrpt: a report from %s spooled as %s", r.org,
		    name);
		metrics_tlsrpt(METRICS_TR_ACCEPTED);
		status = 200;
	} else if (rc == ENOSPC) {
		log_warnx("tlsrpt: spool full (tlsrpt-spool-max): report "
		    "refused; run wkdctl tlsrpt ingest");
		metrics_tlsrpt(METRICS_TR_FULL);
		status = 507;
	} else {
		log_warnx("tlsrpt: spool: %s", strerror(rc));
		metrics_tlsrpt(METRICS_TR_ERROR);
		status = 500;
	}
	report_free(&r);
	free(json);
	return (status);
refused:
	free(json);
	if (rc == REPORT_TOOBIG) {
		metrics_tlsrpt(METRICS_TR_TOOBIG);
		return (413);
	}
	if (rc == REPORT_NOMEM) {
		metrics_tlsrpt(METRICS_TR_ERROR);
		return (500);
	}
	(void)snprintf(msg, msgsz, "%s", err);
	metrics_tlsrpt(METRICS_TR_MALFORMED);
	return (400);
}

void
tlsrpt_free(struct tlsrpt_req *q)
{
	if (q == NULL)
		return;
	q->magic = 0;
	free(q->buf);
	free(q);
}
