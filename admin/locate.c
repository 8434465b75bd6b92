/*
 * locate.c: "wkdctl locate": another domain's key for an address, as a
 * mail client finds it.  WKD as GnuPG does it: the advanced method if
 * openpgpkey.DOMAIN has an address, else the direct one, never both; on a
 * miss the policy file says whether the domain does WKD at all.  Then the
 * validating key server (VKS) by-email.  What is accepted: at most
 * KS_BLOB_MAX bytes of OpenPGP packets (binary or armored), no secret key,
 * a key with a valid self-signed User ID for exactly that address; it is
 * printed shaped as wkdd publishes (pgp_shape(): that UID alone).  Nothing
 * is stored.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "keystore.h"
#include "wkdctl.h"

#define LOCATE_TRIES	4

struct locate_try {
	const char	*method;	/* wkd-advanced, wkd-direct, vks */
	char		 url[1024];	/* Without the query (l=). */
	char		 err[512];	/* "" if it gave the key. */
};

struct locate {
	char		 addr[KS_ADDR_MAX];
	char		 local[KS_ADDR_MAX];
	char		 domain[KS_DOMAIN_MAX];
	char		 hash[KS_HASH_LEN + 1];
	const char	*cafile;
	struct locate_try tries[LOCATE_TRIES];
	size_t		 ntries;
	/* The answer: the try that gave it, the key shaped. */
	const struct locate_try *from;
	char		 fpr[KS_FPR_MAX];
	int		 revoked, expired;
	unsigned char	*blob;
	size_t		 len;
};

int
locate_vks_url(const char *base, const char *what, const char *arg,
    char *out, size_t outsz)
{
	size_t	 bl = strlen(base);
	int	 n;

	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	n = snprintf(out, outsz, "%.*s/vks/v1/%s/%s", (int)bl, base, what,
	    arg);
	return (n < 0 || (size_t)n >= outsz ? -1 : 0);
}

int
locate_pick(const char *name, const unsigned char *data, size_t len,
    const char *addr, struct pgp_cert *out, ssize_t *uidx, char *err,
    size_t errsz)
{
	struct pgp_certs	 certs;
	struct pgp_cert		 m;
	char			 other[256];
	size_t			 i, j, ol = 0;
	int			 best = -1, n;

	memset(out, 0, sizeof(*out));
	*uidx = -1;
	memset(&certs, 0, sizeof(certs));
	other[0] = '\0';
	if (pgp_accept(name, data, len, &certs, err, errsz) == -1) {
		pgp_certs_free(&certs);
		return (-1);
	}
	for (i = 0; i < certs.n; i++) {
		if (pgp_merge(certs.v[i].fpr, NULL, 0, certs.v[i].data,
		    certs.v[i].len, &m) == -1)
			continue;
		for (j = 0; j < m.nuids; j++) {
			if (m.uids[j].kind != PGP_UID_OK ||
			    strcasecmp(m.uids[j].addr, addr) != 0) {
				if (m.uids[j].addr[0] != '\0' && ol <
				    sizeof(other) - 1) {
					n = snprintf(other + ol,
					    sizeof(other) - ol, "%s%s%s",
					    ol > 0 ? ", " : "",
					    m.uids[j].addr,
					    m.uids[j].kind == PGP_UID_OK ? "" :
					    m.uids[j].kind == PGP_UID_REVOKED ?
					    " (revoked)" :
					    " (not validly self-signed)");
					if (n > 0)
						ol += (size_t)n;
					if (ol >= sizeof(other))
						ol = sizeof(other) - 1;
				}
				continue;
			}
			/* The first key that fits; an unrevoked one over it. */
			if (best == -1 || (out->revoked && !m.revoked)) {
				pgp_cert_free(out);
				*out = m;
				memset(&m, 0, sizeof(m));
				*uidx = (ssize_t)j;
				best = (int)i;
			}
			break;
		}
		pgp_cert_free(&m);
	}
	pgp_certs_free(&certs);
	if (best != -1)
		return (0);
	if (ol > 0)
		(void)snprintf(err, errsz, "no valid self-signed User ID for "
		    "%s (it has: %s)", addr, other);
	else
		(void)snprintf(err, errsz, "no valid self-signed User ID for "
		    "%s", addr);
	return (-1);
}

/* One GET of the key at url (query: the l= part, or ""); 0 if it gave it. */
static int
locate_try(struct locate *L, const char *method, const char *url,
    const char *query, const char *policy)
{
	struct locate_try	*t = &L->tries[L->ntries++];
	struct https_resp	 r, pr;
	struct pgp_cert		 m;
	ssize_t			 ui;
	char			 full[1536], perr[256];

	t->method = method;
	(void)snprintf(t->url, sizeof(t->url), "%s", url);
	if (snprintf(full, sizeof(full), "%s%s", url, query) >=
	    (int)sizeof(full)) {
		(void)snprintf(t->err, sizeof(t->err), "URL too long");
		return (-1);
	}
	if (https_fetch(full, L->cafile, KS_BLOB_MAX, &r, t->err,
	    sizeof(t->err)) == -1)
		return (-1);
	if (r.status != 200) {
		(void)snprintf(t->err, sizeof(t->err), "no key (status %d)",
		    r.status);
		https_resp_free(&r);
		/* As dirmngr after a miss: does the domain do WKD at all? */
		if (policy == NULL)
			return (-1);
		if (https_fetch(policy, L->cafile, 64 * 1024, &pr, perr,
		    sizeof(perr)) == -1 || pr.status != 200)
			(void)snprintf(t->err + strlen(t->err),
			    sizeof(t->err) - strlen(t->err), "; no policy "
			    "file either: %s does not support WKD",
			    L->domain);
		https_resp_free(&pr);
		return (-1);
	}
	/* Redirected: the URL that gave it, without its query. */
	if (r.url != NULL && strcmp(r.url, full) != 0)
		(void)snprintf(t->url, sizeof(t->url), "%.*s",
		    (int)strcspn(r.url, "?"), r.url);
	if (locate_pick(url, r.body, r.bodylen, L->addr, &m, &ui,
	    t->err, sizeof(t->err)) == -1) {
		https_resp_free(&r);
		return (-1);
	}
	https_resp_free(&r);
	if (pgp_shape(&m, m.uids[ui].text, &L->blob, &L->len) == -1) {
		(void)snprintf(t->err, sizeof(t->err), "key %s can't be "
		    "shaped to its User ID", m.fpr);
		pgp_cert_free(&m);
		return (-1);
	}
	(void)snprintf(L->fpr, sizeof(L->fpr), "%s", m.fpr);
	L->revoked = m.revoked;
	L->expired = m.expired;
	L->from = t;
	pgp_cert_free(&m);
	return (0);
}

/* WKD, then VKS (vks NULL: not asked).  0 if found, -1 if not. */
static int
locate_run(struct locate *L, const char *vks)
{
	struct addrinfo	 hints, *res = NULL;
	char		 host[KS_DOMAIN_MAX + 16], url[1024], policy[1024];
	char		 l[3 * KS_ADDR_MAX + 4], q[3 * KS_ADDR_MAX + 8];
	char		 pa[3 * KS_ADDR_MAX + 4];
	int		 adv;

	if (io_pct(L->local, l, sizeof(l)) == -1)
		return (-1);
	(void)snprintf(q, sizeof(q), "?l=%s", l);
	(void)snprintf(host, sizeof(host), "openpgpkey.%s", L->domain);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* GnuPG: the advanced method only if the subdomain has an address. */
	adv = getaddrinfo(host, NULL, &hints, &res) == 0;
	if (res != NULL)
		freeaddrinfo(res);
	if (adv) {
		(void)snprintf(url, sizeof(url), "https://%s/.well-known/"
		    "openpgpkey/%s/hu/%s", host, L->domain, L->hash);
		(void)snprintf(policy, sizeof(policy), "https://%s/"
		    ".well-known/openpgpkey/%s/policy", host, L->domain);
		if (locate_try(L, "wkd-advanced", url, q, policy) == 0)
			return (0);
	} else {
		(void)snprintf(url, sizeof(url), "https://%s/.well-known/"
		    "openpgpkey/hu/%s", L->domain, L->hash);
		(void)snprintf(policy, sizeof(policy), "https://%s/"
		    ".well-known/openpgpkey/policy", L->domain);
		if (locate_try(L, "wkd-direct", url, q, policy) == 0)
			return (0);
	}
	if (vks == NULL)
		return (-1);
	if (io_pct(L->addr, pa, sizeof(pa)) == -1 ||
	    locate_vks_url(vks, "by-email", pa, url, sizeof(url)) == -1) {
		warnx("--vks %s: URL too long", vks);
		return (-1);
	}
	return (locate_try(L, "vks", url, "", NULL));
}

/* The key armored, NUL-terminated (for JSON): 0 or -1. */
static int
locate_armor(const struct locate *L, char **armorp, size_t *lenp)
{
	char	*a, *na;
	size_t	 len;

	if (pgp_armor(L->blob, L->len, &a, &len) == -1)
		return (-1);
	if ((na = realloc(a, len + 1)) == NULL) {
		free(a);
		return (-1);
	}
	na[len] = '\0';
	*armorp = na;
	*lenp = len;
	return (0);
}

/* The answer as --json prints it (key: armored, or NULL); NULL: no memory. */
static json_t *
locate_json(const struct locate *L, const char *armor)
{
	json_t	*o, *tried, *t;
	size_t	 i;

	if ((o = json_object()) == NULL || (tried = json_array()) == NULL) {
		json_decref(o);
		return (NULL);
	}
	json_object_set_new(o, "address", json_string(L->addr));
	json_object_set_new(o, "found", json_boolean(L->from != NULL));
	if (L->from != NULL) {
		json_object_set_new(o, "method", json_string(L->from->method));
		json_object_set_new(o, "url", json_string(L->from->url));
		json_object_set_new(o, "fingerprint", json_string(L->fpr));
		json_object_set_new(o, "revoked", json_boolean(L->revoked));
		json_object_set_new(o, "expired", json_boolean(L->expired));
		json_object_set_new(o, "bytes",
		    json_integer((json_int_t)L->len));
		json_object_set_new(o, "key", json_string(armor != NULL ?
		    armor : ""));
	}
	for (i = 0; i < L->ntries; i++) {
		t = json_pack("{s:s,s:s,s:o}", "method", L->tries[i].method,
		    "url", L->tries[i].url, "error",
		    L->tries[i].err[0] != '\0' ?
		    json_string(L->tries[i].err) : json_null());
		if (t == NULL || json_array_append_new(tried, t) == -1) {
			json_decref(tried);
			json_decref(o);
			return (NULL);
		}
	}
	if (json_object_set_new(o, "tried", tried) == -1) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

/* L for address addr (normalised): its parts and hash; -1 if none. */
static int
locate_init(struct locate *L, const char *addr, const char *cafile)
{
	char	 dom[KS_DOMAIN_MAX];

	memset(L, 0, sizeof(*L));
	L->cafile = cafile;
	(void)snprintf(L->addr, sizeof(L->addr), "%s", addr);
	if (wkd_split(L->addr, L->local, sizeof(L->local), dom,
	    sizeof(dom)) == -1 || ks_wkd_hash(L->local, strlen(L->local),
	    L->hash) != KS_OK)
		return (-1);
	(void)snprintf(L->domain, sizeof(L->domain), "%s", dom);
	return (0);
}

json_t *
locate_lookup(const char *addr, const char *vks, const char *cafile)
{
	struct locate	 L;
	json_t		*o;
	char		*armor = NULL;
	size_t		 alen;

	if (locate_init(&L, addr, cafile) == -1)
		return (NULL);
	if (locate_run(&L, vks) == 0 && locate_armor(&L, &armor,
	    &alen) == -1) {
		free(L.blob);
		return (NULL);
	}
	o = locate_json(&L, armor);
	free(armor);
	free(L.blob);
	return (o);
}

/* --json's output: 0, or -1. */
static int
locate_print_json(const struct locate *L, const char *armor)
{
	json_t	*o;
	int	 rc;

	if ((o = locate_json(L, armor)) == NULL) {
		warnx("out of memory");
		return (-1);
	}
	rc = json_dumpf(o, stdout, JSON_COMPACT);
	json_decref(o);
	return (rc == 0 && putchar('\n') != EOF ? 0 : -1);
}

int
cmd_locate(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,		NULL, 'j' },
		{ "vks",	required_argument,	NULL, 'k' },
		{ "no-vks",	no_argument,		NULL, 'n' },
		{ "ca",		required_argument,	NULL, 'c' },
		{ NULL,		0,			NULL, 0 }
	};
	struct locate	 L;
	const char	*vks = LOCATE_VKS, *outfile = NULL, *cafile = NULL;
	char		*armor = NULL, addr[KS_ADDR_MAX], dom[KS_DOMAIN_MAX];
	size_t		 alen = 0, i;
	int		 ch, json = 0, fd, ret = 1;

	(void)ctl;
	memset(&L, 0, sizeof(L));
	while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'k':
			vks = optarg;
			break;
		case 'n':
			vks = NULL;
			break;
		case 'c':
			cafile = optarg;
			break;
		case 'o':
			outfile = optarg;
			break;
		default:
			return (cli_usage(LOCATE_USAGE));
		}
	}
	if (argc - optind != 1)
		return (cli_usage(LOCATE_USAGE));
	if (vks != NULL && strncasecmp(vks, "https://", 8) != 0) {
		warnx("--vks %s: not an https URL", vks);
		return (EXIT_USAGE);
	}
	if (cli_addr(argv[optind], addr, dom) == -1)
		return (1);
	if (locate_init(&L, addr, cafile) == -1) {
		warnx("%s: cannot hash", argv[optind]);
		return (1);
	}
	if (locate_run(&L, vks) == 0 && locate_armor(&L, &armor,
	    &alen) == -1) {
		warnx("%s: cannot armor the key", L.addr);
		goto out;
	}
	for (i = 0; !json && i < L.ntries; i++)
		if (L.tries[i].err[0] != '\0')
			warnx("locate %s: %s %s: %s", L.addr,
			    L.tries[i].method, L.tries[i].url, L.tries[i].err);
	if (L.from == NULL) {
		if (json)
			(void)locate_print_json(&L, NULL);
		else
			warnx("locate %s: no acceptable key found", L.addr);
		goto out;
	}
	if (outfile != NULL) {
		if ((fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0644)) == -1) {
			warn("%s", outfile);
			goto out;
		}
		if (io_write_all(fd, L.blob, L.len) == -1 || close(fd) == -1) {
			warn("%s", outfile);
			goto out;
		}
	}
	if (json) {
		if (locate_print_json(&L, armor) == -1)
			goto out;
	} else {
		fprintf(stderr, "wkdctl: locate %s: key %s%s%s from %s %s\n",
		    L.addr, L.fpr, L.revoked ? " (revoked)" : "",
		    L.expired ? " (expired)" : "", L.from->method,
		    L.from->url);
		if (outfile == NULL && fwrite(armor, 1, alen, stdout) != alen)
			goto out;
	}
	ret = fflush(stdout) == 0 ? 0 : 1;
out:
	free(armor);
	free(L.blob);
	return (ret);
}
