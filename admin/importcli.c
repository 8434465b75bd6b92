/*
 * importcli.c: "wkdctl import", the front end of import_keys() (import.c):
 * options, reading every input before the store is opened, the one
 * transaction, and the report: a few lines a key and a summary line, or
 * JSON; the exit status says whether any key was skipped or failed.
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

static const char *const import_status_names[] = {
	"published", "unchanged", "superseded", "skipped", "failed"
};

/* One key's outcome, as wkdctl import prints it. */
static void
import_print_key(FILE *fp, FILE *errfp, const struct import_key *k)
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
	if (k->status == IMPORT_SKIPPED || k->status == IMPORT_FAILED) {
		fflush(fp);
		fputs(k->msgs != NULL ? k->msgs : "", errfp);
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
	if (k->status == IMPORT_SUPERSEDED)
		fprintf(fp, "  stored, superseded: a newer key serves its "
		    "address%s\n", k->nolder == 1 ? "" : "es");
	else if (k->npublish == 0 && k->ndropped == 0)
		fprintf(fp, "  merged; no address changed\n");
}

void
import_summary(FILE *fp, const struct import_report *r)
{
	fprintf(fp, "%zu key%s: %zu published, %zu unchanged, %zu skipped, "
	    "%zu failed", r->n, r->n == 1 ? "" : "s",
	    r->count[IMPORT_PUBLISHED], r->count[IMPORT_UNCHANGED],
	    r->count[IMPORT_SKIPPED], r->count[IMPORT_FAILED]);
	if (r->count[IMPORT_SUPERSEDED] > 0)
		fprintf(fp, ", %zu superseded", r->count[IMPORT_SUPERSEDED]);
	fprintf(fp, "\n");
}

void
import_print(FILE *fp, FILE *errfp, const struct import_report *r)
{
	size_t	 i;

	for (i = 0; i < r->n; i++)
		import_print_key(fp, errfp, &r->v[i]);
}

/* One UID's outcome as a JSON object. */
static void
import_json_uid(FILE *fp, const struct import_uid *u)
{
	fprintf(fp, "{\"uid\":");
	if (u->text != NULL)
		io_json_str(fp, u->text);
	else
		fprintf(fp, "null");
	fprintf(fp, ",\"address\":");
	io_json_str(fp, u->addr);
	fprintf(fp, ",\"published\":%s", u->publish ? "true" : "false");
	if (u->publish && u->replaced[0] != '\0') {
		fprintf(fp, ",\"replaces\":");
		io_json_str(fp, u->replaced);
	}
	if (!u->publish) {
		fprintf(fp, ",\"reason\":");
		io_json_str(fp, u->why);
	}
	fprintf(fp, "}");
}

/* One key's outcome as a JSON object. */
static void
import_json_key(FILE *fp, const struct import_key *k)
{
	size_t	 i;

	fprintf(fp, "{\"fingerprint\":");
	if (k->fpr[0] != '\0')
		io_json_str(fp, k->fpr);
	else
		fprintf(fp, "null");
	fprintf(fp, ",\"status\":\"%s\",\"input\":",
	    import_status_names[k->status]);
	io_json_str(fp, k->src);
	fprintf(fp, ",\"offset\":%zu,\"known\":%s,\"revoked\":%s,"
	    "\"expired\":%s,\"uids\":[", k->off, k->known ? "true" : "false",
	    k->revoked ? "true" : "false", k->expired ? "true" : "false");
	for (i = 0; i < k->nuids; i++) {
		if (i > 0)
			fprintf(fp, ",");
		import_json_uid(fp, &k->uids[i]);
	}
	fprintf(fp, "],\"unpublished\":[");
	for (i = 0; i < k->ndropped; i++) {
		if (i > 0)
			fprintf(fp, ",");
		io_json_str(fp, k->dropped[i]);
	}
	fprintf(fp, "],\"revocation_stored\":%s,\"messages\":",
	    k->revoc ? "true" : "false");
	io_json_str(fp, k->msgs != NULL ? k->msgs : "");
	fprintf(fp, "}");
}

void
import_json(FILE *fp, const struct import_report *r, int committed)
{
	size_t	 i;

	fprintf(fp, "{\"committed\":%s,\"keys\":[", committed ? "true" :
	    "false");
	for (i = 0; i < r->n; i++) {
		if (i > 0)
			fprintf(fp, ",\n");
		import_json_key(fp, &r->v[i]);
	}
	fprintf(fp, "],\"summary\":{\"keys\":%zu", r->n);
	for (i = 0; i < IMPORT_NSTATUS; i++)
		fprintf(fp, ",\"%s\":%zu", import_status_names[i],
		    r->count[i]);
	fprintf(fp, "}}\n");
}

/* certs->hosted: is domain hosted in the read transaction arg? */
static int
import_hosted(const char *domain, void *arg)
{
	struct ks_domain	 d;

	return (ks_domain_get(arg, domain, &d) == KS_OK);
}

/*
 * Read and check every input before the store is written: the keys of
 * each file go into certs, without the UIDs of domains not hosted (a read
 * transaction says which are).  Returns 0, or -1 after warning.
 */
static int
import_read(struct ctl *ctl, int argc, char **argv, struct pass *pp,
    struct pgp_certs *certs)
{
	struct ks_txn	*txn;
	unsigned char	*data;
	size_t		 len;
	int		 i, rc = 0;

	if (store_begin(ctl, KS_RDONLY, &txn) == -1)
		return (-1);
	certs->hosted = import_hosted;
	certs->hosted_arg = txn;
	for (i = 0; i < argc && rc == 0; i++) {
		if (io_read_file(argv[i], IMPORT_FILE_MAX, &data, &len) == -1) {
			rc = -1;
			break;
		}
		rc = pgp_read(strcmp(argv[i], "-") == 0 ? "(stdin)" : argv[i],
		    data, len, pp, certs);
		io_wipe(data, len);
	}
	ks_txn_abort(txn);
	certs->hosted = NULL;
	certs->hosted_arg = NULL;
	return (rc);
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

/* import's options: returns optind, or -1 with the exit status in *st. */
static int
import_getopt(int argc, char **argv, const char **account, int *flags,
    int *json, struct pass *pp, int *st)
{
	int	 ch;
	static const struct option longopts[] = {
		{ "account", required_argument, NULL, 'a' },
		{ "passphrase-fd", required_argument, NULL, 'P' },
		{ "strict", no_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};

	*st = 1;
	while ((ch = getopt_long(argc, argv, "a:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			*account = optarg;
			break;
		case 'P':
			if (pass_fd(pp, optarg) == -1)
				return (-1);
			break;
		case 'S':
			*flags |= IMPORT_STRICT;
			break;
		case 'j':
			*json = 1;
			break;
		default:
			*st = cli_usage(IMPORT_USAGE);
			return (-1);
		}
	}
	if (argc == optind) {
		*st = cli_usage(IMPORT_USAGE);
		return (-1);
	}
	return (optind);
}

/*
 * The exit status of an import that ran: 0 if every key was imported
 * (published, unchanged or superseded), 3 if some were but others were
 * skipped or failed, 1 if none was.
 */
static int
import_status(const struct import_report *r)
{
	size_t	 bad = r->count[IMPORT_SKIPPED] + r->count[IMPORT_FAILED];

	if (bad == 0)
		return (0);
	return (bad < r->n ? 3 : 1);
}

int
cmd_import(struct ctl *ctl, int argc, char **argv)
{
	struct pgp_certs	 certs;
	struct import_report	 rep;
	struct ks_txn		*txn = NULL;
	const char		*account = NULL;
	char			 acct[KS_ADDR_MAX];
	struct io_progress	 pg;
	struct pass		 pp;
	int			 i, rc, flags = 0, json = 0, ret = 1;

	memset(&certs, 0, sizeof(certs));
	memset(&rep, 0, sizeof(rep));
	pass_init(&pp);
	if ((i = import_getopt(argc, argv, &account, &flags, &json, &pp,
	    &ret)) == -1)
		goto out;
	ret = 1;
	if (account != NULL && cli_addr(account, acct, NULL) == -1)
		goto out;
	if (account != NULL)
		account = acct;
	if (import_read(ctl, argc - i, argv + i, &pp, &certs) == -1)
		goto out;
	pass_clear(&pp);
	if (store_begin(ctl, 0, &txn) == -1)
		goto out;
	if (account != NULL && import_account(txn, account, acct) == -1)
		goto abort;
	io_progress_start(&pg, "import: keys", certs.n);
	rc = import_keys(txn, account, &certs, flags, &pg, &rep);
	io_progress_end(&pg);
	if (rc == -1 || import_status(&rep) == 1)
		goto abort;
	if (rep.n == 0) {
		warnx("no OpenPGP key found");
		goto abort;
	}
	if (store_commit(ctl, txn) == -1)
		goto out;
	ret = import_status(&rep);
	if (json)
		import_json(stdout, &rep, 1);
	else {
		import_print(stdout, stderr, &rep);
		import_summary(stdout, &rep);
	}
	goto out;
abort:
	ks_txn_abort(txn);
	/* The report so far explains what was refused. */
	if (json)
		import_json(stdout, &rep, 0);
	else {
		import_print(stderr, stderr, &rep);
		if (rep.n > 1)
			import_summary(stderr, &rep);
	}
	warnx("import failed: the store is unchanged");
out:
	pass_clear(&pp);
	import_report_free(&rep);
	pgp_certs_free(&certs);
	return (ret);
}
