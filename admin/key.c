/*
 * key.c: keys: import, list, show, export, hash, remove.
 *
 * import reads and parses every input before it opens the store's write
 * transaction; everything it changes happens in that one transaction, and
 * any error aborts it, so a failed import leaves the store as it was.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keystore.h"
#include "wkdctl.h"

/* Largest input file: a keyring of secret keys can be big. */
#define IMPORT_FILE_MAX	(64 * 1024 * 1024)

static const char *
key_kserr(int rc)
{
	if (rc == KS_FULL)
		return ("store full (raise store-size in wkdd.conf)");
	if (rc == KS_TOOBIG)
		return ("too big to publish (over 256 KiB)");
	return (ks_strerror(rc));
}

int
key_account_removed(struct ks_txn *txn, const struct ks_addr *a,
    int *removed)
{
	struct ks_addr	 p;
	int		 rc;

	*removed = 0;
	if (a->state == KS_ADDR_PRIMARY) {
		*removed = (a->flags & KS_AF_REMOVED) != 0;
		return (KS_OK);
	}
	if ((rc = ks_addr_get(txn, a->account, &p)) != KS_OK)
		return (rc == KS_NOTFOUND ? KS_OK : rc);
	*removed = (p.flags & KS_AF_REMOVED) != 0;
	return (KS_OK);
}

/* Why u (a UID of a key being imported) isn't published, or NULL. */
static const char *
import_reason(struct ks_txn *txn, const char *account,
    const struct pgp_cert *c, size_t i, char *buf, size_t bufsz, int *rcp)
{
	const struct pgp_uid	*u = &c->uids[i];
	struct ks_domain	 d;
	struct ks_addr		 a;
	struct ks_certinfo	 ci;
	size_t			 j;
	int			 rc, removed;

	*rcp = KS_OK;
	switch (u->kind) {
	case PGP_UID_ATTR:
		return ("user attribute (photo ID): never published");
	case PGP_UID_INVALID:
		return ("no valid self-signature");
	case PGP_UID_REVOKED:
		return ("revoked UID");
	case PGP_UID_NOADDR:
		return ("no mail address in it");
	}
	if ((rc = ks_domain_get(txn, u->domain, &d)) == KS_NOTFOUND) {
		(void)snprintf(buf, bufsz, "domain %s is not hosted",
		    u->domain);
		return (buf);
	} else if (rc != KS_OK) {
		*rcp = rc;
		return (ks_strerror(rc));
	}
	if ((rc = ks_addr_get(txn, u->addr, &a)) == KS_NOTFOUND) {
		if (account != NULL)
			(void)snprintf(buf, bufsz, "not an address of "
			    "account %s", account);
		else
			(void)snprintf(buf, bufsz, "not an address of any "
			    "account");
		return (buf);
	} else if (rc != KS_OK) {
		*rcp = rc;
		return (ks_strerror(rc));
	}
	if (account != NULL && strcmp(a.account, account) != 0) {
		(void)snprintf(buf, bufsz, "an address of another account "
		    "(%s), not of %s", a.account, account);
		return (buf);
	}
	if (a.state == KS_ADDR_RETIRED) {
		(void)snprintf(buf, bufsz, "retired alias of account %s",
		    a.account);
		return (buf);
	}
	if (a.flags & KS_AF_UNPUBLISHED) {
		(void)snprintf(buf, bufsz, "unpublished by the operator "
		    "(\"wkdctl publish %s\" serves it again)", a.addr);
		return (buf);
	}
	if ((rc = key_account_removed(txn, &a, &removed)) != KS_OK) {
		*rcp = rc;
		return (ks_strerror(rc));
	}
	if (removed) {
		(void)snprintf(buf, bufsz, "account %s was removed",
		    a.account);
		return (buf);
	}
	if (a.fpr[0] != '\0' && strcmp(a.fpr, c->fpr) != 0) {
		if (c->revoked) {
			(void)snprintf(buf, bufsz, "a revoked key does not "
			    "replace the key served (%s)", a.fpr);
			return (buf);
		}
		if ((rc = ks_certinfo_get(txn, c->fpr, &ci)) == KS_OK &&
		    (ci.flags & KS_CERT_SUPERSEDED)) {
			(void)snprintf(buf, bufsz, "the key was superseded "
			    "by %s; it serves %s (wkdctl remove that key "
			    "first to go back)", ci.successor, a.fpr);
			return (buf);
		} else if (rc != KS_OK && rc != KS_NOTFOUND) {
			*rcp = rc;
			return (ks_strerror(rc));
		}
	}
	for (j = 0; j < i; j++)
		if (c->uids[j].kind == PGP_UID_OK &&
		    strcmp(c->uids[j].addr, u->addr) == 0)
			return ("another UID with this address comes first");
	return (NULL);
}

/*
 * An error while importing: it goes into the report, which is printed on
 * stderr, after what was found so far, when the import fails.
 */
static void __attribute__((format(printf, 2, 3)))
import_err(FILE *rep, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(rep, "wkdctl: ");
	va_start(ap, fmt);
	vfprintf(rep, fmt, ap);
	va_end(ap);
	fprintf(rep, "\n");
}

/* Take down what a publishes, clear its key, log why. */
static int
key_unpublish(struct ks_txn *txn, struct ks_addr *a, const char *why)
{
	int	 rc;

	if ((rc = ctl_log(txn, a->addr, "unpublished key %s: %s", a->fpr,
	    why)) != KS_OK)
		return (rc);
	if ((rc = pub_del(txn, a->addr)) != KS_OK)
		return (rc);
	a->fpr[0] = '\0';
	return (ks_addr_put(txn, a));
}

/* Collect stored fingerprints (ks_cert_foreach). */
struct key_fprs {
	char	(*v)[KS_FPR_MAX];
	size_t	 n;
};

static int
key_fprs_cb(const char *fpr, const unsigned char *data, size_t len,
    void *arg)
{
	struct key_fprs	 *l = arg;
	char		(*nv)[KS_FPR_MAX];

	(void)data;
	(void)len;
	if ((nv = reallocarray(l->v, l->n + 1, sizeof(*nv))) == NULL)
		return (ENOMEM);
	l->v = nv;
	(void)snprintf(l->v[l->n++], KS_FPR_MAX, "%s", fpr);
	return (0);
}

static int
key_fprs(struct ks_txn *txn, struct key_fprs *l)
{
	int	 rc;

	memset(l, 0, sizeof(*l));
	if ((rc = ks_cert_foreach(txn, key_fprs_cb, l)) != KS_OK) {
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
static int
key_load(struct ks_txn *txn, const char *fpr, const char *addr,
    struct pgp_cert *m, ssize_t *uidx)
{
	struct ks_blob	 b;
	size_t		 j;
	int		 rc;

	memset(m, 0, sizeof(*m));
	*uidx = -1;
	if ((rc = ks_cert_get(txn, fpr, &b)) != KS_OK) {
		warnx("key %s: %s", fpr, key_kserr(rc));
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

/*
 * With the domain of addr keeping revoked keys: the blob of the revoked
 * key that fpr superseded at addr (the latest, if several), into *blobp
 * (malloc(3)ed; NULL if none) and its fingerprint into pred.
 */
static int
key_predecessor(struct ks_txn *txn, const char *fpr, const char *addr,
    unsigned char **blobp, size_t *lenp, char pred[KS_FPR_MAX])
{
	struct ks_domain	 d;
	struct ks_certinfo	 ci;
	struct key_fprs		 l;
	struct pgp_cert		 m;
	char			 local[KS_ADDR_MAX], dom[KS_DOMAIN_MAX];
	size_t			 i;
	ssize_t			 u;
	int64_t			 best = -1;
	int			 rc, ret = -1;

	*blobp = NULL;
	*lenp = 0;
	pred[0] = '\0';
	if (ctl_split(addr, local, sizeof(local), dom, sizeof(dom)) == -1)
		return (-1);
	if ((rc = ks_domain_get(txn, dom, &d)) != KS_OK) {
		warnx("%s: %s", dom, ks_strerror(rc));
		return (-1);
	}
	if (!(d.flags & KS_DOM_KEEP_REVOKED))
		return (0);
	if (key_fprs(txn, &l) == -1)
		return (-1);
	for (i = 0; i < l.n; i++) {
		if (strcmp(l.v[i], fpr) == 0)
			continue;
		if ((rc = ks_certinfo_get(txn, l.v[i], &ci)) == KS_NOTFOUND)
			continue;
		if (rc != KS_OK) {
			warnx("key %s: %s", l.v[i], ks_strerror(rc));
			goto out;
		}
		if (!(ci.flags & KS_CERT_SUPERSEDED) ||
		    strcmp(ci.successor, fpr) != 0 || ci.mtime < best)
			continue;
		if (key_load(txn, l.v[i], addr, &m, &u) == -1)
			goto out;
		if (m.revoked && u >= 0) {
			free(*blobp);
			*blobp = NULL;
			if (pgp_shape(&m, m.uids[u].text, blobp, lenp) == -1) {
				pgp_cert_free(&m);
				goto out;
			}
			best = ci.mtime;
			(void)snprintf(pred, KS_FPR_MAX, "%s", l.v[i]);
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
static int
key_supersede(struct ks_txn *txn, const char *old, const char *new,
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
	if ((rc = ctl_log(txn, old, "key %s: superseded by %s at %s", old,
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
	return (ctl_log(txn, new, "key %s: current again at %s", new, addr));
}

/*
 * Publish UID u of m at its address, whose record is *a (updated): shape
 * the blob, append the revoked predecessor's if the domain keeps it,
 * serve it under the address's hash(es), log it.  Errors go to errfp (the
 * import report, or stderr).
 */
static int
key_publish(struct ks_txn *txn, const struct pgp_cert *m,
    const struct pgp_uid *u, struct ks_addr *a, FILE *errfp)
{
	unsigned char	*blob, *pblob = NULL, *nb;
	size_t		 blen, plen = 0;
	char		 pred[KS_FPR_MAX], old[KS_FPR_MAX];
	int		 rc;

	if (pgp_shape(m, u->text, &blob, &blen) == -1)
		return (-1);
	if (blen > KS_BLOB_MAX) {
		import_err(errfp, "key %s: %s: the key to publish is %zu "
		    "bytes, over the 256 KiB limit", m->fpr, u->addr, blen);
		free(blob);
		return (-1);
	}
	if (key_predecessor(txn, m->fpr, u->addr, &pblob, &plen,
	    pred) == -1) {
		free(blob);
		return (-1);
	}
	if (pblob != NULL && blen + plen > KS_BLOB_MAX) {
		fprintf(errfp, "  %s: revoked key %s not served with the "
		    "new key: together over 256 KiB\n", u->addr, pred);
		free(pblob);
		pblob = NULL;
	} else if (pblob != NULL) {
		if ((nb = realloc(blob, blen + plen)) == NULL) {
			import_err(errfp, "out of memory");
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
	rc = pub_put(txn, u->addr, blob, blen);
	free(blob);
	(void)snprintf(old, sizeof(old), "%s", a->fpr);
	if (rc == KS_OK) {
		if (old[0] != '\0' && strcmp(old, m->fpr) != 0)
			rc = ctl_log(txn, u->addr, "published key %s "
			    "(replaces %s)", m->fpr, old);
		else
			rc = ctl_log(txn, u->addr, "%spublished key %s%s%s%s",
			    old[0] != '\0' ? "re" : "", m->fpr,
			    m->revoked ? " (revoked)" : "",
			    pred[0] != '\0' ? ", then revoked key " : "", pred);
	}
	if (rc == KS_OK && old[0] != '\0' && strcmp(old, m->fpr) != 0)
		rc = key_supersede(txn, old, m->fpr, u->addr);
	if (rc == KS_OK) {
		(void)snprintf(a->fpr, sizeof(a->fpr), "%s", m->fpr);
		rc = ks_addr_put(txn, a);
	}
	if (rc != KS_OK) {
		import_err(errfp, "key %s: %s: %s", m->fpr, u->addr,
		    key_kserr(rc));
		return (-1);
	}
	return (0);
}

int
key_refresh(struct ks_txn *txn, struct ks_addr *a, FILE *errfp)
{
	struct pgp_cert	 m;
	ssize_t		 u;
	int		 rc;

	if (a->fpr[0] == '\0')
		return (0);
	if (key_load(txn, a->fpr, a->addr, &m, &u) == -1)
		return (-1);
	if (u < 0) {
		rc = key_unpublish(txn, a, "its UID is revoked, invalid or "
		    "gone");
		pgp_cert_free(&m);
		if (rc != KS_OK) {
			warnx("%s: %s", a->addr, key_kserr(rc));
			return (-1);
		}
		return (0);
	}
	rc = key_publish(txn, &m, &m.uids[u], a, errfp);
	pgp_cert_free(&m);
	return (rc);
}

int
key_refresh_domain(struct ks_txn *txn, const char *domain)
{
	struct ctl_addrs	 l;
	char			 local[KS_ADDR_MAX], d[KS_DOMAIN_MAX];
	size_t			 i;
	int			 ret = 0;

	if (ctl_addrs(txn, NULL, &l) == -1)
		return (-1);
	for (i = 0; i < l.n && ret == 0; i++) {
		if (l.v[i].fpr[0] == '\0' || ctl_split(l.v[i].addr, local,
		    sizeof(local), d, sizeof(d)) == -1 ||
		    strcmp(d, domain) != 0)
			continue;
		ret = key_refresh(txn, &l.v[i], stderr);
	}
	ctl_addrs_free(&l);
	return (ret);
}

/*
 * Key fpr changed (revoked, say): serve again every address whose key fpr
 * is, and every address where it is the kept predecessor.
 */
int
key_refresh_key(struct ks_txn *txn, const char *fpr, FILE *errfp)
{
	struct ctl_addrs	 l;
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
	if (ctl_addrs(txn, NULL, &l) == -1)
		return (-1);
	for (i = 0; i < l.n && ret == 0; i++) {
		if (l.v[i].fpr[0] == '\0')
			continue;
		if (strcmp(l.v[i].fpr, fpr) == 0 ||
		    ((ci.flags & KS_CERT_SUPERSEDED) &&
		    strcmp(l.v[i].fpr, ci.successor) == 0))
			ret = key_refresh(txn, &l.v[i], errfp);
	}
	ctl_addrs_free(&l);
	return (ret);
}

/*
 * Record that fpr was imported for account (--account): publish and
 * alias add then never fall back on it for another account's address.
 */
static int
key_claim(struct ks_txn *txn, const char *fpr, const char *account)
{
	struct ks_certinfo	 ci;
	int			 rc;

	if ((rc = ks_certinfo_get(txn, fpr, &ci)) == KS_NOTFOUND)
		(void)snprintf(ci.fpr, sizeof(ci.fpr), "%s", fpr);
	else if (rc != KS_OK)
		return (rc);
	if (strcmp(ci.account, account) == 0)
		return (KS_OK);
	(void)snprintf(ci.account, sizeof(ci.account), "%s", account);
	return (ks_certinfo_put(txn, &ci));
}

/*
 * Import one key (in: its public packets as read): merge it with the
 * stored certificate, store the result, publish each eligible UID and
 * unpublish addresses whose UID no longer qualifies.  Reports to rep.
 */
static int
import_one(struct ks_txn *txn, const char *account,
    const struct pgp_cert *in, FILE *rep)
{
	struct pgp_cert		 m;
	struct ks_blob		 sb;
	struct ks_addr		 a;
	struct ctl_addrs	 l;
	const struct pgp_uid	*u;
	const char		*why;
	char			 buf[2 * KS_ADDR_MAX + 128];
	unsigned char		*pub = NULL, *drop = NULL;
	size_t			 i, j, npub = 0, ndrop = 0;
	int			 rc, stored, found;

	memset(&sb, 0, sizeof(sb));
	memset(&l, 0, sizeof(l));
	memset(&m, 0, sizeof(m));
	if ((rc = ks_cert_get(txn, in->fpr, &sb)) != KS_OK &&
	    rc != KS_NOTFOUND) {
		import_err(rep, "key %s: %s", in->fpr, key_kserr(rc));
		return (-1);
	}
	stored = rc == KS_OK;
	if (pgp_merge(in->fpr, stored ? sb.data : NULL, sb.len, in->data,
	    in->len, &m) == -1)
		goto fail;
	fprintf(rep, "key %s%s%s%s\n", m.fpr,
	    stored ? " (known: merged)" : "",
	    m.revoked ? " [revoked]" : "", m.expired ? " [expired]" : "");
	if (m.nuids > 0 && (pub = calloc(m.nuids, 1)) == NULL) {
		warn(NULL);
		goto fail;
	}
	for (i = 0; i < m.nuids; i++) {
		u = &m.uids[i];
		why = import_reason(txn, account, &m, i, buf, sizeof(buf), &rc);
		if (rc != KS_OK) {
			import_err(rep, "key %s: %s", m.fpr, key_kserr(rc));
			goto fail;
		}
		if (why != NULL) {
			fprintf(rep, "  not published: %s: %s\n",
			    u->text != NULL ? u->text : "[user attribute]",
			    why);
			/* A later UID of the same address may still go. */
			continue;
		}
		pub[i] = 1;
		npub++;
	}
	/*
	 * Addresses this key publishes now whose UID is gone or no longer
	 * valid (revoked, say).  An address left out only by this import's
	 * choice (--account) stays as it is.
	 */
	if (ctl_addrs(txn, NULL, &l) == -1)
		goto fail;
	if (l.n > 0 && (drop = calloc(l.n, 1)) == NULL) {
		warn(NULL);
		goto fail;
	}
	for (j = 0; j < l.n; j++) {
		if (strcmp(l.v[j].fpr, m.fpr) != 0)
			continue;
		for (found = 0, i = 0; i < m.nuids && !found; i++)
			found = m.uids[i].kind == PGP_UID_OK &&
			    strcmp(m.uids[i].addr, l.v[j].addr) == 0;
		if (!found) {
			drop[j] = 1;
			ndrop++;
		}
	}
	if (npub == 0 && ndrop == 0 && m.nuids == 0) {
		import_err(rep, "key %s: refused: the key has no user ID",
		    m.fpr);
		goto fail;
	}
	if (npub == 0 && ndrop == 0 && (!stored || account != NULL)) {
		import_err(rep, "key %s: refused: no UID with an address of "
		    "%s%s", m.fpr,
		    account != NULL ? "account " : "an account here",
		    account != NULL ? account : "");
		goto fail;
	}
	if ((rc = ks_cert_put(txn, m.fpr, m.data, m.len)) != KS_OK) {
		import_err(rep, "key %s: %s", m.fpr, key_kserr(rc));
		goto fail;
	}
	if (ctl_log(txn, m.fpr, "certificate %s (%zu bytes)%s",
	    stored ? "merged" : "stored", m.len,
	    m.revoked ? ", revoked" : "") != KS_OK)
		goto fail;
	if (account != NULL && (rc = key_claim(txn, m.fpr, account)) != KS_OK) {
		import_err(rep, "key %s: %s", m.fpr, key_kserr(rc));
		goto fail;
	}
	if (in->revoc != NULL) {
		if ((rc = ks_revoc_put(txn, m.fpr, in->revoc,
		    in->revoclen)) != KS_OK) {
			import_err(rep, "key %s: revocation certificate: %s",
			    m.fpr, key_kserr(rc));
			goto fail;
		}
		if (ctl_log(txn, m.fpr, "revocation certificate stored "
		    "(made from the secret key; never served)") != KS_OK)
			goto fail;
		fprintf(rep, "  revocation certificate made and stored "
		    "(never served; \"wkdctl revoke %s\" uses it)\n", m.fpr);
	} else if (in->revnote[0] != '\0')
		fprintf(rep, "  no revocation certificate made: %s\n",
		    in->revnote);
	for (i = 0; i < m.nuids; i++) {
		if (!pub[i])
			continue;
		u = &m.uids[i];
		if ((rc = ks_addr_get(txn, u->addr, &a)) != KS_OK) {
			import_err(rep, "key %s: %s: %s", m.fpr, u->addr,
			    key_kserr(rc));
			goto fail;
		}
		if (a.fpr[0] != '\0' && strcmp(a.fpr, m.fpr) != 0)
			fprintf(rep, "  published at %s (replaces key %s)\n",
			    u->addr, a.fpr);
		else
			fprintf(rep, "  published at %s\n", u->addr);
		if (key_publish(txn, &m, u, &a, rep) == -1)
			goto fail;
	}
	for (j = 0; j < l.n; j++) {
		if (!drop[j])
			continue;
		if ((rc = key_unpublish(txn, &l.v[j],
		    "its UID is revoked, invalid or gone")) != KS_OK) {
			import_err(rep, "key %s: %s: %s", m.fpr, l.v[j].addr,
			    key_kserr(rc));
			goto fail;
		}
		fprintf(rep, "  unpublished: %s (its UID is revoked, invalid "
		    "or gone)\n", l.v[j].addr);
	}
	/* Served elsewhere as a revoked predecessor: serve it anew. */
	if (stored && m.revoked && key_refresh_key(txn, m.fpr, rep) == -1)
		goto fail;
	if (npub == 0 && ndrop == 0)
		fprintf(rep, "  merged; no address changed\n");
	ctl_addrs_free(&l);
	free(drop);
	free(pub);
	pgp_cert_free(&m);
	ks_blob_free(&sb);
	return (0);
fail:
	ctl_addrs_free(&l);
	free(drop);
	free(pub);
	pgp_cert_free(&m);
	ks_blob_free(&sb);
	return (-1);
}

int
cmd_import(struct ctl *ctl, int argc, char **argv)
{
	struct pgp_certs	 certs;
	struct ks_txn		*txn = NULL;
	struct ks_addr		 a;
	const char		*account = NULL;
	char			 acct[KS_ADDR_MAX];
	char			*rbuf = NULL;
	unsigned char		*data;
	size_t			 len, rlen = 0, i;
	FILE			*rep = NULL;
	struct ctl_pass		 pp;
	int			 ch, rc, ret = 1;
	static const struct option longopts[] = {
		{ "account", required_argument, NULL, 'a' },
		{ "passphrase-fd", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&certs, 0, sizeof(certs));
	ctl_pass_init(&pp);
	while ((ch = getopt_long(argc, argv, "a:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			account = optarg;
			break;
		case 'P':
			if (ctl_pass_fd(&pp, optarg) == -1)
				return (1);
			break;
		default:
			return (ctl_usage(IMPORT_USAGE));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return (ctl_usage(IMPORT_USAGE));
	if (account != NULL) {
		if (ctl_addr(account, acct, NULL) == -1)
			return (1);
		account = acct;
	}

	/* Read and check every input before opening the store. */
	for (i = 0; i < (size_t)argc; i++) {
		if (ctl_read_file(argv[i], IMPORT_FILE_MAX, &data, &len) == -1)
			goto out;
		rc = pgp_read(strcmp(argv[i], "-") == 0 ? "(stdin)" : argv[i],
		    data, len, &pp, &certs);
		ctl_wipe(data, len);
		if (rc == -1)
			goto out;
	}
	ctl_pass_clear(&pp);

	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1)
		goto out;
	if (account != NULL) {
		if ((rc = ks_addr_get(txn, account, &a)) != KS_OK ||
		    a.state == KS_ADDR_RETIRED) {
			warnx("%s: %s", account, rc == KS_OK ? "retired alias" :
			    rc == KS_NOTFOUND ? "no such account" :
			    ks_strerror(rc));
			goto abort;
		}
		/* An alias names its account. */
		(void)snprintf(acct, sizeof(acct), "%s", a.account);
	}
	if ((rep = open_memstream(&rbuf, &rlen)) == NULL) {
		warn(NULL);
		goto abort;
	}
	for (i = 0; i < certs.n; i++)
		if (import_one(txn, account, &certs.v[i], rep) == -1)
			goto abort;
	if (ctl_commit(ctl, txn) == -1) {
		txn = NULL;
		goto out;
	}
	txn = NULL;
	fclose(rep);
	rep = NULL;
	fwrite(rbuf, 1, rlen, stdout);
	ret = 0;
	goto out;
abort:
	ks_txn_abort(txn);
	txn = NULL;
	if (rep != NULL) {
		/* The report so far explains what was refused. */
		fclose(rep);
		rep = NULL;
		fwrite(rbuf, 1, rlen, stderr);
	}
	warnx("import failed: the store is unchanged");
out:
	ctl_pass_clear(&pp);
	if (rep != NULL)
		fclose(rep);
	free(rbuf);
	pgp_certs_free(&certs);
	return (ret);
}

/*
 * Has m a UID (valid or revoked: addresses never move, so a revoked one
 * still says whose key it is) whose address is bound to an account other
 * than account?  Then m is someone else's key (imported for them, perhaps
 * with --account): 1.  0 if not, -1 after warning.
 */
static int
key_foreign(struct ks_txn *txn, const struct pgp_cert *m,
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
 * Publish a from any stored key with a valid UID for it, except one
 * imported for another account or with a UID of another account's address
 * (key_foreign()): an unrevoked one if there is, then one no other key
 * superseded, then the newest.  Returns 1 if published, 0 if none, -1
 * after warning.
 */
static int
key_publish_any(struct ks_txn *txn, struct ks_addr *a,
    char fpr_out[KS_FPR_MAX])
{
	struct key_fprs		 l;
	struct ks_certinfo	 ci;
	struct pgp_cert		 m, best;
	ssize_t			 u, bu = -1;
	int64_t			 bt = -1;
	size_t			 i;
	int			 rc, ret = -1, sup, bsup = 0;

	memset(&best, 0, sizeof(best));
	if (key_fprs(txn, &l) == -1)
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
		if (key_load(txn, l.v[i], a->addr, &m, &u) == -1)
			goto out;
		if (u >= 0 && (rc = key_foreign(txn, &m, a->account)) != 0) {
			pgp_cert_free(&m);
			if (rc == -1)
				goto out;
			continue;
		}
		if (u < 0 || (bu >= 0 && (m.revoked > best.revoked ||
		    (m.revoked == best.revoked && (sup > bsup ||
		    (sup == bsup && ci.ctime < bt)))))) {
			pgp_cert_free(&m);
			continue;
		}
		pgp_cert_free(&best);
		best = m;
		bu = u;
		bt = ci.ctime;
		bsup = sup;
	}
	if (bu < 0) {
		ret = 0;
		goto out;
	}
	if (key_publish(txn, &best, &best.uids[bu], a, stderr) == -1)
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
 * nor superseded; else as key_publish_any() ranks them.  Returns 1 if
 * published (*fpr_out set), 0 if no stored key has such a UID, -1 after
 * warning.
 */
int
key_publish_stored(struct ks_txn *txn, const char *addr,
    char fpr_out[KS_FPR_MAX])
{
	struct ctl_addrs	 l;
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
	if (ctl_addrs(txn, a.account, &l) == -1)
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
			warnx("key %s: %s", l.v[i].fpr, key_kserr(rc));
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
		if (key_publish(txn, &m, &m.uids[j], &a, stderr) == -1)
			goto out;
		(void)snprintf(fpr_out, KS_FPR_MAX, "%s", m.fpr);
		ret = 1;
		goto out;
	}
	ret = key_publish_any(txn, &a, fpr_out);
out:
	pgp_cert_free(&m);
	ks_blob_free(&b);
	ctl_addrs_free(&l);
	return (ret);
}

static void
key_date(int64_t t, char *buf, size_t bufsz)
{
	struct tm	 tm;
	time_t		 tt = t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, bufsz, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, bufsz, "%lld", (long long)t);
}

int
key_state(struct ks_txn *txn, const char *fpr, char *buf, size_t bufsz)
{
	struct ks_blob		 b;
	struct ks_certinfo	 ci;
	struct pgp_info		 info;
	char			 when[32], sup[KS_FPR_MAX + 32];
	int			 rc;

	if ((rc = ks_cert_get(txn, fpr, &b)) != KS_OK) {
		(void)snprintf(buf, bufsz, "unknown (%s)", ks_strerror(rc));
		return (-1);
	}
	rc = pgp_info(fpr, b.data, b.len, &info);
	ks_blob_free(&b);
	if (rc == -1) {
		(void)snprintf(buf, bufsz, "unreadable");
		return (-1);
	}
	sup[0] = '\0';
	if (ks_certinfo_get(txn, fpr, &ci) == KS_OK &&
	    (ci.flags & KS_CERT_SUPERSEDED))
		(void)snprintf(sup, sizeof(sup), ", superseded by %s",
		    ci.successor);
	if (info.revoked)
		(void)snprintf(buf, bufsz, "revoked (%s%s%s)%s",
		    pgp_reason_name(info.reason),
		    info.reason_text[0] != '\0' ? ": " : "",
		    info.reason_text, sup);
	else if (info.expired) {
		key_date(info.expires, when, sizeof(when));
		(void)snprintf(buf, bufsz, "expired (since %s)%s", when, sup);
	} else
		(void)snprintf(buf, bufsz, "valid%s", sup);
	return (0);
}

int
cmd_list(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn		*txn;
	struct ctl_addrs	 l;
	char			 d[KS_DOMAIN_MAX], local[KS_ADDR_MAX];
	char			 ad[KS_DOMAIN_MAX], state[512];
	size_t			 i;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return (ctl_usage(LIST_USAGE));
	if (argc == 2 && ctl_domain(argv[1], d) == -1)
		return (1);
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	if (ctl_addrs(txn, NULL, &l) == -1) {
		ks_txn_abort(txn);
		return (1);
	}
	for (i = 0; i < l.n; i++) {
		if (l.v[i].fpr[0] == '\0')
			continue;
		if (argc == 2 && (ctl_split(l.v[i].addr, local, sizeof(local),
		    ad, sizeof(ad)) == -1 || strcmp(ad, d) != 0))
			continue;
		(void)key_state(txn, l.v[i].fpr, state, sizeof(state));
		printf("%s\t%s\t%s\n", l.v[i].addr, l.v[i].fpr, state);
	}
	ks_txn_abort(txn);
	ctl_addrs_free(&l);
	return (0);
}

static int
show_key(struct ctl *ctl, const char *fpr)
{
	struct ks_txn		*txn;
	struct ks_blob		 b, rv;
	struct ctl_addrs	 l;
	struct pgp_info		 info;
	const unsigned char	*sig;
	char			 state[512], when[32];
	size_t			 i, slen;
	unsigned		 have = 0;
	int			 rc, hasrev, r, revoked = 0;

	memset(&b, 0, sizeof(b));
	memset(&rv, 0, sizeof(rv));
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	if ((rc = ks_cert_get(txn, fpr, &b)) != KS_OK) {
		warnx("key %s: %s", fpr, rc == KS_NOTFOUND ?
		    "not in the store" : ks_strerror(rc));
		ks_txn_abort(txn);
		return (1);
	}
	if (ctl_addrs(txn, NULL, &l) == -1) {
		ks_txn_abort(txn);
		ks_blob_free(&b);
		return (1);
	}
	(void)key_state(txn, fpr, state, sizeof(state));
	if ((rc = ks_revoc_get(txn, fpr, &rv)) != KS_OK &&
	    rc != KS_NOTFOUND) {
		warnx("key %s: revocation certificate: %s", fpr,
		    ks_strerror(rc));
		ks_txn_abort(txn);
		ks_blob_free(&b);
		ctl_addrs_free(&l);
		return (1);
	}
	hasrev = rc == KS_OK;
	ks_txn_abort(txn);
	printf("key %s\n", fpr);
	printf("  state: %s\n", state);
	if (pgp_info(fpr, b.data, b.len, &info) == 0) {
		revoked = info.revoked;
		key_date(info.created, when, sizeof(when));
		printf("  created: %s\n", when);
		if (info.expires != 0) {
			key_date(info.expires, when, sizeof(when));
			printf("  %s: %s\n", info.expired ? "expired" :
			    "expires", when);
		} else
			printf("  expires: never\n");
	}
	printf("  size: %zu bytes (stored certificate)\n", b.len);
	rc = pgp_describe(stdout, "  ", b.data, b.len);
	for (i = 0; i < l.n; i++)
		if (strcmp(l.v[i].fpr, fpr) == 0)
			printf("  published at: %s\n", l.v[i].addr);
	if (hasrev)
		(void)pgp_revoc_pick(fpr, b.data, b.len, rv.data, rv.len, -1,
		    &sig, &slen, &have);
	if (!hasrev)
		printf("  revocation certificate: none stored\n");
	else if (have == 0 && revoked)
		printf("  revocation certificate: stored, no longer needed "
		    "(the key is revoked)\n");
	else {
		printf("  revocation certificate: stored");
		for (r = 0; r < 4; r++)
			if (have & (1U << r))
				printf("%s%s", (have & ((1U << r) - 1)) ?
				    ", " : " (reasons: ", pgp_reason_name(r));
		printf("%s; not shown (wkdctl export-revocation)\n",
		    have != 0 ? ")" : "");
	}
	ctl_addrs_free(&l);
	ks_blob_free(&rv);
	ks_blob_free(&b);
	return (rc == 0 ? 0 : 1);
}

static int
show_addr(struct ctl *ctl, const char *in)
{
	struct ks_txn	*txn;
	struct ks_addr	 a;
	struct ks_blob	 b;
	char		 addr[KS_ADDR_MAX], domain[KS_DOMAIN_MAX];
	char		 ascii[KS_HASH_LEN + 1], uni[KS_HASH_LEN + 1];
	char		 kstate[512];
	int		 rc;

	memset(&b, 0, sizeof(b));
	if (ctl_addr(in, addr, domain) == -1)
		return (1);
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	if ((rc = ks_addr_get(txn, addr, &a)) != KS_OK) {
		warnx("%s: %s", addr, rc == KS_NOTFOUND ?
		    "not an address of any account" : ks_strerror(rc));
		ks_txn_abort(txn);
		return (1);
	}
	if (pub_hashes(addr, ascii, uni, NULL) != KS_OK) {
		warnx("%s: cannot hash", addr);
		ks_txn_abort(txn);
		return (1);
	}
	if (a.fpr[0] != '\0' && (rc = ks_wkd_get(txn, domain, ascii, &b)) !=
	    KS_OK && rc != KS_NOTFOUND) {
		warnx("%s: %s", addr, ks_strerror(rc));
		ks_txn_abort(txn);
		return (1);
	}
	if (a.fpr[0] != '\0')
		(void)key_state(txn, a.fpr, kstate, sizeof(kstate));
	ks_txn_abort(txn);
	printf("address %s\n", addr);
	printf("  account: %s\n", a.account);
	printf("  state: %s%s%s\n", ctl_state(a.state),
	    a.flags & KS_AF_UNPUBLISHED ? ", unpublished by the operator" : "",
	    a.flags & KS_AF_REMOVED ? ", account removed" : "");
	printf("  hash: %s\n", ascii);
	if (uni[0] != '\0')
		printf("  unicode-hash: %s\n", uni);
	if (a.fpr[0] != '\0') {
		printf("  key: %s\n", a.fpr);
		printf("  key state: %s\n", kstate);
		printf("  served: %zu bytes, etag %s\n", b.len, b.etag);
	} else
		printf("  key: none published\n");
	ks_blob_free(&b);
	return (0);
}

int
cmd_show(struct ctl *ctl, int argc, char **argv)
{
	char	 fpr[KS_FPR_MAX];

	if (argc != 2 || argv[1][0] == '-')
		return (ctl_usage(SHOW_USAGE));
	if (strchr(argv[1], '@') == NULL) {
		if (ctl_fpr(argv[1], fpr) == -1) {
			warnx("%s: neither an address nor a fingerprint",
			    argv[1]);
			return (1);
		}
		return (show_key(ctl, fpr));
	}
	return (show_addr(ctl, argv[1]));
}

int
cmd_export(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn	*txn;
	struct ks_addr	 a;
	struct ks_blob	 b;
	const char	*out = NULL;
	char		 addr[KS_ADDR_MAX], domain[KS_DOMAIN_MAX];
	char		 ascii[KS_HASH_LEN + 1], uni[KS_HASH_LEN + 1];
	int		 ch, fd, rc;

	while ((ch = getopt(argc, argv, "o:")) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		default:
			return (ctl_usage(EXPORT_USAGE));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return (ctl_usage(EXPORT_USAGE));
	if (ctl_addr(argv[0], addr, domain) == -1)
		return (1);
	if (out == NULL && isatty(STDOUT_FILENO)) {
		warnx("refusing to write binary data to a terminal "
		    "(use -o file)");
		return (1);
	}
	memset(&b, 0, sizeof(b));
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	if ((rc = ks_addr_get(txn, addr, &a)) != KS_OK) {
		warnx("%s: %s", addr, rc == KS_NOTFOUND ?
		    "not an address of any account" : ks_strerror(rc));
		goto abort;
	}
	if (a.fpr[0] == '\0') {
		warnx("%s: no key published", addr);
		goto abort;
	}
	if ((rc = pub_hashes(addr, ascii, uni, NULL)) != KS_OK ||
	    (rc = ks_wkd_get(txn, domain, ascii, &b)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		goto abort;
	}
	ks_txn_abort(txn);
	if (out == NULL)
		fd = STDOUT_FILENO;
	else if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		warn("%s", out);
		ks_blob_free(&b);
		return (1);
	}
	rc = ctl_write_all(fd, b.data, b.len);
	if (out != NULL && close(fd) == -1)
		rc = -1;
	ks_blob_free(&b);
	if (rc == -1) {
		warn("%s", out != NULL ? out : "stdout");
		return (1);
	}
	return (0);
abort:
	ks_txn_abort(txn);
	return (1);
}

int
cmd_hash(struct ctl *ctl, int argc, char **argv)
{
	char	 addr[KS_ADDR_MAX], domain[KS_DOMAIN_MAX];
	char	 local[KS_ADDR_MAX], rawdom[KS_ADDR_MAX];
	char	 l[3 * KS_ADDR_MAX];
	char	 ascii[KS_HASH_LEN + 1], uni[KS_HASH_LEN + 1];

	(void)ctl;
	if (argc != 2 || argv[1][0] == '-')
		return (ctl_usage(HASH_USAGE));
	if (ctl_addr(argv[1], addr, domain) == -1)
		return (1);
	if (pub_hashes(addr, ascii, uni, NULL) != KS_OK ||
	    ctl_split(argv[1], local, sizeof(local), rawdom,
	    sizeof(rawdom)) == -1 || ctl_pct(local, l, sizeof(l)) == -1) {
		warnx("%s: cannot hash", argv[1]);
		return (1);
	}
	printf("hash %s\n", ascii);
	printf("advanced https://openpgpkey.%s/.well-known/openpgpkey/%s/hu/"
	    "%s?l=%s\n", domain, domain, ascii, l);
	printf("direct https://%s/.well-known/openpgpkey/hu/%s?l=%s\n",
	    domain, ascii, l);
	if (uni[0] != '\0')
		printf("unicode-hash %s\n", uni);
	return (0);
}

int
cmd_remove(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn		*txn;
	struct ctl_addrs	 l;
	struct ks_blob		 b;
	struct ks_certinfo	 ci;
	char			 fpr[KS_FPR_MAX];
	unsigned char		*gone = NULL;
	size_t			 i;
	int			 rc;

	if (argc != 2 || argv[1][0] == '-')
		return (ctl_usage(REMOVE_USAGE));
	if (ctl_fpr(argv[1], fpr) == -1) {
		warnx("%s: not a fingerprint", argv[1]);
		return (1);
	}
	memset(&b, 0, sizeof(b));
	memset(&l, 0, sizeof(l));
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1)
		return (1);
	if ((rc = ks_cert_get(txn, fpr, &b)) != KS_OK) {
		warnx("key %s: %s", fpr, rc == KS_NOTFOUND ?
		    "not in the store" : ks_strerror(rc));
		goto abort;
	}
	ks_blob_free(&b);
	if (ctl_addrs(txn, NULL, &l) == -1)
		goto abort;
	if (l.n > 0 && (gone = calloc(l.n, 1)) == NULL) {
		warn(NULL);
		goto abort;
	}
	for (i = 0; i < l.n; i++) {
		if (strcmp(l.v[i].fpr, fpr) != 0)
			continue;
		if ((rc = key_unpublish(txn, &l.v[i], "key removed")) !=
		    KS_OK) {
			warnx("key %s: %s: %s", fpr, l.v[i].addr,
			    key_kserr(rc));
			goto abort;
		}
		gone[i] = 1;
	}
	if ((rc = ks_certinfo_get(txn, fpr, &ci)) == KS_NOTFOUND)
		ci.flags = 0;
	else if (rc != KS_OK) {
		warnx("key %s: %s", fpr, key_kserr(rc));
		goto abort;
	}
	if ((rc = ks_cert_del(txn, fpr)) != KS_OK) {
		warnx("key %s: %s", fpr, key_kserr(rc));
		goto abort;
	}
	/* Served after its successor (keep-revoked): not any more. */
	if ((ci.flags & KS_CERT_SUPERSEDED) &&
	    key_refresh_key(txn, ci.successor, stderr) == -1)
		goto abort;
	if (ctl_log(txn, fpr, "key removed") != KS_OK)
		goto abort;
	if (ctl_commit(ctl, txn) == -1) {
		free(gone);
		ctl_addrs_free(&l);
		return (1);
	}
	printf("key %s removed\n", fpr);
	for (i = 0; i < l.n; i++)
		if (gone[i])
			printf("  unpublished: %s\n", l.v[i].addr);
	free(gone);
	ctl_addrs_free(&l);
	return (0);
abort:
	free(gone);
	ctl_addrs_free(&l);
	ks_txn_abort(txn);
	return (1);
}

struct log_walk {
	const char	*subject;	/* NULL: all. */
	int		 kind;		/* 0 address, 1 fingerprint, 2 domain */
	int		 json;
	int		 verbose;	/* Show the command too. */
	size_t		 n;
};

/* Is e about w->subject? */
static int
log_match(const struct log_walk *w, const struct ks_logent *e)
{
	const char	*at;

	if (w->subject == NULL || strcmp(w->subject, e->subject) == 0)
		return (1);
	switch (w->kind) {
	case 0:
	case 1:
		/* An entry of a key naming the address, or the reverse. */
		return (strstr(e->detail, w->subject) != NULL);
	default:
		return ((at = strrchr(e->subject, '@')) != NULL &&
		    strcmp(at + 1, w->subject) == 0);
	}
}

static int
log_cb(const struct ks_logent *e, void *arg)
{
	struct log_walk	*w = arg;
	struct tm	 tm;
	time_t		 t = e->time;
	char		 when[32];

	if (!log_match(w, e))
		return (0);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(when, sizeof(when), "%lld",
		    (long long)e->time);
	if (w->json) {
		printf("%s{\"seq\":%llu,\"time\":", w->n == 0 ? "" : ",\n",
		    (unsigned long long)e->seq);
		ctl_json_str(stdout, when);
		printf(",\"epoch\":%lld,\"user\":", (long long)e->time);
		ctl_json_str(stdout, e->user);
		printf(",\"command\":");
		ctl_json_str(stdout, e->cmd);
		printf(",\"subject\":");
		ctl_json_str(stdout, e->subject);
		printf(",\"detail\":");
		ctl_json_str(stdout, e->detail);
		printf("}");
	} else {
		printf("%s %s %s: %s\n", when, e->user, e->subject,
		    e->detail);
		if (w->verbose)
			printf("    command: %s\n", e->cmd);
	}
	w->n++;
	return (0);
}

/*
 * A --since time: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS][Z]" (UTC), or
 * "@SECONDS" since the epoch.
 */
static int
log_since(const char *s, int64_t *out)
{
	struct tm	 tm;
	char		*end;
	long long	 v;
	int		 n = 0, y, mo, d, h = 0, mi = 0, sec = 0;

	if (s[0] == '@') {
		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (s[1] == '\0' || *end != '\0' || errno != 0 || v < 0)
			return (-1);
		*out = v;
		return (0);
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
		return (-1);
	s += n;
	if (*s == 'T' || *s == ' ') {
		n = 0;
		if (sscanf(s + 1, "%2d:%2d%n", &h, &mi, &n) != 2)
			return (-1);
		s += 1 + n;
		if (*s == ':') {
			n = 0;
			if (sscanf(s + 1, "%2d%n", &sec, &n) != 1)
				return (-1);
			s += 1 + n;
		}
		if (*s == 'Z')
			s++;
	}
	if (*s != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 60 || h < 0 || mi < 0 || sec < 0)
		return (-1);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = timegm(&tm);
	return (0);
}

int
cmd_log(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn	*txn;
	struct log_walk	 w;
	char		 subj[KS_ADDR_MAX];
	int64_t		 since = 0;
	int		 ch, rc;
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "since", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&w, 0, sizeof(w));
	while ((ch = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			w.json = 1;
			break;
		case 'v':
			w.verbose = 1;
			break;
		case 's':
			if (log_since(optarg, &since) == -1) {
				warnx("--since %s: not a time (YYYY-MM-DD, "
				    "YYYY-MM-DDTHH:MM:SSZ or @seconds)",
				    optarg);
				return (EXIT_USAGE);
			}
			break;
		default:
			return (ctl_usage(LOG_USAGE));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		return (ctl_usage(LOG_USAGE));
	if (argc == 1) {
		/* The subject as the log has it: normalised. */
		if (strchr(argv[0], '@') != NULL) {
			if (ctl_addr(argv[0], subj, NULL) == -1)
				return (1);
			w.kind = 0;
		} else if (ctl_fpr(argv[0], subj) == 0)
			w.kind = 1;
		else if (ks_domain_norm(argv[0], subj, sizeof(subj)) ==
		    KS_OK)
			w.kind = 2;
		else {
			warnx("%s: not an address, domain or fingerprint",
			    argv[0]);
			return (1);
		}
		w.subject = subj;
	}
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	if (w.json)
		printf("[");
	rc = ks_log_foreach(txn, since, log_cb, &w);
	ks_txn_abort(txn);
	if (w.json)
		printf("%s]\n", w.n > 0 ? "\n" : "");
	if (rc != KS_OK) {
		warnx("audit log: %s", ks_strerror(rc));
		return (1);
	}
	return (0);
}
