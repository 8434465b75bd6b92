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
		return "store full (raise store-size in wkdd.conf)";
	if (rc == KS_TOOBIG)
		return "too big to publish (over 256 KiB)";
	return ks_strerror(rc);
}

/* Why u (a UID of a key being imported) isn't published, or NULL. */
static const char *
import_reason(struct ks_txn *txn, const char *account,
    const struct pgp_cert *c, size_t i, char *buf, size_t bufsz, int *rcp)
{
	const struct pgp_uid	*u = &c->uids[i];
	struct ks_domain	 d;
	struct ks_addr		 a;
	size_t			 j;
	int			 rc;

	*rcp = KS_OK;
	switch (u->kind) {
	case PGP_UID_ATTR:
		return "user attribute (photo ID): never published";
	case PGP_UID_INVALID:
		return "no valid self-signature";
	case PGP_UID_REVOKED:
		return "revoked UID";
	case PGP_UID_NOADDR:
		return "no mail address in it";
	}
	if ((rc = ks_domain_get(txn, u->domain, &d)) == KS_NOTFOUND) {
		(void)snprintf(buf, bufsz, "domain %s is not hosted",
		    u->domain);
		return buf;
	} else if (rc != KS_OK) {
		*rcp = rc;
		return ks_strerror(rc);
	}
	if ((rc = ks_addr_get(txn, u->addr, &a)) == KS_NOTFOUND) {
		if (account != NULL)
			(void)snprintf(buf, bufsz, "not an address of "
			    "account %s", account);
		else
			(void)snprintf(buf, bufsz, "not an address of any "
			    "account");
		return buf;
	} else if (rc != KS_OK) {
		*rcp = rc;
		return ks_strerror(rc);
	}
	if (account != NULL && strcmp(a.account, account) != 0) {
		(void)snprintf(buf, bufsz, "an address of another account "
		    "(%s), not of %s", a.account, account);
		return buf;
	}
	if (a.state == KS_ADDR_RETIRED) {
		(void)snprintf(buf, bufsz, "retired alias of account %s",
		    a.account);
		return buf;
	}
	for (j = 0; j < i; j++)
		if (c->uids[j].kind == PGP_UID_OK &&
		    strcmp(c->uids[j].addr, u->addr) == 0)
			return "another UID with this address comes first";
	return NULL;
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
		return rc;
	if ((rc = pub_del(txn, a->addr)) != KS_OK)
		return rc;
	a->fpr[0] = '\0';
	return ks_addr_put(txn, a);
}

/*
 * Publish UID u of m at its address, whose record is *a (updated): shape
 * the blob, serve it under the address's hash(es), log it.  Errors go to
 * errfp (the import report, or stderr).
 */
static int
key_publish(struct ks_txn *txn, const struct pgp_cert *m,
    const struct pgp_uid *u, struct ks_addr *a, FILE *errfp)
{
	unsigned char	*blob;
	size_t		 blen;
	int		 rc;

	if (pgp_shape(m, u->text, &blob, &blen) == -1)
		return -1;
	if (blen > KS_BLOB_MAX) {
		import_err(errfp, "key %s: %s: the key to publish is %zu "
		    "bytes, over the 256 KiB limit", m->fpr, u->addr, blen);
		free(blob);
		return -1;
	}
	rc = pub_put(txn, u->addr, blob, blen);
	free(blob);
	if (rc == KS_OK) {
		if (a->fpr[0] != '\0' && strcmp(a->fpr, m->fpr) != 0)
			rc = ctl_log(txn, u->addr, "published key %s "
			    "(replaces %s)", m->fpr, a->fpr);
		else
			rc = ctl_log(txn, u->addr, "published key %s",
			    m->fpr);
	}
	if (rc == KS_OK) {
		(void)snprintf(a->fpr, sizeof(a->fpr), "%s", m->fpr);
		rc = ks_addr_put(txn, a);
	}
	if (rc != KS_OK) {
		import_err(errfp, "key %s: %s: %s", m->fpr, u->addr,
		    key_kserr(rc));
		return -1;
	}
	return 0;
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
		return -1;
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
	if (npub == 0 && ndrop == 0) {
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
	if (ctl_log(txn, m.fpr, "certificate %s (%zu bytes)",
	    stored ? "merged" : "stored", m.len) != KS_OK)
		goto fail;
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
	ctl_addrs_free(&l);
	free(drop);
	free(pub);
	pgp_cert_free(&m);
	ks_blob_free(&sb);
	return 0;
fail:
	ctl_addrs_free(&l);
	free(drop);
	free(pub);
	pgp_cert_free(&m);
	ks_blob_free(&sb);
	return -1;
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
	int			 ch, rc, ret = 1;
	static const struct option longopts[] = {
		{ "account", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&certs, 0, sizeof(certs));
	while ((ch = getopt_long(argc, argv, "a:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			account = optarg;
			break;
		default:
			return ctl_usage(IMPORT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return ctl_usage(IMPORT_USAGE);
	if (account != NULL) {
		if (ctl_addr(account, acct, NULL) == -1)
			return 1;
		account = acct;
	}

	/* Read and check every input before opening the store. */
	for (i = 0; i < (size_t)argc; i++) {
		if (ctl_read_file(argv[i], IMPORT_FILE_MAX, &data, &len) == -1)
			goto out;
		rc = pgp_read(strcmp(argv[i], "-") == 0 ? "(stdin)" : argv[i],
		    data, len, &certs);
		ctl_wipe(data, len);
		if (rc == -1)
			goto out;
	}

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
	if (rep != NULL)
		fclose(rep);
	free(rbuf);
	pgp_certs_free(&certs);
	return ret;
}

/*
 * Publish addr (just bound or reactivated) from a key its account already
 * has in the store, if one has a valid UID for it.  Returns 1 if published
 * (*fpr_out set), 0 if no stored key has such a UID, -1 after warning.
 */
int
key_publish_stored(struct ks_txn *txn, const char *addr,
    char fpr_out[KS_FPR_MAX])
{
	struct ctl_addrs	 l;
	struct ks_addr		 a;
	struct ks_blob		 b;
	struct pgp_cert		 m;
	size_t			 i, j;
	int			 rc, ret = -1;

	memset(&b, 0, sizeof(b));
	memset(&m, 0, sizeof(m));
	if ((rc = ks_addr_get(txn, addr, &a)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		return -1;
	}
	if (ctl_addrs(txn, a.account, &l) == -1)
		return -1;
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
		if (j == m.nuids) {
			pgp_cert_free(&m);
			continue;
		}
		if (key_publish(txn, &m, &m.uids[j], &a, stderr) == -1)
			goto out;
		(void)snprintf(fpr_out, KS_FPR_MAX, "%s", m.fpr);
		ret = 1;
		goto out;
	}
	ret = 0;
out:
	pgp_cert_free(&m);
	ks_blob_free(&b);
	ctl_addrs_free(&l);
	return ret;
}

int
cmd_list(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn		*txn;
	struct ctl_addrs	 l;
	char			 d[KS_DOMAIN_MAX], local[KS_ADDR_MAX];
	char			 ad[KS_DOMAIN_MAX];
	size_t			 i;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return ctl_usage(LIST_USAGE);
	if (argc == 2 && ks_domain_norm(argv[1], d, sizeof(d)) != KS_OK) {
		warnx("%s: not a valid domain name", argv[1]);
		return 1;
	}
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, KS_RDONLY, &txn) == -1)
		return 1;
	if (ctl_addrs(txn, NULL, &l) == -1) {
		ks_txn_abort(txn);
		return 1;
	}
	ks_txn_abort(txn);
	for (i = 0; i < l.n; i++) {
		if (l.v[i].fpr[0] == '\0')
			continue;
		if (argc == 2 && (ctl_split(l.v[i].addr, local, sizeof(local),
		    ad, sizeof(ad)) == -1 || strcmp(ad, d) != 0))
			continue;
		printf("%s\t%s\n", l.v[i].addr, l.v[i].fpr);
	}
	ctl_addrs_free(&l);
	return 0;
}

static int
show_key(struct ctl *ctl, const char *fpr)
{
	struct ks_txn		*txn;
	struct ks_blob		 b;
	struct ctl_addrs	 l;
	size_t			 i;
	int			 rc;

	memset(&b, 0, sizeof(b));
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, KS_RDONLY, &txn) == -1)
		return 1;
	if ((rc = ks_cert_get(txn, fpr, &b)) != KS_OK) {
		warnx("key %s: %s", fpr, rc == KS_NOTFOUND ?
		    "not in the store" : ks_strerror(rc));
		ks_txn_abort(txn);
		return 1;
	}
	if (ctl_addrs(txn, NULL, &l) == -1) {
		ks_txn_abort(txn);
		ks_blob_free(&b);
		return 1;
	}
	ks_txn_abort(txn);
	printf("key %s\n", fpr);
	printf("  size: %zu bytes (stored certificate)\n", b.len);
	rc = pgp_describe(stdout, "  ", b.data, b.len);
	for (i = 0; i < l.n; i++)
		if (strcmp(l.v[i].fpr, fpr) == 0)
			printf("  published at: %s\n", l.v[i].addr);
	ctl_addrs_free(&l);
	ks_blob_free(&b);
	return rc == 0 ? 0 : 1;
}

static int
show_addr(struct ctl *ctl, const char *in)
{
	struct ks_txn	*txn;
	struct ks_addr	 a;
	struct ks_blob	 b;
	char		 addr[KS_ADDR_MAX], domain[KS_DOMAIN_MAX];
	char		 ascii[KS_HASH_LEN + 1], uni[KS_HASH_LEN + 1];
	int		 rc;

	memset(&b, 0, sizeof(b));
	if (ctl_addr(in, addr, domain) == -1)
		return 1;
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, KS_RDONLY, &txn) == -1)
		return 1;
	if ((rc = ks_addr_get(txn, addr, &a)) != KS_OK) {
		warnx("%s: %s", addr, rc == KS_NOTFOUND ?
		    "not an address of any account" : ks_strerror(rc));
		ks_txn_abort(txn);
		return 1;
	}
	if (pub_hashes(addr, ascii, uni, NULL) != KS_OK) {
		warnx("%s: cannot hash", addr);
		ks_txn_abort(txn);
		return 1;
	}
	if (a.fpr[0] != '\0' && (rc = ks_wkd_get(txn, domain, ascii, &b)) !=
	    KS_OK && rc != KS_NOTFOUND) {
		warnx("%s: %s", addr, ks_strerror(rc));
		ks_txn_abort(txn);
		return 1;
	}
	ks_txn_abort(txn);
	printf("address %s\n", addr);
	printf("  account: %s\n", a.account);
	printf("  state: %s\n", ctl_state(a.state));
	printf("  hash: %s\n", ascii);
	if (uni[0] != '\0')
		printf("  unicode-hash: %s\n", uni);
	if (a.fpr[0] != '\0') {
		printf("  key: %s\n", a.fpr);
		printf("  served: %zu bytes, etag %s\n", b.len, b.etag);
	} else
		printf("  key: none published\n");
	ks_blob_free(&b);
	return 0;
}

int
cmd_show(struct ctl *ctl, int argc, char **argv)
{
	char	 fpr[KS_FPR_MAX];

	if (argc != 2 || argv[1][0] == '-')
		return ctl_usage(SHOW_USAGE);
	if (strchr(argv[1], '@') == NULL) {
		if (ctl_fpr(argv[1], fpr) == -1) {
			warnx("%s: neither an address nor a fingerprint",
			    argv[1]);
			return 1;
		}
		return show_key(ctl, fpr);
	}
	return show_addr(ctl, argv[1]);
}

static int
write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t	 w;

	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= w;
	}
	return 0;
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
			return ctl_usage(EXPORT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return ctl_usage(EXPORT_USAGE);
	if (ctl_addr(argv[0], addr, domain) == -1)
		return 1;
	if (out == NULL && isatty(STDOUT_FILENO)) {
		warnx("refusing to write binary data to a terminal "
		    "(use -o file)");
		return 1;
	}
	memset(&b, 0, sizeof(b));
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, KS_RDONLY, &txn) == -1)
		return 1;
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
		return 1;
	}
	rc = write_all(fd, b.data, b.len);
	if (out != NULL && close(fd) == -1)
		rc = -1;
	ks_blob_free(&b);
	if (rc == -1) {
		warn("%s", out != NULL ? out : "stdout");
		return 1;
	}
	return 0;
abort:
	ks_txn_abort(txn);
	return 1;
}

/* Percent-encode s (RFC 3986 unreserved characters stay) into out. */
static int
key_pct(const char *s, char *out, size_t outsz)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 n = 0;
	unsigned char		 c;

	for (; *s != '\0'; s++) {
		c = *s;
		if (n + 4 > outsz)
			return -1;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			out[n++] = c;
		else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return 0;
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
		return ctl_usage(HASH_USAGE);
	if (ctl_addr(argv[1], addr, domain) == -1)
		return 1;
	if (pub_hashes(addr, ascii, uni, NULL) != KS_OK ||
	    ctl_split(argv[1], local, sizeof(local), rawdom,
	    sizeof(rawdom)) == -1 || key_pct(local, l, sizeof(l)) == -1) {
		warnx("%s: cannot hash", argv[1]);
		return 1;
	}
	printf("hash %s\n", ascii);
	printf("advanced https://openpgpkey.%s/.well-known/openpgpkey/%s/hu/"
	    "%s?l=%s\n", domain, domain, ascii, l);
	printf("direct https://%s/.well-known/openpgpkey/hu/%s?l=%s\n",
	    domain, ascii, l);
	if (uni[0] != '\0')
		printf("unicode-hash %s\n", uni);
	return 0;
}

int
cmd_remove(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn		*txn;
	struct ctl_addrs	 l;
	struct ks_blob		 b;
	char			 fpr[KS_FPR_MAX];
	unsigned char		*gone = NULL;
	size_t			 i;
	int			 rc;

	if (argc != 2 || argv[1][0] == '-')
		return ctl_usage(REMOVE_USAGE);
	if (ctl_fpr(argv[1], fpr) == -1) {
		warnx("%s: not a fingerprint", argv[1]);
		return 1;
	}
	memset(&b, 0, sizeof(b));
	memset(&l, 0, sizeof(l));
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1)
		return 1;
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
	if ((rc = ks_cert_del(txn, fpr)) != KS_OK) {
		warnx("key %s: %s", fpr, key_kserr(rc));
		goto abort;
	}
	if (ctl_log(txn, fpr, "key removed") != KS_OK)
		goto abort;
	if (ctl_commit(ctl, txn) == -1) {
		free(gone);
		ctl_addrs_free(&l);
		return 1;
	}
	printf("key %s removed\n", fpr);
	for (i = 0; i < l.n; i++)
		if (gone[i])
			printf("  unpublished: %s\n", l.v[i].addr);
	free(gone);
	ctl_addrs_free(&l);
	return 0;
abort:
	free(gone);
	ctl_addrs_free(&l);
	ks_txn_abort(txn);
	return 1;
}

struct log_walk {
	const char	*subject;	/* NULL: all. */
	size_t		 n;
};

static int
log_cb(const struct ks_logent *e, void *arg)
{
	struct log_walk	*w = arg;
	struct tm	 tm;
	time_t		 t = e->time;
	char		 when[32];

	if (w->subject != NULL && strcmp(w->subject, e->subject) != 0)
		return 0;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(when, sizeof(when), "%lld",
		    (long long)e->time);
	printf("%s %s %s: %s\n", when, e->user, e->subject, e->detail);
	w->n++;
	return 0;
}

int
cmd_log(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn	*txn;
	struct log_walk	 w;
	char		 subj[KS_ADDR_MAX];
	int		 rc;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return ctl_usage(LOG_USAGE);
	memset(&w, 0, sizeof(w));
	if (argc == 2) {
		/* The subject as the log has it: normalised. */
		if (strchr(argv[1], '@') != NULL) {
			if (ctl_addr(argv[1], subj, NULL) == -1)
				return 1;
		} else if (ctl_fpr(argv[1], subj) == -1 &&
		    ks_domain_norm(argv[1], subj, sizeof(subj)) != KS_OK) {
			warnx("%s: not an address, domain or fingerprint",
			    argv[1]);
			return 1;
		}
		w.subject = subj;
	}
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, KS_RDONLY, &txn) == -1)
		return 1;
	rc = ks_log_foreach(txn, 0, log_cb, &w);
	ks_txn_abort(txn);
	if (rc != KS_OK) {
		warnx("audit log: %s", ks_strerror(rc));
		return 1;
	}
	return 0;
}
