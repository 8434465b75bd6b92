/*
 * oldfmt.h: turn a store made by this version (format 3) into one of an
 * earlier format by hand, with raw LMDB, for the upgrade tests:
 *
 *	downgrade(dir, "2"): every published key's bytes inline in its wkd
 *	    record (v1: u8 1, u8 etaglen, etag, bytes), read back through
 *	    ks_wkd_get() with their ETags; the blobs table dropped.
 *	downgrade(dir, "1"): the same, and the index tables dropped.
 *	downgrade(dir, other): only the format written (a later version).
 *
 * Returns 0 or an LMDB or KS_* code.
 */
#ifndef OLDFMT_H
#define OLDFMT_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "keystore.h"

static const char *const oldfmt_index_tables[] = {
	"addrs-by-account", "addrs-by-domain", "addrs-by-key",
	"certinfo-by-successor", "certs-by-uid"
};

/*
 * Open the store in dir by raw LMDB with a transaction (rdonly: both
 * read-only): 0, or an LMDB code with nothing left open.  raw_close()
 * commits (or, rdonly, aborts) and closes: 0 or an LMDB code.
 */
static int
raw_open(const char *dir, int rdonly, MDB_env **env, MDB_txn **txn)
{
	int	 rc;

	if ((rc = mdb_env_create(env)) != 0)
		return (rc);
	(void)mdb_env_set_maxdbs(*env, 32);
	if ((rc = mdb_env_open(*env, dir, rdonly ? MDB_RDONLY : 0,
	    0660)) != 0 || (rc = mdb_txn_begin(*env, NULL, rdonly ?
	    MDB_RDONLY : 0, txn)) != 0)
		mdb_env_close(*env);
	return (rc);
}

static int
raw_close(MDB_env *env, MDB_txn *txn, int rc, int rdonly)
{
	if (rc == 0 && !rdonly)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	mdb_env_close(env);
	return (rc);
}

struct oldfmt_rec {
	char		 key[KS_DOMAIN_MAX + KS_HASH_LEN + 2];
	struct ks_blob	 b;
};

/* Every wkd record's key, bytes and ETag, read by the keystore. */
static int
oldfmt_read(const char *dir, struct oldfmt_rec **recs, size_t *n)
{
	struct ks	*ks;
	struct ks_txn	*t;
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_cursor	*c;
	MDB_val		 k, v;
	struct oldfmt_rec *r = NULL, *nr;
	char		*slash;
	int		 rc;

	*n = 0;
	if ((rc = raw_open(dir, 1, &env, &txn)) != 0)
		return (rc);
	if ((rc = mdb_dbi_open(txn, "wkd", 0, &dbi)) == 0 &&
	    (rc = mdb_cursor_open(txn, dbi, &c)) == 0) {
		while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
			if ((nr = realloc(r, (*n + 1) * sizeof(*r))) == NULL) {
				rc = ENOMEM;
				break;
			}
			r = nr;
			memset(&r[*n], 0, sizeof(r[*n]));
			if (k.mv_size >= sizeof(r[*n].key)) {
				rc = KS_CORRUPT;
				break;
			}
			memcpy(r[*n].key, k.mv_data, k.mv_size);
			(*n)++;
		}
		mdb_cursor_close(c);
	}
	(void)raw_close(env, txn, rc, 1);
	*recs = r;
	if (rc != MDB_NOTFOUND)
		return (rc);
	if ((rc = ks_open(&ks, dir, KS_RDONLY, 0)) != KS_OK)
		return (rc);
	if ((rc = ks_txn_begin(ks, KS_RDONLY, &t)) == KS_OK) {
		for (size_t i = 0; rc == KS_OK && i < *n; i++) {
			slash = strchr(r[i].key, '/');
			*slash = '\0';
			rc = ks_wkd_get(t, r[i].key, slash + 1, &r[i].b);
			*slash = '/';
		}
		ks_txn_abort(t);
	}
	ks_close(ks);
	return (rc);
}

static int
downgrade(const char *dir, const char *format)
{
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_val			 k, v;
	struct oldfmt_rec	*recs = NULL;
	unsigned char		*rec;
	size_t			 i, n = 0, elen;
	int			 rc, old;

	old = strcmp(format, "1") == 0 || strcmp(format, "2") == 0;
	if (old && (rc = oldfmt_read(dir, &recs, &n)) != 0)
		goto out;
	if ((rc = raw_open(dir, 0, &env, &txn)) != 0)
		goto out;
	if (strcmp(format, "1") == 0)
		for (i = 0; rc == 0 && i < sizeof(oldfmt_index_tables) /
		    sizeof(oldfmt_index_tables[0]); i++)
			if ((rc = mdb_dbi_open(txn, oldfmt_index_tables[i], 0,
			    &dbi)) == 0)
				rc = mdb_drop(txn, dbi, 1);
	if (rc == 0 && old && (rc = mdb_dbi_open(txn, "blobs", 0, &dbi)) ==
	    0)
		rc = mdb_drop(txn, dbi, 1);
	if (rc == 0 && old)
		rc = mdb_dbi_open(txn, "wkd", 0, &dbi);
	for (i = 0; rc == 0 && old && i < n; i++) {
		elen = strlen(recs[i].b.etag);
		if ((rec = malloc(2 + elen + recs[i].b.len)) == NULL) {
			rc = ENOMEM;
			break;
		}
		rec[0] = 1;
		rec[1] = elen;
		memcpy(rec + 2, recs[i].b.etag, elen);
		memcpy(rec + 2 + elen, recs[i].b.data, recs[i].b.len);
		k.mv_data = recs[i].key;
		k.mv_size = strlen(recs[i].key);
		v.mv_data = rec;
		v.mv_size = 2 + elen + recs[i].b.len;
		rc = mdb_put(txn, dbi, &k, &v, 0);
		free(rec);
	}
	if (rc == 0 && (rc = mdb_dbi_open(txn, "meta", 0, &dbi)) == 0) {
		k.mv_data = (void *)(uintptr_t)"format";
		k.mv_size = 6;
		v.mv_data = (void *)(uintptr_t)format;
		v.mv_size = strlen(format);
		rc = mdb_put(txn, dbi, &k, &v, 0);
	}
	rc = raw_close(env, txn, rc, 0);
out:
	for (i = 0; i < n; i++)
		ks_blob_free(&recs[i].b);
	free(recs);
	return (rc);
}

#endif /* OLDFMT_H */
