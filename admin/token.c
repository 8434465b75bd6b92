/*
 * token.c: the admin API's tokens.  "wkdctl token add" makes one: a
 * 32-byte random secret, printed once, of which the store keeps only the
 * SHA-256 (ks_token_put()); "token list", "token revoke".  token_auth()
 * finds the token a presented secret is, comparing every stored hash in
 * constant time.
 */

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>

#include "keystore.h"
#include "wkdctl.h"

#define TOKEN_PREFIX	"wkd_"

/* A token name: 1 to 64 of [A-Za-z0-9._-], not starting with a dot. */
int
token_name_valid(const char *name)
{
	size_t	 i, len = strlen(name);

	if (len == 0 || len >= KS_TOKEN_NAME_MAX || name[0] == '.')
		return (0);
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '.' || name[i] == '_' || name[i] == '-'))
			return (0);
	return (1);
}

/* The SHA-256 of secret s. */
static int
token_hash(const char *s, unsigned char out[KS_TOKEN_HASH_LEN])
{
	return (gnutls_hash_fast(GNUTLS_DIG_SHA256, s, strlen(s), out) == 0 ?
	    0 : -1);
}

/* Equal, in time that depends only on the length. */
static int
token_eq(const unsigned char *a, const unsigned char *b, size_t len)
{
	volatile unsigned char	 d = 0;
	size_t			 i;

	for (i = 0; i < len; i++)
		d |= a[i] ^ b[i];
	return (d == 0);
}

int
token_scoped(const struct ks_token *tk, const char *domain)
{
	size_t	 i;

	if (tk->ndomains == 0)
		return (1);
	for (i = 0; i < tk->ndomains; i++)
		if (strcmp(tk->domains[i], domain) == 0)
			return (1);
	return (0);
}

struct token_find {
	unsigned char	 hash[KS_TOKEN_HASH_LEN];
	struct ks_token	*out;
	int		 found;
};

/* Every token is compared: the time doesn't say which one matched. */
static int
token_find_cb(const struct ks_token *tk, void *arg)
{
	struct token_find	*f = arg;

	if (token_eq(tk->hash, f->hash, KS_TOKEN_HASH_LEN) && !f->found) {
		*f->out = *tk;
		f->found = 1;
	}
	return (0);
}

int
token_auth(struct ks_txn *txn, const char *secret, struct ks_token *tk)
{
	struct token_find	 f;

	memset(&f, 0, sizeof(f));
	f.out = tk;
	if (strncmp(secret, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0 ||
	    strlen(secret) > 256 || token_hash(secret, f.hash) == -1)
		return (-1);
	if (ks_token_foreach(txn, token_find_cb, &f) != KS_OK)
		return (-1);
	gnutls_memset(f.hash, 0, sizeof(f.hash));
	return (f.found ? 0 : -1);
}

static int
token_add(struct ctl *ctl, int argc, char **argv)
{
	struct ks_token	 tk;
	struct ks_txn	*txn;
	unsigned char	 rnd[32];
	char		 secret[sizeof(TOKEN_PREFIX) + 2 * sizeof(rnd)];
	size_t		 i;
	int		 ch, rc;
	static const struct option longopts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "read-only", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&tk, 0, sizeof(tk));
	while ((ch = getopt_long(argc, argv, "d:r", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (tk.ndomains == KS_TOKEN_DOMAINS) {
				warnx("at most %d domains", KS_TOKEN_DOMAINS);
				return (1);
			}
			if (cli_domain(optarg, tk.domains[tk.ndomains]) == -1)
				return (1);
			tk.ndomains++;
			break;
		case 'r':
			tk.flags |= KS_TOKEN_RDONLY;
			break;
		default:
			return (cli_usage(TOKEN_USAGE));
		}
	}
	if (argc - optind != 1)
		return (cli_usage(TOKEN_USAGE));
	if (!token_name_valid(argv[optind])) {
		warnx("%s: a token name is 1 to %d letters, digits, '.', '_' "
		    "or '-'", argv[optind], KS_TOKEN_NAME_MAX - 1);
		return (1);
	}
	(void)snprintf(tk.name, sizeof(tk.name), "%s", argv[optind]);
	tk.ctime = time(NULL);
	if (gnutls_rnd(GNUTLS_RND_KEY, rnd, sizeof(rnd)) != 0) {
		warnx("no random bytes");
		return (1);
	}
	memcpy(secret, TOKEN_PREFIX, strlen(TOKEN_PREFIX));
	for (i = 0; i < sizeof(rnd); i++)
		(void)snprintf(secret + strlen(TOKEN_PREFIX) + 2 * i, 3,
		    "%02x", rnd[i]);
	gnutls_memset(rnd, 0, sizeof(rnd));
	if (token_hash(secret, tk.hash) == -1) {
		warnx("SHA-256 failed");
		return (1);
	}
	if (store_begin(ctl, 0, &txn) == -1)
		return (1);
	if ((rc = ks_token_put(txn, &tk)) != KS_OK) {
		warnx("token %s: %s", tk.name, rc == KS_EXISTS ?
		    "exists already" : store_strerror(rc));
		return (store_abort(txn));
	}
	if (audit_log(txn, tk.name, "token added%s%s",
	    tk.flags & KS_TOKEN_RDONLY ? ", read-only" : "",
	    tk.ndomains > 0 ? ", scoped" : "") != KS_OK)
		return (store_abort(txn));
	if (store_commit(ctl, txn) == -1)
		return (1);
	/* The one time the secret is seen. */
	printf("%s\n", secret);
	gnutls_memset(secret, 0, sizeof(secret));
	return (0);
}

static int
token_list_cb(const struct ks_token *tk, void *arg)
{
	char	 when[32];
	size_t	 i;

	(void)arg;
	io_date(tk->ctime, when, sizeof(when));
	printf("%s\t%s\t%s\t", tk->name, tk->flags & KS_TOKEN_RDONLY ?
	    "read-only" : "read-write", when);
	if (tk->ndomains == 0)
		printf("*");
	for (i = 0; i < tk->ndomains; i++)
		printf("%s%s", i == 0 ? "" : ",", tk->domains[i]);
	printf("\n");
	return (0);
}

static int
token_list(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn	*txn;
	int		 i, rc;

	if ((i = cli_noopts(argc, argv, TOKEN_USAGE)) < 0)
		return (-i);
	if (i != argc)
		return (cli_usage(TOKEN_USAGE));
	if (store_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	if ((rc = ks_token_foreach(txn, token_list_cb, NULL)) != KS_OK) {
		warnx("tokens: %s", store_strerror(rc));
		return (store_abort(txn));
	}
	ks_txn_abort(txn);
	return (0);
}

static int
token_revoke(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn	*txn;
	int		 i, rc;

	if ((i = cli_noopts(argc, argv, TOKEN_USAGE)) < 0)
		return (-i);
	if (argc - i != 1)
		return (cli_usage(TOKEN_USAGE));
	if (store_begin(ctl, 0, &txn) == -1)
		return (1);
	if ((rc = ks_token_del(txn, argv[i])) != KS_OK) {
		warnx("token %s: %s", argv[i], rc == KS_NOTFOUND ||
		    rc == KS_INVALID ? "no such token" : store_strerror(rc));
		return (store_abort(txn));
	}
	if (audit_log(txn, argv[i], "token revoked") != KS_OK)
		return (store_abort(txn));
	return (store_commit(ctl, txn) == -1 ? 1 : 0);
}

int
cmd_token(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2)
		return (cli_usage(TOKEN_USAGE));
	argc--;
	argv++;
	if (strcmp(argv[0], "add") == 0)
		return (token_add(ctl, argc, argv));
	if (strcmp(argv[0], "list") == 0)
		return (token_list(ctl, argc, argv));
	if (strcmp(argv[0], "revoke") == 0)
		return (token_revoke(ctl, argc, argv));
	warnx("token: unknown subcommand %s", argv[0]);
	return (cli_usage(TOKEN_USAGE));
}
