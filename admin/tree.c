/*
 * tree.c: static WKD trees, out (export-tree) and in (import-tree).
 *
 * export-tree writes what wkdd serves as files that a plain web server
 * serves by Host, e.g. nginx with "root DIR/$host;":
 *
 *   DIR/openpgpkey.D/.well-known/openpgpkey/D/hu/HASH	advanced
 *   DIR/openpgpkey.D/.well-known/openpgpkey/D/policy
 *   DIR/D/.well-known/openpgpkey/hu/HASH		direct
 *   DIR/D/.well-known/openpgpkey/policy
 *
 * for each domain D (its A-label, as clients send it in Host).  HASH runs
 * over every entry the store serves for D, with the bytes wkdd sends: each
 * bound address's draft hash and, where wkd.c publishes the same blob
 * there too, its Unicode-lowercase hash.  keystore.h has no walk of the
 * wkd table, so the entries are found from the addresses (ks_addr_foreach,
 * all of them once), each looked up by its hash(es) with ks_wkd_get():
 * the bytes are the table's, one blob in memory at a time, all in one
 * read transaction.
 *
 * DIR is a symbolic link to the tree, a directory ".DIR.XXXXXX" beside it.
 * A new tree is built in a new such directory; once complete, after the
 * read transaction, every file and directory in it is fsync(2)ed and a new
 * link to it is renamed over DIR (rename(2) is atomic): a web server sees
 * the old tree or the new one, whole, never a mix or nothing.  The old
 * tree is removed after that.  Two export-trees at once to the same DIR
 * may leave an old tree behind; nothing worse.
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

#define TREE_WK		".well-known/openpgpkey"
#define TREE_ADV	"openpgpkey."
#define TREE_FD_MAX	32		/* nftw(3)'s descriptors. */
#define TREE_FILE_MAX	KS_CERT_MAX	/* Largest key file read. */

/* export-tree: the walks over the store's domains and addresses. */
struct tree_out {
	struct ks_txn		*txn;
	int			 rootfd;
	struct tree_export	*r;
	int			 failed;	/* Stopped the walk, warned. */
};

static int	 tree_path(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
tree_domain_cmp(const void *a, const void *b)
{
	const struct tree_domain	*x = a, *y = b;

	return (strcmp(x->name, y->name));
}

/* Add domain name to r (no duplicates kept: sorted and squeezed later). */
static int
tree_domain_add(struct tree_export *r, const char *name)
{
	struct tree_domain	*nv;

	if ((nv = reallocarray(r->v, r->n + 1, sizeof(*nv))) == NULL) {
		warn(NULL);
		return (-1);
	}
	r->v = nv;
	memset(&r->v[r->n], 0, sizeof(r->v[r->n]));
	(void)snprintf(r->v[r->n].name, sizeof(r->v[r->n].name), "%s", name);
	r->n++;
	return (0);
}

static int
tree_domain_cb(const struct ks_domain *d, void *arg)
{
	struct tree_out	*o = arg;

	if (tree_domain_add(o->r, d->name) == -1) {
		o->failed = 1;
		return (1);
	}
	return (0);
}

void
tree_export_free(struct tree_export *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* A path below the tree's root, made from fmt; -1 (warned) if too long. */
static int
tree_path(char *buf, size_t bufsz, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, bufsz, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= bufsz) {
		warnx("%s...: path too long", buf);
		return (-1);
	}
	return (0);
}

/* mkdir(2) below rootfd; an existing directory is fine. */
static int
tree_mkdir(int rootfd, const char *path)
{
	struct stat	 st;

	if (mkdirat(rootfd, path, 0755) == 0)
		return (0);
	if (errno == EEXIST && fstatat(rootfd, path, &st,
	    AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
		return (0);
	warn("%s", path);
	return (-1);
}

/*
 * The directories of d's two layouts, down to hu/.  (A hosted domain
 * openpgpkey.D shares its direct directories with D's advanced ones.)
 */
static int
tree_mkdirs(int rootfd, const char *d)
{
	char	 p[PATH_MAX];

	if (tree_path(p, sizeof(p), TREE_ADV "%s", d) == -1 ||
	    tree_mkdir(rootfd, p) == -1 ||
	    tree_path(p, sizeof(p), TREE_ADV "%s/.well-known", d) == -1 ||
	    tree_mkdir(rootfd, p) == -1 ||
	    tree_path(p, sizeof(p), TREE_ADV "%s/" TREE_WK, d) == -1 ||
	    tree_mkdir(rootfd, p) == -1 ||
	    tree_path(p, sizeof(p), TREE_ADV "%s/" TREE_WK "/%s", d, d) ==
	    -1 || tree_mkdir(rootfd, p) == -1 ||
	    tree_path(p, sizeof(p), TREE_ADV "%s/" TREE_WK "/%s/hu", d, d) ==
	    -1 || tree_mkdir(rootfd, p) == -1)
		return (-1);
	if (tree_path(p, sizeof(p), "%s", d) == -1 ||
	    tree_mkdir(rootfd, p) == -1 ||
	    tree_path(p, sizeof(p), "%s/.well-known", d) == -1 ||
	    tree_mkdir(rootfd, p) == -1 ||
	    tree_path(p, sizeof(p), "%s/" TREE_WK, d) == -1 ||
	    tree_mkdir(rootfd, p) == -1 ||
	    tree_path(p, sizeof(p), "%s/" TREE_WK "/hu", d) == -1 ||
	    tree_mkdir(rootfd, p) == -1)
		return (-1);
	return (0);
}

/*
 * Write len bytes as new file path below rootfd.  Returns 0, 1 if the
 * file exists already, or -1 after warning.
 */
static int
tree_write(int rootfd, const char *path, const unsigned char *data,
    size_t len)
{
	int	 fd;

	if ((fd = openat(rootfd, path, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0644)) == -1) {
		if (errno == EEXIST)
			return (1);
		warn("%s", path);
		return (-1);
	}
	if (io_write_all(fd, data, len) == -1) {
		warn("%s", path);
		(void)close(fd);
		return (-1);
	}
	if (close(fd) == -1) {
		warn("%s", path);
		return (-1);
	}
	return (0);
}

/* One blob (a key or a policy file) of d, in both layouts. */
static int
tree_put(int rootfd, const char *d, const char *h,
    const unsigned char *data, size_t len)
{
	char	 path[PATH_MAX];
	int	 rc;

	if (tree_path(path, sizeof(path), TREE_ADV "%s/" TREE_WK "/%s/%s",
	    d, d, h) == -1 ||
	    (rc = tree_write(rootfd, path, data, len)) == -1)
		return (-1);
	if (rc == 1)
		return (1);	/* A hash seen before. */
	if (tree_path(path, sizeof(path), "%s/" TREE_WK "/%s", d, h) ==
	    -1 ||
	    (rc = tree_write(rootfd, path, data, len)) == -1)
		return (-1);
	if (rc == 1) {
		warnx("%s: exists already", path);
		return (-1);
	}
	return (0);
}

/* The directories and policy file of domain t. */
static int
tree_domain_begin(struct ks *ks, int rootfd, struct tree_domain *t)
{
	struct ks_blob	 b;
	int		 rc;

	if (tree_mkdirs(rootfd, t->name) == -1)
		return (-1);
	/* What wkdd serves: no policy record, no file (a 404). */
	if ((rc = ks_get_policy(ks, t->name, &b)) == KS_NOTFOUND)
		return (0);
	if (rc != KS_OK) {
		warnx("%s: policy: %s", t->name, ks_strerror(rc));
		return (-1);
	}
	rc = tree_put(rootfd, t->name, "policy", b.data, b.len);
	t->policy = 1;
	t->policylen = b.len;
	ks_blob_free(&b);
	return (rc == 0 ? 0 : -1);
}

/* The entry served under hash h of domain t, if there is one. */
static int
tree_key(struct tree_out *o, struct tree_domain *t, const char *h)
{
	struct ks_blob	 b;
	char		 name[4 + KS_HASH_LEN];
	int		 rc;

	if ((rc = ks_wkd_get(o->txn, t->name, h, &b)) == KS_NOTFOUND)
		return (0);
	if (rc != KS_OK) {
		warnx("%s/%s: %s", t->name, h, ks_strerror(rc));
		return (-1);
	}
	(void)snprintf(name, sizeof(name), "hu/%s", h);
	rc = tree_put(o->rootfd, t->name, name, b.data, b.len);
	if (rc == 0) {
		t->nkeys++;
		t->bytes += b.len;
	}
	ks_blob_free(&b);
	return (rc == -1 ? -1 : 0);
}

/* An address: what its domain (if exported) serves under its hashes. */
static int
tree_addr_cb(const struct ks_addr *a, void *arg)
{
	struct tree_out		*o = arg;
	struct tree_domain	 key, *t;
	char			 ascii[KS_HASH_LEN + 1], uni[KS_HASH_LEN + 1];
	const char		*at;

	if ((at = strrchr(a->addr, '@')) == NULL ||
	    strlen(at + 1) >= sizeof(key.name))
		return (0);
	(void)snprintf(key.name, sizeof(key.name), "%s", at + 1);
	if ((t = bsearch(&key, o->r->v, o->r->n, sizeof(*t),
	    tree_domain_cmp)) == NULL)
		return (0);
	/* wkd_put() can't have published an address without hashes. */
	if (wkd_hashes(a->addr, ascii, uni, NULL) != KS_OK)
		return (0);
	if (tree_key(o, t, ascii) == -1 ||
	    (uni[0] != '\0' && tree_key(o, t, uni) == -1)) {
		o->failed = 1;
		return (1);
	}
	return (0);
}

int
tree_export(struct ks_txn *txn, struct ks *ks, int rootfd, char **domains,
    size_t n, struct tree_export *r)
{
	struct tree_out	 o;
	struct ks_domain d;
	size_t		 i, j;
	int		 rc;

	memset(r, 0, sizeof(*r));
	memset(&o, 0, sizeof(o));
	o.txn = txn;
	o.rootfd = rootfd;
	o.r = r;
	if (n == 0 && (rc = ks_domain_foreach(txn, tree_domain_cb, &o)) !=
	    KS_OK) {
		if (!o.failed)
			warnx("domains: %s", ks_strerror(rc));
		return (-1);
	}
	for (i = 0; i < n; i++)
		if (store_domain(txn, domains[i], &d) == -1 ||
		    tree_domain_add(r, domains[i]) == -1)
			return (-1);
	if (r->n > 0)
		qsort(r->v, r->n, sizeof(*r->v), tree_domain_cmp);
	for (i = j = 0; i < r->n; i++)
		if (j == 0 || strcmp(r->v[j - 1].name, r->v[i].name) != 0)
			r->v[j++] = r->v[i];
	r->n = j;
	for (i = 0; i < r->n; i++)
		if (tree_domain_begin(ks, rootfd, &r->v[i]) == -1)
			return (-1);
	if ((rc = ks_addr_foreach(txn, NULL, tree_addr_cb, &o)) != KS_OK) {
		if (!o.failed)
			warnx("addresses: %s", ks_strerror(rc));
		return (-1);
	}
	return (0);
}

/* nftw(3): fsync(2) a file or directory. */
static int
tree_sync_cb(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	int	 fd;

	(void)st;
	(void)ftw;
	if (type != FTW_F && type != FTW_DP)
		return (0);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    (type == FTW_DP ? O_DIRECTORY : 0))) == -1) {
		warn("%s", path);
		return (1);
	}
	if (fsync(fd) == -1) {
		warn("fsync %s", path);
		(void)close(fd);
		return (1);
	}
	(void)close(fd);
	return (0);
}

/* nftw(3): remove a file or directory (children first). */
static int
tree_rm_cb(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	if (remove(path) == -1 && errno != ENOENT) {
		warn("%s", path);
		return (1);
	}
	return (0);
}

static int
tree_rm(const char *path)
{
	return (nftw(path, tree_rm_cb, TREE_FD_MAX, FTW_DEPTH | FTW_PHYS) ==
	    0 ? 0 : -1);
}

int
tree_stage(const char *dir, struct tree_dest *d)
{
	struct stat	 st;
	const char	*base;
	size_t		 len;
	ssize_t		 n;
	mode_t		 mask;
	int		 c;

	memset(d, 0, sizeof(*d));
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len == 0 || len >= sizeof(d->dir)) {
		warnx("%s: bad directory name", dir);
		return (-1);
	}
	memcpy(d->dir, dir, len);
	d->dir[len] = '\0';
	if ((base = strrchr(d->dir, '/')) == NULL) {
		base = d->dir;
		(void)snprintf(d->parent, sizeof(d->parent), ".");
	} else {
		(void)snprintf(d->parent, sizeof(d->parent), "%.*s",
		    base == d->dir ? 1 : (int)(base - d->dir), d->dir);
		base++;
	}
	if (base[0] == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		warnx("%s: name a directory to make or replace", dir);
		return (-1);
	}
	if (lstat(d->dir, &st) == 0) {
		if (!S_ISLNK(st.st_mode)) {
			warnx("%s: exists and is not a symbolic link; "
			    "export-tree makes it a link to the tree it "
			    "writes (move it away first)", d->dir);
			return (-1);
		}
		if ((n = readlink(d->dir, d->old, sizeof(d->old) - 1)) ==
		    -1) {
			warn("%s", d->dir);
			return (-1);
		}
		d->old[n] = '\0';
	} else if (errno != ENOENT) {
		warn("%s", d->dir);
		return (-1);
	}
	c = snprintf(d->tmp, sizeof(d->tmp), "%s/.%s.XXXXXX", d->parent,
	    base);
	if (c < 0 || (size_t)c >= sizeof(d->tmp) - 8) {
		warnx("%s: path too long", dir);
		return (-1);
	}
	if (mkdtemp(d->tmp) == NULL) {
		warn("%s", d->tmp);
		d->tmp[0] = '\0';
		return (-1);
	}
	/* mkdtemp(3) makes it 0700: served files must be readable. */
	mask = umask(0);
	(void)umask(mask);
	if (chmod(d->tmp, 0755 & ~mask) == -1) {
		warn("%s", d->tmp);
		tree_discard(d);
		return (-1);
	}
	return (0);
}

void
tree_discard(struct tree_dest *d)
{
	if (d->tmp[0] != '\0')
		(void)tree_rm(d->tmp);
	d->tmp[0] = '\0';
}

/* Is name (a link's target) a tree export-tree made for base? */
static int
tree_ours(const char *name, const char *base)
{
	size_t	 blen = strlen(base);

	return (name[0] == '.' && strncmp(name + 1, base, blen) == 0 &&
	    name[1 + blen] == '.' && strlen(name + 2 + blen) == 6 &&
	    strchr(name, '/') == NULL);
}

int
tree_install(struct tree_dest *d)
{
	struct stat	 st;
	const char	*tname, *base;
	char		 link[PATH_MAX + 4], old[PATH_MAX * 2];
	int		 fd, c;

	if (nftw(d->tmp, tree_sync_cb, TREE_FD_MAX, FTW_DEPTH | FTW_PHYS) !=
	    0)
		return (-1);
	tname = strrchr(d->tmp, '/') + 1;
	if ((base = strrchr(d->dir, '/')) == NULL)
		base = d->dir;
	else
		base++;
	c = snprintf(link, sizeof(link), "%s.lnk", d->tmp);
	if (c < 0 || (size_t)c >= sizeof(link)) {
		warnx("%s: path too long", d->tmp);
		return (-1);
	}
	if (symlink(tname, link) == -1) {
		warn("%s", link);
		return (-1);
	}
	if (rename(link, d->dir) == -1) {
		warn("%s", d->dir);
		(void)unlink(link);
		return (-1);
	}
	if ((fd = open(d->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || fsync(fd) == -1)
		warn("fsync %s", d->parent);
	if (fd != -1)
		(void)close(fd);
	if (d->old[0] != '\0' && strcmp(d->old, tname) != 0 &&
	    tree_ours(d->old, base)) {
		(void)snprintf(old, sizeof(old), "%s/%s", d->parent, d->old);
		/* Gone already if another export-tree replaced it. */
		if (lstat(old, &st) == -1 && errno == ENOENT)
			return (0);
		if (tree_rm(old) == -1)
			warnx("%s: the previous tree is left there", old);
	}
	return (0);
}

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
	struct pgp_cert		 m;
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
				goto fail;
		}
		if (k->status > f->status && k->status != TREE_SKIPPED)
			f->status = k->status;
	}
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
		one.v = &certs->v[i];
		one.n = 1;
		k->status = TREE_IMPORTED;
		if (import_keys(txn, NULL, &one, &k->rep) == -1) {
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
		if (rc == 0)
			rc = tree_file(txn, req, rel, v[i]->d_name, domain, r);
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

/* Front ends. */

int
cmd_export_tree(struct ctl *ctl, int argc, char **argv)
{
	struct tree_export	 r;
	struct tree_dest	 d;
	struct ks_txn		*txn;
	char			**doms = NULL;
	size_t			 i, n = 0, keys = 0;
	int			 first, rootfd = -1, ret = 1;

	memset(&r, 0, sizeof(r));
	if ((first = cli_noopts(argc, argv, EXPTREE_USAGE)) < 0)
		return (-first);
	argc -= first;
	argv += first;
	if (argc < 1)
		return (cli_usage(EXPTREE_USAGE));
	if (argc > 1 && (doms = calloc(argc - 1, sizeof(*doms))) == NULL) {
		warn(NULL);
		return (1);
	}
	for (i = 1; i < (size_t)argc; i++) {
		if ((doms[n] = malloc(KS_DOMAIN_MAX)) == NULL) {
			warn(NULL);
			goto out;
		}
		if (cli_domain(argv[i], doms[n++]) == -1)
			goto out;
	}
	if (tree_stage(argv[0], &d) == -1)
		goto out;
	if ((rootfd = open(d.tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		warn("%s", d.tmp);
		goto discard;
	}
	if (store_begin(ctl, KS_RDONLY, &txn) == -1)
		goto discard;
	if (tree_export(txn, ctl->ks, rootfd, doms, n, &r) == -1) {
		ks_txn_abort(txn);
		goto discard;
	}
	/* Only reading: the transaction ends before the fsyncs. */
	ks_txn_abort(txn);
	if (tree_install(&d) == -1)
		goto discard;
	for (i = 0; i < r.n; i++) {
		printf("%s: %zu key%s (%zu bytes)", r.v[i].name,
		    r.v[i].nkeys, r.v[i].nkeys == 1 ? "" : "s",
		    r.v[i].bytes);
		if (r.v[i].policy)
			printf(", policy (%zu bytes)\n", r.v[i].policylen);
		else
			printf(", no policy\n");
		keys += r.v[i].nkeys;
	}
	printf("export-tree: %s -> %s: %zu domain%s, %zu key%s, each in "
	    "both layouts\n", d.dir, strrchr(d.tmp, '/') + 1, r.n,
	    r.n == 1 ? "" : "s", keys, keys == 1 ? "" : "s");
	ret = 0;
	goto out;
discard:
	tree_discard(&d);
	warnx("export-tree failed: %s is unchanged", d.dir);
out:
	if (rootfd != -1)
		(void)close(rootfd);
	tree_export_free(&r);
	for (i = 0; i < n; i++)
		free(doms[i]);
	free(doms);
	return (ret);
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
	struct ks_txn		*txn;
	struct pass		 pp;
	char			 dom[KS_DOMAIN_MAX];
	int			 ch, dry = 0, ret = 1;
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
	if (tree_import(txn, &req, &r) == -1) {
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
