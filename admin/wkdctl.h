/*
 * wkdctl.h: wkdctl's internal interfaces, grouped by file.  Two layers:
 * operations, which take a store transaction, change or read the store
 * and return what they did; and the front end, the wkdctl command line,
 * whose cmd_*() functions parse arguments, call operations and print.
 * Each command's front end sits in the file of its operations.
 *
 * wkdctl.c	main(), global options, the command table, usage().
 * cli.c	usage and --help; normalising typed addresses, domains and
 *		fingerprints.
 * store.c	init; opening the store, transactions, address snapshots.
 * backup.c	backup, restore: the store as one file, copied whole.
 * audit.c	the audit log: written with every change; "log".
 * token.c	token: the admin API's tokens, kept as hashes.
 * api.c	serve: the admin API, a second front end (JSON over HTTP).
 * apijson.c	the admin API's request bodies (jansson).
 * io.c		bounded file reading, writing, JSON and URL encoding.
 * pass.c	passphrases (--passphrase-fd, or the terminal).
 * domain.c	domain add, remove, policy, list, set.
 * account.c	account and alias commands; address ownership.
 * sync.c	account sync: a provider's accounts and aliases from a file.
 * import.c	import_keys(): a batch key by key; merge, classify each UID,
 *		the newest key wins, publish.
 * importcli.c	import: options, inputs, the report (text or JSON).
 * publish.c	which stored key an address serves, and serving it;
 *		publish, unpublish.
 * republish.c	republish: serve again from the stored keys.
 * wkd.c	an address's entries under its WKD hash(es).
 * show.c	list, show, export, hash.
 * remove.c	remove: a key and all it published.
 * revoke.c	revoke, export-revocation.
 * pgp.c	OpenPGP through RNP: merging and cleaning certificates,
 *		shaping the blob published for one address.
 * pgpread.c	reading keys from input, key by key (RNP).
 * pgprev.c	revocations through RNP; a key's state.  Only pgp.c,
 *		pgpread.c and pgprev.c include rnp.h (and pgp.h, their
 *		shared internals).
 * mtasts.c	mta-sts: the MTA-STS policy served under mta-sts.DOMAIN.
 * tlsrpt.c	tlsrpt: TLS reports (RFC 8460) received, stored, summarised.
 * acme.c	domain cert: certificates for openpgpkey.DOMAIN from a CA.
 * dns.c	a DNS client (the resolver only) and its reply parsers.
 * x509.c	the certificate wkdd serves for a name; TLSA hashes.
 * zone.c	dns: the records a customer publishes.
 * treeout.c	export-tree: a static WKD tree of what wkdd serves.
 * treein.c	import-tree: an existing WKD tree into the store.
 * check.c	domain check: what a mail client meets, checked.
 * https.c	HTTPS GET through libcurl: check.c, locate.c, refresh.c.
 * locate.c	locate: another domain's key by WKD, then VKS; not stored.
 * refresh.c	refresh: stored keys from VKS, merged by import's rules.
 */
#ifndef WKDCTL_H
#define WKDCTL_H

#include <sys/socket.h>

#include <netinet/in.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "keystore.h"

struct conf;
struct zone_conf;
struct pgp_cert;
struct pgp_uid;
struct pgp_certs;

#define EXIT_USAGE	2

/* Usage lines ("\n"-separated): usage(), --help, wkdctl.8's SYNOPSIS. */
#define INIT_USAGE	"init"
#define DOMAIN_USAGE	"domain add [--no-cert] domain\n" \
			"domain cert [--mta-sts] domain\n" \
			"domain remove domain\n" \
			"domain policy domain file\n" \
			"domain check [options] domain | --all\n" \
			"domain list\n" \
			"domain set domain keep-revoked on | off"
#define ACCOUNT_USAGE	"account add primary [--alias address ...]\n" \
			"account sync [--dry-run] [--json] file | -\n" \
			"account list [--json]\n" \
			"account show address\n" \
			"account remove [--yes] [--erase] primary"
#define ALIAS_USAGE	"alias add primary address\n" \
			"alias remove primary address"
#define IMPORT_USAGE	"import [--strict] [--json] [--account address] " \
			"[--passphrase-fd n] file ..."
#define LIST_USAGE	"list [--json] [domain]"
#define SHOW_USAGE	"show address | fingerprint"
#define EXPORT_USAGE	"export [--armor] [-o file] address | " \
			"[--key] fingerprint"
#define DNS_USAGE	"dns [options] domain"
#define HASH_USAGE	"hash address"
#define REMOVE_USAGE	"remove fingerprint"
#define LOG_USAGE	"log [-v] [--json] [--since time] " \
			"[address | domain | fingerprint]\n" \
			"log prune --before time"
#define REVOKE_USAGE	"revoke [--reason reason] [--message text] " \
			"[--with-key file | --certificate file] " \
			"[--passphrase-fd n] fingerprint | address"
#define EXPREV_USAGE	"export-revocation [--reason reason] [-o file] " \
			"fingerprint"
#define REVOKE_HELP \
	"The revocation signature comes from the certificate that\n" \
	"\"wkdctl import\" made from a secret keypair (the default), from\n" \
	"the secret key in file (--with-key; --passphrase-fd n, or a\n" \
	"prompt, if protected), or from a certificate made elsewhere\n" \
	"(--certificate, e.g. gpg's .rev file).  It is verified against\n" \
	"the key first.  The key stays published, revoked, at every\n" \
	"address.  reason: compromised, superseded, retired or\n" \
	"unspecified (the default).\n"
#define EXPREV_HELP \
	"Writes the stored revocation certificate for reason (default\n" \
	"unspecified), armored, to file or stdout; the export is logged.\n"
#define UNPUBLISH_HELP \
	"The address keeps its key in the store; imports don't publish it\n" \
	"again until \"wkdctl publish address\".\n"
#define UNPUBLISH_USAGE	"unpublish address"
#define PUBLISH_USAGE	"publish address"
#define REPUBLISH_USAGE	"republish address | --account address | domain"
#define EXPTREE_USAGE	"export-tree dir [domain ...]"
#define BACKUP_USAGE	"backup file"
#define RESTORE_USAGE	"restore file"
#define IMPTREE_USAGE	"import-tree [--create-accounts] [--dry-run] " \
			"[--domain domain] dir"
#define TLSRPT_USAGE	"tlsrpt receive [--spool dir]\n" \
			"tlsrpt ingest [--spool dir] [--json]\n" \
			"tlsrpt summary [--days n | --since time] [--json] " \
			"[domain]\n" \
			"tlsrpt prune --before time | --days n"
#define MTASTS_USAGE	"mta-sts set domain --mode enforce|testing|none " \
			"[--mx pattern ...] --max-age seconds\n" \
			"mta-sts show domain\n" \
			"mta-sts remove domain"

#define TOKEN_USAGE	"token add [--domain domain ...] [--read-only] name\n" \
			"token list\n" \
			"token revoke name"
#define LOCATE_USAGE	"locate [--json] [--vks url | --no-vks] [--ca file] " \
			"[-o file] address"
#define REFRESH_USAGE	"refresh [--json] [--vks url] [--ca file] " \
			"fingerprint ... | -"
#define SERVE_USAGE	"serve [--socket path] [--max-body bytes] " \
			"[--rate n] [--vks url | --no-vks]\n" \
			"      [--resolver addr] [--trust-anchor file] " \
			"[--cafile file]\n" \
			"serve [options] --listen addr:port " \
			"--tls-cert file --tls-key file"

/* What main() hands every command. */
struct ctl {
	const char	*store;		/* Store directory. */
	size_t		 mapsize;	/* store-size; 0: default. */
	struct ks	*ks;		/* Opened by store_open(). */
	const struct conf *conf;	/* wkdd.conf as read, or NULL. */
};

/* A command: returns an exit status (0, 1 or EXIT_USAGE). */
struct ctl_cmd {
	const char	 *name;
	int		(*fn)(struct ctl *, int, char **);
	const char	 *usage;	/* Without "usage: wkdctl ". */
	const char	 *help;		/* One line. */
	const char	 *details;	/* For --help; may be NULL. */
};

/* cli.c */
/*
 * If argv holds -h or --help: print cmd's usage and help on stdout and
 * return 0.  Else return -1.
 */
int	 cli_help(const struct ctl_cmd *, int, char **);
void	 cli_cmd_help(const struct ctl_cmd *);
/* Print "usage: wkdctl USAGE" to stderr; returns EXIT_USAGE. */
int	 cli_usage(const char *usage);
/* Print usage's lines ("\n"-separated), the first as "usage: " if first. */
void	 cli_print_usage(FILE *, const char *usage, int first);
const struct ctl_cmd *cli_find(const struct ctl_cmd *, size_t, const char *);
/*
 * For commands without options, which still refuse unknown ones: the
 * index of the first operand, or -EXIT_USAGE after printing usage.
 */
int	 cli_noopts(int argc, char **argv, const char *usage);
/*
 * Normalise an address typed by the operator; warns ("what: ...") and
 * returns -1 if it isn't one.  domain (KS_DOMAIN_MAX) may be NULL.
 */
int	 cli_addr(const char *in, char out[KS_ADDR_MAX],
	    char domain[KS_DOMAIN_MAX]);
/*
 * For a command that reads one typed address: normalise in into addr
 * (and its domain, if not NULL), begin a read transaction in *txnp (the
 * caller aborts it) and get the address's record into *a.  0, or -1
 * after warning.
 */
int	 cli_lookup(struct ctl *, const char *in, char addr[KS_ADDR_MAX],
	    char domain[KS_DOMAIN_MAX], struct ks_txn **txnp,
	    struct ks_addr *a);
/* Normalise a domain to its A-label; warns and returns -1 if not one. */
int	 cli_domain(const char *in, char out[KS_DOMAIN_MAX]);
/* Normalise a fingerprint (hex, any case, spaces, "0x"); -1 if none. */
int	 cli_fpr(const char *in, char out[KS_FPR_MAX]);

/* backup.c */
int	 cmd_backup(struct ctl *, int, char **);
int	 cmd_restore(struct ctl *, int, char **);

/* store.c */
int	 cmd_init(struct ctl *, int, char **);
/* Open the store (write access); warns and returns -1 on failure. */
int	 store_open(struct ctl *, int flags);
void	 store_close(struct ctl *);
/*
 * Begin a transaction (flags: KS_RDONLY), opening the store first if
 * need be; commit one (freeing it, also on failure).  Warn and return -1
 * on failure.
 */
int	 store_begin(struct ctl *, int flags, struct ks_txn **);
int	 store_commit(struct ctl *, struct ks_txn *);
/* Abort txn; returns 1, the exit status of a command that failed. */
int	 store_abort(struct ks_txn *);
/*
 * A message for KS_* code rc, in the operator's terms where there is
 * one (a full store: raise store-size).  Static storage.
 */
const char *store_strerror(int rc);
/*
 * The record of bound address addr (normalised) into *a, or of hosted
 * domain into *d: 0, or -1 after warning ("not an address of any
 * account", "domain not hosted").
 */
int	 store_addr(struct ks_txn *, const char *addr, struct ks_addr *a);
/*
 * Store certificate data of key fpr (ks_cert_put()) and record its state
 * (pgp_state()) in its certinfo, made if it has none, for `list` to read.
 * KS_OK or a KS_* code.
 */
int	 store_cert_put(struct ks_txn *, const char *fpr,
	    const unsigned char *data, size_t len);
int	 store_domain(struct ks_txn *, const char *domain,
	    struct ks_domain *d);
/* A snapshot of address records, for walking while changing them. */
struct store_addrs {
	struct ks_addr	*v;
	size_t		 n, cap;
};

/*
 * The address records of account (NULL: all), copied into *l (free with
 * store_addrs_free()).  Warns and returns -1 on failure.
 */
int	 store_addrs(struct ks_txn *, const char *account,
	    struct store_addrs *l);
/* Append a copy of a to l (a ks_addr_foreach() callback): 0 or ENOMEM. */
int	 store_addrs_cb(const struct ks_addr *a, void *l);
/* The same for the addresses of domain, or those serving key fpr. */
int	 store_addrs_domain(struct ks_txn *, const char *domain,
	    struct store_addrs *l);
int	 store_addrs_key(struct ks_txn *, const char *fpr,
	    struct store_addrs *l);
void	 store_addrs_free(struct store_addrs *);
const char *store_state(int);	/* "primary", "alias", "retired" */

/* audit.c */
/*
 * The audit log (in the store, in the same transaction as the change):
 * audit_init() records the command line; audit_log() appends an entry for
 * subject (an address, domain or fingerprint).  Returns a KS_* code, having
 * warned.
 */
void	 audit_init(int, char **);
int	 audit_log(struct ks_txn *, const char *subject, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	 cmd_log(struct ctl *, int, char **);
/*
 * From now on, entries name user (e.g. "token:NAME") and cmd (the API
 * request) instead of the OS user and the command line; NULL: back to
 * those.
 */
void	 audit_actor(const char *user, const char *cmd);
/*
 * Is entry e about subject (normalised; NULL: all), as "wkdctl log
 * SUBJECT" selects?  kind: 0 an address, 1 a fingerprint, 2 a domain.
 */
int	 audit_match(const char *subject, int kind, const struct ks_logent *e);
/*
 * A time as "log --since" takes it: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]
 * [Z]" (UTC), or "@SECONDS" since the epoch, into *out: 0, or -1.
 */
int	 audit_time(const char *s, int64_t *out);
/*
 * Drop the audit entries older than before (the newest stays), logging
 * that; *n gets how many.  0, or -1 after warning.
 */
int	 audit_prune(struct ks_txn *, int64_t before, size_t *n);

/* token.c */
int	 cmd_token(struct ctl *, int, char **);
/* Is name a token name (1 to 64 of [A-Za-z0-9._-], no leading dot)? */
int	 token_name_valid(const char *name);
/*
 * The token whose secret is secret into *tk: 0, or -1 if none (or the
 * store failed).  Every stored hash is compared, in constant time.
 */
int	 token_auth(struct ks_txn *, const char *secret, struct ks_token *tk);
/* May tk reach domain (an A-label)?  Unscoped tokens reach all. */
int	 token_scoped(const struct ks_token *tk, const char *domain);

/* api.c, apijson.c: wkdctl serve, the admin API. */
int	 cmd_serve(struct ctl *, int, char **);

/* A field of a JSON request body (api_json_parse()). */
#define API_STR		1	/* A string, into str (size strsz). */
#define API_STRV	2	/* An array of strings: strv, *nstrv. */
#define API_BOOL	3	/* true or false, into *b. */
struct api_field {
	const char	*name;
	int		 type;
	int		 required;
	char		*str;
	size_t		 strsz;
	char		(*strv)[KS_ADDR_MAX];
	size_t		 maxstrv;
	size_t		*nstrv;
	int		*b;
	int		 seen;		/* Set by api_json_parse(). */
};

/*
 * Parse body (len bytes, not NUL-terminated) as one JSON object whose
 * members are among fields (n of them), of their types; strings at most
 * strsz - 1 (or KS_ADDR_MAX - 1) bytes, without NUL; arrays at most
 * maxstrv long.  Anything else (bad JSON, an unknown or duplicated
 * member, a wrong type, a required member missing) gives -1 and a
 * message in err.  0 on success.
 */
int	 api_json_parse(const char *body, size_t len, struct api_field *fields,
	    size_t n, char *err, size_t errsz);

/*
 * GET /v1/log's query, argument by argument (api_log_arg()): limit (1 to
 * 1000), after (a sequence number: the previous page's "next"), since and
 * until (times as "log --since" takes them), domain, subject (an address,
 * fingerprint or domain, as "wkdctl log SUBJECT"), actor (the log's
 * user: "token:NAME", an OS user) or token (NAME, for actor token:NAME),
 * action (text in the entry's detail: "revoked", "account added").
 */
#define API_LOG_LIMIT	100
#define API_LOG_MAX	1000
struct api_logq {
	size_t		 limit;
	uint64_t	 after;
	int64_t		 since, until;	/* until 0: none. */
	char		 domain[KS_DOMAIN_MAX];		/* "": any. */
	char		 subject[KS_ADDR_MAX];		/* "": any. */
	int		 kind;		/* Of subject: as audit_match(). */
	char		 actor[KS_TOKEN_NAME_MAX + 8];	/* "": any. */
	char		 action[128];			/* "": any. */
};

/* Defaults into q. */
void	 api_log_init(struct api_logq *q);
/*
 * Argument name=value (MHD has decoded both) into q: 0; -1 with a message
 * in err for an unknown argument or a bad value.  Pure.
 */
int	 api_log_arg(struct api_logq *q, const char *name, const char *value,
	    char *err, size_t errsz);

/* io.c */
/*
 * A progress line on stderr, when it is a terminal and the work has taken
 * a second: "what: done/total (N%)" ("what: done" with total 0), redrawn
 * at most ten times a second and wiped at the end.  Nothing at all when
 * stderr is not a terminal.
 */
struct io_progress {
	const char	*what;
	size_t		 total;
	size_t		 before;	/* Added to done: work in parts. */
	struct timespec	 t0, last;
	int		 tty, shown;
};

void	 io_progress_start(struct io_progress *, const char *what,
	    size_t total);
/* pg may be NULL: nothing then. */
void	 io_progress(struct io_progress *pg, size_t done);
void	 io_progress_end(struct io_progress *);
/* Close a JSON array of n elements, one a line, as the listings print. */
void	 io_json_end(FILE *, size_t n);
/* t (seconds since the epoch) as "YYYY-MM-DD HH:MM:SSZ" into buf. */
void	 io_date(int64_t t, char *buf, size_t bufsz);
/* "wkdctl: " and the message, a line, to fp (a report, or stderr). */
void	 io_err(FILE *fp, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * Read a whole file ("-" is stdin) into a malloc(3)ed buffer (*datap,
 * *lenp); at most max bytes.  Warns and returns -1 on failure.
 */
int	 io_read_file(const char *path, size_t max, unsigned char **datap,
	    size_t *lenp);
/* Zero and free a buffer that may hold secret-key material. */
void	 io_wipe(unsigned char *, size_t);
/* Write s as a JSON string (quoted, escaped) to fp. */
void	 io_json_str(FILE *, const char *s);
/* Write len bytes to fd; -1 on error (errno set). */
int	 io_write_all(int fd, const unsigned char *, size_t);
/* s percent-encoded for a query (l=); -1 if it doesn't fit outsz. */
int	 io_pct(const char *s, char *out, size_t outsz);

/* pass.c */
/*
 * A passphrase for a secret key: read once from fd (--passphrase-fd), or
 * asked on /dev/tty (echo off) when stdin is a terminal.  Never logged;
 * pass_clear() wipes it.
 */
struct pass {
	int	 fd;		/* -1: none given. */
	int	 state;		/* 0 not yet read, 1 have it, -1 none. */
	char	 buf[1024];
};

void	 pass_init(struct pass *);
/* Parse a --passphrase-fd argument; warns and returns -1 if bad. */
int	 pass_fd(struct pass *, const char *arg);
/* Can a passphrase be had (fd given, or a terminal to ask on)? */
int	 pass_avail(const struct pass *);
/* The passphrase (NUL-terminated, in pp->buf), or NULL if none. */
const char *pass_get(struct pass *, const char *what);
void	 pass_clear(struct pass *);

/* domain.c */
int	 cmd_domain(struct ctl *, int, char **);
/* Host domain d (an A-label), with an empty policy file: 0, or -1. */
int	 domain_create(struct ks_txn *, const char *d);
/*
 * Stop hosting d: what its addresses publish is taken down (*nunpub of
 * them); they stay bound to their accounts.  0, or -1 (warned).
 */
int	 domain_drop(struct ks_txn *, const char *d, size_t *nunpub);
/*
 * Is domain (an A-label) hosted?  0 if so; else warns, naming addr (the
 * address that needs it), and returns -1.
 */
int	 domain_hosted(struct ks_txn *, const char *domain, const char *addr);

/* account.c */
int	 cmd_account(struct ctl *, int, char **);
int	 cmd_alias(struct ctl *, int, char **);
/*
 * Bind a new address addr to account as state (KS_ADDR_PRIMARY for the
 * account itself, or KS_ADDR_ALIAS): it must be in a hosted domain and
 * unbound.  Anything published under its hashes (a Unicode-hash entry of
 * another address) is taken down: see wkd_bind().  0, or -1 (warned).
 */
int	 account_bind(struct ks_txn *, const char *account, const char *addr,
	    int state);
/* Create account primary with aliases (all normalised): 0, or -1. */
int	 account_create(struct ks_txn *, const char *primary, char **aliases,
	    size_t naliases);
/*
 * Remove account primary: take down everything its addresses publish and
 * mark it removed.  Its addresses stay bound to it, so no other account
 * can ever claim them: *nbound of them, *nunpub of which were published.
 * 0, or -1 (warned).
 */
int	 account_retire(struct ks_txn *, const char *primary, size_t *nunpub,
	    size_t *nbound);
/*
 * Erase account primary for an erasure request: each of its addresses is
 * taken down and its record deleted, leaving only a keyed hash of it
 * (ks_gone_put()) so that it can never be bound again; its keys are
 * deleted unless an address of another account serves one.  The audit
 * entry names no address.  *naddrs and *nkeys say how many.  0, or -1.
 */
int	 account_erase(struct ks_txn *, const char *primary, size_t *naddrs,
	    size_t *nkeys);
/*
 * Bind alias addr to active account primary (or make its retired alias
 * active again) and publish it from a stored key of the account if one
 * has a UID for it.  Returns 1 if published (fpr set), 0 if not, -1
 * (warned).
 */
int	 account_alias_add(struct ks_txn *, const char *primary,
	    const char *addr, char fpr[KS_FPR_MAX]);
/* Retire alias addr of primary: unpublished, bound for good.  0 or -1. */
int	 account_alias_retire(struct ks_txn *, const char *primary,
	    const char *addr);
/* *removed: was a's account removed?  Returns a KS_* code. */
int	 account_removed(struct ks_txn *, const struct ks_addr *a,
	    int *removed);

/* sync.c */
#define SYNC_LINE_MAX	(64 * 1024)	/* Longest line of a sync file. */

/* What sync does with a line, or one of its addresses. */
#define SYNC_ADDED	1	/* Bound now (a line: a new account). */
#define SYNC_CHANGED	2	/* A line: aliases added to its account. */
#define SYNC_UNCHANGED	3	/* Bound as the line says already. */
#define SYNC_CONFLICT	4	/* Can't be as the line says: see why. */
#define SYNC_SKIPPED	5	/* New, but its line is in conflict. */

struct sync_addr {
	char		*addr;		/* Normalised, else the text as read
					   (made printable).  malloc(3)ed. */
	int		 norm;		/* addr is a normalised address. */
	int		 what;		/* SYNC_*; 0 until sync_accounts(). */
	char		*why;		/* A conflict's reason, malloc(3)ed. */
	char		 fpr[KS_FPR_MAX];	/* Published at once, or "". */
};

/* One account line of a sync file: v[0] its primary, then its aliases. */
struct sync_line {
	size_t		 lineno;
	int		 what;		/* SYNC_ADDED ... SYNC_CONFLICT */
	char		*why;		/* Of the whole line (too long), or
					   NULL.  malloc(3)ed. */
	struct sync_addr *v;
	size_t		 n;
};

/* A sync file as read, then what sync_accounts() did with it. */
struct sync_report {
	struct sync_line *v;
	size_t		 n, cap;
	size_t		 added;		/* Lines: accounts added. */
	size_t		 aliases;	/* Addresses: aliases added. */
	size_t		 unchanged;	/* Lines with nothing to change. */
	size_t		 conflicts;	/* Lines in conflict, not applied. */
};

/* wkdctl account sync [options] file; argv[0] is "sync". */
int	 sync_cmd(struct ctl *, int, char **);
/*
 * Read the sync file fp (one account a line: its primary address, then
 * its aliases, tab-separated; "#" lines and blank lines skipped), at most
 * SYNC_LINE_MAX bytes a line, into r (zeroed first; free it with
 * sync_report_free(), also after an error).  Malformed addresses, lines
 * too long and addresses on more than one line are conflicts already.
 * name labels errors.  Returns 0, or -1 after warning (a read error).
 */
int	 sync_read(FILE *fp, const char *name, struct sync_report *r);
/*
 * Make the store hold r's accounts and aliases, in txn: new accounts
 * (account_create()) and new aliases of existing ones (as
 * account_alias_add(): published at once if a stored key has a valid UID
 * for one, the fingerprint in its fpr) are added; an existing binding is
 * unchanged; a line with a conflict is not applied at all.  Nothing is
 * ever removed.  Each line and address of r says what
 * was done, and r's counts sum it up; nothing was written if r->added and
 * r->aliases are 0.  Returns 0 (conflicts are not errors), or -1 after
 * warning: the store failed, and the caller aborts txn.
 */
int	 sync_accounts(struct ks_txn *, struct io_progress *pg,
	    struct sync_report *r);
void	 sync_report_free(struct sync_report *);
/*
 * r as "account sync --json" prints it: one JSON object; name labels the
 * input, dry and written say whether it was a dry run and was written.
 */
void	 sync_print_json(FILE *, const char *name, const struct sync_report *r,
	    int dry, int written);

/* import.c, importcli.c (cmd_import, the report's printing) */
int	 cmd_import(struct ctl *, int, char **);

/* What an import did with one UID of a key. */
struct import_uid {
	char		*text;			/* malloc(3)ed; NULL: photo. */
	char		 addr[KS_ADDR_MAX];	/* Normalised, or "". */
	int		 publish;		/* Published at addr. */
	char		 replaced[KS_FPR_MAX];	/* Key it replaced, or "". */
	char		 older[KS_FPR_MAX];	/* Newer key served, or "". */
	char		 why[2 * KS_ADDR_MAX + 160];	/* Why not published. */
};

/* What became of a key. */
#define IMPORT_PUBLISHED	0	/* Stored; what is served changed. */
#define IMPORT_UNCHANGED	1	/* Known, nothing served changed. */
#define IMPORT_SUPERSEDED	2	/* Stored; newer keys serve. */
#define IMPORT_SKIPPED		3	/* Refused: nothing to publish. */
#define IMPORT_FAILED		4	/* Unreadable, or the store failed. */
#define IMPORT_NSTATUS		5

/* What an import did with one key (or a stretch of input that wasn't). */
struct import_key {
	char		 fpr[KS_FPR_MAX];	/* "" if none could be read. */
	char		 src[128];	/* Input file, and byte offset in it. */
	size_t		 off;
	int		 status;	/* IMPORT_* */
	int		 parsed;	/* Merged and classified: uids. */
	int		 known;		/* Merged with a stored one. */
	int		 revoked;
	int		 expired;
	int		 changed;	/* Anything stored or served changed. */
	struct import_uid *uids;
	size_t		 nuids;
	size_t		 npublish;	/* UIDs published. */
	size_t		 nolder;	/* UIDs a newer key's address keeps. */
	/* Addresses unpublished: their UID is gone or invalid now. */
	char		(*dropped)[KS_ADDR_MAX];
	size_t		 ndropped;
	int		 revoc;		/* Revocation certificates stored. */
	char		 revnote[128];	/* Why none were made, or "". */
	char		*msgs;		/* Errors and notes, lines; or NULL. */
};

struct import_report {
	struct import_key *v;
	size_t		 n;
	size_t		 count[IMPORT_NSTATUS];	/* Keys per IMPORT_*. */
};

#define IMPORT_STRICT	0x01	/* The first key refused fails all. */

/*
 * Import certs (as pgp_read() gave them, with what it could not read) in
 * txn.  Each key is merged with its stored certificate and stored, and
 * each UID published at its address if that is the primary or an alias
 * of the account it belongs to (of account if not NULL, a primary; else
 * the key's addresses must all be one account's).  Where two keys want
 * one address, the newer self-signature wins whatever their order; a
 * revoked or expired key never displaces a valid one.  Each key runs in a
 * nested transaction, so one that is refused or fails is reported and
 * skipped; with IMPORT_STRICT the first one returns -1 instead.  *r (free
 * with import_report_free(), also after an error) says what became of
 * each key; pg (NULL: none) shows how far it got.  Returns 0, or -1 (the
 * caller aborts txn).
 */
int	 import_keys(struct ks_txn *, const char *account,
	    struct pgp_certs *certs, int flags, struct io_progress *pg,
	    struct import_report *r);
void	 import_report_free(struct import_report *);
/*
 * Print r as "wkdctl import" does: each key's lines on fp, the errors of
 * keys skipped or failed on errfp; the summary line; or r as JSON.
 */
void	 import_print(FILE *fp, FILE *errfp, const struct import_report *r);
void	 import_summary(FILE *, const struct import_report *r);
void	 import_json(FILE *, const struct import_report *r, int committed);
/*
 * The account address account (normalised) names, its own or as alias,
 * into acct: 0, or -1 after warning (unbound, a retired alias).
 */
int	 import_account(struct ks_txn *, const char *account,
	    char acct[KS_ADDR_MAX]);
/* 0: every key imported; 3: some skipped or failed; 1: none imported. */
int	 import_status(const struct import_report *r);

/* publish.c */
int	 cmd_publish(struct ctl *, int, char **);
int	 cmd_unpublish(struct ctl *, int, char **);
/*
 * Stop serving addr at the operator's word (imports won't publish it)
 * until publish_on(); old gets the key it served, or "".  0, or -1.
 */
int	 publish_off(struct ks_txn *, const char *addr, char old[KS_FPR_MAX]);
/*
 * Serve addr again after publish_off(), from a stored key of its account
 * (publish_stored()).  Returns 1 if published (fpr set), 0 if no stored
 * key has a valid UID for it, -1 (warned).
 */
int	 publish_on(struct ks_txn *, const char *addr, char fpr[KS_FPR_MAX]);
/*
 * Publish UID u of m at its address, whose record is *a (updated, fpr
 * set): its blob, then the revoked predecessor's if the domain keeps it,
 * under the address's hash(es), logged.  Errors go to errfp (a report, or
 * stderr).  Returns 0 or -1.
 */
int	 publish_uid(struct ks_txn *, const struct pgp_cert *m,
	    const struct pgp_uid *u, struct ks_addr *a, FILE *errfp);
/*
 * Load stored key fpr, merged and classified, into *m (free with
 * pgp_cert_free()); the index of its valid UID for addr (NULL: none) or
 * -1 into *uidx.  Returns 0, or -1 after warning.
 */
int	 publish_load(struct ks_txn *, const char *fpr, const char *addr,
	    struct pgp_cert *m, ssize_t *uidx);
/* Record that key old was replaced by new at addr (logged; KS_*). */
int	 publish_supersede(struct ks_txn *, const char *old, const char *new,
	    const char *addr);
/*
 * Publish a from the best stored key with a valid UID for it, never one
 * imported for another account or with a UID of another account's address
 * (publish_foreign()): unrevoked, then unexpired, then not superseded,
 * then the newest self-signature (publish_rank()).  fpr_out gets it.
 * Returns 1 if published, 0 if none fits, -1 after warning.
 */
int	 publish_any(struct ks_txn *, struct ks_addr *a,
	    char fpr_out[KS_FPR_MAX]);
/* Keys superseded by fpr (removed) are current again: KS_*. */
int	 publish_orphans(struct ks_txn *, const char *fpr);

/* What republish did at one address. */
#define REPUBLISH_PUBLISHED	0	/* Another key, or one at last. */
#define REPUBLISH_SAME		1	/* The key it served. */
#define REPUBLISH_NONE		2	/* No stored key fits. */
#define REPUBLISH_SKIPPED	3	/* Retired, or account removed. */

struct republish {
	char		 addr[KS_ADDR_MAX];
	int		 what;		/* REPUBLISH_* */
	char		 fpr[KS_FPR_MAX];	/* Served now. */
	char		 old[KS_FPR_MAX];	/* Served before, or "". */
	char		 why[128];
};

struct republish_report {
	struct republish *v;		/* malloc(3)ed; free(v). */
	size_t		 n;
};

/*
 * Publish again from the stored keys, by the import's rules (the newest
 * valid key of the address's own account with a valid UID for it): addr,
 * or every address of account, or of domain (each NULL for all), after a
 * successor was removed, a domain removed and added again, an address
 * unpublished (it is served again).  *r says what happened at each.
 * Returns 0, or -1 after warning.
 */
int	 republish_addrs(struct ks_txn *, const char *domain,
	    const char *account, const char *addr, struct republish_report *r);

/* republish.c */
int	 cmd_republish(struct ctl *, int, char **);
/* Take down what a publishes and clear its key, logging why (KS_*). */
int	 publish_drop(struct ks_txn *, struct ks_addr *a, const char *why);
int	 publish_stored(struct ks_txn *, const char *addr,
	    char fpr[KS_FPR_MAX]);
/*
 * Serve again what a (published, a->fpr set) serves now: its key's UID
 * blob, followed by its revoked predecessor's when the domain keeps
 * revoked keys.  Errors go to errfp.  Returns 0 or -1.
 */
int	 publish_refresh(struct ks_txn *, struct ks_addr *a, FILE *errfp);
/* publish_refresh() every published address of domain. */
int	 publish_refresh_domain(struct ks_txn *, const char *domain);
/*
 * Key fpr changed: publish_refresh() every address serving it, or serving
 * the key that superseded it (which may serve it as predecessor).
 */
int	 publish_refresh_key(struct ks_txn *, const char *fpr, FILE *errfp);

/* wkd.c */
/* Split a normalised address at its last "@"; -1 if a part does not fit. */
int	 wkd_split(const char *addr, char *local, size_t localsz,
	    char *domain, size_t domainsz);
/*
 * The WKD hashes of a normalised address: ascii (the draft's, always) and,
 * if full Unicode lowercasing of the local part gives another one, uni
 * (else uni is "").  lower (KS_ADDR_MAX, may be NULL) gets that lowercased
 * address.  Returns KS_OK or a KS_* code.
 */
int	 wkd_hashes(const char *addr, char ascii[KS_HASH_LEN + 1],
	    char uni[KS_HASH_LEN + 1], char *lower);
/*
 * Publish blob for address addr under its hash(es), with its facts f (the
 * web page's lookup; may be NULL: none recorded).
 */
int	 wkd_put(struct ks_txn *, const char *addr, const unsigned char *,
	    size_t, const struct ks_facts *f);
/* What addr serves under its draft hash into *b: KS_OK, KS_NOTFOUND. */
int	 wkd_get(struct ks_txn *, const char *addr, struct ks_blob *b);
/* Remove what is published for addr (only entries that are addr's). */
int	 wkd_del(struct ks_txn *, const char *addr);
/*
 * Before binding the new address addr: take down what its hashes serve
 * (Unicode-hash entries of other addresses, now its own or ambiguous).
 */
int	 wkd_bind(struct ks_txn *, const char *addr);

/* show.c */
int	 cmd_list(struct ctl *, int, char **);
int	 cmd_show(struct ctl *, int, char **);
int	 cmd_export(struct ctl *, int, char **);
int	 cmd_hash(struct ctl *, int, char **);
/*
 * A one-line state of stored key fpr into buf: "valid", "expired since
 * DATE", "revoked (REASON)", each with ", superseded by FPR" if so.
 */
int	 show_state(struct ks_txn *, const char *fpr, char *buf, size_t);
/* What "show FPR" says of a stored key (show_key_info()). */
struct show_keyinfo {
	char		 state[512];	/* show_state()'s. */
	int		 info;		/* created, expires... known. */
	int64_t		 created, expires;
	int		 expired, revoked;
	size_t		 size;		/* Of the stored certificate. */
	char		*describe;	/* pgp_describe()'s lines. */
	int		 undescribed;	/* pgp_describe() failed. */
	struct store_addrs served;	/* The addresses serving it. */
	int		 hasrev;	/* A revocation certificate stored. */
	unsigned	 revreasons;	/* Its reasons: 1 << PGP_REV_*. */
};
/*
 * Stored key fpr into *k (show_keyinfo_free() it): 0, or -1 after
 * warning (not in the store, a store error).
 */
int	 show_key_info(struct ks_txn *, const char *fpr,
	    struct show_keyinfo *k);
void	 show_keyinfo_free(struct show_keyinfo *k);
/*
 * What export writes: the bytes served for addr, or with key (a
 * fingerprint) the stored certificate of that key, into *b
 * (ks_blob_free() it).  0, or -1 after warning.
 */
int	 show_export(struct ks_txn *, const char *addr, const char *key,
	    struct ks_blob *b);
/*
 * Each published address (of domain, or of account, or all: both NULL)
 * with its key's state to cb, as "list" prints them; cb's non-zero stops
 * the walk.  0; -1 after warning, or if cb stopped it.  The item lives
 * until cb returns.
 */
struct show_item {
	const char	*addr;
	const char	*account;
	const char	*fpr;
	char		 state[512];	/* show_state()'s. */
};
int	 show_list(struct ks_txn *, const char *domain, const char *account,
	    int (*cb)(const struct show_item *, void *), void *arg);

/* remove.c */
int	 cmd_remove(struct ctl *, int, char **);
/*
 * Remove key fpr and everything published from it; gone (free with
 * store_addrs_free(), also on error) gets the records of the addresses
 * it served, which stay bound.  0, or -1 (warned).
 */
int	 remove_key(struct ks_txn *, const char *fpr, struct store_addrs *gone);

/* revoke.c */
int	 cmd_revoke(struct ctl *, int, char **);
int	 cmd_export_revocation(struct ctl *, int, char **);

/* What to revoke, and with what (at most one of keydata, certdata). */
struct revoke_req {
	const char		*fpr;		/* The key, normalised. */
	int			 reason;	/* PGP_REV_* (not certdata). */
	const char		*message;	/* With keydata, or NULL. */
	const unsigned char	*keydata;	/* A secret keypair, or NULL. */
	size_t			 keylen;
	const char		*keyname;	/* Labels its errors. */
	const unsigned char	*certdata;	/* A revocation, or NULL. */
	size_t			 certlen;
	const char		*certname;
	struct pass		*pp;		/* keydata's passphrase. */
};

struct revoke_result {
	int			 reason;	/* As signed. */
	const char		*how;		/* Static text. */
	char			(*served)[KS_ADDR_MAX];	/* Served revoked. */
	size_t			 nserved;
};

/*
 * Revoke req->fpr in txn with the signature req gives (else the stored
 * revocation certificate for req->reason), verified against the key
 * first; every address serving it serves it revoked.  *res (free with
 * revoke_result_free()) says how.  Returns 0, or -1 after warning: the
 * caller aborts txn.
 */
int	 revoke_key(struct ks_txn *, const struct revoke_req *,
	    struct revoke_result *res);
void	 revoke_result_free(struct revoke_result *);

/* pgp.c, pgpread.c (pgp_read), pgprev.c (revocations, pgp_info) */
#define PGP_UID_OK	0	/* Valid UID with an addr-spec. */
#define PGP_UID_ATTR	1	/* User attribute (photo). */
#define PGP_UID_INVALID	2	/* No valid self-signature. */
#define PGP_UID_REVOKED	3
#define PGP_UID_NOADDR	4	/* No usable addr-spec. */

struct pgp_uid {
	char		*text;			/* NULL for an attribute. */
	char		 addr[KS_ADDR_MAX];	/* Normalised, or "". */
	char		 domain[KS_DOMAIN_MAX];
	int		 kind;			/* PGP_UID_* */
	uint32_t	 sigtime;	/* Newest valid self-certification. */
};

/* A certificate as read from input or the store. */
struct pgp_cert {
	char		 fpr[KS_FPR_MAX];
	unsigned char	*data;		/* Public packets only. */
	size_t		 len;
	char		 src[128];	/* pgp_read(): the input's name, */
	size_t		 off;		/* and where in it the key starts. */
	/*
	 * pgp_read() of a secret keypair that can sign: revocation
	 * certificates made now, one per reason (signature packets).
	 * revnote says why none was made ("" if not a secret key).
	 */
	unsigned char	*revoc;
	size_t		 revoclen;
	char		 revnote[128];
	struct pgp_uid	*uids;		/* After pgp_merge(). */
	size_t		 nuids;
	int		 revoked;	/* Primary key revoked. */
	int		 expired;
	int		 can_encrypt;	/* Has a valid encryption (sub)key. */
	/*
	 * pgp_read(): the UIDs left out because no hosted domain has
	 * their address (with certs->hosted; texts, malloc(3)ed) and a
	 * NULL entry if user attributes were; bare if no UID was left.
	 */
	char		**offsite;
	size_t		 noffsite;
	int		 bare;
	/*
	 * pgp_precheck(): offsets in data of signatures found good, and
	 * pgp_merge() of data alone (NULL if it failed).
	 */
	size_t		*good;
	size_t		 ngood;
	struct pgp_cert	*pre;
};

/* A stretch of input that is not a key pgp_read() could read. */
struct pgp_bad {
	char		 src[128];	/* The input's name. */
	size_t		 off;		/* Byte offset (of binary packets). */
	size_t		 len;
	char		 why[320];
};

struct pgp_certs {
	struct pgp_cert	*v;
	size_t		 n;
	size_t		 base;		/* Input offset of the bytes read. */
	struct pgp_bad	*bad;		/* What could not be read. */
	size_t		 nbad;
	/*
	 * Set by the caller, or NULL: does the store host domain (an
	 * A-label)?  pgp_read() keeps only the UIDs it says yes to.
	 */
	int		(*hosted)(const char *domain, void *arg);
	void		*hosted_arg;
	size_t		 nfast;		/* Keys read without RNP. */
};

/*
 * Read the keys in data (armored, any number of blocks, or binary; public
 * or secret: only the public parts are kept) and append each primary key
 * with its subkeys to certs (a key seen before is concatenated, to be
 * merged later).  The input is cut into keys at each primary key packet,
 * so a key RNP can't read, a run of garbage or signatures without a key
 * costs only itself: each goes into certs->bad, with its byte offset and
 * why.  name labels them.  What is never stored is left out here, before
 * anything checks a signature: user attributes, third-party
 * certifications, trust packets and, with certs->hosted, the UIDs of
 * domains not hosted (into offsite).  A public key is read with the packet
 * walker (pgpkey.c); RNP reads a secret keypair, or what the walker can't.
 * Returns 0, or -1 after warning (empty input, out of memory).
 */
int	 pgp_read(const char *name, const unsigned char *data, size_t len,
	    struct pass *pp, struct pgp_certs *certs);
/*
 * pgp_read() of an input of any size, a stretch at a time: binary packets
 * are read PGP_STREAM_CHUNK bytes at a time and cut between keys (one key
 * may be up to PGP_READ_MAX bytes); anything else (armor) is read whole,
 * up to PGP_READ_MAX.  pgp_stream_read() adds keys to certs until max
 * more are there (or a few more: a chunk is read whole) or the input
 * ends: 1 if more may follow, 0 at its end, -1 after warning.
 */
#define PGP_STREAM_CHUNK	(1024 * 1024)
#define PGP_READ_MAX		(64 * 1024 * 1024)

struct pgp_stream {
	const char	*name;
	int		 fd;
	unsigned char	*buf;
	size_t		 len, cap;
	size_t		 base;		/* Input offset of buf[0]. */
	int		 eof, done;
};

void	 pgp_stream_init(struct pgp_stream *, const char *name, int fd);
int	 pgp_stream_read(struct pgp_stream *, struct pass *,
	    struct pgp_certs *, size_t max);
void	 pgp_stream_free(struct pgp_stream *);
/*
 * Merge stored (may be NULL) and in into out (a new struct, free with
 * pgp_cert_free()): self-signatures verified, invalid UIDs, user
 * attributes, third-party and invalid signatures dropped; out->uids
 * classifies the UIDs of the merged input, dropped ones included.
 * pgp_merge_fast() (pgpsig.c) when it can, else pgp_merge_rnp().
 */
int	 pgp_merge(const char *fpr, const unsigned char *stored, size_t slen,
	    const unsigned char *in, size_t inlen, struct pgp_cert *out);
/*
 * The two ways pgp_merge() goes, to be compared (t_pgpfast).
 * pgp_merge_fast(): without RNP, 0 if done, 1 if the key is RNP's to
 * clean (out empty), -1 out of memory.  pgp_merge_rnp(): 0 or -1.
 * Stored certificates count as checked: they were when imported.
 */
int	 pgp_merge_fast(const char *fpr, const unsigned char *stored,
	    size_t slen, const unsigned char *in, size_t inlen,
	    struct pgp_cert *out);
int	 pgp_merge_rnp(const char *fpr, const unsigned char *stored,
	    size_t slen, const unsigned char *in, size_t inlen,
	    struct pgp_cert *out);
/*
 * Merge every key of certs alone, on all CPUs, before the store is
 * written to: into each key's pre, and the offsets of the signatures
 * found good into its good.  pgp_merge_cert() (pgp_merge() of in's data)
 * then takes pre if nothing is stored, or needn't check those signatures
 * again.  Nothing fails here: what did is done again in pgp_merge_cert().
 */
void	 pgp_precheck(struct pgp_certs *);
int	 pgp_merge_cert(struct pgp_cert *in, const unsigned char *stored,
	    size_t slen, struct pgp_cert *out);
/*
 * The blob to publish for UID uid (its text) of cert (as pgp_merge() made
 * it): only that UID with its newest self-certification; the packets are
 * cut out of cert's, as pgp_shape_rnp() has RNP make them.  *blobp is
 * malloc(3)ed.  0, or -1 after warning.
 */
int	 pgp_shape(const struct pgp_cert *, const char *uid,
	    unsigned char **blobp, size_t *lenp);
int	 pgp_shape_rnp(const struct pgp_cert *, const char *uid,
	    unsigned char **blobp, size_t *lenp);
/* Describe cert's UIDs (text, validity) to fp, each line prefixed. */
int	 pgp_describe(FILE *, const char *prefix, const unsigned char *,
	    size_t);

/* Revocation reasons (RFC 4880 5.2.3.23 codes). */
#define PGP_REV_UNSPECIFIED	0x00
#define PGP_REV_SUPERSEDED	0x01
#define PGP_REV_COMPROMISED	0x02
#define PGP_REV_RETIRED		0x03

/* "compromised", ... -> PGP_REV_*, or -1. */
int	 pgp_reason_code(const char *);
const char *pgp_reason_name(int);

/* A key's state, from its certificate. */
struct pgp_info {
	int		 revoked;
	int		 reason;		/* PGP_REV_* if revoked. */
	char		 reason_text[256];	/* The revoker's words. */
	int		 expired;
	int64_t		 created;
	int64_t		 expires;		/* 0: never. */
};

int	 pgp_info(const char *fpr, const unsigned char *, size_t,
	    struct pgp_info *);
/*
 * pgpstate.c: the state of data, a certificate as the store keeps it, into
 * *st without RNP: 0, or 1 (st->known 0) where only RNP can say.
 */
int	 pgp_state(const unsigned char *data, size_t len,
	    struct ks_keystate *st);
/*
 * Make a revocation signature for key fpr with the secret key in keydata
 * (a keypair, as for pgp_read(); the passphrase from pp if protected).
 * *sigp (binary signature packet) is malloc(3)ed.  0, or -1 after warning.
 */
int	 pgp_revoke_make(const char *name, const unsigned char *keydata,
	    size_t keylen, const char *fpr, int reason, const char *message,
	    struct pass *pp, unsigned char **sigp, size_t *siglenp);
/*
 * Verify a revocation certificate sig (armored or binary; signature
 * packets only) against key fpr, whose certificate is cert, and add it:
 * *newp (malloc(3)ed) is the revoked certificate, *reasonp its reason.
 * Refused (-1, warned) unless it is a valid revocation of fpr made by fpr
 * itself, and the key was not revoked before.
 */
int	 pgp_revoke_apply(const char *name, const char *fpr,
	    const unsigned char *cert, size_t clen, const unsigned char *sig,
	    size_t slen, unsigned char **newp, size_t *newlenp, int *reasonp);
/*
 * From stored revocation certificates revs (several signatures), the one
 * for reason: *sigp points into revs.  Returns 1 if found, 0 if not, -1.
 * If have is not NULL, it gets a bit (1 << reason) for each reason found.
 */
int	 pgp_revoc_pick(const char *fpr, const unsigned char *cert,
	    size_t clen, const unsigned char *revs, size_t rlen, int reason,
	    const unsigned char **sigp, size_t *siglenp, unsigned *have);
/*
 * A key from another server (locate, refresh): data (binary packets or an
 * armored block) at most KS_BLOB_MAX bytes, OpenPGP packets, no secret
 * key packet; its keys read into certs as pgp_read() does, name labelling
 * them.  Returns 0, or -1 with the reason in err (certs may hold some:
 * pgp_certs_free() them anyway).
 */
int	 pgp_accept(const char *name, const unsigned char *data, size_t len,
	    struct pgp_certs *certs, char *err, size_t errsz);
/* ASCII armor ("PGP PUBLIC KEY BLOCK") of data; *outp malloc(3)ed. */
int	 pgp_armor(const unsigned char *, size_t, char **outp, size_t *lenp);
/* How many primary keys data (binary packets) holds; -1 if unreadable. */
int	 pgp_nkeys(const unsigned char *data, size_t len);
void	 pgp_cert_free(struct pgp_cert *);
void	 pgp_certs_free(struct pgp_certs *);
/* The addr-spec of a UID ("Name <a@b>" or "a@b"), copied into out. */
int	 pgp_uid_addr(const char *uid, char *out, size_t outsz);
/*
 * u->addr and u->domain from u->text, as pgp_uid_addr() reads it: both
 * "" if it names no address, and then a PGP_UID_OK u becomes
 * PGP_UID_NOADDR.  Returns 0, or -1 if it names none.
 */
int	 pgp_uid_fill(struct pgp_uid *u);

/* tlsrpt.c */
struct json_t;			/* jansson's. */
int	 cmd_tlsrpt(struct ctl *, int, char **);
/*
 * The report of a TLSRPT mail (len bytes; RFC 8460 section 3): the first
 * application/tlsrpt+gzip or +json part, through multipart bodies,
 * base64 or 7bit/8bit/binary, inflated to at most max bytes, into *json
 * (malloc(3)ed, the caller's).  0, or a REPORT_* code (report.h) with
 * err set for REPORT_BAD.  Not validated: report_parse() does that.
 */
int	 tlsrpt_mail(const char *mail, size_t len, size_t max,
	    unsigned char **json, size_t *jsonlen, char *err, size_t errsz);
/*
 * The stored reports of domain (NULL: all) that ended at or after since,
 * per domain, as "tlsrpt summary --json"'s objects appended to array a
 * (a jansson array): 0, or -1 after warning.
 */
int	 tlsrpt_summary_add(struct ks_txn *, const char *domain,
	    int64_t since, struct json_t *a);

/* mtasts.c */
int	 cmd_mtasts(struct ctl *, int, char **);
/* Stop serving domain d's MTA-STS policy: 0, or -1 (warned). */
int	 mtasts_drop(struct ks_txn *, const char *d);

/* treeout.c (export-tree), treein.c (import-tree) */
int	 cmd_export_tree(struct ctl *, int, char **);
int	 cmd_import_tree(struct ctl *, int, char **);

#define TREE_WK		".well-known/openpgpkey"	/* Both layouts. */
#define TREE_ADV	"openpgpkey."	/* The advanced method's host. */

/* A path made from fmt into buf; -1 (warned) if too long. */
int	 tree_path(char *buf, size_t bufsz, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* What export-tree wrote for one domain (the same in both layouts). */
struct tree_domain {
	char		 name[KS_DOMAIN_MAX];	/* A-label. */
	size_t		 nkeys;		/* Files under hu/. */
	size_t		 bytes;		/* Their bytes. */
	int		 policy;	/* A policy file was written. */
	size_t		 policylen;
};

struct tree_export {
	struct tree_domain *v;		/* In name order. */
	size_t		 n;
};

/*
 * Write what the store serves for domains (n A-labels, each hosted; n 0:
 * every hosted domain) into the empty directory rootfd, in both layouts
 * (see tree.c): every WKD entry of each domain, as wkdd serves it, and
 * its policy file.  Keys come from txn, one blob in memory at a time;
 * policies from ks (ks_get_policy(): keystore.h has no read of a policy
 * in a transaction).  Files are written, not yet fsync(2)ed (see
 * tree_install()).  *r (free with tree_export_free(), also after an
 * error) gets each domain's counts.  Returns 0, or -1 after warning.
 */
int	 tree_export(struct ks_txn *, struct ks *, int rootfd,
	    char **domains, size_t n, struct tree_export *r);
void	 tree_export_free(struct tree_export *);

/* Where a tree goes: DIR, a symbolic link to the tree it names. */
struct tree_dest {
	char		 dir[PATH_MAX];		/* DIR, no trailing '/'. */
	char		 parent[PATH_MAX];	/* Its directory. */
	char		 tmp[PATH_MAX];		/* The new tree. */
	char		 old[PATH_MAX];		/* DIR's target, or "". */
};

/*
 * Make a new empty tree directory beside dir (".DIR.XXXXXX", mode 0755
 * less the umask) into *d; dir must be a symbolic link or not exist.
 * Returns 0, or -1 after warning.
 */
int	 tree_stage(const char *dir, struct tree_dest *d);
/*
 * fsync(2) every file and directory of d->tmp, then point d->dir at it:
 * a new link renamed over d->dir (rename(2): atomic), the parent
 * fsync(2)ed; then remove the tree d->dir named before, if export-tree
 * made it.  Returns 0, or -1 after warning (d->dir then unchanged).
 */
int	 tree_install(struct tree_dest *d);
/* Remove d->tmp and all in it (after a failure). */
void	 tree_discard(struct tree_dest *d);

/* What import-tree did with a file, or with one key in it. */
#define TREE_IMPORTED	0	/* Imported (and see rep). */
#define TREE_SKIPPED	1	/* A key left out, with a note. */
#define TREE_MISMATCH	2	/* Name is no hash of its UIDs. */
#define TREE_FAILED	3	/* Not importable: see why. */

struct tree_key {
	char		 fpr[KS_FPR_MAX];
	int		 status;		/* TREE_* */
	char		 why[2 * KS_ADDR_MAX + 128];
	struct import_report rep;		/* If TREE_IMPORTED. */
};

struct tree_file {
	char		*path;			/* Below dir; malloc(3)ed. */
	char		 domain[KS_DOMAIN_MAX];
	int		 status;		/* Its worst key's, or own. */
	char		 why[2 * KS_ADDR_MAX + 128];	/* If own. */
	/* The addresses in domain whose hash the name is. */
	char		(*addrs)[KS_ADDR_MAX];
	int		*created;		/* Account made for addrs[i]. */
	size_t		 naddrs;
	struct tree_key	*keys;			/* In the file's order. */
	size_t		 nkeys;
};

struct tree_import {
	struct tree_file *v;
	size_t		 n, cap;
	size_t		 nimported, nmismatch, nfailed, ncreated;
};

struct tree_import_req {
	const char	*dir;
	const char	*domain;	/* --domain (an A-label), or NULL. */
	int		 create;	/* --create-accounts. */
	struct pass	*pp;		/* For a secret key in a file. */
	struct io_progress *pg;		/* Files done, or NULL. */
};

/*
 * Import every key file of the WKD tree req->dir in txn (see tree.c for
 * the layouts): a file is imported (import_keys()) only if its name is
 * the WKD hash of one of its key's UID addresses in the domain it lies
 * under; with req->create an account is made for such an address first.
 * *r (free with tree_import_free(), also after an error) says what
 * happened to each file.  Returns 0 (mismatches and files that could not
 * be imported are in r), or -1 after warning if the store failed or a
 * key was refused: the caller aborts txn.
 */
int	 tree_import(struct ks_txn *, const struct tree_import_req *,
	    struct tree_import *r);
void	 tree_import_free(struct tree_import *);

/* spawn.c */
#define SPAWN_OUT_MAX	(16 * 1024)	/* Output kept: the end. */

/* A program's output: its last SPAWN_OUT_MAX bytes. */
struct spawn_out {
	char	 buf[SPAWN_OUT_MAX + 1];
	size_t	 len;
	int	 cut;		/* Earlier output was dropped. */
};

/*
 * Run argv (no shell, argv[0] looked up in PATH) in our environment plus
 * env1 ("NAME=value", or NULL), stdin /dev/null, stdout and stderr into
 * *o, for at most timeout seconds (then SIGTERM, and SIGKILL 5 s later).
 * Returns the exit status, 128 + signal if killed, or -1 if it could not
 * run (warned).
 */
int	 spawn_run(const char *const argv[], const char *env1,
	    unsigned timeout, struct spawn_out *o);
/* Print o to stderr, each line indented and labelled. */
void	 spawn_out_print(const struct spawn_out *o, const char *label);

/* acme.c */
/* Is an ACME client configured (acme-client, not "none")? */
int	 acme_enabled(const struct conf *);
/*
 * Request the certificates of domain's service names, openpgpkey.DOMAIN
 * and, if mtasts, mta-sts.DOMAIN, with ctl->conf's ACME client; if any is
 * new, SIGHUP wkdd (pidfile) and note it in the audit log.  Reports on
 * stdout, failures on stderr (with the client's output).  Returns 0 if
 * every name has a certificate now (new, or kept as not due), else -1.
 */
int	 acme_domain(struct ctl *, const char *domain, int mtasts);
/* wkdctl domain cert [--mta-sts] domain; argv[0] is "cert". */
int	 acme_cmd(struct ctl *, int, char **);

/* dns.c */
#define DNS_ADDRS_MAX	8
#define DNS_NAME_MAX	1025		/* NS_MAXDNAME. */
#define DNS_TTL		3600
#define DNS_TLSA_LEN	32		/* SHA-256. */

/* Record types not every header names. */
#define DNS_T_A		1
#define DNS_T_NS	2
#define DNS_T_CNAME	5
#define DNS_T_SOA	6
#define DNS_T_TXT	16
#define DNS_T_AAAA	28
#define DNS_T_TLSA	52
#define DNS_T_CAA	257

#define DNS_OK		0	/* Records of the type asked for. */
#define DNS_NODATA	1	/* The name exists, without such records. */
#define DNS_NXDOMAIN	2	/* The name does not exist. */
#define DNS_FAIL	3	/* No answer, SERVFAIL, REFUSED, bad reply. */

/* DNSSEC, as libunbound validated an answer; ordered, worst last. */
#define DNS_SEC_SECURE		0	/* Signed, the chain validated. */
#define DNS_SEC_INSECURE	1	/* Provably unsigned. */
#define DNS_SEC_UNKNOWN		2	/* Not validated (no anchor). */
#define DNS_SEC_BOGUS		3	/* Validation failed: no data. */

struct dns_rr {
	unsigned	 type;
	uint32_t	 ttl;
	unsigned char	*rdata;		/* malloc(3)ed copy. */
	size_t		 rdlen;
	char		 text[DNS_NAME_MAX];	/* CNAME target, A/AAAA text. */
};

/*
 * One answer.  A CNAME chain from the name asked for is followed (at most
 * 8 links); cname is the chain's last name ("" if none), and rr holds the
 * records of the type asked for owned by that name.  status is a DNS_*
 * value; nxdomain after a CNAME means its target does not exist.
 */
struct dns_ans {
	int		 status;
	int		 sec;		/* DNS_SEC_*; bogus: status DNS_FAIL. */
	char		 why[256];	/* Bogus: libunbound's reason. */
	int		 rcode;
	char		 cname[DNS_NAME_MAX];
	struct dns_rr	*rr;
	size_t		 nrr;
};

/*
 * Parse reply msg (len bytes) to a query for name, type into *ans (free
 * with dns_ans_free(), also after an error).  Returns 0, or -1 if msg is
 * not a DNS reply (ans->status is DNS_FAIL then).
 */
int	 dns_parse(const unsigned char *msg, size_t len, const char *name,
	    unsigned type, struct dns_ans *ans);
/*
 * Ask the resolvers of /etc/resolv.conf (no search list, TCP on
 * truncation) for name and type, or after dns_init() libunbound, which
 * sets ans->sec.  Returns ans->status.
 */
int	 dns_query(const char *name, unsigned type, struct dns_ans *ans);
/*
 * From now on, dns_query() validates DNSSEC with libunbound, forwarding to
 * resolver (addresses, space-separated, "ADDR@PORT" for a port) or, if
 * NULL, to the nameservers of /etc/resolv.conf; with the trust anchors of
 * file anchor (zone file format: DS or DNSKEY records) or, if NULL, of
 * the root's from dns-root-data or unbound-anchor if installed, or none if
 * "" (without, answers are DNS_SEC_UNKNOWN).  used gets the resolvers'
 * addresses.
 * 0, or -1 with err set.  dns_done() frees it all.
 */
int	 dns_init(const char *resolver, const char *anchor, char *used,
	    size_t usedsz, char *err, size_t errsz);
void	 dns_done(void);
/* 1 if dns_init() loaded a trust anchor. */
int	 dns_validates(void);
/* "secure", "insecure", "bogus", "unknown". */
const char *dns_sec_name(int sec);
/* The worse of two DNS_SEC_* values. */
int	 dns_sec_worse(int, int);
void	 dns_ans_free(struct dns_ans *);
/*
 * The character-strings of TXT record rr, joined, into out (always
 * NUL-terminated).  Returns 0, or -1 if rr is malformed or does not fit
 * (out then holds the strings before that).
 */
int	 dns_txt(const struct dns_rr *rr, char *out, size_t outsz);
/* Case-insensitive name comparison, ignoring one trailing dot. */
int	 dns_name_eq(const char *, const char *);
/* "a.b." or "a.b" to "a.b" in out; -1 if it does not fit. */
int	 dns_name_strip(const char *in, char *out, size_t outsz);

/* x509.c */
/* TLSA 3 1 1: SHA-256 of the certificate's SubjectPublicKeyInfo. */
int	 x509_tlsa(gnutls_x509_crt_t, unsigned char out[DNS_TLSA_LEN]);
/*
 * The certificate file wkdd serves for host: tls_dir/live/HOST/
 * fullchain.pem if tls_dir is set and that file exists, else cert.  Copies
 * its path into out; -1 if there is none.
 */
int	 x509_cert_path(const struct zone_conf *, const char *host, char *out,
	    size_t outsz);
/*
 * Load the first certificate of PEM file path into *crtp (free with
 * gnutls_x509_crt_deinit()).  Warns and returns -1 on failure.
 */
int	 x509_load(const char *path, gnutls_x509_crt_t *crtp);
/* Hex of in (len bytes) into out (2 * len + 1 bytes), uppercase. */
void	 x509_hex(const unsigned char *in, size_t len, char *out);

/* zone.c */
/*
 * What the customer's records point at and say: from command options until
 * wkdd.conf has directives for them (see wkdctl.8).  Pointers are
 * borrowed (argv or the config), never freed here.
 */
struct zone_conf {
	char		 target[KS_DOMAIN_MAX];	/* Service name, or "". */
	/* Or the service's addresses. */
	char		 addrs[DNS_ADDRS_MAX][INET6_ADDRSTRLEN];
	size_t		 naddrs;
	char		 caa[KS_DOMAIN_MAX];	/* CA's domain, or "". */
	const char	*tlsrpt;	/* TLSRPT rua URI(s), or NULL. */
	int		 tlsrpt_https;	/* tlsrpt-spool: wkdd takes reports. */
	const char	*cert;		/* tls-cert, or NULL. */
	const char	*tls_dir;	/* live/NAME/fullchain.pem, or NULL. */
	const char	*cafile;	/* check: trust only these CAs. */
	unsigned	 port;		/* check: HTTPS port, 443. */
	int		 acme;		/* acme-client configured. */
	int		 json;		/* check: print the result as JSON. */
	int		 nostore;	/* check: don't store the result. */
	int		 last;		/* check: print the stored result. */
	int		 all;		/* check: every hosted domain. */
	int		 caa_on;	/* dns: print CAA as a record. */
	const char	*resolver;	/* check: forwarder, or NULL. */
	const char	*anchor;	/* check: trust anchor file, or NULL. */
};
int	 cmd_dns(struct ctl *, int, char **);
int	 zone_conf_apply(struct zone_conf *, const struct conf *);
/*
 * The MTA-STS policy id of ETag etag: its letters and digits (RFC 8461
 * 3.1: 1 to 32 of them).  -1 if none are left.
 */
int	 zone_mtasts_id(const char *etag, char *out, size_t outsz);
/*
 * Print the zone-file lines for domain (an A-label) to fp.  tlsa is the
 * TLSA 3 1 1 hash (NULL if no certificate is known yet, cert_note says
 * why), mtasts_id the MTA-STS policy id (NULL: no MTA-STS).
 */
int	 zone_print(FILE *fp, const struct zone_conf *, const char *domain,
	    const unsigned char *tlsa, const char *cert_note,
	    const char *mtasts_id);
/*
 * Options shared by "dns" and "domain check" into dc; returns optind, or -1
 * after printing usage (the caller returns 2).  check allows the check's
 * own options.
 */
int	 zone_getopt(int argc, char **argv, struct zone_conf *dc, int check,
	    const char *usage);

/*
 * wkdctl dns [options] domain; store may be NULL (no MTA-STS then), conf
 * may be NULL.  Returns the exit status.
 */
/*
 * What "dns" prints for dom (an A-label) to fp: zone_print() with the
 * TLSA hash of the certificate served for openpgpkey.DOM (dc's tls-dir or
 * cert) and the MTA-STS id of mtasts_etag (the policy's ETag; NULL: no
 * policy).  Warns of a certificate clients would refuse.  0, or -1 if dc
 * names no service (target or addresses).
 */
int	 zone_write(FILE *fp, const struct zone_conf *dc, const char *dom,
	    const char *mtasts_etag);
int	 zone_cmd(const char *store, size_t mapsize, const struct conf *conf,
	    int argc, char **argv);

/* check.c, checkhttps.c */
int	 cmd_domain_check(struct ctl *, int, char **);	/* argv[0]: "check" */
/* wkdctl domain check [options] domain; argv[0] is "check". */
int	 check_cmd(struct ctl *, int argc, char **argv);

#define CHECK_ADDRS_MAX	16

struct json_t;

/* One run of "domain check": what it found so far. */
/* A WKD method as a client meets it (check.c's "methods"). */
struct check_method {
	int		 resolves;	/* The host has addresses. */
	int		 tried;		/* HTTPS was tried at them. */
	int		 tls;		/* Connected, certificate accepted. */
	int		 policy;	/* Policy file served (200). */
	int		 cors;		/* Access-Control-Allow-Origin: *. */
	int		 key;		/* 1 served, 0 not, -1 none to fetch. */
	int		 nkeys;		/* Keys in the one served, or 0. */
	char		 detail[512];	/* The first problem, or "". */
	char		 fix[512];
};

struct check {
	const struct zone_conf	*dc;
	const char		*area;	/* Of the next results: "dns", ... */
	struct json_t		*results; /* Each result, for the record. */
	struct ks		*ks;	/* NULL: no store. */
	char			 dom[KS_DOMAIN_MAX];
	char			 host[DNS_NAME_MAX];	/* openpgpkey.DOMAIN */
	int			 fails;
	int			 warns;
	/* openpgpkey.DOMAIN's addresses, as resolved. */
	char			 addrs[CHECK_ADDRS_MAX][INET6_ADDRSTRLEN];
	size_t			 naddrs;
	/* TLSA hash of the certificate served (HTTPS) or configured. */
	int			 host_ok;	/* Reaches the service. */
	int			 hosted;	/* The domain is hosted here. */
	unsigned char		 tlsa[DNS_TLSA_LEN];
	int			 have_tlsa;
	const char		*tlsa_from;
	int			 dnssec;	/* DNS_SEC_* of the zone. */
	int			 sec;	/* Of the next results, or -1. */
	char			 resolver[256];	/* Forwarders asked. */
	/*
	 * What a client meets with each method.  While m is set, the first
	 * failure (detail, fix) is kept there; while silent, results are
	 * neither printed, kept nor counted (probes for the verdicts).
	 */
	struct check_method	 adv, dir;
	struct check_method	*m;
	int			 silent;
	const char		*wkpath; /* /.well-known/openpgpkey[/D] */
};

/* snprintf(3) that may truncate: for messages and names known to fit. */
void	 check_fmt(char *buf, size_t bufsz, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Result lines on stdout: "ok: ...", "warn: ...", "FAIL: ... - fix: FIX". */
void	 check_ok(struct check *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 check_warn(struct check *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 check_fail(struct check *, const char *fix, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The certificate, policy file and a key at each address (checkhttps.c). */
void	 check_https(struct check *);
/*
 * Check domain dom (an A-label) with options dc; prints the result lines
 * unless dc->json; stores the result if the domain is hosted (unless
 * dc->nostore).  *docp: the document (schema in check.c), decref it; NULL
 * without memory.  Returns 0 if nothing failed, else 1.  Serialised: one
 * check at a time in a process.
 */
#define CHECK_DOC_VERSION	2
int	 check_one(struct ctl *, const struct zone_conf *dc, const char *dom,
	    struct json_t **docp);
/* The direct method at https://DOMAIN/, into c->dir (checkhttps.c). */
void	 check_direct(struct check *);
/*
 * Addresses (A and AAAA, CNAMEs followed) of name into v (max), their
 * number in *np, the DNS_* status in *status, the CNAME chain's end in
 * cname.  -1 on a DNS failure.
 */
int	 check_addrs(const char *name, char v[][INET6_ADDRSTRLEN], size_t max,
	    size_t *np, int *status, char *cname, size_t cnamesz);

/* https.c */
struct https_resp {
	int		 status;	/* HTTP status, 0 if none. */
	char		*headers;	/* Header lines, malloc(3)ed. */
	unsigned char	*body;		/* malloc(3)ed, NUL after bodylen. */
	size_t		 bodylen;
	char		*url;		/* https_fetch(): the last hop's. */
};

/*
 * A TLS connection to host (SNI and name check) at address addr, port:
 * verified against cafile, or the system trust store if cafile is NULL.
 * Fills *crtp (the server's certificate, deinit it), *verify (GnuTLS
 * verification status, 0 if trusted and naming host).  Then GET path, with
 * "Host: host", into *resp (free with https_resp_free()).  err gets a
 * message on failure.  Returns 0 if a response was read, -1 if not (with
 * *crtp set if the handshake got that far).
 */
int	 https_get(const struct sockaddr *addr, unsigned addrlen,
	    const char *host, const char *path, const char *cafile,
	    gnutls_x509_crt_t *crtp, unsigned *verify,
	    struct https_resp *resp, char *err, size_t errsz);
/* The value of header name (case-insensitive), copied into out; -1 if none. */
int	 https_header(const struct https_resp *, const char *name, char *out,
	    size_t outsz);
void	 https_resp_free(struct https_resp *);
/*
 * GET url (https only) with the server's certificate verified by libcurl
 * against cafile, or the system trust store if NULL, and its name.
 * Redirects (301, 302, 303, 307, 308) are followed, at most
 * HTTPS_REDIRECTS, each to an https URL only; a body over max bytes, a
 * stalled or slow server (10 s to connect or between data, 30 s in all)
 * fail.  Fills *resp (free with https_resp_free(); resp->url is the last
 * URL) with the last response, whatever its status.  Returns 0, or -1
 * with err set.
 */
#define HTTPS_REDIRECTS	5
int	 https_fetch(const char *url, const char *cafile, size_t max,
	    struct https_resp *resp, char *err, size_t errsz);

/* locate.c */
#define LOCATE_VKS	"https://keys.openpgp.org"
int	 cmd_locate(struct ctl *, int, char **);
/*
 * locate for address addr (normalised), by WKD then vks (NULL: WKD only),
 * trusting cafile's CAs (NULL: the system's): the object "locate --json"
 * prints (found, method, url, fingerprint, key armored, tried), a new
 * reference; NULL if addr can't be hashed or out of memory.
 */
struct json_t *locate_lookup(const char *addr, const char *vks,
	    const char *cafile);
/*
 * base (a VKS server's URL) + "/vks/v1/" what "/" arg into out: 0, or -1
 * if it doesn't fit.
 */
int	 locate_vks_url(const char *base, const char *what, const char *arg,
	    char *out, size_t outsz);
/*
 * Of another server's answer data (pgp_accept()'s rules), the key to take
 * for addr, merged alone (self-signatures verified) into *out (free with
 * pgp_cert_free()): the first (an unrevoked one before) with a valid UID
 * for exactly addr, whose index goes into *uidx.  Returns 0, or -1 with
 * the reason in err.
 */
int	 locate_pick(const char *name, const unsigned char *data, size_t len,
	    const char *addr, struct pgp_cert *out, ssize_t *uidx, char *err,
	    size_t errsz);

/* refresh.c */
int	 cmd_refresh(struct ctl *, int, char **);

#endif /* WKDCTL_H */
