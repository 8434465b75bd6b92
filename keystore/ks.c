/*
 * ks.c: the key store over LMDB.  See keystore.h for the model and rules.
 *
 * Records are encoded little-endian with a leading format byte, so that a
 * later version can read what an earlier one wrote:
 *   domains  v1: u8 1, u8[3] 0, u32 flags, i64 ctime			(16)
 *   addrs    v1: u8 1, u8 state, u16 0, u32 flags, i64 ctime, i64 mtime,
 *               u16 accountlen, account, u8 fprlen, fpr
 *   wkd, mtasts v1: u8 1, u8 etaglen, etag, bytes (wkd: formats 1, 2)
 *   wkd      v2: u8 2, u8 etaglen, etag, u32 len, u64 seq, u16 nrec
 *            (format 3): the bytes are nrec records of blobs from seq on
 *   blobs    key: u64 seq, big-endian; a key's run: its wkd key (the
 *            owner), then its bytes (see "The bytes of published keys")
 *   certinfo v1: u8 1, u8[3] 0, u32 flags, i64 ctime, i64 mtime,
 *               u8 successorlen, successor[, u16 accountlen, account
 *               [, the key's state: u8 1, u8 reason, u16 textlen, text,
 *               u8 nsub, then the primary and each subkey as a part:
 *               u8 fprlen, fpr, i64 created, i64 expires, u16 alg,
 *               u16 bits, u8 usage, u8 revoked]]
 *   log      key: u64 seq, big-endian (so keys sort by number);
 *            v1: u8 1, i64 time, then user, cmd, subject, detail, each
 *               as u16 len + bytes
 *   certs, policy, revocs: the bytes themselves.
 *   tlsrpt   key: "domain/report-id"; v1: u8 1, u8[7] 0, i64 start,
 *               i64 end, i64 received, u64 successful, u64 failed
 *               (the domain's policies' sessions), then the report's JSON
 *   tlsrpt-domains  domain -> v1: u8 1, u8[7] 0, u64 reports,
 *               u64 successful, u64 failed, i64 first start, i64 last end
 *               (the sums of its tlsrpt records, kept with them)
 *
 * Format 2 adds indexes, LMDB tables with sorted duplicates (MDB_DUPSORT)
 * that the write functions below keep in the same transaction as the
 * tables they index, so that they can't disagree:
 *   addrs-by-account   account -> address     every address
 *   addrs-by-domain    domain -> address      every address with a domain
 *   addrs-by-key       fpr -> address         addresses serving a key
 *   certinfo-by-successor  fpr -> fpr         superseded keys
 *   certs-by-uid       address -> fpr         the addresses of each
 *                                             certificate's User IDs
 *                                             (ks_uid_addr())
 * A format 1 store (the same tables without the indexes) opened for
 * writing gets them in one transaction (index_build()) before anything
 * else; opened KS_RDONLY (the daemon, which reads none of them) it is
 * served as it is, and the walks below scan instead.
 *
 * Format 3 adds the blobs table: a format 1 or 2 store opened for writing
 * gets it, the format "3" and UPGRADE_KEY in meta in the upgrade's
 * transaction, then wkd_convert() moves the keys' bytes into it a batch
 * a transaction and deletes UPGRADE_KEY.  Readers read v1 and v2 wkd
 * records alike, so a store of any of the three formats is served as it
 * is.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <lmdb.h>

#include "keystore.h"
#include "extern.h"

#define KS_FORMAT	"3"
#define KS_FORMAT_2	"2"	/* Keys inline in wkd: upgraded on open. */
#define KS_FORMAT_1	"1"	/* And without indexes. */
#define UPGRADE_KEY	"wkd-upgrade"	/* meta: format 2 wkd records left. */
#define KS_MAPSIZE	((size_t)1 << 30)
/*
 * Free bytes under which an EIO of a commit is the filesystem filling up
 * (ks_writeerr()): LMDB writes up to 64 pages at once, each at most a
 * 256 KiB key's overflow run.
 */
#define KS_DISKFULL_SLACK	(64ULL * 256 * 1024)
#define KS_LMDB_KEY_MAX	511	/* mdb_env_get_maxkeysize(), as built. */

/*
 * An addrs record (see the top): state at byte 1, flags at 4, ctime at 8,
 * mtime at 16, the account's length at 24 and the account at 26, then the
 * fingerprint's length (1 byte) and fingerprint.
 */
#define AR_STATE	1
#define AR_FLAGS	4
#define AR_CTIME	8
#define AR_MTIME	16
#define AR_ALEN		24
#define AR_ACCT		26
#define AR_MIN		(AR_ACCT + 1)	/* Then alen + 1 + fprlen. */

enum ks_table { T_META, T_DOMAINS, T_POLICY, T_ADDRS, T_CERTS, T_WKD,
    T_CERTINFO, T_REVOCS, T_MTASTS, T_LOG,
    T_ADDR_ACCT, T_ADDR_DOM, T_ADDR_KEY, T_SUCC, T_UIDADDR, T_BLOBS,
    T_TOKENS, T_CHECKS, T_FACTS, T_TLSRPT, T_TLSRPT_DOM, T_COUNT };
#define T_INDEX		T_ADDR_ACCT	/* The first index (format 2). */
#define T_INDEX_END	T_BLOBS		/* After the last index. */
/*
 * The tables of format 3.  After them, tokens, checks, facts, tlsrpt and
 * tlsrpt-domains: made by the first write-open of a store of any format
 * (older ones lack them), so a reader finds each or not (ks->tokens,
 * ks->checks, ks->facts, ks->tlsrpt).
 */
#define T_CORE		T_TOKENS

static const char *const tables[T_COUNT] = {
	"meta", "domains", "policy", "addrs", "certs", "wkd", "certinfo",
	"revocs", "mtasts", "log",
	"addrs-by-account", "addrs-by-domain", "addrs-by-key",
	"certinfo-by-successor", "certs-by-uid", "blobs", "tokens", "checks",
	"facts", "tlsrpt", "tlsrpt-domains"
};

struct ks {
	MDB_env		*env;
	MDB_dbi		 dbi[T_COUNT];
	int		 flags;
	int		 indexed;	/* Index tables open (format >= 2). */
	int		 blobs;		/* Blobs table open (format 3). */
	int		 converting;	/* wkd records of format 2 remain. */
	int		 tokens;	/* Tokens table open. */
	int		 checks;	/* Checks table open. */
	int		 facts;		/* Facts table open. */
	int		 tlsrpt;	/* Both tlsrpt tables open. */
	atomic_int	 extras;	/* All four above open. */
	atomic_llong	 extras_tried;	/* A reader last looked (time). */
	size_t		 psize;		/* LMDB's page size. */
	pthread_rwlock_t maplock;	/* Readers: see ks_reader_begin(). */
	int		 maplock_ok;
};

struct ks_txn {
	struct ks	*ks;
	MDB_txn		*txn;
};

#ifdef KS_FAULTS
unsigned long	 ks_fault_at;
unsigned long	 ks_fault_calls;

int
ks_fault(void)
{
	return (ks_fault_at != 0 && ++ks_fault_calls == ks_fault_at);
}
#endif

void *
ks_malloc(size_t n)
{
	if (KS_FAULT_HIT())
		return (NULL);
	return (malloc(n == 0 ? 1 : n));
}

static void *
ks_realloc(void *p, size_t n)
{
	if (KS_FAULT_HIT())
		return (NULL);
	return (realloc(p, n));
}

/* LMDB's codes that callers act on become KS_*; others pass through. */
int
ks_maperr(int rc)
{
	switch (rc) {
	case MDB_NOTFOUND:
		return (KS_NOTFOUND);
	case MDB_KEYEXIST:
		return (KS_EXISTS);
	case MDB_MAP_FULL:
		return (KS_FULL);
	case ENOSPC:
	case EDQUOT:
		return (KS_DISKFULL);
	default:
		return (rc);
	}
}

/*
 * A write to env's file that failed with rc: LMDB turns a short write(2),
 * the way a full filesystem first shows, into EIO.  If statvfs(2) then
 * finds the store's filesystem full (less free than LMDB writes at once),
 * say so: KS_DISKFULL.  Else as ks_maperr().  A commit writes; so may a
 * put, when a large transaction spills its dirty pages to the file.
 */
static int
ks_writeerr(MDB_env *env, int rc)
{
	struct statvfs	 sv;
	const char	*dir;
	unsigned long long free;

	if (rc == EIO && mdb_env_get_path(env, &dir) == 0 &&
	    statvfs(dir, &sv) == 0) {
		/* root may write into the blocks kept for it. */
		free = (unsigned long long)(geteuid() == 0 ? sv.f_bfree :
		    sv.f_bavail) * sv.f_frsize;
		if (free < KS_DISKFULL_SLACK)
			return (KS_DISKFULL);
	}
	return (ks_maperr(rc));
}

/* Fault-injection wrappers around the LMDB calls that change things. */
static int
db_put(MDB_txn *t, MDB_dbi d, MDB_val *k, MDB_val *v, unsigned fl)
{
	int	 rc;

	if (KS_FAULT_HIT())
		return (KS_FAULT);
	if ((rc = mdb_put(t, d, k, v, fl)) == EIO)
		rc = ks_writeerr(mdb_txn_env(t), rc);
	return (rc);
}

static int
db_del(MDB_txn *t, MDB_dbi d, MDB_val *k)
{
	if (KS_FAULT_HIT())
		return (KS_FAULT);
	return (mdb_del(t, d, k, NULL));
}

/* Delete the one pair (k, v) of a table with sorted duplicates. */
static int
db_deldup(MDB_txn *t, MDB_dbi d, MDB_val *k, MDB_val *v)
{
	if (KS_FAULT_HIT())
		return (KS_FAULT);
	return (mdb_del(t, d, k, v));
}

const char *
ks_strerror(int rc)
{
	switch (rc) {
	case KS_OK:
		return ("success");
	case KS_NOTFOUND:
		return ("not found");
	case KS_EXISTS:
		return ("already exists");
	case KS_INVALID:
		return ("invalid argument or data");
	case KS_TOOBIG:
		return ("too big");
	case KS_FULL:
		return ("store full (raise store-size)");
	case KS_SECRET:
		return ("contains secret-key material");
	case KS_CORRUPT:
		return ("corrupt record in store");
	case KS_VERSION:
		return ("store has an unknown format version");
	case KS_RDONLYERR:
		return ("store opened read-only");
	case KS_FAULT:
		return ("injected fault");
	case KS_DISKFULL:
		return ("disk full");
	default:
		/* errno values and LMDB's own codes. */
		return (mdb_strerror(rc));
	}
}

static void
put_u16(unsigned char *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void
put_u32(unsigned char *p, uint32_t v)
{
	int	 i;

	for (i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

static void
put_i64(unsigned char *p, int64_t v)
{
	uint64_t	 u = (uint64_t)v;
	int		 i;

	for (i = 0; i < 8; i++)
		p[i] = (u >> (8 * i)) & 0xff;
}

static uint16_t
get_u16(const unsigned char *p)
{
	return (p[0] | p[1] << 8);
}

static uint32_t
get_u32(const unsigned char *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
	    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

static int64_t
get_i64(const unsigned char *p)
{
	uint64_t	 u = 0;
	int		 i;

	for (i = 7; i >= 0; i--)
		u = u << 8 | p[i];
	return ((int64_t)u);
}

static void
mkval(MDB_val *v, const void *p, size_t len)
{
	v->mv_data = (void *)(uintptr_t)p;
	v->mv_size = len;
}

/* Open tables first up to last in txn, with MDB_CREATE if fl has it. */
static int
open_range(struct ks *ks, MDB_txn *txn, int first, int last, unsigned fl)
{
	int	 i, rc;

	for (i = first; i < last; i++)
		if ((rc = mdb_dbi_open(txn, tables[i], fl |
		    (i >= T_INDEX && i < T_INDEX_END ? MDB_DUPSORT : 0),
		    &ks->dbi[i])) != 0)
			return (i >= T_INDEX && rc == MDB_NOTFOUND ?
			    KS_CORRUPT : rc);
	return (0);
}

static int
format_is(const MDB_val *v, const char *fmt)
{
	return (v->mv_size == strlen(fmt) &&
	    memcmp(v->mv_data, fmt, v->mv_size) == 0);
}

static int	 index_build(struct ks *, MDB_txn *);
static int	 begin(struct ks *, unsigned, MDB_txn **);
static int	 wkd_convert(struct ks *);
static int	 blob_clean(struct ks_txn *, size_t);
#define CLEAN_RUNS	4	/* See blob_clean(). */
static int	 wkd_unref(struct ks_txn *, const MDB_val *);
static int	 facts_drop(struct ks_txn *, const char *, size_t);

/*
 * The format recorded in txn: 1, 2 or 3 (KS_FORMAT); 0 for another;
 * KS_NOTFOUND (LMDB's) for none.  With format 3, ks->converting says
 * whether format 2 wkd records remain (UPGRADE_KEY in meta).
 */
static int
read_format(struct ks *ks, MDB_txn *txn, int *format)
{
	MDB_val	 k, v;
	int	 rc;

	*format = 0;
	mkval(&k, "format", 6);
	if ((rc = mdb_get(txn, ks->dbi[T_META], &k, &v)) != 0)
		return (rc);
	if (format_is(&v, KS_FORMAT))
		*format = 3;
	else if (format_is(&v, KS_FORMAT_2))
		*format = 2;
	else if (format_is(&v, KS_FORMAT_1))
		*format = 1;
	mkval(&k, UPGRADE_KEY, strlen(UPGRADE_KEY));
	ks->converting = *format == 3 &&
	    mdb_get(txn, ks->dbi[T_META], &k, &v) == 0;
	return (0);
}

/*
 * A table younger than format 3 (tokens, checks): made if missing by a
 * writer (a store of any format: older ones lack it), opened if there by
 * a reader (*open says).
 */
static int
extra_open(struct ks *ks, int tb, int *open)
{
	MDB_txn	*txn;
	int	 rc, rdonly = ks->flags & KS_RDONLY;

	if ((rc = mdb_txn_begin(ks->env, NULL, rdonly ? MDB_RDONLY : 0,
	    &txn)) != 0)
		return (ks_maperr(rc));
	rc = mdb_dbi_open(txn, tables[tb], rdonly ? 0 : MDB_CREATE,
	    &ks->dbi[tb]);
	if (rc == MDB_NOTFOUND && rdonly) {
		mdb_txn_abort(txn);
		return (KS_OK);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return (ks_maperr(rc));
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return (ks_maperr(rc));
	*open = 1;
	return (KS_OK);
}

static int
extras_open(struct ks *ks)
{
	int	rc;

	int	tr = 0, trd = 0;

	if ((rc = extra_open(ks, T_TOKENS, &ks->tokens)) != KS_OK ||
	    (rc = extra_open(ks, T_CHECKS, &ks->checks)) != KS_OK ||
	    (rc = extra_open(ks, T_FACTS, &ks->facts)) != KS_OK ||
	    (rc = extra_open(ks, T_TLSRPT, &tr)) != KS_OK ||
	    (rc = extra_open(ks, T_TLSRPT_DOM, &trd)) != KS_OK)
		return (rc);
	ks->tlsrpt = tr && trd;
	atomic_store_explicit(&ks->extras, ks->tokens && ks->checks &&
	    ks->facts && ks->tlsrpt, memory_order_release);
	return (KS_OK);
}

/*
 * Upgrade a format 1 or 2 store to format 3, in one write transaction
 * (another process may have done it meanwhile): a format 1 store's
 * indexes built from its tables, the blobs table made, the format and
 * UPGRADE_KEY written.  wkd_convert() then moves the published keys into
 * the blobs table, a batch a transaction.
 */
static int
upgrade(struct ks *ks)
{
	MDB_txn	*txn;
	MDB_val	 k, v;
	int	 rc, format;

	if ((rc = begin(ks, 0, &txn)) != 0)
		return (ks_maperr(rc));
	if ((rc = read_format(ks, txn, &format)) != 0)
		goto abort;
	if (format == 3) {
		if ((rc = open_range(ks, txn, T_INDEX, T_CORE, 0)) != 0)
			goto abort;
	} else if (format == 0) {
		rc = KS_VERSION;
		goto abort;
	} else {
		if ((rc = open_range(ks, txn, T_INDEX, T_CORE,
		    MDB_CREATE)) != 0)
			goto abort;
		if (format == 1 && (rc = index_build(ks, txn)) != 0)
			goto abort;
		mkval(&k, "format", 6);
		mkval(&v, KS_FORMAT, strlen(KS_FORMAT));
		if ((rc = db_put(txn, ks->dbi[T_META], &k, &v, 0)) != 0)
			goto abort;
		mkval(&k, UPGRADE_KEY, strlen(UPGRADE_KEY));
		mkval(&v, "", 0);
		if ((rc = db_put(txn, ks->dbi[T_META], &k, &v, 0)) != 0)
			goto abort;
		ks->converting = 1;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return (ks_maperr(rc));
	ks->indexed = ks->blobs = 1;
	return (ks->converting ? wkd_convert(ks) : KS_OK);
abort:
	mdb_txn_abort(txn);
	return (ks_maperr(rc));
}

/*
 * Open the tables and check the format: a new store is made in format 3;
 * a format 1 or 2 store is upgraded (and a conversion left unfinished
 * finished), unless opened KS_RDONLY: then it is read as it is, without
 * the tables its format lacks.
 */
static int
open_tables(struct ks *ks, int create)
{
	MDB_txn		*txn;
	MDB_val		 k, v;
	int		 rc, format = 0;

	if ((rc = mdb_txn_begin(ks->env, NULL,
	    create ? 0 : MDB_RDONLY, &txn)) != 0)
		return (ks_maperr(rc));
	if ((rc = open_range(ks, txn, 0, T_INDEX,
	    create ? MDB_CREATE : 0)) != 0)
		goto abort;
	if ((rc = read_format(ks, txn, &format)) == MDB_NOTFOUND && create) {
		mkval(&k, "format", 6);
		mkval(&v, KS_FORMAT, strlen(KS_FORMAT));
		if ((rc = mdb_put(txn, ks->dbi[T_META], &k, &v, 0)) == 0)
			rc = open_range(ks, txn, T_INDEX, T_CORE, MDB_CREATE);
		format = 3;
	} else if (rc == 0 && format == 3)
		rc = open_range(ks, txn, T_INDEX, T_CORE, 0);
	else if (rc == 0 && format == 2)
		rc = open_range(ks, txn, T_INDEX, T_INDEX_END, 0);
	else if (rc == 0 && format == 0)
		rc = KS_VERSION;
	if (rc != 0)
		goto abort;
	if ((rc = mdb_txn_commit(txn)) != 0)
		return (ks_maperr(rc));
	ks->indexed = format >= 2;
	ks->blobs = format >= 3;
	if (ks->flags & KS_RDONLY)
		return (extras_open(ks));
	if (format < 3)
		rc = upgrade(ks);
	else
		rc = ks->converting ? wkd_convert(ks) : KS_OK;
	return (rc != KS_OK ? rc : extras_open(ks));
abort:
	mdb_txn_abort(txn);
	if (rc == MDB_NOTFOUND && !create)
		return (KS_NOTFOUND);	/* Not a store: run wkdctl init. */
	return (ks_maperr(rc));
}

/* 0, or EROFS if dir's lock.mdb (if there) is on a read-only mount. */
static int
ks_lock_writable(const char *dir)
{
	char	path[4096];
	int	fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/lock.mdb", dir) >=
	    sizeof(path))
		return (ENAMETOOLONG);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) != -1) {
		(void)close(fd);
		return (0);
	}
	return (errno == EROFS ? EROFS : 0);
}

int
ks_open(struct ks **ksp, const char *dir, int flags, size_t mapsize)
{
	struct ks	*ks;
	struct stat	 st;
	MDB_stat	 est;
	char		 path[4096];
	int		 rc, dead, exists;
	unsigned	 envflags = MDB_NOTLS;

	*ksp = NULL;
	if (stat(dir, &st) == -1)
		return (errno);
	if (!S_ISDIR(st.st_mode))
		return (ENOTDIR);
	if ((size_t)snprintf(path, sizeof(path), "%s/data.mdb", dir) >=
	    sizeof(path))
		return (ENAMETOOLONG);
	exists = stat(path, &st) == 0;
	/* EACCES is not "no store here": say which. */
	if (!exists && errno != ENOENT)
		return (errno);
	if (!exists && !(flags & KS_CREATE))
		return (KS_NOTFOUND);
	/*
	 * On a read-only lock.mdb, LMDB would open a reader without its
	 * reader table (no lock), and a writer could then reuse the pages
	 * it reads: refuse (EROFS), as under a unit whose lock.mdb is not
	 * among its ReadWritePaths.
	 */
	if ((flags & KS_RDONLY) && (rc = ks_lock_writable(dir)) != 0)
		return (rc);
	/*
	 * Readers (the daemon) look up keys at random: the kernel's read
	 * ahead would only fill memory with their neighbours.
	 */
	if (flags & KS_RDONLY)
		envflags |= MDB_RDONLY | MDB_NORDAHEAD;

	if ((ks = calloc(1, sizeof(*ks))) == NULL)
		return (errno);
	ks->flags = flags;
	if ((rc = pthread_rwlock_init(&ks->maplock, NULL)) != 0)
		goto fail;
	ks->maplock_ok = 1;
	if ((rc = mdb_env_create(&ks->env)) != 0)
		goto fail;
	if ((rc = mdb_env_set_maxdbs(ks->env, T_COUNT + 8)) != 0)
		goto closeenv;
	if ((rc = mdb_env_set_maxreaders(ks->env, 256)) != 0)
		goto closeenv;
	/* An existing store keeps its size unless a bigger one is asked. */
	if (mapsize == 0 && !exists)
		mapsize = KS_MAPSIZE;
	if (mapsize != 0 && (rc = mdb_env_set_mapsize(ks->env, mapsize)) != 0)
		goto closeenv;
	if ((rc = mdb_env_open(ks->env, dir, envflags, 0660)) != 0)
		goto closeenv;
	(void)mdb_reader_check(ks->env, &dead);
	if ((rc = mdb_env_stat(ks->env, &est)) != 0)
		goto closeenv;
	ks->psize = est.ms_psize;
	if ((rc = open_tables(ks, (flags & KS_CREATE) && !exists)) != 0)
		goto closeenv;
	*ksp = ks;
	return (KS_OK);
closeenv:
	mdb_env_close(ks->env);
fail:
	if (ks->maplock_ok)
		(void)pthread_rwlock_destroy(&ks->maplock);
	free(ks);
	return (ks_maperr(rc));
}

int
ks_replaced(struct ks *ks)
{
	struct stat	 now, open;
	const char	*dir;
	char		 path[4096];
	int		 fd;

	if (mdb_env_get_path(ks->env, &dir) != 0 ||
	    mdb_env_get_fd(ks->env, &fd) != 0 ||
	    (size_t)snprintf(path, sizeof(path), "%s/data.mdb", dir) >=
	    sizeof(path) || fstat(fd, &open) == -1 || stat(path, &now) == -1)
		return (0);
	return (now.st_dev != open.st_dev || now.st_ino != open.st_ino);
}

void
ks_close(struct ks *ks)
{
	if (ks == NULL)
		return;
	mdb_env_close(ks->env);
	if (ks->maplock_ok)
		(void)pthread_rwlock_destroy(&ks->maplock);
	free(ks);
}

/*
 * Begin an LMDB transaction.  When another process grew the map, LMDB
 * says MDB_MAP_RESIZED: adopt the new size and try again.
 */
static int
begin(struct ks *ks, unsigned flags, MDB_txn **txn)
{
	int	 rc;

	rc = mdb_txn_begin(ks->env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED) {
		if ((rc = mdb_env_set_mapsize(ks->env, 0)) != 0)
			return (rc);
		rc = mdb_txn_begin(ks->env, NULL, flags, txn);
	}
	return (rc);
}

int
ks_txn_begin(struct ks *ks, int flags, struct ks_txn **txnp)
{
	struct ks_txn	*t;
	int		 rc;

	*txnp = NULL;
	if (!(flags & KS_RDONLY) && (ks->flags & KS_RDONLY))
		return (KS_RDONLYERR);
	if ((t = ks_malloc(sizeof(*t))) == NULL)
		return (ENOMEM);
	t->ks = ks;
	if (KS_FAULT_HIT())
		rc = KS_FAULT;
	else
		rc = begin(ks, (flags & KS_RDONLY) ? MDB_RDONLY : 0, &t->txn);
	if (rc != 0) {
		free(t);
		return (ks_maperr(rc));
	}
	*txnp = t;
	return (KS_OK);
}

int
ks_txn_nest(struct ks_txn *parent, struct ks_txn **txnp)
{
	struct ks_txn	*t;
	int		 rc;

	*txnp = NULL;
	if ((t = ks_malloc(sizeof(*t))) == NULL)
		return (ENOMEM);
	t->ks = parent->ks;
	if (KS_FAULT_HIT())
		rc = KS_FAULT;
	else
		rc = mdb_txn_begin(parent->ks->env, parent->txn, 0, &t->txn);
	if (rc != 0) {
		free(t);
		return (ks_maperr(rc));
	}
	*txnp = t;
	return (KS_OK);
}

int
ks_txn_commit(struct ks_txn *t)
{
	int	 rc;

	if (KS_FAULT_HIT()) {
		mdb_txn_abort(t->txn);
		rc = KS_FAULT;
	} else
		rc = mdb_txn_commit(t->txn);	/* Frees txn even on error. */
	rc = ks_writeerr(t->ks->env, rc);
	free(t);
	return (rc);
}

void
ks_txn_abort(struct ks_txn *t)
{
	if (t == NULL)
		return;
	mdb_txn_abort(t->txn);
	free(t);
}

/* Get key k of table tb into v: the data lives until txn ends. */
static int
tget(struct ks_txn *t, enum ks_table tb, const void *k, size_t klen,
    MDB_val *v)
{
	MDB_val	 key;

	if (klen == 0 || klen > KS_LMDB_KEY_MAX)
		return (KS_INVALID);
	mkval(&key, k, klen);
	return (ks_maperr(mdb_get(t->txn, t->ks->dbi[tb], &key, v)));
}

static int
tput(struct ks_txn *t, enum ks_table tb, const void *k, size_t klen,
    const void *data, size_t len, unsigned flags)
{
	MDB_val	 key, v;

	if (klen == 0 || klen > KS_LMDB_KEY_MAX)
		return (KS_INVALID);
	mkval(&key, k, klen);
	mkval(&v, data, len);
	return (ks_maperr(db_put(t->txn, t->ks->dbi[tb], &key, &v, flags)));
}

static int
tdel(struct ks_txn *t, enum ks_table tb, const void *k, size_t klen)
{
	MDB_val	 key;

	if (klen == 0 || klen > KS_LMDB_KEY_MAX)
		return (KS_INVALID);
	mkval(&key, k, klen);
	return (ks_maperr(db_del(t->txn, t->ks->dbi[tb], &key)));
}

/* Copy v into blob b (data malloc'ed; 1 byte even for empty data). */
static int
copyout(const void *p, size_t len, struct ks_blob *b)
{
	if ((b->data = ks_malloc(len)) == NULL)
		return (ENOMEM);
	if (len > 0)
		memcpy(b->data, p, len);
	b->len = len;
	return (KS_OK);
}

void
ks_blob_free(struct ks_blob *b)
{
	if (b == NULL)
		return;
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/*
 * Indexes: key -> value pairs in tables of sorted duplicates.  An empty
 * key or value (or NULL) is no entry.
 */
static int
ix_val(MDB_val *v, const char *s)
{
	if (s == NULL || s[0] == '\0' || strlen(s) > KS_LMDB_KEY_MAX)
		return (0);
	mkval(v, s, strlen(s));
	return (1);
}

static int
ix_put(struct ks_txn *t, enum ks_table tb, const char *key, const char *val)
{
	MDB_val	 k, v;

	if (!ix_val(&k, key) || !ix_val(&v, val))
		return (KS_OK);
	return (ks_maperr(db_put(t->txn, t->ks->dbi[tb], &k, &v, 0)));
}

static int
ix_del(struct ks_txn *t, enum ks_table tb, const char *key, const char *val)
{
	MDB_val	 k, v;
	int	 rc;

	if (!ix_val(&k, key) || !ix_val(&v, val))
		return (KS_OK);
	rc = db_deldup(t->txn, t->ks->dbi[tb], &k, &v);
	return (rc == MDB_NOTFOUND ? KS_OK : ks_maperr(rc));
}

/* The entry (old, val) becomes (new, val); either key may be NULL. */
static int
ix_move(struct ks_txn *t, enum ks_table tb, const char *old, const char *new,
    const char *val)
{
	int	 rc;

	if (old != NULL && new != NULL && strcmp(old, new) == 0)
		return (KS_OK);
	if ((rc = ix_del(t, tb, old, val)) != KS_OK)
		return (rc);
	return (ix_put(t, tb, new, val));
}

/*
 * Call cb(value, arg) for each value under key in index tb, in value
 * order; a non-zero return from cb stops the walk and is returned.
 * value is NUL-terminated, on the stack.
 */
static int
ix_walk(struct ks_txn *t, enum ks_table tb, const char *key,
    int (*cb)(struct ks_txn *, const char *, void *), void *arg)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	char		 val[KS_LMDB_KEY_MAX + 1];
	int		 rc;

	if (!ix_val(&k, key))
		return (KS_OK);
	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[tb], &c)) != 0)
		return (ks_maperr(rc));
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (rc == 0) {
		if (v.mv_size == 0 || v.mv_size > KS_LMDB_KEY_MAX) {
			rc = KS_CORRUPT;
			break;
		}
		memcpy(val, v.mv_data, v.mv_size);
		val[v.mv_size] = '\0';
		if ((rc = cb(t, val, arg)) != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	return (rc == MDB_NOTFOUND ? KS_OK : ks_maperr(rc));
}

/* The domain of an address, or NULL if it has none. */
static const char *
addr_domain(const char *addr)
{
	const char	*at;

	if ((at = strrchr(addr, '@')) == NULL || at[1] == '\0')
		return (NULL);
	return (at + 1);
}

/*
 * The indexes of address record old becoming new (either may be NULL: an
 * insert or a delete; both are of the same address).
 */
static int
addr_index(struct ks_txn *t, const struct ks_addr *old,
    const struct ks_addr *new)
{
	const char	*addr = new != NULL ? new->addr : old->addr;
	int		 rc;

	if ((rc = ix_move(t, T_ADDR_ACCT, old != NULL ? old->account : NULL,
	    new != NULL ? new->account : NULL, addr)) != KS_OK)
		return (rc);
	if ((rc = ix_move(t, T_ADDR_DOM, old != NULL ? addr_domain(addr) :
	    NULL, new != NULL ? addr_domain(addr) : NULL, addr)) != KS_OK)
		return (rc);
	return (ix_move(t, T_ADDR_KEY, old != NULL ? old->fpr : NULL,
	    new != NULL ? new->fpr : NULL, addr));
}

/*
 * Index (put) or unindex the User ID addresses of certificate fpr, data
 * (well-formed packets: ks_cert_put() checked them) under certs-by-uid.
 */
static int
cert_index(struct ks_txn *t, const char *fpr, const unsigned char *data,
    size_t len, int put)
{
	struct ks_pkt	 pkt;
	char		 addr[KS_ADDR_MAX];
	size_t		 off = 0;
	int		 rc;

	while ((rc = ks_pgp_next(data, len, &off, &pkt)) == 1) {
		if (pkt.tag != KS_PKT_UID || ks_uid_addr((const char *)
		    pkt.body, pkt.bodylen, addr, sizeof(addr)) != KS_OK)
			continue;
		if ((rc = put ? ix_put(t, T_UIDADDR, addr, fpr) :
		    ix_del(t, T_UIDADDR, addr, fpr)) != KS_OK)
			return (rc);
	}
	return (rc == 0 ? KS_OK : KS_CORRUPT);
}

/* Domains. */

static int
domain_decode(const MDB_val *k, const MDB_val *v, struct ks_domain *d)
{
	const unsigned char	*p = v->mv_data;

	if (k->mv_size >= sizeof(d->name) || v->mv_size < 16 || p[0] != 1)
		return (KS_CORRUPT);
	memset(d, 0, sizeof(*d));
	memcpy(d->name, k->mv_data, k->mv_size);
	d->flags = get_u32(p + 4);
	d->ctime = get_i64(p + 8);
	return (KS_OK);
}

static int
domain_write(struct ks_txn *t, const struct ks_domain *d, unsigned flags)
{
	unsigned char	 rec[16] = { 1 };

	put_u32(rec + 4, d->flags);
	put_i64(rec + 8, d->ctime);
	return (tput(t, T_DOMAINS, d->name, strlen(d->name), rec,
	    sizeof(rec), flags));
}

int
ks_domain_add(struct ks_txn *t, const char *name)
{
	struct ks_domain	 d;
	int			 rc;

	if (strlen(name) >= sizeof(d.name))
		return (KS_INVALID);
	memset(&d, 0, sizeof(d));
	memcpy(d.name, name, strlen(name) + 1);
	d.ctime = time(NULL);
	if ((rc = domain_write(t, &d, MDB_NOOVERWRITE)) != KS_OK)
		return (rc);
	/* Every hosted domain has a policy file, empty by default. */
	return (tput(t, T_POLICY, name, strlen(name), "", 0, 0));
}

int
ks_domain_get(struct ks_txn *t, const char *name, struct ks_domain *out)
{
	MDB_val	 k, v;
	int	 rc;

	if ((rc = tget(t, T_DOMAINS, name, strlen(name), &v)) != KS_OK)
		return (rc);
	mkval(&k, name, strlen(name));
	return (domain_decode(&k, &v, out));
}

int
ks_domain_set_flags(struct ks_txn *t, const char *name, uint32_t flags)
{
	struct ks_domain	 d;
	int			 rc;

	if ((rc = ks_domain_get(t, name, &d)) != KS_OK)
		return (rc);
	d.flags = flags;
	return (domain_write(t, &d, 0));
}

/*
 * Delete every key of table tb that starts with prefix.  After a delete
 * the cursor is sought again: MDB_GET_CURRENT past the last item is
 * EINVAL, not MDB_NOTFOUND.
 */
static int
del_prefix(struct ks_txn *t, enum ks_table tb, const char *prefix,
    size_t *n)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	size_t		 plen = strlen(prefix);
	int		 rc;

	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[tb], &c)) != 0)
		return (ks_maperr(rc));
	mkval(&k, prefix, plen);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size >= plen &&
	    memcmp(k.mv_data, prefix, plen) == 0) {
		if (KS_FAULT_HIT()) {
			rc = KS_FAULT;
			break;
		}
		if (tb == T_WKD && (rc = wkd_unref(t, &v)) != KS_OK)
			break;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		(*n)++;
		mkval(&k, prefix, plen);
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	}
	mdb_cursor_close(c);
	return (rc == MDB_NOTFOUND ? KS_OK : ks_maperr(rc));
}

/*
 * TLS reports (RFC 8460), wkdctl tlsrpt ingest's: a report per policy
 * domain and report-id (a second put of one is KS_EXISTS: dedup), and
 * each domain's sums, kept in the same transaction.
 */
#define TR_HEAD		48	/* tlsrpt: before the JSON. */
#define TR_SUM		48	/* tlsrpt-domains. */

/* "domain/id" into buf; its length, or 0 if either can't be a key. */
static size_t
tlsrpt_key(const char *domain, const char *id, char *buf, size_t bufsz)
{
	int	n;

	if (domain[0] == '\0' || strlen(domain) >= KS_DOMAIN_MAX ||
	    strchr(domain, '/') != NULL || id[0] == '\0' ||
	    strlen(id) >= KS_TLSRPT_ID_MAX)
		return (0);
	n = snprintf(buf, bufsz, "%s/%s", domain, id);
	if (n < 0 || (size_t)n >= bufsz || (size_t)n > KS_LMDB_KEY_MAX)
		return (0);
	return ((size_t)n);
}

static int
tlsrpt_decode(const MDB_val *k, const MDB_val *v, struct ks_tlsrpt *r)
{
	const unsigned char	*p = v->mv_data;
	const char		*kp = k->mv_data, *slash;
	size_t			 dlen;

	memset(r, 0, sizeof(*r));
	if (v->mv_size < TR_HEAD || p[0] != 1 || k->mv_size == 0 ||
	    (slash = memchr(kp, '/', k->mv_size)) == NULL)
		return (KS_CORRUPT);
	dlen = slash - kp;
	if (dlen == 0 || dlen >= KS_DOMAIN_MAX ||
	    k->mv_size - dlen - 1 == 0 ||
	    k->mv_size - dlen - 1 >= KS_TLSRPT_ID_MAX)
		return (KS_CORRUPT);
	memcpy(r->domain, kp, dlen);
	memcpy(r->id, slash + 1, k->mv_size - dlen - 1);
	r->start = get_i64(p + 8);
	r->end = get_i64(p + 16);
	r->received = get_i64(p + 24);
	r->success = (uint64_t)get_i64(p + 32);
	r->failure = (uint64_t)get_i64(p + 40);
	r->json = p + TR_HEAD;
	r->len = v->mv_size - TR_HEAD;
	return (KS_OK);
}

static int
tlsrpt_sum_decode(const MDB_val *k, const MDB_val *v,
    struct ks_tlsrpt_sum *s)
{
	const unsigned char	*p = v->mv_data;

	memset(s, 0, sizeof(*s));
	if (v->mv_size != TR_SUM || p[0] != 1 || k->mv_size == 0 ||
	    k->mv_size >= KS_DOMAIN_MAX)
		return (KS_CORRUPT);
	memcpy(s->domain, k->mv_data, k->mv_size);
	s->reports = (uint64_t)get_i64(p + 8);
	s->success = (uint64_t)get_i64(p + 16);
	s->failure = (uint64_t)get_i64(p + 24);
	s->first = get_i64(p + 32);
	s->last = get_i64(p + 40);
	return (KS_OK);
}

static int
tlsrpt_record_check(int tb, const MDB_val *k, const MDB_val *v)
{
	struct ks_tlsrpt	 r;
	struct ks_tlsrpt_sum	 s;

	if (tb == T_TLSRPT)
		return (tlsrpt_decode(k, v, &r));
	return (tlsrpt_sum_decode(k, v, &s));
}

/* s as a tlsrpt-domains record. */
static int
tlsrpt_sum_put(struct ks_txn *t, const struct ks_tlsrpt_sum *s)
{
	unsigned char	 sum[TR_SUM];

	memset(sum, 0, sizeof(sum));
	sum[0] = 1;
	put_i64(sum + 8, (int64_t)s->reports);
	put_i64(sum + 16, (int64_t)s->success);
	put_i64(sum + 24, (int64_t)s->failure);
	put_i64(sum + 32, s->first);
	put_i64(sum + 40, s->last);
	return (tput(t, T_TLSRPT_DOM, s->domain, strlen(s->domain), sum,
	    sizeof(sum), 0));
}

int
ks_tlsrpt_put(struct ks_txn *t, const struct ks_tlsrpt *r)
{
	struct ks_tlsrpt_sum	 s;
	unsigned char		*rec;
	char			 key[KS_LMDB_KEY_MAX + 1];
	MDB_val			 k, v;
	size_t			 klen;
	int			 rc;

	if (!t->ks->tlsrpt)
		return (KS_RDONLYERR);
	if ((klen = tlsrpt_key(r->domain, r->id, key, sizeof(key))) == 0 ||
	    r->len == 0)
		return (KS_INVALID);
	if (r->len > KS_TLSRPT_MAX)
		return (KS_TOOBIG);
	if ((rc = tget(t, T_DOMAINS, r->domain, strlen(r->domain), &v)) !=
	    KS_OK)
		return (rc);
	if ((rc = tget(t, T_TLSRPT, key, klen, &v)) == KS_OK)
		return (KS_EXISTS);
	if (rc != KS_NOTFOUND)
		return (rc);
	if ((rec = ks_malloc(TR_HEAD + r->len)) == NULL)
		return (ENOMEM);
	memset(rec, 0, TR_HEAD);
	rec[0] = 1;
	put_i64(rec + 8, r->start);
	put_i64(rec + 16, r->end);
	put_i64(rec + 24, r->received);
	put_i64(rec + 32, (int64_t)r->success);
	put_i64(rec + 40, (int64_t)r->failure);
	memcpy(rec + TR_HEAD, r->json, r->len);
	rc = tput(t, T_TLSRPT, key, klen, rec, TR_HEAD + r->len,
	    MDB_NOOVERWRITE);
	free(rec);
	if (rc != KS_OK)
		return (rc);

	mkval(&k, r->domain, strlen(r->domain));
	if ((rc = tget(t, T_TLSRPT_DOM, r->domain, strlen(r->domain), &v)) ==
	    KS_OK) {
		if ((rc = tlsrpt_sum_decode(&k, &v, &s)) != KS_OK)
			return (rc);
	} else if (rc == KS_NOTFOUND) {
		memset(&s, 0, sizeof(s));
		memcpy(s.domain, r->domain, strlen(r->domain) + 1);
		s.first = r->start;
		s.last = r->end;
	} else
		return (rc);
	s.reports++;
	s.success += r->success;
	s.failure += r->failure;
	if (r->start < s.first)
		s.first = r->start;
	if (r->end > s.last)
		s.last = r->end;
	return (tlsrpt_sum_put(t, &s));
}

int
ks_tlsrpt_foreach(struct ks_txn *t, const char *domain, int64_t since,
    int (*cb)(const struct ks_tlsrpt *, void *), void *arg)
{
	MDB_cursor		*c;
	MDB_val			 k, v;
	struct ks_tlsrpt	*r;
	char			 prefix[KS_DOMAIN_MAX + 1];
	size_t			 plen = 0;
	int			 rc;

	if (!t->ks->tlsrpt)
		return (KS_OK);
	if (domain != NULL) {
		if (domain[0] == '\0' || strlen(domain) >= KS_DOMAIN_MAX)
			return (KS_OK);
		plen = (size_t)snprintf(prefix, sizeof(prefix), "%s/",
		    domain);
	}
	if ((r = ks_malloc(sizeof(*r))) == NULL)
		return (ENOMEM);
	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[T_TLSRPT], &c)) != 0) {
		free(r);
		return (ks_maperr(rc));
	}
	mkval(&k, prefix, plen);
	rc = mdb_cursor_get(c, &k, &v, plen > 0 ? MDB_SET_RANGE : MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (plen > 0 && (k.mv_size < plen ||
		    memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if ((rc = tlsrpt_decode(&k, &v, r)) != KS_OK)
			break;
		if (r->end < since)
			continue;
		if ((rc = cb(r, arg)) != 0)
			break;
	}
	mdb_cursor_close(c);
	free(r);
	return (rc == MDB_NOTFOUND || (rc == 0 && plen > 0) ? KS_OK :
	    ks_maperr(rc));
}

/* Each domain's sums in t, in domain order. */
static int
tlsrpt_sums(struct ks_txn *t,
    int (*cb)(const struct ks_tlsrpt_sum *, void *), void *arg)
{
	MDB_cursor		*c;
	MDB_val			 k, v;
	struct ks_tlsrpt_sum	 s;
	int			 rc;

	if (!t->ks->tlsrpt)
		return (KS_OK);
	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[T_TLSRPT_DOM], &c)) !=
	    0)
		return (ks_maperr(rc));
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if ((rc = tlsrpt_sum_decode(&k, &v, &s)) != KS_OK)
			break;
		if ((rc = cb(&s, arg)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return (rc == MDB_NOTFOUND ? KS_OK : ks_maperr(rc));
}

int
ks_tlsrpt_sum_foreach(struct ks_txn *t,
    int (*cb)(const struct ks_tlsrpt_sum *, void *), void *arg)
{
	return (tlsrpt_sums(t, cb, arg));
}

/* Every domain's sums made again from its reports (adjacent by key). */
static int
tlsrpt_resum(struct ks_txn *t, struct ks_tlsrpt *r)
{
	MDB_cursor		*c;
	MDB_val			 k, v;
	struct ks_tlsrpt_sum	 s;
	int			 rc, have = 0;

	if ((rc = mdb_drop(t->txn, t->ks->dbi[T_TLSRPT_DOM], 0)) != 0)
		return (ks_maperr(rc));
	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[T_TLSRPT], &c)) != 0)
		return (ks_maperr(rc));
	memset(&s, 0, sizeof(s));
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if ((rc = tlsrpt_decode(&k, &v, r)) != KS_OK)
			break;
		if (have && strcmp(r->domain, s.domain) != 0) {
			if ((rc = tlsrpt_sum_put(t, &s)) != KS_OK)
				break;
			have = 0;
		}
		if (!have) {
			memset(&s, 0, sizeof(s));
			memcpy(s.domain, r->domain, sizeof(s.domain));
			s.first = r->start;
			s.last = r->end;
			have = 1;
		}
		s.reports++;
		s.success += r->success;
		s.failure += r->failure;
		if (r->start < s.first)
			s.first = r->start;
		if (r->end > s.last)
			s.last = r->end;
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND && have)
		rc = tlsrpt_sum_put(t, &s);
	return (rc == MDB_NOTFOUND ? KS_OK : ks_maperr(rc));
}

int
ks_tlsrpt_prune(struct ks_txn *t, int64_t before, size_t *np)
{
	MDB_cursor		*c;
	MDB_val			 k, v;
	struct ks_tlsrpt	*r;
	char			 key[KS_LMDB_KEY_MAX + 1];
	size_t			 klen;
	int			 rc;

	*np = 0;
	if (!t->ks->tlsrpt)
		return (KS_OK);
	if ((r = ks_malloc(sizeof(*r))) == NULL)
		return (ENOMEM);
	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[T_TLSRPT], &c)) != 0) {
		free(r);
		return (ks_maperr(rc));
	}
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if ((rc = tlsrpt_decode(&k, &v, r)) != KS_OK)
			break;
		if (r->end >= before) {
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue;
		}
		if (KS_FAULT_HIT()) {
			rc = KS_FAULT;
			break;
		}
		/* Sought again after the delete, as del_prefix() does. */
		klen = k.mv_size;
		memcpy(key, k.mv_data, klen);
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		(*np)++;
		mkval(&k, key, klen);
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		rc = tlsrpt_resum(t, r);
	free(r);
	return (ks_maperr(rc));
}

/* A removed domain's reports and sums go with it. */
static int
tlsrpt_domain_del(struct ks_txn *t, const char *name)
{
	char	 prefix[KS_DOMAIN_MAX + 1];
	size_t	 n = 0;
	int	 rc;

	if (!t->ks->tlsrpt)
		return (KS_OK);
	(void)snprintf(prefix, sizeof(prefix), "%s/", name);
	if ((rc = del_prefix(t, T_TLSRPT, prefix, &n)) != KS_OK)
		return (rc);
	rc = tdel(t, T_TLSRPT_DOM, name, strlen(name));
	return (rc == KS_NOTFOUND ? KS_OK : rc);
}

/* The addresses of a domain that serve a key, collected. */
struct domain_keyed {
	struct ks_addr	*v;
	size_t		 n;
};

static int
domain_keyed_cb(const struct ks_addr *a, void *arg)
{
	struct domain_keyed	*l = arg;
	struct ks_addr		*nv;

	if (a->fpr[0] == '\0')
		return (0);
	if ((nv = ks_realloc(l->v, (l->n + 1) * sizeof(*l->v))) == NULL)
		return (ENOMEM);
	l->v = nv;
	l->v[l->n++] = *a;
	return (0);
}

int
ks_domain_del(struct ks_txn *t, const char *name)
{
	struct domain_keyed	 l;
	size_t			 i = 0, dlen = strlen(name);
	char			 prefix[KS_DOMAIN_MAX + 1];
	int			 rc;

	if (dlen + 2 > sizeof(prefix))
		return (KS_INVALID);
	if ((rc = tdel(t, T_DOMAINS, name, dlen)) != KS_OK)
		return (rc);
	if ((rc = tdel(t, T_POLICY, name, dlen)) != KS_OK &&
	    rc != KS_NOTFOUND)
		return (rc);
	if ((rc = tdel(t, T_MTASTS, name, dlen)) != KS_OK &&
	    rc != KS_NOTFOUND)
		return (rc);
	if (t->ks->checks && (rc = tdel(t, T_CHECKS, name, dlen)) != KS_OK &&
	    rc != KS_NOTFOUND)
		return (rc);
	if ((rc = tlsrpt_domain_del(t, name)) != KS_OK)
		return (rc);
	(void)snprintf(prefix, sizeof(prefix), "%s/", name);
	if (t->ks->facts && (rc = del_prefix(t, T_FACTS, prefix, &i)) !=
	    KS_OK)
		return (rc);
	i = 0;
	if ((rc = del_prefix(t, T_WKD, prefix, &i)) != KS_OK ||
	    (rc = blob_clean(t, CLEAN_RUNS * i)) != KS_OK)
		return (rc);

	/*
	 * Nothing is published on the domain any more: say so in its
	 * addresses, which stay bound to their accounts.  Collect first,
	 * since writing through a walk would move the cursor.
	 */
	memset(&l, 0, sizeof(l));
	rc = ks_addr_foreach_domain(t, name, domain_keyed_cb, &l);
	for (i = 0; rc == KS_OK && i < l.n; i++) {
		l.v[i].fpr[0] = '\0';
		rc = ks_addr_put(t, &l.v[i]);
	}
	free(l.v);
	return (rc);
}

int
ks_domain_foreach(struct ks_txn *t,
    int (*cb)(const struct ks_domain *, void *), void *arg)
{
	MDB_cursor		*c;
	MDB_val			 k, v;
	struct ks_domain	 d;
	int			 rc;

	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[T_DOMAINS], &c)) != 0)
		return (ks_maperr(rc));
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if ((rc = domain_decode(&k, &v, &d)) != KS_OK)
			break;
		if ((rc = cb(&d, arg)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return (rc == MDB_NOTFOUND ? KS_OK : ks_maperr(rc));
}

int
ks_policy_put(struct ks_txn *t, const char *name, const void *data,
    size_t len)
{
	MDB_val	 v;
	int	 rc;

	if (len > KS_POLICY_MAX)
		return (KS_TOOBIG);
	if ((rc = tget(t, T_DOMAINS, name, strlen(name), &v)) != KS_OK)
		return (rc);
	return (tput(t, T_POLICY, name, strlen(name), data, len, 0));
}

/* Addresses. */

static int
addr_decode(const MDB_val *k, const MDB_val *v, struct ks_addr *a)
{
	const unsigned char	*p = v->mv_data;
	size_t			 alen, flen;

	memset(a, 0, sizeof(*a));
	if (k->mv_size >= sizeof(a->addr) || v->mv_size < AR_MIN || p[0] != 1)
		return (KS_CORRUPT);
	alen = get_u16(p + AR_ALEN);
	if (alen >= sizeof(a->account) || v->mv_size < AR_MIN + alen)
		return (KS_CORRUPT);
	flen = p[AR_ACCT + alen];
	if (flen >= sizeof(a->fpr) || v->mv_size != AR_MIN + alen + flen)
		return (KS_CORRUPT);
	memcpy(a->addr, k->mv_data, k->mv_size);
	a->state = p[AR_STATE];
	a->flags = get_u32(p + AR_FLAGS);
	a->ctime = get_i64(p + AR_CTIME);
	a->mtime = get_i64(p + AR_MTIME);
	memcpy(a->account, p + AR_ACCT, alen);
	memcpy(a->fpr, p + AR_MIN + alen, flen);
	return (KS_OK);
}

int
ks_addr_del(struct ks_txn *t, const char *addr)
{
	struct ks_addr	 old;
	int		 rc;

	if ((rc = ks_addr_get(t, addr, &old)) != KS_OK)
		return (rc);
	if ((rc = tdel(t, T_ADDRS, addr, strlen(addr))) != KS_OK)
		return (rc);
	return (addr_index(t, &old, NULL));
}

/*
 * Erased addresses live in meta as "gone:" and HMAC-SHA-256(the store's
 * erasure key, address); the key is 32 random bytes under "gone-key",
 * made the first time an address is erased.
 */
#define GONE_PREFIX	"gone:"
#define GONE_KEY	"gone-key"
#define GONE_KEYLEN	32

/* The record key for addr into out; KS_NOTFOUND if nothing was erased. */
static int
gone_key(struct ks_txn *t, const char *addr, int make,
    unsigned char out[sizeof(GONE_PREFIX) - 1 + GONE_KEYLEN])
{
	unsigned char	 secret[GONE_KEYLEN];
	MDB_val		 v;
	int		 rc;

	rc = tget(t, T_META, GONE_KEY, strlen(GONE_KEY), &v);
	if (rc == KS_OK && v.mv_size == GONE_KEYLEN)
		memcpy(secret, v.mv_data, GONE_KEYLEN);
	else if (rc == KS_OK)
		return (KS_CORRUPT);
	else if (rc != KS_NOTFOUND || !make)
		return (rc);
	else if (gnutls_rnd(GNUTLS_RND_KEY, secret, sizeof(secret)) != 0)
		return (KS_INVALID);
	else if ((rc = tput(t, T_META, GONE_KEY, strlen(GONE_KEY), secret,
	    sizeof(secret), 0)) != KS_OK)
		return (rc);
	memcpy(out, GONE_PREFIX, sizeof(GONE_PREFIX) - 1);
	rc = gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, sizeof(secret), addr,
	    strlen(addr), out + sizeof(GONE_PREFIX) - 1) == 0 ? KS_OK :
	    KS_INVALID;
	memset(secret, 0, sizeof(secret));
	return (rc);
}

int
ks_gone_put(struct ks_txn *t, const char *addr)
{
	unsigned char	 k[sizeof(GONE_PREFIX) - 1 + GONE_KEYLEN];
	unsigned char	 when[8];
	int		 rc;

	if ((rc = gone_key(t, addr, 1, k)) != KS_OK)
		return (rc);
	put_i64(when, time(NULL));
	return (tput(t, T_META, k, sizeof(k), when, sizeof(when), 0));
}

int
ks_gone_get(struct ks_txn *t, const char *addr)
{
	unsigned char	 k[sizeof(GONE_PREFIX) - 1 + GONE_KEYLEN];
	MDB_val		 v;
	int		 rc;

	if ((rc = gone_key(t, addr, 0, k)) != KS_OK)
		return (rc);
	return (tget(t, T_META, k, sizeof(k), &v));
}

int
ks_addr_get(struct ks_txn *t, const char *addr, struct ks_addr *out)
{
	MDB_val	 k, v;
	int	 rc;

	if ((rc = tget(t, T_ADDRS, addr, strlen(addr), &v)) != KS_OK)
		return (rc);
	mkval(&k, addr, strlen(addr));
	return (addr_decode(&k, &v, out));
}

int
ks_addr_put(struct ks_txn *t, const struct ks_addr *a)
{
	unsigned char	 rec[AR_MIN + KS_ADDR_MAX + KS_FPR_MAX];
	struct ks_addr	 old, new;
	size_t		 alen, flen;
	int64_t		 now = time(NULL), ctime = now;
	int		 rc, known = 0;

	alen = strnlen(a->account, sizeof(a->account));
	flen = strnlen(a->fpr, sizeof(a->fpr));
	if (alen == 0 || alen == sizeof(a->account) ||
	    flen == sizeof(a->fpr) ||
	    strnlen(a->addr, sizeof(a->addr)) == sizeof(a->addr) ||
	    a->state < KS_ADDR_PRIMARY || a->state > KS_ADDR_RETIRED)
		return (KS_INVALID);
	if ((rc = ks_addr_get(t, a->addr, &old)) == KS_OK) {
		ctime = old.ctime;
		known = 1;
	} else if (rc != KS_NOTFOUND)
		return (rc);
	memset(rec, 0, AR_MIN);
	rec[0] = 1;
	rec[AR_STATE] = a->state;
	put_u32(rec + AR_FLAGS, a->flags);
	put_i64(rec + AR_CTIME, ctime);
	put_i64(rec + AR_MTIME, now);
	put_u16(rec + AR_ALEN, alen);
	memcpy(rec + AR_ACCT, a->account, alen);
	rec[AR_ACCT + alen] = flen;
	memcpy(rec + AR_MIN + alen, a->fpr, flen);
	if ((rc = tput(t, T_ADDRS, a->addr, strlen(a->addr), rec,
	    AR_MIN + alen + flen, 0)) != KS_OK)
		return (rc);
	/* The index entries of the fields as stored: NUL-terminated. */
	new = *a;
	new.account[alen] = '\0';
	new.fpr[flen] = '\0';
	return (addr_index(t, known ? &old : NULL, &new));
}

/*
 * Every address, or those of account, of domain or serving key fpr (each
 * filter NULL for any), by a scan: for all of them, and for a store read
 * without its indexes (format 1, KS_RDONLY).
 */
static int
addr_scan(struct ks_txn *t, const char *account, const char *domain,
    const char *fpr, int (*cb)(const struct ks_addr *, void *), void *arg)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	struct ks_addr	 a;
	const char	*at;
	int		 rc;

	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[T_ADDRS], &c)) != 0)
		return (ks_maperr(rc));
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if ((rc = addr_decode(&k, &v, &a)) != KS_OK)
			break;
		if (account != NULL && strcmp(a.account, account) != 0)
			continue;
		if (domain != NULL && ((at = strrchr(a.addr, '@')) == NULL ||
		    strcmp(at + 1, domain) != 0))
			continue;
		if (fpr != NULL && strcmp(a.fpr, fpr) != 0)
			continue;
		if ((rc = cb(&a, arg)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return (rc == MDB_NOTFOUND ? KS_OK : ks_maperr(rc));
}

/*
 * An index walk that hands the caller's callback the record each value
 * names: an address, a certinfo or a certificate, whichever callback is
 * set.  A value naming no record is KS_CORRUPT: the index and its table
 * disagree.
 */
struct rec_walk {
	int	(*addr_cb)(const struct ks_addr *, void *);
	int	(*ci_cb)(const struct ks_certinfo *, void *);
	int	(*cert_cb)(const char *, const unsigned char *, size_t,
		    void *);
	void	*arg;
};

static int
rec_walk_cb(struct ks_txn *t, const char *key, void *arg)
{
	struct rec_walk		*w = arg;
	struct ks_addr		 a;
	struct ks_certinfo	 ci;
	MDB_val			 v;
	int			 rc;

	if (w->addr_cb != NULL)
		rc = ks_addr_get(t, key, &a);
	else if (w->ci_cb != NULL)
		rc = ks_certinfo_get(t, key, &ci);
	else
		rc = tget(t, T_CERTS, key, strlen(key), &v);
	if (rc != KS_OK)
		return (rc == KS_NOTFOUND ? KS_CORRUPT : rc);
	if (w->addr_cb != NULL)
		return (w->addr_cb(&a, w->arg));
	if (w->ci_cb != NULL)
		return (w->ci_cb(&ci, w->arg));
	return (w->cert_cb(key, v.mv_data, v.mv_size, w->arg));
}

/*
 * The addresses under key in index tb (in address order, as a scan finds
 * them), or a scan if the store has no indexes or key is empty (which no
 * index holds).
 */
static int
addr_index_walk(struct ks_txn *t, enum ks_table tb, const char *key,
    int (*cb)(const struct ks_addr *, void *), void *arg)
{
	struct rec_walk	 w = { .addr_cb = cb, .arg = arg };

	if (!t->ks->indexed || key[0] == '\0')
		return (addr_scan(t, tb == T_ADDR_ACCT ? key : NULL,
		    tb == T_ADDR_DOM ? key : NULL, tb == T_ADDR_KEY ? key :
		    NULL, cb, arg));
	return (ix_walk(t, tb, key, rec_walk_cb, &w));
}

int
ks_addr_foreach(struct ks_txn *t, const char *account,
    int (*cb)(const struct ks_addr *, void *), void *arg)
{
	if (account == NULL)
		return (addr_scan(t, NULL, NULL, NULL, cb, arg));
	return (addr_index_walk(t, T_ADDR_ACCT, account, cb, arg));
}

int
ks_addr_foreach_domain(struct ks_txn *t, const char *domain,
    int (*cb)(const struct ks_addr *, void *), void *arg)
{
	return (addr_index_walk(t, T_ADDR_DOM, domain, cb, arg));
}

int
ks_addr_foreach_key(struct ks_txn *t, const char *fpr,
    int (*cb)(const struct ks_addr *, void *), void *arg)
{
	return (addr_index_walk(t, T_ADDR_KEY, fpr, cb, arg));
}

/* Certificates and published keys. */

/*
 * Only the packets a transferable public key is made of (RFC 4880 11.1):
 * a compressed or encrypted packet could hide a secret key from the scan.
 */
static int
check_pgp(const void *data, size_t len, size_t max)
{
	unsigned	 counts[64];
	unsigned	 i;
	int		 rc;

	if (len > max)
		return (KS_TOOBIG);
	if ((rc = ks_pgp_scan(data, len, counts)) != KS_OK)
		return (rc);
	for (i = 0; i < 64; i++)
		if (counts[i] != 0 && i != KS_PKT_SIG && i != KS_PKT_PUBKEY &&
		    i != KS_PKT_TRUST && i != KS_PKT_UID &&
		    i != KS_PKT_PUBSUB && i != KS_PKT_ATTR)
			return (KS_INVALID);
	return (KS_OK);
}

static int
fpr_valid(const char *fpr)
{
	size_t	 i, len = strlen(fpr);

	if (len < 32 || len >= KS_FPR_MAX)
		return (0);
	for (i = 0; i < len; i++)
		if (!((fpr[i] >= '0' && fpr[i] <= '9') ||
		    (fpr[i] >= 'A' && fpr[i] <= 'F')))
			return (0);
	return (1);
}

/*
 * Unindex the User ID addresses of stored certificate fpr, if there is
 * one; a copy of its bytes first, since the map's may move as the index
 * changes.  *same: the stored bytes equal data (then nothing changes).
 */
static int
cert_unindex(struct ks_txn *t, const char *fpr, const void *data,
    size_t len, int *same)
{
	MDB_val		 v;
	unsigned char	*old;
	int		 rc;

	*same = 0;
	if ((rc = tget(t, T_CERTS, fpr, strlen(fpr), &v)) != KS_OK)
		return (rc == KS_NOTFOUND ? KS_OK : rc);
	if (data != NULL && v.mv_size == len &&
	    memcmp(v.mv_data, data, len) == 0) {
		*same = 1;
		return (KS_OK);
	}
	if ((old = ks_malloc(v.mv_size)) == NULL)
		return (ENOMEM);
	memcpy(old, v.mv_data, v.mv_size);
	rc = cert_index(t, fpr, old, v.mv_size, 0);
	free(old);
	return (rc);
}

int
ks_cert_put(struct ks_txn *t, const char *fpr, const void *data,
    size_t len)
{
	int	 rc, same;

	if (!fpr_valid(fpr))
		return (KS_INVALID);
	if ((rc = check_pgp(data, len, KS_CERT_MAX)) != KS_OK)
		return (rc);
	if ((rc = cert_unindex(t, fpr, data, len, &same)) != KS_OK || same)
		return (rc);
	if ((rc = tput(t, T_CERTS, fpr, strlen(fpr), data, len, 0)) != KS_OK)
		return (rc);
	return (cert_index(t, fpr, data, len, 1));
}

int
ks_cert_get(struct ks_txn *t, const char *fpr, struct ks_blob *out)
{
	MDB_val	 v;
	int	 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = tget(t, T_CERTS, fpr, strlen(fpr), &v)) != KS_OK)
		return (rc);
	return (copyout(v.mv_data, v.mv_size, out));
}

static int	 certinfo_index(struct ks_txn *, const struct ks_certinfo *,
		    const struct ks_certinfo *);

int
ks_cert_del(struct ks_txn *t, const char *fpr)
{
	struct ks_certinfo	 ci;
	int			 rc, same;

	if ((rc = cert_unindex(t, fpr, NULL, 0, &same)) != KS_OK)
		return (rc);
	if ((rc = tdel(t, T_CERTS, fpr, strlen(fpr))) != KS_OK)
		return (rc);
	if ((rc = ks_certinfo_get(t, fpr, &ci)) == KS_OK)
		rc = certinfo_index(t, &ci, NULL);
	if (rc != KS_OK && rc != KS_NOTFOUND)
		return (rc);
	if ((rc = tdel(t, T_CERTINFO, fpr, strlen(fpr))) != KS_OK &&
	    rc != KS_NOTFOUND)
		return (rc);
	if ((rc = tdel(t, T_REVOCS, fpr, strlen(fpr))) != KS_OK &&
	    rc != KS_NOTFOUND)
		return (rc);
	return (KS_OK);
}

/*
 * A certinfo record: version (1), 3 bytes zero, flags (u32), ctime and
 * mtime (i64), the successor's length (1 byte) and fingerprint, then the
 * account's length (u16) and address (added later: optional).
 */
#define CI_FLAGS	4
#define CI_CTIME	8
#define CI_MTIME	16
#define CI_SLEN		24
#define CI_SUCC		25	/* Then u16 account length, account. */
#define CI_PART_MAX	(1 + KS_FPR_MAX + 8 + 8 + 2 + 2 + 1 + 1)
#define CI_STATE_MAX	(1 + 1 + 2 + 256 + 1 + \
			    (1 + KS_SUBKEY_MAX) * CI_PART_MAX)

/* A key part (ks_keystate) at p; returns the end. */
static unsigned char *
part_put(unsigned char *p, const struct ks_keypart *k)
{
	size_t	 n = strnlen(k->fpr, sizeof(k->fpr) - 1);

	*p++ = n;
	memcpy(p, k->fpr, n);
	p += n;
	put_i64(p, k->created);
	put_i64(p + 8, k->expires);
	put_u16(p + 16, k->alg);
	put_u16(p + 18, k->bits);
	p[20] = k->usage;
	p[21] = k->revoked;
	return (p + 22);
}

static const unsigned char *
part_get(const unsigned char *p, const unsigned char *end,
    struct ks_keypart *k)
{
	size_t	 n;

	if (p == NULL || end - p < 1 || (n = p[0]) >= sizeof(k->fpr) ||
	    (size_t)(end - p) < 1 + n + 22)
		return (NULL);
	memcpy(k->fpr, p + 1, n);
	k->fpr[n] = '\0';
	p += 1 + n;
	k->created = get_i64(p);
	k->expires = get_i64(p + 8);
	k->alg = get_u16(p + 16);
	k->bits = get_u16(p + 18);
	k->usage = p[20];
	k->revoked = p[21];
	return (p + 22);
}

/* The state section of a certinfo record at p (see the top). */
static size_t
state_put(unsigned char *p, const struct ks_keystate *s)
{
	unsigned char	*q = p;
	size_t		 n, i, nsub = s->nsub > KS_SUBKEY_MAX ? KS_SUBKEY_MAX :
			    s->nsub;

	n = strnlen(s->reason_text, sizeof(s->reason_text) - 1);
	*q++ = 1;
	*q++ = s->reason;
	put_u16(q, n);
	memcpy(q + 2, s->reason_text, n);
	q += 2 + n;
	*q++ = nsub;
	q = part_put(q, &s->primary);
	for (i = 0; i < nsub; i++)
		q = part_put(q, &s->sub[i]);
	return (q - p);
}

static int
state_get(const unsigned char *p, const unsigned char *end,
    struct ks_keystate *s)
{
	size_t	 n, i;

	if (end - p < 5 || p[0] != 1)
		return (KS_CORRUPT);
	s->reason = p[1];
	n = get_u16(p + 2);
	if (n >= sizeof(s->reason_text) || (size_t)(end - p) < 5 + n)
		return (KS_CORRUPT);
	memcpy(s->reason_text, p + 4, n);
	s->reason_text[n] = '\0';
	p += 4 + n;
	if ((s->nsub = *p++) > KS_SUBKEY_MAX)
		return (KS_CORRUPT);
	p = part_get(p, end, &s->primary);
	for (i = 0; i < s->nsub; i++)
		p = part_get(p, end, &s->sub[i]);
	if (p != end)
		return (KS_CORRUPT);
	s->known = 1;
	return (KS_OK);
}

static int
certinfo_decode(const void *key, size_t klen, const MDB_val *v,
    struct ks_certinfo *out)
{
	const unsigned char	*p = v->mv_data;
	size_t			 slen, alen;

	memset(out, 0, sizeof(*out));
	if (klen >= sizeof(out->fpr))
		return (KS_CORRUPT);
	if (v->mv_size < CI_SUCC || p[0] != 1)
		return (KS_CORRUPT);
	slen = p[CI_SLEN];
	if (slen >= sizeof(out->successor) || v->mv_size < CI_SUCC + slen)
		return (KS_CORRUPT);
	if (v->mv_size > CI_SUCC + slen) {
		if (v->mv_size < CI_SUCC + 2 + slen)
			return (KS_CORRUPT);
		alen = get_u16(p + CI_SUCC + slen);
		if (alen >= sizeof(out->account) ||
		    v->mv_size < CI_SUCC + 2 + slen + alen)
			return (KS_CORRUPT);
		memcpy(out->account, p + CI_SUCC + 2 + slen, alen);
		if (v->mv_size > CI_SUCC + 2 + slen + alen &&
		    state_get(p + CI_SUCC + 2 + slen + alen, p + v->mv_size,
		    &out->state) != KS_OK)
			return (KS_CORRUPT);
	}
	memcpy(out->fpr, key, klen);
	out->flags = get_u32(p + CI_FLAGS);
	out->ctime = get_i64(p + CI_CTIME);
	out->mtime = get_i64(p + CI_MTIME);
	memcpy(out->successor, p + CI_SUCC, slen);
	return (KS_OK);
}

int
ks_certinfo_get(struct ks_txn *t, const char *fpr, struct ks_certinfo *out)
{
	MDB_val	 v;
	int	 rc;

	memset(out, 0, sizeof(*out));
	if (strlen(fpr) >= sizeof(out->fpr))
		return (KS_INVALID);
	if ((rc = tget(t, T_CERTINFO, fpr, strlen(fpr), &v)) != KS_OK)
		return (rc);
	return (certinfo_decode(fpr, strlen(fpr), &v, out));
}

/* The key superseded keys are listed under; NULL if none. */
static const char *
certinfo_succ(const struct ks_certinfo *ci)
{
	if (ci == NULL || !(ci->flags & KS_CERT_SUPERSEDED))
		return (NULL);
	return (ci->successor);
}

/* The successor index of certinfo old becoming new (either NULL). */
static int
certinfo_index(struct ks_txn *t, const struct ks_certinfo *old,
    const struct ks_certinfo *new)
{
	return (ix_move(t, T_SUCC, certinfo_succ(old), certinfo_succ(new),
	    new != NULL ? new->fpr : old->fpr));
}

int
ks_certinfo_put(struct ks_txn *t, const struct ks_certinfo *ci)
{
	unsigned char		 rec[CI_SUCC + 2 + KS_FPR_MAX + KS_ADDR_MAX +
				    CI_STATE_MAX];
	struct ks_certinfo	 old, new;
	size_t			 slen, alen, len;
	int64_t			 now = time(NULL);
	int			 rc, known;

	slen = strnlen(ci->successor, sizeof(ci->successor));
	alen = strnlen(ci->account, sizeof(ci->account));
	if (!fpr_valid(ci->fpr) || slen == sizeof(ci->successor) ||
	    (slen > 0 && !fpr_valid(ci->successor)) ||
	    alen == sizeof(ci->account))
		return (KS_INVALID);
	if ((rc = ks_certinfo_get(t, ci->fpr, &old)) != KS_OK &&
	    rc != KS_NOTFOUND)
		return (rc);
	known = rc == KS_OK;
	memset(rec, 0, CI_SUCC);
	rec[0] = 1;
	put_u32(rec + CI_FLAGS, ci->flags);
	put_i64(rec + CI_CTIME, rc == KS_OK ? old.ctime : now);
	put_i64(rec + CI_MTIME, now);
	rec[CI_SLEN] = slen;
	memcpy(rec + CI_SUCC, ci->successor, slen);
	put_u16(rec + CI_SUCC + slen, alen);
	memcpy(rec + CI_SUCC + 2 + slen, ci->account, alen);
	len = CI_SUCC + 2 + slen + alen;
	if (ci->state.known)
		len += state_put(rec + len, &ci->state);
	if ((rc = tput(t, T_CERTINFO, ci->fpr, strlen(ci->fpr), rec, len,
	    0)) != KS_OK)
		return (rc);
	new = *ci;
	new.successor[slen] = '\0';
	return (certinfo_index(t, known ? &old : NULL, &new));
}

int
ks_certinfo_foreach_successor(struct ks_txn *t, const char *fpr,
    int (*cb)(const struct ks_certinfo *, void *), void *arg)
{
	MDB_cursor		*c;
	MDB_val			 k, v;
	struct ks_certinfo	 ci;
	struct rec_walk		 w = { .ci_cb = cb, .arg = arg };
	int			 rc;

	if (t->ks->indexed && fpr[0] != '\0')
		return (ix_walk(t, T_SUCC, fpr, rec_walk_cb, &w));
	/* A scan without the index (format 1, KS_RDONLY). */
	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[T_CERTINFO], &c)) != 0)
		return (ks_maperr(rc));
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if ((rc = certinfo_decode(k.mv_data, k.mv_size, &v, &ci)) !=
		    KS_OK)
			break;
		if (!(ci.flags & KS_CERT_SUPERSEDED) ||
		    strcmp(ci.successor, fpr) != 0)
			continue;
		if ((rc = cb(&ci, arg)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return (rc == MDB_NOTFOUND ? KS_OK : ks_maperr(rc));
}

int
ks_revoc_put(struct ks_txn *t, const char *fpr, const void *data,
    size_t len)
{
	unsigned	 counts[64], i;
	int		 rc;

	if (!fpr_valid(fpr))
		return (KS_INVALID);
	if ((rc = check_pgp(data, len, KS_BLOB_MAX)) != KS_OK)
		return (rc);
	(void)ks_pgp_scan(data, len, counts);
	for (i = 0; i < 64; i++)
		if (i != 2 && counts[i] != 0)
			return (KS_INVALID);
	return (tput(t, T_REVOCS, fpr, strlen(fpr), data, len, 0));
}

int
ks_revoc_get(struct ks_txn *t, const char *fpr, struct ks_blob *out)
{
	MDB_val	 v;
	int	 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = tget(t, T_REVOCS, fpr, strlen(fpr), &v)) != KS_OK)
		return (rc);
	return (copyout(v.mv_data, v.mv_size, out));
}

int
ks_revoc_del(struct ks_txn *t, const char *fpr)
{
	return (tdel(t, T_REVOCS, fpr, strlen(fpr)));
}

/*
 * Tokens of the admin API.  tokens: name -> v1: u8 1, u8 flags, u16 0,
 * i64 ctime, u8[KS_TOKEN_HASH_LEN] hash, u8 ndomains, then each domain
 * as u8 len + bytes.
 */

static int
token_name_ok(const char *name)
{
	size_t	 len = strnlen(name, KS_TOKEN_NAME_MAX);

	return (len > 0 && len < KS_TOKEN_NAME_MAX);
}

static int
token_decode(const MDB_val *k, const MDB_val *v, struct ks_token *tk)
{
	const unsigned char	*p = v->mv_data, *end = p + v->mv_size;
	size_t			 i, len;

	memset(tk, 0, sizeof(*tk));
	if (k->mv_size == 0 || k->mv_size >= KS_TOKEN_NAME_MAX ||
	    memchr(k->mv_data, '\0', k->mv_size) != NULL ||
	    v->mv_size < 13 + KS_TOKEN_HASH_LEN || p[0] != 1)
		return (KS_CORRUPT);
	memcpy(tk->name, k->mv_data, k->mv_size);
	tk->flags = p[1];
	tk->ctime = get_i64(p + 4);
	memcpy(tk->hash, p + 12, KS_TOKEN_HASH_LEN);
	tk->ndomains = p[12 + KS_TOKEN_HASH_LEN];
	if (tk->ndomains > KS_TOKEN_DOMAINS)
		return (KS_CORRUPT);
	p += 13 + KS_TOKEN_HASH_LEN;
	for (i = 0; i < tk->ndomains; i++) {
		if (p >= end || (len = *p++) == 0 || len >= KS_DOMAIN_MAX ||
		    (size_t)(end - p) < len || memchr(p, '\0', len) != NULL)
			return (KS_CORRUPT);
		memcpy(tk->domains[i], p, len);
		p += len;
	}
	return (p == end ? KS_OK : KS_CORRUPT);
}

int
ks_token_put(struct ks_txn *t, const struct ks_token *tk)
{
	unsigned char	 rec[13 + KS_TOKEN_HASH_LEN +
			    KS_TOKEN_DOMAINS * KS_DOMAIN_MAX], *p;
	size_t		 i, len;

	if (!t->ks->tokens)
		return (KS_RDONLYERR);
	if (!token_name_ok(tk->name) || tk->ndomains > KS_TOKEN_DOMAINS ||
	    (tk->flags & ~KS_TOKEN_RDONLY) != 0)
		return (KS_INVALID);
	memset(rec, 0, 13 + KS_TOKEN_HASH_LEN);
	rec[0] = 1;
	rec[1] = tk->flags;
	put_i64(rec + 4, tk->ctime);
	memcpy(rec + 12, tk->hash, KS_TOKEN_HASH_LEN);
	rec[12 + KS_TOKEN_HASH_LEN] = tk->ndomains;
	p = rec + 13 + KS_TOKEN_HASH_LEN;
	for (i = 0; i < tk->ndomains; i++) {
		len = strnlen(tk->domains[i], KS_DOMAIN_MAX);
		if (len == 0 || len >= KS_DOMAIN_MAX)
			return (KS_INVALID);
		*p++ = len;
		memcpy(p, tk->domains[i], len);
		p += len;
	}
	return (tput(t, T_TOKENS, tk->name, strlen(tk->name), rec, p - rec,
	    MDB_NOOVERWRITE));
}

int
ks_token_get(struct ks_txn *t, const char *name, struct ks_token *tk)
{
	MDB_val	 k, v;
	int	 rc;

	memset(tk, 0, sizeof(*tk));
	if (!t->ks->tokens)
		return (KS_NOTFOUND);
	if (!token_name_ok(name))
		return (KS_INVALID);
	if ((rc = tget(t, T_TOKENS, name, strlen(name), &v)) != KS_OK)
		return (rc);
	mkval(&k, name, strlen(name));
	return (token_decode(&k, &v, tk));
}

int
ks_token_del(struct ks_txn *t, const char *name)
{
	if (!t->ks->tokens)
		return (KS_NOTFOUND);
	if (!token_name_ok(name))
		return (KS_INVALID);
	return (tdel(t, T_TOKENS, name, strlen(name)));
}

int
ks_token_foreach(struct ks_txn *t,
    int (*cb)(const struct ks_token *, void *), void *arg)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	struct ks_token	*tk;
	int		 rc;

	if (!t->ks->tokens)
		return (KS_OK);
	if ((tk = ks_malloc(sizeof(*tk))) == NULL)
		return (ENOMEM);
	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[T_TOKENS], &c)) != 0) {
		free(tk);
		return (ks_maperr(rc));
	}
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if ((rc = token_decode(&k, &v, tk)) != KS_OK)
			break;
		if ((rc = cb(tk, arg)) != 0)
			break;
	}
	mdb_cursor_close(c);
	free(tk);
	return (rc == MDB_NOTFOUND ? KS_OK : ks_maperr(rc));
}

/* Audit log. */

static unsigned char *
put_str(unsigned char *p, const char *s, size_t max)
{
	size_t	 len = strnlen(s, max - 1);

	put_u16(p, len);
	memcpy(p + 2, s, len);
	return (p + 2 + len);
}

static const unsigned char *
get_str(const unsigned char *p, const unsigned char *end, char *s,
    size_t max)
{
	size_t	 len;

	if (p == NULL || end - p < 2)
		return (NULL);
	len = get_u16(p);
	if (len >= max || (size_t)(end - p - 2) < len)
		return (NULL);
	memcpy(s, p + 2, len);
	s[len] = '\0';
	return (p + 2 + len);
}

int
ks_log_append(struct ks_txn *t, struct ks_logent *e)
{
	unsigned char	 rec[1 + 8 + 4 * 2 + sizeof(e->user) + sizeof(e->cmd) +
			    sizeof(e->subject) + sizeof(e->detail)], *p;
	unsigned char	 key[8];
	MDB_cursor	*c;
	MDB_val		 k, v;
	uint64_t	 seq = 0;
	int		 rc, i;

	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[T_LOG], &c)) != 0)
		return (ks_maperr(rc));
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8)
		for (i = 0; i < 8; i++)
			seq = seq << 8 | ((unsigned char *)k.mv_data)[i];
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (ks_maperr(rc));
	e->seq = seq + 1;
	if (e->time == 0)
		e->time = time(NULL);
	for (i = 0; i < 8; i++)
		key[i] = (e->seq >> (56 - 8 * i)) & 0xff;
	rec[0] = 1;
	put_i64(rec + 1, e->time);
	p = put_str(rec + 9, e->user, sizeof(e->user));
	p = put_str(p, e->cmd, sizeof(e->cmd));
	p = put_str(p, e->subject, sizeof(e->subject));
	p = put_str(p, e->detail, sizeof(e->detail));
	return (tput(t, T_LOG, key, sizeof(key), rec, p - rec,
	    MDB_NOOVERWRITE));
}

static int
log_decode(const MDB_val *k, const MDB_val *v, struct ks_logent *e)
{
	const unsigned char	*p = v->mv_data, *end = p + v->mv_size;
	size_t			 i;

	memset(e, 0, sizeof(*e));
	if (k->mv_size != 8 || v->mv_size < 9 || p[0] != 1)
		return (KS_CORRUPT);
	for (i = 0; i < 8; i++)
		e->seq = e->seq << 8 | ((const unsigned char *)k->mv_data)[i];
	e->time = get_i64(p + 1);
	p = get_str(p + 9, end, e->user, sizeof(e->user));
	p = get_str(p, end, e->cmd, sizeof(e->cmd));
	p = get_str(p, end, e->subject, sizeof(e->subject));
	p = get_str(p, end, e->detail, sizeof(e->detail));
	return (p == end ? KS_OK : KS_CORRUPT);
}

int
ks_log_foreach(struct ks_txn *t, int64_t since,
    int (*cb)(const struct ks_logent *, void *), void *arg)
{
	return (ks_log_after(t, 0, since, cb, arg));
}

int
ks_log_after(struct ks_txn *t, uint64_t after, int64_t since,
    int (*cb)(const struct ks_logent *, void *), void *arg)
{
	MDB_cursor		*c;
	MDB_val			 k, v;
	struct ks_logent	*e;
	unsigned char		 key[8];
	uint64_t		 from = after + 1;
	int			 rc, i;

	if (after == UINT64_MAX)
		return (KS_OK);
	if ((e = ks_malloc(sizeof(*e))) == NULL)
		return (ENOMEM);
	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[T_LOG], &c)) != 0) {
		free(e);
		return (ks_maperr(rc));
	}
	/* Keys are sequence numbers, big-endian: the first after after. */
	for (i = 0; i < 8; i++)
		key[i] = (from >> (56 - 8 * i)) & 0xff;
	k.mv_size = sizeof(key);
	k.mv_data = key;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if ((rc = log_decode(&k, &v, e)) != KS_OK)
			break;
		if (e->time < since)
			continue;
		if ((rc = cb(e, arg)) != 0)
			break;
	}
	mdb_cursor_close(c);
	free(e);
	return (rc == MDB_NOTFOUND ? KS_OK : ks_maperr(rc));
}

int
ks_log_prune(struct ks_txn *t, int64_t before, size_t *np)
{
	MDB_cursor		*c;
	MDB_val			 k, v;
	struct ks_logent	*e;
	uint64_t		 last;
	int			 rc;

	*np = 0;
	if ((e = ks_malloc(sizeof(*e))) == NULL)
		return (ENOMEM);
	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[T_LOG], &c)) != 0) {
		free(e);
		return (ks_maperr(rc));
	}
	/*
	 * Oldest first, up to the first entry at or after before; the newest
	 * entry stays, so that sequence numbers are never reused.
	 */
	if ((rc = mdb_cursor_get(c, &k, &v, MDB_LAST)) != 0 ||
	    (rc = log_decode(&k, &v, e)) != KS_OK)
		goto out;
	last = e->seq;
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) == 0) {
		if ((rc = log_decode(&k, &v, e)) != KS_OK)
			break;
		if (e->seq == last || e->time >= before)
			break;
		if (KS_FAULT_HIT()) {
			rc = KS_FAULT;
			break;
		}
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		(*np)++;
	}
out:
	mdb_cursor_close(c);
	free(e);
	return (rc == MDB_NOTFOUND ? KS_OK : ks_maperr(rc));
}

int
ks_cert_foreach(struct ks_txn *t,
    int (*cb)(const char *, const unsigned char *, size_t, void *),
    void *arg)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	char		 fpr[KS_FPR_MAX];
	int		 rc;

	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[T_CERTS], &c)) != 0)
		return (ks_maperr(rc));
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if (k.mv_size >= sizeof(fpr)) {
			rc = KS_CORRUPT;
			break;
		}
		memcpy(fpr, k.mv_data, k.mv_size);
		fpr[k.mv_size] = '\0';
		if ((rc = cb(fpr, v.mv_data, v.mv_size, arg)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return (rc == MDB_NOTFOUND ? KS_OK : ks_maperr(rc));
}

/* Has certificate data a User ID naming addr? */
static int
cert_names(const unsigned char *data, size_t len, const char *addr)
{
	struct ks_pkt	 pkt;
	char		 a[KS_ADDR_MAX];
	size_t		 off = 0;

	while (ks_pgp_next(data, len, &off, &pkt) == 1)
		if (pkt.tag == KS_PKT_UID && ks_uid_addr((const char *)
		    pkt.body, pkt.bodylen, a, sizeof(a)) == KS_OK &&
		    strcmp(a, addr) == 0)
			return (1);
	return (0);
}

/* A ks_cert_foreach_addr() walk: the callback, its argument, the address. */
struct cert_walk {
	int		(*cb)(const char *, const unsigned char *, size_t,
			    void *);
	void		*arg;
	const char	*addr;
};

/* Without the index (format 1, KS_RDONLY): a scan. */
static int
cert_scan_cb(const char *fpr, const unsigned char *data, size_t len,
    void *arg)
{
	struct cert_walk	*w = arg;

	if (!cert_names(data, len, w->addr))
		return (0);
	return (w->cb(fpr, data, len, w->arg));
}

int
ks_cert_foreach_addr(struct ks_txn *t, const char *addr,
    int (*cb)(const char *, const unsigned char *, size_t, void *),
    void *arg)
{
	struct cert_walk	 w;
	struct rec_walk		 rw = { .cert_cb = cb, .arg = arg };

	w.cb = cb;
	w.arg = arg;
	w.addr = addr;
	if (!t->ks->indexed)
		return (ks_cert_foreach(t, cert_scan_cb, &w));
	return (ix_walk(t, T_UIDADDR, addr, rec_walk_cb, &rw));
}

/* The wkd table's key: "domain/hash". */
static int
wkd_key(const char *domain, const char *hash, char *buf, size_t bufsz,
    size_t *len)
{
	int	 n;

	if (!ks_hash_valid(hash, strlen(hash)) || domain[0] == '\0' ||
	    strchr(domain, '/') != NULL)
		return (KS_INVALID);
	n = snprintf(buf, bufsz, "%s/%s", domain, hash);
	if (n < 0 || (size_t)n >= bufsz)
		return (KS_INVALID);
	*len = n;
	return (KS_OK);
}

/*
 * A strong ETag for bytes, made when they are stored (80 bits of their
 * SHA-1, quoted), so that no request has to hash them.  tag gets the 18
 * characters and a NUL.
 */
#define ETAG_LEN	18

static int
etag_make(const void *data, size_t len, char tag[ETAG_LEN + 1])
{
	unsigned char	 digest[20];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, data, len, digest) != 0)
		return (KS_INVALID);
	tag[0] = '"';
	(void)ks_zb32_encode(digest, 10, tag + 1, ETAG_LEN - 1);
	tag[ETAG_LEN - 1] = '"';
	tag[ETAG_LEN] = '\0';
	return (KS_OK);
}

/* Put bytes after their ETag: u8 1, u8 etaglen, etag, bytes (mtasts). */
static int
tput_etag(struct ks_txn *t, enum ks_table tb, const char *key, size_t klen,
    const void *data, size_t len)
{
	unsigned char	*rec;
	char		 tag[ETAG_LEN + 1];
	int		 rc;

	if ((rc = etag_make(data, len, tag)) != KS_OK)
		return (rc);
	if ((rec = ks_malloc(2 + ETAG_LEN + len)) == NULL)
		return (ENOMEM);
	rec[0] = 1;
	rec[1] = ETAG_LEN;
	memcpy(rec + 2, tag, ETAG_LEN);
	if (len > 0)
		memcpy(rec + 2 + ETAG_LEN, data, len);
	rc = tput(t, tb, key, klen, rec, 2 + ETAG_LEN + len, 0);
	free(rec);
	return (rc);
}

/*
 * The bytes of published keys (format 3).  LMDB keeps a value bigger
 * than about half a page (mdb.c: me_nodemax, ((page - PAGEHDRSZ) / 2 &
 * ~1) - 2 bytes with its key and 8-byte node header) on overflow pages of
 * its own, whole pages: a run of n pages holds n * page - PAGEHDRSZ bytes
 * (OVPAGES(), one 16-byte header on the first).  Most of Debian's one-UID
 * blobs are 2 to 4 KB, so a value each took a 4 KB page for ~2.2 KB.
 * Instead each key's bytes are a run of records in the blobs table, under
 * consecutive 8-byte big-endian sequence numbers, always appended after
 * the last (MDB_APPEND: a full leaf page is left full, not split in two):
 *   - the owner: the wkd key whose bytes these are (for the cleaner);
 *   - a head of n * page - PAGEHDRSZ bytes, exactly n overflow pages, if
 *     there are that many;
 *   - the rest (under a page) in pieces of at most a quarter of a page,
 *     inline in the leaf pages, which the appends pack;
 *   - unless the rest is within a sixteenth of a page of a page: then
 *     the head takes it all (its last page at most 1/16 empty).
 * The wkd record holds the ETag, the length, the first sequence number
 * and the number of records: a read is two descents (wkd, blobs), then
 * the run's next records by the cursor.  A replaced or deleted key's
 * records are deleted, and blob_clean() moves the oldest runs to the end
 * so that the holes don't stay.
 *
 * wkd records: v1 (formats 1 and 2): u8 1, u8 etaglen, etag, bytes;
 * v2: u8 2, u8 etaglen, etag, u32 len, u64 seq, u16 nrec.  Both are read,
 * so that a format 2 store is served as it is and a conversion can go a
 * batch a transaction.
 */
#define PAGEHDRSZ	16	/* mdb.c: the header of a page. */
#define SEQ_LEN		8

struct blob_ref {
	uint64_t	 seq;	/* Of the first record. */
	uint32_t	 len;
	uint16_t	 nrec;
};

struct wkd_rec {
	int			 v;		/* 1: inline; 2: ref. */
	char			 etag[KS_ETAG_MAX];
	const unsigned char	*data;		/* v1, into the map. */
	size_t			 len;		/* v1 */
	struct blob_ref		 ref;		/* v2 */
};

#define WKD_V2_LEN	(2 + ETAG_LEN + 4 + 8 + 2)

static void
seq_key(unsigned char k[SEQ_LEN], uint64_t seq)
{
	int	 i;

	for (i = 0; i < SEQ_LEN; i++)
		k[i] = (seq >> (56 - 8 * i)) & 0xff;
}

static uint64_t
seq_get(const MDB_val *k)
{
	const unsigned char	*p = k->mv_data;
	uint64_t		 seq = 0;
	int			 i;

	for (i = 0; i < SEQ_LEN; i++)
		seq = seq << 8 | p[i];
	return (seq);
}

/*
 * How a blob of len bytes is cut for pages of psize bytes: *head bytes
 * on overflow pages (0: none), then *npieces pieces, sizes as even as can
 * be, of the rest.
 */
static void
blob_layout(size_t psize, size_t len, size_t *head, size_t *npieces)
{
	size_t	 n = (len + PAGEHDRSZ) / psize, rest, piece = psize / 4;

	*head = n > 0 ? n * psize - PAGEHDRSZ : 0;
	rest = len - *head;
	if (rest > psize - PAGEHDRSZ - psize / 16) {
		*head = len;
		rest = 0;
	}
	*npieces = (rest + piece - 1) / piece;
}

/*
 * Append the run of wkd key key (klen bytes) holding data (len bytes) to
 * the blobs table: its owner record (the key), then the data's; *ref
 * says where.
 */
static int
blob_append(struct ks_txn *t, const char *key, size_t klen,
    const unsigned char *data, size_t len, struct blob_ref *ref)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	unsigned char	 kb[SEQ_LEN];
	size_t		 head, np, rest, off, i, sz;
	uint64_t	 seq = 1;
	int		 rc;

	if (len > UINT32_MAX)
		return (KS_TOOBIG);
	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[T_BLOBS], &c)) != 0)
		return (ks_maperr(rc));
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == 0 && k.mv_size == SEQ_LEN)
		seq = seq_get(&k) + 1;
	else if (rc == 0)
		return (KS_CORRUPT);
	else if (rc != MDB_NOTFOUND)
		return (ks_maperr(rc));
	blob_layout(t->ks->psize, len, &head, &np);
	ref->seq = seq;
	ref->len = len;
	ref->nrec = 1 + (head > 0) + np;
	rest = len - head;
	seq_key(kb, seq);
	mkval(&k, kb, sizeof(kb));
	mkval(&v, key, klen);
	if ((rc = db_put(t->txn, t->ks->dbi[T_BLOBS], &k, &v,
	    MDB_APPEND)) != 0)
		return (ks_maperr(rc));
	for (i = 1, off = 0; i < ref->nrec; i++, off += sz) {
		if (head > 0 && i == 1)
			sz = head;
		else
			sz = rest / np + ((i - 1 - (head > 0)) < rest % np);
		seq_key(kb, seq + i);
		mkval(&k, kb, sizeof(kb));
		mkval(&v, data + off, sz);
		if ((rc = db_put(t->txn, t->ks->dbi[T_BLOBS], &k, &v,
		    MDB_APPEND)) != 0)
			return (ks_maperr(rc));
	}
	return (KS_OK);
}

/*
 * Copy the blob ref names into out (data malloc'ed); its owner record
 * must name wkd key key (klen bytes).
 */
static int
blob_read(struct ks_txn *t, const char *key, size_t klen,
    const struct blob_ref *ref, struct ks_blob *out)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	unsigned char	 kb[SEQ_LEN];
	size_t		 off = 0;
	unsigned	 i;
	int		 rc = 0;

	if (ref->nrec == 0)
		return (KS_CORRUPT);
	if ((out->data = ks_malloc(ref->len)) == NULL)
		return (ENOMEM);
	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[T_BLOBS], &c)) != 0)
		goto fail;
	seq_key(kb, ref->seq);
	mkval(&k, kb, sizeof(kb));
	for (i = 0; i < ref->nrec; i++) {
		if ((rc = mdb_cursor_get(c, &k, &v, i == 0 ? MDB_SET_KEY :
		    MDB_NEXT)) != 0)
			break;
		if (k.mv_size != SEQ_LEN || seq_get(&k) != ref->seq + i ||
		    (i == 0 && (v.mv_size != klen ||
		    memcmp(v.mv_data, key, klen) != 0)) ||
		    (i > 0 && v.mv_size > ref->len - off)) {
			rc = KS_CORRUPT;
			break;
		}
		if (i == 0)
			continue;
		memcpy(out->data + off, v.mv_data, v.mv_size);
		off += v.mv_size;
	}
	mdb_cursor_close(c);
	if (rc == 0 && off != ref->len)
		rc = KS_CORRUPT;
	if (rc == 0) {
		out->len = off;
		return (KS_OK);
	}
fail:
	free(out->data);
	out->data = NULL;
	return (rc == MDB_NOTFOUND ? KS_CORRUPT : ks_maperr(rc));
}

/* Delete the records of blob ref. */
static int
blob_del(struct ks_txn *t, const struct blob_ref *ref)
{
	unsigned char	 kb[SEQ_LEN];
	unsigned	 i;
	int		 rc;

	for (i = 0; i < ref->nrec; i++) {
		seq_key(kb, ref->seq + i);
		if ((rc = tdel(t, T_BLOBS, kb, sizeof(kb))) != KS_OK)
			return (rc == KS_NOTFOUND ? KS_CORRUPT : rc);
	}
	return (KS_OK);
}

/* Decode wkd record v (either version) into *r. */
static int
wkd_parse(struct ks_txn *t, const MDB_val *v, struct wkd_rec *r)
{
	const unsigned char	*p = v->mv_data;
	size_t			 elen;

	memset(r, 0, sizeof(*r));
	if (v->mv_size < 2 || (p[0] != 1 && p[0] != 2))
		return (KS_CORRUPT);
	r->v = p[0];
	elen = p[1];
	if (elen >= sizeof(r->etag) || v->mv_size < 2 + elen)
		return (KS_CORRUPT);
	memcpy(r->etag, p + 2, elen);
	r->etag[elen] = '\0';
	if (r->v == 1) {
		r->data = p + 2 + elen;
		r->len = v->mv_size - 2 - elen;
		return (KS_OK);
	}
	if (v->mv_size != 2 + elen + 14 || !t->ks->blobs)
		return (KS_CORRUPT);
	p += 2 + elen;
	r->ref.len = get_u32(p);
	r->ref.seq = (uint64_t)get_u32(p + 4) | (uint64_t)get_u32(p + 8) << 32;
	r->ref.nrec = get_u16(p + 12);
	/*
	 * ks_wkd_put() stores no more than KS_BLOB_MAX: a bigger length is
	 * damage, not a size to allocate (fuzz_backup: 4 GiB).
	 */
	if (r->ref.len == 0 || r->ref.len > KS_BLOB_MAX)
		return (KS_CORRUPT);
	return (KS_OK);
}

/* The bytes of wkd record r, of key key (klen bytes), into out. */
static int
wkd_bytes(struct ks_txn *t, const char *key, size_t klen,
    const struct wkd_rec *r, struct ks_blob *out)
{
	int	 rc;

	if (r->v == 1)
		rc = copyout(r->data, r->len, out);
	else
		rc = blob_read(t, key, klen, &r->ref, out);
	if (rc == KS_OK)
		memcpy(out->etag, r->etag, sizeof(out->etag));
	return (rc);
}

/* The blob of the wkd record v, about to go, deleted. */
static int
wkd_unref(struct ks_txn *t, const MDB_val *v)
{
	struct wkd_rec	 r;
	int		 rc;

	if ((rc = wkd_parse(t, v, &r)) != KS_OK)
		return (rc);
	return (r.v == 2 ? blob_del(t, &r.ref) : KS_OK);
}

/* Append data as key's run and point key's v2 record at it. */
static int
wkd_append(struct ks_txn *t, const char *key, size_t klen, const char *etag,
    const void *data, size_t len)
{
	struct blob_ref	 ref;
	unsigned char	 rec[WKD_V2_LEN];
	int		 rc;

	if ((rc = blob_append(t, key, klen, data, len, &ref)) != KS_OK)
		return (rc);
	rec[0] = 2;
	rec[1] = ETAG_LEN;
	memcpy(rec + 2, etag, ETAG_LEN);
	put_u32(rec + 2 + ETAG_LEN, ref.len);
	put_u32(rec + 2 + ETAG_LEN + 4, ref.seq & 0xffffffff);
	put_u32(rec + 2 + ETAG_LEN + 8, ref.seq >> 32);
	put_u16(rec + 2 + ETAG_LEN + 12, ref.nrec);
	return (tput(t, T_WKD, key, klen, rec, sizeof(rec), 0));
}

/*
 * The cleaner.  A replaced or deleted key leaves a hole in the leaf
 * pages of the blobs table, and appends go at the end: left alone, the
 * table's fill would fall as keys are replaced (to ~0.6 after every key
 * was replaced once).  So each hole made moves the CLEAN_RUNS oldest runs
 * (the first of the table) to the end, as a log-structured store cleans:
 * the table is rewritten from the front, pages emptied there are freed,
 * and a run lives ~N / CLEAN_RUNS holes before it is moved again, so that
 * the table stays ~c(1 - e^(-1/c)) full (0.88 for c = 4) whatever the
 * churn, for c runs copied per replace.  A store that is only added to
 * moves nothing.
 */
static int
blob_clean(struct ks_txn *t, size_t n)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	struct wkd_rec	 r;
	struct ks_blob	 b;
	char		 key[KS_LMDB_KEY_MAX];
	size_t		 klen;
	uint64_t	 seq;
	int		 rc;

	for (; n > 0; n--) {
		if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[T_BLOBS],
		    &c)) != 0)
			return (ks_maperr(rc));
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		if (rc == 0 && (k.mv_size != SEQ_LEN || v.mv_size == 0 ||
		    v.mv_size > sizeof(key)))
			rc = KS_CORRUPT;
		if (rc == 0) {
			seq = seq_get(&k);
			klen = v.mv_size;
			memcpy(key, v.mv_data, klen);
		}
		mdb_cursor_close(c);
		if (rc == MDB_NOTFOUND)
			return (KS_OK);
		if (rc != 0)
			return (ks_maperr(rc));
		/* The first record of a run is its owner's key. */
		if ((rc = tget(t, T_WKD, key, klen, &v)) != KS_OK ||
		    (rc = wkd_parse(t, &v, &r)) != KS_OK)
			return (rc == KS_NOTFOUND ? KS_CORRUPT : rc);
		if (r.v != 2 || r.ref.seq != seq)
			return (KS_CORRUPT);
		if ((rc = blob_read(t, key, klen, &r.ref, &b)) != KS_OK)
			return (rc);
		if ((rc = blob_del(t, &r.ref)) == KS_OK)
			rc = wkd_append(t, key, klen, r.etag, b.data, b.len);
		ks_blob_free(&b);
		if (rc != KS_OK)
			return (rc);
	}
	return (KS_OK);
}

/*
 * Store data (len bytes) with ETag etag under wkd key key as a v2
 * record: the bytes appended to the blobs table, the old record's blob
 * deleted (and the cleaner run), or nothing done if the same bytes are
 * there already.
 */
static int
wkd_write(struct ks_txn *t, const char *key, size_t klen, const char *etag,
    const void *data, size_t len)
{
	struct wkd_rec	 old;
	struct ks_blob	 b;
	MDB_val		 v;
	int		 rc, same, hole = 0;

	if (!t->ks->blobs)
		return (KS_VERSION);
	if ((rc = tget(t, T_WKD, key, klen, &v)) == KS_OK) {
		if ((rc = wkd_parse(t, &v, &old)) != KS_OK)
			return (rc);
		if (old.v == 2 && old.ref.len == len &&
		    strcmp(old.etag, etag) == 0) {
			if ((rc = blob_read(t, key, klen, &old.ref, &b)) !=
			    KS_OK)
				return (rc);
			same = memcmp(b.data, data, len) == 0;
			ks_blob_free(&b);
			if (same)
				return (KS_OK);
		}
		if (old.v == 2 && (rc = blob_del(t, &old.ref)) != KS_OK)
			return (rc);
		hole = old.v == 2;
	} else if (rc != KS_NOTFOUND)
		return (rc);
	if ((rc = wkd_append(t, key, klen, etag, data, len)) != KS_OK)
		return (rc);
	return (hole ? blob_clean(t, CLEAN_RUNS) : KS_OK);
}

int
ks_wkd_put(struct ks_txn *t, const char *domain, const char *hash,
    const void *data, size_t len)
{
	char		 key[KS_DOMAIN_MAX + KS_HASH_LEN + 2];
	char		 tag[ETAG_LEN + 1];
	size_t		 klen;
	int		 rc;

	if ((rc = wkd_key(domain, hash, key, sizeof(key), &klen)) != KS_OK)
		return (rc);
	if ((rc = check_pgp(data, len, KS_BLOB_MAX)) != KS_OK)
		return (rc);
	if ((rc = etag_make(data, len, tag)) != KS_OK)
		return (rc);
	/* New bytes: the facts of the old ones no longer hold. */
	if ((rc = facts_drop(t, key, klen)) != KS_OK)
		return (rc);
	return (wkd_write(t, key, klen, tag, data, len));
}

static int
etag_decode(const MDB_val *v, struct ks_blob *out)
{
	const unsigned char	*p = v->mv_data;
	size_t			 elen;

	if (v->mv_size < 2 || p[0] != 1)
		return (KS_CORRUPT);
	elen = p[1];
	if (elen >= sizeof(out->etag) || v->mv_size < 2 + elen)
		return (KS_CORRUPT);
	if (copyout(p + 2 + elen, v->mv_size - 2 - elen, out) != KS_OK)
		return (ENOMEM);
	memcpy(out->etag, p + 2, elen);
	out->etag[elen] = '\0';
	return (KS_OK);
}

int
ks_wkd_get(struct ks_txn *t, const char *domain, const char *hash,
    struct ks_blob *out)
{
	struct wkd_rec	 r;
	char		 key[KS_DOMAIN_MAX + KS_HASH_LEN + 2];
	size_t		 klen;
	MDB_val		 v;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = wkd_key(domain, hash, key, sizeof(key), &klen)) != KS_OK)
		return (rc);
	if ((rc = tget(t, T_WKD, key, klen, &v)) != KS_OK)
		return (rc);
	if ((rc = wkd_parse(t, &v, &r)) != KS_OK)
		return (rc);
	return (wkd_bytes(t, key, klen, &r, out));
}

int
ks_wkd_del(struct ks_txn *t, const char *domain, const char *hash)
{
	char	 key[KS_DOMAIN_MAX + KS_HASH_LEN + 2];
	size_t	 klen;
	MDB_val	 v;
	int	 rc;

	if ((rc = wkd_key(domain, hash, key, sizeof(key), &klen)) != KS_OK)
		return (rc);
	if ((rc = tget(t, T_WKD, key, klen, &v)) != KS_OK)
		return (rc);
	if ((rc = wkd_unref(t, &v)) != KS_OK ||
	    (rc = tdel(t, T_WKD, key, klen)) != KS_OK ||
	    (rc = facts_drop(t, key, klen)) != KS_OK)
		return (rc);
	return (blob_clean(t, CLEAN_RUNS));
}

/*
 * Convert the format 2 (v1) records of wkd to v2, after an upgrade
 * (UPGRADE_KEY in meta: the key the last batch ended at), up to
 * CONVERT_BATCH records a transaction so that pages freed by one batch
 * are reused by the next and the store grows little.  Readers see either
 * version in the meantime.
 */
#define CONVERT_BATCH	4096

struct convert_key {
	size_t		 len;
	char		 k[KS_LMDB_KEY_MAX];
};

static int
wkd_convert_batch(struct ks_txn *t, struct convert_key *keys, int *end)
{
	MDB_cursor	*c;
	MDB_val		 k, v, mk;
	struct wkd_rec	 r;
	struct ks_blob	 b;
	struct convert_key last;
	size_t		 n = 0, i, seen = 0;
	int		 rc;

	*end = 0;
	mkval(&mk, UPGRADE_KEY, strlen(UPGRADE_KEY));
	if ((rc = mdb_get(t->txn, t->ks->dbi[T_META], &mk, &v)) != 0) {
		*end = rc == MDB_NOTFOUND;
		return (*end ? KS_OK : ks_maperr(rc));
	}
	if (v.mv_size > sizeof(last.k))
		return (KS_CORRUPT);
	last.len = v.mv_size;
	memcpy(last.k, v.mv_data, v.mv_size);
	if ((rc = mdb_cursor_open(t->txn, t->ks->dbi[T_WKD], &c)) != 0)
		return (ks_maperr(rc));
	mkval(&k, last.k, last.len);
	rc = mdb_cursor_get(c, &k, &v, last.len == 0 ? MDB_FIRST :
	    MDB_SET_RANGE);
	while (rc == 0 && seen < CONVERT_BATCH) {
		if (k.mv_size > sizeof(last.k)) {
			rc = KS_CORRUPT;
			break;
		}
		last.len = k.mv_size;
		memcpy(last.k, k.mv_data, k.mv_size);
		if (v.mv_size > 0 && ((unsigned char *)v.mv_data)[0] == 1)
			keys[n++] = last;
		seen++;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		*end = 1;
	else if (rc != 0)
		return (ks_maperr(rc));
	for (i = 0; i < n; i++) {
		if ((rc = tget(t, T_WKD, keys[i].k, keys[i].len, &v)) !=
		    KS_OK || (rc = wkd_parse(t, &v, &r)) != KS_OK ||
		    (rc = wkd_bytes(t, keys[i].k, keys[i].len, &r, &b)) !=
		    KS_OK)
			return (rc);
		if (strlen(r.etag) != ETAG_LEN)
			rc = KS_CORRUPT;
		else
			rc = wkd_write(t, keys[i].k, keys[i].len, r.etag,
			    b.data, b.len);
		ks_blob_free(&b);
		if (rc != KS_OK)
			return (rc);
	}
	if (*end)
		return (ks_maperr(db_del(t->txn, t->ks->dbi[T_META], &mk)));
	mkval(&v, last.k, last.len);
	return (ks_maperr(db_put(t->txn, t->ks->dbi[T_META], &mk, &v, 0)));
}

static int
wkd_convert(struct ks *ks)
{
	struct convert_key	*keys;
	struct ks_txn		 t;
	int			 rc, end = 0;

	if ((keys = ks_malloc(CONVERT_BATCH * sizeof(*keys))) == NULL)
		return (ENOMEM);
	t.ks = ks;
	while (!end) {
		if ((rc = begin(ks, 0, &t.txn)) != 0) {
			rc = ks_maperr(rc);
			break;
		}
		if ((rc = wkd_convert_batch(&t, keys, &end)) != KS_OK) {
			mdb_txn_abort(t.txn);
			break;
		}
		if ((rc = ks_maperr(mdb_txn_commit(t.txn))) != KS_OK)
			break;
	}
	free(keys);
	if (rc == KS_OK)
		ks->converting = 0;
	return (rc);
}

int
ks_mtasts_put(struct ks_txn *t, const char *domain, const void *data,
    size_t len)
{
	MDB_val	 v;
	int	 rc;

	if (len > KS_POLICY_MAX)
		return (KS_TOOBIG);
	if ((rc = tget(t, T_DOMAINS, domain, strlen(domain), &v)) != KS_OK)
		return (rc);
	if (len == 0) {
		rc = tdel(t, T_MTASTS, domain, strlen(domain));
		return (rc == KS_NOTFOUND ? KS_OK : rc);
	}
	return (tput_etag(t, T_MTASTS, domain, strlen(domain), data, len));
}

/* The etag + bytes record of domain in table tb into *out. */
static int
etag_get(struct ks_txn *t, int tb, const char *domain, struct ks_blob *out)
{
	MDB_val	 v;
	int	 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = tget(t, tb, domain, strlen(domain), &v)) != KS_OK)
		return (rc);
	return (etag_decode(&v, out));
}

int
ks_mtasts_get(struct ks_txn *t, const char *domain, struct ks_blob *out)
{
	return (etag_get(t, T_MTASTS, domain, out));
}

/*
 * The last onboarding check of a domain (wkdctl domain check): JSON,
 * with an ETag as served.
 */
int
ks_check_put(struct ks_txn *t, const char *domain, const void *json,
    size_t len)
{
	MDB_val	 v;
	int	 rc;

	if (!t->ks->checks)
		return (KS_RDONLYERR);
	if (len == 0 || len > KS_CHECK_MAX)
		return (len == 0 ? KS_INVALID : KS_TOOBIG);
	if ((rc = tget(t, T_DOMAINS, domain, strlen(domain), &v)) != KS_OK)
		return (rc);
	return (tput_etag(t, T_CHECKS, domain, strlen(domain), json, len));
}

int
ks_check_get(struct ks_txn *t, const char *domain, struct ks_blob *out)
{
	if (!t->ks->checks) {
		memset(out, 0, sizeof(*out));
		return (KS_NOTFOUND);
	}
	return (etag_get(t, T_CHECKS, domain, out));
}

int
ks_check_del(struct ks_txn *t, const char *domain)
{
	if (!t->ks->checks)
		return (KS_NOTFOUND);
	return (tdel(t, T_CHECKS, domain, strlen(domain)));
}

/*
 * Facts of a published key (wkdctl computes them from the bytes it
 * publishes, so that wkdd parses no OpenPGP to describe a key): facts
 * "domain/hash" -> v1: u8 1, u8 fprlen, fpr, u16 uidlen, uid, u8 known
 * [, the state as in certinfo (state_put())].  They go with the wkd entry
 * they describe: ks_wkd_put() (other bytes) and ks_wkd_del() drop them,
 * as does ks_domain_del().
 */
#define FACTS_MAX	(1 + 1 + KS_FPR_MAX + 2 + KS_FACTS_UID_MAX + 1 + \
			    CI_STATE_MAX)

static int
facts_decode(const MDB_val *v, struct ks_facts *f)
{
	const unsigned char	*p = v->mv_data, *end = p + v->mv_size;
	size_t			 n;

	memset(f, 0, sizeof(*f));
	if (v->mv_size < 2 || p[0] != 1 || (n = p[1]) >= sizeof(f->fpr) ||
	    (size_t)(end - p) < 2 + n)
		return (KS_CORRUPT);
	memcpy(f->fpr, p + 2, n);
	p += 2 + n;
	if ((p = get_str(p, end, f->uid, sizeof(f->uid))) == NULL ||
	    end - p < 1 || p[0] > 1 || strlen(f->uid) == 0)
		return (KS_CORRUPT);
	if (p[0] == 0)
		return (p + 1 == end ? KS_OK : KS_CORRUPT);
	return (state_get(p + 1, end, &f->state));
}

static int
facts_check(const MDB_val *k, const MDB_val *v)
{
	struct ks_facts	 f;

	if (k->mv_size < KS_HASH_LEN + 2 || memchr(k->mv_data, '/',
	    k->mv_size) == NULL)
		return (KS_CORRUPT);
	return (facts_decode(v, &f));
}

/* Drop the facts of wkd key key, if any. */
static int
facts_drop(struct ks_txn *t, const char *key, size_t klen)
{
	int	rc;

	if (!t->ks->facts)
		return (KS_OK);
	rc = tdel(t, T_FACTS, key, klen);
	return (rc == KS_NOTFOUND ? KS_OK : rc);
}

int
ks_facts_put(struct ks_txn *t, const char *domain, const char *hash,
    const struct ks_facts *f)
{
	unsigned char	 buf[FACTS_MAX], *p = buf;
	char		 key[KS_DOMAIN_MAX + KS_HASH_LEN + 2];
	size_t		 klen, n, ulen;
	MDB_val		 v;
	int		 rc;

	if (!t->ks->facts)
		return (KS_RDONLYERR);
	if ((rc = wkd_key(domain, hash, key, sizeof(key), &klen)) != KS_OK)
		return (rc);
	n = strnlen(f->fpr, sizeof(f->fpr));
	ulen = strnlen(f->uid, sizeof(f->uid));
	if (!fpr_valid(f->fpr) || ulen == 0 || ulen >= sizeof(f->uid) ||
	    (f->state.known && f->state.nsub > KS_SUBKEY_MAX))
		return (KS_INVALID);
	if ((rc = tget(t, T_WKD, key, klen, &v)) != KS_OK)
		return (rc);
	*p++ = 1;
	*p++ = n;
	memcpy(p, f->fpr, n);
	p = put_str(p + n, f->uid, sizeof(f->uid));
	*p++ = f->state.known ? 1 : 0;
	if (f->state.known)
		p += state_put(p, &f->state);
	return (tput(t, T_FACTS, key, klen, buf, p - buf, 0));
}

int
ks_facts_get(struct ks_txn *t, const char *domain, const char *hash,
    struct ks_facts *out)
{
	char	 key[KS_DOMAIN_MAX + KS_HASH_LEN + 2];
	size_t	 klen;
	MDB_val	 v;
	int	 rc;

	memset(out, 0, sizeof(*out));
	if (!t->ks->facts)
		return (KS_NOTFOUND);
	if ((rc = wkd_key(domain, hash, key, sizeof(key), &klen)) != KS_OK)
		return (rc);
	if ((rc = tget(t, T_FACTS, key, klen, &v)) != KS_OK)
		return (rc);
	return (facts_decode(&v, out));
}

/* One-shot reads for the daemon. */

/*
 * Begin the read transaction of a one-shot read into t.  A domain (unless
 * NULL) that can't be a table key is simply not there.
 */
static int
oneshot(struct ks *ks, const char *domain, struct ks_txn *t)
{
	if (domain != NULL && (domain[0] == '\0' ||
	    strlen(domain) >= KS_DOMAIN_MAX))
		return (KS_NOTFOUND);
	t->ks = ks;
	return (ks_maperr(begin(ks, MDB_RDONLY, &t->txn)));
}

int
ks_serve_key(struct ks *ks, const char *domain, const char *hash,
    struct ks_blob *out)
{
	struct ks_txn	 t;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = oneshot(ks, NULL, &t)) != KS_OK)
		return (rc);
	rc = ks_wkd_get(&t, domain, hash, out);
	mdb_txn_abort(t.txn);
	return (rc);
}

int
ks_serve_policy(struct ks *ks, const char *domain, struct ks_blob *out)
{
	struct ks_txn	 t;
	MDB_val		 v;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = oneshot(ks, domain, &t)) != KS_OK)
		return (rc);
	if ((rc = tget(&t, T_DOMAINS, domain, strlen(domain), &v)) == KS_OK &&
	    (rc = tget(&t, T_POLICY, domain, strlen(domain), &v)) == KS_OK)
		rc = copyout(v.mv_data, v.mv_size, out);
	mdb_txn_abort(t.txn);
	return (rc);
}

int
ks_has_domain(struct ks *ks, const char *domain)
{
	struct ks_txn	 t;
	MDB_val		 v;
	int		 rc;

	if ((rc = oneshot(ks, domain, &t)) != KS_OK)
		return (rc);
	rc = tget(&t, T_DOMAINS, domain, strlen(domain), &v);
	mdb_txn_abort(t.txn);
	return (rc);
}

int
ks_serve_mtasts(struct ks *ks, const char *domain, struct ks_blob *out)
{
	struct ks_txn	 t;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = oneshot(ks, domain, &t)) != KS_OK)
		return (rc);
	rc = ks_mtasts_get(&t, domain, out);
	mdb_txn_abort(t.txn);
	return (rc);
}

int
ks_stats(struct ks *ks, struct ks_stats *st)
{
	struct stat	 now, opened;
	MDB_envinfo	 info;
	MDB_stat	 ms;
	MDB_cursor	*c;
	MDB_txn		*txn;
	MDB_val		 k, v;
	const char	*dir;
	char		 path[4096];
	mdb_filehandle_t fd;
	int		 rc;

	memset(st, 0, sizeof(*st));
	st->changed = -1;
	if ((rc = begin(ks, MDB_RDONLY, &txn)) != 0)
		return (ks_maperr(rc));
	if ((rc = mdb_env_info(ks->env, &info)) != 0 ||
	    (rc = mdb_env_stat(ks->env, &ms)) != 0)
		goto abort;
	st->page_bytes = ms.ms_psize;
	st->map_bytes = info.me_mapsize;
	st->used_bytes = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
	st->txnid = mdb_txn_id(txn);
	st->readers = info.me_numreaders;
	st->max_readers = info.me_maxreaders;
	if ((rc = mdb_stat(txn, ks->dbi[T_DOMAINS], &ms)) != 0)
		goto abort;
	st->domains = ms.ms_entries;
	if ((rc = mdb_stat(txn, ks->dbi[T_ADDRS], &ms)) != 0)
		goto abort;
	st->addresses = ms.ms_entries;
	if ((rc = mdb_stat(txn, ks->dbi[T_WKD], &ms)) != 0)
		goto abort;
	st->wkd = ms.ms_entries;
	if ((rc = mdb_stat(txn, ks->dbi[T_CERTS], &ms)) != 0)
		goto abort;
	st->certs = ms.ms_entries;
	st->published = UINT64_MAX;
	/* A DUPSORT table's entries are its (fpr, address) pairs. */
	if (ks->indexed) {
		if ((rc = mdb_stat(txn, ks->dbi[T_ADDR_KEY], &ms)) != 0)
			goto abort;
		st->published = ms.ms_entries;
	}
	if ((rc = mdb_cursor_open(txn, ks->dbi[T_LOG], &c)) != 0)
		goto abort;
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0 && v.mv_size >= 9)
		st->changed = get_i64((const unsigned char *)v.mv_data + 1);
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto abort;
	mdb_txn_abort(txn);

	st->ondisk = KS_OK;
	if (mdb_env_get_path(ks->env, &dir) != 0 ||
	    mdb_env_get_fd(ks->env, &fd) != 0 || fstat(fd, &opened) == -1)
		return (KS_OK);
	if ((size_t)snprintf(path, sizeof(path), "%s/data.mdb", dir) >=
	    sizeof(path))
		st->ondisk = ENAMETOOLONG;
	else if (stat(path, &now) == -1)
		st->ondisk = errno;
	else if (now.st_dev != opened.st_dev || now.st_ino != opened.st_ino)
		st->ondisk = ESTALE;
	return (KS_OK);
abort:
	mdb_txn_abort(txn);
	return (ks_maperr(rc));
}

/*
 * Build the indexes of a format 1 store from its tables, in txn (see the
 * top): each emptied first, then filled by one walk of each table.
 */
static int
index_build(struct ks *ks, MDB_txn *txn)
{
	struct ks_txn		 t;
	struct ks_addr		 a;
	struct ks_certinfo	 ci;
	MDB_cursor		*c = NULL;
	MDB_val			 k, v;
	char			 fpr[KS_FPR_MAX];
	int			 rc, i;

	t.ks = ks;
	t.txn = txn;
	for (i = T_INDEX; i < T_CORE; i++)
		if ((rc = mdb_drop(txn, ks->dbi[i], 0)) != 0)
			return (ks_maperr(rc));
	if ((rc = mdb_cursor_open(txn, ks->dbi[T_ADDRS], &c)) != 0)
		return (ks_maperr(rc));
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0)
		if ((rc = addr_decode(&k, &v, &a)) != KS_OK ||
		    (rc = addr_index(&t, NULL, &a)) != KS_OK)
			goto out;
	mdb_cursor_close(c);
	if ((rc = mdb_cursor_open(txn, ks->dbi[T_CERTINFO], &c)) != 0)
		return (ks_maperr(rc));
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0)
		if ((rc = certinfo_decode(k.mv_data, k.mv_size, &v, &ci)) !=
		    KS_OK || (rc = certinfo_index(&t, NULL, &ci)) != KS_OK)
			goto out;
	mdb_cursor_close(c);
	/* The cursor's data stay put: certs isn't written meanwhile. */
	if ((rc = mdb_cursor_open(txn, ks->dbi[T_CERTS], &c)) != 0)
		return (ks_maperr(rc));
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if (k.mv_size >= sizeof(fpr)) {
			rc = KS_CORRUPT;
			goto out;
		}
		memcpy(fpr, k.mv_data, k.mv_size);
		fpr[k.mv_size] = '\0';
		if ((rc = cert_index(&t, fpr, v.mv_data, v.mv_size, 1)) !=
		    KS_OK)
			goto out;
	}
out:
	mdb_cursor_close(c);
	return (rc == MDB_NOTFOUND ? KS_OK : ks_maperr(rc));
}

/*
 * Backups (see keystore.h): a compacted copy written by LMDB itself, and
 * a file checked then copied in, record by record, in one write
 * transaction of the live store.  Copying in rather than renaming a file
 * over data.mdb is what keeps a restore atomic for everyone: lock.mdb
 * (the reader table and the last transaction id) belongs with the
 * data.mdb it was made for, and wkdd has data.mdb mapped; a file renamed
 * under them would pair the old lock with the new data, and wkdd would
 * serve the old file until restarted.  In one transaction, each reader
 * sees the old store or the new one, and wkdd serves the new one from
 * its next request.
 */

/* The tables a store of t's format has: the rest aren't open. */
static int
tables_of(const struct ks *ks)
{
	return (ks->blobs ? T_CORE : ks->indexed ? T_INDEX_END : T_INDEX);
}

/* Has t's store table tb open (tokens, checks...: if it has that table)? */
static int
has_table(const struct ks *ks, int tb)
{
	if (tb < T_CORE)
		return (tb < tables_of(ks));
	switch (tb) {
	case T_TOKENS:
		return (ks->tokens);
	case T_CHECKS:
		return (ks->checks);
	case T_FACTS:
		return (ks->facts);
	default:
		return (ks->tlsrpt);
	}
}

/*
 * The bytes a wkd record serves, read through t (a v2 record's from the
 * blobs table), are OpenPGP key packets only.
 */
static int
wkd_check(struct ks_txn *t, const MDB_val *k, const MDB_val *v)
{
	struct wkd_rec	 r;
	struct ks_blob	 b;
	int		 rc;

	if (wkd_parse(t, v, &r) != KS_OK)
		return (KS_CORRUPT);
	if (r.v == 1)
		return (check_pgp(r.data, r.len, KS_BLOB_MAX) == KS_OK ?
		    KS_OK : KS_CORRUPT);
	memset(&b, 0, sizeof(b));
	if ((rc = blob_read(t, k->mv_data, k->mv_size, &r.ref, &b)) != KS_OK)
		return (rc == ENOMEM ? rc : KS_CORRUPT);
	rc = check_pgp(b.data, b.len, KS_BLOB_MAX) == KS_OK ? KS_OK :
	    KS_CORRUPT;
	ks_blob_free(&b);
	return (rc);
}

/*
 * A record of table tb, read through t, as the write functions above
 * would have made it.
 */
static int
record_check(struct ks_txn *t, enum ks_table tb, const MDB_val *k,
    const MDB_val *v)
{
	const unsigned char	*p = v->mv_data;
	struct ks_domain	 d;
	struct ks_addr		 a;
	struct ks_certinfo	 ci;
	struct ks_logent	 e;
	struct ks_token		 tk;
	size_t			 elen;

	switch (tb) {
	case T_DOMAINS:
		return (domain_decode(k, v, &d));
	case T_ADDRS:
		return (addr_decode(k, v, &a));
	case T_CERTINFO:
		return (certinfo_decode(k->mv_data, k->mv_size, v, &ci));
	case T_LOG:
		return (log_decode(k, v, &e));
	case T_CERTS:
		return (check_pgp(v->mv_data, v->mv_size, KS_CERT_MAX) ==
		    KS_OK ? KS_OK : KS_CORRUPT);
	case T_REVOCS:
		return (check_pgp(v->mv_data, v->mv_size, KS_BLOB_MAX) ==
		    KS_OK ? KS_OK : KS_CORRUPT);
	case T_POLICY:
		return (v->mv_size <= KS_POLICY_MAX ? KS_OK : KS_CORRUPT);
	case T_WKD:
		return (wkd_check(t, k, v));
	case T_MTASTS:
	case T_CHECKS:
		if (v->mv_size < 2 || p[0] != 1 || (elen = p[1]) >=
		    KS_ETAG_MAX || v->mv_size < 2 + elen)
			return (KS_CORRUPT);
		return (KS_OK);
	case T_BLOBS:
		return (k->mv_size == SEQ_LEN ? KS_OK : KS_CORRUPT);
	case T_TOKENS:
		return (token_decode(k, v, &tk));
	case T_FACTS:
		return (facts_check(k, v));
	case T_TLSRPT:
	case T_TLSRPT_DOM:
		return (tlsrpt_record_check(tb, k, v));
	default:
		return (KS_OK);
	}
}

/*
 * The file's LMDB structure, checked on its bytes before LMDB maps it
 * (lmdbfile.c): LMDB itself would follow a damaged page number, offset or
 * size past a page or the file, and assert or fault.  KS_INVALID if it is
 * no LMDB file, KS_CORRUPT if a damaged one.
 */
static int
file_header(const char *file, size_t size)
{
	void	*p;
	int	 fd, rc;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return (errno);
	p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	rc = errno;
	(void)close(fd);
	if (p == MAP_FAILED)
		return (rc);
	rc = ks_lmdb_check(p, size);
	(void)munmap(p, size);
	return (rc);
}

/*
 * Open file, a copy of a store (one file, as ks_backup() writes it),
 * read-only and without a lock file, into *ks; check that LMDB's pages
 * lie within it and that its tables are a store's of a format we read.
 * Its size goes to *size.
 */
static int
file_open(const char *file, struct ks *ks, size_t *size)
{
	struct stat	 st;
	MDB_envinfo	 ei;
	MDB_stat	 ms;
	int		 rc;

	memset(ks, 0, sizeof(*ks));
	ks->flags = KS_RDONLY;
	if (stat(file, &st) == -1)
		return (errno);
	if (!S_ISREG(st.st_mode))
		return (KS_INVALID);
	/* LMDB takes an empty or short file for a new one. */
	if (st.st_size < 2 * 4096)
		return (KS_INVALID);
	*size = st.st_size;
	if ((rc = file_header(file, st.st_size)) != KS_OK)
		return (rc);
	if ((rc = mdb_env_create(&ks->env)) != 0)
		return (ks_maperr(rc));
	if ((rc = mdb_env_set_maxdbs(ks->env, T_COUNT + 8)) != 0)
		goto fail;
	if ((rc = mdb_env_open(ks->env, file, MDB_NOSUBDIR | MDB_RDONLY |
	    MDB_NOLOCK | MDB_NORDAHEAD | MDB_NOTLS, 0600)) != 0) {
		if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ||
		    rc == ENOENT || rc == EINVAL)
			rc = KS_INVALID;
		goto fail;
	}
	/* Pages past the end of the file would fault (SIGBUS) when read. */
	if ((rc = mdb_env_info(ks->env, &ei)) != 0 ||
	    (rc = mdb_env_stat(ks->env, &ms)) != 0)
		goto fail;
	if ((uint64_t)(ei.me_last_pgno + 1) * ms.ms_psize >
	    (uint64_t)st.st_size) {
		rc = KS_CORRUPT;
		goto fail;
	}
	if ((rc = open_tables(ks, 0)) != 0) {
		if (rc == KS_NOTFOUND || rc == MDB_INCOMPATIBLE)
			rc = KS_INVALID;
		goto fail;
	}
	return (KS_OK);
fail:
	mdb_env_close(ks->env);
	ks->env = NULL;
	return (ks_maperr(rc));
}

/* Does v lie within the first size bytes of the map at base? */
static int
in_file(const MDB_val *v, const char *base, size_t size)
{
	const char	*p = v->mv_data;

	if (v->mv_size == 0)
		return (1);
	return (p >= base && v->mv_size <= size &&
	    (size_t)(p - base) <= size - v->mv_size);
}

/*
 * Where LMDB mapped the file of env: the mapping of its inode at offset
 * 0 in /proc/self/maps (LMDB doesn't say; mdb_env_info()'s me_mapaddr is
 * the address recorded in the file).  NULL if not found.
 */
static const char *
map_base(MDB_env *env)
{
	struct stat	 st;
	FILE		*fp;
	char		 line[4096];
	unsigned long	 start, end, off, ino;
	const char	*base = NULL;
	int		 fd;

	if (mdb_env_get_fd(env, &fd) != 0 || fstat(fd, &st) == -1 ||
	    (fp = fopen("/proc/self/maps", "re")) == NULL)
		return (NULL);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "%lx-%lx %*s %lx %*s %lu", &start, &end,
		    &off, &ino) == 4 && ino == (unsigned long)st.st_ino &&
		    off == 0 && end > start) {
			base = (const char *)(uintptr_t)start;
			break;
		}
	(void)fclose(fp);
	return (base);
}

/*
 * Every record of src's tables checked (record_check()), counted; a
 * record LMDB says lies past the end of the file (a damaged page) is
 * KS_CORRUPT, not a read that faults.  size: the file's.
 */
static int
file_walk(struct ks *src, MDB_txn *txn, size_t size,
    struct ks_backup_info *info)
{
	struct ks_txn	 t = { src, txn };
	MDB_cursor	*c;
	MDB_val		 k, v;
	MDB_stat	 ms;
	const char	*base;
	int		 i, rc;

	if ((base = map_base(src->env)) == NULL)
		return (KS_INVALID);
	for (i = 0; i < T_COUNT; i++) {
		if (!has_table(src, i))
			continue;
		if ((rc = mdb_cursor_open(txn, src->dbi[i], &c)) != 0)
			return (ks_maperr(rc));
		while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0)
			if (!in_file(&k, base, size) ||
			    !in_file(&v, base, size)) {
				rc = KS_CORRUPT;
				break;
			} else if ((rc = record_check(&t, i, &k, &v)) != KS_OK)
				break;
		mdb_cursor_close(c);
		if (rc != MDB_NOTFOUND)
			return (rc == KS_CORRUPT ? rc : ks_maperr(rc));
	}
	if (info == NULL)
		return (KS_OK);
	info->format = src->blobs ? 3 : src->indexed ? 2 : 1;
	if ((rc = mdb_stat(txn, src->dbi[T_DOMAINS], &ms)) != 0)
		return (ks_maperr(rc));
	info->domains = ms.ms_entries;
	if ((rc = mdb_stat(txn, src->dbi[T_ADDRS], &ms)) != 0)
		return (ks_maperr(rc));
	info->addrs = ms.ms_entries;
	if ((rc = mdb_stat(txn, src->dbi[T_CERTS], &ms)) != 0)
		return (ks_maperr(rc));
	info->keys = ms.ms_entries;
	if ((rc = mdb_stat(txn, src->dbi[T_WKD], &ms)) != 0)
		return (ks_maperr(rc));
	info->served = ms.ms_entries;
	return (KS_OK);
}

int
ks_backup(struct ks *ks, int fd)
{
	return (ks_maperr(mdb_env_copyfd2(ks->env, fd, MDB_CP_COMPACT)));
}

int
ks_check_file(const char *file, struct ks_backup_info *info)
{
	struct ks	 src;
	MDB_txn		*txn;
	size_t		 size;
	int		 rc;

	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if ((rc = file_open(file, &src, &size)) != KS_OK)
		return (rc);
	if ((rc = mdb_txn_begin(src.env, NULL, MDB_RDONLY, &txn)) == 0) {
		rc = file_walk(&src, txn, size, info);
		mdb_txn_abort(txn);
	} else
		rc = ks_maperr(rc);
	if (info != NULL)
		info->bytes = size;
	mdb_env_close(src.env);
	return (rc);
}

/*
 * Table tb of the source (st) into the (emptied) same table of dst, in
 * order.
 */
static int
table_copy(struct ks_txn *st, MDB_txn *dtxn, MDB_dbi ddbi, enum ks_table tb)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	unsigned	 fl = tb >= T_INDEX && tb < T_INDEX_END ?
			    MDB_APPENDDUP : MDB_APPEND;
	int		 rc;

	if ((rc = mdb_cursor_open(st->txn, st->ks->dbi[tb], &c)) != 0)
		return (ks_maperr(rc));
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0)
		if ((rc = record_check(st, tb, &k, &v)) != KS_OK ||
		    (rc = db_put(dtxn, ddbi, &k, &v, fl)) != 0)
			break;
	mdb_cursor_close(c);
	return (rc == MDB_NOTFOUND ? KS_OK : ks_maperr(rc));
}

int
ks_restore(struct ks *ks, const char *file,
    int (*cb)(struct ks_txn *, void *), void *arg)
{
	struct ks	 src;
	struct ks_txn	 t, st;
	MDB_txn		*stxn, *dtxn;
	MDB_envinfo	 ei;
	MDB_stat	 ms;
	MDB_val		 k, v;
	size_t		 size, need;
	int		 i, rc;

	if (ks->flags & KS_RDONLY)
		return (KS_RDONLYERR);
	if ((rc = ks_check_file(file, NULL)) != KS_OK)
		return (rc);
	if ((rc = file_open(file, &src, &size)) != KS_OK)
		return (rc);
	/*
	 * Until the commit the old pages stay (readers may be on them):
	 * the map must hold both.
	 */
	if ((rc = mdb_env_info(ks->env, &ei)) != 0 ||
	    (rc = mdb_env_stat(ks->env, &ms)) != 0)
		goto closesrc;
	need = (ei.me_last_pgno + 1) * ms.ms_psize + size + size / 4 +
	    ((size_t)1 << 20);
	if (need > ei.me_mapsize &&
	    (rc = mdb_env_set_mapsize(ks->env, need)) != 0)
		goto closesrc;
	if ((rc = mdb_txn_begin(src.env, NULL, MDB_RDONLY, &stxn)) != 0)
		goto closesrc;
	if ((rc = begin(ks, 0, &dtxn)) != 0)
		goto abortsrc;
	for (i = 0; i < T_COUNT && rc == 0; i++)
		if (has_table(ks, i))
			rc = mdb_drop(dtxn, ks->dbi[i], 0);
	st.ks = &src;
	st.txn = stxn;
	/* A copy without tokens (older) leaves the store with none. */
	for (i = 0; i < T_COUNT && rc == 0; i++)
		if (has_table(&src, i) && has_table(ks, i))
			rc = table_copy(&st, dtxn, ks->dbi[i], i);
	/*
	 * A copy of format 1 or 2 keeps its keys inline (readers read both
	 * records) until the next write-open moves them (upgrade()); a
	 * format 1 copy gets its indexes here, as on upgrade, and so says
	 * format 2.
	 */
	if (rc == 0 && !src.indexed) {
		mkval(&k, "format", 6);
		mkval(&v, KS_FORMAT_2, strlen(KS_FORMAT_2));
		if ((rc = index_build(ks, dtxn)) == 0)
			rc = db_put(dtxn, ks->dbi[T_META], &k, &v, 0);
	}
	if (rc == 0 && cb != NULL) {
		t.ks = ks;
		t.txn = dtxn;
		rc = cb(&t, arg);
	}
	if (rc != 0) {
		mdb_txn_abort(dtxn);
		goto abortsrc;
	}
	rc = mdb_txn_commit(dtxn);
abortsrc:
	mdb_txn_abort(stxn);
closesrc:
	mdb_env_close(src.env);
	return (ks_maperr(rc));
}

/*
 * Readers: the daemon's per-thread read transaction, renewed for each
 * request (mdb_txn_renew: no allocation, no reader-table mutex) and reset
 * after it.  The map lock is held for reading while a reader's
 * transaction is live, so that the one thread that sees MDB_MAP_RESIZED
 * (another process grew the store) can remap it while no reader points
 * into it.
 */
struct ks_reader {
	struct ks_txn	 t;
	int		 live;	/* Between ks_reader_begin() and _end(). */
};

int
ks_reader_new(struct ks *ks, struct ks_reader **rp)
{
	struct ks_reader	*r;

	*rp = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (ENOMEM);
	r->t.ks = ks;		/* The transaction comes at the first read. */
	*rp = r;
	return (KS_OK);
}

void
ks_reader_free(struct ks_reader *r)
{
	if (r == NULL)
		return;
	ks_reader_end(r);
	if (r->t.txn != NULL)
		mdb_txn_abort(r->t.txn);
	free(r);
}

/* The map grew under us: remap it, no reader being live meanwhile. */
static int
reader_remap(struct ks *ks)
{
	int	rc;

	if ((rc = pthread_rwlock_wrlock(&ks->maplock)) != 0)
		return (rc);
	rc = mdb_env_set_mapsize(ks->env, 0);
	(void)pthread_rwlock_unlock(&ks->maplock);
	return (rc);
}

/*
 * A read-only store opened before a writer made the tables younger than
 * format 3 (a wkdd started before the first wkdctl of its version): look
 * for them again, at most once a second and with no reader live (as
 * reader_remap() does), so that the daemon finds them without a restart.
 * The flags change under the write lock; readers read them under the read
 * lock, between ks_reader_begin() and ks_reader_end().
 */
static void
reader_extras(struct ks *ks)
{
	long long	now, last;

	if (!(ks->flags & KS_RDONLY) ||
	    atomic_load_explicit(&ks->extras, memory_order_acquire))
		return;
	now = (long long)time(NULL);
	last = atomic_load(&ks->extras_tried);
	if (now - last < 1 ||
	    !atomic_compare_exchange_strong(&ks->extras_tried, &last, now))
		return;
	if (pthread_rwlock_wrlock(&ks->maplock) != 0)
		return;
	(void)extras_open(ks);		/* What isn't there, isn't yet. */
	(void)pthread_rwlock_unlock(&ks->maplock);
}

int
ks_reader_begin(struct ks_reader *r)
{
	struct ks	*ks = r->t.ks;
	int		 rc, tries;

	if (r->live)
		return (KS_OK);
	reader_extras(ks);
	for (tries = 0; tries < 2; tries++) {
		if ((rc = pthread_rwlock_rdlock(&ks->maplock)) != 0)
			return (rc);
		if (r->t.txn == NULL)
			rc = mdb_txn_begin(ks->env, NULL, MDB_RDONLY,
			    &r->t.txn);
		else
			rc = mdb_txn_renew(r->t.txn);
		if (rc == 0) {
			r->live = 1;
			return (KS_OK);
		}
		(void)pthread_rwlock_unlock(&ks->maplock);
		if (rc != MDB_MAP_RESIZED)
			break;
		if (r->t.txn != NULL) {
			mdb_txn_abort(r->t.txn);
			r->t.txn = NULL;
		}
		if ((rc = reader_remap(ks)) != 0)
			break;
	}
	return (ks_maperr(rc));
}

void
ks_reader_end(struct ks_reader *r)
{
	if (!r->live)
		return;
	mdb_txn_reset(r->t.txn);
	r->live = 0;
	(void)pthread_rwlock_unlock(&r->t.ks->maplock);
}

/* A domain that can't be a table key is simply not there. */
static int
reader_domain_ok(const char *domain)
{
	return (domain[0] != '\0' && strlen(domain) < KS_DOMAIN_MAX);
}

int
ks_reader_has_domain(struct ks_reader *r, const char *domain)
{
	MDB_val	v;
	int	rc;

	if (!reader_domain_ok(domain))
		return (KS_NOTFOUND);
	if ((rc = ks_reader_begin(r)) != KS_OK)
		return (rc);
	return (tget(&r->t, T_DOMAINS, domain, strlen(domain), &v));
}

int
ks_reader_key(struct ks_reader *r, const char *domain, const char *hash,
    struct ks_blob *out)
{
	int	rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ks_reader_begin(r)) != KS_OK)
		return (rc);
	return (ks_wkd_get(&r->t, domain, hash, out));
}

int
ks_reader_policy(struct ks_reader *r, const char *domain,
    struct ks_blob *out)
{
	MDB_val	v;
	int	rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ks_reader_has_domain(r, domain)) != KS_OK)
		return (rc);
	if ((rc = tget(&r->t, T_POLICY, domain, strlen(domain), &v)) != KS_OK)
		return (rc);
	return (copyout(v.mv_data, v.mv_size, out));
}

int
ks_reader_mtasts(struct ks_reader *r, const char *domain,
    struct ks_blob *out)
{
	int	rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ks_reader_has_domain(r, domain)) != KS_OK)
		return (rc);
	return (ks_mtasts_get(&r->t, domain, out));
}

int
ks_reader_check(struct ks_reader *r, const char *domain,
    struct ks_blob *out)
{
	int	rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ks_reader_has_domain(r, domain)) != KS_OK)
		return (rc);
	return (ks_check_get(&r->t, domain, out));
}

int
ks_reader_facts(struct ks_reader *r, const char *domain, const char *hash,
    struct ks_facts *out)
{
	int	rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ks_reader_begin(r)) != KS_OK)
		return (rc);
	return (ks_facts_get(&r->t, domain, hash, out));
}

int
ks_reader_tlsrpt(struct ks_reader *r,
    int (*cb)(const struct ks_tlsrpt_sum *, void *), void *arg)
{
	int	rc;

	if ((rc = ks_reader_begin(r)) != KS_OK)
		return (rc);
	return (tlsrpt_sums(&r->t, cb, arg));
}
