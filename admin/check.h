/*
 * check.h: wkdctl's DNS helper and onboarding check for WKD-as-a-service
 * (a customer points openpgpkey.DOMAIN at this server).
 *
 * dns.c	a DNS client over glibc's resolver (res_nmkquery, res_nsend,
 *		ns_parserr: the server in /etc/resolv.conf, no cache), the
 *		records a customer must publish ("wkdctl dns"), TLSA hashes.
 * check.c	"wkdctl domain check": DNS, certificate, policy and one key,
 *		fetched as a client would.
 * https.c	a small HTTPS GET client (GnuTLS) for check.c.
 */
#ifndef CHECK_H
#define CHECK_H

#include <sys/socket.h>

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "keystore.h"

struct conf;

#define DNS_ADDRS_MAX	8
#define DNS_NAME_MAX	1025		/* NS_MAXDNAME. */
#define DNS_TTL		3600
#define DNS_TLSA_LEN	32		/* SHA-256. */

/* Record types not every header names. */
#define DNS_T_A		1
#define DNS_T_CNAME	5
#define DNS_T_TXT	16
#define DNS_T_AAAA	28
#define DNS_T_TLSA	52
#define DNS_T_CAA	257

/*
 * What the customer's records point at and say: from command options until
 * wkdd.conf has directives for them (see wkdctl.8).  Pointers are
 * borrowed (argv or the config), never freed here.
 */
struct dns_conf {
	char		 target[KS_DOMAIN_MAX];	/* Service name, or "". */
	/* Or the service's addresses. */
	char		 addrs[DNS_ADDRS_MAX][INET6_ADDRSTRLEN];
	size_t		 naddrs;
	char		 caa[KS_DOMAIN_MAX];	/* CA's domain, or "". */
	const char	*tlsrpt;	/* TLSRPT rua URI(s), or NULL. */
	const char	*cert;		/* tls-cert, or NULL. */
	const char	*tls_dir;	/* live/NAME/fullchain.pem, or NULL. */
	const char	*cafile;	/* check: trust only these CAs. */
	unsigned	 port;		/* check: HTTPS port, 443. */
	int		 acme;		/* acme-client configured. */
};

/* dns.c */
int	 dns_conf_apply(struct dns_conf *, const struct conf *);
#define DNS_OK		0	/* Records of the type asked for. */
#define DNS_NODATA	1	/* The name exists, without such records. */
#define DNS_NXDOMAIN	2	/* The name does not exist. */
#define DNS_FAIL	3	/* No answer, SERVFAIL, REFUSED, bad reply. */

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
 * truncation) for name and type.  Returns ans->status.
 */
int	 dns_query(const char *name, unsigned type, struct dns_ans *ans);
void	 dns_ans_free(struct dns_ans *);
/* Case-insensitive name comparison, ignoring one trailing dot. */
int	 dns_name_eq(const char *, const char *);
/* "a.b." or "a.b" to "a.b" in out; -1 if it does not fit. */
int	 dns_name_strip(const char *in, char *out, size_t outsz);

/* TLSA 3 1 1: SHA-256 of the certificate's SubjectPublicKeyInfo. */
int	 dns_tlsa_crt(gnutls_x509_crt_t, unsigned char out[DNS_TLSA_LEN]);
/*
 * The certificate file wkdd serves for host: tls_dir/live/HOST/
 * fullchain.pem if tls_dir is set and that file exists, else cert.  Copies
 * its path into out; -1 if there is none.
 */
int	 dns_cert_path(const struct dns_conf *, const char *host, char *out,
	    size_t outsz);
/*
 * Load the first certificate of PEM file path into *crtp (free with
 * gnutls_x509_crt_deinit()).  Warns and returns -1 on failure.
 */
int	 dns_cert_load(const char *path, gnutls_x509_crt_t *crtp);
/* Hex of in (len bytes) into out (2 * len + 1 bytes), uppercase. */
void	 dns_hex(const unsigned char *in, size_t len, char *out);
/*
 * The MTA-STS policy id of ETag etag: its letters and digits (RFC 8461
 * 3.1: 1 to 32 of them).  -1 if none are left.
 */
int	 dns_mtasts_id(const char *etag, char *out, size_t outsz);
/*
 * Print the zone-file lines for domain (an A-label) to fp.  tlsa is the
 * TLSA 3 1 1 hash (NULL if no certificate is known yet, cert_note says
 * why), mtasts_id the MTA-STS policy id (NULL: no MTA-STS).
 */
int	 dns_zone(FILE *fp, const struct dns_conf *, const char *domain,
	    const unsigned char *tlsa, const char *cert_note,
	    const char *mtasts_id);
/*
 * Options shared by "dns" and "domain check" into dc; returns optind, or -1
 * after printing usage (the caller returns 2).  check allows the check's
 * own options.
 */
int	 dns_getopt(int argc, char **argv, struct dns_conf *dc, int check,
	    const char *usage);

/*
 * wkdctl dns [options] domain; store may be NULL (no MTA-STS then), conf
 * may be NULL.  Returns the exit status.
 */
int	 dns_cmd(const char *store, size_t mapsize, const struct conf *conf,
	    int argc, char **argv);

/* check.c */
/* wkdctl domain check [options] domain; argv[0] is "check". */
int	 check_cmd(const char *store, size_t mapsize, const struct conf *conf,
	    int argc, char **argv);

/* https.c */
struct https_resp {
	int		 status;	/* HTTP status, 0 if none. */
	char		*headers;	/* Header lines, malloc(3)ed. */
	unsigned char	*body;		/* malloc(3)ed. */
	size_t		 bodylen;
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

#endif /* CHECK_H */
