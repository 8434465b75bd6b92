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

/* Largest input file: a keyring of secret keys can be big. */
#define IMPORT_FILE_MAX	(64 * 1024 * 1024)

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
 * Decide, for each UID of m, whether it is published (k->uids[i].publish)
 * or why not; the UIDs' texts are copied into k.  Returns 0, or -1 with
 * the error in msg.
 */
static int
import_classify(struct ks_txn *txn, const char *account,
    const struct pgp_cert *m, struct import_key *k, FILE *msg)
{
	struct import_uid	*iu;
	const char		*why;
	size_t			 i;
	int			 rc;

	if (m->nuids > 0 &&
	    (k->uids = calloc(m->nuids, sizeof(*k->uids))) == NULL) {
		io_err(msg, "out of memory");
		return (-1);
	}
	k->nuids = m->nuids;
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
		    sizeof(iu->why), &rc);
		if (rc != KS_OK) {
			io_err(msg, "key %s: %s", m->fpr, store_strerror(rc));
			return (-1);
		}
		if (why == NULL) {
			iu->publish = 1;
			k->npublish++;
		} else if (why != iu->why)
			(void)snprintf(iu->why, sizeof(iu->why), "%s", why);
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

	if (store_addrs(txn, NULL, &l) == -1)
		return (-1);
	for (j = 0; j < l.n; j++) {
		if (strcmp(l.v[j].fpr, m->fpr) != 0)
			continue;
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
 * Store m (merged from in) and what comes with it: the audit entry, the
 * account it was imported for, the revocation certificates made from a
 * secret keypair.
 */
static int
import_store(struct ks_txn *txn, const char *account,
    const struct pgp_cert *in, const struct pgp_cert *m,
    struct import_key *k, FILE *msg)
{
	int	 rc;

	if ((rc = ks_cert_put(txn, m->fpr, m->data, m->len)) != KS_OK) {
		io_err(msg, "key %s: %s", m->fpr, store_strerror(rc));
		return (-1);
	}
	if (audit_log(txn, m->fpr, "certificate %s (%zu bytes)%s",
	    k->known ? "merged" : "stored", m->len,
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

/* Publish the UIDs import_classify() chose; take down k->dropped. */
static int
import_publish(struct ks_txn *txn, const struct pgp_cert *m,
    struct import_key *k, FILE *msg)
{
	struct ks_addr	 a;
	size_t		 i;
	int		 rc;

	for (i = 0; i < m->nuids; i++) {
		if (!k->uids[i].publish)
			continue;
		if ((rc = ks_addr_get(txn, m->uids[i].addr, &a)) != KS_OK) {
			io_err(msg, "key %s: %s: %s", m->fpr,
			    m->uids[i].addr, store_strerror(rc));
			return (-1);
		}
		if (a.fpr[0] != '\0' && strcmp(a.fpr, m->fpr) != 0)
			(void)snprintf(k->uids[i].replaced,
			    sizeof(k->uids[i].replaced), "%s", a.fpr);
		if (publish_uid(txn, m, &m->uids[i], &a, msg) == -1)
			return (-1);
	}
	for (i = 0; i < k->ndropped; i++) {
		if ((rc = ks_addr_get(txn, k->dropped[i], &a)) != KS_OK ||
		    (rc = publish_drop(txn, &a, "its UID is revoked, invalid "
		    "or gone")) != KS_OK) {
			io_err(msg, "key %s: %s: %s", m->fpr, k->dropped[i],
			    store_strerror(rc));
			return (-1);
		}
	}
	return (0);
}

/*
 * Import one key (in: its public packets as read): merge it with the
 * stored certificate, store the result, publish each eligible UID and
 * unpublish addresses whose UID no longer qualifies.  What it did goes
 * into k, messages into msg.  Returns 0, or -1 if the key was refused or
 * the store failed (k->failed set).
 */
static int
import_one(struct ks_txn *txn, const char *account,
    const struct pgp_cert *in, struct import_key *k, FILE *msg)
{
	struct pgp_cert	 m;
	struct ks_blob	 sb;
	int		 rc, ret = -1;

	memset(&sb, 0, sizeof(sb));
	memset(&m, 0, sizeof(m));
	(void)snprintf(k->fpr, sizeof(k->fpr), "%s", in->fpr);
	k->failed = 1;
	if ((rc = ks_cert_get(txn, in->fpr, &sb)) != KS_OK &&
	    rc != KS_NOTFOUND) {
		io_err(msg, "key %s: %s", in->fpr, store_strerror(rc));
		return (-1);
	}
	k->known = rc == KS_OK;
	if (pgp_merge(in->fpr, k->known ? sb.data : NULL, sb.len, in->data,
	    in->len, &m) == -1)
		goto out;
	k->parsed = 1;
	k->revoked = m.revoked;
	k->expired = m.expired;
	if (import_classify(txn, account, &m, k, msg) == -1 ||
	    import_dropped(txn, &m, k, msg) == -1)
		goto out;
	if (k->npublish == 0 && k->ndropped == 0 && m.nuids == 0) {
		io_err(msg, "key %s: refused: the key has no user ID", m.fpr);
		goto out;
	}
	if (k->npublish == 0 && k->ndropped == 0 &&
	    (!k->known || account != NULL)) {
		io_err(msg, "key %s: refused: no UID with an address of %s%s",
		    m.fpr, account != NULL ? "account " : "an account here",
		    account != NULL ? account : "");
		goto out;
	}
	if (import_store(txn, account, in, &m, k, msg) == -1 ||
	    import_publish(txn, &m, k, msg) == -1)
		goto out;
	/* Served elsewhere as a revoked predecessor: serve it anew. */
	if (k->known && m.revoked &&
	    publish_refresh_key(txn, m.fpr, msg) == -1)
		goto out;
	k->failed = 0;
	ret = 0;
out:
	pgp_cert_free(&m);
	ks_blob_free(&sb);
	return (ret);
}

int
import_keys(struct ks_txn *txn, const char *account,
    const struct pgp_certs *certs, struct import_report *r)
{
	struct import_key	*k;
	FILE			*msg;
	size_t			 len, i;
	int			 ret = 0;

	memset(r, 0, sizeof(*r));
	if (certs->n > 0 &&
	    (r->v = calloc(certs->n, sizeof(*r->v))) == NULL) {
		warn(NULL);
		return (-1);
	}
	for (i = 0; i < certs->n && ret == 0; i++) {
		k = &r->v[r->n++];
		if ((msg = open_memstream(&k->msgs, &len)) == NULL) {
			warn(NULL);
			return (-1);
		}
		ret = import_one(txn, account, &certs->v[i], k, msg);
		if (fclose(msg) == EOF) {
			warn(NULL);
			ret = -1;
		}
	}
	return (ret);
}

/* One key's outcome, as wkdctl import prints it. */
static void
import_print_key(FILE *fp, const struct import_key *k)
{
	const struct import_uid	*u;
	size_t			 i;

	if (k->parsed)
		fprintf(fp, "key %s%s%s%s\n", k->fpr,
		    k->known ? " (known: merged)" : "",
		    k->revoked ? " [revoked]" : "",
		    k->expired ? " [expired]" : "");
	for (i = 0; i < k->nuids; i++) {
		u = &k->uids[i];
		if (!u->publish)
			fprintf(fp, "  not published: %s: %s\n",
			    u->text != NULL ? u->text : "[user attribute]",
			    u->why);
	}
	if (k->failed) {
		fputs(k->msgs != NULL ? k->msgs : "", fp);
		return;
	}
	if (k->revoc)
		fprintf(fp, "  revocation certificate made and stored (never "
		    "served; \"wkdctl revoke %s\" uses it)\n", k->fpr);
	else if (k->revnote[0] != '\0')
		fprintf(fp, "  no revocation certificate made: %s\n",
		    k->revnote);
	for (i = 0; i < k->nuids; i++) {
		u = &k->uids[i];
		if (u->publish && u->replaced[0] != '\0')
			fprintf(fp, "  published at %s (replaces key %s)\n",
			    u->addr, u->replaced);
		else if (u->publish)
			fprintf(fp, "  published at %s\n", u->addr);
	}
	for (i = 0; i < k->ndropped; i++)
		fprintf(fp, "  unpublished: %s (its UID is revoked, invalid "
		    "or gone)\n", k->dropped[i]);
	fputs(k->msgs != NULL ? k->msgs : "", fp);
	if (k->npublish == 0 && k->ndropped == 0)
		fprintf(fp, "  merged; no address changed\n");
}

void
import_print(FILE *fp, const struct import_report *r)
{
	size_t	 i;

	for (i = 0; i < r->n; i++)
		import_print_key(fp, &r->v[i]);
}

/*
 * Read and check every input before the store is opened: the keys of each
 * file go into certs.  Returns 0, or -1 after warning.
 */
static int
import_read(int argc, char **argv, struct pass *pp,
    struct pgp_certs *certs)
{
	unsigned char	*data;
	size_t		 len;
	int		 i, rc;

	for (i = 0; i < argc; i++) {
		if (io_read_file(argv[i], IMPORT_FILE_MAX, &data, &len) == -1)
			return (-1);
		rc = pgp_read(strcmp(argv[i], "-") == 0 ? "(stdin)" : argv[i],
		    data, len, pp, certs);
		io_wipe(data, len);
		if (rc == -1)
			return (-1);
	}
	return (0);
}

/*
 * The account --account names (an alias names its account) into acct.
 * Returns 0, or -1 after warning.
 */
static int
import_account(struct ks_txn *txn, const char *account,
    char acct[KS_ADDR_MAX])
{
	struct ks_addr	 a;
	int		 rc;

	if ((rc = ks_addr_get(txn, account, &a)) != KS_OK ||
	    a.state == KS_ADDR_RETIRED) {
		warnx("%s: %s", account, rc == KS_OK ? "retired alias" :
		    rc == KS_NOTFOUND ? "no such account" : ks_strerror(rc));
		return (-1);
	}
	(void)snprintf(acct, KS_ADDR_MAX, "%s", a.account);
	return (0);
}

int
cmd_import(struct ctl *ctl, int argc, char **argv)
{
	struct pgp_certs	 certs;
	struct import_report	 rep;
	struct ks_txn		*txn = NULL;
	const char		*account = NULL;
	char			 acct[KS_ADDR_MAX];
	struct pass		 pp;
	int			 ch, ret = 1;
	static const struct option longopts[] = {
		{ "account", required_argument, NULL, 'a' },
		{ "passphrase-fd", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&certs, 0, sizeof(certs));
	memset(&rep, 0, sizeof(rep));
	pass_init(&pp);
	while ((ch = getopt_long(argc, argv, "a:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			account = optarg;
			break;
		case 'P':
			if (pass_fd(&pp, optarg) == -1)
				return (1);
			break;
		default:
			return (cli_usage(IMPORT_USAGE));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return (cli_usage(IMPORT_USAGE));
	if (account != NULL && cli_addr(account, acct, NULL) == -1)
		return (1);
	if (account != NULL)
		account = acct;
	if (import_read(argc, argv, &pp, &certs) == -1)
		goto out;
	pass_clear(&pp);
	if (store_begin(ctl, 0, &txn) == -1)
		goto out;
	if (account != NULL && import_account(txn, account, acct) == -1)
		goto abort;
	if (import_keys(txn, account, &certs, &rep) == -1)
		goto abort;
	if (store_commit(ctl, txn) == -1)
		goto out;
	import_print(stdout, &rep);
	ret = 0;
	goto out;
abort:
	ks_txn_abort(txn);
	/* The report so far explains what was refused. */
	import_print(stderr, &rep);
	warnx("import failed: the store is unchanged");
out:
	pass_clear(&pp);
	import_report_free(&rep);
	pgp_certs_free(&certs);
	return (ret);
}
