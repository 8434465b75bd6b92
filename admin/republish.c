/*
 * republish.c: "wkdctl republish": serve again from the stored keys, by
 * import's rules, an address, an account's addresses or a domain's, after
 * a mistake (a remove of the newer key, a domain removed and added, an
 * unpublish).
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

/* Republish one address into it (an item of r, filled). */
static int
republish_one(struct ks_txn *txn, struct ks_addr *a, struct republish *it)
{
	char	 old[KS_FPR_MAX];
	int	 rc, removed, pub;

	(void)snprintf(it->addr, sizeof(it->addr), "%s", a->addr);
	(void)snprintf(old, sizeof(old), "%s", a->fpr);
	if ((rc = account_removed(txn, a, &removed)) != KS_OK) {
		warnx("%s: %s", a->addr, ks_strerror(rc));
		return (-1);
	}
	if (a->state == KS_ADDR_RETIRED || removed) {
		it->what = REPUBLISH_SKIPPED;
		(void)snprintf(it->why, sizeof(it->why), "%s",
		    removed ? "its account was removed" : "a retired alias");
		return (0);
	}
	if (a->flags & KS_AF_UNPUBLISHED) {
		a->flags &= ~KS_AF_UNPUBLISHED;
		if ((rc = ks_addr_put(txn, a)) != KS_OK ||
		    (rc = audit_log(txn, a->addr, "unpublished -> published "
		    "(republish)")) != KS_OK) {
			warnx("%s: %s", a->addr, ks_strerror(rc));
			return (-1);
		}
	}
	if ((pub = publish_any(txn, a, it->fpr)) == -1)
		return (-1);
	if (pub == 0) {
		it->what = REPUBLISH_NONE;
		(void)snprintf(it->why, sizeof(it->why), "no stored key of "
		    "its account has a valid UID for it");
		if (old[0] != '\0' &&
		    (rc = publish_drop(txn, a, "republish: no key")) != KS_OK) {
			warnx("%s: %s", a->addr, ks_strerror(rc));
			return (-1);
		}
		return (0);
	}
	it->what = strcmp(old, it->fpr) == 0 ? REPUBLISH_SAME :
	    REPUBLISH_PUBLISHED;
	(void)snprintf(it->old, sizeof(it->old), "%s", old);
	return (0);
}

int
republish_addrs(struct ks_txn *txn, const char *domain,
    const char *account, const char *addr, struct republish_report *r)
{
	struct store_addrs	 l;
	size_t			 i;
	int			 ret = 0;

	memset(r, 0, sizeof(*r));
	if ((domain != NULL ? store_addrs_domain(txn, domain, &l) :
	    store_addrs(txn, account, &l)) == -1)
		return (-1);
	if (l.n > 0 && (r->v = calloc(l.n, sizeof(*r->v))) == NULL) {
		warn(NULL);
		store_addrs_free(&l);
		return (-1);
	}
	for (i = 0; i < l.n && ret == 0; i++) {
		if (addr != NULL && strcmp(l.v[i].addr, addr) != 0)
			continue;
		ret = republish_one(txn, &l.v[i], &r->v[r->n++]);
	}
	store_addrs_free(&l);
	return (ret);
}

static int
republish_target(struct ks_txn *txn, int acct, const char *arg,
    char addr[KS_ADDR_MAX], char account[KS_ADDR_MAX],
    char domain[KS_DOMAIN_MAX])
{
	struct ks_addr		 a;
	struct ks_domain	 d;

	addr[0] = account[0] = domain[0] = '\0';
	if (strchr(arg, '@') == NULL) {
		if (acct) {
			warnx("%s: --account takes an address", arg);
			return (-1);
		}
		if (cli_domain(arg, domain) == -1 ||
		    store_domain(txn, domain, &d) == -1)
			return (-1);
		return (0);
	}
	if (cli_addr(arg, addr, NULL) == -1 || store_addr(txn, addr, &a) == -1)
		return (-1);
	(void)snprintf(account, KS_ADDR_MAX, "%s", a.account);
	if (acct)
		addr[0] = '\0';
	return (0);
}

int
cmd_republish(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn		*txn;
	struct republish_report	 r;
	char			 addr[KS_ADDR_MAX], account[KS_ADDR_MAX];
	char			 domain[KS_DOMAIN_MAX];
	size_t			 i;
	int			 acct = 0, ret = 1;
	static const char *const what[] = {
	    "published", "unchanged", "nothing to publish", "skipped" };

	if (argc == 3 && strcmp(argv[1], "--account") == 0)
		acct = 1;
	else if (argc != 2 || argv[1][0] == '-')
		return (cli_usage(REPUBLISH_USAGE));
	if (store_begin(ctl, 0, &txn) == -1)
		return (1);
	if (republish_target(txn, acct, argv[argc - 1], addr, account,
	    domain) == -1 || republish_addrs(txn, domain[0] != '\0' ?
	    domain : NULL, account[0] != '\0' ? account : NULL,
	    addr[0] != '\0' ? addr : NULL, &r) == -1) {
		(void)store_abort(txn);
		free(r.v);
		return (1);
	}
	if (store_commit(ctl, txn) == -1)
		goto out;
	for (i = 0; i < r.n; i++) {
		printf("%s: %s", r.v[i].addr, what[r.v[i].what]);
		if (r.v[i].what == REPUBLISH_PUBLISHED ||
		    r.v[i].what == REPUBLISH_SAME)
			printf(" (key %s%s%s)", r.v[i].fpr,
			    r.v[i].what == REPUBLISH_PUBLISHED &&
			    r.v[i].old[0] != '\0' ? ", was " : "",
			    r.v[i].what == REPUBLISH_PUBLISHED ?
			    r.v[i].old : "");
		else
			printf(": %s", r.v[i].why);
		printf("\n");
	}
	ret = 0;
out:
	free(r.v);
	return (ret);
}
