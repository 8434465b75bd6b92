/*
 * conf.h: wkdd.conf, its one parser and validator (conf.c), shared by
 * wkdd and wkdctl: wkdctl reads the daemon's file with the daemon's
 * parser, as bgpctl builds bgpd's, and checks what its options stand in
 * for (wkdctl dns --tlsrpt for tlsrpt-rua, --target for service-name...)
 * with the validators below, so that both refuse the same values.
 *
 * conf.c uses nothing else of wkdd/: it never logs (errors go into the
 * caller's err buffer) and needs only libkeystore (ks_domain_norm()).
 */
#ifndef CONF_H
#define CONF_H

#include <sys/socket.h>

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "keystore.h"

#define WKDD_CONF	"/etc/wkdd/wkdd.conf"	/* wkdd -f, wkdctl -f. */
#define WKDD_STORE	"/var/lib/wkdd"		/* store's default. */

#define CONF_LISTEN_MAX		16	/* listen, listen-http: each. */
#define CONF_SERVICE_ADDR_MAX	8	/* service-address. */
#define CONF_METRICS_MAX	4	/* metrics-listen. */
#define CONF_HOST_MAX		253	/* DNS name, no trailing dot. */
#define CONF_RUA_MAX		256	/* tlsrpt-rua, incl. NUL. */
/* An err buffer for conf_*(): any message whole but for a huge value. */
#define CONF_ERR_MAX		(PATH_MAX + 256)

/*
 * wkdd and wkdctl warn when a certificate wkdd serves (tls-cert, or a
 * tls-dir name's) expires in less than this: wkdd -n, wkdd at start and
 * on reload, wkdctl check.
 */
#define WKDD_CERT_SOON_DAYS	14
#define WKDD_CERT_SOON		((time_t)WKDD_CERT_SOON_DAYS * 24 * 60 * 60)

struct conf_listen {
	char			 text[128];	/* As written, for logs. */
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
};

/* Every directive, defaults filled in; see wkdd.conf(5). */
struct conf {
	char			 path[PATH_MAX];	/* File read. */
	char			 store[PATH_MAX];
	size_t			 store_size;		/* Bytes; 0: default. */
	struct conf_listen	 listen[CONF_LISTEN_MAX];
	size_t			 nlisten;
	char			 tls_cert[PATH_MAX];
	char			 tls_key[PATH_MAX];
	char			 user[64];
	char			 www[PATH_MAX];
	unsigned		 max_conns;
	unsigned		 max_conns_per_ip;
	unsigned		 timeout;		/* Seconds idle. */
	char			 tls_dir[PATH_MAX];	/* live/NAME/, or "". */
	struct conf_listen	 listen_http[CONF_LISTEN_MAX];	/* Port 80. */
	size_t			 nlisten_http;
	char			 acme_webroot[PATH_MAX];
	char			 acme_client[64];	/* Or "none". */
	char			 acme_server[512];	/* Directory URL. */
	char			 acme_email[256];
	char			 acme_ca[KS_DOMAIN_MAX];	/* CAA. */
	char			 service_name[KS_DOMAIN_MAX];	/* CNAME. */
	char			 service_address[CONF_SERVICE_ADDR_MAX][64];
	size_t			 nservice_address;
	char			 tlsrpt_rua[CONF_RUA_MAX];
	char			 pidfile[PATH_MAX];
	struct conf_listen	 metrics_listen[CONF_METRICS_MAX];
	size_t			 nmetrics_listen;
	char			 metrics_remote[4];	/* "on", "off". */
	char			 metrics_domains[4];	/* "on", "off". */
	char			 access_log[PATH_MAX];	/* syslog, off, path. */
	/* access-log-address: full, truncate, off. */
	char			 access_log_address[16];
	char			 tls_ticket_key[PATH_MAX];	/* Or "". */
	/* limit.c's lookup limits: tokens a minute, burst, miss cost. */
	unsigned		 limit_rate;		/* 0: off. */
	unsigned		 limit_burst;
	unsigned		 limit_net_rate;	/* A /24, a /56. */
	unsigned		 limit_net_burst;
	unsigned		 limit_miss_cost;
	unsigned		 request_timeout;	/* Accept to request. */
	unsigned		 keepalive_timeout;	/* Idle between. */
	char			 tlsrpt_spool[PATH_MAX];	/* "": off. */
	unsigned		 tlsrpt_spool_max;	/* Files. */
	size_t			 tlsrpt_max_size;	/* JSON bytes. */
	unsigned		 tlsrpt_rate;	/* A minute, all; 0: off. */
	char			 sandbox[4];		/* "yes", "no". */
	char			 cpu_affinity[4];	/* "yes", "no". */
	unsigned		 hsts;			/* max-age; 0: off. */
};

/*
 * Parse file path into a new struct conf (*confp, free with conf_free()).
 * On error returns -1 and writes "file:line: message" into err (errsz
 * bytes); nothing is allocated then.  Directives not given take their
 * defaults.
 */
int		 conf_parse(const char *path, struct conf **confp, char *err,
		    size_t errsz);
/* The same from memory: name is used in messages (fuzzing, tests). */
int		 conf_parse_buf(const char *name, const char *buf, size_t len,
		    struct conf **confp, char *err, size_t errsz);
void		 conf_free(struct conf *);
/* Every directive with its value, defaults included (wkdd -nn). */
int		 conf_dump(const struct conf *, FILE *);

/*
 * The validators conf_parse() applies to a directive's value, for
 * programs that take the same value some other way.  Each returns 0 if
 * v is valid, else -1 with a message naming v (without "file:line:" or
 * the directive) in err, errsz bytes (truncated, always NUL-terminated
 * if errsz > 0).  Nothing is allocated; out belongs to the caller.
 */

/*
 * A host name (acme-ca, service-name; also acme-email's domain, which
 * must be ASCII there): U-labels or A-labels, any case, a trailing dot
 * or not; as an A-label at most CONF_HOST_MAX bytes, of LDH labels of 1
 * to 63 bytes without a '-' at either end (ks_domain_norm()'s rule).
 * Its lowercase A-label, without the dot, goes into out (outsz bytes;
 * KS_DOMAIN_MAX always fits) unless out is NULL.
 */
int		 conf_valid_host(const char *v, char *out, size_t outsz,
		    char *err, size_t errsz);
/*
 * A TLS-RPT rua (tlsrpt-rua; RFC 8460): shorter than CONF_RUA_MAX, one
 * or more URIs separated by ',', each "mailto:" with an '@' after it or
 * "https://" and at least one byte more, all printable ASCII without
 * blanks, '"', '\' or ';' (which would break the TXT record).
 */
int		 conf_valid_rua(const char *v, char *err, size_t errsz);
/* A message into err (errsz 0: none); always returns -1. */
/*
 * The user wkdd runs as under conf when started as root: its user
 * directive, else the package's system user WKDD_USER where it exists
 * (wkdd refuses to start where it doesn't), else "root".  For wkdctl, which
 * gives wkdd's files (the store, ACME certificates) to that user.
 */
#define WKDD_USER	"_wkdd"	/* The package's (dist/sysusers.conf). */
const char	*conf_daemon_user(const struct conf *);
int		 conf_msg(char *err, size_t errsz, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

#endif /* CONF_H */
