/*
 * treeout.c: export-tree, a static WKD tree of what wkdd serves.
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
 * wkd table, so the entries are found from the addresses (all of them
 * once, or with domains named, each domain's: ks_addr_foreach_domain(),
 * in time proportional to those domains), each looked up by its hash(es)
 * with ks_wkd_get(): the bytes are the table's, one blob in memory at a
 * time, all in one read transaction.
 *
 * DIR is a symbolic link to the tree, a directory ".DIR.XXXXXX" beside it.
 * A new tree is built in a new such directory; once complete, after the
 * read transaction, every file and directory in it is fsync(2)ed and a new
 * link to it is renamed over DIR (rename(2) is atomic): a web server sees
 * the old tree or the new one, whole, never a mix or nothing.  The old
 * tree is removed after that.  Two export-trees at once to the same DIR
 * may leave an old tree behind; nothing worse.
 *
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

#define TREE_FD_MAX	32		/* nftw(3)'s descriptors. */

/* export-tree: the walks over the store's domains and addresses. */
struct tree_out {
	struct ks_txn		*txn;
	int			 rootfd;
	struct tree_export	*r;
	int			 failed;	/* Stopped the walk, warned. */
	struct io_progress	 pg;		/* Addresses walked. */
	size_t			 nwalked;
};

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

int
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
	if ((rc = ks_serve_policy(ks, t->name, &b)) == KS_NOTFOUND)
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

	io_progress(&o->pg, ++o->nwalked);
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
	io_progress_start(&o.pg, "export-tree: addresses", 0);
	if (n == 0)
		rc = ks_addr_foreach(txn, NULL, tree_addr_cb, &o);
	else
		for (i = 0, rc = KS_OK; i < r->n && rc == KS_OK; i++)
			rc = ks_addr_foreach_domain(txn, r->v[i].name,
			    tree_addr_cb, &o);
	io_progress_end(&o.pg);
	if (rc != KS_OK) {
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
