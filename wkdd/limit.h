/*
 * limit.h: enumeration limits (limit.c).  Token buckets per client
 * address (an IPv6 client counts by its /64, which one host may hold
 * whole) and per network (IPv4 /24, IPv6 /56), taken by key lookups
 * only: never by policy, submission-address, ACME, /metrics or
 * /healthz.  A request takes one token from both of its buckets; a miss
 * (404) costs limit-miss-cost tokens in all.  The buckets live in one
 * table of fixed size, allocated once: memory is bounded whatever the
 * number of addresses (a full set evicts its fullest bucket, the one a
 * reset changes least).  Any thread; a lock per 64 sets.
 */
#ifndef LIMIT_H
#define LIMIT_H

#include <sys/socket.h>

struct conf;

/* At start: the table, and conf's limits.  -1 if out of memory. */
int		 limit_init(const struct conf *);
/* On reload: conf's limits from the next request on (main thread). */
void		 limit_conf(const struct conf *);
void		 limit_cleanup(void);
/*
 * A lookup from sa: 1 if allowed (a token taken from each bucket), 0 if
 * limited, with *retry_after the seconds until one would be allowed (for
 * Retry-After).  Always 1 when the limits are off (limit-rate 0) or sa is
 * NULL or of another family.
 */
int		 limit_take(const struct sockaddr *sa, unsigned *retry_after);
/* The allowed lookup from sa missed: it costs the rest of a miss. */
void		 limit_miss(const struct sockaddr *sa);
/*
 * Should a 429's access log line be written?  At most LIMIT_LOG_MAX a
 * second are; the others are counted, and their number logged once a
 * second at most ("N rate-limited requests not in the access log").
 */
#define LIMIT_LOG_MAX	10
int		 limit_log_limited(void);
/* limit_take() counts each lookup, allowed or limited, in metrics.c. */

/*
 * Slow clients: a deadline from accept to a complete request head
 * (handshake and headers: request-timeout), and again from each response
 * to the next head, whatever MHD's idle timeout (which every byte
 * restarts).  A reaper thread shuts down (shutdown(2): MHD then closes
 * it) each connection past its deadline, once a second.
 *
 * limit_conn_open() at MHD's STARTED notification registers socket fd
 * with arg for the caller (NULL if out of memory: no deadline then);
 * limit_conn_close() at CLOSED, before MHD closes fd, unregisters it.
 * limit_conn_request(): a head is complete, no deadline while it is
 * answered; limit_conn_idle(): answered, the deadline runs again.  Any
 * thread (a lock per 1/16 of the connections).
 */
struct limit_conn;

struct limit_conn *limit_conn_open(int fd, void *arg);
void		*limit_conn_arg(const struct limit_conn *);
void		 limit_conn_request(struct limit_conn *);
void		 limit_conn_idle(struct limit_conn *);
void		 limit_conn_close(struct limit_conn *);
/* The reaper, after limit_init(); -1 if it can't start. */
int		 limit_reaper_start(void);
void		 limit_reaper_stop(void);
/* Connections shut down at their deadline, ever (for the metrics). */
unsigned long long	limit_conn_reaped(void);

#endif /* LIMIT_H */
