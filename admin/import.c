/*
 * import.c: importing keys.
 *
 * import reads and parses every input before it opens the store's write
 * transaction; everything it changes happens in that one transaction, and
 * any error aborts it, so a failed import leaves the store as it was.
 * Each key is merged with its stored certificate and each of its UIDs is
 * published at its address if the address is the primary or an alias of
 * the account it belongs to (or of --account's).
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

/*
 * Would UID u of c displace the other key that a serves?  NULL if so, or
 * why not: a revoked key never does, nor an expired key a valid one, nor
 * a key whose UID was self-signed before the served key's (the newest
 * wins, whatever the order keys come in; a tie goes to the newcomer).
 * older gets the served key's fingerprint when c is the older one.
 */
static const char *
import_newer(struct ks_txn *txn, const struct pgp_cert *c,
    const struct pgp_uid *u, const struct ks_addr *a, char *buf,
    size_t bufsz, char older[KS_FPR_MAX], int *rcp)
{
	struct pgp_cert	 s;
	ssize_t		 su;
	char		 d1[32], d2[32];
	const char	*why = NULL;

	if (c->revoked) {
		(void)snprintf(buf, bufsz, "a revoked key does not replace "
		    "the key served (%s)", a->fpr);
		return (buf);
	}
	if (publish_load(txn, a->fpr, a->addr, &s, &su) == -1) {
		*rcp = KS_INVALID;
		return ("the key served can't be read");
	}
	if (su < 0 || s.revoked || s.expired)
		goto out;
	if (c->expired) {
		(void)snprintf(buf, bufsz, "an expired key does not replace "
		    "the valid key served (%s)", a->fpr);
		why = buf;
	} else if (u->sigtime < s.uids[su].sigtime) {
		io_date(u->sigtime, d1, sizeof(d1));
		io_date(s.uids[su].sigtime, d2, sizeof(d2));
		(void)snprintf(buf, bufsz, "superseded: the key served (%s) "
		    "is newer (its UID signed %s, this one %s)", a->fpr, d2,
		    d1);
		(void)snprintf(older, KS_FPR_MAX, "%s", a->fpr);
		why = buf;
	}
out:
	pgp_cert_free(&s);
	return (why);
}

/* Why u (a UID of a key being imported) isn't published, or NULL. */
static const char *
import_reason(struct ks_txn *txn, const char *account,
    const struct pgp_cert *c, size_t i, char *buf, size_t bufsz,
    char older[KS_FPR_MAX], int *rcp)
{
	const struct pgp_uid	*u = &c->uids[i];
	struct ks_domain	 d;
	struct ks_addr		 a;
	struct ks_certinfo	 ci;
	const char		*why;
	size_t			 j;
	int			 rc, removed;

	*rcp = KS_OK;
	older[0] = '\0';
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
	if ((rc = account_removed(txn, &a, &removed)) != KS_OK) {
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
			(void)snprintf(older, KS_FPR_MAX, "%s", a.fpr);
			return (buf);
		} else if (rc != KS_OK && rc != KS_NOTFOUND) {
			*rcp = rc;
			return (ks_strerror(rc));
		}
		if ((why = import_newer(txn, c, u, &a, buf, bufsz, older,
		    rcp)) != NULL)
			return (why);
	}
	for (j = 0; j < i; j++)
		if (c->uids[j].kind == PGP_UID_OK &&
		    strcmp(c->uids[j].addr, u->addr) == 0)
			return ("another UID with this address comes first");
	return (NULL);
}

/*
 * Record that fpr was imported for account (--account): publish and
 * alias add then never fall back on it for another account's address.
 */
static int
import_claim(struct ks_txn *txn, const char *fpr, const char *account)
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

/* Free what import_keys() put in one key's outcome. */
static void
import_key_free(struct import_key *k)
{
	size_t	 i;

	for (i = 0; i < k->nuids; i++)
		free(k->uids[i].text);
	free(k->uids);
	free(k->dropped);
	free(k->msgs);
	memset(k, 0, sizeof(*k));
}

void
import_report_free(struct import_report *r)
{
	size_t	 i;

	for (i = 0; i < r->n; i++)
		import_key_free(&r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/*
 * Without --account, the publishable UIDs of one key must be addresses of
 * one account: a key naming two people's addresses is nobody's to publish
 * until the operator says whose it is.  0 if so; else -1 with the UIDs
 * unpublished and the reason in msg.
 */
static int
import_one_account(struct ks_txn *txn, const struct pgp_cert *m,
    struct import_key *k, FILE *msg)
{
	struct ks_addr	 a;
	char		 first[KS_ADDR_MAX];
	size_t		 i;

	first[0] = '\0';
	for (i = 0; i < k->nuids; i++) {
		if (!k->uids[i].publish ||
		    ks_addr_get(txn, k->uids[i].addr, &a) != KS_OK)
			continue;
		if (first[0] == '\0')
			(void)snprintf(first, sizeof(first), "%s", a.account);
		else if (strcmp(first, a.account) != 0)
			break;
	}
	if (i == k->nuids)
		return (0);
	io_err(msg, "key %s: refused: it spans accounts %s and %s: use "
	    "--account", m->fpr, first, a.account);
	for (i = 0; i < k->nuids; i++)
		if (k->uids[i].publish) {
			k->uids[i].publish = 0;
			(void)snprintf(k->uids[i].why, sizeof(k->uids[i].why),
			    "the key spans accounts %s and %s", first,
			    a.account);
		}
	k->npublish = 0;
	return (-1);
}

/*
 * The report of a UID pgp_read() left out (text; NULL: the user
 * attributes) into iu.  0, or -1 if out of memory.
 */
static int
import_offsite(const char *text, struct import_uid *iu)
{
	struct pgp_uid	 u;

	if (text == NULL) {
		(void)snprintf(iu->why, sizeof(iu->why), "user attribute "
		    "(photo ID): never published");
		return (0);
	}
	if ((iu->text = strdup(text)) == NULL)
		return (-1);
	memset(&u, 0, sizeof(u));
	u.text = iu->text;
	if (pgp_uid_fill(&u) == -1 || strchr(u.addr, '@') == NULL) {
		iu->addr[0] = '\0';
		(void)snprintf(iu->why, sizeof(iu->why), "no mail address "
		    "in it");
	} else {
		memcpy(iu->addr, u.addr, sizeof(iu->addr));
		(void)snprintf(iu->why, sizeof(iu->why), "domain %s is not "
		    "hosted", u.domain);
	}
	return (0);
}

/*
 * Decide, for each UID of m, whether it is published (k->uids[i].publish)
 * or why not; the UIDs' texts are copied into k.  Returns 0, or -1 with
 * the error in msg.
 */
static int
import_classify(struct ks_txn *txn, const char *account,
    const struct pgp_cert *m, const struct pgp_cert *in,
    struct import_key *k, FILE *msg)
{
	struct import_uid	*iu;
	const char		*why;
	size_t			 i, n = m->nuids + in->noffsite;
	int			 rc;

	if (n > 0 && (k->uids = calloc(n, sizeof(*k->uids))) == NULL) {
		io_err(msg, "out of memory");
		return (-1);
	}
	k->nuids = n;
	for (i = 0; i < in->noffsite; i++)
		if (import_offsite(in->offsite[i], &k->uids[m->nuids + i]) ==
		    -1) {
			io_err(msg, "out of memory");
			return (-1);
		}
	for (i = 0; i < m->nuids; i++) {
		iu = &k->uids[i];
		if (m->uids[i].text != NULL &&
		    (iu->text = strdup(m->uids[i].text)) == NULL) {
			io_err(msg, "out of memory");
			return (-1);
		}
		(void)snprintf(iu->addr, sizeof(iu->addr), "%s",
		    m->uids[i].addr);
		why = import_reason(txn, account, m, i, iu->why,
		    sizeof(iu->why), iu->older, &rc);
		if (rc != KS_OK) {
			io_err(msg, "key %s: %s", m->fpr, store_strerror(rc));
			return (-1);
		}
		if (why == NULL) {
			iu->publish = 1;
			k->npublish++;
		} else if (why != iu->why)
			(void)snprintf(iu->why, sizeof(iu->why), "%s", why);
		if (iu->older[0] != '\0')
			k->nolder++;
	}
	return (0);
}

/*
 * The addresses m publishes now whose UID is gone or no longer valid
 * (revoked, say) into k->dropped.  An address left out only by this
 * import's choice (--account) stays as it is.
 */
static int
import_dropped(struct ks_txn *txn, const struct pgp_cert *m,
    struct import_key *k, FILE *msg)
{
	struct store_addrs	 l;
	size_t			 i, j;
	int			 found;

	if (store_addrs_key(txn, m->fpr, &l) == -1)
		return (-1);
	for (j = 0; j < l.n; j++) {
		for (found = 0, i = 0; i < m->nuids && !found; i++)
			found = m->uids[i].kind == PGP_UID_OK &&
			    strcmp(m->uids[i].addr, l.v[j].addr) == 0;
		if (found)
			continue;
		if (k->ndropped == 0 && (k->dropped = calloc(l.n,
		    sizeof(*k->dropped))) == NULL) {
			io_err(msg, "out of memory");
			store_addrs_free(&l);
			return (-1);
		}
		(void)snprintf(k->dropped[k->ndropped++], KS_ADDR_MAX, "%s",
		    l.v[j].addr);
	}
	store_addrs_free(&l);
	return (0);
}

/*
 * Store m (merged from in, whose stored certificate was sb) and what comes
 * with it: the audit entry, the account it was imported for, the
 * revocation certificates made from a secret keypair.
 */
static int
import_store(struct ks_txn *txn, const char *account,
    const struct pgp_cert *in, const struct pgp_cert *m,
    const struct ks_blob *sb, struct import_key *k, FILE *msg)
{
	int	 rc;

	if (!k->known || sb->len != m->len ||
	    memcmp(sb->data, m->data, m->len) != 0)
		k->changed = 1;
	if ((rc = store_cert_put(txn, m->fpr, m->data, m->len)) != KS_OK) {
		io_err(msg, "key %s: %s", m->fpr, store_strerror(rc));
		return (-1);
	}
	if (k->changed && audit_log(txn, m->fpr, "certificate %s (%zu "
	    "bytes)%s", k->known ? "merged" : "stored", m->len,
	    m->revoked ? ", revoked" : "") != KS_OK)
		return (-1);
	if (account != NULL &&
	    (rc = import_claim(txn, m->fpr, account)) != KS_OK) {
		io_err(msg, "key %s: %s", m->fpr, store_strerror(rc));
		return (-1);
	}
	(void)snprintf(k->revnote, sizeof(k->revnote), "%s", in->revnote);
	if (in->revoc == NULL)
		return (0);
	if ((rc = ks_revoc_put(txn, m->fpr, in->revoc, in->revoclen)) !=
	    KS_OK) {
		io_err(msg, "key %s: revocation certificate: %s", m->fpr,
		    store_strerror(rc));
		return (-1);
	}
	if (audit_log(txn, m->fpr, "revocation certificate stored (made "
	    "from the secret key; never served)") != KS_OK)
		return (-1);
	k->revoc = 1;
	return (0);
}

/* Publish UID i of m (k->uids[i].publish); note whether bytes changed. */
static int
import_publish_uid(struct ks_txn *txn, const struct pgp_cert *m, size_t i,
    struct import_key *k, FILE *msg)
{
	struct ks_addr	 a;
	struct ks_blob	 before, after;
	int		 rc;

	if ((rc = ks_addr_get(txn, m->uids[i].addr, &a)) != KS_OK) {
		io_err(msg, "key %s: %s: %s", m->fpr, m->uids[i].addr,
		    store_strerror(rc));
		return (-1);
	}
	if (a.fpr[0] != '\0' && strcmp(a.fpr, m->fpr) != 0)
		(void)snprintf(k->uids[i].replaced,
		    sizeof(k->uids[i].replaced), "%s", a.fpr);
	if (wkd_get(txn, a.addr, &before) != KS_OK)
		memset(&before, 0, sizeof(before));
	if (publish_uid(txn, m, &m->uids[i], &a, msg) == -1) {
		ks_blob_free(&before);
		return (-1);
	}
	if (wkd_get(txn, a.addr, &after) != KS_OK ||
	    after.len != before.len ||
	    memcmp(after.data, before.data, after.len) != 0)
		k->changed = 1;
	ks_blob_free(&before);
	ks_blob_free(&after);
	return (0);
}

/*
 * Publish the UIDs import_classify() chose; take down k->dropped; a key
 * that is older than what all its addresses serve is marked superseded.
 */
static int
import_publish(struct ks_txn *txn, const struct pgp_cert *m,
    struct import_key *k, FILE *msg)
{
	struct ks_addr	 a;
	size_t		 i;
	int		 rc;

	for (i = 0; i < m->nuids; i++)
		if (k->uids[i].publish &&
		    import_publish_uid(txn, m, i, k, msg) == -1)
			return (-1);
	for (i = 0; i < k->ndropped; i++) {
		if ((rc = ks_addr_get(txn, k->dropped[i], &a)) != KS_OK ||
		    (rc = publish_drop(txn, &a, "its UID is revoked, invalid "
		    "or gone")) != KS_OK) {
			io_err(msg, "key %s: %s: %s", m->fpr, k->dropped[i],
			    store_strerror(rc));
			return (-1);
		}
		k->changed = 1;
	}
	if (k->npublish > 0 || k->ndropped > 0)
		return (0);
	for (i = 0; i < m->nuids; i++)
		if (k->uids[i].older[0] != '\0' && (rc = publish_supersede(txn,
		    m->fpr, k->uids[i].older, m->uids[i].addr)) != KS_OK) {
			io_err(msg, "key %s: %s", m->fpr, store_strerror(rc));
			return (-1);
		}
	return (0);
}

/*
 * Import one key (in: its public packets as read): merge it with the
 * stored certificate, store the result, publish each eligible UID and
 * unpublish addresses whose UID no longer qualifies.  What it did goes
 * into k (k->status), messages into msg.  Returns 0, or -1 if the key was
 * refused (IMPORT_SKIPPED) or failed (IMPORT_FAILED).
 */
static int
import_one(struct ks_txn *txn, const char *account,
    struct pgp_cert *in, struct import_key *k, FILE *msg)
{
	struct pgp_cert	 m;
	struct ks_blob	 sb;
	int		 rc, ret = -1;

	memset(&sb, 0, sizeof(sb));
	memset(&m, 0, sizeof(m));
	(void)snprintf(k->fpr, sizeof(k->fpr), "%s", in->fpr);
	(void)snprintf(k->src, sizeof(k->src), "%s", in->src);
	k->off = in->off;
	k->status = IMPORT_FAILED;
	if ((rc = ks_cert_get(txn, in->fpr, &sb)) != KS_OK &&
	    rc != KS_NOTFOUND) {
		io_err(msg, "key %s: %s", in->fpr, store_strerror(rc));
		return (-1);
	}
	k->known = rc == KS_OK;
	/* No UID of it is for here, nor stored: nothing to check. */
	if (in->bare && !k->known)
		(void)snprintf(m.fpr, sizeof(m.fpr), "%s", in->fpr);
	else if (pgp_merge_cert(in, k->known ? sb.data : NULL, sb.len,
	    &m) == -1) {
		io_err(msg, "key %s (%s, byte %zu): can't be read or merged",
		    in->fpr, in->src, in->off);
		goto out;
	}
	k->parsed = 1;
	k->revoked = m.revoked;
	k->expired = m.expired;
	if (import_classify(txn, account, &m, in, k, msg) == -1 ||
	    import_dropped(txn, &m, k, msg) == -1)
		goto out;
	k->status = IMPORT_SKIPPED;
	if (k->npublish == 0 && k->ndropped == 0 && k->nuids == 0) {
		io_err(msg, "key %s: refused: the key has no user ID", m.fpr);
		goto out;
	}
	if (account == NULL && import_one_account(txn, &m, k, msg) == -1)
		goto out;
	if (k->npublish == 0 && k->ndropped == 0 && k->nolder == 0 &&
	    (!k->known || account != NULL)) {
		io_err(msg, "key %s: refused: no UID with an address of %s%s",
		    m.fpr, account != NULL ? "account " : "an account here",
		    account != NULL ? account : "");
		goto out;
	}
	k->status = IMPORT_FAILED;
	if (import_store(txn, account, in, &m, &sb, k, msg) == -1 ||
	    import_publish(txn, &m, k, msg) == -1)
		goto out;
	/* Served elsewhere as a revoked predecessor: serve it anew. */
	if (k->known && m.revoked &&
	    publish_refresh_key(txn, m.fpr, msg) == -1)
		goto out;
	if (k->npublish > 0 && !m.can_encrypt)
		fprintf(msg, "  warning: key %s has no valid encryption key: "
		    "clients find it but can't encrypt to it\n", m.fpr);
	if (k->npublish == 0 && k->ndropped == 0 && k->nolder > 0)
		k->status = IMPORT_SUPERSEDED;
	else if (!k->changed)
		k->status = IMPORT_UNCHANGED;
	else
		k->status = IMPORT_PUBLISHED;
	ret = 0;
out:
	pgp_cert_free(&m);
	ks_blob_free(&sb);
	return (ret);
}

/* A stretch of input that was no key: a failed entry of its own. */
static void
import_bad(const struct pgp_bad *b, struct import_key *k)
{
	FILE	*msg;
	size_t	 len;

	memset(k, 0, sizeof(*k));
	k->status = IMPORT_FAILED;
	(void)snprintf(k->src, sizeof(k->src), "%s", b->src);
	k->off = b->off;
	if ((msg = open_memstream(&k->msgs, &len)) == NULL)
		return;
	io_err(msg, "%s: %s", b->src, b->why);
	(void)fclose(msg);
}

/* Import certs->v[i] into k, in a transaction of its own unless strict. */
static int
import_nested(struct ks_txn *txn, const char *account, int flags,
    struct pgp_cert *in, struct import_key *k)
{
	struct ks_txn	*t = txn;
	FILE		*msg;
	size_t		 len;
	int		 rc, ret;

	if ((msg = open_memstream(&k->msgs, &len)) == NULL) {
		warn(NULL);
		return (-1);
	}
	if (!(flags & IMPORT_STRICT) && (rc = ks_txn_nest(txn, &t)) != KS_OK) {
		(void)fclose(msg);
		warnx("%s", ks_strerror(rc));
		return (-1);
	}
	ret = import_one(t, account, in, k, msg);
	if (t != txn) {
		if (ret == 0 && (rc = ks_txn_commit(t)) != KS_OK) {
			io_err(msg, "key %s: %s", in->fpr, store_strerror(rc));
			k->status = IMPORT_FAILED;
			ret = -1;
		} else if (ret == -1)
			ks_txn_abort(t);
	}
	if (fclose(msg) == EOF) {
		warn(NULL);
		return (-1);
	}
	/* A batch goes on past a key it could not import. */
	return (ret == -1 && (flags & IMPORT_STRICT) ? -1 : 0);
}

/*
 * After the batch: a key published early in it whose addresses all went
 * to a newer key later in it is superseded, and says so; what is reported
 * as published is what the commit serves.
 */
static int
import_settle(struct ks_txn *txn, struct import_report *r)
{
	struct import_key	*k;
	struct ks_addr		 a;
	size_t			 i, j, left;
	int			 rc;

	for (i = 0; i < r->n; i++) {
		k = &r->v[i];
		if (k->status != IMPORT_PUBLISHED || k->npublish == 0)
			continue;
		for (left = 0, j = 0; j < k->nuids; j++) {
			if (!k->uids[j].publish)
				continue;
			if ((rc = ks_addr_get(txn, k->uids[j].addr, &a)) !=
			    KS_OK) {
				warnx("%s: %s", k->uids[j].addr,
				    ks_strerror(rc));
				return (-1);
			}
			if (strcmp(a.fpr, k->fpr) == 0) {
				left++;
				continue;
			}
			k->uids[j].publish = 0;
			k->npublish--;
			(void)snprintf(k->uids[j].why, sizeof(k->uids[j].why),
			    "superseded by %s, a newer key later in this "
			    "import", a.fpr);
			(void)snprintf(k->uids[j].older,
			    sizeof(k->uids[j].older), "%s", a.fpr);
			k->nolder++;
		}
		if (left == 0 && k->ndropped == 0) {
			r->count[IMPORT_PUBLISHED]--;
			k->status = IMPORT_SUPERSEDED;
			r->count[IMPORT_SUPERSEDED]++;
		}
	}
	return (0);
}

int
import_keys(struct ks_txn *txn, const char *account,
    struct pgp_certs *certs, int flags, struct io_progress *pg,
    struct import_report *r)
{
	size_t	 i, n = certs->n + certs->nbad;

	memset(r, 0, sizeof(*r));
	if (n > 0 && (r->v = calloc(n, sizeof(*r->v))) == NULL) {
		warn(NULL);
		return (-1);
	}
	for (i = 0; i < certs->nbad; i++) {
		import_bad(&certs->bad[i], &r->v[r->n++]);
		r->count[IMPORT_FAILED]++;
		if (flags & IMPORT_STRICT)
			return (-1);
	}
	for (i = 0; i < certs->n; i++) {
		io_progress(pg, i);
		if (import_nested(txn, account, flags, &certs->v[i],
		    &r->v[r->n]) == -1) {
			r->n++;
			return (-1);
		}
		r->count[r->v[r->n++].status]++;
	}
	return (import_settle(txn, r));
}
