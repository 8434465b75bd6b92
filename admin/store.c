/*
 * store.c: the store as wkdctl's operations see it: creating it (init),
 * opening it once per command, write and read transactions, and
 * snapshots of address records to walk while changing them.
 *
 * Every operation runs in one transaction that store_commit() ends, or
 * that is aborted on the first error: a failed command changes nothing.
 */

#include <sys/stat.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "keystore.h"
#include "conf.h"
#include "wkdctl.h"

static int	store_give(struct ctl *);
static void	store_denied(const char *);

int
cmd_init(struct ctl *ctl, int argc, char **argv)
{
	char		 path[PATH_MAX];
	struct stat	 st;

	(void)argv;
	if (argc != 1)
		return (cli_usage(INIT_USAGE));
	if (mkdir(ctl->store, 0750) == -1 && errno != EEXIST) {
		warn("%s", ctl->store);
		return (1);
	}
	if (snprintf(path, sizeof(path), "%s/data.mdb", ctl->store) >=
	    (int)sizeof(path)) {
		warnx("%s: path too long", ctl->store);
		return (1);
	}
	if (stat(path, &st) == 0) {
		warnx("%s: store already exists", ctl->store);
		return (1);
	}
	if (store_open(ctl, KS_CREATE) == -1)
		return (1);
	printf("store created in %s\n", ctl->store);
	return (store_give(ctl) == -1 ? 1 : 0);
}

/*
 * init as root of wkdd.conf's own store, with its user set: the store goes
 * to that user, as wkdd (started as that user by systemd, or dropping to
 * it) must read it and write its lock file.  root's later commands keep
 * the owner: LMDB makes no new file.
 */
static int
store_give(struct ctl *ctl)
{
	const char	*files[] = { "", "/data.mdb", "/lock.mdb", NULL };
	struct passwd	*pw;
	const char	*user;
	char		 path[PATH_MAX];
	size_t		 i;

	if (geteuid() != 0 || ctl->conf == NULL ||
	    strcmp(ctl->store, ctl->conf->store) != 0)
		return (0);
	user = conf_daemon_user(ctl->conf);
	if (ctl->conf->user[0] == '\0' && strcmp(user, "root") == 0)
		return (0);
	if ((pw = getpwnam(user)) == NULL) {
		warnx("user %s: no such user (wkdd.conf's user)", user);
		return (-1);
	}
	for (i = 0; files[i] != NULL; i++) {
		if (snprintf(path, sizeof(path), "%s%s", ctl->store,
		    files[i]) >= (int)sizeof(path) ||
		    lchown(path, pw->pw_uid, pw->pw_gid) == -1) {
			warn("%s", path);
			return (-1);
		}
	}
	printf("store given to user %s (%s)\n", pw->pw_name,
	    ctl->conf->user[0] != '\0' ? "wkdd.conf's user" :
	    "the user wkdd becomes");
	return (0);
}

/*
 * The store can't be read or its lock file written by this user: say so,
 * and whose it is (LMDB needs the lock file writable even to read).
 */
static void
store_denied(const char *dir)
{
	struct stat	 st;
	struct passwd	*pw;

	if (stat(dir, &st) == 0 && st.st_uid != geteuid() &&
	    (pw = getpwuid(st.st_uid)) != NULL)
		warnx("%s: permission denied (the store is %s's: run wkdctl "
		    "as %s%s)", dir, pw->pw_name, pw->pw_name,
		    st.st_uid == 0 ? "" : " or as root");
	else
		warnx("%s: permission denied (wkdctl reads the store and "
		    "writes its lock file)", dir);
}

int
store_open(struct ctl *ctl, int flags)
{
	int	 rc;

	if ((rc = ks_open(&ctl->ks, ctl->store, flags, ctl->mapsize)) !=
	    KS_OK) {
		if ((rc == ENOENT || rc == KS_NOTFOUND) &&
		    !(flags & KS_CREATE))
			warnx("%s: no store here (run \"wkdctl init\")",
			    ctl->store);
		else if (rc == EACCES)
			store_denied(ctl->store);
		else if (rc == KS_DISKFULL)
			warnx("disk full: %s", ctl->store);
		else
			warnx("%s: %s", ctl->store, ks_strerror(rc));
		ctl->ks = NULL;
		return (-1);
	}
	return (0);
}

void
store_close(struct ctl *ctl)
{
	if (ctl->ks != NULL)
		ks_close(ctl->ks);
	ctl->ks = NULL;
}

int
store_begin(struct ctl *ctl, int flags, struct ks_txn **txnp)
{
	int	 rc;

	if (ctl->ks == NULL && store_open(ctl, 0) == -1)
		return (-1);
	if ((rc = ks_txn_begin(ctl->ks, flags, txnp)) != KS_OK) {
		warnx("%s: %s", ctl->store, ks_strerror(rc));
		return (-1);
	}
	return (0);
}

int
store_commit(struct ctl *ctl, struct ks_txn *txn)
{
	int	 rc;

	if ((rc = ks_txn_commit(txn)) != KS_OK) {
		/* The store is as it was: LMDB writes its meta page last. */
		if (rc == KS_DISKFULL)
			warnx("disk full: %s (free some space on its "
			    "filesystem); nothing changed", ctl->store);
		else
			warnx("%s: %s; nothing changed", ctl->store,
			    store_strerror(rc));
		return (-1);
	}
	return (0);
}

const char *
store_strerror(int rc)
{
	static char	 toobig[64];

	if (rc == KS_FULL)
		return ("store full (raise store-size in wkdd.conf)");
	if (rc == KS_DISKFULL)
		return ("disk full (free some space on the store's "
		    "filesystem)");
	if (rc == KS_TOOBIG) {
		(void)snprintf(toobig, sizeof(toobig), "too big to publish "
		    "(over %d KiB)", KS_BLOB_MAX / 1024);
		return (toobig);
	}
	return (ks_strerror(rc));
}

int
store_addrs_cb(const struct ks_addr *a, void *arg)
{
	struct store_addrs	*l = arg;
	struct ks_addr		*nv;

	if (l->n == l->cap) {
		if ((nv = reallocarray(l->v, l->cap ? l->cap * 2 : 16,
		    sizeof(*nv))) == NULL)
			return (ENOMEM);
		l->v = nv;
		l->cap = l->cap ? l->cap * 2 : 16;
	}
	l->v[l->n++] = *a;
	return (0);
}

/* Snapshot what walk(txn, key, ...) gives into *l. */
static int
store_walk(struct ks_txn *txn, const char *key, int (*walk)(struct ks_txn *,
    const char *, int (*)(const struct ks_addr *, void *), void *),
    struct store_addrs *l)
{
	int	 rc;

	memset(l, 0, sizeof(*l));
	if ((rc = walk(txn, key, store_addrs_cb, l)) != KS_OK) {
		warnx("reading addresses: %s", ks_strerror(rc));
		store_addrs_free(l);
		return (-1);
	}
	return (0);
}

int
store_addrs(struct ks_txn *txn, const char *account, struct store_addrs *l)
{
	return (store_walk(txn, account, ks_addr_foreach, l));
}

int
store_addrs_domain(struct ks_txn *txn, const char *domain,
    struct store_addrs *l)
{
	return (store_walk(txn, domain, ks_addr_foreach_domain, l));
}

int
store_addrs_key(struct ks_txn *txn, const char *fpr, struct store_addrs *l)
{
	return (store_walk(txn, fpr, ks_addr_foreach_key, l));
}

void
store_addrs_free(struct store_addrs *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

const char *
store_state(int state)
{
	switch (state) {
	case KS_ADDR_PRIMARY:
		return ("primary");
	case KS_ADDR_ALIAS:
		return ("alias");
	case KS_ADDR_RETIRED:
		return ("retired");
	default:
		return ("unknown");
	}
}

int
store_addr(struct ks_txn *txn, const char *addr, struct ks_addr *a)
{
	int	 rc;

	if ((rc = ks_addr_get(txn, addr, a)) == KS_OK)
		return (0);
	warnx("%s: %s", addr, rc == KS_NOTFOUND ?
	    "not an address of any account" : ks_strerror(rc));
	return (-1);
}

int
store_domain(struct ks_txn *txn, const char *domain, struct ks_domain *d)
{
	int	 rc;

	if ((rc = ks_domain_get(txn, domain, d)) == KS_OK)
		return (0);
	warnx("%s: %s", domain, rc == KS_NOTFOUND ? "domain not hosted" :
	    ks_strerror(rc));
	return (-1);
}

int
store_abort(struct ks_txn *txn)
{
	ks_txn_abort(txn);
	return (1);
}

int
store_cert_put(struct ks_txn *txn, const char *fpr, const unsigned char *data,
    size_t len)
{
	struct ks_certinfo	 ci;
	struct ks_keystate	 st;
	int			 rc;

	if ((rc = ks_cert_put(txn, fpr, data, len)) != KS_OK)
		return (rc);
	(void)pgp_state(data, len, &st);
	if ((rc = ks_certinfo_get(txn, fpr, &ci)) == KS_NOTFOUND) {
		memset(&ci, 0, sizeof(ci));
		(void)snprintf(ci.fpr, sizeof(ci.fpr), "%s", fpr);
	} else if (rc != KS_OK)
		return (rc);
	else if (memcmp(&ci.state, &st, sizeof(st)) == 0)
		return (KS_OK);
	ci.state = st;
	return (ks_certinfo_put(txn, &ci));
}
