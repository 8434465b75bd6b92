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
/*
 * Keys per batch: an input with more is read, imported, reported and
 * (unless --strict) committed a batch at a time, in bounded memory.
 */
#define IMPORT_BATCH	1024
#define IMPORT_BATCH_MAX (1024 * 1024)

/* The batch size: WKDCTL_IMPORT_BATCH, or IMPORT_BATCH. */
static size_t
import_batch(void)
{
	const char	*e = getenv("WKDCTL_IMPORT_BATCH");
	char		*end;
	unsigned long	 n;

	if (e == NULL || *e == '\0')
		return (IMPORT_BATCH);
	errno = 0;
	n = strtoul(e, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > IMPORT_BATCH_MAX) {
		warnx("WKDCTL_IMPORT_BATCH=%s: not 1 to %d; %d it is", e,
		    IMPORT_BATCH_MAX, IMPORT_BATCH);
		return (IMPORT_BATCH);
	}
	return (n);
}

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

/* r's keys as JSON array elements, after before others. */
static void
import_json_keys(FILE *fp, const struct import_report *r, size_t before)
{
	size_t	 i;

	for (i = 0; i < r->n; i++) {
		if (before + i > 0)
			fprintf(fp, ",\n");
		import_json_key(fp, &r->v[i]);
	}
}

static void
import_json_summary(FILE *fp, const struct import_report *r)
{
	size_t	 i;

	fprintf(fp, "\"summary\":{\"keys\":%zu", r->n);
	for (i = 0; i < IMPORT_NSTATUS; i++)
		fprintf(fp, ",\"%s\":%zu", import_status_names[i],
		    r->count[i]);
	fprintf(fp, "}}\n");
}

void
import_json(FILE *fp, const struct import_report *r, int committed)
{
	fprintf(fp, "{\"committed\":%s,\"keys\":[", committed ? "true" :
	    "false");
	import_json_keys(fp, r, 0);
	fprintf(fp, "],");
	import_json_summary(fp, r);
}

/* certs->hosted: is domain hosted in the read transaction arg? */
static int
import_hosted(const char *domain, void *arg)
{
	struct ks_domain	 d;

	return (ks_domain_get(arg, domain, &d) == KS_OK);
}

/* The inputs of one import, read a batch at a time. */
struct import_in {
	char		**argv;
	int		 argc, i;
	size_t		 batch;		/* Keys at a time. */
	int		 fd;		/* -1: none open. */
	struct pgp_stream st;
};

static void
import_close(struct import_in *in)
{
	if (in->fd == -1)
		return;
	pgp_stream_free(&in->st);
	if (in->fd != STDIN_FILENO)
		close(in->fd);
	in->fd = -1;
	in->i++;
}

/*
 * The next keys of in (up to in->batch, or a few more) into certs,
 * without the UIDs of domains not hosted (txn says which are).  1 if more
 * may follow, 0 at the end of the inputs, -1 after warning.
 */
static int
import_next(struct import_in *in, struct ks_txn *txn, struct pass *pp,
    struct pgp_certs *certs)
{
	const char	*name;
	int		 rc = 1;

	certs->hosted = import_hosted;
	certs->hosted_arg = txn;
	while (rc == 1 && certs->n + certs->nbad < in->batch) {
		if (in->fd == -1 && in->i == in->argc) {
			rc = 0;
			break;
		}
		if (in->fd == -1) {
			name = in->argv[in->i];
			if (strcmp(name, "-") == 0) {
				in->fd = STDIN_FILENO;
				name = "(stdin)";
			} else if ((in->fd = open(name, O_RDONLY |
			    O_CLOEXEC)) == -1) {
				warn("%s", name);
				rc = -1;
				break;
			}
			pgp_stream_init(&in->st, name, in->fd);
		}
		if ((rc = pgp_stream_read(&in->st, pp, certs, in->batch -
		    (certs->n + certs->nbad))) == 0) {
			import_close(in);
			rc = 1;
		}
	}
	certs->hosted = NULL;
	certs->hosted_arg = NULL;
	return (rc);
}

/*
 * The account --account names (an alias names its account) into acct.
 * Returns 0, or -1 after warning.
 */
int
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
int
import_status(const struct import_report *r)
{
	size_t	 bad = r->count[IMPORT_SKIPPED] + r->count[IMPORT_FAILED];

	if (bad == 0)
		return (0);
	return (bad < r->n ? 3 : 1);
}

/* Add r's counts to tot's (whose v stays NULL). */
static void
import_add(struct import_report *tot, const struct import_report *r)
{
	size_t	 i;

	tot->n += r->n;
	for (i = 0; i < IMPORT_NSTATUS; i++)
		tot->count[i] += r->count[i];
}

/*
 * A batch of a large import done: report it (after tot's keys) and add it
 * to tot.  The JSON object then has "keys" first, "committed" at the end.
 */
static void
import_batch_print(const struct import_report *r, struct import_report *tot,
    int json)
{
	if (json) {
		if (tot->n == 0)
			fprintf(stdout, "{\"keys\":[");
		import_json_keys(stdout, r, tot->n);
	} else
		import_print(stdout, stderr, r);
	fflush(stdout);
	import_add(tot, r);
}

/* The end of a large import's report: tot's summary. */
static void
import_batch_end(const struct import_report *tot, int json, int committed)
{
	if (json) {
		if (tot->n == 0)
			fprintf(stdout, "{\"keys\":[");
		fprintf(stdout, "],\"committed\":%s,", committed ? "true" :
		    "false");
		import_json_summary(stdout, tot);
	} else
		import_summary(committed ? stdout : stderr, tot);
}

int
cmd_import(struct ctl *ctl, int argc, char **argv)
{
	struct pgp_certs	 certs;
	struct import_report	 rep, tot, all;
	struct import_in	 in;
	struct ks_txn		*txn = NULL;
	const char		*account = NULL;
	char			 acct[KS_ADDR_MAX];
	struct io_progress	 pg;
	struct pass		 pp;
	int			 i, rc, more, flags = 0, json = 0, ret = 1;
	int			 batched = 0, stored = 0;

	memset(&certs, 0, sizeof(certs));
	memset(&rep, 0, sizeof(rep));
	memset(&tot, 0, sizeof(tot));
	memset(&pg, 0, sizeof(pg));
	memset(&in, 0, sizeof(in));
	in.fd = -1;
	pass_init(&pp);
	if ((i = import_getopt(argc, argv, &account, &flags, &json, &pp,
	    &ret)) == -1)
		goto out;
	ret = 1;
	if (account != NULL && cli_addr(account, acct, NULL) == -1)
		goto out;
	if (account != NULL)
		account = acct;
	in.argc = argc - i;
	in.argv = argv + i;
	in.batch = import_batch();
	/*
	 * The first batch (all of a usual input) is read before the store
	 * is written to: a passphrase asked for holds up no other writer.
	 */
	if (store_begin(ctl, KS_RDONLY, &txn) == -1)
		goto out;
	more = import_next(&in, txn, &pp, &certs);
	ks_txn_abort(txn);
	txn = NULL;
	if (more == -1)
		goto out;
	pgp_precheck(&certs);
	if (store_begin(ctl, 0, &txn) == -1)
		goto out;
	if (account != NULL && import_account(txn, account, acct) == -1)
		goto abort;
	io_progress_start(&pg, "import: keys", more ? 0 : certs.n);
	for (;;) {
		rc = import_keys(txn, account, &certs, flags, &pg, &rep);
		if (rc == -1)
			goto abort;
		if (!more)
			break;
		/*
		 * A large input: this batch done, on to the next.  Its keys
		 * are reported once committed, never before: what the
		 * standard output says is stored is, even if wkdctl is
		 * killed the next moment (tests/integ/t_crash.sh).
		 */
		batched = 1;
		pg.before += certs.n;
		if (!(flags & IMPORT_STRICT)) {
			rc = store_commit(ctl, txn);
			txn = NULL;
			if (rc == -1)
				goto abort;
		}
		import_batch_print(&rep, &tot, json);
		import_report_free(&rep);
		pgp_certs_free(&certs);
		memset(&certs, 0, sizeof(certs));
		if (!(flags & IMPORT_STRICT)) {
			stored = 1;
			if (store_begin(ctl, 0, &txn) == -1)
				goto abort;
		}
		if ((more = import_next(&in, txn, &pp, &certs)) == -1)
			goto abort;
		pgp_precheck(&certs);
	}
	io_progress_end(&pg);
	if (batched) {
		all = tot;
		import_add(&all, &rep);
		ret = import_status(&all);
		if (ret == 1) {
			ks_txn_abort(txn);
			txn = NULL;
		} else if (store_commit(ctl, txn) == -1) {
			txn = NULL;
			goto abort;
		}
		import_batch_print(&rep, &tot, json);
		import_batch_end(&tot, json, ret != 1);
		if (ret == 1)
			warnx("import failed: no key was imported");
		goto out;
	}
	if (import_status(&rep) == 1)
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
	io_progress_end(&pg);
	if (txn != NULL)
		ks_txn_abort(txn);
	ret = 1;
	if (batched) {
		/* The batch that failed is not stored: not on stdout. */
		if (json)
			import_batch_print(&rep, &tot, json);
		else {
			import_print(stderr, stderr, &rep);
			import_add(&tot, &rep);
		}
		import_batch_end(&tot, json, 0);
		if (stored)
			warnx("import failed: the keys of the batches before "
			    "are stored (see above), nothing after");
		else
			warnx("import failed: the store is unchanged");
		goto out;
	}
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
	import_close(&in);
	import_report_free(&rep);
	pgp_certs_free(&certs);
	return (ret);
}
