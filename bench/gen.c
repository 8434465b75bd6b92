/*
 * gen.c: fill a fresh store with N published addresses, for make bench
 * and tests/integ/t_scale.sh.
 *
 *	gen [-O] [-b batch] [-d domains] [-k sample] [-r file] [-s seed]
 *	    [-w file] [-x fpr] [-B dir] [-R rounds] -S source -n N dir
 *
 * The blobs are real: every address published in the source store (a
 * store that "wkdctl import" filled, e.g. with Debian's keyrings) gives
 * its one-UID blob, its certificate and certinfo, and the N addresses
 * cycle through those blobs, so their sizes are distributed as the
 * source's.  The store is written through keystore.h only, with the
 * records "wkdctl import" leaves for a published address: the domain
 * (ks_domain_add, which adds its empty policy), the address bound as an
 * account's primary address serving the key (ks_addr_put), the key
 * (ks_cert_put, ks_certinfo_put) and the blob under the address's WKD
 * hash (ks_wkd_put).  Not written: the audit log (what wkdctl adds to it
 * is not served) and a certificate per address: the addresses share the
 * source's few hundred keys, as if every key had many addresses.
 *
 * Address i (0 <= i < N) is "u<i>@d<j>.example" with j = i % domains
 * (default N / 1000, at least 1) and serves blob i % (source blobs).
 * The writes go in transactions of batch puts (default 50000).  -x fpr
 * leaves that source key out, so that importing it into the store later
 * is the import of a new key.  -O writes the certinfo records without the
 * key states import records (as an earlier version stored them), so
 * that wkdctl list reads those keys with RNP.
 *
 * -R rounds then churns the store, as keys being updated do: rounds * N
 * times, an address drawn at random gets another blob drawn at random
 * (ks_wkd_put, the same batches), and the blob bytes printed are those
 * served at the end.  With -R the -w, -r and -B files would not say what
 * is served: they are refused.
 *
 * -w file gets the first min(N, 1000) addresses (the working set), -r
 * file sample addresses drawn at random (with replacement, seeded by
 * -s), a line each: "address domain hash blob", blob being the index of
 * the file -B dir holds with that blob's bytes.  The last line of
 * standard output sums it up: addresses, domains, blobs, blob bytes
 * written, seconds.
 */

#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "keystore.h"

#define GEN_BATCH	50000
#define GEN_PER_DOMAIN	1000
#define GEN_WORKSET	1000

/* A published address of the source store and what it serves. */
struct src {
	char		 fpr[KS_FPR_MAX];
	struct ks_blob	 blob;
	struct ks_blob	 cert;
	struct ks_certinfo ci;
	int		 has_ci;
};

struct srcs {
	struct src	*v;
	size_t		 n;
	size_t		 cap;
	struct ks_txn	*txn;
	const char	*skip;		/* -x: a key left out. */
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: gen [-O] [-b batch] [-d domains] "
	    "[-k sample] [-r file] [-s seed]\n"
	    "           [-w file] [-x fpr] [-B dir] [-R rounds] -S source "
	    "-n N dir\n");
	exit(2);
}

static unsigned long long
num(const char *s, unsigned long long min, unsigned long long max,
    const char *what)
{
	unsigned long long	 v;
	char			*end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || s[0] == '-')
		errx(2, "%s: not a number: %s", what, s);
	if (errno == ERANGE || v < min || v > max)
		errx(2, "%s: out of range: %s", what, s);
	return (v);
}

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* xorshift64*: a fixed, seeded sequence, the same on every machine. */
static uint64_t
rnd(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (*state * 2685821657736338717ULL);
}

/* addr's domain and WKD hash (the draft's). */
static void
addr_where(const char *addr, char *domain, size_t domainsz,
    char hash[KS_HASH_LEN + 1])
{
	const char	*at;
	int		 rc;

	if ((at = strrchr(addr, '@')) == NULL)
		errx(1, "%s: not an address", addr);
	if ((size_t)snprintf(domain, domainsz, "%s", at + 1) >= domainsz)
		errx(1, "%s: domain too long", addr);
	if ((rc = ks_wkd_hash(addr, at - addr, hash)) != KS_OK)
		errx(1, "%s: %s", addr, ks_strerror(rc));
}

/* ks_addr_foreach: take each address that serves a key. */
static int
src_cb(const struct ks_addr *a, void *arg)
{
	struct srcs	*l = arg;
	struct src	*s, *nv;
	char		 domain[KS_DOMAIN_MAX], hash[KS_HASH_LEN + 1];
	int		 rc;

	if (a->fpr[0] == '\0' || a->state == KS_ADDR_RETIRED ||
	    (a->flags & KS_AF_UNPUBLISHED) ||
	    (l->skip != NULL && strcasecmp(a->fpr, l->skip) == 0))
		return (0);
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		if ((nv = reallocarray(l->v, l->cap, sizeof(*nv))) == NULL)
			err(1, NULL);
		l->v = nv;
	}
	s = &l->v[l->n];
	memset(s, 0, sizeof(*s));
	addr_where(a->addr, domain, sizeof(domain), hash);
	if ((rc = ks_wkd_get(l->txn, domain, hash, &s->blob)) != KS_OK) {
		warnx("source %s: %s", a->addr, ks_strerror(rc));
		return (0);
	}
	if ((rc = ks_cert_get(l->txn, a->fpr, &s->cert)) != KS_OK)
		errx(1, "source key %s: %s", a->fpr, ks_strerror(rc));
	s->has_ci = ks_certinfo_get(l->txn, a->fpr, &s->ci) == KS_OK;
	memcpy(s->fpr, a->fpr, sizeof(s->fpr));
	l->n++;
	return (0);
}

static void
src_read(const char *dir, const char *skip, struct srcs *l)
{
	struct ks	*ks;
	int		 rc;

	memset(l, 0, sizeof(*l));
	l->skip = skip;
	if ((rc = ks_open(&ks, dir, KS_RDONLY, 0)) != KS_OK)
		errx(1, "%s: %s", dir, ks_strerror(rc));
	if ((rc = ks_txn_begin(ks, KS_RDONLY, &l->txn)) != KS_OK)
		errx(1, "%s: %s", dir, ks_strerror(rc));
	if ((rc = ks_addr_foreach(l->txn, NULL, src_cb, l)) != KS_OK)
		errx(1, "%s: %s", dir, ks_strerror(rc));
	ks_txn_abort(l->txn);
	l->txn = NULL;
	ks_close(ks);
	if (l->n == 0)
		errx(1, "%s: no published address", dir);
}

/* -B dir: blob k as dir/k. */
static void
blobs_write(const char *dir, const struct srcs *l)
{
	char	 path[PATH_MAX];
	FILE	*f;
	size_t	 i;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		err(1, "%s", dir);
	for (i = 0; i < l->n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%zu", dir, i) >=
		    sizeof(path))
			errx(1, "%s: path too long", dir);
		if ((f = fopen(path, "w")) == NULL)
			err(1, "%s", path);
		if (fwrite(l->v[i].blob.data, 1, l->v[i].blob.len, f) !=
		    l->v[i].blob.len || fclose(f) == EOF)
			err(1, "%s", path);
	}
}

/* Address i, its domain and hash. */
static void
addr_of(unsigned long long i, unsigned long long ndom, char *addr,
    size_t addrsz, char *domain, size_t domainsz,
    char hash[KS_HASH_LEN + 1])
{
	if ((size_t)snprintf(addr, addrsz, "u%llu@d%llu.example", i,
	    i % ndom) >= addrsz)
		errx(1, "address too long");
	addr_where(addr, domain, domainsz, hash);
}

static void
list_line(FILE *f, unsigned long long i, unsigned long long ndom,
    size_t nblobs)
{
	char	 addr[KS_ADDR_MAX], domain[KS_DOMAIN_MAX];
	char	 hash[KS_HASH_LEN + 1];

	addr_of(i, ndom, addr, sizeof(addr), domain, sizeof(domain), hash);
	fprintf(f, "%s %s %s %llu\n", addr, domain, hash, i % nblobs);
}

static void
check(int rc, const char *what)
{
	if (rc != KS_OK)
		errx(1, "%s: %s", what, ks_strerror(rc));
}

/* One put more in *txn: at batch puts, commit (*txn NULL then). */
static void
batch_put(struct ks_txn **txn, unsigned long long *inbatch,
    unsigned long long batch)
{
	if (++*inbatch == batch) {
		check(ks_txn_commit(*txn), "commit");
		*txn = NULL;
		*inbatch = 0;
	}
}

int
main(int argc, char *argv[])
{
	struct srcs		 l;
	struct ks		*ks;
	struct ks_txn		*txn;
	struct ks_addr		 a;
	struct src		*s;
	char			 domain[KS_DOMAIN_MAX], hash[KS_HASH_LEN + 1];
	const char		*srcdir = NULL, *rfile = NULL, *wfile = NULL;
	const char		*bdir = NULL, *skip = NULL;
	unsigned long long	 n = 0, ndom = 0, batch = GEN_BATCH;
	unsigned long long	 k = 1000, i, inbatch;
	unsigned long long	 bytes = 0, rounds = 0, r;
	uint32_t		*cur;
	uint64_t		 seed = 1;
	size_t			 j, avg, mapsize;
	double			 t0;
	FILE			*f;
	int			 ch, have_n = 0, nostate = 0;

	while ((ch = getopt(argc, argv, "B:b:d:k:n:OR:r:S:s:w:x:")) != -1) {
		switch (ch) {
		case 'R':
			rounds = num(optarg, 0, 100, "-R");
			break;
		case 'O':
			nostate = 1;
			break;
		case 'B':
			bdir = optarg;
			break;
		case 'b':
			batch = num(optarg, 1, ULLONG_MAX, "-b");
			break;
		case 'd':
			ndom = num(optarg, 1, 1000000000ULL, "-d");
			break;
		case 'k':
			k = num(optarg, 0, 1000000000ULL, "-k");
			break;
		case 'n':
			n = num(optarg, 1, 10000000000ULL, "-n");
			have_n = 1;
			break;
		case 'r':
			rfile = optarg;
			break;
		case 'S':
			srcdir = optarg;
			break;
		case 's':
			seed = num(optarg, 1, ULLONG_MAX, "-s");
			break;
		case 'w':
			wfile = optarg;
			break;
		case 'x':
			skip = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || srcdir == NULL || !have_n)
		usage();
	if (rounds > 0 && (wfile != NULL || rfile != NULL || bdir != NULL))
		errx(2, "-R goes without -w, -r and -B");
	if (ndom == 0)
		ndom = n / GEN_PER_DOMAIN > 0 ? n / GEN_PER_DOMAIN : 1;
	if (ndom > n)
		errx(2, "-d: more domains than addresses");

	t0 = now();
	src_read(srcdir, skip, &l);
	if (bdir != NULL)
		blobs_write(bdir, &l);

	/* Room for the blobs in overflow pages, the records, the trees. */
	for (avg = 0, j = 0; j < l.n; j++)
		avg += l.v[j].blob.len;
	avg /= l.n;
	mapsize = ((size_t)1 << 30) + (size_t)n * (2 * avg + 1024);
	if (mkdir(argv[0], 0750) == -1)
		err(1, "%s", argv[0]);
	check(ks_open(&ks, argv[0], KS_CREATE, mapsize), argv[0]);

	check(ks_txn_begin(ks, 0, &txn), "begin");
	for (i = 0; i < ndom; i++) {
		if ((size_t)snprintf(domain, sizeof(domain), "d%llu.example",
		    i) >= sizeof(domain))
			errx(1, "domain too long");
		check(ks_domain_add(txn, domain), domain);
	}
	for (j = 0; j < l.n; j++) {
		s = &l.v[j];
		check(ks_cert_put(txn, s->fpr, s->cert.data, s->cert.len),
		    s->fpr);
		if (s->has_ci && nostate)
			memset(&s->ci.state, 0, sizeof(s->ci.state));
		if (s->has_ci)
			check(ks_certinfo_put(txn, &s->ci), s->fpr);
	}
	check(ks_txn_commit(txn), "commit");

	txn = NULL;
	inbatch = 0;
	for (i = 0; i < n; i++) {
		if (txn == NULL)
			check(ks_txn_begin(ks, 0, &txn), "begin");
		s = &l.v[i % l.n];
		memset(&a, 0, sizeof(a));
		addr_of(i, ndom, a.addr, sizeof(a.addr), domain,
		    sizeof(domain), hash);
		memcpy(a.account, a.addr, sizeof(a.account));
		memcpy(a.fpr, s->fpr, sizeof(a.fpr));
		a.state = KS_ADDR_PRIMARY;
		check(ks_addr_put(txn, &a), a.addr);
		check(ks_wkd_put(txn, domain, hash, s->blob.data,
		    s->blob.len), a.addr);
		bytes += s->blob.len;
		batch_put(&txn, &inbatch, batch);
	}
	if (txn != NULL)
		check(ks_txn_commit(txn), "commit");

	/* -R: churn, blob j of address i as cur[i]. */
	if (rounds > 0) {
		if ((cur = calloc(n, sizeof(*cur))) == NULL)
			err(1, "calloc");
		for (i = 0; i < n; i++)
			cur[i] = i % l.n;
		txn = NULL;
		inbatch = 0;
		for (r = 0; r < rounds * n; r++) {
			if (txn == NULL)
				check(ks_txn_begin(ks, 0, &txn), "begin");
			i = rnd(&seed) % n;
			j = rnd(&seed) % l.n;
			addr_of(i, ndom, a.addr, sizeof(a.addr), domain,
			    sizeof(domain), hash);
			check(ks_wkd_put(txn, domain, hash, l.v[j].blob.data,
			    l.v[j].blob.len), a.addr);
			bytes += l.v[j].blob.len;
			bytes -= l.v[cur[i]].blob.len;
			cur[i] = j;
			batch_put(&txn, &inbatch, batch);
		}
		if (txn != NULL)
			check(ks_txn_commit(txn), "commit");
		free(cur);
	}
	ks_close(ks);

	if (wfile != NULL) {
		if ((f = fopen(wfile, "w")) == NULL)
			err(1, "%s", wfile);
		for (i = 0; i < n && i < GEN_WORKSET; i++)
			list_line(f, i, ndom, l.n);
		if (fclose(f) == EOF)
			err(1, "%s", wfile);
	}
	if (rfile != NULL) {
		if ((f = fopen(rfile, "w")) == NULL)
			err(1, "%s", rfile);
		for (i = 0; i < k; i++)
			list_line(f, rnd(&seed) % n, ndom, l.n);
		if (fclose(f) == EOF)
			err(1, "%s", rfile);
	}
	printf("gen: %llu addresses, %llu domains, %zu blobs, "
	    "%llu blob bytes, %.3f s\n", n, ndom, l.n, bytes, now() - t0);
	for (j = 0; j < l.n; j++) {
		ks_blob_free(&l.v[j].blob);
		ks_blob_free(&l.v[j].cert);
	}
	free(l.v);
	return (0);
}
