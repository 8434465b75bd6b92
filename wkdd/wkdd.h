/*
 * wkdd.h: the daemon's internal interfaces, grouped by file (as OpenBSD
 * httpd.h).  wkdctl links conf.c too: both read the same wkdd.conf.
 */
#ifndef WKDD_H
#define WKDD_H

#include <sys/socket.h>

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#define WKDD_CONF	"/etc/wkdd/wkdd.conf"
#define WKDD_STORE	"/var/lib/wkdd"
#define CONF_LISTEN_MAX	16

/* conf.c */
struct conf_listen {
	char			 text[128];	/* As written, for logs. */
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
};

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

#endif /* WKDD_H */
