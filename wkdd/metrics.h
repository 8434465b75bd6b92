/*
 * metrics.h: counters of what wkdd serves, and the operators' listener
 * (metrics-listen) that shows them in Prometheus's text format at
 * /metrics, with a health check at /healthz.
 *
 * The counters are per thread (each thread counts in a block of its own,
 * made at its first count: no lock, no locked instruction and no shared
 * cache line on the path of a request or a handshake), and a scrape sums
 * the blocks.  A scrape reads them one by one (it may see one request's
 * count and not yet its bytes: Prometheus's rate() doesn't mind) and
 * reads the store's counts and the certificates then.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>

#include <gnutls/gnutls.h>

struct conf;
struct ks;
struct MHD_Daemon;

/* Listeners, for the connection counters. */
#define METRICS_HTTPS	0
#define METRICS_HTTP	1	/* listen-http. */

/* What became of a TLS report POSTed (tlsrpt.c). */
#define METRICS_TR_ACCEPTED	0
#define METRICS_TR_MALFORMED	1
#define METRICS_TR_TOOBIG	2
#define METRICS_TR_UNHOSTED	3
#define METRICS_TR_TYPE		4
#define METRICS_TR_FULL		5
#define METRICS_TR_LIMITED	6
#define METRICS_TR_ERROR	7
#define METRICS_TR_COUNT	8
void		 metrics_tlsrpt(int result);

/* Handshakes. */
#define METRICS_HS_FULL		0
#define METRICS_HS_RESUMED	1
#define METRICS_HS_FAILED	2

/*
 * Before any request: conf's metrics-domains
 * (per-domain series, off by default; its table is allocated here).
 * -1 if out of memory.
 */
int		 metrics_init(const struct conf *);
void		 metrics_cleanup(void);

/*
 * One request answered: kind its ROUTE_*, domain its route's domain (a
 * hosted one when status is 200 or 304), status and body bytes as queued,
 * usec the time from the complete request to the queued response.
 */
void		 metrics_request(int kind, const char *domain, unsigned status,
		    size_t bytes, long usec);
/* A connection accepted, or closed, on a METRICS_HTTPS or _HTTP listener. */
void		 metrics_conn_open(int listener);
void		 metrics_conn_close(int listener);
void		 metrics_handshake(int result);
/* A key lookup through limit.c's limits: allowed (0) or limited (1). */
void		 metrics_limit(int limited);
/*
 * TLS connections, from MHD_OPTION_NOTIFY_CONNECTION: at STARTED (MHD has
 * made the session, no handshake yet), metrics_tls_start() hooks the
 * session's handshake, which then counts itself full or resumed when the
 * client's Finished message has been read; at CLOSED, metrics_tls_close()
 * counts one whose handshake never got there as failed.  done is the
 * connection's mark (the caller's, living till CLOSED, which passes its
 * value: by then MHD may have freed the session); NULL: not counted.
 * Uses the session's handshake hook (gnutls_handshake_set_hook_function())
 * and its db pointer (gnutls_db_set_ptr(), to reach done): a session cache
 * through gnutls_db_* would need another way; session tickets don't.  A
 * handshake is counted when it completes, not at its connection's first
 * request, and one that completed on a connection that never sent a
 * request is not "failed".
 */
void		 metrics_tls_start(gnutls_session_t, int *done);
void		 metrics_tls_close(int done);

/*
 * The metrics listener on socket fd (bound by main as root): plain HTTP,
 * GET or HEAD of /metrics and /healthz only.  NULL on error (logged).
 */
struct MHD_Daemon *metrics_start(int fd, const struct conf *);

/*
 * The text of a scrape and of a health check (for the handler and the
 * tests): a malloc(3)ed, NUL-terminated string in *out (the caller frees
 * it), its length returned; -1 if out of memory.  metrics_health()
 * returns 200 with "ok\n" or 503 with a one-line reason.
 */
long		 metrics_render(char **out);
int		 metrics_health(char **out);

#endif /* METRICS_H */
