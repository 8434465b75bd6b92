/*
 * domain.c: hosted domains: add (and its certificate), remove (takes down
 * what is published under it; its addresses stay bound), policy, list,
 * set.  "domain check" is check.c, "domain cert" acme.c.
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
#include "conf.h"
#include "wkdctl.h"

/* Warn and return -1 unless domain (an A-label) is hosted. */
int
domain_hosted(struct ks_txn *txn, const char *domain, const char *addr)
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

int
domain_create(struct ks_txn *txn, const char *d)
{
	int	 rc;

	if ((rc = ks_domain_add(txn, d)) != KS_OK) {
		if (rc == KS_EXISTS)
			warnx("%s: domain already hosted", d);
		else
			warnx("%s: %s", d, ks_strerror(rc));
		return (-1);
	}
	/* An empty policy file: the draft requires one, even empty. */
	if ((rc = ks_policy_put(txn, d, "", 0)) != KS_OK) {
		warnx("%s: policy: %s", d, ks_strerror(rc));
		return (-1);
	}
	return (audit_log(txn, d, "domain added") == KS_OK ? 0 : -1);
}

static int
domain_add(struct ctl *ctl, const char *name, int nocert)
{
	struct ks_txn	*txn;
	char		 d[KS_DOMAIN_MAX];

	if (cli_domain(name, d) == -1 || store_begin(ctl, 0, &txn) == -1)
		return (1);
	if (domain_create(txn, d) == -1)
		return (store_abort(txn));
	if (store_commit(ctl, txn) == -1)
		return (1);
	if (strcmp(d, name) != 0)
		printf("domain %s added (as %s)\n", name, d);
	else
		printf("domain %s added\n", d);
	/* The domain stays added whatever the CA says (wkdctl.8). */
	if (!nocert && acme_enabled(ctl->conf)) {
		(void)fflush(stdout);
		store_close(ctl);
		if (acme_domain(ctl, d, 0) == -1)
			warnx("%s: added without a certificate; once "
			    "openpgpkey.%s points here (wkdctl dns %s), "
			    "run: wkdctl domain cert %s", d, d, d, d);
	}
	return (0);
}

int
domain_drop(struct ks_txn *txn, const char *d, size_t *nunpub)
{
	struct store_addrs	 l;
	struct ks_domain	 dom;
	size_t			 i;
	int			 rc, ret = -1;

	*nunpub = 0;
	if (store_domain(txn, d, &dom) == -1 ||
	    store_addrs_domain(txn, d, &l) == -1)
		return (-1);
	/* Addresses stay bound; they just publish nothing any more. */
	for (i = 0; i < l.n; i++) {
		if (l.v[i].fpr[0] == '\0')
			continue;
		if (audit_log(txn, l.v[i].addr, "unpublished key %s: domain "
		    "removed", l.v[i].fpr) != KS_OK)
			goto out;
		l.v[i].fpr[0] = '\0';
		if ((rc = ks_addr_put(txn, &l.v[i])) != KS_OK) {
			warnx("%s: %s", l.v[i].addr, ks_strerror(rc));
			goto out;
		}
		(*nunpub)++;
	}
	if ((rc = ks_domain_del(txn, d)) != KS_OK) {
		warnx("%s: %s", d, ks_strerror(rc));
		goto out;
	}
	if (audit_log(txn, d, "domain removed") != KS_OK)
		goto out;
	ret = 0;
out:
	store_addrs_free(&l);
	return (ret);
}

static int
domain_remove(struct ctl *ctl, const char *name)
{
	struct ks_txn	*txn;
	char		 d[KS_DOMAIN_MAX];
	size_t		 n;

	if (cli_domain(name, d) == -1 || store_begin(ctl, 0, &txn) == -1)
		return (1);
	if (domain_drop(txn, d, &n) == -1)
		return (store_abort(txn));
	if (store_commit(ctl, txn) == -1)
		return (1);
	printf("domain %s removed; %zu address%s unpublished (their "
	    "accounts keep them)\n", d, n, n == 1 ? "" : "es");
	return (0);
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

	if (cli_domain(name, d) == -1)
		return (1);
	if (io_read_file(file, KS_POLICY_MAX, &data, &len) == -1)
		return (1);
	if (policy_check(file, data, len) == -1) {
		free(data);
		return (1);
	}
	if (store_begin(ctl, 0, &txn) == -1) {
		free(data);
		return (1);
	}
	if (store_domain(txn, d, &dom) == -1) {
		goto abort;
	}
	if ((rc = ks_policy_put(txn, d, data, len)) != KS_OK) {
		warnx("%s: policy: %s", d, ks_strerror(rc));
		goto abort;
	}
	if (audit_log(txn, d, "policy set (%zu bytes)", len) != KS_OK)
		goto abort;
	free(data);
	if (store_commit(ctl, txn) == -1)
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

	if (store_begin(ctl, KS_RDONLY, &txn) == -1)
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
		return (cli_usage(DOMAIN_USAGE));
	on = strcmp(val, "on") == 0;
	if (cli_domain(name, d) == -1)
		return (1);
	if (store_begin(ctl, 0, &txn) == -1)
		return (1);
	if (store_domain(txn, d, &dom) == -1) {
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
	if (audit_log(txn, d, "keep-revoked %s -> %s", on ? "off" : "on",
	    val) != KS_OK)
		goto abort;
	/* What each address serves changes with it. */
	if (publish_refresh_domain(txn, d) == -1)
		goto abort;
	if (store_commit(ctl, txn) == -1)
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
	if ((i = cli_noopts(argc, argv, DOMAIN_USAGE)) < 0)
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
	return (cli_usage(DOMAIN_USAGE));
}
