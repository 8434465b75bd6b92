/*
 * conf.h: wkdd.conf, its one parser and validator (conf.c), shared by
 * wkdd and wkdctl: wkdctl reads the daemon's file with the daemon's
 * parser, as bgpctl builds bgpd's.
 *
 * conf.c uses nothing else of wkdd/: it never logs (errors go into the
 * caller's err buffer).
 */
#ifndef CONF_H
#define CONF_H

#include <sys/socket.h>

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#define WKDD_CONF	"/etc/wkdd/wkdd.conf"	/* wkdd -f, wkdctl -f. */
#define WKDD_STORE	"/var/lib/wkdd"		/* store's default. */

#define CONF_LISTEN_MAX		16	/* listen, listen-http: each. */
#define CONF_SERVICE_ADDR_MAX	8	/* service-address. */

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
	char			 acme_ca[256];		/* CAA issuer domain. */
	char			 service_name[256];	/* CNAME target. */
	char			 service_address[CONF_SERVICE_ADDR_MAX][64];
	size_t			 nservice_address;
	char			 tlsrpt_rua[256];
	char			 pidfile[PATH_MAX];
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

#endif /* CONF_H */
