/*
 * sync.c: account sync: a provider's whole user base from one file, a line
 * per account, its primary address and then its aliases, tab-separated.
 *
 * Sync only adds: new accounts, and new aliases of existing accounts.
 * What the store holds and the file lacks stays (removal is explicit:
 * account remove, alias remove), because a binding is for good and a
 * truncated export must not take a user base down.  A line that can't be
 * applied as written (an address bound to another account, a retired
 * alias, a removed account, an address in a domain not hosted, a malformed
 * one) is a conflict: reported, and nothing of it applied; the other lines
 * are.  An address on more than one line is a conflict on each of them,
 * whatever their order: binding it to either account would be for good,
 * and the file doesn't say which one it meant.
 *
 * "#" starts a comment only as a line's first non-blank character: it
 * may be part of an address's local part.
 *
 * Scale: the file is read once, a bounded line at a time, into normalised
 * addresses; addresses on two lines are found by sorting them (n log n),
 * and then each address costs a ks_addr_get() (and a ks_domain_get() if
 * new): no line scans the store.  The whole sync is one transaction.
 *
 * A new alias of an existing account may be published at once from a
 * stored key (account_alias_add()), and finding out scans the account's
 * addresses and every stored key: too much for each of thousands of
 * aliases.  So the first such alias reads every stored key once, for the
 * addresses they have a valid UID for; an alias no key has one for can't
 * be published by any (publish_stored() needs such a UID) and is only
 * bound, as account_alias_add() would bind it.  The others go through
 * account_alias_add(), which decides.
 */

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"
#include "wkdctl.h"

/* An address of the file, for finding the ones on several lines. */
struct sync_ref {
	const char	*addr;
	size_t		 line;		/* Index in r->v. */
	size_t		 idx;		/* In the line: 0 is the primary. */
};

/* Has a stored key a valid UID for addr?  found: 1 if so. */
struct sync_uids {
	const char	*addr;
	int		 found;
};

/* A conflict's reason, formatted into a new string: 0, or -1 (warned). */
static int
sync_why(char **whyp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
sync_why(char **whyp, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[2 * KS_ADDR_MAX + 128];

	if (*whyp != NULL)
		return (0);	/* The first reason found is the one given. */
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((*whyp = strdup(buf)) == NULL) {
		warn(NULL);
		return (-1);
	}
	return (0);
}

/*
 * Text as read, for the report: a malformed address may hold anything.
 * Bytes that aren't printable ASCII or part of well-formed UTF-8 become
 * '?', so that the report (and its JSON) stays text.
 */
static char *
sync_printable(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out;
	size_t			 i, j, n, len = strlen(s);

	if ((out = malloc(len + 1)) == NULL)
		return (NULL);
	for (i = 0; i < len; i++) {
		n = 0;
		if (p[i] >= 0xc2 && p[i] <= 0xdf)
			n = 1;
		else if ((p[i] & 0xf0) == 0xe0)
			n = 2;
		else if (p[i] >= 0xf0 && p[i] <= 0xf4)
			n = 3;
		for (j = 1; n > 0 && j <= n; j++)
			if (i + j >= len || (p[i + j] & 0xc0) != 0x80)
				n = 0;
		/* No overlong forms, surrogates or code points over 10FFFF. */
		if (n > 0 && ((p[i] == 0xe0 && p[i + 1] < 0xa0) ||
		    (p[i] == 0xed && p[i + 1] >= 0xa0) ||
		    (p[i] == 0xf0 && p[i + 1] < 0x90) ||
		    (p[i] == 0xf4 && p[i + 1] >= 0x90)))
			n = 0;
		if (n > 0) {
			memcpy(out + i, s + i, n + 1);
			i += n;
		} else
			out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? s[i] : '?';
	}
	out[len] = '\0';
	return (out);
}

/*
 * Read a line of fp into buf (bufsz bytes, NUL-terminated, without its
 * newline).  A fixed buffer rather than getline(3), which would grow to
 * the length of whatever a file holds without a newline.  Returns 1 if a
 * line was read, 0 at the end of the file, -1 on a read error (errno);
 * *toolong is set if the line didn't fit (its rest is skipped), *nul if
 * it held a NUL byte.
 */
static int
sync_getline(FILE *fp, char *buf, size_t bufsz, int *toolong, int *nul)
{
	size_t	 len = 0;
	int	 c;

	*toolong = *nul = 0;
	while ((c = getc(fp)) != EOF && c != '\n') {
		if (c == '\0')
			*nul = 1;
		if (len + 1 < bufsz)
			buf[len++] = c;
		else
			*toolong = 1;
	}
	buf[len] = '\0';
	if (c == EOF && ferror(fp))
		return (-1);
	if (c == EOF && len == 0 && !*toolong && !*nul)
		return (0);
	return (1);
}

/* A new line in r, numbered lineno: NULL after warning. */
static struct sync_line *
sync_line_new(struct sync_report *r, size_t lineno)
{
	struct sync_line	*nv, *l;

	if (r->n == r->cap) {
		if ((nv = reallocarray(r->v, r->cap ? r->cap * 2 : 64,
		    sizeof(*nv))) == NULL) {
			warn(NULL);
			return (NULL);
		}
		r->v = nv;
		r->cap = r->cap ? r->cap * 2 : 64;
	}
	l = &r->v[r->n++];
	memset(l, 0, sizeof(*l));
	l->lineno = lineno;
	return (l);
}

/*
 * Split buf (one account line) at its tabs into l's addresses, each
 * normalised or, if it isn't an address, kept as a conflict.  Empty
 * fields after the first (a trailing tab) are skipped; an empty first one
 * is a conflict, as the first alias must not become the primary.  0, or
 * -1 after warning.
 */
static int
sync_split(char *buf, struct sync_line *l)
{
	struct sync_addr	*a;
	char			 norm[KS_ADDR_MAX];
	char			*p, *f;
	size_t			 n;

	if (buf[0] == '\t')
		return (sync_why(&l->why, "no primary address (the line "
		    "starts with a tab)"));
	for (n = 1, p = buf; *p != '\0'; p++)
		if (*p == '\t')
			n++;
	if ((l->v = calloc(n, sizeof(*l->v))) == NULL) {
		warn(NULL);
		return (-1);
	}
	for (p = buf; (f = strsep(&p, "\t")) != NULL;) {
		if (*f == '\0')
			continue;
		a = &l->v[l->n++];
		if (ks_addr_norm(f, norm, sizeof(norm), NULL, 0) == KS_OK) {
			a->norm = 1;
			a->addr = strdup(norm);
		} else
			a->addr = sync_printable(f);
		if (a->addr == NULL) {
			warn(NULL);
			return (-1);
		}
		if (!a->norm) {
			a->what = SYNC_CONFLICT;
			if (sync_why(&a->why, "not a mail address") == -1)
				return (-1);
		}
	}
	return (0);
}

static int
sync_ref_cmp(const void *va, const void *vb)
{
	const struct sync_ref	*a = va, *b = vb;
	int			 c;

	if ((c = strcmp(a->addr, b->addr)) != 0)
		return (c);
	if (a->line != b->line)
		return (a->line < b->line ? -1 : 1);
	if (a->idx != b->idx)
		return (a->idx < b->idx ? -1 : 1);
	return (0);
}

/*
 * Every address on more than one line (or twice on one) is a conflict on
 * each of them, naming the other: found by sorting them all.  0, or -1.
 */
static int
sync_dups(struct sync_report *r)
{
	struct sync_ref		*refs, *me, *other;
	struct sync_addr	*a;
	size_t			 i, j, k, s, n = 0;
	int			 ret = -1;

	for (i = 0; i < r->n; i++)
		n += r->v[i].n;
	if (n == 0)
		return (0);
	if ((refs = calloc(n, sizeof(*refs))) == NULL) {
		warn(NULL);
		return (-1);
	}
	for (n = 0, i = 0; i < r->n; i++)
		for (j = 0; j < r->v[i].n; j++) {
			if (!r->v[i].v[j].norm)
				continue;
			refs[n].addr = r->v[i].v[j].addr;
			refs[n].line = i;
			refs[n++].idx = j;
		}
	qsort(refs, n, sizeof(*refs), sync_ref_cmp);
	for (s = 0; s < n; s = i) {
		for (i = s + 1; i < n &&
		    strcmp(refs[i].addr, refs[s].addr) == 0; i++)
			;
		if (i - s == 1)
			continue;
		for (k = s; k < i; k++) {
			me = &refs[k];
			other = &refs[k == s ? s + 1 : s];
			a = &r->v[me->line].v[me->idx];
			a->what = SYNC_CONFLICT;
			if (sync_why(&a->why, other->line == me->line ?
			    "listed twice on this line" : other->idx == 0 ?
			    "also the primary address on line %zu" :
			    "also an alias on line %zu",
			    r->v[other->line].lineno) == -1)
				goto out;
		}
	}
	ret = 0;
out:
	free(refs);
	return (ret);
}

int
sync_read(FILE *fp, const char *name, struct sync_report *r)
{
	struct sync_line	*l;
	char			*buf, *p;
	size_t			 lineno = 0, len;
	int			 rc, toolong, nul, ret = -1;

	memset(r, 0, sizeof(*r));
	if ((buf = malloc(SYNC_LINE_MAX + 1)) == NULL) {
		warn(NULL);
		return (-1);
	}
	while ((rc = sync_getline(fp, buf, SYNC_LINE_MAX + 1, &toolong,
	    &nul)) == 1) {
		lineno++;
		if ((len = strlen(buf)) > 0 && buf[len - 1] == '\r')
			buf[--len] = '\0';
		for (p = buf; *p == ' ' || *p == '\t'; p++)
			;
		if (!toolong && !nul && (*p == '\0' || *p == '#'))
			continue;
		if ((l = sync_line_new(r, lineno)) == NULL)
			goto out;
		if (toolong || nul) {
			l->what = SYNC_CONFLICT;
			if (sync_why(&l->why, toolong ? "line longer than %d "
			    "bytes" : "NUL byte in the line",
			    SYNC_LINE_MAX) == -1)
				goto out;
			continue;
		}
		if (sync_split(buf, l) == -1)
			goto out;
	}
	if (rc == -1) {
		warn("%s", name);
		goto out;
	}
	ret = sync_dups(r);
out:
	free(buf);
	return (ret);
}

static int
sync_uids_cb(const char *fpr, const unsigned char *data, size_t len,
    void *arg)
{
	struct sync_uids	*u = arg;
	struct pgp_cert		 m;
	size_t			 j;

	/* A key that can't be read might publish it. */
	if (pgp_merge(fpr, NULL, 0, data, len, &m) == -1)
		u->found = 1;
	for (j = 0; j < m.nuids && !u->found; j++)
		u->found = m.uids[j].kind == PGP_UID_OK &&
		    strcmp(m.uids[j].addr, u->addr) == 0;
	pgp_cert_free(&m);
	return (u->found);
}

/*
 * Might a stored key publish addr (one of the keys with a UID naming it)?
 * Returns 1 or 0, or -1 after warning.
 */
static int
sync_uids_has(struct ks_txn *txn, const char *addr)
{
	struct sync_uids	 u;
	int			 rc;

	u.addr = addr;
	u.found = 0;
	if ((rc = ks_cert_foreach_addr(txn, addr, sync_uids_cb, &u)) !=
	    KS_OK && rc != 1) {
		warnx("reading keys: %s", ks_strerror(rc));
		return (-1);
	}
	return (u.found);
}

/*
 * Look address a (index i of line l, l->v[0] its primary) up in the store:
 * unchanged, new (SYNC_ADDED), or a conflict.  0, or -1 after warning.
 */
static int
sync_check(struct ks_txn *txn, const struct sync_line *l, size_t i,
    struct sync_addr *a)
{
	struct ks_addr		 s;
	struct ks_domain	 d;
	const char		*primary = l->v[0].norm ? l->v[0].addr : NULL;
	char			 local[KS_ADDR_MAX], dom[KS_DOMAIN_MAX];
	int			 rc;

	if ((rc = ks_addr_get(txn, a->addr, &s)) == KS_NOTFOUND) {
		if (wkd_split(a->addr, local, sizeof(local), dom,
		    sizeof(dom)) == -1) {
			a->what = SYNC_CONFLICT;
			return (sync_why(&a->why, "not a mail address"));
		}
		if ((rc = ks_domain_get(txn, dom, &d)) == KS_NOTFOUND) {
			a->what = SYNC_CONFLICT;
			return (sync_why(&a->why, "domain %s is not hosted "
			    "(wkdctl domain add %s)", dom, dom));
		}
		if (rc != KS_OK) {
			warnx("%s: %s", dom, ks_strerror(rc));
			return (-1);
		}
		a->what = SYNC_ADDED;
		return (0);
	}
	if (rc != KS_OK) {
		warnx("%s: %s", a->addr, ks_strerror(rc));
		return (-1);
	}
	a->what = SYNC_CONFLICT;
	if (i == 0 && s.state == KS_ADDR_PRIMARY) {
		if (s.flags & KS_AF_REMOVED)
			return (sync_why(&a->why, "account removed (its "
			    "addresses are never reused)"));
		a->what = SYNC_UNCHANGED;
		return (0);
	}
	if (i > 0 && primary != NULL && strcmp(s.account, primary) == 0) {
		if (s.state == KS_ADDR_RETIRED)
			return (sync_why(&a->why, "retired alias of %s (wkdctl "
			    "alias add %s %s brings it back)", primary,
			    primary, a->addr));
		a->what = SYNC_UNCHANGED;
		return (0);
	}
	if (s.state == KS_ADDR_PRIMARY)
		return (sync_why(&a->why, "already an account%s",
		    s.flags & KS_AF_REMOVED ? " (removed; addresses are never "
		    "reused)" : ""));
	if (s.state == KS_ADDR_RETIRED)
		return (sync_why(&a->why, "retired alias of account %s "
		    "(addresses are never reused)", s.account));
	return (sync_why(&a->why, "bound to account %s", s.account));
}

/* Apply line l, whose addresses sync_check() found all well: 0 or -1. */
static int
sync_apply(struct ks_txn *txn, struct sync_line *l, char **aliases,
    struct sync_report *r)
{
	const char	*primary = l->v[0].addr;
	size_t		 i, n = 0;
	int		 pub;

	if (l->v[0].what == SYNC_ADDED) {
		for (i = 1; i < l->n; i++)
			if (l->v[i].what == SYNC_ADDED)
				aliases[n++] = l->v[i].addr;
		if (account_create(txn, primary, aliases, n) == -1)
			return (-1);
		l->what = SYNC_ADDED;
		r->added++;
		r->aliases += n;
		return (0);
	}
	for (i = 1; i < l->n; i++) {
		if (l->v[i].what != SYNC_ADDED)
			continue;
		if ((pub = sync_uids_has(txn, l->v[i].addr)) == -1)
			return (-1);
		if (pub == 0)
			pub = account_bind(txn, primary, l->v[i].addr,
			    KS_ADDR_ALIAS);
		else
			pub = account_alias_add(txn, primary, l->v[i].addr,
			    l->v[i].fpr);
		if (pub == -1)
			return (-1);
		if (pub == 0)
			l->v[i].fpr[0] = '\0';
		n++;
	}
	if (n == 0) {
		l->what = SYNC_UNCHANGED;
		r->unchanged++;
	} else {
		l->what = SYNC_CHANGED;
		r->aliases += n;
	}
	return (0);
}

int
sync_accounts(struct ks_txn *txn, struct io_progress *pg,
    struct sync_report *r)
{
	struct sync_line	*l;
	char			**aliases = NULL;
	size_t			 i, j, max = 0;
	int			 conflict, ret = -1;

	r->added = r->aliases = r->unchanged = r->conflicts = 0;
	for (i = 0; i < r->n; i++)
		if (r->v[i].n > max)
			max = r->v[i].n;
	if (max > 0 && (aliases = calloc(max, sizeof(*aliases))) == NULL) {
		warn(NULL);
		return (-1);
	}
	for (i = 0; i < r->n; i++) {
		io_progress(pg, i);
		l = &r->v[i];
		conflict = l->why != NULL;
		for (j = 0; j < l->n; j++) {
			if (l->v[j].what != SYNC_CONFLICT &&
			    sync_check(txn, l, j, &l->v[j]) == -1)
				goto out;
			if (l->v[j].what == SYNC_CONFLICT)
				conflict = 1;
		}
		if (!conflict) {
			if (sync_apply(txn, l, aliases, r) == -1)
				goto out;
			continue;
		}
		l->what = SYNC_CONFLICT;
		r->conflicts++;
		for (j = 0; j < l->n; j++)
			if (l->v[j].what == SYNC_ADDED)
				l->v[j].what = SYNC_SKIPPED;
	}
	ret = 0;
out:
	free(aliases);
	return (ret);
}

void
sync_report_free(struct sync_report *r)
{
	size_t	 i, j;

	for (i = 0; i < r->n; i++) {
		for (j = 0; j < r->v[i].n; j++) {
			free(r->v[i].v[j].addr);
			free(r->v[i].v[j].why);
		}
		free(r->v[i].v);
		free(r->v[i].why);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static const char *
sync_what(int what)
{
	switch (what) {
	case SYNC_ADDED:
		return ("added");
	case SYNC_CHANGED:
		return ("changed");
	case SYNC_UNCHANGED:
		return ("unchanged");
	case SYNC_CONFLICT:
		return ("conflict");
	case SYNC_SKIPPED:
		return ("skipped");
	default:
		return ("unknown");
	}
}

/* r as text: a line (or more) per account line, then the sums. */
static void
sync_print(FILE *fp, const char *name, const struct sync_report *r)
{
	const struct sync_line	*l;
	size_t			 i, j, k;

	for (i = 0; i < r->n; i++) {
		l = &r->v[i];
		if (l->what != SYNC_CONFLICT) {
			fprintf(fp, "%s:%zu: %s %s", name, l->lineno,
			    sync_what(l->what), l->v[0].addr);
			for (j = 1, k = 0; j < l->n; j++)
				if (l->v[j].what == SYNC_ADDED)
					fprintf(fp, "%s%s", k++ == 0 ?
					    " (aliases added: " : ", ",
					    l->v[j].addr);
			fprintf(fp, "%s\n", k > 0 ? ")" : "");
			for (j = 1; j < l->n; j++)
				if (l->v[j].fpr[0] != '\0')
					fprintf(fp, "  published at %s (key "
					    "%s)\n", l->v[j].addr,
					    l->v[j].fpr);
			continue;
		}
		/* A line per reason. */
		if (l->why != NULL)
			fprintf(fp, "%s:%zu: conflict: %s\n", name,
			    l->lineno, l->why);
		for (j = 0; j < l->n; j++)
			if (l->v[j].why != NULL)
				fprintf(fp, "%s:%zu: conflict: %s: %s\n", name,
				    l->lineno, l->v[j].addr, l->v[j].why);
	}
	fprintf(fp, "%zu lines: %zu accounts added, %zu aliases added, "
	    "%zu unchanged, %zu conflicts\n", r->n, r->added, r->aliases,
	    r->unchanged, r->conflicts);
}

void
sync_print_json(FILE *fp, const char *name, const struct sync_report *r,
    int dry, int written)
{
	const struct sync_line	*l;
	const struct sync_addr	*a;
	size_t			 i, j;

	fprintf(fp, "{\"file\":");
	io_json_str(fp, name);
	fprintf(fp, ",\"dry_run\":%s,\"written\":%s,\"lines\":[",
	    dry ? "true" : "false", written ? "true" : "false");
	for (i = 0; i < r->n; i++) {
		l = &r->v[i];
		fprintf(fp, "%s\n{\"line\":%zu,\"status\":\"%s\",\"primary\":",
		    i == 0 ? "" : ",", l->lineno, sync_what(l->what));
		if (l->n > 0)
			io_json_str(fp, l->v[0].addr);
		else
			fprintf(fp, "null");
		if (l->why != NULL) {
			fprintf(fp, ",\"reason\":");
			io_json_str(fp, l->why);
		}
		fprintf(fp, ",\"addresses\":[");
		for (j = 0; j < l->n; j++) {
			a = &l->v[j];
			fprintf(fp, "%s{\"address\":", j == 0 ? "" : ",");
			io_json_str(fp, a->addr);
			fprintf(fp, ",\"role\":\"%s\",\"status\":\"%s\"",
			    j == 0 ? "primary" : "alias", sync_what(a->what));
			if (a->why != NULL) {
				fprintf(fp, ",\"reason\":");
				io_json_str(fp, a->why);
			}
			if (a->fpr[0] != '\0')
				fprintf(fp, ",\"fpr\":\"%s\"", a->fpr);
			fprintf(fp, "}");
		}
		fprintf(fp, "]}");
	}
	fprintf(fp, "%s],\"summary\":{\"lines\":%zu,\"accounts_added\":%zu,"
	    "\"aliases_added\":%zu,\"unchanged\":%zu,\"conflicts\":%zu}}\n",
	    r->n > 0 ? "\n" : "", r->n, r->added, r->aliases, r->unchanged,
	    r->conflicts);
}

int
sync_cmd(struct ctl *ctl, int argc, char **argv)
{
	struct io_progress	 pg;
	struct sync_report	 r;
	struct ks_txn		*txn;
	FILE			*fp;
	const char		*name;
	int			 ch, rd, dry = 0, json = 0, written = 0, rc = 1;
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};

	/* argv[0] is "sync". */
	optind = 0;
	while ((ch = getopt_long(argc, argv, "nj", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			dry = 1;
			break;
		case 'j':
			json = 1;
			break;
		default:
			return (cli_usage(ACCOUNT_USAGE));
		}
	}
	if (argc - optind != 1)
		return (cli_usage(ACCOUNT_USAGE));
	name = argv[optind];
	if (strcmp(name, "-") == 0) {
		fp = stdin;
		name = "stdin";
	} else if ((fp = fopen(name, "re")) == NULL) {
		warn("%s", name);
		return (1);
	}
	/* The whole file is read before the write transaction begins. */
	rd = sync_read(fp, name, &r);
	if (fp != stdin)
		(void)fclose(fp);
	if (rd == -1)
		goto out;
	if (store_begin(ctl, 0, &txn) == -1)
		goto out;
	io_progress_start(&pg, "account sync: lines", r.n);
	rd = sync_accounts(txn, &pg, &r);
	io_progress_end(&pg);
	if (rd == -1) {
		warnx("%s: nothing changed", name);
		ks_txn_abort(txn);
		goto out;
	}
	/* Nothing to change: nothing written, not even a new page. */
	if (dry || (r.added == 0 && r.aliases == 0))
		ks_txn_abort(txn);
	else if (store_commit(ctl, txn) == -1)
		goto out;
	else
		written = 1;
	if (json)
		sync_print_json(stdout, name, &r, dry, written);
	else {
		sync_print(stdout, name, &r);
		if (dry)
			printf("dry run: nothing written\n");
	}
	rc = r.conflicts > 0 ? 1 : 0;
out:
	sync_report_free(&r);
	return (rc);
}
