/*
 * publish.c: which stored key an address serves, and serving it.
 *
 * An address serves one key: the blob of its UID alone (pgp_shape()),
 * followed by the revoked key it replaced when its domain keeps revoked
 * keys.  A key that is replaced is marked superseded and never takes the
 * address back; a revoked or superseded key never displaces a valid one.
 * When a key changes (merged, revoked), every address serving it is
 * served anew; when an address is bound again (publish, alias add), the
 * best stored key of its own account with a valid UID for it is chosen,
 * never one imported for, or naming, another account.
 *
 * "wkdctl publish" and "wkdctl unpublish" are the front end.
 */

#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keystore.h"
#include "wkdctl.h"

/* Take down what a publishes, clear its key, log why. */
int
publish_drop(struct ks_txn *txn, struct ks_addr *a, const char *why)
{
	int	 rc;

	if ((rc = audit_log(txn, a->addr, "unpublished key %s: %s", a->fpr,
	    why)) != KS_OK)
		return (rc);
	if ((rc = wkd_del(txn, a->addr)) != KS_OK)
		return (rc);
	a->fpr[0] = '\0';
	return (ks_addr_put(txn, a));
}

/* Collect stored fingerprints (ks_cert_foreach_addr). */
struct publish_keys {
	char	(*v)[KS_FPR_MAX];
	size_t	 n;
};

static int
publish_keys_cb(const char *fpr, const unsigned char *data, size_t len,
    void *arg)
{
	struct publish_keys	 *l = arg;
	char		(*nv)[KS_FPR_MAX];

	(void)data;
	(void)len;
	if ((nv = reallocarray(l->v, l->n + 1, sizeof(*nv))) == NULL)
		return (ENOMEM);
	l->v = nv;
	(void)snprintf(l->v[l->n++], KS_FPR_MAX, "%s", fpr);
	return (0);
}

/* The stored keys with a UID naming addr, in fingerprint order. */
static int
publish_keys(struct ks_txn *txn, const char *addr, struct publish_keys *l)
{
	int	 rc;

	memset(l, 0, sizeof(*l));
	if ((rc = ks_cert_foreach_addr(txn, addr, publish_keys_cb, l)) !=
	    KS_OK) {
		warnx("reading keys: %s", ks_strerror(rc));
		free(l->v);
		memset(l, 0, sizeof(*l));
		return (-1);
	}
	return (0);
}

/*
 * Load stored key fpr, merged and classified, into *m; the index of its
 * valid UID for addr (or -1) into *uidx.  Returns 0, or -1 after warning.
 */
int
publish_load(struct ks_txn *txn, const char *fpr, const char *addr,
    struct pgp_cert *m, ssize_t *uidx)
{
	struct ks_blob	 b;
	size_t		 j;
	int		 rc;

	memset(m, 0, sizeof(*m));
	*uidx = -1;
	if ((rc = ks_cert_get(txn, fpr, &b)) != KS_OK) {
		warnx("key %s: %s", fpr, store_strerror(rc));
		return (-1);
	}
	rc = pgp_merge(fpr, NULL, 0, b.data, b.len, m);
	ks_blob_free(&b);
	if (rc == -1)
		return (-1);
	for (j = 0; addr != NULL && j < m->nuids; j++)
		if (m->uids[j].kind == PGP_UID_OK &&
		    strcmp(m->uids[j].addr, addr) == 0) {
			*uidx = j;
			break;
		}
	return (0);
}

/* The certinfo of each key superseded by a key (ks_certinfo_foreach_*). */
struct publish_preds {
	struct ks_certinfo	*v;
	size_t			 n;
};

static int
publish_preds_cb(const struct ks_certinfo *ci, void *arg)
{
	struct publish_preds	*l = arg;
	struct ks_certinfo	*nv;

	if ((nv = reallocarray(l->v, l->n + 1, sizeof(*nv))) == NULL)
		return (ENOMEM);
	l->v = nv;
	l->v[l->n++] = *ci;
	return (0);
}

/* The keys fpr superseded into *l (free l->v); 0, or -1 after warning. */
static int
publish_preds(struct ks_txn *txn, const char *fpr, struct publish_preds *l)
{
	int	 rc;

	memset(l, 0, sizeof(*l));
	if ((rc = ks_certinfo_foreach_successor(txn, fpr, publish_preds_cb,
	    l)) != KS_OK) {
		warnx("key %s: %s", fpr, ks_strerror(rc));
		free(l->v);
		memset(l, 0, sizeof(*l));
		return (-1);
	}
	return (0);
}

/*
 * With the domain of addr keeping revoked keys: the blob of the revoked
 * key that fpr superseded at addr (the latest, if several), into *blobp
 * (malloc(3)ed; NULL if none) and its fingerprint into pred.
 */
static int
publish_predecessor(struct ks_txn *txn, const char *fpr, const char *addr,
    unsigned char **blobp, size_t *lenp, char pred[KS_FPR_MAX])
{
	struct ks_domain	 d;
	struct publish_preds	 l;
	struct pgp_cert		 m;
	char			 local[KS_ADDR_MAX], dom[KS_DOMAIN_MAX];
	size_t			 i;
	ssize_t			 u;
	int64_t			 best = -1;
	int			 rc, ret = -1;

	*blobp = NULL;
	*lenp = 0;
	pred[0] = '\0';
	if (wkd_split(addr, local, sizeof(local), dom, sizeof(dom)) == -1)
		return (-1);
	if ((rc = ks_domain_get(txn, dom, &d)) != KS_OK) {
		warnx("%s: %s", dom, ks_strerror(rc));
		return (-1);
	}
	if (!(d.flags & KS_DOM_KEEP_REVOKED))
		return (0);
	if (publish_preds(txn, fpr, &l) == -1)
		return (-1);
	for (i = 0; i < l.n; i++) {
		if (l.v[i].mtime < best)
			continue;
		if (publish_load(txn, l.v[i].fpr, addr, &m, &u) == -1)
			goto out;
		if (m.revoked && u >= 0) {
			free(*blobp);
			*blobp = NULL;
			if (pgp_shape(&m, m.uids[u].text, blobp, lenp) == -1) {
				pgp_cert_free(&m);
				goto out;
			}
			best = l.v[i].mtime;
			(void)snprintf(pred, KS_FPR_MAX, "%s", l.v[i].fpr);
		}
		pgp_cert_free(&m);
	}
	ret = 0;
out:
	if (ret == -1) {
		free(*blobp);
		*blobp = NULL;
		*lenp = 0;
	}
	free(l.v);
	return (ret);
}

/* Record that key old was replaced by new at addr; new is current. */
int
publish_supersede(struct ks_txn *txn, const char *old, const char *new,
    const char *addr)
{
	struct ks_certinfo	 ci;
	struct ks_blob		 b;
	int			 rc;

	if ((rc = ks_certinfo_get(txn, old, &ci)) == KS_NOTFOUND) {
		memset(&ci, 0, sizeof(ci));
		(void)snprintf(ci.fpr, sizeof(ci.fpr), "%s", old);
	} else if (rc != KS_OK)
		return (rc);
	if ((rc = ks_cert_get(txn, old, &b)) == KS_NOTFOUND)
		return (KS_OK);	/* Removed meanwhile: nothing to mark. */
	ks_blob_free(&b);
	if (rc != KS_OK)
		return (rc);
	ci.flags |= KS_CERT_SUPERSEDED;
	(void)snprintf(ci.successor, sizeof(ci.successor), "%s", new);
	if ((rc = ks_certinfo_put(txn, &ci)) != KS_OK)
		return (rc);
	if ((rc = audit_log(txn, old, "key %s: superseded by %s at %s", old,
	    new, addr)) != KS_OK)
		return (rc);
	/* The new key is nobody's predecessor any more. */
	if ((rc = ks_certinfo_get(txn, new, &ci)) == KS_NOTFOUND)
		return (KS_OK);
	if (rc != KS_OK || !(ci.flags & KS_CERT_SUPERSEDED))
		return (rc);
	ci.flags &= ~KS_CERT_SUPERSEDED;
	ci.successor[0] = '\0';
	if ((rc = ks_certinfo_put(txn, &ci)) != KS_OK)
		return (rc);
	return (audit_log(txn, new, "key %s: current again at %s", new, addr));
}

/*
 * The facts of blob (the one-UID key shaped for u, before a predecessor is
 * appended) for wkdd's lookup: the fingerprint, the UID and the key's
 * state as pgp_state() reads it (known 0 where only RNP could say).  An
 * UID too long to record leaves f->uid "": no facts.
 */
static void
publish_facts(const struct pgp_cert *m, const struct pgp_uid *u,
    const unsigned char *blob, size_t blen, struct ks_facts *f)
{
	memset(f, 0, sizeof(*f));
	if (u->text == NULL || strlen(u->text) >= sizeof(f->uid))
		return;
	(void)snprintf(f->fpr, sizeof(f->fpr), "%s", m->fpr);
	(void)snprintf(f->uid, sizeof(f->uid), "%s", u->text);
	if (pgp_state(blob, blen, &f->state) != 0)
		memset(&f->state, 0, sizeof(f->state));
}

/*
 * Publish UID u of m at its address, whose record is *a (updated): shape
 * the blob, append the revoked predecessor's if the domain keeps it,
 * serve it under the address's hash(es), log it.  Errors go to errfp (the
 * import report, or stderr).
 */
int
publish_uid(struct ks_txn *txn, const struct pgp_cert *m,
    const struct pgp_uid *u, struct ks_addr *a, FILE *errfp)
{
	struct ks_facts	 facts;
	unsigned char	*blob, *pblob = NULL, *nb;
	size_t		 blen, plen = 0;
	char		 pred[KS_FPR_MAX], old[KS_FPR_MAX];
	int		 rc;

	if (pgp_shape(m, u->text, &blob, &blen) == -1)
		return (-1);
	publish_facts(m, u, blob, blen, &facts);
	if (blen > KS_BLOB_MAX) {
		io_err(errfp, "key %s: %s: the key to publish is %zu "
		    "bytes, over the %d KiB limit", m->fpr, u->addr, blen,
		    KS_BLOB_MAX / 1024);
		free(blob);
		return (-1);
	}
	if (publish_predecessor(txn, m->fpr, u->addr, &pblob, &plen,
	    pred) == -1) {
		free(blob);
		return (-1);
	}
	if (pblob != NULL && blen + plen > KS_BLOB_MAX) {
		fprintf(errfp, "  %s: revoked key %s not served with the "
		    "new key: together over %d KiB\n", u->addr, pred,
		    KS_BLOB_MAX / 1024);
		free(pblob);
		pblob = NULL;
	} else if (pblob != NULL) {
		if ((nb = realloc(blob, blen + plen)) == NULL) {
			io_err(errfp, "out of memory");
			free(blob);
			free(pblob);
			return (-1);
		}
		blob = nb;
		memcpy(blob + blen, pblob, plen);
		blen += plen;
		free(pblob);
	} else
		pred[0] = '\0';
	rc = wkd_put(txn, u->addr, blob, blen, facts.uid[0] != '\0' ?
	    &facts : NULL);
	free(blob);
	(void)snprintf(old, sizeof(old), "%s", a->fpr);
	if (rc == KS_OK) {
		if (old[0] != '\0' && strcmp(old, m->fpr) != 0)
			rc = audit_log(txn, u->addr, "published key %s "
			    "(replaces %s)", m->fpr, old);
		else
			rc = audit_log(txn, u->addr, "%spublished key %s%s%s%s",
			    old[0] != '\0' ? "re" : "", m->fpr,
			    m->revoked ? " (revoked)" : "",
			    pred[0] != '\0' ? ", then revoked key " : "", pred);
	}
	if (rc == KS_OK && old[0] != '\0' && strcmp(old, m->fpr) != 0)
		rc = publish_supersede(txn, old, m->fpr, u->addr);
	if (rc == KS_OK) {
		(void)snprintf(a->fpr, sizeof(a->fpr), "%s", m->fpr);
		rc = ks_addr_put(txn, a);
	}
	if (rc != KS_OK) {
		io_err(errfp, "key %s: %s: %s", m->fpr, u->addr,
		    store_strerror(rc));
		return (-1);
	}
	return (0);
}

int
publish_refresh(struct ks_txn *txn, struct ks_addr *a, FILE *errfp)
{
	struct pgp_cert	 m;
	ssize_t		 u;
	int		 rc;

	if (a->fpr[0] == '\0')
		return (0);
	if (publish_load(txn, a->fpr, a->addr, &m, &u) == -1)
		return (-1);
	if (u < 0) {
		rc = publish_drop(txn, a, "its UID is revoked, invalid or "
		    "gone");
		pgp_cert_free(&m);
		if (rc != KS_OK) {
			warnx("%s: %s", a->addr, store_strerror(rc));
			return (-1);
		}
		return (0);
	}
	rc = publish_uid(txn, &m, &m.uids[u], a, errfp);
	pgp_cert_free(&m);
	return (rc);
}

int
publish_refresh_domain(struct ks_txn *txn, const char *domain)
{
	struct store_addrs	 l;
	size_t			 i;
	int			 ret = 0;

	if (store_addrs_domain(txn, domain, &l) == -1)
		return (-1);
	for (i = 0; i < l.n && ret == 0; i++)
		if (l.v[i].fpr[0] != '\0')
			ret = publish_refresh(txn, &l.v[i], stderr);
	store_addrs_free(&l);
	return (ret);
}

/*
 * Key fpr changed (revoked, say): serve again every address whose key fpr
 * is, and every address where it is the kept predecessor.
 */
int
publish_refresh_key(struct ks_txn *txn, const char *fpr, FILE *errfp)
{
	struct store_addrs	 l;
	struct ks_certinfo	 ci;
	size_t			 i;
	int			 rc, ret = 0;

	if ((rc = ks_certinfo_get(txn, fpr, &ci)) != KS_OK) {
		if (rc != KS_NOTFOUND) {
			warnx("key %s: %s", fpr, ks_strerror(rc));
			return (-1);
		}
		ci.flags = 0;
	}
	if (store_addrs_key(txn, fpr, &l) == -1)
		return (-1);
	for (i = 0; i < l.n && ret == 0; i++)
		ret = publish_refresh(txn, &l.v[i], errfp);
	store_addrs_free(&l);
	if (ret != 0 || !(ci.flags & KS_CERT_SUPERSEDED))
		return (ret);
	if (store_addrs_key(txn, ci.successor, &l) == -1)
		return (-1);
	for (i = 0; i < l.n && ret == 0; i++)
		ret = publish_refresh(txn, &l.v[i], errfp);
	store_addrs_free(&l);
	return (ret);
}

/*
 * Has m a UID (valid or revoked: addresses never move, so a revoked one
 * still says whose key it is) whose address is bound to an account other
 * than account?  Then m is someone else's key (imported for them, perhaps
 * with --account): 1.  0 if not, -1 after warning.
 */
static int
publish_foreign(struct ks_txn *txn, const struct pgp_cert *m,
    const char *account)
{
	struct ks_addr	 b;
	size_t		 j;
	int		 rc;

	for (j = 0; j < m->nuids; j++) {
		if (m->uids[j].addr[0] == '\0')
			continue;
		if ((rc = ks_addr_get(txn, m->uids[j].addr, &b)) ==
		    KS_NOTFOUND)
			continue;
		if (rc != KS_OK) {
			warnx("%s: %s", m->uids[j].addr, ks_strerror(rc));
			return (-1);
		}
		if (strcmp(b.account, account) != 0)
			return (1);
	}
	return (0);
}

/*
 * How good a choice UID u of m is for its address, higher is better: an
 * unrevoked key before a revoked one, an unexpired before an expired, one
 * no key superseded (sup 0) before one, then the newest self-signature.
 */
static int64_t
publish_rank(const struct pgp_cert *m, ssize_t u, int sup)
{
	return ((int64_t)!m->revoked << 35 | (int64_t)!m->expired << 34 |
	    (int64_t)!sup << 33 | m->uids[u].sigtime);
}

int
publish_any(struct ks_txn *txn, struct ks_addr *a,
    char fpr_out[KS_FPR_MAX])
{
	struct publish_keys		 l;
	struct ks_certinfo	 ci;
	struct pgp_cert		 m, best;
	ssize_t			 u, bu = -1;
	size_t			 i;
	int			 rc, ret = -1, sup, bsup = 0;

	memset(&best, 0, sizeof(best));
	if (publish_keys(txn, a->addr, &l) == -1)
		return (-1);
	for (i = 0; i < l.n; i++) {
		if ((rc = ks_certinfo_get(txn, l.v[i], &ci)) != KS_OK &&
		    rc != KS_NOTFOUND) {
			warnx("key %s: %s", l.v[i], ks_strerror(rc));
			goto out;
		}
		if (rc == KS_NOTFOUND)
			ci.flags = ci.ctime = 0;
		/* Imported for another account: never this one's key. */
		if (ci.account[0] != '\0' &&
		    strcmp(ci.account, a->account) != 0)
			continue;
		sup = (ci.flags & KS_CERT_SUPERSEDED) != 0;
		if (publish_load(txn, l.v[i], a->addr, &m, &u) == -1)
			goto out;
		if (u >= 0 &&
		    (rc = publish_foreign(txn, &m, a->account)) != 0) {
			pgp_cert_free(&m);
			if (rc == -1)
				goto out;
			continue;
		}
		if (u < 0 || (bu >= 0 && publish_rank(&m, u, sup) <=
		    publish_rank(&best, bu, bsup))) {
			pgp_cert_free(&m);
			continue;
		}
		pgp_cert_free(&best);
		best = m;
		bu = u;
		bsup = sup;
	}
	if (bu < 0) {
		ret = 0;
		goto out;
	}
	if (publish_uid(txn, &best, &best.uids[bu], a, stderr) == -1)
		goto out;
	(void)snprintf(fpr_out, KS_FPR_MAX, "%s", best.fpr);
	ret = 1;
out:
	pgp_cert_free(&best);
	free(l.v);
	return (ret);
}

/*
 * Publish addr (just bound or reactivated) from a key its account already
 * has in the store, if one has a valid UID for it and is neither revoked
 * nor superseded; else as publish_any() ranks them.  Returns 1 if
 * published (*fpr_out set), 0 if no stored key has such a UID, -1 after
 * warning.
 */
int
publish_stored(struct ks_txn *txn, const char *addr,
    char fpr_out[KS_FPR_MAX])
{
	struct store_addrs	 l;
	struct ks_addr		 a;
	struct ks_blob		 b;
	struct ks_certinfo	 ci;
	struct pgp_cert		 m;
	size_t			 i, j;
	int			 rc, ret = -1;

	memset(&b, 0, sizeof(b));
	memset(&m, 0, sizeof(m));
	if ((rc = ks_addr_get(txn, addr, &a)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		return (-1);
	}
	if (store_addrs(txn, a.account, &l) == -1)
		return (-1);
	for (i = 0; i < l.n; i++) {
		if (l.v[i].fpr[0] == '\0')
			continue;
		for (j = 0; j < i; j++)
			if (strcmp(l.v[j].fpr, l.v[i].fpr) == 0)
				break;
		if (j < i)
			continue;	/* Key seen already. */
		if ((rc = ks_cert_get(txn, l.v[i].fpr, &b)) != KS_OK) {
			warnx("key %s: %s", l.v[i].fpr, store_strerror(rc));
			goto out;
		}
		if (pgp_merge(l.v[i].fpr, NULL, 0, b.data, b.len, &m) == -1)
			goto out;
		ks_blob_free(&b);
		for (j = 0; j < m.nuids; j++)
			if (m.uids[j].kind == PGP_UID_OK &&
			    strcmp(m.uids[j].addr, addr) == 0)
				break;
		if ((rc = ks_certinfo_get(txn, m.fpr, &ci)) != KS_OK &&
		    rc != KS_NOTFOUND) {
			warnx("key %s: %s", m.fpr, ks_strerror(rc));
			goto out;
		}
		/*
		 * A key another address still serves may have been replaced
		 * or revoked since: it never takes this address back from
		 * its successor.
		 */
		if (j == m.nuids || m.revoked || (rc == KS_OK &&
		    (ci.flags & KS_CERT_SUPERSEDED))) {
			pgp_cert_free(&m);
			continue;
		}
		if (publish_uid(txn, &m, &m.uids[j], &a, stderr) == -1)
			goto out;
		(void)snprintf(fpr_out, KS_FPR_MAX, "%s", m.fpr);
		ret = 1;
		goto out;
	}
	ret = publish_any(txn, &a, fpr_out);
out:
	pgp_cert_free(&m);
	ks_blob_free(&b);
	store_addrs_free(&l);
	return (ret);
}

/* The address record for publish/unpublish: bound, active, not removed. */
static int
publish_addr(struct ks_txn *txn, const char *addr, struct ks_addr *a)
{
	int	 rc, removed;

	if (store_addr(txn, addr, a) == -1)
		return (-1);
	if (a->state == KS_ADDR_RETIRED) {
		warnx("%s: retired alias (wkdctl alias add brings it back)",
		    addr);
		return (-1);
	}
	if ((rc = account_removed(txn, a, &removed)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		return (-1);
	}
	if (removed) {
		warnx("%s: account %s was removed", addr, a->account);
		return (-1);
	}
	return (0);
}

int
publish_off(struct ks_txn *txn, const char *addr, char old[KS_FPR_MAX])
{
	struct ks_addr	 a;
	int		 rc;

	if (publish_addr(txn, addr, &a) == -1)
		return (-1);
	if (a.flags & KS_AF_UNPUBLISHED) {
		warnx("%s: unpublished already", addr);
		return (-1);
	}
	if ((rc = wkd_del(txn, addr)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		return (-1);
	}
	(void)snprintf(old, KS_FPR_MAX, "%s", a.fpr);
	if (audit_log(txn, addr, "published%s%s -> unpublished by the "
	    "operator", old[0] != '\0' ? " key " : " (no key)", old) != KS_OK)
		return (-1);
	a.fpr[0] = '\0';
	a.flags |= KS_AF_UNPUBLISHED;
	if ((rc = ks_addr_put(txn, &a)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		return (-1);
	}
	return (0);
}

int
publish_on(struct ks_txn *txn, const char *addr, char fpr[KS_FPR_MAX])
{
	struct ks_addr	 a;
	int		 rc, pub;

	if (publish_addr(txn, addr, &a) == -1)
		return (-1);
	if (!(a.flags & KS_AF_UNPUBLISHED)) {
		warnx("%s: not unpublished (wkdctl import publishes keys)",
		    addr);
		return (-1);
	}
	a.flags &= ~KS_AF_UNPUBLISHED;
	if ((rc = ks_addr_put(txn, &a)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		return (-1);
	}
	if ((pub = publish_stored(txn, addr, fpr)) == -1)
		return (-1);
	if (audit_log(txn, addr, "unpublished -> published%s%s", pub ?
	    " key " : " (no key yet)", pub ? fpr : "") != KS_OK)
		return (-1);
	return (pub);
}

int
cmd_unpublish(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn	*txn;
	char		 addr[KS_ADDR_MAX], old[KS_FPR_MAX];

	if (argc != 2 || argv[1][0] == '-')
		return (cli_usage(UNPUBLISH_USAGE));
	if (cli_addr(argv[1], addr, NULL) == -1 ||
	    store_begin(ctl, 0, &txn) == -1)
		return (1);
	if (publish_off(txn, addr, old) == -1)
		return (store_abort(txn));
	if (store_commit(ctl, txn) == -1)
		return (1);
	printf("%s unpublished%s%s%s; imports won't publish it until "
	    "\"wkdctl publish %s\"\n", addr, old[0] != '\0' ? " (key " : "",
	    old, old[0] != '\0' ? ")" : "", addr);
	return (0);
}

int
cmd_publish(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn	*txn;
	char		 addr[KS_ADDR_MAX], fpr[KS_FPR_MAX];
	int		 pub;

	if (argc != 2 || argv[1][0] == '-')
		return (cli_usage(PUBLISH_USAGE));
	if (cli_addr(argv[1], addr, NULL) == -1 ||
	    store_begin(ctl, 0, &txn) == -1)
		return (1);
	if ((pub = publish_on(txn, addr, fpr)) == -1)
		return (store_abort(txn));
	if (store_commit(ctl, txn) == -1)
		return (1);
	if (pub)
		printf("%s published again (key %s)\n", addr, fpr);
	else
		printf("%s may be published again: no stored key has a valid "
		    "UID for it; import one\n", addr);
	return (0);
}

int
publish_orphans(struct ks_txn *txn, const char *fpr)
{
	struct publish_preds	 l;
	size_t			 i;
	int			 rc = KS_OK;

	if (publish_preds(txn, fpr, &l) == -1)
		return (KS_INVALID);
	for (i = 0; i < l.n && rc == KS_OK; i++) {
		l.v[i].flags &= ~KS_CERT_SUPERSEDED;
		l.v[i].successor[0] = '\0';
		if ((rc = ks_certinfo_put(txn, &l.v[i])) == KS_OK)
			rc = audit_log(txn, l.v[i].fpr, "key %s: no longer "
			    "superseded (its successor %s was removed)",
			    l.v[i].fpr, fpr);
	}
	free(l.v);
	return (rc);
}
