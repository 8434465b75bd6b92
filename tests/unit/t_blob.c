/*
 * t_blob: how the store keeps the bytes of published keys (format 3: a
 * run of records in the blobs table, see ks.c).  Blobs of every size
 * class around LMDB's page boundaries come back byte for byte with the
 * ETag of their bytes; replacing, re-putting the same bytes, deleting,
 * removing a domain and aborting leave exactly the records of the keys
 * served (counted by raw LMDB); a format 2 store is served as it is by a
 * read-only handle and converted, in batches, by a writer, bytes and
 * ETags unchanged, also when a conversion was left half done; backups
 * of formats 3 and 2 are checked and restored, one missing a record of
 * the blobs table refused.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "keystore.h"
#include "oldfmt.h"
#include "tap.h"

#define NKEYS	5000	/* More than a conversion's batch (4096). */

/* A call in a loop: counted, not a test line each; see fails below. */
#define E0(expr) do {							\
	int e_ = (expr);						\
	if (e_ != 0) {							\
		fails++;						\
		printf("# %s: %s\n", #expr, ks_strerror(e_));		\
	}								\
} while (0)
#define diag(...)	(printf("# " __VA_ARGS__), printf("\n"))

static char	 dir[] = "/tmp/t_blob.XXXXXX";
static int	 fails;
static unsigned long	 seed = 20261203;

static unsigned
rnd(unsigned n)
{
	seed = seed * 6364136223846793005UL + 1442695040888963407UL;
	return ((unsigned)(seed >> 33) % n);
}

static void
cleanup(void)
{
	char	 cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (getenv("KEEP") == NULL)
		(void)system(cmd);
}

/*
 * A well-formed blob of exactly len bytes (len >= 2): one public key
 * packet, new format, with a 1, 2 or 5 byte length; body bytes from tag.
 */
static unsigned char *
mkblob(size_t len, unsigned tag)
{
	unsigned char	*p;
	size_t		 body, i, h;

	if ((p = malloc(len)) == NULL)
		err(1, "malloc");
	p[0] = 0xc6;
	if (len - 2 < 192) {
		body = len - 2;
		p[1] = body;
		h = 2;
	} else if (len - 3 >= 192 && len - 3 < 8384) {
		body = len - 3;
		p[1] = ((body - 192) >> 8) + 192;
		p[2] = (body - 192) & 0xff;
		h = 3;
	} else {
		body = len - 6;
		p[1] = 255;
		for (i = 0; i < 4; i++)
			p[2 + i] = (body >> (24 - 8 * i)) & 0xff;
		h = 6;
	}
	for (i = 0; i < body; i++)
		p[h + i] = (unsigned char)(tag * 131 + i * 7 + (i >> 8));
	return (p);
}

/* The ETag the store must give len bytes: 80 bits of SHA-1, z-base-32. */
static void
etag_of(const unsigned char *p, size_t len, char out[KS_ETAG_MAX])
{
	unsigned char	 d[20];
	char		 z[17];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, p, len, d) != 0)
		errx(1, "sha1");
	(void)ks_zb32_encode(d, 10, z, sizeof(z));
	(void)snprintf(out, KS_ETAG_MAX, "\"%s\"", z);
}

static void
hash_of(unsigned i, char h[KS_HASH_LEN + 1])
{
	char	 local[32];

	(void)snprintf(local, sizeof(local), "u%u", i);
	if (ks_wkd_hash(local, strlen(local), h) != KS_OK)
		errx(1, "ks_wkd_hash");
}

/* Does (domain, hash) serve exactly p, len, with its ETag? */
static int
serves(struct ks_txn *t, const char *dom, const char *hash,
    const unsigned char *p, size_t len)
{
	struct ks_blob	 b;
	char		 etag[KS_ETAG_MAX];
	int		 good;

	if (ks_wkd_get(t, dom, hash, &b) != KS_OK)
		return (0);
	etag_of(p, len, etag);
	good = b.len == len && memcmp(b.data, p, len) == 0 &&
	    strcmp(b.etag, etag) == 0;
	ks_blob_free(&b);
	return (good);
}

/*
 * Raw LMDB: the entries of table name (-1 if none) and, with bytes, the
 * bytes of its pages; with fmt, the format and whether the conversion
 * marker is there.
 */
static long long	 raw_stat(const char *, char *, size_t, int *,
			    long long *);

static long
raw(const char *name, char *fmt, size_t fmtsz, int *marker)
{
	return ((long)raw_stat(name, fmt, fmtsz, marker, NULL));
}

static long long
raw_stat(const char *name, char *fmt, size_t fmtsz, int *marker,
    long long *bytes)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_stat	 st;
	MDB_val		 k, v;
	long long	 n = -1;

	if (raw_open(dir, 1, &env, &txn) != 0)
		return (-2);
	if (mdb_dbi_open(txn, name, 0, &dbi) == 0 &&
	    mdb_stat(txn, dbi, &st) == 0) {
		n = st.ms_entries;
		if (bytes != NULL)
			*bytes = (long long)st.ms_psize *
			    (long long)(st.ms_branch_pages +
			    st.ms_leaf_pages + st.ms_overflow_pages);
	}
	if (fmt != NULL && mdb_dbi_open(txn, "meta", 0, &dbi) == 0) {
		k.mv_data = (void *)(uintptr_t)"format";
		k.mv_size = 6;
		fmt[0] = '\0';
		if (mdb_get(txn, dbi, &k, &v) == 0)
			(void)snprintf(fmt, fmtsz, "%.*s", (int)v.mv_size,
			    (char *)v.mv_data);
		k.mv_data = (void *)(uintptr_t)"wkd-upgrade";
		k.mv_size = 11;
		*marker = mdb_get(txn, dbi, &k, &v) == 0;
	}
	(void)raw_close(env, txn, 0, 1);
	return (n);
}

static long
blobs(void)
{
	return (raw("blobs", NULL, 0, NULL));
}

/*
 * The records a blob of len bytes takes for pages of ps bytes, by the
 * rule in ks.c, written out again here: its owner's, the head's, the
 * pieces'.
 */
static long
nrec(size_t ps, size_t len)
{
	size_t	 n = (len + 16) / ps, head = n > 0 ? n * ps - 16 : 0;
	size_t	 rest = len - head;

	if (rest > ps - 16 - ps / 16) {
		head = len;
		rest = 0;
	}
	return (1 + (head > 0) + (long)((rest + ps / 4 - 1) / (ps / 4)));
}

static void
t_sizes(void)
{
	struct ks	*ks;
	struct ks_txn	*t;
	size_t		 ps = (size_t)sysconf(_SC_PAGESIZE);
	size_t		 base[] = { 2, 3, 100, ps / 4, ps / 2 - 16,
			    ps / 2 - 10, ps / 2, ps - 16 - ps / 16, ps - 16,
			    ps, 2 * ps - 16, 2 * ps, 3 * ps - 16 - ps / 16,
			    5 * ps - 16, KS_BLOB_MAX - 1 };
	size_t		 sizes[3 * sizeof(base) / sizeof(base[0]) + 1];
	unsigned char	*p[sizeof(sizes) / sizeof(sizes[0])];
	char		 hash[KS_HASH_LEN + 1];
	size_t		 i, n = 0;
	long		 want = 0;
	int		 bad = 0;

	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		if (base[i] > 2)
			sizes[n++] = base[i] - 1;
		sizes[n++] = base[i];
		sizes[n++] = base[i] + 1;
	}
	sizes[n++] = KS_BLOB_MAX;
	E(ks_open(&ks, dir, KS_CREATE, 0));
	E(ks_txn_begin(ks, 0, &t));
	for (i = 0; i < n; i++) {
		p[i] = mkblob(sizes[i], i);
		hash_of(i, hash);
		if (ks_wkd_put(t, "a.example", hash, p[i], sizes[i]) !=
		    KS_OK) {
			diag("put %zu bytes failed", sizes[i]);
			bad++;
		}
		want += nrec(ps, sizes[i]);
	}
	E(ks_txn_commit(t));
	E(ks_txn_begin(ks, KS_RDONLY, &t));
	for (i = 0; i < n; i++) {
		hash_of(i, hash);
		if (!serves(t, "a.example", hash, p[i], sizes[i])) {
			diag("%zu bytes: not served as put", sizes[i]);
			bad++;
		}
	}
	ks_txn_abort(t);
	is_int(bad, 0, "%zu sizes from 2 bytes to KS_BLOB_MAX around the "
	    "page boundaries (page %zu): served byte for byte, with the "
	    "ETag of their bytes", n, ps);
	ks_close(ks);
	is_int(blobs(), want, "the blobs table holds the records the layout "
	    "says (head on overflow pages, pieces inline)");

	/* Replacing: each key gets the next size's bytes. */
	E(ks_open(&ks, dir, 0, 0));
	E(ks_txn_begin(ks, 0, &t));
	want = 0;
	for (i = 0; i < n; i++) {
		hash_of(i, hash);
		E0(ks_wkd_put(t, "a.example", hash, p[(i + 1) % n],
		    sizes[(i + 1) % n]));
		want += nrec(ps, sizes[(i + 1) % n]);
	}
	E(ks_txn_commit(t));
	E(ks_txn_begin(ks, KS_RDONLY, &t));
	for (i = 0, bad = 0; i < n; i++) {
		hash_of(i, hash);
		bad += !serves(t, "a.example", hash, p[(i + 1) % n],
		    sizes[(i + 1) % n]);
	}
	ks_txn_abort(t);
	is_int(bad, 0, "replaced by blobs of other sizes: the new bytes");
	ks_close(ks);
	is_int(blobs(), want, "replaced: the old records are gone");

	/* The same bytes again: nothing written. */
	E(ks_open(&ks, dir, 0, 0));
	E(ks_txn_begin(ks, 0, &t));
	hash_of(0, hash);
	E(ks_wkd_put(t, "a.example", hash, p[1], sizes[1]));
	E(ks_txn_commit(t));
	ks_close(ks);
	is_int(blobs(), want, "the same bytes put again: no record more");

	/* An aborted put and delete change nothing. */
	E(ks_open(&ks, dir, 0, 0));
	E(ks_txn_begin(ks, 0, &t));
	E(ks_wkd_put(t, "a.example", hash, p[n - 1], sizes[n - 1]));
	hash_of(1, hash);
	E(ks_wkd_del(t, "a.example", hash));
	ks_txn_abort(t);
	E(ks_txn_begin(ks, KS_RDONLY, &t));
	hash_of(0, hash);
	ok(serves(t, "a.example", hash, p[1], sizes[1]),
	    "aborted put: the old bytes still served");
	hash_of(1, hash);
	ok(serves(t, "a.example", hash, p[2], sizes[2]),
	    "aborted delete: still served");
	ks_txn_abort(t);

	/* Deleting half, then the domain (the rest). */
	E(ks_txn_begin(ks, 0, &t));
	E(ks_domain_add(t, "a.example"));
	for (i = 0; i < n; i += 2) {
		hash_of(i, hash);
		E0(ks_wkd_del(t, "a.example", hash));
		want -= nrec(ps, sizes[(i + 1) % n]);
	}
	hash_of(0, hash);
	is_int(ks_wkd_get(t, "a.example", hash, &(struct ks_blob){ 0 }),
	    KS_NOTFOUND, "deleted: not found");
	is_int(ks_wkd_del(t, "a.example", hash), KS_NOTFOUND,
	    "deleted twice: KS_NOTFOUND");
	E(ks_txn_commit(t));
	ks_close(ks);
	is_int(blobs(), want, "deleted: their records are gone");
	E(ks_open(&ks, dir, 0, 0));
	E(ks_txn_begin(ks, 0, &t));
	E(ks_domain_del(t, "a.example"));
	E(ks_txn_commit(t));
	ks_close(ks);
	is_int(blobs(), 0, "domain removed: no record left");
	is_int(raw("wkd", NULL, 0, NULL), 0, "domain removed: no wkd entry");
	for (i = 0; i < n; i++)
		free(p[i]);
}

/* NKEYS keys over two domains, sizes at random up to 3 pages. */
static unsigned char	*kp[NKEYS];
static size_t		 klen[NKEYS];

static int
all_served(struct ks *ks)
{
	struct ks_txn	*t;
	char		 hash[KS_HASH_LEN + 1];
	int		 i, bad = 0;

	if (ks_txn_begin(ks, KS_RDONLY, &t) != KS_OK)
		return (0);
	for (i = 0; i < NKEYS; i++) {
		hash_of(i, hash);
		bad += !serves(t, i % 2 ? "b.example" : "a.example", hash,
		    kp[i], klen[i]);
	}
	ks_txn_abort(t);
	if (bad > 0)
		diag("%d of %d keys not served as put", bad, NKEYS);
	return (bad == 0);
}

/* Write the format and the conversion marker by raw LMDB. */
static int
raw_mark(const char *format)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_val		 k, v;
	int		 rc;

	if ((rc = raw_open(dir, 0, &env, &txn)) != 0)
		return (rc);
	if ((rc = mdb_dbi_open(txn, "blobs", MDB_CREATE, &dbi)) == 0 &&
	    (rc = mdb_dbi_open(txn, "meta", 0, &dbi)) == 0) {
		k.mv_data = (void *)(uintptr_t)"format";
		k.mv_size = 6;
		v.mv_data = (void *)(uintptr_t)format;
		v.mv_size = strlen(format);
		if ((rc = mdb_put(txn, dbi, &k, &v, 0)) == 0) {
			k.mv_data = (void *)(uintptr_t)"wkd-upgrade";
			k.mv_size = 11;
			v.mv_size = 0;
			rc = mdb_put(txn, dbi, &k, &v, 0);
		}
	}
	return (raw_close(env, txn, rc, 0));
}

/*
 * A fresh store with the NKEYS keys over two domains, sizes at random up
 * to 3 pages; *live gets their bytes.  Returns the handle, for writing.
 */
static struct ks *
fill(long long *live)
{
	struct ks	*ks = NULL;
	struct ks_txn	*t;
	char		 hash[KS_HASH_LEN + 1];
	int		 i;

	*live = 0;
	cleanup();
	if (mkdir(dir, 0700) == -1)
		err(1, "mkdir");
	E(ks_open(&ks, dir, KS_CREATE, 0));
	E(ks_txn_begin(ks, 0, &t));
	for (i = 0; i < NKEYS; i++) {
		klen[i] = 2 + rnd(3 * 4096);
		kp[i] = mkblob(klen[i], i);
		*live += klen[i];
		hash_of(i, hash);
		E0(ks_wkd_put(t, i % 2 ? "b.example" : "a.example", hash,
		    kp[i], klen[i]));
	}
	E(ks_txn_commit(t));
	return (ks);
}

/*
 * Churn: every key replaced three times over, at random, by blobs of
 * other sizes, in small transactions (as wkdctl makes them): the keys
 * come back as last put, and the cleaner keeps the blobs table's pages
 * within 1.3 times the bytes served (without it: ~1.7 times after one
 * round).  The bound is a property of the layout, not a timing.
 */
static void
t_churn(void)
{
	struct ks	*ks;
	struct ks_txn	*t;
	char		 hash[KS_HASH_LEN + 1];
	long long	 live = 0, pages;
	int		 i, r, k;

	ks = fill(&live);
	for (r = 0; r < 3 * NKEYS; r++) {
		if (r % 100 == 0)
			E0(ks_txn_begin(ks, 0, &t));
		k = rnd(NKEYS);
		live -= klen[k];
		free(kp[k]);
		klen[k] = 2 + rnd(3 * 4096);
		kp[k] = mkblob(klen[k], NKEYS + r);
		live += klen[k];
		hash_of(k, hash);
		E0(ks_wkd_put(t, k % 2 ? "b.example" : "a.example", hash,
		    kp[k], klen[k]));
		if (r % 100 == 99)
			E0(ks_txn_commit(t));
	}
	ok(all_served(ks), "churned: %d keys served as last put", NKEYS);
	ks_close(ks);
	(void)raw_stat("blobs", NULL, 0, NULL, &pages);
	diag("blobs table after churn: %lld bytes of pages for %lld bytes "
	    "(%.2fx)", pages, live, (double)pages / live);
	ok(pages > 0 && pages <= 1.3 * live, "churned: the blobs table "
	    "within 1.3x the bytes served");
	for (i = 0; i < NKEYS; i++)
		free(kp[i]);
}

static void
t_upgrade(void)
{
	struct ks	*ks;
	char		 fmt[16];
	long long	 live;
	long		 nblobs;
	int		 i, marker;

	ks = fill(&live);
	ks_close(ks);
	nblobs = blobs();
	E(downgrade(dir, "2"));
	(void)raw("wkd", fmt, sizeof(fmt), &marker);
	ok(strcmp(fmt, "2") == 0 && blobs() == -1,
	    "made a format 2 store by hand: keys inline, no blobs table");

	E(ks_open(&ks, dir, KS_RDONLY, 0));
	ok(all_served(ks), "format 2 read-only: %d keys served as they are",
	    NKEYS);
	ks_close(ks);
	(void)raw("wkd", fmt, sizeof(fmt), &marker);
	ok(strcmp(fmt, "2") == 0 && blobs() == -1,
	    "format 2 read-only: the store is left as it was");

	E(ks_open(&ks, dir, 0, 0));
	ok(all_served(ks), "opened for writing: upgraded, %d keys and their "
	    "ETags unchanged", NKEYS);
	ks_close(ks);
	(void)raw("wkd", fmt, sizeof(fmt), &marker);
	ok(strcmp(fmt, "3") == 0 && !marker, "upgraded: format 3, the "
	    "conversion done");
	is_int(blobs(), nblobs, "upgraded: the records a new store has");

	/* A conversion left half done: format 3, the marker, v1 records. */
	E(downgrade(dir, "2"));
	E(raw_mark("3"));
	E(ks_open(&ks, dir, KS_RDONLY, 0));
	ok(all_served(ks), "conversion pending, read-only: v1 records "
	    "served");
	ks_close(ks);
	E(ks_open(&ks, dir, 0, 0));
	ok(all_served(ks), "conversion finished by the next writer");
	ks_close(ks);
	(void)raw("wkd", fmt, sizeof(fmt), &marker);
	ok(strcmp(fmt, "3") == 0 && !marker && blobs() == nblobs,
	    "finished: no marker, every key in the blobs table");
	for (i = 0; i < NKEYS; i++)
		free(kp[i]);
}

/* ks_backup() of ks into file; 0 or a KS_* code. */
static int
backup_to(struct ks *ks, const char *file)
{
	int	 fd, rc;

	if ((fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return (errno);
	rc = ks_backup(ks, fd);
	if (close(fd) == -1 && rc == KS_OK)
		rc = errno;
	return (rc);
}

/* Delete the last record of the blobs table by raw LMDB. */
static int
raw_drop_last_blob(void)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_cursor	*c;
	MDB_val		 k, v;
	int		 rc;

	if ((rc = raw_open(dir, 0, &env, &txn)) != 0)
		return (rc);
	if ((rc = mdb_dbi_open(txn, "blobs", 0, &dbi)) == 0 &&
	    (rc = mdb_cursor_open(txn, dbi, &c)) == 0) {
		if ((rc = mdb_cursor_get(c, &k, &v, MDB_LAST)) == 0)
			rc = mdb_cursor_del(c, 0);
		mdb_cursor_close(c);
	}
	return (raw_close(env, txn, rc, 0));
}

/*
 * Backups of format 3 and of format 2 are checked as such and restored
 * into a format 3 store, keys and ETags as put; the restored format 2
 * content is converted by the next writer; a backup with a key's
 * record missing from the blobs table is refused.
 */
static void
t_restore(void)
{
	struct ks		*ks, *dst;
	struct ks_backup_info	 info;
	char			 f3[64], f2[64], fbad[96], other[64];
	long long		 live;
	int			 i;

	(void)snprintf(f3, sizeof(f3), "%s.f3", dir);
	(void)snprintf(f2, sizeof(f2), "%s.f2", dir);
	(void)snprintf(fbad, sizeof(fbad), "%s.bad", dir);
	(void)snprintf(other, sizeof(other), "%s.dst", dir);
	ks = fill(&live);
	E(backup_to(ks, f3));
	ks_close(ks);
	ok(ks_check_file(f3, &info) == KS_OK && info.format == 3 &&
	    info.served == NKEYS, "a format 3 backup checks as format 3, "
	    "%d keys", NKEYS);
	E(downgrade(dir, "2"));
	E(ks_open(&ks, dir, KS_RDONLY, 0));
	E(backup_to(ks, f2));
	ks_close(ks);
	ok(ks_check_file(f2, &info) == KS_OK && info.format == 2 &&
	    info.served == NKEYS, "a format 2 backup checks as format 2");

	if (mkdir(other, 0700) == -1)
		err(1, "mkdir");
	E(ks_open(&dst, other, KS_CREATE, 0));
	is_int(ks_restore(dst, f2, NULL, NULL), KS_OK,
	    "a format 2 backup restored into a format 3 store");
	ok(all_served(dst), "... its keys served as put");
	ks_close(dst);
	E(ks_open(&dst, other, 0, 0));
	ok(all_served(dst), "... and after the next writer converted them");
	is_int(ks_restore(dst, f3, NULL, NULL), KS_OK,
	    "a format 3 backup restored");
	ok(all_served(dst), "... its keys served as put");
	ks_close(dst);

	/* A key's last record gone: refused by the check and by restore. */
	E(ks_open(&ks, dir, 0, 0));		/* Upgraded again. */
	ks_close(ks);
	E(raw_drop_last_blob());
	E(ks_open(&ks, dir, KS_RDONLY, 0));
	E(backup_to(ks, fbad));
	ks_close(ks);
	is_int(ks_check_file(fbad, NULL), KS_CORRUPT,
	    "a backup missing a key's record: KS_CORRUPT");
	E(ks_open(&dst, other, 0, 0));
	is_int(ks_restore(dst, fbad, NULL, NULL), KS_CORRUPT,
	    "... refused by restore");
	ok(all_served(dst), "... the store left as it was");
	ks_close(dst);
	(void)unlink(f3);
	(void)unlink(f2);
	(void)unlink(fbad);
	(void)snprintf(fbad, sizeof(fbad), "%s/data.mdb", other);
	(void)unlink(fbad);
	(void)snprintf(fbad, sizeof(fbad), "%s/lock.mdb", other);
	(void)unlink(fbad);
	(void)rmdir(other);
	for (i = 0; i < NKEYS; i++)
		free(kp[i]);
}

int
main(void)
{
	if (getenv("SEED") != NULL)
		seed = strtoul(getenv("SEED"), NULL, 10);
	printf("# seed %lu\n", seed);
	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	t_sizes();
	t_churn();
	t_upgrade();
	t_restore();
	is_int(fails, 0, "no call in a loop failed");
	cleanup();
	return (done());
}
