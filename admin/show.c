/*
 * show.c: what the store holds and serves: list, show, export (the bytes
 * served for an address) and hash (an address's WKD hashes and URLs).
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

/* What pgp_info() would say of a key, from the state recorded. */
static void
show_info(const struct ks_keystate *st, struct pgp_info *info)
{
	memset(info, 0, sizeof(*info));
	info->created = st->primary.created;
	info->expires = st->primary.expires;
	info->expired = info->expires != 0 && info->expires <= time(NULL);
	if ((info->revoked = st->primary.revoked)) {
		/* RNP's reading of the codes: 32 and others unspecified. */
		info->reason = st->reason >= PGP_REV_SUPERSEDED &&
		    st->reason <= PGP_REV_RETIRED ? st->reason :
		    PGP_REV_UNSPECIFIED;
		(void)snprintf(info->reason_text, sizeof(info->reason_text),
		    "%s", st->reason_text);
	}
}

int
show_state(struct ks_txn *txn, const char *fpr, char *buf, size_t bufsz)
{
	struct ks_blob		 b;
	struct ks_certinfo	 ci;
	struct pgp_info		 info;
	char			 when[32], sup[KS_FPR_MAX + 32];
	int			 rc;

	/* The state recorded at import; else (an earlier version's) RNP. */
	if ((rc = ks_certinfo_get(txn, fpr, &ci)) != KS_OK)
		memset(&ci, 0, sizeof(ci));
	if (ci.state.known)
		show_info(&ci.state, &info);
	else if ((rc = ks_cert_get(txn, fpr, &b)) != KS_OK) {
		(void)snprintf(buf, bufsz, "unknown (%s)", ks_strerror(rc));
		return (-1);
	} else {
		rc = pgp_info(fpr, b.data, b.len, &info);
		ks_blob_free(&b);
		if (rc == -1) {
			(void)snprintf(buf, bufsz, "unreadable");
			return (-1);
		}
	}
	sup[0] = '\0';
	if (ci.flags & KS_CERT_SUPERSEDED)
		(void)snprintf(sup, sizeof(sup), ", superseded by %s",
		    ci.successor);
	if (info.revoked)
		(void)snprintf(buf, bufsz, "revoked (%s%s%s)%s",
		    pgp_reason_name(info.reason),
		    info.reason_text[0] != '\0' ? ": " : "",
		    info.reason_text, sup);
	else if (info.expired) {
		io_date(info.expires, when, sizeof(when));
		(void)snprintf(buf, bufsz, "expired (since %s)%s", when, sup);
	} else
		(void)snprintf(buf, bufsz, "valid%s", sup);
	return (0);
}

int
show_list(struct ks_txn *txn, const char *domain, const char *account,
    int (*cb)(const struct show_item *, void *), void *arg)
{
	struct store_addrs	 l;
	struct show_item	 it;
	char			 local[KS_ADDR_MAX], ad[KS_DOMAIN_MAX];
	size_t			 i;
	int			 rc = 0;

	if ((domain != NULL ? store_addrs_domain(txn, domain, &l) :
	    store_addrs(txn, account, &l)) == -1)
		return (-1);
	for (i = 0; i < l.n && rc == 0; i++) {
		if (l.v[i].fpr[0] == '\0')
			continue;
		if (domain != NULL && (wkd_split(l.v[i].addr, local,
		    sizeof(local), ad, sizeof(ad)) == -1 ||
		    strcmp(ad, domain) != 0))
			continue;
		it.addr = l.v[i].addr;
		it.account = l.v[i].account;
		it.fpr = l.v[i].fpr;
		(void)show_state(txn, l.v[i].fpr, it.state, sizeof(it.state));
		rc = cb(&it, arg);
	}
	store_addrs_free(&l);
	return (rc == 0 ? 0 : -1);
}

/* cmd_list()'s callback: an item as text or JSON. */
struct list_out {
	int	 json;
	size_t	 n;
};

static int
list_cb(const struct show_item *it, void *arg)
{
	struct list_out	*o = arg;

	if (!o->json) {
		printf("%s\t%s\t%s\n", it->addr, it->fpr, it->state);
		return (0);
	}
	printf("%s{\"address\":", o->n++ == 0 ? "" : ",\n");
	io_json_str(stdout, it->addr);
	printf(",\"account\":");
	io_json_str(stdout, it->account);
	printf(",\"fpr\":");
	io_json_str(stdout, it->fpr);
	printf(",\"state\":");
	io_json_str(stdout, it->state);
	printf("}");
	return (0);
}

/*
 * list [--json] [domain]: every published address, its key and the key's
 * state; --json as an array of objects, for diffing against a provider's
 * own records.
 */
int
cmd_list(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn		*txn;
	struct list_out		 o;
	char			 d[KS_DOMAIN_MAX];
	int			 ch, rc;
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "j", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			o.json = 1;
			break;
		default:
			return (cli_usage(LIST_USAGE));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		return (cli_usage(LIST_USAGE));
	if (argc == 1 && cli_domain(argv[0], d) == -1)
		return (1);
	if (store_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	if (o.json)
		printf("[");
	rc = show_list(txn, argc == 1 ? d : NULL, NULL, list_cb, &o);
	ks_txn_abort(txn);
	if (rc == -1) {
		if (o.json)
			printf("]\n");
		return (1);
	}
	if (o.json)
		io_json_end(stdout, o.n);
	return (0);
}

void
show_keyinfo_free(struct show_keyinfo *k)
{
	free(k->describe);
	k->describe = NULL;
	store_addrs_free(&k->served);
}

int
show_key_info(struct ks_txn *txn, const char *fpr, struct show_keyinfo *k)
{
	struct ks_blob		 b, rv;
	struct store_addrs	 l;
	struct pgp_info		 info;
	const unsigned char	*sig;
	FILE			*fp;
	size_t			 i, slen, dlen = 0;
	int			 rc, ret = -1;

	memset(k, 0, sizeof(*k));
	memset(&b, 0, sizeof(b));
	memset(&rv, 0, sizeof(rv));
	memset(&l, 0, sizeof(l));
	if ((rc = ks_cert_get(txn, fpr, &b)) != KS_OK) {
		warnx("key %s: %s", fpr, rc == KS_NOTFOUND ?
		    "not in the store" : ks_strerror(rc));
		return (-1);
	}
	if (store_addrs_key(txn, fpr, &l) == -1)
		goto out;
	(void)show_state(txn, fpr, k->state, sizeof(k->state));
	if ((rc = ks_revoc_get(txn, fpr, &rv)) != KS_OK &&
	    rc != KS_NOTFOUND) {
		warnx("key %s: revocation certificate: %s", fpr,
		    ks_strerror(rc));
		goto out;
	}
	k->hasrev = rc == KS_OK;
	if (pgp_info(fpr, b.data, b.len, &info) == 0) {
		k->info = 1;
		k->revoked = info.revoked;
		k->created = info.created;
		k->expires = info.expires;
		k->expired = info.expired;
	}
	k->size = b.len;
	if ((fp = open_memstream(&k->describe, &dlen)) == NULL) {
		warn(NULL);
		goto out;
	}
	/* Not readable by RNP: the rest is still said (show exits 1). */
	k->undescribed = pgp_describe(fp, "", b.data, b.len) == -1;
	if (fclose(fp) != 0) {
		warn(NULL);
		goto out;
	}
	/* Published at: the addresses serving it now. */
	for (i = 0; i < l.n; i++)
		if (strcmp(l.v[i].fpr, fpr) == 0 &&
		    store_addrs_cb(&l.v[i], &k->served) != 0) {
			warn(NULL);
			goto out;
		}
	if (k->hasrev)
		(void)pgp_revoc_pick(fpr, b.data, b.len, rv.data, rv.len, -1,
		    &sig, &slen, &k->revreasons);
	ret = 0;
out:
	if (ret == -1)
		show_keyinfo_free(k);
	store_addrs_free(&l);
	ks_blob_free(&rv);
	ks_blob_free(&b);
	return (ret);
}

static int
show_key(struct ctl *ctl, const char *fpr)
{
	struct ks_txn		*txn;
	struct show_keyinfo	 k;
	char			 when[32];
	size_t			 i;
	int			 r, rc;
	const char		*p, *nl;

	if (store_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	rc = show_key_info(txn, fpr, &k);
	ks_txn_abort(txn);
	if (rc == -1)
		return (1);
	printf("key %s\n", fpr);
	printf("  state: %s\n", k.state);
	if (k.info) {
		io_date(k.created, when, sizeof(when));
		printf("  created: %s\n", when);
		if (k.expires != 0) {
			io_date(k.expires, when, sizeof(when));
			printf("  %s: %s\n", k.expired ? "expired" :
			    "expires", when);
		} else
			printf("  expires: never\n");
	}
	printf("  size: %zu bytes (stored certificate)\n", k.size);
	for (p = k.describe; p != NULL && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		printf("  %.*s\n", (int)(nl - p + (*nl != '\n')), p);
	}
	for (i = 0; i < k.served.n; i++)
		printf("  published at: %s\n", k.served.v[i].addr);
	if (!k.hasrev)
		printf("  revocation certificate: none stored\n");
	else if (k.revreasons == 0 && k.revoked)
		printf("  revocation certificate: stored, no longer needed "
		    "(the key is revoked)\n");
	else {
		printf("  revocation certificate: stored");
		for (r = 0; r < 4; r++)
			if (k.revreasons & (1U << r))
				printf("%s%s", (k.revreasons &
				    ((1U << r) - 1)) ? ", " : " (reasons: ",
				    pgp_reason_name(r));
		printf("%s; not shown (wkdctl export-revocation)\n",
		    k.revreasons != 0 ? ")" : "");
	}
	rc = k.undescribed ? 1 : 0;
	show_keyinfo_free(&k);
	return (rc);
}

static int
show_addr(struct ctl *ctl, const char *in)
{
	struct ks_txn	*txn;
	struct ks_addr	 a;
	struct ks_blob	 b;
	char		 addr[KS_ADDR_MAX], domain[KS_DOMAIN_MAX];
	char		 ascii[KS_HASH_LEN + 1], uni[KS_HASH_LEN + 1];
	char		 kstate[512];
	struct ks_facts	 f;
	int		 rc, facts;

	memset(&b, 0, sizeof(b));
	if (cli_lookup(ctl, in, addr, domain, &txn, &a) == -1)
		return (1);
	if (wkd_hashes(addr, ascii, uni, NULL) != KS_OK) {
		warnx("%s: cannot hash", addr);
		ks_txn_abort(txn);
		return (1);
	}
	if (a.fpr[0] != '\0' && (rc = ks_wkd_get(txn, domain, ascii, &b)) !=
	    KS_OK && rc != KS_NOTFOUND) {
		warnx("%s: %s", addr, ks_strerror(rc));
		ks_txn_abort(txn);
		return (1);
	}
	if (a.fpr[0] != '\0')
		(void)show_state(txn, a.fpr, kstate, sizeof(kstate));
	/* What the web page's lookup says (wkdd(8), THE WEB PAGE). */
	facts = a.fpr[0] != '\0' && ks_facts_get(txn, domain, ascii, &f) ==
	    KS_OK;
	ks_txn_abort(txn);
	printf("address %s\n", addr);
	printf("  account: %s\n", a.account);
	printf("  state: %s%s%s\n", store_state(a.state),
	    a.flags & KS_AF_UNPUBLISHED ? ", unpublished by the operator" : "",
	    a.flags & KS_AF_REMOVED ? ", account removed" : "");
	printf("  hash: %s\n", ascii);
	if (uni[0] != '\0')
		printf("  unicode-hash: %s\n", uni);
	if (a.fpr[0] != '\0') {
		printf("  key: %s\n", a.fpr);
		printf("  key state: %s\n", kstate);
		printf("  served: %zu bytes, etag %s\n", b.len, b.etag);
		if (facts)
			printf("  lookup facts: %s, %s%s\n", f.fpr, f.uid,
			    f.state.known ? "" : " (state not recorded)");
		else
			printf("  lookup facts: none (wkdctl republish records "
			    "them)\n");
	} else
		printf("  key: none published\n");
	ks_blob_free(&b);
	return (0);
}

int
cmd_show(struct ctl *ctl, int argc, char **argv)
{
	char	 fpr[KS_FPR_MAX];

	if (argc != 2 || argv[1][0] == '-')
		return (cli_usage(SHOW_USAGE));
	if (strchr(argv[1], '@') == NULL) {
		if (cli_fpr(argv[1], fpr) == -1) {
			warnx("%s: neither an address nor a fingerprint",
			    argv[1]);
			return (1);
		}
		return (show_key(ctl, fpr));
	}
	return (show_addr(ctl, argv[1]));
}

int
show_export(struct ks_txn *txn, const char *addr, const char *key,
    struct ks_blob *b)
{
	struct ks_addr	 a;
	int		 rc;

	memset(b, 0, sizeof(*b));
	if (key != NULL) {
		if ((rc = ks_cert_get(txn, key, b)) != KS_OK) {
			warnx("key %s: %s", key, rc == KS_NOTFOUND ?
			    "not in the store" : ks_strerror(rc));
			return (-1);
		}
		return (0);
	}
	if (store_addr(txn, addr, &a) == -1)
		return (-1);
	if (a.fpr[0] == '\0') {
		warnx("%s: no key published", addr);
		return (-1);
	}
	if ((rc = wkd_get(txn, addr, b)) != KS_OK) {
		warnx("%s: %s", addr, ks_strerror(rc));
		return (-1);
	}
	return (0);
}

/* Write b to out (NULL: stdout); 0, or -1 after warning. */
static int
show_write(const char *out, const struct ks_blob *b)
{
	int	 fd, rc;

	if (out == NULL)
		fd = STDOUT_FILENO;
	else if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		warn("%s", out);
		return (-1);
	}
	rc = io_write_all(fd, b->data, b->len);
	if (out != NULL && close(fd) == -1)
		rc = -1;
	if (rc == -1)
		warn("%s", out != NULL ? out : "stdout");
	return (rc);
}

int
cmd_export(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn	*txn;
	struct ks_blob	 b;
	const char	*out = NULL;
	char		 addr[KS_ADDR_MAX], fpr[KS_FPR_MAX], *arm;
	size_t		 alen;
	int		 ch, key = 0, armor = 0, rc;
	static const struct option longopts[] = {
		{ "armor", no_argument, NULL, 'a' },
		{ "key", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};

	while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'k':
			key = 1;
			break;
		case 'a':
			armor = 1;
			break;
		default:
			return (cli_usage(EXPORT_USAGE));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return (cli_usage(EXPORT_USAGE));
	/* A fingerprint names a stored key, as --key does. */
	if (strchr(argv[0], '@') == NULL && cli_fpr(argv[0], fpr) == 0)
		key = 1;
	else if (key) {
		warnx("%s: not a fingerprint", argv[0]);
		return (1);
	} else if (cli_addr(argv[0], addr, NULL) == -1)
		return (1);
	if (out == NULL && !armor && isatty(STDOUT_FILENO)) {
		warnx("refusing to write binary data to a terminal "
		    "(use -o file)");
		return (1);
	}
	if (store_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	rc = show_export(txn, addr, key ? fpr : NULL, &b);
	ks_txn_abort(txn);
	if (rc == -1)
		return (1);
	if (armor) {
		rc = pgp_armor(b.data, b.len, &arm, &alen);
		ks_blob_free(&b);
		if (rc == -1) {
			warnx("%s: cannot armor the key", argv[0]);
			return (1);
		}
		b.data = (unsigned char *)arm;
		b.len = alen;
	}
	rc = show_write(out, &b);
	ks_blob_free(&b);
	return (rc == -1 ? 1 : 0);
}

int
cmd_hash(struct ctl *ctl, int argc, char **argv)
{
	char	 addr[KS_ADDR_MAX], domain[KS_DOMAIN_MAX];
	char	 local[KS_ADDR_MAX], rawdom[KS_ADDR_MAX];
	char	 l[3 * KS_ADDR_MAX];
	char	 ascii[KS_HASH_LEN + 1], uni[KS_HASH_LEN + 1];

	(void)ctl;
	if (argc != 2 || argv[1][0] == '-')
		return (cli_usage(HASH_USAGE));
	if (cli_addr(argv[1], addr, domain) == -1)
		return (1);
	if (wkd_hashes(addr, ascii, uni, NULL) != KS_OK ||
	    wkd_split(argv[1], local, sizeof(local), rawdom,
	    sizeof(rawdom)) == -1 || io_pct(local, l, sizeof(l)) == -1) {
		warnx("%s: cannot hash", argv[1]);
		return (1);
	}
	printf("hash %s\n", ascii);
	printf("advanced https://openpgpkey.%s/.well-known/openpgpkey/%s/hu/"
	    "%s?l=%s\n", domain, domain, ascii, l);
	printf("direct https://%s/.well-known/openpgpkey/hu/%s?l=%s\n",
	    domain, ascii, l);
	if (uni[0] != '\0')
		printf("unicode-hash %s\n", uni);
	return (0);
}
