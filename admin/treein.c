/*
 * treein.c: import-tree, an existing WKD tree into the store.
 *
 * import-tree reads a tree as gpg-wks-client --install-key writes it (its
 * -C directory is DIR/openpgpkey), as a web server serves it for the
 * advanced method, or for the direct one (then --domain says whose):
 *
 *   DIR/openpgpkey/D/hu/HASH
 *   DIR/.well-known/openpgpkey/D/hu/HASH
 *   DIR/.well-known/openpgpkey/hu/HASH			(--domain D)
 *
 * (export-tree's DIR/openpgpkey.D is the second.)  A file is imported only
 * if its name is the WKD hash, draft or Unicode-lowercase (wkd_hashes()),
 * of the address of one of its key's UIDs in D: anything else would
 * publish a key under a name its owner didn't choose.  Files are read and
 * imported one at a time, all in one write transaction.  Policy files are
 * not read: "wkdctl domain policy" sets those.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keystore.h"
#include "wkdctl.h"

#define TREE_FILE_MAX	KS_CERT_MAX	/* Largest key file read. */

/* import-tree. */

static void
tree_file_free(struct tree_file *f)
{
	size_t	 i;

	for (i = 0; i < f->nkeys; i++)
		import_report_free(&f->keys[i].rep);
	free(f->keys);
	free(f->addrs);
	free(f->created);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

void
tree_import_free(struct tree_import *r)
{
	size_t	 i;

	for (i = 0; i < r->n; i++)
		tree_file_free(&r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* A new record for file path (dir/name) in r; NULL after warning. */
static struct tree_file *
tree_file_new(struct tree_import *r, const char *dir, const char *name,
    const char *domain)
{
	struct tree_file	*nv, *f;
	size_t			 cap;

	if (r->n == r->cap) {
		cap = r->cap == 0 ? 64 : r->cap * 2;
		if ((nv = reallocarray(r->v, cap, sizeof(*nv))) == NULL) {
			warn(NULL);
			return (NULL);
		}
		r->v = nv;
		r->cap = cap;
	}
	f = &r->v[r->n];
	memset(f, 0, sizeof(*f));
	if (asprintf(&f->path, "%s/%s", dir, name) == -1) {
		f->path = NULL;
		warn(NULL);
		return (NULL);
	}
	(void)snprintf(f->domain, sizeof(f->domain), "%s", domain);
	f->status = TREE_FAILED;
	r->n++;
	return (f);
}

/* Add addr to f's matched addresses, once. */
static int
tree_file_addr(struct tree_file *f, const char *addr)
{
	char	(*na)[KS_ADDR_MAX];
	int	*nc;
	size_t	 i;

	for (i = 0; i < f->naddrs; i++)
		if (strcmp(f->addrs[i], addr) == 0)
			return (0);
	if ((na = reallocarray(f->addrs, f->naddrs + 1, sizeof(*na))) ==
	    NULL) {
		warn(NULL);
		return (-1);
	}
	f->addrs = na;
	if ((nc = reallocarray(f->created, f->naddrs + 1, sizeof(*nc))) ==
	    NULL) {
		warn(NULL);
		return (-1);
	}
	f->created = nc;
	(void)snprintf(f->addrs[f->naddrs], KS_ADDR_MAX, "%s", addr);
	f->created[f->naddrs++] = 0;
	return (0);
}

/*
 * Which UIDs of m (a key of file f, named hash) have an address in f's
 * domain with that hash: added to f.  Returns 1 if one is valid (so
 * import_keys() publishes it), 0 if none matches or none of those is
 * valid (k->why says), -1 after warning.
 */
static int
tree_match(struct tree_file *f, const char *hash, const struct pgp_cert *m,
    struct tree_key *k)
{
	const struct pgp_uid	*u;
	const char		*other = NULL;
	char			 ascii[KS_HASH_LEN + 1], uni[KS_HASH_LEN + 1];
	char			 otherh[KS_HASH_LEN + 1];
	size_t			 i;
	int			 valid = 0, kind = -1;

	for (i = 0; i < m->nuids; i++) {
		u = &m->uids[i];
		if (u->addr[0] == '\0' || strcmp(u->domain, f->domain) != 0 ||
		    wkd_hashes(u->addr, ascii, uni, NULL) != KS_OK)
			continue;
		if (strcmp(ascii, hash) != 0 && strcmp(uni, hash) != 0) {
			if (other == NULL) {
				other = u->addr;
				memcpy(otherh, ascii, sizeof(otherh));
			}
			continue;
		}
		if (u->kind != PGP_UID_OK) {
			kind = u->kind;
			continue;
		}
		if (tree_file_addr(f, u->addr) == -1)
			return (-1);
		valid = 1;
	}
	if (valid)
		return (1);
	if (kind != -1) {
		k->status = TREE_FAILED;
		(void)snprintf(k->why, sizeof(k->why), "its UID for this "
		    "hash is %s", kind == PGP_UID_REVOKED ? "revoked" :
		    "not valid (no valid self-signature)");
	} else if (other != NULL) {
		k->status = TREE_MISMATCH;
		(void)snprintf(k->why, sizeof(k->why), "mismatch: no UID of "
		    "%s has this hash (%s has %s)", f->domain, other, otherh);
	} else {
		k->status = TREE_MISMATCH;
		(void)snprintf(k->why, sizeof(k->why), "mismatch: no UID in "
		    "%s", f->domain);
	}
	return (0);
}

/*
 * Would import_keys() publish unknown key fpr (revoked or not) of f at
 * one of f's addresses, or refuse it?  Returns 1 if it publishes, 0 if
 * not (k->why says why, k->status set), -1 on a store error (warned).
 */
static int
tree_publishable(struct ks_txn *txn, const struct tree_file *f,
    int revoked, struct tree_key *k)
{
	struct ks_addr	 a;
	size_t		 i;
	int		 rc, removed;

	k->status = TREE_FAILED;
	for (i = 0; i < f->naddrs; i++) {
		if ((rc = ks_addr_get(txn, f->addrs[i], &a)) != KS_OK ||
		    (rc = account_removed(txn, &a, &removed)) != KS_OK) {
			warnx("%s: %s", f->addrs[i], store_strerror(rc));
			return (-1);
		}
		if (a.state == KS_ADDR_RETIRED)
			(void)snprintf(k->why, sizeof(k->why), "%s is a "
			    "retired alias of account %s", a.addr, a.account);
		else if (a.flags & KS_AF_UNPUBLISHED)
			(void)snprintf(k->why, sizeof(k->why), "%s is "
			    "unpublished (wkdctl publish %s)", a.addr, a.addr);
		else if (removed)
			(void)snprintf(k->why, sizeof(k->why), "account %s "
			    "was removed", a.account);
		else if (revoked && a.fpr[0] != '\0' &&
		    strcmp(a.fpr, k->fpr) != 0) {
			/* A revoked predecessor, after the key it served. */
			k->status = TREE_SKIPPED;
			(void)snprintf(k->why, sizeof(k->why), "revoked, not "
			    "imported: %s serves %s", a.addr, a.fpr);
		} else
			return (1);
	}
	return (0);
}

/*
 * The addresses of f bound to accounts: made now if create and the
 * domain is hosted.  Returns 1 if all are, 0 if not (f->why says), -1
 * after warning.
 */
static int
tree_accounts(struct ks_txn *txn, struct tree_file *f, int create,
    size_t *ncreated)
{
	struct ks_addr	 a;
	size_t		 i;
	int		 rc;

	for (i = 0; i < f->naddrs; i++) {
		if ((rc = ks_addr_get(txn, f->addrs[i], &a)) == KS_OK)
			continue;
		if (rc != KS_NOTFOUND) {
			warnx("%s: %s", f->addrs[i], store_strerror(rc));
			return (-1);
		}
		if (!create) {
			(void)snprintf(f->why, sizeof(f->why), "%s is not an "
			    "address of any account (--create-accounts makes "
			    "one)", f->addrs[i]);
			return (0);
		}
		if (account_create(txn, f->addrs[i], NULL, 0) == -1)
			return (-1);
		f->created[i] = 1;
		(*ncreated)++;
	}
	return (1);
}

/*
 * Every key of the file must match its name, or nothing of it is
 * imported: each key's outcome into f->keys, whether it is revoked into
 * revoked[], the file's into f->status.  0, or -1 after warning.
 */
static int
tree_file_match(struct tree_file *f, const char *hash,
    const struct pgp_certs *certs, int *revoked)
{
	struct pgp_cert	 m;
	struct tree_key	*k;
	size_t		 i;
	int		 rc;

	/* Every key must match, or nothing of the file is imported. */
	f->status = TREE_IMPORTED;
	for (i = 0; i < certs->n; i++) {
		k = &f->keys[i];
		(void)snprintf(k->fpr, sizeof(k->fpr), "%s", certs->v[i].fpr);
		k->status = TREE_SKIPPED;
		if (pgp_merge(k->fpr, NULL, 0, certs->v[i].data,
		    certs->v[i].len, &m) == -1) {
			k->status = TREE_FAILED;
			(void)snprintf(k->why, sizeof(k->why), "not a valid "
			    "key");
		} else {
			revoked[i] = m.revoked;
			rc = tree_match(f, hash, &m, k);
			pgp_cert_free(&m);
			if (rc == -1)
				return (-1);
		}
		if (k->status > f->status && k->status != TREE_SKIPPED)
			f->status = k->status;
	}
	return (0);
}

/*
 * Import the keys of f, name hash, as read into certs: checked, then one
 * import_keys() each, the last first (a file with several keys holds the
 * current one first, then revoked predecessors: each then replaces the
 * one before, as they were published).  Returns 0 or -1 (the caller
 * aborts txn).
 */
static int
tree_file_keys(struct ks_txn *txn, const struct tree_import_req *req,
    struct tree_file *f, const char *hash, struct pgp_certs *certs,
    size_t *ncreated)
{
	struct pgp_certs	 one;
	struct ks_addr		 a;
	struct ks_blob		 b;
	struct tree_key		*k;
	size_t			 i, nok = 0;
	int			 rc, *revoked = NULL;

	if ((f->keys = calloc(certs->n, sizeof(*f->keys))) == NULL ||
	    (revoked = calloc(certs->n, sizeof(*revoked))) == NULL) {
		warn(NULL);
		goto fail;
	}
	f->nkeys = certs->n;
	if (tree_file_match(f, hash, certs, revoked) == -1)
		goto fail;
	if (f->status == TREE_IMPORTED &&
	    (rc = tree_accounts(txn, f, req->create, ncreated)) != 1) {
		if (rc == -1)
			goto fail;
		f->status = TREE_FAILED;
	}
	if (f->status != TREE_IMPORTED) {
		for (i = 0; i < certs->n; i++)
			if (f->keys[i].status == TREE_SKIPPED)
				(void)snprintf(f->keys[i].why,
				    sizeof(f->keys[i].why), "not imported, "
				    "as the file isn't");
		goto done;
	}
	for (i = certs->n; i-- > 0; ) {
		k = &f->keys[i];
		/* import_keys() refuses an unknown key it publishes nowhere. */
		if ((rc = ks_cert_get(txn, k->fpr, &b)) == KS_OK)
			ks_blob_free(&b);
		else if (rc != KS_NOTFOUND) {
			warnx("key %s: %s", k->fpr, store_strerror(rc));
			goto fail;
		} else if ((rc = tree_publishable(txn, f, revoked[i], k)) !=
		    1) {
			if (rc == -1)
				goto fail;
			if (k->status != TREE_SKIPPED)
				f->status = k->status;
			continue;
		}
		memset(&one, 0, sizeof(one));
		one.v = &certs->v[i];
		one.n = 1;
		k->status = TREE_IMPORTED;
		if (import_keys(txn, NULL, &one, IMPORT_STRICT, NULL,
		    &k->rep) == -1) {
			k->status = TREE_FAILED;
			goto fail;
		}
		nok++;
	}
	if (nok == 0 && f->status == TREE_IMPORTED)
		f->status = TREE_FAILED;
	/*
	 * The last key published replaced revoked ones published just before
	 * it; on a domain that keeps revoked keys, serve them after it now,
	 * as the tree did (publish_uid() picks the predecessor before it
	 * marks the replaced key superseded).
	 */
	for (i = 0; nok > 1 && i < f->naddrs; i++) {
		if ((rc = ks_addr_get(txn, f->addrs[i], &a)) != KS_OK) {
			warnx("%s: %s", f->addrs[i], store_strerror(rc));
			goto fail;
		}
		if (a.fpr[0] != '\0' && publish_refresh(txn, &a, stderr) == -1)
			goto fail;
	}
done:
	free(revoked);
	return (0);
fail:
	f->status = TREE_FAILED;
	free(revoked);
	return (-1);
}

/* Import file name of directory dir (under the tree, for domain). */
static int
tree_file(struct ks_txn *txn, const struct tree_import_req *req,
    const char *dir, const char *name, const char *domain,
    struct tree_import *r)
{
	struct tree_file	*f;
	struct pgp_certs	 certs;
	struct ks_domain	 d;
	struct stat		 st;
	unsigned char		*data;
	size_t			 len;
	char			 path[PATH_MAX];
	int			 rc, ret = 0;

	if ((f = tree_file_new(r, dir, name, domain)) == NULL)
		return (-1);
	memset(&certs, 0, sizeof(certs));
	if (!ks_hash_valid(name, strlen(name))) {
		f->status = TREE_MISMATCH;
		(void)snprintf(f->why, sizeof(f->why), "mismatch: the name "
		    "is not a WKD hash");
		goto out;
	}
	if ((rc = ks_domain_get(txn, domain, &d)) == KS_NOTFOUND) {
		(void)snprintf(f->why, sizeof(f->why), "domain %s is not "
		    "hosted (wkdctl domain add %s)", domain, domain);
		goto out;
	} else if (rc != KS_OK) {
		warnx("%s: %s", domain, store_strerror(rc));
		return (-1);
	}
	rc = snprintf(path, sizeof(path), "%s/%s", req->dir, f->path);
	if (rc < 0 || (size_t)rc >= sizeof(path)) {
		(void)snprintf(f->why, sizeof(f->why), "path too long");
		goto out;
	}
	if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)snprintf(f->why, sizeof(f->why), "not a file");
		goto out;
	}
	if (io_read_file(path, TREE_FILE_MAX, &data, &len) == -1) {
		(void)snprintf(f->why, sizeof(f->why), "unreadable");
		goto out;
	}
	rc = pgp_read(f->path, data, len, req->pp, &certs);
	io_wipe(data, len);
	if (rc == -1 || certs.n == 0) {
		(void)snprintf(f->why, sizeof(f->why), "no OpenPGP key in "
		    "it");
		goto out;
	}
	ret = tree_file_keys(txn, req, f, name, &certs, &r->ncreated);
out:
	pgp_certs_free(&certs);
	if (f->status == TREE_IMPORTED || f->status == TREE_SKIPPED)
		r->nimported++;
	else if (f->status == TREE_MISMATCH)
		r->nmismatch++;
	else
		r->nfailed++;
	return (ret);
}

/* scandir(3): every name but "." and "..". */
static int
tree_entry(const struct dirent *e)
{
	return (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0);
}

/* Import the files of hu directory dir/hu (below the tree) of domain. */
static int
tree_hu(struct ks_txn *txn, const struct tree_import_req *req,
    const char *dir, const char *domain, struct tree_import *r)
{
	struct dirent	**v;
	char		 path[PATH_MAX], rel[PATH_MAX];
	int		 i, n, rc = 0;

	if (tree_path(rel, sizeof(rel), "%s/hu", dir) == -1 ||
	    tree_path(path, sizeof(path), "%s/%s", req->dir, rel) == -1)
		return (-1);
	if ((n = scandir(path, &v, tree_entry, alphasort)) == -1) {
		warn("%s", path);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (rc == 0) {
			io_progress(req->pg, r->n);
			rc = tree_file(txn, req, rel, v[i]->d_name, domain, r);
		}
		free(v[i]);
	}
	free(v);
	return (rc);
}

/* Is path (below the tree) a directory? */
static int
tree_isdir(const struct tree_import_req *req, const char *rel)
{
	struct stat	 st;
	char		 path[PATH_MAX];
	int		 n;

	n = snprintf(path, sizeof(path), "%s/%s", req->dir, rel);
	if (n < 0 || (size_t)n >= sizeof(path))
		return (0);
	return (stat(path, &st) == 0 && S_ISDIR(st.st_mode));
}

/*
 * The advanced layout under top (below the tree): top/D/hu for each D
 * (only req->domain's, if set).  *found counts the hu directories.
 */
static int
tree_domains(struct ks_txn *txn, const struct tree_import_req *req,
    const char *top, struct tree_import *r, size_t *found)
{
	struct dirent	**v;
	struct tree_file *f;
	char		 path[PATH_MAX], rel[PATH_MAX];
	char		 dom[KS_DOMAIN_MAX];
	int		 i, n, c, rc = 0;

	if (!tree_isdir(req, top))
		return (0);
	(void)snprintf(path, sizeof(path), "%s/%s", req->dir, top);
	if ((n = scandir(path, &v, tree_entry, alphasort)) == -1) {
		warn("%s", path);
		return (-1);
	}
	for (i = 0; i < n && rc == 0; i++) {
		/* hu is the direct layout's; dotfiles are no domains. */
		if (v[i]->d_name[0] == '.' || strcmp(v[i]->d_name, "hu") == 0)
			continue;
		c = snprintf(rel, sizeof(rel), "%s/%s/hu", top, v[i]->d_name);
		if (c < 0 || (size_t)c >= sizeof(rel) || !tree_isdir(req, rel))
			continue;
		rel[c - 3] = '\0';
		if (ks_domain_norm(v[i]->d_name, dom, sizeof(dom)) != KS_OK) {
			if ((f = tree_file_new(r, rel, "hu", "")) == NULL) {
				rc = -1;
				continue;
			}
			(void)snprintf(f->why, sizeof(f->why), "%s is not a "
			    "domain name", v[i]->d_name);
			r->nfailed++;
			continue;
		}
		if (req->domain != NULL && strcmp(dom, req->domain) != 0)
			continue;
		(*found)++;
		rc = tree_hu(txn, req, rel, dom, r);
	}
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return (rc);
}

int
tree_import(struct ks_txn *txn, const struct tree_import_req *req,
    struct tree_import *r)
{
	size_t	 found = 0;

	memset(r, 0, sizeof(*r));
	if (tree_domains(txn, req, "openpgpkey", r, &found) == -1 ||
	    tree_domains(txn, req, TREE_WK, r, &found) == -1)
		return (-1);
	if (tree_isdir(req, TREE_WK "/hu")) {
		if (req->domain == NULL) {
			warnx("%s: %s/hu is the direct layout: name its "
			    "domain with --domain", req->dir, TREE_WK);
			return (-1);
		}
		found++;
		if (tree_hu(txn, req, TREE_WK, req->domain, r) == -1)
			return (-1);
	}
	if (found == 0) {
		warnx("%s: no WKD tree (openpgpkey/D/hu, %s/D/hu or %s/hu)"
		    "%s%s", req->dir, TREE_WK, TREE_WK,
		    req->domain != NULL ? " for " : "",
		    req->domain != NULL ? req->domain : "");
		return (-1);
	}
	return (0);
}

/*
 * The addresses of f import published k's key at, to fp; the accounts
 * made for them noted on the file's first line (first).
 */
static void
tree_print_addrs(FILE *fp, const struct tree_file *f,
    const struct tree_key *k, int first)
{
	const struct import_key	*ik = &k->rep.v[0];
	const struct import_uid	*u;
	size_t			 i, j, np = 0;

	for (i = 0; i < ik->nuids; i++) {
		u = &ik->uids[i];
		if (!u->publish)
			continue;
		fprintf(fp, "%s%s", np++ == 0 ? ", published at " : ", ",
		    u->addr);
		for (j = 0; j < f->naddrs; j++)
			if (first && f->created[j] &&
			    strcmp(f->addrs[j], u->addr) == 0)
				fprintf(fp, " (account created)");
	}
	/* The file's own addresses that weren't. */
	for (i = 0; i < f->naddrs; i++) {
		for (u = NULL, j = 0; j < ik->nuids; j++)
			if (strcmp(ik->uids[j].addr, f->addrs[i]) == 0 &&
			    (u == NULL || ik->uids[j].publish))
				u = &ik->uids[j];
		if (u != NULL && !u->publish)
			fprintf(fp, ", not published at %s: %s", u->addr,
			    u->why);
	}
}

/* Print what import-tree did with each file, and a summary line. */
static void
tree_print(FILE *fp, const struct tree_import *r, int dry)
{
	const struct tree_file	*f;
	const struct tree_key	*k;
	size_t			 i, j;

	for (i = 0; i < r->n; i++) {
		f = &r->v[i];
		if (f->nkeys == 0)
			fprintf(fp, "%s: %s%s\n", f->path,
			    f->status == TREE_FAILED ? "not imported: " : "",
			    f->why);
		for (j = 0; j < f->nkeys; j++) {
			k = &f->keys[j];
			fprintf(fp, "%s: key %s: ", f->path, k->fpr);
			if (f->why[0] != '\0')
				fprintf(fp, "not imported: %s\n", f->why);
			else if (k->status == TREE_FAILED)
				fprintf(fp, "not imported: %s\n", k->why);
			else if (k->status != TREE_IMPORTED)
				fprintf(fp, "%s\n", k->why);
			else if (k->rep.n == 0)
				fprintf(fp, "imported\n");
			else {
				fprintf(fp, "%s", k->rep.v[0].known ?
				    "merged with the stored key" : "imported");
				tree_print_addrs(fp, f, k, j == 0);
				fprintf(fp, "\n");
			}
		}
	}
	fprintf(fp, "import-tree: %zu file%s: %zu imported, %zu mismatched, "
	    "%zu failed; %zu account%s created%s\n", r->n, r->n == 1 ? "" :
	    "s", r->nimported, r->nmismatch, r->nfailed, r->ncreated,
	    r->ncreated == 1 ? "" : "s",
	    dry ? " (dry run: nothing changed)" : "");
}

int
cmd_import_tree(struct ctl *ctl, int argc, char **argv)
{
	struct tree_import_req	 req;
	struct tree_import	 r;
	struct io_progress	 pg;
	struct ks_txn		*txn;
	struct pass		 pp;
	char			 dom[KS_DOMAIN_MAX];
	int			 ch, rc, dry = 0, ret = 1;
	static const struct option longopts[] = {
		{ "create-accounts", no_argument, NULL, 'c' },
		{ "domain", required_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&req, 0, sizeof(req));
	memset(&r, 0, sizeof(r));
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			req.create = 1;
			break;
		case 'd':
			if (cli_domain(optarg, dom) == -1)
				return (1);
			req.domain = dom;
			break;
		case 'n':
			dry = 1;
			break;
		default:
			return (cli_usage(IMPTREE_USAGE));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return (cli_usage(IMPTREE_USAGE));
	req.dir = argv[0];
	pass_init(&pp);
	req.pp = &pp;
	if (store_begin(ctl, 0, &txn) == -1)
		goto out;
	io_progress_start(&pg, "import-tree: files", 0);
	req.pg = &pg;
	rc = tree_import(txn, &req, &r);
	io_progress_end(&pg);
	if (rc == -1) {
		ks_txn_abort(txn);
		/* What was done so far says which file it stopped at. */
		if (r.n > 0)
			tree_print(stderr, &r, 0);
		warnx("import-tree failed: the store is unchanged");
		goto out;
	}
	if (dry)
		ks_txn_abort(txn);
	else if (store_commit(ctl, txn) == -1)
		goto out;
	tree_print(stdout, &r, dry);
	ret = r.nmismatch > 0 || r.nfailed > 0;
out:
	pass_clear(&pp);
	tree_import_free(&r);
	return (ret);
}
