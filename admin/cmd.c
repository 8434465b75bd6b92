/*
 * cmd.c: the store's skeleton: init, domains, accounts and aliases.
 *
 * An account is its primary address; aliases are bound to it for good.
 * "alias remove" retires an alias (nothing is published for it) but keeps
 * the binding, so the address can never move to another account.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keystore.h"
#include "wkdctl.h"


/* Commands without options still refuse unknown ones. */
static int
cmd_noopts(int argc, char **argv, const char *usage)
{
	int	 i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return (i + 1);
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			warnx("unknown option: %s", argv[i]);
			return (-ctl_usage(usage));
		}
	}
	return (1);
}

int
cmd_init(struct ctl *ctl, int argc, char **argv)
{
	char		 path[PATH_MAX];
	struct stat	 st;

	(void)argv;
	if (argc != 1)
		return (ctl_usage(INIT_USAGE));
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
	if (ctl_open(ctl, KS_CREATE) == -1)
		return (1);
	printf("store created in %s\n", ctl->store);
	return (0);
}

/* Warn and return -1 unless domain (an A-label) is hosted. */
static int
cmd_hosted(struct ks_txn *txn, const char *domain, const char *addr)
{
	struct ks_domain	 d;
	int			 rc;

	if ((rc = ks_domain_get(txn, domain, &d)) == KS_OK)
		return (0);
	if (rc == KS_NOTFOUND)
		warnx("%s: domain %s is not hosted (wkdctl domain add %s)",
		    addr, domain, domain);
	else
		warnx("%s: %s", domain, ks_strerror(rc));
	return (-1);
}

static int
domain_add(struct ctl *ctl, const char *name, int nocert)
{
	struct ks_txn	*txn;
	char		 d[KS_DOMAIN_MAX];
	int		 rc;

	if (ctl_domain(name, d) == -1)
		return (1);
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1)
		return (1);
	if ((rc = ks_domain_add(txn, d)) != KS_OK) {
		if (rc == KS_EXISTS)
			warnx("%s: domain already hosted", d);
		else
			warnx("%s: %s", d, ks_strerror(rc));
		goto abort;
	}
	/* An empty policy file: the draft requires one, even empty. */
	if ((rc = ks_policy_put(txn, d, "", 0)) != KS_OK) {
		warnx("%s: policy: %s", d, ks_strerror(rc));
		goto abort;
	}
	if (ctl_log(txn, d, "domain added") != KS_OK)
		goto abort;
	if (ctl_commit(ctl, txn) == -1)
		return (1);
	if (strcmp(d, name) != 0)
		printf("domain %s added (as %s)\n", name, d);
	else
		printf("domain %s added\n", d);
	/* The domain stays added whatever the CA says (wkdctl.8). */
	if (!nocert && acme_enabled(ctl->conf)) {
		(void)fflush(stdout);
		ctl_close(ctl);
		if (acme_domain(ctl, d, 0) == -1)
			warnx("%s: added without a certificate; once "
			    "openpgpkey.%s points here (wkdctl dns %s), "
			    "run: wkdctl domain cert %s", d, d, d, d);
	}
	return (0);
abort:
	ks_txn_abort(txn);
	return (1);
}

static int
domain_remove(struct ctl *ctl, const char *name)
{
	struct ks_txn		*txn;
	struct ctl_addrs	 l;
	struct ks_domain	 dom;
	char			 d[KS_DOMAIN_MAX], local[KS_ADDR_MAX];
	char			 ad[KS_DOMAIN_MAX];
	size_t			 i, n = 0;
	int			 rc;

	if (ctl_domain(name, d) == -1)
		return (1);
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1)
		return (1);
	if ((rc = ks_domain_get(txn, d, &dom)) != KS_OK) {
		warnx("%s: %s", d, rc == KS_NOTFOUND ? "domain not hosted" :
		    ks_strerror(rc));
		ks_txn_abort(txn);
		return (1);
	}
	if (ctl_addrs(txn, NULL, &l) == -1) {
		ks_txn_abort(txn);
		return (1);
	}
	/* Addresses stay bound; they just publish nothing any more. */
	for (i = 0; i < l.n; i++) {
		if (ctl_split(l.v[i].addr, local, sizeof(local), ad,
		    sizeof(ad)) == -1 || strcmp(ad, d) != 0 ||
		    l.v[i].fpr[0] == '\0')
			continue;
		if (ctl_log(txn, l.v[i].addr, "unpublished key %s: domain "
		    "removed", l.v[i].fpr) != KS_OK)
			goto abort;
		l.v[i].fpr[0] = '\0';
		if ((rc = ks_addr_put(txn, &l.v[i])) != KS_OK) {
			warnx("%s: %s", l.v[i].addr, ks_strerror(rc));
			goto abort;
		}
		n++;
	}
	if ((rc = ks_domain_del(txn, d)) != KS_OK) {
		warnx("%s: %s", d, ks_strerror(rc));
		goto abort;
	}
	if (ctl_log(txn, d, "domain removed") != KS_OK)
		goto abort;
	ctl_addrs_free(&l);
	if (ctl_commit(ctl, txn) == -1)
		return (1);
	printf("domain %s removed; %zu address%s unpublished (their "
	    "accounts keep them)\n", d, n, n == 1 ? "" : "es");
	return (0);
abort:
	ctl_addrs_free(&l);
	ks_txn_abort(txn);
	return (1);
}

/*
 * Check a policy file (draft §4.5): lines end in LF (or CRLF; gpg rejects
 * a last line without one), each empty, a "#" comment, or a keyword
 * (a letter, then letters, digits, ".", "-", "_") with an optional
 * ":" and value.  Warns with the line number and returns -1 if not.
 */
static int
policy_check(const char *name, const unsigned char *p, size_t len)
{
	size_t	 i = 0, line = 0, k;

	while (i < len) {
		line++;
		k = i;
		if (p[k] == '#' || p[k] == '\n' || p[k] == '\r')
			goto eol;
		if (!((p[k] >= 'a' && p[k] <= 'z') ||
		    (p[k] >= 'A' && p[k] <= 'Z'))) {
			warnx("%s:%zu: a keyword must start with a letter",
			    name, line);
			return (-1);
		}
		while (k < len && ((p[k] >= 'a' && p[k] <= 'z') ||
		    (p[k] >= 'A' && p[k] <= 'Z') ||
		    (p[k] >= '0' && p[k] <= '9') ||
		    p[k] == '.' || p[k] == '-' || p[k] == '_'))
			k++;
		if (k < len && p[k] != ':' && p[k] != '\n' && p[k] != '\r') {
			warnx("%s:%zu: keyword followed by neither \":\" nor "
			    "the end of the line", name, line);
			return (-1);
		}
eol:
		while (k < len && p[k] != '\n') {
			if (p[k] == '\0') {
				warnx("%s:%zu: NUL byte", name, line);
				return (-1);
			}
			k++;
		}
		if (k == len) {
			warnx("%s:%zu: last line has no newline (gpg rejects "
			    "that)", name, line);
			return (-1);
		}
		i = k + 1;
	}
	return (0);
}

static int
domain_policy(struct ctl *ctl, const char *name, const char *file)
{
	struct ks_txn		*txn;
	struct ks_domain	 dom;
	unsigned char		*data;
	size_t			 len;
	char			 d[KS_DOMAIN_MAX];
	int			 rc;

	if (ctl_domain(name, d) == -1)
		return (1);
	if (ctl_read_file(file, KS_POLICY_MAX, &data, &len) == -1)
		return (1);
	if (policy_check(file, data, len) == -1) {
		free(data);
		return (1);
	}
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1) {
		free(data);
		return (1);
	}
	if ((rc = ks_domain_get(txn, d, &dom)) != KS_OK) {
		warnx("%s: %s", d, rc == KS_NOTFOUND ? "domain not hosted" :
		    ks_strerror(rc));
		goto abort;
	}
	if ((rc = ks_policy_put(txn, d, data, len)) != KS_OK) {
		warnx("%s: policy: %s", d, ks_strerror(rc));
		goto abort;
	}
	if (ctl_log(txn, d, "policy set (%zu bytes)", len) != KS_OK)
		goto abort;
	free(data);
	if (ctl_commit(ctl, txn) == -1)
		return (1);
	printf("domain %s: policy set (%zu bytes)\n", d, len);
	return (0);
abort:
	free(data);
	ks_txn_abort(txn);
	return (1);
}

static int
domain_list_cb(const struct ks_domain *d, void *arg)
{
	(void)arg;
	printf("%s\n", d->name);
	return (0);
}

static int
domain_list(struct ctl *ctl)
{
	struct ks_txn	*txn;
	int		 rc;

	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	rc = ks_domain_foreach(txn, domain_list_cb, NULL);
	ks_txn_abort(txn);
	if (rc != KS_OK) {
		warnx("%s", ks_strerror(rc));
		return (1);
	}
	return (0);
}

/* domain set DOMAIN keep-revoked on|off */
static int
domain_set(struct ctl *ctl, const char *name, const char *opt,
    const char *val)
{
	struct ks_txn		*txn;
	struct ks_domain	 dom;
	char			 d[KS_DOMAIN_MAX];
	uint32_t		 flags;
	int			 rc, on;

	if (strcmp(opt, "keep-revoked") != 0 ||
	    (strcmp(val, "on") != 0 && strcmp(val, "off") != 0))
		return (ctl_usage(DOMAIN_USAGE));
	on = strcmp(val, "on") == 0;
	if (ctl_domain(name, d) == -1)
		return (1);
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1)
		return (1);
	if ((rc = ks_domain_get(txn, d, &dom)) != KS_OK) {
		warnx("%s: %s", d, rc == KS_NOTFOUND ? "domain not hosted" :
		    ks_strerror(rc));
		goto abort;
	}
	flags = on ? dom.flags | KS_DOM_KEEP_REVOKED :
	    dom.flags & ~KS_DOM_KEEP_REVOKED;
	if (flags == dom.flags) {
		ks_txn_abort(txn);
		printf("domain %s: keep-revoked is %s already\n", d, val);
		return (0);
	}
	if ((rc = ks_domain_set_flags(txn, d, flags)) != KS_OK) {
		warnx("%s: %s", d, ks_strerror(rc));
		goto abort;
	}
	if (ctl_log(txn, d, "keep-revoked %s -> %s", on ? "off" : "on",
	    val) != KS_OK)
		goto abort;
	/* What each address serves changes with it. */
	if (key_refresh_domain(txn, d) == -1)
		goto abort;
	if (ctl_commit(ctl, txn) == -1)
		return (1);
	printf("domain %s: keep-revoked %s\n", d, val);
	return (0);
abort:
	ks_txn_abort(txn);
	return (1);
}

int
cmd_domain(struct ctl *ctl, int argc, char **argv)
{
	int	 i, nocert = 0;

	/* check and cert have options of their own. */
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return (cmd_domain_check(ctl, argc - 1, argv + 1));
	if (argc > 1 && strcmp(argv[1], "cert") == 0)
		return (acme_cmd(ctl, argc - 1, argv + 1));
	if (argc == 4 && strcmp(argv[1], "add") == 0 &&
	    strcmp(argv[2], "--no-cert") == 0) {
		nocert = 1;
		argv[2] = argv[1];
		argc--;
		argv++;
	}
	if ((i = cmd_noopts(argc, argv, DOMAIN_USAGE)) < 0)
		return (-i);
	argc -= i;
	argv += i;
	if (argc == 2 && strcmp(argv[0], "add") == 0)
		return (domain_add(ctl, argv[1], nocert));
	if (argc == 2 && strcmp(argv[0], "remove") == 0)
		return (domain_remove(ctl, argv[1]));
	if (argc == 3 && strcmp(argv[0], "policy") == 0)
		return (domain_policy(ctl, argv[1], argv[2]));
	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return (domain_list(ctl));
	if (argc == 4 && strcmp(argv[0], "set") == 0)
		return (domain_set(ctl, argv[1], argv[2], argv[3]));
	return (ctl_usage(DOMAIN_USAGE));
}

/*
 * Bind a new address addr to account: it must be in a hosted domain and
 * unbound.  Anything published under its hashes (a Unicode-hash entry of
 * another address) is taken down: see pub_bind().
 */
static int
bind_addr(struct ks_txn *txn, const char *account, const char *addr,
    int state)
{
	struct ks_addr	 a;
	char		 local[KS_ADDR_MAX], domain[KS_DOMAIN_MAX];
	int		 rc;

	if (ctl_split(addr, local, sizeof(local), domain,
	    sizeof(domain)) == -1) {
		warnx("%s: not a mail address", addr);
		return (-1);
	}
	if (cmd_hosted(txn, domain, addr) == -1)
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
	if ((rc = pub_bind(txn, addr)) != KS_OK) {
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
		rc = ctl_log(txn, addr, "account added");
	else
		rc = ctl_log(txn, addr, "alias of %s added", account);
	return (rc == KS_OK ? 0 : -1);
}

static int
account_add(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn	*txn;
	char		 primary[KS_ADDR_MAX], alias[KS_ADDR_MAX];
	char		**aliases = NULL;
	size_t		 naliases = 0;
	int		 ch, i, rc = 1;
	static const struct option longopts[] = {
		{ "alias", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};

	/* argv[0] is "add". */
	if ((aliases = calloc(argc, sizeof(*aliases))) == NULL) {
		warn(NULL);
		return (1);
	}
	optind = 0;
	while ((ch = getopt_long(argc, argv, "a:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			aliases[naliases++] = optarg;
			break;
		default:
			free(aliases);
			return (ctl_usage(ACCOUNT_USAGE));
		}
	}
	if (argc - optind != 1) {
		free(aliases);
		return (ctl_usage(ACCOUNT_USAGE));
	}
	if (ctl_addr(argv[optind], primary, NULL) == -1)
		goto out;
	for (i = 0; i < (int)naliases; i++)
		if (ctl_addr(aliases[i], alias, NULL) == -1)
			goto out;
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1)
		goto out;
	if (bind_addr(txn, primary, primary, KS_ADDR_PRIMARY) == -1)
		goto abort;
	for (i = 0; i < (int)naliases; i++) {
		(void)ctl_addr(aliases[i], alias, NULL);
		if (bind_addr(txn, primary, alias, KS_ADDR_ALIAS) == -1)
			goto abort;
	}
	if (ctl_commit(ctl, txn) == -1)
		goto out;
	printf("account %s added", primary);
	for (i = 0; i < (int)naliases; i++) {
		(void)ctl_addr(aliases[i], alias, NULL);
		printf("%s%s", i == 0 ? ", aliases: " : ", ", alias);
	}
	printf("\n");
	rc = 0;
	goto out;
abort:
	ks_txn_abort(txn);
out:
	free(aliases);
	return (rc);
}

static int
account_list(struct ctl *ctl)
{
	struct ks_txn		*txn;
	struct ctl_addrs	 l;
	size_t			 i, j, na;

	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	if (ctl_addrs(txn, NULL, &l) == -1) {
		ks_txn_abort(txn);
		return (1);
	}
	ks_txn_abort(txn);
	for (i = 0; i < l.n; i++) {
		if (l.v[i].state != KS_ADDR_PRIMARY)
			continue;
		for (na = 0, j = 0; j < l.n; j++)
			if (l.v[j].state == KS_ADDR_ALIAS &&
			    strcmp(l.v[j].account, l.v[i].addr) == 0)
				na++;
		printf("%s\t%zu alias%s\n", l.v[i].addr, na,
		    na == 1 ? "" : "es");
	}
	ctl_addrs_free(&l);
	return (0);
}

static int
account_show(struct ctl *ctl, const char *in)
{
	struct ks_txn		*txn;
	struct ctl_addrs	 l;
	struct ks_addr		 a;
	char			 addr[KS_ADDR_MAX];
	size_t			 i;
	int			 rc, removed;

	if (ctl_addr(in, addr, NULL) == -1)
		return (1);
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	if ((rc = ks_addr_get(txn, addr, &a)) != KS_OK) {
		warnx("%s: %s", addr, rc == KS_NOTFOUND ?
		    "not an address of any account" : ks_strerror(rc));
		ks_txn_abort(txn);
		return (1);
	}
	if (ctl_addrs(txn, a.account, &l) == -1) {
		ks_txn_abort(txn);
		return (1);
	}
	if (key_account_removed(txn, &a, &removed) != KS_OK)
		removed = 0;
	ks_txn_abort(txn);
	printf("account %s%s\n", a.account, removed ? " (removed)" : "");
	for (i = 0; i < l.n; i++)
		printf("  %-8s %s%s%s%s\n", ctl_state(l.v[i].state),
		    l.v[i].addr, l.v[i].fpr[0] != '\0' ? "  key " : "",
		    l.v[i].fpr, l.v[i].flags & KS_AF_UNPUBLISHED ?
		    "  (unpublished)" : "");
	ctl_addrs_free(&l);
	return (0);
}

/*
 * Remove an account: take down everything its addresses publish, mark
 * its primary removed.  Its addresses stay bound to it, so no other
 * account can ever claim them.
 */
static int
account_remove(struct ctl *ctl, const char *in)
{
	struct ks_txn		*txn;
	struct ctl_addrs	 l;
	struct ks_addr		 a;
	char			 addr[KS_ADDR_MAX];
	size_t			 i, n = 0;
	int			 rc;

	memset(&l, 0, sizeof(l));
	if (ctl_addr(in, addr, NULL) == -1)
		return (1);
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1)
		return (1);
	if ((rc = ks_addr_get(txn, addr, &a)) != KS_OK ||
	    a.state != KS_ADDR_PRIMARY) {
		warnx("%s: %s", addr, rc != KS_OK && rc != KS_NOTFOUND ?
		    ks_strerror(rc) : rc == KS_OK ? "not an account's "
		    "primary address" : "no such account");
		goto abort;
	}
	if (a.flags & KS_AF_REMOVED) {
		warnx("%s: account removed already", addr);
		goto abort;
	}
	if (ctl_addrs(txn, addr, &l) == -1)
		goto abort;
	for (i = 0; i < l.n; i++) {
		if ((rc = pub_del(txn, l.v[i].addr)) != KS_OK) {
			warnx("%s: %s", l.v[i].addr, ks_strerror(rc));
			goto abort;
		}
		if (l.v[i].fpr[0] != '\0') {
			if (ctl_log(txn, l.v[i].addr, "unpublished key %s: "
			    "account removed", l.v[i].fpr) != KS_OK)
				goto abort;
			n++;
		}
		l.v[i].fpr[0] = '\0';
		if (strcmp(l.v[i].addr, addr) == 0)
			l.v[i].flags |= KS_AF_REMOVED;
		if ((rc = ks_addr_put(txn, &l.v[i])) != KS_OK) {
			warnx("%s: %s", l.v[i].addr, ks_strerror(rc));
			goto abort;
		}
	}
	if (ctl_log(txn, addr, "account active -> removed (%zu address%s "
	    "kept bound)", l.n, l.n == 1 ? "" : "es") != KS_OK)
		goto abort;
	if (ctl_commit(ctl, txn) == -1) {
		ctl_addrs_free(&l);
		return (1);
	}
	printf("account %s removed: %zu address%s unpublished; its %zu "
	    "address%s bound and can't be reused\n", addr, n,
	    n == 1 ? "" : "es", l.n, l.n == 1 ? " stays" : "es stay");
	ctl_addrs_free(&l);
	return (0);
abort:
	ctl_addrs_free(&l);
	ks_txn_abort(txn);
	return (1);
}

int
cmd_account(struct ctl *ctl, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return (account_add(ctl, argc - 1, argv + 1));
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return (account_list(ctl));
	if (argc == 3 && strcmp(argv[1], "show") == 0 && argv[2][0] != '-')
		return (account_show(ctl, argv[2]));
	if (argc == 3 && strcmp(argv[1], "remove") == 0 && argv[2][0] != '-')
		return (account_remove(ctl, argv[2]));
	return (ctl_usage(ACCOUNT_USAGE));
}

static int
alias_add(struct ctl *ctl, const char *p, const char *in)
{
	struct ks_txn	*txn;
	struct ks_addr	 acct, a;
	char		 primary[KS_ADDR_MAX], addr[KS_ADDR_MAX];
	char		 fpr[KS_FPR_MAX];
	int		 rc, pub;

	if (ctl_addr(p, primary, NULL) == -1 || ctl_addr(in, addr, NULL) == -1)
		return (1);
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1)
		return (1);
	if ((rc = ks_addr_get(txn, primary, &acct)) != KS_OK ||
	    acct.state != KS_ADDR_PRIMARY) {
		warnx("%s: %s", primary, rc != KS_OK && rc != KS_NOTFOUND ?
		    ks_strerror(rc) : "no such account");
		goto abort;
	}
	if (acct.flags & KS_AF_REMOVED) {
		warnx("%s: account removed", primary);
		goto abort;
	}
	rc = ks_addr_get(txn, addr, &a);
	if (rc == KS_OK && a.state == KS_ADDR_RETIRED &&
	    strcmp(a.account, primary) == 0) {
		/* Back to the account it was always bound to. */
		a.state = KS_ADDR_ALIAS;
		a.flags &= ~KS_AF_UNPUBLISHED;
		a.fpr[0] = '\0';
		if ((rc = ks_addr_put(txn, &a)) != KS_OK) {
			warnx("%s: %s", addr, ks_strerror(rc));
			goto abort;
		}
		if (ctl_log(txn, addr, "retired alias of %s active again",
		    primary) != KS_OK)
			goto abort;
	} else if (rc == KS_OK && strcmp(a.account, primary) == 0) {
		warnx("%s: already %s of %s", addr,
		    a.state == KS_ADDR_PRIMARY ? "the primary address" :
		    "an alias", primary);
		goto abort;
	} else if (bind_addr(txn, primary, addr, KS_ADDR_ALIAS) == -1)
		goto abort;
	/* A key of the account may have a UID for it already. */
	if ((pub = key_publish_stored(txn, addr, fpr)) == -1)
		goto abort;
	if (ctl_commit(ctl, txn) == -1)
		return (1);
	printf("alias %s added to account %s\n", addr, primary);
	if (pub)
		printf("  published at %s (key %s)\n", addr, fpr);
	else
		printf("  no key of the account has a UID for it yet: import "
		    "one to publish it\n");
	return (0);
abort:
	ks_txn_abort(txn);
	return (1);
}

static int
alias_remove(struct ctl *ctl, const char *p, const char *in)
{
	struct ks_txn	*txn;
	struct ks_addr	 a;
	char		 primary[KS_ADDR_MAX], addr[KS_ADDR_MAX];
	int		 rc;

	if (ctl_addr(p, primary, NULL) == -1 || ctl_addr(in, addr, NULL) == -1)
		return (1);
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1)
		return (1);
	if ((rc = ks_addr_get(txn, addr, &a)) != KS_OK) {
		warnx("%s: %s", addr, rc == KS_NOTFOUND ?
		    "not an address of any account" : ks_strerror(rc));
		goto abort;
	}
	if (strcmp(a.account, primary) != 0) {
		warnx("%s: not an alias of %s", addr, primary);
		goto abort;
	}
	if (a.state != KS_ADDR_ALIAS) {
		warnx("%s: %s", addr, a.state == KS_ADDR_PRIMARY ?
		    "is the account's primary address" : "already retired");
		goto abort;
	}
	if ((rc = pub_del(txn, addr)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		goto abort;
	}
	if (ctl_log(txn, addr, "alias of %s retired%s%s", primary,
	    a.fpr[0] != '\0' ? "; unpublished key " : "", a.fpr) != KS_OK)
		goto abort;
	a.state = KS_ADDR_RETIRED;
	a.fpr[0] = '\0';
	if ((rc = ks_addr_put(txn, &a)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		goto abort;
	}
	if (ctl_commit(ctl, txn) == -1)
		return (1);
	printf("alias %s retired: nothing is published for it, and it stays "
	    "bound to %s\n", addr, primary);
	return (0);
abort:
	ks_txn_abort(txn);
	return (1);
}

int
cmd_alias(struct ctl *ctl, int argc, char **argv)
{
	int	 i;

	if ((i = cmd_noopts(argc, argv, ALIAS_USAGE)) < 0)
		return (-i);
	argc -= i;
	argv += i;
	if (argc == 3 && strcmp(argv[0], "add") == 0)
		return (alias_add(ctl, argv[1], argv[2]));
	if (argc == 3 && strcmp(argv[0], "remove") == 0)
		return (alias_remove(ctl, argv[1], argv[2]));
	return (ctl_usage(ALIAS_USAGE));
}

/* The address record for publish/unpublish: bound, active, not removed. */
static int
pub_addr(struct ks_txn *txn, const char *addr, struct ks_addr *a)
{
	int	 rc, removed;

	if ((rc = ks_addr_get(txn, addr, a)) != KS_OK) {
		warnx("%s: %s", addr, rc == KS_NOTFOUND ?
		    "not an address of any account" : ks_strerror(rc));
		return (-1);
	}
	if (a->state == KS_ADDR_RETIRED) {
		warnx("%s: retired alias (wkdctl alias add brings it back)",
		    addr);
		return (-1);
	}
	if ((rc = key_account_removed(txn, a, &removed)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		return (-1);
	}
	if (removed) {
		warnx("%s: account %s was removed", addr, a->account);
		return (-1);
	}
	return (0);
}

int
cmd_unpublish(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn	*txn;
	struct ks_addr	 a;
	char		 addr[KS_ADDR_MAX], old[KS_FPR_MAX];
	int		 rc;

	if (argc != 2 || argv[1][0] == '-')
		return (ctl_usage(UNPUBLISH_USAGE));
	if (ctl_addr(argv[1], addr, NULL) == -1)
		return (1);
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1)
		return (1);
	if (pub_addr(txn, addr, &a) == -1)
		goto abort;
	if (a.flags & KS_AF_UNPUBLISHED) {
		warnx("%s: unpublished already", addr);
		goto abort;
	}
	if ((rc = pub_del(txn, addr)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		goto abort;
	}
	(void)snprintf(old, sizeof(old), "%s", a.fpr);
	if (ctl_log(txn, addr, "published%s%s -> unpublished by the "
	    "operator", old[0] != '\0' ? " key " : " (no key)", old) != KS_OK)
		goto abort;
	a.fpr[0] = '\0';
	a.flags |= KS_AF_UNPUBLISHED;
	if ((rc = ks_addr_put(txn, &a)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		goto abort;
	}
	if (ctl_commit(ctl, txn) == -1)
		return (1);
	printf("%s unpublished%s%s%s; imports won't publish it until "
	    "\"wkdctl publish %s\"\n", addr, old[0] != '\0' ? " (key " : "",
	    old, old[0] != '\0' ? ")" : "", addr);
	return (0);
abort:
	ks_txn_abort(txn);
	return (1);
}

int
cmd_publish(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn	*txn;
	struct ks_addr	 a;
	char		 addr[KS_ADDR_MAX], fpr[KS_FPR_MAX];
	int		 rc, pub;

	if (argc != 2 || argv[1][0] == '-')
		return (ctl_usage(PUBLISH_USAGE));
	if (ctl_addr(argv[1], addr, NULL) == -1)
		return (1);
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1)
		return (1);
	if (pub_addr(txn, addr, &a) == -1)
		goto abort;
	if (!(a.flags & KS_AF_UNPUBLISHED)) {
		warnx("%s: not unpublished (wkdctl import publishes keys)",
		    addr);
		goto abort;
	}
	a.flags &= ~KS_AF_UNPUBLISHED;
	if ((rc = ks_addr_put(txn, &a)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		goto abort;
	}
	if ((pub = key_publish_stored(txn, addr, fpr)) == -1)
		goto abort;
	if (ctl_log(txn, addr, "unpublished -> published%s%s", pub ?
	    " key " : " (no key yet)", pub ? fpr : "") != KS_OK)
		goto abort;
	if (ctl_commit(ctl, txn) == -1)
		return (1);
	if (pub)
		printf("%s published again (key %s)\n", addr, fpr);
	else
		printf("%s may be published again: no stored key has a valid "
		    "UID for it; import one\n", addr);
	return (0);
abort:
	ks_txn_abort(txn);
	return (1);
}
