/*
 * limit.c: the enumeration limits (limit.h).  WKD's hash is unsalted and
 * a miss answers 404: without a limit, one address tries a million likely
 * local parts in seconds.  A real client makes 1 to 3 requests a lookup;
 * the defaults (wkdd.conf(5)) let a NAT of thousands of users through
 * and make a million guesses from one address take weeks, from one /24
 * days.
 *
 * The table: LIMIT_SETS sets of LIMIT_WAYS buckets, allocated once, each
 * bucket keyed by its kind (address or network) and prefix, the set
 * chosen by a hash keyed with a random seed (so that nobody can aim many
 * prefixes at one set).  A prefix not in its set takes a free bucket or
 * evicts the fullest one after refilling: that bucket would start full
 * again anyway, so an eviction hands out nothing; a drained bucket goes
 * only when its whole set is as drained.  Tokens are counted in
 * thousandths and refilled from a CLOCK_MONOTONIC_COARSE millisecond
 * stamp at each use: no timer, no thread.  A lock (a mutex: held for a
 * few loads and stores) guards 64 sets, so the per-CPU threads rarely
 * meet on one.
 */
#include <sys/random.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "limit.h"
#include "log.h"
#include "metrics.h"

#define LIMIT_SETS	16384	/* A power of 2: 64 Ki buckets, 2.5 MiB. */
#define LIMIT_WAYS	4
#define LIMIT_LOCKS	256	/* A power of 2, at most LIMIT_SETS. */
#define LIMIT_MILLI	1000	/* A token, in the buckets' unit. */
#define LIMIT_KEY	9	/* Kind, then up to 8 bytes of prefix. */
#define LIMIT_STRIPES	16	/* Lists of connections, each its lock. */

/* Kinds of bucket: the first byte of a key (0: a free bucket). */
#define LIMIT_V4	1	/* An IPv4 address. */
#define LIMIT_V4NET	2	/* Its /24. */
#define LIMIT_V6	3	/* An IPv6 /64. */
#define LIMIT_V6NET	4	/* Its /56. */

struct limit_bucket {
	unsigned char	 key[LIMIT_KEY];
	int64_t		 tokens;	/* Thousandths; below 0 after misses. */
	int64_t		 stamp;		/* Milliseconds, of the last refill. */
};

/* A bucket's rate (tokens a minute) and burst (capacity), from conf. */
struct limit_rule {
	_Atomic unsigned	 rate, burst;
};

static struct limit_bucket	*limit_tab;
static pthread_mutex_t		 limit_mtx[LIMIT_LOCKS];
static uint64_t			 limit_seed;
static struct limit_rule	 limit_addr, limit_net;
static _Atomic unsigned		 limit_cost;	/* Of a miss, in tokens. */
static _Atomic long long	 limit_log_sec;
static atomic_uint		 limit_log_n;
static atomic_ullong		 limit_log_skipped;

struct limit_conn {
	int			 fd;
	int			 stripe;
	void			*arg;
	_Atomic int64_t		 deadline;	/* Milliseconds; 0: none. */
	struct limit_conn	*prev, *next;
};

static struct {
	pthread_mutex_t		 mtx;
	struct limit_conn	*head;
} limit_conns[LIMIT_STRIPES];
static _Atomic unsigned		 limit_req_ms;	/* request-timeout. */
static atomic_ullong		 limit_reaped;
static pthread_t		 limit_reaper;
static int			 limit_reaping;
static pthread_mutex_t		 limit_stop_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 limit_stop_cv = PTHREAD_COND_INITIALIZER;
static int			 limit_stopping;

static void	limit_conn_conf(const struct conf *);

static int64_t
limit_now(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int
limit_init(const struct conf *conf)
{
	size_t	i;

	if (getrandom(&limit_seed, sizeof(limit_seed), 0) !=
	    sizeof(limit_seed))
		limit_seed = (uint64_t)limit_now() ^ (uint64_t)(uintptr_t)&i;
	if ((limit_tab = calloc((size_t)LIMIT_SETS * LIMIT_WAYS,
	    sizeof(*limit_tab))) == NULL)
		return (-1);
	for (i = 0; i < LIMIT_LOCKS; i++)
		(void)pthread_mutex_init(&limit_mtx[i], NULL);
	for (i = 0; i < LIMIT_STRIPES; i++)
		(void)pthread_mutex_init(&limit_conns[i].mtx, NULL);
	limit_conf(conf);
	return (0);
}

void
limit_conf(const struct conf *conf)
{
	atomic_store(&limit_addr.rate, conf->limit_rate);
	atomic_store(&limit_addr.burst, conf->limit_burst);
	atomic_store(&limit_net.rate, conf->limit_net_rate);
	atomic_store(&limit_net.burst, conf->limit_net_burst);
	atomic_store(&limit_cost, conf->limit_miss_cost);
	limit_conn_conf(conf);
}

void
limit_cleanup(void)
{
	size_t	i;

	limit_reaper_stop();
	if (limit_tab == NULL)
		return;
	for (i = 0; i < LIMIT_LOCKS; i++)
		(void)pthread_mutex_destroy(&limit_mtx[i]);
	free(limit_tab);
	limit_tab = NULL;
}

/*
 * The keys of sa's two buckets (IPv4-mapped IPv6 counts as IPv4); 0 if
 * sa is of no family limited.
 */
static int
limit_keys(const struct sockaddr *sa, unsigned char addr[LIMIT_KEY],
    unsigned char net[LIMIT_KEY])
{
	const unsigned char	*p;

	memset(addr, 0, LIMIT_KEY);
	memset(net, 0, LIMIT_KEY);
	if (sa == NULL)
		return (0);
	if (sa->sa_family == AF_INET) {
		p = (const unsigned char *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
		goto v4;
	}
	if (sa->sa_family != AF_INET6)
		return (0);
	p = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)p)) {
		p += 12;
		goto v4;
	}
	addr[0] = LIMIT_V6;
	memcpy(addr + 1, p, 8);
	net[0] = LIMIT_V6NET;
	memcpy(net + 1, p, 7);
	return (1);
v4:
	addr[0] = LIMIT_V4;
	memcpy(addr + 1, p, 4);
	net[0] = LIMIT_V4NET;
	memcpy(net + 1, p, 3);
	return (1);
}

/* The set of key: a hash keyed by the seed (splitmix64's finaliser). */
static size_t
limit_set(const unsigned char key[LIMIT_KEY])
{
	uint64_t	h = limit_seed, w;
	size_t		i;

	for (i = 0; i < LIMIT_KEY; i++) {
		h ^= key[i];
		h *= 0x100000001b3ULL;
	}
	w = h + 0x9e3779b97f4a7c15ULL;
	w = (w ^ (w >> 30)) * 0xbf58476d1ce4e5b9ULL;
	w = (w ^ (w >> 27)) * 0x94d049bb133111ebULL;
	w ^= w >> 31;
	return ((size_t)(w & (LIMIT_SETS - 1)));
}

static const struct limit_rule *
limit_rule(const unsigned char key[LIMIT_KEY])
{
	return (key[0] == LIMIT_V4 || key[0] == LIMIT_V6 ? &limit_addr :
	    &limit_net);
}

/* b's tokens refilled up to now (its set's lock held). */
static void
limit_refill(struct limit_bucket *b, int64_t now)
{
	const struct limit_rule	*r = limit_rule(b->key);
	int64_t			 max, dt;

	max = (int64_t)atomic_load_explicit(&r->burst, memory_order_relaxed) *
	    LIMIT_MILLI;
	if ((dt = now - b->stamp) > 0) {
		/* rate/minute: rate * 1000 thousandths per 60000 ms. */
		b->tokens += dt * (int64_t)atomic_load_explicit(&r->rate,
		    memory_order_relaxed) / 60;
		b->stamp = now;
	}
	if (b->tokens > max)
		b->tokens = max;
}

/*
 * key's bucket, refilled (its set's lock held): found, or made full in a
 * free bucket or in place of the fullest.
 */
static struct limit_bucket *
limit_bucket(const unsigned char key[LIMIT_KEY], size_t set, int64_t now)
{
	struct limit_bucket	*b = &limit_tab[set * LIMIT_WAYS], *victim;
	size_t			 i;

	victim = NULL;
	for (i = 0; i < LIMIT_WAYS; i++) {
		if (memcmp(b[i].key, key, LIMIT_KEY) == 0) {
			limit_refill(&b[i], now);
			return (&b[i]);
		}
		if (b[i].key[0] == 0) {
			if (victim == NULL || victim->key[0] != 0)
				victim = &b[i];
			continue;
		}
		if (victim != NULL && victim->key[0] == 0)
			continue;
		limit_refill(&b[i], now);
		if (victim == NULL || b[i].tokens > victim->tokens)
			victim = &b[i];
	}
	memcpy(victim->key, key, LIMIT_KEY);
	victim->tokens = (int64_t)atomic_load_explicit(
	    &limit_rule(key)->burst, memory_order_relaxed) * LIMIT_MILLI;
	victim->stamp = now;
	return (victim);
}

/* Lock the two sets' locks, lower first (they may be one). */
static void
limit_lock(size_t s1, size_t s2)
{
	size_t	l1 = s1 & (LIMIT_LOCKS - 1), l2 = s2 & (LIMIT_LOCKS - 1);

	if (l1 > l2) {
		l1 ^= l2;
		l2 ^= l1;
		l1 ^= l2;
	}
	pthread_mutex_lock(&limit_mtx[l1]);
	if (l2 != l1)
		pthread_mutex_lock(&limit_mtx[l2]);
}

static void
limit_unlock(size_t s1, size_t s2)
{
	size_t	l1 = s1 & (LIMIT_LOCKS - 1), l2 = s2 & (LIMIT_LOCKS - 1);

	pthread_mutex_unlock(&limit_mtx[l1]);
	if (l2 != l1)
		pthread_mutex_unlock(&limit_mtx[l2]);
}

/* Seconds until b has a whole token again, at least 1. */
static unsigned
limit_wait(const struct limit_bucket *b)
{
	const struct limit_rule	*r = limit_rule(b->key);
	int64_t			 need = LIMIT_MILLI - b->tokens, rate, s;

	rate = atomic_load_explicit(&r->rate, memory_order_relaxed);
	if (rate == 0)
		return (60);
	/* need thousandths at rate * 1000 a minute. */
	s = (need * 60 + rate * LIMIT_MILLI - 1) / (rate * LIMIT_MILLI);
	return (s < 1 ? 1 : (unsigned)s);
}

/*
 * Take cost thousandths from sa's buckets.  check: only if both have a
 * whole token (else 0 and *retry_after); otherwise always, down to
 * -burst at most.
 */
static int
limit_charge(const struct sockaddr *sa, int64_t cost, int check,
    unsigned *retry_after)
{
	unsigned char		 ka[LIMIT_KEY], kn[LIMIT_KEY];
	struct limit_bucket	*a, *n;
	size_t			 sa_set, sn_set;
	unsigned		 wa, wn;
	int64_t			 now, floor;
	int			 ok = 1;

	if (limit_tab == NULL || atomic_load_explicit(&limit_addr.rate,
	    memory_order_relaxed) == 0 || !limit_keys(sa, ka, kn))
		return (1);
	sa_set = limit_set(ka);
	sn_set = limit_set(kn);
	now = limit_now();
	limit_lock(sa_set, sn_set);
	a = limit_bucket(ka, sa_set, now);
	n = limit_bucket(kn, sn_set, now);
	if (check && (a->tokens < LIMIT_MILLI || n->tokens < LIMIT_MILLI)) {
		wa = a->tokens < LIMIT_MILLI ? limit_wait(a) : 0;
		wn = n->tokens < LIMIT_MILLI ? limit_wait(n) : 0;
		*retry_after = wa > wn ? wa : wn;
		ok = 0;
	} else {
		a->tokens -= cost;
		n->tokens -= cost;
		floor = -(int64_t)atomic_load_explicit(&limit_addr.burst,
		    memory_order_relaxed) * LIMIT_MILLI;
		if (a->tokens < floor)
			a->tokens = floor;
		floor = -(int64_t)atomic_load_explicit(&limit_net.burst,
		    memory_order_relaxed) * LIMIT_MILLI;
		if (n->tokens < floor)
			n->tokens = floor;
	}
	limit_unlock(sa_set, sn_set);
	return (ok);
}

int
limit_take(const struct sockaddr *sa, unsigned *retry_after)
{
	*retry_after = 0;
	if (limit_charge(sa, LIMIT_MILLI, 1, retry_after)) {
		metrics_limit(0);
		return (1);
	}
	metrics_limit(1);
	return (0);
}

void
limit_miss(const struct sockaddr *sa)
{
	unsigned	cost, unused;

	cost = atomic_load_explicit(&limit_cost, memory_order_relaxed);
	if (cost > 1)
		(void)limit_charge(sa, (int64_t)(cost - 1) * LIMIT_MILLI, 0,
		    &unused);
}

int
limit_log_limited(void)
{
	long long		 now = time(NULL), was;
	unsigned long long	 skipped;

	was = atomic_load(&limit_log_sec);
	if (was != now && atomic_compare_exchange_strong(&limit_log_sec,
	    &was, now)) {
		atomic_store(&limit_log_n, 0);
		if ((skipped = atomic_exchange(&limit_log_skipped, 0)) > 0)
			log_info("%llu rate-limited requests not in the "
			    "access log (more than %d a second)", skipped,
			    LIMIT_LOG_MAX);
	}
	if (atomic_fetch_add(&limit_log_n, 1) < LIMIT_LOG_MAX)
		return (1);
	atomic_fetch_add(&limit_log_skipped, 1);
	return (0);
}

/* Slow clients: the deadlines (limit.h). */

static void
limit_conn_conf(const struct conf *conf)
{
	atomic_store(&limit_req_ms, conf->request_timeout * 1000);
}

struct limit_conn *
limit_conn_open(int fd, void *arg)
{
	struct limit_conn	*lc;
	int			 s;

	if ((lc = calloc(1, sizeof(*lc))) == NULL)
		return (NULL);
	lc->fd = fd;
	lc->arg = arg;
	lc->stripe = s = (unsigned)fd % LIMIT_STRIPES;
	atomic_store(&lc->deadline, limit_now() + atomic_load(&limit_req_ms));
	pthread_mutex_lock(&limit_conns[s].mtx);
	if ((lc->next = limit_conns[s].head) != NULL)
		lc->next->prev = lc;
	limit_conns[s].head = lc;
	pthread_mutex_unlock(&limit_conns[s].mtx);
	return (lc);
}

void *
limit_conn_arg(const struct limit_conn *lc)
{
	return (lc->arg);
}

void
limit_conn_request(struct limit_conn *lc)
{
	if (lc != NULL)
		atomic_store_explicit(&lc->deadline, 0, memory_order_relaxed);
}

void
limit_conn_idle(struct limit_conn *lc)
{
	if (lc != NULL)
		atomic_store_explicit(&lc->deadline, limit_now() +
		    atomic_load_explicit(&limit_req_ms, memory_order_relaxed),
		    memory_order_relaxed);
}

void
limit_conn_close(struct limit_conn *lc)
{
	int	s;

	if (lc == NULL)
		return;
	s = lc->stripe;
	pthread_mutex_lock(&limit_conns[s].mtx);
	if (lc->prev != NULL)
		lc->prev->next = lc->next;
	else
		limit_conns[s].head = lc->next;
	if (lc->next != NULL)
		lc->next->prev = lc->prev;
	pthread_mutex_unlock(&limit_conns[s].mtx);
	free(lc);
}

/*
 * Once a second: shut down each connection past its deadline.  Its fd is
 * still open (limit_conn_close() comes before MHD closes it, and waits
 * for the stripe's lock), so it is that connection's.  A connection is
 * shut down once: its deadline is cleared.
 */
static void *
limit_reap(void *unused)
{
	struct limit_conn	*lc;
	struct timespec		 ts;
	int64_t			 now, d;
	int			 s;

	(void)unused;
	pthread_mutex_lock(&limit_stop_mtx);
	while (!limit_stopping) {
		(void)clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec++;
		(void)pthread_cond_timedwait(&limit_stop_cv, &limit_stop_mtx,
		    &ts);
		if (limit_stopping)
			break;
		now = limit_now();
		for (s = 0; s < LIMIT_STRIPES; s++) {
			pthread_mutex_lock(&limit_conns[s].mtx);
			for (lc = limit_conns[s].head; lc != NULL;
			    lc = lc->next) {
				d = atomic_load_explicit(&lc->deadline,
				    memory_order_relaxed);
				if (d == 0 || d > now)
					continue;
				atomic_store(&lc->deadline, 0);
				(void)shutdown(lc->fd, SHUT_RDWR);
				atomic_fetch_add(&limit_reaped, 1);
			}
			pthread_mutex_unlock(&limit_conns[s].mtx);
		}
	}
	pthread_mutex_unlock(&limit_stop_mtx);
	return (NULL);
}

/* Its signals blocked: main's sigwait() takes them all. */
int
limit_reaper_start(void)
{
	sigset_t	all, old;
	int		rc;

	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&limit_reaper, NULL, limit_reap, NULL);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return (-1);
	limit_reaping = 1;
	return (0);
}

void
limit_reaper_stop(void)
{
	if (!limit_reaping)
		return;
	pthread_mutex_lock(&limit_stop_mtx);
	limit_stopping = 1;
	pthread_cond_signal(&limit_stop_cv);
	pthread_mutex_unlock(&limit_stop_mtx);
	(void)pthread_join(limit_reaper, NULL);
	limit_reaping = 0;
}

unsigned long long
limit_conn_reaped(void)
{
	return (atomic_load(&limit_reaped));
}
