/*
 * account.c: accounts and aliases.
 *
 * An account is its primary address; aliases are bound to it for good.
 * "alias remove" retires an alias (nothing is published for it) but keeps
 * the binding, so the address can never move to another account, and
 * "account remove" unpublishes every address but keeps them bound.
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

int
account_removed(struct ks_txn *txn, const struct ks_addr *a,
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

/*
 * Bind a new address addr to account: it must be in a hosted domain and
 * unbound.  Anything published under its hashes (a Unicode-hash entry of
 * another address) is taken down: see wkd_bind().
 */
int
account_bind(struct ks_txn *txn, const char *account, const char *addr,
    int state)
{
	struct ks_addr	 a;
	char		 local[KS_ADDR_MAX], domain[KS_DOMAIN_MAX];
	int		 rc;

	if (wkd_split(addr, local, sizeof(local), domain,
	    sizeof(domain)) == -1) {
		warnx("%s: not a mail address", addr);
		return (-1);
	}
	if (domain_hosted(txn, domain, addr) == -1)
		return (-1);
	if ((rc = ks_addr_get(txn, addr, &a)) == KS_OK) {
		if (strcmp(a.addr, a.account) == 0)
			warnx("%s: already an account%s", addr,
			    a.flags & KS_AF_REMOVED ? " (removed; addresses "
			    "are never reused)" : "");
		else
			warnx("%s: already bound to account %s%s", addr,
			    a.account, a.state == KS_ADDR_RETIRED ?
			    " (retired alias; addresses are never reused)" :
			    "");
		return (-1);
	}
	if (rc != KS_NOTFOUND) {
		warnx("%s: %s", addr, ks_strerror(rc));
		return (-1);
	}
	if ((rc = ks_gone_get(txn, addr)) != KS_NOTFOUND) {
		warnx("%s: %s", addr, rc == KS_OK ? "the address of an erased "
		    "account (addresses are never reused)" : ks_strerror(rc));
		return (-1);
	}
	if ((rc = wkd_bind(txn, addr)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		return (-1);
	}
	memset(&a, 0, sizeof(a));
	(void)snprintf(a.addr, sizeof(a.addr), "%s", addr);
	(void)snprintf(a.account, sizeof(a.account), "%s", account);
	a.state = state;
	if ((rc = ks_addr_put(txn, &a)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		return (-1);
	}
	if (state == KS_ADDR_PRIMARY)
		rc = audit_log(txn, addr, "account added");
	else
		rc = audit_log(txn, addr, "alias of %s added", account);
	return (rc == KS_OK ? 0 : -1);
}

int
account_create(struct ks_txn *txn, const char *primary, char **aliases,
    size_t naliases)
{
	size_t	 i;

	if (account_bind(txn, primary, primary, KS_ADDR_PRIMARY) == -1)
		return (-1);
	for (i = 0; i < naliases; i++)
		if (account_bind(txn, primary, aliases[i], KS_ADDR_ALIAS) == -1)
			return (-1);
	return (0);
}

int
account_retire(struct ks_txn *txn, const char *addr, size_t *nunpub,
    size_t *nbound)
{
	struct store_addrs	 l;
	struct ks_addr		 a;
	size_t			 i;
	int			 rc, ret = -1;

	*nunpub = *nbound = 0;
	if ((rc = ks_addr_get(txn, addr, &a)) != KS_OK ||
	    a.state != KS_ADDR_PRIMARY) {
		warnx("%s: %s", addr, rc != KS_OK && rc != KS_NOTFOUND ?
		    ks_strerror(rc) : rc == KS_OK ? "not an account's "
		    "primary address" : "no such account");
		return (-1);
	}
	if (a.flags & KS_AF_REMOVED) {
		warnx("%s: account removed already", addr);
		return (-1);
	}
	if (store_addrs(txn, addr, &l) == -1)
		return (-1);
	for (i = 0; i < l.n; i++) {
		if ((rc = wkd_del(txn, l.v[i].addr)) != KS_OK)
			goto fail;
		if (l.v[i].fpr[0] != '\0') {
			if (audit_log(txn, l.v[i].addr, "unpublished key %s: "
			    "account removed", l.v[i].fpr) != KS_OK)
				goto out;
			(*nunpub)++;
		}
		l.v[i].fpr[0] = '\0';
		if (strcmp(l.v[i].addr, addr) == 0)
			l.v[i].flags |= KS_AF_REMOVED;
		if ((rc = ks_addr_put(txn, &l.v[i])) != KS_OK)
			goto fail;
	}
	*nbound = l.n;
	if (audit_log(txn, addr, "account active -> removed (%zu address%s "
	    "kept bound)", l.n, l.n == 1 ? "" : "es") != KS_OK)
		goto out;
	ret = 0;
	goto out;
fail:
	warnx("%s: %s", l.v[i].addr, ks_strerror(rc));
out:
	store_addrs_free(&l);
	return (ret);
}

/* The record of account primary, which must be active: 0, or -1. */
static int
account_active(struct ks_txn *txn, const char *primary, struct ks_addr *a)
{
	int	 rc;

	if ((rc = ks_addr_get(txn, primary, a)) != KS_OK ||
	    a->state != KS_ADDR_PRIMARY) {
		warnx("%s: %s", primary, rc != KS_OK && rc != KS_NOTFOUND ?
		    ks_strerror(rc) : "no such account");
		return (-1);
	}
	if (a->flags & KS_AF_REMOVED) {
		warnx("%s: account removed", primary);
		return (-1);
	}
	return (0);
}

int
account_alias_add(struct ks_txn *txn, const char *primary, const char *addr,
    char fpr[KS_FPR_MAX])
{
	struct ks_addr	 acct, a;
	int		 rc;

	if (account_active(txn, primary, &acct) == -1)
		return (-1);
	rc = ks_addr_get(txn, addr, &a);
	if (rc == KS_OK && a.state == KS_ADDR_RETIRED &&
	    strcmp(a.account, primary) == 0) {
		/* Back to the account it was always bound to. */
		a.state = KS_ADDR_ALIAS;
		a.flags &= ~KS_AF_UNPUBLISHED;
		a.fpr[0] = '\0';
		if ((rc = ks_addr_put(txn, &a)) != KS_OK) {
			warnx("%s: %s", addr, ks_strerror(rc));
			return (-1);
		}
		if (audit_log(txn, addr, "retired alias of %s active again",
		    primary) != KS_OK)
			return (-1);
	} else if (rc == KS_OK && strcmp(a.account, primary) == 0) {
		warnx("%s: already %s of %s", addr,
		    a.state == KS_ADDR_PRIMARY ? "the primary address" :
		    "an alias", primary);
		return (-1);
	} else if (account_bind(txn, primary, addr, KS_ADDR_ALIAS) == -1)
		return (-1);
	/* A key of the account may have a UID for it already. */
	return (publish_stored(txn, addr, fpr));
}

int
account_alias_retire(struct ks_txn *txn, const char *primary,
    const char *addr)
{
	struct ks_addr	 a;
	int		 rc;

	if (store_addr(txn, addr, &a) == -1)
		return (-1);
	if (strcmp(a.account, primary) != 0) {
		warnx("%s: not an alias of %s", addr, primary);
		return (-1);
	}
	if (a.state != KS_ADDR_ALIAS) {
		warnx("%s: %s", addr, a.state == KS_ADDR_PRIMARY ?
		    "is the account's primary address" : "already retired");
		return (-1);
	}
	if ((rc = wkd_del(txn, addr)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		return (-1);
	}
	if (audit_log(txn, addr, "alias of %s retired%s%s", primary,
	    a.fpr[0] != '\0' ? "; unpublished key " : "", a.fpr) != KS_OK)
		return (-1);
	a.state = KS_ADDR_RETIRED;
	a.fpr[0] = '\0';
	if ((rc = ks_addr_put(txn, &a)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		return (-1);
	}
	return (0);
}

/*
 * An account's own address is no alias of it, and an alias comes once:
 * say so before the store is opened.  0, or -1 after warning.
 */
static int
account_aliases_check(const char *primary, char **aliases, size_t n)
{
	size_t	 i, j;

	for (i = 0; i < n; i++) {
		if (strcmp(aliases[i], primary) == 0) {
			warnx("%s: the account's primary address; an alias is "
			    "another address of the account", aliases[i]);
			return (-1);
		}
		for (j = 0; j < i; j++)
			if (strcmp(aliases[i], aliases[j]) == 0) {
				warnx("%s: --alias given twice", aliases[i]);
				return (-1);
			}
	}
	return (0);
}

static int
account_add(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn	*txn;
	char		 primary[KS_ADDR_MAX];
	char		(*alias)[KS_ADDR_MAX] = NULL, **aliases = NULL;
	size_t		 naliases = 0, i;
	int		 ch, rc = 1;
	static const struct option longopts[] = {
		{ "alias", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};

	/* argv[0] is "add". */
	if ((alias = calloc(argc, sizeof(*alias))) == NULL ||
	    (aliases = calloc(argc, sizeof(*aliases))) == NULL) {
		warn(NULL);
		goto out;
	}
	optind = 0;
	while ((ch = getopt_long(argc, argv, "a:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			aliases[naliases++] = optarg;
			break;
		default:
			rc = cli_usage(ACCOUNT_USAGE);
			goto out;
		}
	}
	if (argc - optind != 1) {
		rc = cli_usage(ACCOUNT_USAGE);
		goto out;
	}
	if (cli_addr(argv[optind], primary, NULL) == -1)
		goto out;
	for (i = 0; i < naliases; i++) {
		if (cli_addr(aliases[i], alias[i], NULL) == -1)
			goto out;
		aliases[i] = alias[i];
	}
	if (account_aliases_check(primary, aliases, naliases) == -1 ||
	    store_begin(ctl, 0, &txn) == -1)
		goto out;
	if (account_create(txn, primary, aliases, naliases) == -1) {
		ks_txn_abort(txn);
		goto out;
	}
	if (store_commit(ctl, txn) == -1)
		goto out;
	printf("account %s added", primary);
	for (i = 0; i < naliases; i++)
		printf("%s%s", i == 0 ? ", aliases: " : ", ", aliases[i]);
	printf("\n");
	rc = 0;
out:
	free(aliases);
	free(alias);
	return (rc);
}

/* Accounts together, the primary first, then by address. */
static int
account_cmp(const void *va, const void *vb)
{
	const struct ks_addr	*a = *(const struct ks_addr *const *)va;
	const struct ks_addr	*b = *(const struct ks_addr *const *)vb;
	int			 c;

	if ((c = strcmp(a->account, b->account)) != 0)
		return (c);
	if ((a->state == KS_ADDR_PRIMARY) != (b->state == KS_ADDR_PRIMARY))
		return (a->state == KS_ADDR_PRIMARY ? -1 : 1);
	return (strcmp(a->addr, b->addr));
}

/* An address's key as JSON members: "fpr" (or null) and "unpublished". */
static void
account_json_key(const struct ks_addr *a)
{
	printf(",\"fpr\":");
	if (a->fpr[0] != '\0')
		io_json_str(stdout, a->fpr);
	else
		printf("null");
	printf(",\"unpublished\":%s",
	    a->flags & KS_AF_UNPUBLISHED ? "true" : "false");
}

/*
 * One account, the addresses g[0..n) (g[0] its primary): a line, or a
 * JSON object.
 */
static void
account_print(struct ks_addr **g, size_t n, int json, size_t nth)
{
	size_t	 i, na;

	if (!json) {
		for (na = 0, i = 1; i < n; i++)
			if (g[i]->state == KS_ADDR_ALIAS)
				na++;
		printf("%s\t%zu alias%s\n", g[0]->addr, na,
		    na == 1 ? "" : "es");
		return;
	}
	printf("%s{\"primary\":", nth == 0 ? "" : ",\n");
	io_json_str(stdout, g[0]->addr);
	printf(",\"removed\":%s",
	    g[0]->flags & KS_AF_REMOVED ? "true" : "false");
	account_json_key(g[0]);
	printf(",\"aliases\":[");
	for (i = 1; i < n; i++) {
		printf("%s{\"address\":", i == 1 ? "" : ",");
		io_json_str(stdout, g[i]->addr);
		printf(",\"state\":\"%s\"", store_state(g[i]->state));
		account_json_key(g[i]);
		printf("}");
	}
	printf("]}");
}

/*
 * account list [--json]: every account, in primary address order.  One
 * snapshot of the addresses, sorted by account, so that a store of many
 * accounts is listed in n log n.
 */
static int
account_list(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn		*txn;
	struct store_addrs	 l;
	struct ks_addr		**v;
	size_t			 i, j, nth = 0;
	int			 ch, json = 0;
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};

	/* argv[0] is "list". */
	optind = 0;
	while ((ch = getopt_long(argc, argv, "j", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		default:
			return (cli_usage(ACCOUNT_USAGE));
		}
	}
	if (argc != optind)
		return (cli_usage(ACCOUNT_USAGE));
	if (store_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	if (store_addrs(txn, NULL, &l) == -1) {
		ks_txn_abort(txn);
		return (1);
	}
	ks_txn_abort(txn);
	if ((v = calloc(l.n + 1, sizeof(*v))) == NULL) {
		warn(NULL);
		store_addrs_free(&l);
		return (1);
	}
	for (i = 0; i < l.n; i++)
		v[i] = &l.v[i];
	qsort(v, l.n, sizeof(*v), account_cmp);
	if (json)
		printf("[");
	for (i = 0; i < l.n; i = j) {
		for (j = i + 1; j < l.n &&
		    strcmp(v[j]->account, v[i]->account) == 0; j++)
			;
		/* An account is its primary's record. */
		if (v[i]->state != KS_ADDR_PRIMARY ||
		    strcmp(v[i]->addr, v[i]->account) != 0)
			continue;
		account_print(v + i, j - i, json, nth++);
	}
	if (json)
		io_json_end(stdout, nth);
	free(v);
	store_addrs_free(&l);
	return (0);
}

static int
account_show(struct ctl *ctl, const char *in)
{
	struct ks_txn		*txn;
	struct store_addrs	 l;
	struct ks_addr		 a;
	char			 addr[KS_ADDR_MAX];
	size_t			 i;
	int			 removed;

	if (cli_lookup(ctl, in, addr, NULL, &txn, &a) == -1)
		return (1);
	if (store_addrs(txn, a.account, &l) == -1) {
		ks_txn_abort(txn);
		return (1);
	}
	if (account_removed(txn, &a, &removed) != KS_OK)
		removed = 0;
	ks_txn_abort(txn);
	printf("account %s%s\n", a.account, removed ? " (removed)" : "");
	for (i = 0; i < l.n; i++)
		printf("  %-8s %s%s%s%s\n", store_state(l.v[i].state),
		    l.v[i].addr, l.v[i].fpr[0] != '\0' ? "  key " : "",
		    l.v[i].fpr, l.v[i].flags & KS_AF_UNPUBLISHED ?
		    "  (unpublished)" : "");
	store_addrs_free(&l);
	return (0);
}

/* Collect the fingerprints the addresses of l serve. */
static int
account_keys(const struct store_addrs *l, char (**fprs)[KS_FPR_MAX],
    size_t *n)
{
	size_t	 i, j;

	*n = 0;
	if (l->n == 0)
		return (0);
	if ((*fprs = calloc(l->n, sizeof(**fprs))) == NULL)
		return (-1);
	for (i = 0; i < l->n; i++) {
		if (l->v[i].fpr[0] == '\0')
			continue;
		for (j = 0; j < *n && strcmp((*fprs)[j], l->v[i].fpr) != 0; j++)
			continue;
		if (j == *n)
			(void)snprintf((*fprs)[(*n)++], KS_FPR_MAX, "%s",
			    l->v[i].fpr);
	}
	return (0);
}

/* Collect stored fingerprints (ks_cert_foreach_addr). */
static int
account_fprs_cb(const char *fpr, const unsigned char *data, size_t len,
    void *arg)
{
	struct store_addrs	*l = arg;
	struct ks_addr		 a;

	(void)data;
	(void)len;
	memset(&a, 0, sizeof(a));
	(void)snprintf(a.fpr, sizeof(a.fpr), "%s", fpr);
	return (store_addrs_cb(&a, l));
}

static int
account_fpr_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct ks_addr *)a)->fpr,
	    ((const struct ks_addr *)b)->fpr));
}

/*
 * Delete the stored keys that no address serves and that have a UID for
 * one of the addresses of l (an account being erased): they would keep
 * its addresses in the store.  *nkeys counts them.  0, or -1.
 */
static int
account_unserved(struct ks_txn *txn, const struct store_addrs *l,
    size_t *nkeys)
{
	struct store_addrs	 keys, still;
	struct pgp_cert		 m;
	ssize_t			 u;
	size_t			 i, j, k;
	int			 rc, hit, ret = -1;

	memset(&keys, 0, sizeof(keys));
	for (i = 0; i < l->n; i++)
		if ((rc = ks_cert_foreach_addr(txn, l->v[i].addr,
		    account_fprs_cb, &keys)) != KS_OK) {
			warnx("reading keys: %s", ks_strerror(rc));
			goto out;
		}
	/* In fingerprint order, each once. */
	if (keys.n > 0)
		qsort(keys.v, keys.n, sizeof(*keys.v), account_fpr_cmp);
	for (i = j = 0; i < keys.n; i++)
		if (j == 0 || strcmp(keys.v[j - 1].fpr, keys.v[i].fpr) != 0)
			keys.v[j++] = keys.v[i];
	keys.n = j;
	for (i = 0; i < keys.n; i++) {
		if (store_addrs_key(txn, keys.v[i].fpr, &still) == -1)
			goto out;
		k = still.n;
		store_addrs_free(&still);
		if (k > 0 || publish_load(txn, keys.v[i].fpr, NULL, &m,
		    &u) == -1)
			continue;
		for (hit = 0, j = 0; j < m.nuids && !hit; j++)
			for (k = 0; k < l->n && !hit; k++)
				hit = strcmp(m.uids[j].addr, l->v[k].addr) == 0;
		pgp_cert_free(&m);
		if (!hit)
			continue;
		if ((rc = ks_cert_del(txn, keys.v[i].fpr)) != KS_OK) {
			warnx("key %s: %s", keys.v[i].fpr, ks_strerror(rc));
			goto out;
		}
		(*nkeys)++;
	}
	ret = 0;
out:
	store_addrs_free(&keys);
	return (ret);
}

int
account_erase(struct ks_txn *txn, const char *primary, size_t *naddrs,
    size_t *nkeys)
{
	struct store_addrs	 l, still;
	struct ks_addr		 a;
	char			(*fprs)[KS_FPR_MAX] = NULL;
	size_t			 i, nf = 0;
	int			 rc = KS_OK, ret = -1;

	*naddrs = *nkeys = 0;
	memset(&l, 0, sizeof(l));
	if ((rc = ks_addr_get(txn, primary, &a)) != KS_OK ||
	    a.state != KS_ADDR_PRIMARY) {
		warnx("%s: %s", primary, rc != KS_OK && rc != KS_NOTFOUND ?
		    ks_strerror(rc) : rc == KS_OK ? "not an account's "
		    "primary address" : "no such account");
		return (-1);
	}
	if (store_addrs(txn, primary, &l) == -1)
		return (-1);
	if (account_keys(&l, &fprs, &nf) == -1) {
		warn(NULL);
		goto out;
	}
	/* Each address: taken down, kept only as a keyed hash. */
	for (i = 0; i < l.n && rc == KS_OK; i++)
		if ((rc = wkd_del(txn, l.v[i].addr)) == KS_OK &&
		    (rc = ks_gone_put(txn, l.v[i].addr)) == KS_OK)
			rc = ks_addr_del(txn, l.v[i].addr);
	/* Its keys, unless another account's address still serves one. */
	for (i = 0; i < nf && rc == KS_OK; i++) {
		if (store_addrs_key(txn, fprs[i], &still) == -1)
			goto out;
		if (still.n == 0 && (rc = ks_cert_del(txn, fprs[i])) == KS_OK)
			(*nkeys)++;
		store_addrs_free(&still);
	}
	/* And every stored key naming one of them that no one serves. */
	if (rc == KS_OK && account_unserved(txn, &l, nkeys) == -1)
		goto out;
	if (rc != KS_OK) {
		warnx("erasing: %s", ks_strerror(rc));
		goto out;
	}
	*naddrs = l.n;
	/* The log names no erased address: the subject is "erased". */
	if (audit_log(txn, "erased", "an account erased: %zu address%s kept "
	    "as keyed hashes only, %zu key%s deleted", l.n,
	    l.n == 1 ? "" : "es", *nkeys, *nkeys == 1 ? "" : "s") != KS_OK)
		goto out;
	ret = 0;
out:
	free(fprs);
	store_addrs_free(&l);
	return (ret);
}

/* Ask on the terminal; 1 if the operator said yes. */
static int
account_confirm(const char *addr, int erase)
{
	char	 line[16];

	fprintf(stderr, "%s account %s?  Its addresses stay bound for good: "
	    "no other account can ever have them%s.  [y/N] ",
	    erase ? "Erase" : "Remove", addr, erase ? " (only keyed hashes "
	    "of them stay; older log entries go with wkdctl log prune)" : "");
	if (fgets(line, sizeof(line), stdin) == NULL)
		return (0);
	return (line[0] == 'y' || line[0] == 'Y');
}

static int
account_remove(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn	*txn;
	char		 addr[KS_ADDR_MAX];
	size_t		 n, nbound;
	int		 ch, yes = 0, erase = 0, rc;
	static const struct option longopts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "erase", no_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 }
	};

	/* argv[0] is "remove". */
	optind = 0;
	while ((ch = getopt_long(argc, argv, "y", longopts, NULL)) != -1) {
		switch (ch) {
		case 'y':
			yes = 1;
			break;
		case 'e':
			erase = 1;
			break;
		default:
			return (cli_usage(ACCOUNT_USAGE));
		}
	}
	if (argc - optind != 1)
		return (cli_usage(ACCOUNT_USAGE));
	if (cli_addr(argv[optind], addr, NULL) == -1)
		return (1);
	if (!yes && isatty(STDIN_FILENO) && !account_confirm(addr, erase)) {
		fprintf(stderr, "nothing changed\n");
		return (1);
	}
	if (store_begin(ctl, 0, &txn) == -1)
		return (1);
	rc = erase ? account_erase(txn, addr, &nbound, &n) :
	    account_retire(txn, addr, &n, &nbound);
	if (rc == -1)
		return (store_abort(txn));
	if (store_commit(ctl, txn) == -1)
		return (1);
	if (erase)
		printf("account %s erased: its %zu address%s kept only as "
		    "keyed hashes (never reused), %zu key%s deleted; \"wkdctl "
		    "log prune\" drops older log entries\n", addr, nbound,
		    nbound == 1 ? "" : "es", n, n == 1 ? "" : "s");
	else
		printf("account %s removed: %zu address%s unpublished; its "
		    "%zu address%s bound and can't be reused\n", addr, n,
		    n == 1 ? "" : "es", nbound,
		    nbound == 1 ? " stays" : "es stay");
	return (0);
}

int
cmd_account(struct ctl *ctl, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return (account_add(ctl, argc - 1, argv + 1));
	if (argc >= 2 && strcmp(argv[1], "sync") == 0)
		return (sync_cmd(ctl, argc - 1, argv + 1));
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return (account_list(ctl, argc - 1, argv + 1));
	if (argc == 3 && strcmp(argv[1], "show") == 0 && argv[2][0] != '-')
		return (account_show(ctl, argv[2]));
	if (argc >= 2 && strcmp(argv[1], "remove") == 0)
		return (account_remove(ctl, argc - 1, argv + 1));
	return (cli_usage(ACCOUNT_USAGE));
}

static int
alias_add(struct ctl *ctl, const char *p, const char *in)
{
	struct ks_txn	*txn;
	char		 primary[KS_ADDR_MAX], addr[KS_ADDR_MAX];
	char		 fpr[KS_FPR_MAX];
	int		 pub;

	if (cli_addr(p, primary, NULL) == -1 ||
	    cli_addr(in, addr, NULL) == -1 || store_begin(ctl, 0, &txn) == -1)
		return (1);
	if ((pub = account_alias_add(txn, primary, addr, fpr)) == -1)
		return (store_abort(txn));
	if (store_commit(ctl, txn) == -1)
		return (1);
	printf("alias %s added to account %s\n", addr, primary);
	if (pub)
		printf("  published at %s (key %s)\n", addr, fpr);
	else
		printf("  no key of the account has a UID for it yet: import "
		    "one to publish it\n");
	return (0);
}

static int
alias_remove(struct ctl *ctl, const char *p, const char *in)
{
	struct ks_txn	*txn;
	char		 primary[KS_ADDR_MAX], addr[KS_ADDR_MAX];

	if (cli_addr(p, primary, NULL) == -1 ||
	    cli_addr(in, addr, NULL) == -1 || store_begin(ctl, 0, &txn) == -1)
		return (1);
	if (account_alias_retire(txn, primary, addr) == -1)
		return (store_abort(txn));
	if (store_commit(ctl, txn) == -1)
		return (1);
	printf("alias %s retired: nothing is published for it, and it stays "
	    "bound to %s\n", addr, primary);
	return (0);
}

int
cmd_alias(struct ctl *ctl, int argc, char **argv)
{
	int	 i;

	if ((i = cli_noopts(argc, argv, ALIAS_USAGE)) < 0)
		return (-i);
	argc -= i;
	argv += i;
	if (argc == 3 && strcmp(argv[0], "add") == 0)
		return (alias_add(ctl, argv[1], argv[2]));
	if (argc == 3 && strcmp(argv[0], "remove") == 0)
		return (alias_remove(ctl, argv[1], argv[2]));
	return (cli_usage(ALIAS_USAGE));
}
