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
/* The counters, for the metrics: lookups allowed and limited, ever. */
void		 limit_counts(unsigned long long *allowed,
		    unsigned long long *limited);

#endif /* LIMIT_H */
