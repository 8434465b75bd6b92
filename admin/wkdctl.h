/*
 * wkdctl.h: wkdctl's internal interfaces, grouped by file.
 *
 * wkdctl.c	main(), global options, command dispatch, usage().
 * cmd.c	init, domain, account and alias commands; publish, unpublish.
 * key.c	import, list, show, export, hash, remove and log.
 * rev.c	revoke and export-revocation.
 * pgp.c	everything that parses OpenPGP (RNP): reading input, merging
 *		and cleaning certificates, shaping the blob published for one
 *		address.  Nothing else in wkdctl includes rnp.h.
 * pub.c	publishing an address's blob under its WKD hash(es), and
 *		taking it down again.
 * util.c	store opening, address helpers, file I/O.
 * acme.c	certificates for openpgpkey.DOMAIN from an ACME CA.
 * mtasts.c	mta-sts: the MTA-STS policy served under mta-sts.DOMAIN.
 */
#ifndef WKDCTL_H
#define WKDCTL_H

#include <stddef.h>
#include <stdio.h>

#include "keystore.h"

struct conf;

#define EXIT_USAGE	2

/* Usage lines ("\n"-separated): usage(), --help, wkdctl.8's SYNOPSIS. */
#define INIT_USAGE	"init"
#define DOMAIN_USAGE	"domain add [--no-cert] domain\n" \
			"domain cert [--mta-sts] domain\n" \
			"domain remove domain\n" \
			"domain policy domain file\n" \
			"domain check [options] domain\n" \
			"domain list\n" \
			"domain set domain keep-revoked on | off"
#define ACCOUNT_USAGE	"account add primary [--alias address ...]\n" \
			"account list\n" \
			"account show address\n" \
			"account remove primary"
#define ALIAS_USAGE	"alias add primary address\n" \
			"alias remove primary address"
#define IMPORT_USAGE	"import [--account address] [--passphrase-fd n] " \
			"file ..."
#define LIST_USAGE	"list [domain]"
#define SHOW_USAGE	"show address | fingerprint"
#define EXPORT_USAGE	"export address [-o file]"
#define DNS_USAGE	"dns [options] domain"
#define HASH_USAGE	"hash address"
#define REMOVE_USAGE	"remove fingerprint"
#define LOG_USAGE	"log [-v] [--json] [--since time] " \
			"[address | domain | fingerprint]"
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
#define MTASTS_USAGE	"mta-sts set domain --mode enforce|testing|none " \
			"[--mx pattern ...] --max-age seconds\n" \
			"mta-sts show domain\n" \
			"mta-sts remove domain"


/* What main() hands every command. */
struct ctl {
	const char	*store;		/* Store directory. */
	size_t		 mapsize;	/* store-size; 0: default. */
	struct ks	*ks;		/* Opened by ctl_open(). */
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

/* cmd.c */
int	 cmd_init(struct ctl *, int, char **);
int	 cmd_domain(struct ctl *, int, char **);
int	 cmd_account(struct ctl *, int, char **);
int	 cmd_alias(struct ctl *, int, char **);
int	 cmd_publish(struct ctl *, int, char **);
int	 cmd_unpublish(struct ctl *, int, char **);

/* key.c */
int	 cmd_import(struct ctl *, int, char **);
int	 cmd_list(struct ctl *, int, char **);
int	 cmd_show(struct ctl *, int, char **);
int	 cmd_export(struct ctl *, int, char **);
int	 cmd_hash(struct ctl *, int, char **);
int	 cmd_remove(struct ctl *, int, char **);
int	 cmd_log(struct ctl *, int, char **);
int	 key_publish_stored(struct ks_txn *, const char *addr,
	    char fpr[KS_FPR_MAX]);
/*
 * Serve again what a (published, a->fpr set) serves now: its key's UID
 * blob, followed by its revoked predecessor's when the domain keeps
 * revoked keys.  Errors go to errfp.  Returns 0 or -1.
 */
int	 key_refresh(struct ks_txn *, struct ks_addr *a, FILE *errfp);
/* *removed: was a's account removed?  Returns a KS_* code. */
int	 key_account_removed(struct ks_txn *, const struct ks_addr *a,
	    int *removed);
/* key_refresh() every published address of domain. */
int	 key_refresh_domain(struct ks_txn *, const char *domain);
/*
 * Key fpr changed: key_refresh() every address serving it, or serving
 * the key that superseded it (which may serve it as predecessor).
 */
int	 key_refresh_key(struct ks_txn *, const char *fpr, FILE *errfp);
/*
 * A one-line state of stored key fpr into buf: "valid", "expired since
 * DATE", "revoked (REASON)", each with ", superseded by FPR" if so.
 */
int	 key_state(struct ks_txn *, const char *fpr, char *buf, size_t);

/* rev.c */
int	 cmd_revoke(struct ctl *, int, char **);
int	 cmd_export_revocation(struct ctl *, int, char **);

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

/* dns.c, check.c: WKD-as-a-service (check.h). */
int	 cmd_dns(struct ctl *, int, char **);
int	 cmd_domain_check(struct ctl *, int, char **);	/* argv[0]: "check" */

/* mtasts.c */
int	 cmd_mtasts(struct ctl *, int, char **);

/* util.c */
/*
 * A passphrase for a secret key: read once from fd (--passphrase-fd), or
 * asked on /dev/tty (echo off) when stdin is a terminal.  Never logged;
 * ctl_pass_clear() wipes it.
 */
struct ctl_pass {
	int	 fd;		/* -1: none given. */
	int	 state;		/* 0 not yet read, 1 have it, -1 none. */
	char	 buf[1024];
};

void	 ctl_pass_init(struct ctl_pass *);
/* Parse a --passphrase-fd argument; warns and returns -1 if bad. */
int	 ctl_pass_fd(struct ctl_pass *, const char *arg);
/* Can a passphrase be had (fd given, or a terminal to ask on)? */
int	 ctl_pass_avail(const struct ctl_pass *);
/* The passphrase (NUL-terminated, in pp->buf), or NULL if none. */
const char *ctl_pass_get(struct ctl_pass *, const char *what);
void	 ctl_pass_clear(struct ctl_pass *);
/* Write s as a JSON string (quoted, escaped) to fp. */
void	 ctl_json_str(FILE *, const char *s);
/* Write len bytes to fd; -1 on error (errno set). */
int	 ctl_write_all(int fd, const unsigned char *, size_t);
/* s percent-encoded for a query (l=); -1 if it doesn't fit outsz. */
int	 ctl_pct(const char *s, char *out, size_t outsz);
/* A snapshot of address records (ctl_addrs()), for walking and changing. */
struct ctl_addrs {
	struct ks_addr	*v;
	size_t		 n, cap;
};

int	 ctl_addrs(struct ks_txn *, const char *account, struct ctl_addrs *);
void	 ctl_addrs_free(struct ctl_addrs *);
const char *ctl_state(int);	/* "primary", "alias", "retired" */
/*
 * The audit log (in the store, in the same transaction as the change):
 * ctl_log_init() records the command line; ctl_log() appends an entry for
 * subject (an address, domain or fingerprint).  Returns a KS_* code, having
 * warned.
 */
void	 ctl_log_init(int, char **);
int	 ctl_log(struct ks_txn *, const char *subject, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * If argv holds -h or --help: print cmd's usage and help on stdout and
 * return 0.  Else return -1.
 */
int	 ctl_help(const struct ctl_cmd *, int, char **);
void	 ctl_cmd_help(const struct ctl_cmd *);
/* Print "usage: wkdctl USAGE" to stderr; returns EXIT_USAGE. */
int	 ctl_usage(const char *usage);
/* Print usage's lines ("\n"-separated), the first as "usage: " if first. */
void	 ctl_print_usage(FILE *, const char *usage, int first);
const struct ctl_cmd *ctl_find(const struct ctl_cmd *, size_t, const char *);
/* Open the store (write access); warns and returns -1 on failure. */
int	 ctl_open(struct ctl *, int flags);
void	 ctl_close(struct ctl *);
/* Begin / commit a transaction; warn and return -1 on failure. */
int	 ctl_begin(struct ctl *, int flags, struct ks_txn **);
int	 ctl_commit(struct ctl *, struct ks_txn *);
/*
 * Normalise an address typed by the operator; warns ("what: ...") and
 * returns -1 if it isn't one.  domain (KS_DOMAIN_MAX) may be NULL.
 */
int	 ctl_addr(const char *in, char out[KS_ADDR_MAX],
	    char domain[KS_DOMAIN_MAX]);
/* Normalise a domain to its A-label; warns and returns -1 if it isn't one. */
int	 ctl_domain(const char *in, char out[KS_DOMAIN_MAX]);
/* Normalise a fingerprint (hex, any case, spaces, "0x"); -1 if none. */
int	 ctl_fpr(const char *in, char out[KS_FPR_MAX]);
/*
 * Read a whole file ("-" is stdin) into a malloc(3)ed buffer (*datap,
 * *lenp); at most max bytes.  Warns and returns -1 on failure.
 */
int	 ctl_read_file(const char *path, size_t max, unsigned char **datap,
	    size_t *lenp);
/* Zero and free a buffer that may hold secret-key material. */
void	 ctl_wipe(unsigned char *, size_t);
/* The local part and domain of a normalised address (split at the last @). */
int	 ctl_split(const char *addr, char *local, size_t localsz,
	    char *domain, size_t domainsz);

/* pub.c */
/*
 * The WKD hashes of a normalised address: ascii (the draft's, always) and,
 * if full Unicode lowercasing of the local part gives another one, uni
 * (else uni is "").  lower (KS_ADDR_MAX, may be NULL) gets that lowercased
 * address.  Returns KS_OK or a KS_* code.
 */
int	 pub_hashes(const char *addr, char ascii[KS_HASH_LEN + 1],
	    char uni[KS_HASH_LEN + 1], char *lower);
/* Publish blob for address addr under its hash(es). */
int	 pub_put(struct ks_txn *, const char *addr, const unsigned char *,
	    size_t);
/* Remove what is published for addr (only entries that are addr's). */
int	 pub_del(struct ks_txn *, const char *addr);
/*
 * Before binding the new address addr: take down what its hashes serve
 * (Unicode-hash entries of other addresses, now its own or ambiguous).
 */
int	 pub_bind(struct ks_txn *, const char *addr);

/* pgp.c */
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
};

/* A certificate as read from input or the store. */
struct pgp_cert {
	char		 fpr[KS_FPR_MAX];
	unsigned char	*data;		/* Public packets only. */
	size_t		 len;
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
};

struct pgp_certs {
	struct pgp_cert	*v;
	size_t		 n;
};

/*
 * Read the keys in data (armored or binary, public or secret: only the
 * public parts are kept) and append each primary key with its subkeys to
 * certs (a key seen before is concatenated, to be merged later).  name
 * labels errors.  Returns 0, or -1 after warning.
 */
int	 pgp_read(const char *name, const unsigned char *data, size_t len,
	    struct ctl_pass *pp, struct pgp_certs *certs);
/*
 * Merge stored (may be NULL) and in into out (a new struct, free with
 * pgp_cert_free()): self-signatures verified, invalid UIDs, user
 * attributes, third-party and invalid signatures dropped; out->uids
 * classifies the UIDs of the merged input, dropped ones included.
 */
int	 pgp_merge(const char *fpr, const unsigned char *stored, size_t slen,
	    const unsigned char *in, size_t inlen, struct pgp_cert *out);
/*
 * The blob to publish for UID uid (its text) of cert: only that UID with
 * its newest valid self-signature.  *blobp is malloc(3)ed.
 */
int	 pgp_shape(const struct pgp_cert *, const char *uid,
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
 * Make a revocation signature for key fpr with the secret key in keydata
 * (a keypair, as for pgp_read(); the passphrase from pp if protected).
 * *sigp (binary signature packet) is malloc(3)ed.  0, or -1 after warning.
 */
int	 pgp_revoke_make(const char *name, const unsigned char *keydata,
	    size_t keylen, const char *fpr, int reason, const char *message,
	    struct ctl_pass *pp, unsigned char **sigp, size_t *siglenp);
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
/* ASCII armor ("PGP PUBLIC KEY BLOCK") of data; *outp malloc(3)ed. */
int	 pgp_armor(const unsigned char *, size_t, char **outp, size_t *lenp);
void	 pgp_cert_free(struct pgp_cert *);
void	 pgp_certs_free(struct pgp_certs *);
/* The addr-spec of a UID ("Name <a@b>" or "a@b"), copied into out. */
int	 pgp_uid_addr(const char *uid, char *out, size_t outsz);

#endif /* WKDCTL_H */
