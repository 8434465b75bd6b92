/*
 * keystore.h: the wkdd key store, shared by the daemon (wkdd) and the admin
 * tool (wkdctl).  This header is the library's only public interface and its
 * manual.
 *
 * The store is one LMDB environment (a directory holding data.mdb and
 * lock.mdb) with these tables:
 *
 *   domains   A-label -> flags                 hosted domains
 *   policy    A-label -> bytes                 the policy file served for it
 *   addrs     address -> owner, state, key     every address ever bound to an
 *                                              account (never deleted: an
 *                                              address can't change owner)
 *   certs     FINGERPRINT -> OpenPGP bytes     public certificates as
 *                                              imported and cleaned
 *   certinfo  FINGERPRINT -> state             superseded by which key;
 *                                              the key's own (created,
 *                                              expires, revoked, subkeys)
 *   revocs    FINGERPRINT -> signature bytes   revocation certificate kept
 *                                              for later use, never served
 *   wkd       "domain/hash" -> etag + where    what the daemon serves
 *   blobs     sequence -> bytes                its bytes (format 3)
 *   mtasts    A-label -> etag + bytes          MTA-STS policy served for it
 *   log       sequence -> entry                audit log of every change
 *   tokens    name -> hash, scope              the admin API's tokens (made
 *                                              by the first write-open of
 *                                              a store without it)
 *   checks    A-label -> etag + JSON           the domain's last onboarding
 *                                              check (made as tokens are)
 *   facts     "domain/hash" -> key facts       what the key served there
 *                                              says (fingerprint, UID,
 *                                              state), for the web page
 *                                              (made as tokens are)
 *   tlsrpt    "domain/report-id" -> report     TLS reports (RFC 8460) about
 *                                              a hosted domain (made as
 *                                              tokens are)
 *   tlsrpt-domains  A-label -> sums            each domain's report count
 *                                              and session totals
 *
 * and indexes over them, which the write functions below keep in the same
 * transaction (so they always agree with the tables): addresses by
 * account, by domain and by the key they serve; keys by their successor;
 * certificates by the addresses of their User IDs (ks_uid_addr()).  Every
 * walk of one account, domain, key or address reads only its own records,
 * so it costs the same in a store of ten addresses or ten million.
 *
 * Format versions.  A store records the version of its format (3: with
 * the indexes, and the bytes of published keys packed into LMDB's pages;
 * 2: with the indexes, each key one LMDB value, which took ~1.5 times its
 * bytes on disk where format 3 takes ~1.25 times; 1: without indexes).
 * ks_open() without KS_RDONLY upgrades a format 1 or 2 store: the indexes
 * of a format 1 store in one write transaction (building them takes about
 * as long as reading the store once; KS_FULL if the map can't hold them:
 * open with a bigger mapsize), then the published keys moved to the new
 * layout a few thousand a transaction (a move left unfinished, by a crash,
 * is finished by the next ks_open() for writing), so the first wkdctl
 * command after an upgrade of the software does it.  With KS_RDONLY (the
 * daemon) a store of format 1 or 2, or 3 halfway through the move, is
 * opened as it is and served: keys are read in either layout, and the
 * walks of a store without indexes scan the tables instead, with the
 * same results.  A store of any other format (a later version) gives
 * KS_VERSION.
 *
 * Space.  A published key's bytes take about 1.1 times their size in the
 * blobs table (Debian's one-UID blobs; whole overflow pages for what
 * fills them, the rest packed into leaf pages by appending); with the
 * address and wkd records a store of generated addresses is ~1.3 times
 * its blob bytes (BENCHMARKS.md).  Replacing or deleting a key leaves a
 * hole where its bytes were; each such write also moves the 4 oldest
 * keys' bytes to the end of the table (a log-structured store's
 * cleaner), which keeps the table ~0.9 full however often keys are
 * replaced: a replace writes ~5 keys' bytes.  Putting the same bytes
 * again writes nothing.
 *
 * An address is "local@domain" with the local part's ASCII letters lowered
 * and the domain as a lowercase A-label (ks_addr_norm()).
 *
 * Writers (wkdctl) make every change inside one write transaction
 * (ks_txn_begin() ... ks_txn_commit()): it happens whole or not at all.
 * Readers read through a struct ks_reader per thread (wkdd), or the
 * one-shot ks_serve_*() functions, each in its own short read transaction
 * (wkdctl), and see every commit made by another process as soon as it is
 * made, without reopening.
 *
 * LMDB's rules, which hold for the users of this library too:
 * - Never use a struct ks across fork(2): open it in the process that uses
 *   it.
 * - A struct ks_txn belongs to the thread that began it.  Read-only
 *   handles opened with KS_RDONLY may run one read per thread at once.
 * - Keep read transactions short: a long one stops the file from reusing
 *   pages freed after it began, and the store grows.
 * - Readers need write access to lock.mdb: run wkdd and wkdctl as users that
 *   share a group owning the store directory.
 * - ks_open() clears reader slots left by dead processes (mdb_reader_check).
 *
 * The library never logs and never exits: functions return KS_OK (0), a
 * positive errno value, or a negative KS_* or LMDB code.  ks_strerror()
 * turns any of them into a message.
 *
 * Ownership.  What a *_get() or ks_serve_*() function returns is copied
 * out of the LMDB map: structs are the caller's, strings in them are
 * NUL-terminated arrays, and blobs are malloc(3)ed, the caller's to free
 * with ks_blob_free().  What a *_foreach*() walk hands its callback lives
 * only until the callback returns: structs are on the walk's stack, and
 * ks_cert_foreach()'s data points into the map itself (copy what you keep;
 * never keep it past the transaction).  ks_pgp_next() points into the
 * caller's own buffer.
 *
 * Errors.  Unless a function says otherwise it returns KS_OK, KS_NOTFOUND
 * (for a get, delete or update of something that isn't there), KS_INVALID
 * (a malformed argument), KS_CORRUPT (a record that can't be decoded),
 * ENOMEM, KS_FULL (a write into a full map), KS_RDONLYERR (a write in a
 * read transaction) or another LMDB code.  A commit (or ks_open() making a
 * store, or ks_backup()) that the filesystem has no room for returns
 * KS_DISKFULL: ENOSPC and EDQUOT, and the EIO that LMDB makes of a short
 * write when statvfs(2) then finds the store's filesystem full.  Either
 * way the store is as it was before the transaction (LMDB writes the meta
 * page last).
 */
#ifndef KEYSTORE_H
#define KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

struct ks;			/* Open store; one per process. */
struct ks_txn;			/* Transaction; one thread. */

#define KS_OK		  0
#define KS_NOTFOUND	(-1)	/* No such domain, address, key... */
#define KS_EXISTS	(-2)	/* Already there. */
#define KS_INVALID	(-3)	/* Malformed argument or data. */
#define KS_TOOBIG	(-4)	/* Blob over KS_BLOB_MAX. */
#define KS_FULL		(-5)	/* Store (map) full: raise store-size. */
#define KS_SECRET	(-6)	/* Blob holds secret-key material. */
#define KS_CORRUPT	(-7)	/* A record in the store can't be decoded. */
#define KS_VERSION	(-8)	/* Store made by another format version. */
#define KS_RDONLYERR	(-9)	/* Write on a handle opened KS_RDONLY. */
#define KS_FAULT	(-10)	/* Injected failure (KS_FAULTS builds). */
#define KS_DISKFULL	(-11)	/* No room on the store's filesystem. */

#define KS_DOMAIN_MAX	256	/* Incl. NUL: RFC 1035 name, 253 + NUL. */
#define KS_ADDR_MAX	512	/* Incl. NUL: local (<= 254) @ domain. */
#define KS_FPR_MAX	65	/* Incl. NUL: uppercase hex, v4 = 40. */
#define KS_HASH_LEN	32	/* z-base-32 of SHA-1, no padding. */
#define KS_ETAG_MAX	24	/* Incl. NUL and the quotes. */
#define KS_BLOB_MAX	(256 * 1024)	/* Largest key published (gpg's cap). */
#define KS_CERT_MAX	(4 * 1024 * 1024)	/* Largest certificate kept. */
#define KS_POLICY_MAX	(16 * 1024)

/* ks_open() flags. */
#define KS_RDONLY	0x01	/* Readers: the daemon. */
#define KS_CREATE	0x02	/* Create the directory's store if absent. */

struct ks_blob {
	unsigned char	*data;	/* malloc(3)ed; caller frees. */
	size_t		 len;
	char		 etag[KS_ETAG_MAX];	/* Quoted; "" if none. */
};

/* Domain flags. */
#define KS_DOM_KEEP_REVOKED	0x01	/* Serve a revoked predecessor too. */

struct ks_domain {
	char		 name[KS_DOMAIN_MAX];	/* A-label, lowercase. */
	uint32_t	 flags;			/* KS_DOM_* */
	int64_t		 ctime;			/* Added (seconds, epoch). */
};

/* Address states. */
#define KS_ADDR_PRIMARY	1	/* The account's own address. */
#define KS_ADDR_ALIAS	2	/* An alias of account. */
#define KS_ADDR_RETIRED	3	/* Former alias: bound, never published. */

/* Address flags. */
#define KS_AF_UNPUBLISHED 0x01	/* Not served, by the operator's choice. */
#define KS_AF_REMOVED	  0x02	/* On a primary: the account was removed. */

struct ks_addr {
	char		 addr[KS_ADDR_MAX];	/* Normalised, the key. */
	char		 account[KS_ADDR_MAX];	/* Owner's primary address. */
	int		 state;			/* KS_ADDR_* */
	uint32_t	 flags;			/* KS_AF_* */
	char		 fpr[KS_FPR_MAX];	/* Key published, "" if none. */
	int64_t		 ctime;
	int64_t		 mtime;
};

/*
 * Open the store in directory dir (which must exist).  flags: KS_RDONLY for
 * readers (without the kernel's read-ahead, MDB_NORDAHEAD: their lookups
 * are random), KS_CREATE to make a new store in an empty directory.
 * mapsize is the most the store may grow to, in bytes; 0 takes the default
 * (1 GiB) or, for an existing store, its current size.  On success *ksp
 * is set; free it with ks_close() (which does nothing with NULL).  Returns
 * KS_OK, KS_NOTFOUND (no store in dir and no KS_CREATE: "run wkdctl
 * init"), KS_VERSION (a store of another format), KS_FULL (no room for
 * the indexes of a format 1 store), an errno value (dir missing or
 * unreadable) or an LMDB code.
 */
int		 ks_open(struct ks **ksp, const char *dir, int flags,
		    size_t mapsize);
void		 ks_close(struct ks *);
/*
 * 1 if the directory ks was opened from now holds another data.mdb than
 * the one ks has open (the store directory was replaced, e.g. renamed
 * over), else 0 (also when it can't be told: data.mdb gone meanwhile).
 * Two stat(2) calls.
 */
int		 ks_replaced(struct ks *);

/*
 * Transactions.  ks_txn_begin(ks, 0, &t) starts a write transaction (one at
 * a time, across processes: it waits for another writer to finish);
 * KS_RDONLY starts a read one.  ks_txn_commit() and ks_txn_abort() free the
 * transaction, also on error.
 */
int		 ks_txn_begin(struct ks *, int flags, struct ks_txn **txnp);
/*
 * A write transaction nested in write transaction parent (LMDB's nested
 * transactions): what it changes is seen by parent once it commits, and
 * undone alone if it aborts, so one item of a batch can fail without the
 * rest.  parent must not be used until the child ends.  Returns KS_OK,
 * ENOMEM or an LMDB code; the child is freed as any transaction.
 */
int		 ks_txn_nest(struct ks_txn *parent, struct ks_txn **txnp);
int		 ks_txn_commit(struct ks_txn *);
void		 ks_txn_abort(struct ks_txn *);

/*
 * Domains.  name must already be a normalised A-label (ks_domain_norm).
 * ks_domain_add(): KS_EXISTS if hosted already; it adds an empty policy.
 * ks_domain_get(), ks_domain_set_flags(), ks_domain_del(): KS_NOTFOUND if
 * not hosted.
 */
int		 ks_domain_add(struct ks_txn *, const char *name);
int		 ks_domain_get(struct ks_txn *, const char *name,
		    struct ks_domain *out);
int		 ks_domain_set_flags(struct ks_txn *, const char *name,
		    uint32_t flags);
/* Removes the domain, its policy and everything published under it. */
int		 ks_domain_del(struct ks_txn *, const char *name);
/*
 * Calls cb for each domain in name order; a non-zero return from cb stops
 * the walk and is returned.  *d is valid during the call only.
 */
int		 ks_domain_foreach(struct ks_txn *,
		    int (*cb)(const struct ks_domain *d, void *arg), void *arg);
/*
 * The policy file's bytes (at most KS_POLICY_MAX, else KS_TOOBIG); len 0
 * is valid.  KS_NOTFOUND if the domain isn't hosted.
 */
int		 ks_policy_put(struct ks_txn *, const char *name,
		    const void *data, size_t len);

/*
 * Addresses (and so accounts: an account is its KS_ADDR_PRIMARY record).
 * ks_addr_get(): KS_NOTFOUND if addr was never bound.  ks_addr_put():
 * KS_INVALID for a record without account, with an unknown state or an
 * over-long field.
 */
int		 ks_addr_get(struct ks_txn *, const char *addr,
		    struct ks_addr *out);
/* Inserts or replaces; mtime is set, ctime kept (or set if new). */
int		 ks_addr_put(struct ks_txn *, const struct ks_addr *);
/* Delete addr's record (KS_NOTFOUND if none): only for ks_gone_put(). */
int		 ks_addr_del(struct ks_txn *, const char *addr);
/*
 * Erasure without reuse: ks_gone_put() records that addr (normalised) was
 * erased as a keyed hash only (HMAC-SHA-256 with a random key the store
 * makes on first use and never gives out), so the address itself can go
 * from the store while ks_gone_get() still says KS_OK for it (KS_NOTFOUND
 * for an address never erased).  Both return KS_* or LMDB codes.
 */
int		 ks_gone_put(struct ks_txn *, const char *addr);
int		 ks_gone_get(struct ks_txn *, const char *addr);
/*
 * Walk addresses in address order, calling cb with each (a lives until cb
 * returns); a non-zero return from cb stops the walk and is returned.
 * ks_addr_foreach(): all, or with account non-NULL one account's;
 * ks_addr_foreach_domain(): those in domain (an A-label);
 * ks_addr_foreach_key(): those serving key fpr.  Returns KS_OK, cb's
 * value, KS_CORRUPT or an LMDB code.  All but ks_addr_foreach(account
 * NULL) read an index: the time is that of the addresses walked.
 */
int		 ks_addr_foreach(struct ks_txn *, const char *account,
		    int (*cb)(const struct ks_addr *a, void *arg), void *arg);
int		 ks_addr_foreach_domain(struct ks_txn *, const char *domain,
		    int (*cb)(const struct ks_addr *a, void *arg), void *arg);
int		 ks_addr_foreach_key(struct ks_txn *, const char *fpr,
		    int (*cb)(const struct ks_addr *a, void *arg), void *arg);

/*
 * Certificates, by fingerprint (uppercase hex).  ks_cert_put() refuses data
 * that isn't a well-formed run of OpenPGP packets (KS_INVALID), holds
 * secret-key packets (KS_SECRET), holds any packet a transferable public
 * key is not made of (only tags 2, 6, 12, 13, 14 and 17 pass; KS_INVALID:
 * a compressed packet could hide a secret key from the scan) or is over
 * KS_CERT_MAX (KS_TOOBIG).  ks_cert_get() and ks_cert_del(): KS_NOTFOUND
 * for an unknown key.  ks_cert_foreach() walks in fingerprint order; data
 * points into the map, valid only during cb (see Ownership above); a
 * non-zero return from cb stops the walk and is returned.
 */
int		 ks_cert_put(struct ks_txn *, const char *fpr,
		    const void *data, size_t len);
int		 ks_cert_get(struct ks_txn *, const char *fpr,
		    struct ks_blob *out);
int		 ks_cert_del(struct ks_txn *, const char *fpr);
int		 ks_cert_foreach(struct ks_txn *,
		    int (*cb)(const char *fpr, const unsigned char *data,
		    size_t len, void *arg), void *arg);
/*
 * As ks_cert_foreach(), but only the certificates with a User ID packet
 * naming addr (normalised), as ks_uid_addr() reads it, whatever that
 * UID's signatures say: the keys that might publish addr.  From an index:
 * the time is that of the keys walked.
 */
int		 ks_cert_foreach_addr(struct ks_txn *, const char *addr,
		    int (*cb)(const char *fpr, const unsigned char *data,
		    size_t len, void *arg), void *arg);

/*
 * What the store knows of a key beyond its bytes.  ks_cert_del() removes
 * a key's certinfo and revocation certificate too.
 */
#define KS_CERT_SUPERSEDED	0x01	/* Replaced by successor. */

/*
 * A key's state as wkdctl found it when it stored the certificate (from
 * its verified self-signatures), so that listing keys reads the store
 * and parses no OpenPGP: the primary key and each subkey.  alg is the
 * OpenPGP public-key algorithm (RFC 4880 9.1: 1 RSA, 17 DSA, 18 ECDH,
 * 19 ECDSA, 22 EdDSA...), bits its size (the modulus's or the curve's:
 * 255 for Curve25519), 0 if unknown; usage the key flags of its newest
 * binding or self-signature (RFC 4880 5.2.3.21), 0 if none.  Whether a
 * key has expired is the reader's to say: expires is a time, and "now"
 * moves.
 */
#define KS_USE_CERTIFY		0x01
#define KS_USE_SIGN		0x02
#define KS_USE_ENCRYPT		0x0c	/* Communications or storage. */
#define KS_USE_AUTH		0x20
#define KS_SUBKEY_MAX		16	/* More are not recorded. */

struct ks_keypart {
	char		 fpr[KS_FPR_MAX];	/* Subkeys'; primary: "". */
	int64_t		 created;
	int64_t		 expires;		/* 0: never. */
	uint16_t	 alg;
	uint16_t	 bits;
	uint8_t		 usage;			/* KS_USE_* */
	uint8_t		 revoked;
};

struct ks_keystate {
	int		 known;		/* 0: not recorded (see below). */
	struct ks_keypart primary;
	int		 reason;	/* Revoked: RFC 4880 5.2.3.23 code. */
	char		 reason_text[256];
	size_t		 nsub;
	struct ks_keypart sub[KS_SUBKEY_MAX];
};

struct ks_certinfo {
	char		 fpr[KS_FPR_MAX];
	uint32_t	 flags;			/* KS_CERT_* */
	char		 successor[KS_FPR_MAX];	/* "" if none. */
	/*
	 * The account it was imported for (wkdctl import --account), or ""
	 * if each UID went to its own address's account.
	 */
	char		 account[KS_ADDR_MAX];
	int64_t		 ctime;			/* First imported. */
	int64_t		 mtime;			/* Set by ks_certinfo_put. */
	/*
	 * known 0 for keys stored by an earlier version, or that wkdctl
	 * couldn't read without RNP: parse the certificate instead.
	 */
	struct ks_keystate state;
};

/*
 * ks_certinfo_get(): KS_NOTFOUND if the store knows nothing more of fpr
 * than its bytes.  ks_certinfo_put() inserts or replaces (ctime kept,
 * mtime set); KS_INVALID for a malformed fingerprint or successor.
 */
int		 ks_certinfo_get(struct ks_txn *, const char *fpr,
		    struct ks_certinfo *out);
int		 ks_certinfo_put(struct ks_txn *, const struct ks_certinfo *);
/*
 * cb with the certinfo of each key superseded by fpr, in fingerprint
 * order (ci lives until cb returns; non-zero from cb stops and is
 * returned).  KS_OK, cb's value, KS_CORRUPT or an LMDB code.
 */
int		 ks_certinfo_foreach_successor(struct ks_txn *, const char *fpr,
		    int (*cb)(const struct ks_certinfo *ci, void *arg),
		    void *arg);

/*
 * Revocation certificates kept for a key (as GnuPG's openpgp-revocs.d):
 * only signature packets (tag 2) are accepted (else KS_INVALID).  Never
 * served: no one-shot read exists for them.  ks_revoc_get(),
 * ks_revoc_del(): KS_NOTFOUND if none is kept.
 */
int		 ks_revoc_put(struct ks_txn *, const char *fpr,
		    const void *data, size_t len);
int		 ks_revoc_get(struct ks_txn *, const char *fpr,
		    struct ks_blob *out);
int		 ks_revoc_del(struct ks_txn *, const char *fpr);

/*
 * Audit log.  ks_log_append() gives the entry the next sequence number
 * (written back into e->seq) and, if e->time is 0, the current time; it
 * belongs in the same transaction as the change it records.
 * ks_log_foreach() walks entries with time >= since, oldest first; *e is
 * valid only during cb, and a non-zero return from cb stops the walk and
 * is returned.
 */
struct ks_logent {
	uint64_t	 seq;
	int64_t		 time;
	char		 user[64];	/* Operator: the OS user. */
	char		 cmd[512];	/* Command line, without secrets. */
	char		 subject[KS_ADDR_MAX];	/* Address or fingerprint. */
	char		 detail[1024];	/* What changed: "old -> new". */
};

int		 ks_log_append(struct ks_txn *, struct ks_logent *e);
/*
 * Delete the entries older than before (seconds since the epoch), except
 * the newest entry, which always stays (sequence numbers never repeat);
 * *n gets how many went.  KS_OK or an LMDB code.
 */
int		 ks_log_prune(struct ks_txn *, int64_t before, size_t *n);
int		 ks_log_foreach(struct ks_txn *, int64_t since,
		    int (*cb)(const struct ks_logent *e, void *arg),
		    void *arg);
/*
 * ks_log_after(): the same, from the first entry whose sequence number is
 * over after (the last one a reader saw: a cursor), sought, not walked.
 */
int		 ks_log_after(struct ks_txn *, uint64_t after, int64_t since,
		    int (*cb)(const struct ks_logent *e, void *arg),
		    void *arg);

/*
 * Tokens of the admin API (wkdctl token, wkdctl serve): a name, the
 * SHA-256 of the secret (never the secret), read-only or not, and the
 * domains (A-labels) it is confined to (none: all).  ks_token_put():
 * KS_EXISTS if the name is taken, KS_INVALID for an empty or long name,
 * too many domains or unknown flags; KS_RDONLYERR on a reader.
 * ks_token_get(), ks_token_del(): KS_NOTFOUND if no such token (or no
 * tokens table: a store no writer has opened since tokens came).
 * ks_token_foreach(): each token in name order; cb's non-zero stops it.
 */
#define KS_TOKEN_NAME_MAX	65	/* Incl. NUL. */
#define KS_TOKEN_DOMAINS	32
#define KS_TOKEN_HASH_LEN	32	/* SHA-256. */
#define KS_TOKEN_RDONLY		0x01

struct ks_token {
	char		 name[KS_TOKEN_NAME_MAX];
	unsigned	 flags;		/* KS_TOKEN_* */
	int64_t		 ctime;
	unsigned char	 hash[KS_TOKEN_HASH_LEN];
	size_t		 ndomains;
	char		 domains[KS_TOKEN_DOMAINS][KS_DOMAIN_MAX];
};

int		 ks_token_put(struct ks_txn *, const struct ks_token *);
int		 ks_token_get(struct ks_txn *, const char *name,
		    struct ks_token *);
int		 ks_token_del(struct ks_txn *, const char *name);
int		 ks_token_foreach(struct ks_txn *,
		    int (*cb)(const struct ks_token *, void *), void *arg);

/*
 * The last onboarding check of a hosted domain ("wkdctl domain check"), a
 * JSON document (its schema: wkdctl(8), DOMAIN CHECK RESULTS) of at most
 * KS_CHECK_MAX bytes, kept with an ETag.  ks_check_put() replaces it:
 * KS_NOTFOUND for a domain not hosted, KS_TOOBIG, KS_INVALID for len 0,
 * KS_RDONLYERR in a store without the table (opened read-only before any
 * writer made it).  ks_check_get(): into *out (malloc(3)ed, the caller's)
 * or KS_NOTFOUND if never checked.  ks_check_del(): KS_NOTFOUND if none.
 * Removing the domain removes it.
 */
#define KS_CHECK_MAX	(64 * 1024)
int		 ks_check_put(struct ks_txn *, const char *domain,
		    const void *json, size_t len);
int		 ks_check_get(struct ks_txn *, const char *domain,
		    struct ks_blob *out);
int		 ks_check_del(struct ks_txn *, const char *domain);

/*
 * Facts of a published key, for wkdd's web page (lookup): what wkdctl
 * read from the bytes it published for (domain, hash) when it published
 * them, so that wkdd says what a key is without parsing OpenPGP: the
 * primary key's fingerprint, the one User ID served, and the key's state
 * (struct ks_keystate; known 0 where wkdctl couldn't read it without
 * RNP).  ks_facts_put() replaces them: KS_NOTFOUND if nothing is
 * published at (domain, hash), KS_INVALID for a bad fingerprint, an
 * empty UID or one of KS_FACTS_UID_MAX bytes or more, KS_RDONLYERR in a
 * store without the table.  ks_wkd_put() (new bytes) and ks_wkd_del()
 * drop them, and so does ks_domain_del(): facts never outlive the bytes
 * they describe.  ks_facts_get(): into *out, KS_NOTFOUND if none (keys
 * published by an earlier version: "wkdctl republish" records them).
 */
#define KS_FACTS_UID_MAX	1024	/* Incl. NUL. */

struct ks_facts {
	char		 fpr[KS_FPR_MAX];
	char		 uid[KS_FACTS_UID_MAX];
	struct ks_keystate state;
};

int		 ks_facts_put(struct ks_txn *, const char *domain,
		    const char *hash, const struct ks_facts *);
int		 ks_facts_get(struct ks_txn *, const char *domain,
		    const char *hash, struct ks_facts *out);

/*
 * TLS reports (RFC 8460) about hosted domains (wkdctl tlsrpt ingest): one
 * record per policy domain and report-id, with the report's JSON (as
 * validated by wkdd/report.c) and the domain's policies' session counts,
 * and per domain the sums of its records, kept in the same transaction.
 * ks_tlsrpt_put(): KS_EXISTS if that (domain, id) is stored (a report
 * sent twice, or ingested again), KS_NOTFOUND for a domain not hosted,
 * KS_INVALID for an empty or long id or empty JSON, KS_TOOBIG over
 * KS_TLSRPT_MAX, KS_RDONLYERR in a store without the tables.
 * ks_tlsrpt_foreach(): the reports of domain (NULL: all) whose end is at
 * or after since, in (domain, id) order; json points into the map (valid
 * in the callback only); cb's non-zero stops the walk and is returned.
 * ks_tlsrpt_sum_foreach(): each domain's sums, in domain order.
 * ks_reader_tlsrpt(): the same through a reader (the daemon's metrics).
 * ks_tlsrpt_prune(): drops the reports whose end is before before (*n
 * gets how many) and makes every domain's sums again from those left.
 * Removing a domain removes its reports and sums; backups carry them.
 */
#define KS_TLSRPT_ID_MAX	256	/* Incl. NUL. */
#define KS_TLSRPT_MAX		(16 * 1024 * 1024)

struct ks_tlsrpt {
	char		 domain[KS_DOMAIN_MAX];
	char		 id[KS_TLSRPT_ID_MAX];
	int64_t		 start, end;	/* The report's date-range. */
	int64_t		 received;	/* When it was ingested. */
	uint64_t	 success, failure;	/* Its policies' sessions. */
	const void	*json;
	size_t		 len;
};

struct ks_tlsrpt_sum {
	char		 domain[KS_DOMAIN_MAX];
	uint64_t	 reports;
	uint64_t	 success, failure;
	int64_t		 first, last;	/* Earliest start, latest end. */
};

int		 ks_tlsrpt_put(struct ks_txn *, const struct ks_tlsrpt *);
int		 ks_tlsrpt_foreach(struct ks_txn *, const char *domain,
		    int64_t since, int (*cb)(const struct ks_tlsrpt *, void *),
		    void *arg);
int		 ks_tlsrpt_sum_foreach(struct ks_txn *,
		    int (*cb)(const struct ks_tlsrpt_sum *, void *),
		    void *arg);
int		 ks_tlsrpt_prune(struct ks_txn *, int64_t before, size_t *n);

/*
 * MTA-STS policy (RFC 8461) served at https://mta-sts.DOMAIN/.well-known/
 * mta-sts.txt for a hosted domain; ks_mtasts_put() with len 0 removes it,
 * and says KS_NOTFOUND for a domain not hosted.  ks_mtasts_get():
 * KS_NOTFOUND if the domain has no policy.
 */
int		 ks_mtasts_put(struct ks_txn *, const char *domain,
		    const void *data, size_t len);
int		 ks_mtasts_get(struct ks_txn *, const char *domain,
		    struct ks_blob *out);

/*
 * Published keys: the exact bytes served for (domain, hash).  ks_wkd_put()
 * applies ks_cert_put()'s checks, refuses more than KS_BLOB_MAX bytes
 * (KS_TOOBIG), and stores an ETag computed from the bytes (it doesn't
 * check that the domain is hosted: wkdctl does).  ks_wkd_get() (in a
 * transaction, for wkdctl) and ks_wkd_del(): KS_NOTFOUND if nothing is
 * served there.
 */
int		 ks_wkd_put(struct ks_txn *, const char *domain,
		    const char *hash, const void *data, size_t len);
int		 ks_wkd_get(struct ks_txn *, const char *domain,
		    const char *hash, struct ks_blob *out);
int		 ks_wkd_del(struct ks_txn *, const char *domain,
		    const char *hash);

/*
 * One-shot reads for serving (the daemon), each in its own short read
 * transaction: "serve" where ks_wkd_get() and the other *_get() functions
 * read inside the caller's transaction.
 * ks_serve_key(): the key for (domain, hash); KS_NOTFOUND if none.
 * ks_serve_policy(): the policy of a hosted domain; KS_NOTFOUND if the domain
 * isn't hosted.  Both fill *out (data may be NULL when len is 0).
 * ks_has_domain(): KS_OK if hosted, KS_NOTFOUND if not.
 * ks_serve_mtasts(): the MTA-STS policy of a domain; KS_NOTFOUND if none.
 */
int		 ks_serve_key(struct ks *, const char *domain, const char *hash,
		    struct ks_blob *out);
int		 ks_serve_policy(struct ks *, const char *domain,
		    struct ks_blob *out);
int		 ks_has_domain(struct ks *, const char *domain);
int		 ks_serve_mtasts(struct ks *, const char *domain,
		    struct ks_blob *out);

/*
 * What the daemon's metrics and health check report of the store, read in
 * one short read transaction from LMDB's own counts (mdb_stat(3) entry
 * counts and the environment's info: no table is walked, so it costs the
 * same for ten addresses or ten million).
 */
struct ks_stats {
	uint64_t	 map_bytes;	/* Most the store may grow to. */
	uint64_t	 used_bytes;	/* Pages in use (last page + 1). */
	uint64_t	 page_bytes;
	uint64_t	 txnid;		/* Of the last write commit. */
	unsigned	 readers;	/* Reader slots in use. */
	unsigned	 max_readers;
	uint64_t	 domains;	/* Hosted. */
	uint64_t	 addresses;	/* Bound to accounts, ever. */
	uint64_t	 published;	/* Addresses serving a key; below. */
	uint64_t	 wkd;		/* (domain, hash) entries served. */
	uint64_t	 certs;		/* Certificates stored. */
	int64_t		 changed;	/* Newest audit entry; -1: none. */
	int		 ondisk;	/* See ks_stats(). */
};

/*
 * Fill *st.  published is UINT64_MAX for a format 1 store (it has no index
 * to count: the daemon reads it as it is).  changed is the time of the
 * newest audit log entry, which every wkdctl change writes in its own
 * transaction.  ondisk is KS_OK if dir/data.mdb is still the file opened,
 * else an errno value (ENOENT: gone; ESTALE: another file is there now,
 * e.g. a restored copy).  Returns KS_OK or an LMDB code (the store can't
 * be read).
 */
int		 ks_stats(struct ks *, struct ks_stats *st);

/* Frees data and zeroes the blob. */
void		 ks_blob_free(struct ks_blob *);

/*
 * Readers: the daemon's way to read, one struct ks_reader per thread.  A
 * reader keeps one LMDB read transaction, reset between requests and
 * renewed by the first read of the next (no allocation, no lock of the
 * reader table), so that several reads of one request see one snapshot.
 * ks_reader_new() makes one (KS_OK, or ENOMEM or an LMDB code), to be
 * used by one thread at a time; ks_reader_free() frees it (NULL is fine).
 * ks_reader_begin() starts a transaction if none is live (the reads below
 * call it); ks_reader_end() ends it: call it when the request's reads are
 * done, since a live transaction pins the pages it sees and blocks the
 * remapping of a store another process grew.  The reads fill *out (data
 * malloc(3)ed, the caller's, as ks_serve_*()) or return KS_NOTFOUND:
 * ks_reader_key() the key for (domain, hash); ks_reader_policy() the
 * policy file, ks_reader_mtasts() the MTA-STS policy and ks_reader_check()
 * the last onboarding check of a hosted domain; ks_reader_facts() the
 * facts of the key for (domain, hash) (ks_facts_get()) into *out, no
 * allocation; ks_reader_has_domain() KS_OK if domain is hosted.  Don't mix
 * readers with ks_serve_*() on one struct ks in several threads.  A table
 * younger than format 3 (tokens, checks, facts, tlsrpt) that a read-only
 * store lacked when opened is looked for again by ks_reader_begin(), at
 * most once a second: a writer that makes it later is seen without a
 * reopen.
 */
struct ks_reader;
int		 ks_reader_new(struct ks *, struct ks_reader **rp);
void		 ks_reader_free(struct ks_reader *);
int		 ks_reader_begin(struct ks_reader *);
void		 ks_reader_end(struct ks_reader *);
int		 ks_reader_has_domain(struct ks_reader *, const char *domain);
int		 ks_reader_key(struct ks_reader *, const char *domain,
		    const char *hash, struct ks_blob *out);
int		 ks_reader_policy(struct ks_reader *, const char *domain,
		    struct ks_blob *out);
int		 ks_reader_mtasts(struct ks_reader *, const char *domain,
		    struct ks_blob *out);
int		 ks_reader_check(struct ks_reader *, const char *domain,
		    struct ks_blob *out);
int		 ks_reader_facts(struct ks_reader *, const char *domain,
		    const char *hash, struct ks_facts *out);
int		 ks_reader_tlsrpt(struct ks_reader *,
		    int (*cb)(const struct ks_tlsrpt_sum *, void *),
		    void *arg);

/*
 * Names and hashes (no store needed).
 *
 * ks_wkd_hash(): the WKD hash of local part local (len bytes, UTF-8): only
 * ASCII A-Z are lowered, then SHA-1, then z-base-32.  out gets 32 chars and
 * a NUL.
 * ks_zb32_encode(): z-base-32 of in (inlen * 8 must be a multiple of 5);
 * outsz must hold inlen * 8 / 5 + 1 bytes.
 * ks_domain_norm(): a domain as typed by a person or sent by a client
 * (U-label or A-label, any case, optional trailing dot) to the lowercase
 * A-label; KS_INVALID if it isn't a valid host name.
 * ks_addr_norm(): "local@domain" to the store's form: ASCII letters of the
 * local part lowered, domain normalised; domain_out (may be NULL) gets the
 * domain.  KS_INVALID if it isn't an address: no or several unquoted '@',
 * empty or over-long local part, control characters or whitespace.
 */
int		 ks_wkd_hash(const char *local, size_t len,
		    char out[KS_HASH_LEN + 1]);
int		 ks_zb32_encode(const unsigned char *in, size_t inlen,
		    char *out, size_t outsz);
int		 ks_domain_norm(const char *in, char *out, size_t outsz);
int		 ks_addr_norm(const char *in, char *out, size_t outsz,
		    char *domain_out, size_t domainsz);
/*
 * ks_uid_addr(): the address a User ID (len bytes, up to a NUL) names, as
 * gpg's mailbox_from_userid() finds it: the text between the first '<'
 * and the next '>', or the whole UID if it has no '<' and no blank;
 * normalised (ks_addr_norm()) into out.  KS_INVALID if it names none.
 */
int		 ks_uid_addr(const char *uid, size_t len, char *out,
		    size_t outsz);
/* True if s is KS_HASH_LEN characters of the z-base-32 alphabet. */
int		 ks_hash_valid(const char *s, size_t len);

/* OpenPGP packet tags (RFC 4880 4.3) the store and wkdctl name. */
#define KS_PKT_SIG	2	/* Signature. */
#define KS_PKT_SECKEY	5	/* Secret key. */
#define KS_PKT_PUBKEY	6	/* Public key. */
#define KS_PKT_SECSUB	7	/* Secret subkey. */
#define KS_PKT_TRUST	12	/* Trust (GnuPG's keyring only). */
#define KS_PKT_UID	13	/* User ID. */
#define KS_PKT_PUBSUB	14	/* Public subkey. */
#define KS_PKT_ATTR	17	/* User attribute (photo). */

/* One packet, as ks_pgp_next() finds it: pointers into the data given. */
struct ks_pkt {
	unsigned		 tag;
	size_t			 off;		/* Of its header. */
	size_t			 hdrlen;
	const unsigned char	*body;
	size_t			 bodylen;
};

/*
 * The packet of data (len bytes) at *off: fills *pkt, moves *off past it
 * and returns 1; returns 0 at the end of data, or KS_INVALID (with *off
 * unchanged) if what is at *off is not a complete packet: no packet tag,
 * tag 0, a length past the end, or a partial or indeterminate length
 * (never used for keys).  Old and new formats, 1, 2 and 5 (4) byte
 * lengths.  *pkt points into data: it lives as long as data does.
 */
int		 ks_pgp_next(const unsigned char *data, size_t len,
		    size_t *off, struct ks_pkt *pkt);

/*
 * OpenPGP packet framing check (no cryptography): data must be a sequence
 * of complete packets.  Fills counts (may be NULL) indexed by packet tag,
 * 0..63.  KS_INVALID on a malformed or truncated packet, KS_SECRET if a
 * secret-key or secret-subkey packet (tag 5 or 7) is present.
 */
int		 ks_pgp_scan(const unsigned char *data, size_t len,
		    unsigned counts[64]);

/*
 * Backups.  ks_backup() writes to fd a compacted copy of the store
 * (LMDB's mdb_env_copyfd2() with MDB_CP_COMPACT): one file, of one
 * consistent snapshot taken in a read transaction, so writers and
 * readers go on meanwhile.  It holds everything, the revocation
 * certificates and the audit log too: keep it private.
 *
 * ks_check_file() opens such a file (or the data.mdb of a store)
 * read-only, without a lock file, and checks that it is a store of a
 * format this library reads: LMDB's meta pages, the file as long as they
 * say, the tables of its format, and every record decodable as the write
 * functions made it (a published key or a stored certificate: public key
 * packets only).  info (may be NULL) gets what it holds.  KS_OK,
 * KS_INVALID (not a wkdd store: another file, or another program's LMDB
 * file), KS_VERSION, KS_CORRUPT (truncated, or a record that doesn't
 * decode), an errno value or an LMDB code.
 *
 * ks_restore() checks file as ks_check_file() does, then replaces all of
 * ks's store (opened for writing) with its content in one write
 * transaction: every reader sees the old store or the new one, and a
 * reader process (wkdd) serves the new one from its next transaction,
 * without reopening; lock.mdb and data.mdb stay the files they are (the
 * map grows if it must hold both until the commit).  A format 1 file
 * gets its indexes.  cb, if not NULL, runs in that transaction before the
 * commit (an audit entry); a non-zero return aborts it with that code.
 * On any error nothing has changed.
 */
struct ks_backup_info {
	int		 format;	/* 1, 2 or 3. */
	size_t		 bytes;		/* Of the file. */
	size_t		 domains, addrs, keys, served;	/* Records. */
};
int		 ks_backup(struct ks *, int fd);
int		 ks_check_file(const char *file, struct ks_backup_info *info);
int		 ks_restore(struct ks *, const char *file,
		    int (*cb)(struct ks_txn *, void *), void *arg);

const char	*ks_strerror(int);	/* Static string; never NULL. */

#endif /* KEYSTORE_H */
