/*
 * conf.c: wkdd.conf, "keyword value" lines read through one table of
 * directives (as Redis's static_configs).  The same table gives each
 * directive its default and drives conf_dump() (wkdd -nn).  wkdctl links
 * this file to find the store, and calls its validators (conf_valid_*)
 * for the command options that stand in for directives.  Never logs.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

#define CONF_FILE_MAX	(64 * 1024)	/* Bigger is surely not a config. */
#define CONF_LINE_MAX	1024
#define CONF_NTOKENS	3	/* Keyword, value, and one to refuse. */
#define CONF_SIZE_MIN	((size_t)1 << 20)
#define CONF_SIZE_MAX	((size_t)1 << 40)
#define CONF_CONNS_MAX	100000	/* max-connections, and per IP. */
#define CONF_RATE_MAX	1000000	/* limit-*: tokens a minute, capacity. */
#define CONF_HSTS_MAX	630720000	/* hsts: 20 years of seconds. */

enum conf_type {
	CONF_PATH,		/* Absolute path, char[PATH_MAX]. */
	CONF_NAME,		/* User name, char[]. */
	CONF_UINT,		/* unsigned in [min, max]; or choices: 0. */
	CONF_SIZE,		/* size_t, bytes, K/M/G suffix; 0 or >= 1M. */
	CONF_LISTEN,		/* Address:port, appended to an array. */
	CONF_HOST,		/* DNS name, stored as a lowercase A-label. */
	CONF_URL,		/* https:// URL, char[]. */
	CONF_EMAIL,		/* local@domain, char[]. */
	CONF_ADDR,		/* Numeric IPv4 or IPv6, appended. */
	CONF_CHOICE,		/* One word of choices. */
	CONF_RUA,		/* TLS-RPT rua: mailto: or https: URIs, ",". */
	CONF_LOG		/* "syslog", "off" or an absolute path. */
};

/*
 * A repeatable directive appends to an array: off is the array, size one
 * element, coff its count, max its capacity.
 */
struct directive {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;		/* In struct conf. */
	size_t		 size;		/* Of the member (strings). */
	size_t		 coff;		/* Arrays: of the count. */
	unsigned long	 min, max;	/* CONF_UINT; arrays: max count. */
	int		 repeat;	/* May appear several times. */
	const char	*dflt;		/* Space-separated; NULL: none. */
	/* CONF_CHOICE: space-separated; CONF_UINT: the word for 0. */
	const char	*choices;
};

/* Where directive d's value, and an array's count, are in conf. */
#define CONF_MEMBER(conf, d)	((char *)(conf) + (d)->off)
#define CONF_COUNT(conf, d)	((size_t *)(void *)((char *)(conf) + (d)->coff))

#define STR(m)	offsetof(struct conf, m), sizeof(((struct conf *)0)->m), 0
#define NUM(m)	offsetof(struct conf, m), 0, 0
#define ARR(m, n) offsetof(struct conf, m), \
	sizeof(((struct conf *)0)->m[0]), offsetof(struct conf, n)

static const struct directive conf_directives[] = {
	{ "listen", CONF_LISTEN, ARR(listen, nlisten), 0, CONF_LISTEN_MAX,
	    1, "0.0.0.0:443 [::]:443", NULL },
	{ "store", CONF_PATH, STR(store), 0, 0, 0, WKDD_STORE, NULL },
	{ "store-size", CONF_SIZE, NUM(store_size), 0, 0, 0, "0", NULL },
	{ "tls-cert", CONF_PATH, STR(tls_cert), 0, 0, 0,
	    "/etc/wkdd/cert.pem", NULL },
	{ "tls-key", CONF_PATH, STR(tls_key), 0, 0, 0, "/etc/wkdd/key.pem",
	    NULL },
	{ "tls-dir", CONF_PATH, STR(tls_dir), 0, 0, 0, NULL, NULL },
	{ "tls-ticket-key", CONF_PATH, STR(tls_ticket_key), 0, 0, 0, NULL,
	    NULL },
	{ "user", CONF_NAME, STR(user), 0, 0, 0, NULL, NULL },
	{ "www", CONF_PATH, STR(www), 0, 0, 0, NULL, NULL },
	{ "max-connections", CONF_UINT, NUM(max_conns), 1, CONF_CONNS_MAX, 0,
	    "4096", NULL },
	{ "max-connections-per-ip", CONF_UINT, NUM(max_conns_per_ip),
	    1, CONF_CONNS_MAX, 0, "32", NULL },
	{ "timeout", CONF_UINT, NUM(timeout), 1, 3600, 0, "30", NULL },
	{ "pidfile", CONF_PATH, STR(pidfile), 0, 0, 0, NULL, NULL },
	{ "listen-http", CONF_LISTEN, ARR(listen_http, nlisten_http), 0,
	    CONF_LISTEN_MAX, 1, NULL, NULL },
	{ "acme-webroot", CONF_PATH, STR(acme_webroot), 0, 0, 0, NULL,
	    NULL },
	{ "acme-client", CONF_CHOICE, STR(acme_client), 0, 0, 0, "none",
	    "certbot uacme none" },
	{ "acme-server", CONF_URL, STR(acme_server), 0, 0, 0,
	    "https://acme-v02.api.letsencrypt.org/directory", NULL },
	{ "acme-email", CONF_EMAIL, STR(acme_email), 0, 0, 0, NULL, NULL },
	{ "acme-ca", CONF_HOST, STR(acme_ca), 0, 0, 0, "letsencrypt.org",
	    NULL },
	{ "service-name", CONF_HOST, STR(service_name), 0, 0, 0, NULL,
	    NULL },
	{ "service-address", CONF_ADDR, ARR(service_address,
	    nservice_address), 0, CONF_SERVICE_ADDR_MAX, 1, NULL, NULL },
	{ "tlsrpt-rua", CONF_RUA, STR(tlsrpt_rua), 0, 0, 0, NULL, NULL },
	/* TLS reports (RFC 8460) received: tlsrpt.c, report.c. */
	{ "tlsrpt-spool", CONF_PATH, STR(tlsrpt_spool), 0, 0, 0, NULL, NULL },
	{ "tlsrpt-spool-max", CONF_UINT, NUM(tlsrpt_spool_max), 1, 1000000,
	    0, "1000", NULL },
	{ "tlsrpt-max-size", CONF_SIZE, NUM(tlsrpt_max_size), 4096,
	    64UL << 20, 0, "1M", NULL },
	{ "tlsrpt-rate", CONF_UINT, NUM(tlsrpt_rate), 0, CONF_RATE_MAX, 0,
	    "120", NULL },
	{ "metrics-listen", CONF_LISTEN, ARR(metrics_listen, nmetrics_listen),
	    0, CONF_METRICS_MAX, 1, NULL, NULL },
	{ "metrics-remote", CONF_CHOICE, STR(metrics_remote), 0, 0, 0, "off",
	    "on off" },
	{ "metrics-domains", CONF_CHOICE, STR(metrics_domains), 0, 0, 0,
	    "off", "on off" },
	{ "access-log", CONF_LOG, STR(access_log), 0, 0, 0, "syslog", NULL },
	{ "access-log-address", CONF_CHOICE, STR(access_log_address), 0, 0, 0,
	    "full", "full truncate off" },
	/* limit.c (enumeration limits): wkdd.conf(5) says why these. */
	{ "limit-rate", CONF_UINT, NUM(limit_rate), 0, CONF_RATE_MAX, 0,
	    "120", NULL },
	{ "limit-burst", CONF_UINT, NUM(limit_burst), 1, CONF_RATE_MAX, 0,
	    "600", NULL },
	{ "limit-net-rate", CONF_UINT, NUM(limit_net_rate), 1, CONF_RATE_MAX,
	    0, "480", NULL },
	{ "limit-net-burst", CONF_UINT, NUM(limit_net_burst), 1,
	    CONF_RATE_MAX, 0, "2400", NULL },
	{ "limit-miss-cost", CONF_UINT, NUM(limit_miss_cost), 1, 100, 0, "4",
	    NULL },
	/* Slow clients (http.c): seconds. */
	{ "request-timeout", CONF_UINT, NUM(request_timeout), 1, 3600, 0,
	    "10", NULL },
	{ "keepalive-timeout", CONF_UINT, NUM(keepalive_timeout), 1, 3600, 0,
	    "5", NULL },
	/* http.c: HTTPS threads on their CPUs, with the connections taken. */
	{ "cpu-affinity", CONF_CHOICE, STR(cpu_affinity), 0, 0, 0, "yes",
	    "yes no" },
	/* sandbox.c: Landlock and seccomp once listening. */
	{ "sandbox", CONF_CHOICE, STR(sandbox), 0, 0, 0, "yes", "yes no" },
	/* Strict-Transport-Security's max-age on HTTPS answers, or off. */
	{ "hsts", CONF_UINT, NUM(hsts), 1, CONF_HSTS_MAX, 0, "31536000",
	    "off" },
};
_Static_assert(sizeof(((struct conf *)0)->tlsrpt_rua) == CONF_RUA_MAX,
    "conf_valid_rua() checks the length for tlsrpt-rua");
#define CONF_NDIRECTIVES \
	(sizeof(conf_directives) / sizeof(conf_directives[0]))

/* Parser state: where we are, for "file:line: message". */
struct conf_ctx {
	const char	*file;
	size_t		 line;
	char		*err;
	size_t		 errsz;
};

static int	conf_error(struct conf_ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	conf_set(struct conf_ctx *, struct conf *,
		    const struct directive *, const char *);
static int	conf_listen(struct conf_ctx *, const char *,
		    struct conf_listen *, const char *);
static int	conf_printable(const char *);
static int	conf_number(const char *, unsigned long long *, int);

/* Always returns -1, so that callers can "return (conf_error(...))". */
static int
conf_error(struct conf_ctx *ctx, const char *fmt, ...)
{
	va_list	ap;
	int	n = 0;

	if (ctx->errsz == 0)
		return (-1);
	if (ctx->line > 0)
		n = snprintf(ctx->err, ctx->errsz, "%s:%zu: ", ctx->file,
		    ctx->line);
	else
		n = snprintf(ctx->err, ctx->errsz, "%s: ", ctx->file);
	if (n < 0 || (size_t)n >= ctx->errsz)
		return (-1);	/* Truncated: still NUL-terminated. */
	va_start(ap, fmt);
	(void)vsnprintf(ctx->err + n, ctx->errsz - n, fmt, ap);
	va_end(ap);
	return (-1);
}

/*
 * Decimal digits only (no sign, no blanks), optionally followed by K, M or
 * G (binary multiples) when suffix is set.  Returns -1 on junk or overflow.
 */
static int
conf_number(const char *s, unsigned long long *out, int suffix)
{
	unsigned long long	 v, mul = 1;
	char			*end;

	if (!isdigit((unsigned char)s[0]))
		return (-1);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return (-1);
	if (suffix && *end != '\0' && end[1] == '\0') {
		switch (*end) {
		case 'k': case 'K':
			mul = 1ULL << 10;
			break;
		case 'm': case 'M':
			mul = 1ULL << 20;
			break;
		case 'g': case 'G':
			mul = 1ULL << 30;
			break;
		default:
			return (-1);
		}
		end++;
	}
	if (*end != '\0')
		return (-1);
	if (v > ULLONG_MAX / mul)
		return (-1);
	*out = v * mul;
	return (0);
}

/*
 * "a.b.c.d:port" or "[v6]:port", numeric only (no DNS at startup); port
 * 0 lets the kernel choose (see wkdd -R).
 */
static int
conf_listen(struct conf_ctx *ctx, const char *name, struct conf_listen *l,
    const char *v)
{
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	char			 host[INET6_ADDRSTRLEN + 1];
	const char		*colon, *port;
	unsigned long long	 p;
	size_t			 hlen;
	int			 v6 = 0;

	if (strlen(v) >= sizeof(l->text))
		return (conf_error(ctx, "%s: address too long", name));
	if (v[0] == '[') {
		if ((colon = strchr(v, ']')) == NULL || colon[1] != ':')
			return (conf_error(ctx, "%s: %s: want [address]:port",
			    name, v));
		hlen = colon - (v + 1);
		port = colon + 2;
		v++;
		v6 = 1;
	} else {
		if ((colon = strrchr(v, ':')) == NULL)
			return (conf_error(ctx, "%s: %s: want address:port",
			    name, v));
		hlen = colon - v;
		port = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return (conf_error(ctx, "%s: bad address", name));
	memcpy(host, v, hlen);
	host[hlen] = '\0';
	if (conf_number(port, &p, 0) == -1 || p > UINT16_MAX)
		return (conf_error(ctx, "%s: bad port \"%s\"", name,
		    port));

	memset(&l->ss, 0, sizeof(l->ss));
	if (v6) {
		sin6 = (struct sockaddr_in6 *)&l->ss;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return (conf_error(ctx, "%s: bad IPv6 address "
			    "\"%s\"", name, host));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		l->sslen = sizeof(*sin6);
	} else {
		sin = (struct sockaddr_in *)&l->ss;
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return (conf_error(ctx, "%s: bad IPv4 address "
			    "\"%s\" (IPv6 goes in brackets)", name, host));
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		l->sslen = sizeof(*sin);
	}
	return (0);
}

const char *
conf_daemon_user(const struct conf *conf)
{
	if (conf->user[0] != '\0')
		return (conf->user);
	return (getpwnam(WKDD_USER) != NULL ? WKDD_USER : "root");
}

int
conf_msg(char *err, size_t errsz, const char *fmt, ...)
{
	va_list	ap;

	if (errsz == 0)
		return (-1);
	va_start(ap, fmt);
	(void)vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return (-1);
}

/* The labels are keystore's: one LDH rule for hosted and service names. */
int
conf_valid_host(const char *v, char *out, size_t outsz, char *err,
    size_t errsz)
{
	char	buf[KS_DOMAIN_MAX];
	size_t	len;

	if (ks_domain_norm(v, buf, sizeof(buf)) != KS_OK ||
	    (len = strlen(buf)) > CONF_HOST_MAX ||
	    (out != NULL && len >= outsz))
		return (conf_msg(err, errsz, "\"%s\" is not a host name", v));
	if (out != NULL)
		memcpy(out, buf, len + 1);
	return (0);
}

int
conf_valid_rua(const char *v, char *err, size_t errsz)
{
	const char	*p, *q;

	if (strlen(v) >= CONF_RUA_MAX)
		return (conf_msg(err, errsz, "longer than %d bytes",
		    CONF_RUA_MAX - 1));
	if (!conf_printable(v))
		goto bad;
	for (p = v; ; p = q + 1) {
		if ((q = strchr(p, ',')) == NULL)
			q = p + strlen(p);
		if (!((q - p > 7 && strncmp(p, "mailto:", 7) == 0 &&
		    memchr(p + 7, '@', q - p - 7) != NULL) ||
		    (q - p > 8 && strncmp(p, "https://", 8) == 0)))
			goto bad;
		if (*q == '\0')
			return (0);
	}
bad:
	return (conf_msg(err, errsz, "\"%s\" is not a list of mailto: or "
	    "https:// URIs", v));
}

/* Printable ASCII without blanks, quotes, backslash or ';': 1, else 0. */
static int
conf_printable(const char *v)
{
	for (; *v != '\0'; v++)
		if (*v <= ' ' || *v >= 0x7f || strchr("\"\\;", *v) != NULL)
			return (0);
	return (1);
}

/*
 * One setter per enum conf_type: sets directive d of conf from value v,
 * or returns -1 with ctx's error set.  For a repeatable directive,
 * conf_set() has checked that there is room for one more.
 */
static int
conf_set_path(struct conf_ctx *ctx, struct conf *conf,
    const struct directive *d, const char *v)
{
	size_t	len = strlen(v);

	if (v[0] != '/')
		return (conf_error(ctx, "%s: \"%s\" is not an absolute path",
		    d->name, v));
	if (len >= d->size)
		return (conf_error(ctx, "%s: path too long", d->name));
	memcpy(CONF_MEMBER(conf, d), v, len + 1);
	return (0);
}

static int
conf_set_name(struct conf_ctx *ctx, struct conf *conf,
    const struct directive *d, const char *v)
{
	size_t	len = strlen(v), i;

	if (len == 0 || len >= d->size || v[0] == '-')
		return (conf_error(ctx, "%s: bad name \"%s\"", d->name, v));
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)v[i]) && v[i] != '_' &&
		    v[i] != '-' && v[i] != '.')
			return (conf_error(ctx, "%s: bad name \"%s\"",
			    d->name, v));
	memcpy(CONF_MEMBER(conf, d), v, len + 1);
	return (0);
}

static int
conf_set_uint(struct conf_ctx *ctx, struct conf *conf,
    const struct directive *d, const char *v)
{
	unsigned long long	n;

	if (d->choices != NULL && strcmp(v, d->choices) == 0) {
		*(unsigned *)(void *)CONF_MEMBER(conf, d) = 0;
		return (0);
	}
	if (conf_number(v, &n, 0) == -1 || n < d->min || n > d->max)
		return (conf_error(ctx, "%s: \"%s\" is not %s%s%sa number "
		    "from %lu to %lu", d->name, v, d->choices ? "\"" : "",
		    d->choices ? d->choices : "", d->choices ? "\" or " : "",
		    d->min, d->max));
	*(unsigned *)(void *)CONF_MEMBER(conf, d) = (unsigned)n;
	return (0);
}

static int
conf_set_size(struct conf_ctx *ctx, struct conf *conf,
    const struct directive *d, const char *v)
{
	unsigned long long	n;

	/* A range of its own (tlsrpt-max-size): neither 0 nor the rest. */
	if (d->max != 0) {
		if (conf_number(v, &n, 1) == -1 || n < d->min || n > d->max)
			return (conf_error(ctx, "%s: \"%s\" is not a size "
			    "from %lu to %lu", d->name, v, d->min, d->max));
	} else if (conf_number(v, &n, 1) == -1 || (n != 0 &&
	    (n < CONF_SIZE_MIN || n > CONF_SIZE_MAX)))
		return (conf_error(ctx, "%s: \"%s\" is not 0 or a size from "
		    "1M to 1024G", d->name, v));
	*(size_t *)(void *)CONF_MEMBER(conf, d) = (size_t)n;
	return (0);
}

/* Index of the conf_listen equal to l in ls[0..n), or -1. */
static int
conf_listen_find(const struct conf_listen *ls, size_t n,
    const struct conf_listen *l)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (ls[i].sslen == l->sslen &&
		    memcmp(&ls[i].ss, &l->ss, l->sslen) == 0)
			return ((int)i);
	return (-1);
}

static int
conf_set_listen(struct conf_ctx *ctx, struct conf *conf,
    const struct directive *d, const char *v)
{
	struct conf_listen	*first, *l, *other;
	size_t			*count = CONF_COUNT(conf, d), nother;
	int			 http;

	first = (struct conf_listen *)(void *)CONF_MEMBER(conf, d);
	l = &first[*count];
	if (conf_listen(ctx, d->name, l, v) == -1)
		return (-1);
	(void)snprintf(l->text, sizeof(l->text), "%s", v);
	if (conf_listen_find(first, *count, l) != -1)
		return (conf_error(ctx, "%s: %s given twice", d->name, v));
	if (first == conf->metrics_listen) {
		(*count)++;
		return (0);	/* conf_check_metrics(), once all is read. */
	}
	/*
	 * Explicit lines only: one address can't be both (port 0 can: the
	 * kernel picks two).
	 */
	http = first == conf->listen_http;
	other = http ? conf->listen : conf->listen_http;
	nother = http ? conf->nlisten : conf->nlisten_http;
	if (ctx->line > 0 && strcmp(strrchr(v, ':'), ":0") != 0 &&
	    conf_listen_find(other, nother, l) != -1)
		return (conf_error(ctx, "%s: %s is also a %s address",
		    d->name, v, http ? "listen" : "listen-http"));
	(*count)++;
	return (0);
}

static int
conf_set_host(struct conf_ctx *ctx, struct conf *conf,
    const struct directive *d, const char *v)
{
	char	msg[CONF_ERR_MAX];

	if (conf_valid_host(v, CONF_MEMBER(conf, d), d->size, msg,
	    sizeof(msg)) == -1)
		return (conf_error(ctx, "%s: %s", d->name, msg));
	return (0);
}

static int
conf_set_url(struct conf_ctx *ctx, struct conf *conf,
    const struct directive *d, const char *v)
{
	size_t	len = strlen(v);

	if (strncmp(v, "https://", 8) != 0 || len == 8 || !conf_printable(v))
		return (conf_error(ctx, "%s: \"%s\" is not an https:// URL",
		    d->name, v));
	if (len >= d->size)
		return (conf_error(ctx, "%s: URL too long", d->name));
	memcpy(CONF_MEMBER(conf, d), v, len + 1);
	return (0);
}

static int
conf_set_email(struct conf_ctx *ctx, struct conf *conf,
    const struct directive *d, const char *v)
{
	const char	*at;
	size_t		 len = strlen(v);

	if ((at = strchr(v, '@')) == NULL || at == v || len >= d->size ||
	    !conf_printable(v) ||
	    conf_valid_host(at + 1, NULL, 0, NULL, 0) == -1)
		return (conf_error(ctx, "%s: \"%s\" is not a mail address",
		    d->name, v));
	memcpy(CONF_MEMBER(conf, d), v, len + 1);
	return (0);
}

static int
conf_set_addr(struct conf_ctx *ctx, struct conf *conf,
    const struct directive *d, const char *v)
{
	unsigned char	 in6[sizeof(struct in6_addr)];
	char		*base = CONF_MEMBER(conf, d);
	size_t		*count = CONF_COUNT(conf, d), len = strlen(v), i;

	if (inet_pton(AF_INET, v, in6) != 1 &&
	    inet_pton(AF_INET6, v, in6) != 1)
		return (conf_error(ctx, "%s: \"%s\" is not a numeric IPv4 or "
		    "IPv6 address", d->name, v));
	if (len >= d->size)
		return (conf_error(ctx, "%s: address too long", d->name));
	for (i = 0; i < *count; i++)
		if (strcmp(base + i * d->size, v) == 0)
			return (conf_error(ctx, "%s: %s given twice",
			    d->name, v));
	memcpy(base + *count * d->size, v, len + 1);
	(*count)++;
	return (0);
}

static int
conf_set_choice(struct conf_ctx *ctx, struct conf *conf,
    const struct directive *d, const char *v)
{
	const char	*p, *q;
	size_t		 len = strlen(v);

	for (p = d->choices; *p != '\0'; p = *q == '\0' ? q : q + 1) {
		if ((q = strchr(p, ' ')) == NULL)
			q = p + strlen(p);
		if ((size_t)(q - p) == len && memcmp(p, v, len) == 0)
			break;
	}
	if (*p == '\0' || len >= d->size)
		return (conf_error(ctx, "%s: \"%s\" is not one of: %s",
		    d->name, v, d->choices));
	memcpy(CONF_MEMBER(conf, d), v, len + 1);
	return (0);
}

static int
conf_set_log(struct conf_ctx *ctx, struct conf *conf,
    const struct directive *d, const char *v)
{
	if (strcmp(v, "syslog") == 0 || strcmp(v, "off") == 0) {
		memcpy(CONF_MEMBER(conf, d), v, strlen(v) + 1);
		return (0);
	}
	if (v[0] != '/')
		return (conf_error(ctx, "%s: \"%s\" is not syslog, off or an "
		    "absolute path", d->name, v));
	return (conf_set_path(ctx, conf, d, v));
}

static int
conf_set_rua(struct conf_ctx *ctx, struct conf *conf,
    const struct directive *d, const char *v)
{
	char	msg[CONF_ERR_MAX];

	/* conf_valid_rua() refuses what wouldn't fit. */
	if (conf_valid_rua(v, msg, sizeof(msg)) == -1)
		return (conf_error(ctx, "%s: %s", d->name, msg));
	memcpy(CONF_MEMBER(conf, d), v, strlen(v) + 1);
	return (0);
}

static int (*const conf_setters[])(struct conf_ctx *, struct conf *,
    const struct directive *, const char *) = {
	[CONF_PATH] = conf_set_path,
	[CONF_NAME] = conf_set_name,
	[CONF_UINT] = conf_set_uint,
	[CONF_SIZE] = conf_set_size,
	[CONF_LISTEN] = conf_set_listen,
	[CONF_HOST] = conf_set_host,
	[CONF_URL] = conf_set_url,
	[CONF_EMAIL] = conf_set_email,
	[CONF_ADDR] = conf_set_addr,
	[CONF_CHOICE] = conf_set_choice,
	[CONF_RUA] = conf_set_rua,
	[CONF_LOG] = conf_set_log,
};

/* Sets directive d of conf from value v; -1 with ctx's error set. */
static int
conf_set(struct conf_ctx *ctx, struct conf *conf, const struct directive *d,
    const char *v)
{
	if (d->repeat && *CONF_COUNT(conf, d) >= d->max)
		return (conf_error(ctx, "%s: more than %lu %s", d->name,
		    d->max, d->type == CONF_LISTEN ? "addresses" : "values"));
	return (conf_setters[d->type](ctx, conf, d, v));
}

/*
 * The next line of *bufp (*lenp bytes left) into line, without its "\n"
 * or "\r\n"; *bufp and *lenp move past it.  -1 with ctx's error set if it
 * is too long or holds a control character other than tab.
 */
static int
conf_getline(struct conf_ctx *ctx, const char **bufp, size_t *lenp,
    char line[CONF_LINE_MAX + 1])
{
	const char	*eol;
	size_t		 i, n;

	if ((eol = memchr(*bufp, '\n', *lenp)) == NULL)
		n = *lenp;
	else
		n = eol - *bufp;
	if (n > CONF_LINE_MAX)
		return (conf_error(ctx, "line longer than %d bytes",
		    CONF_LINE_MAX));
	memcpy(line, *bufp, n);
	line[n] = '\0';
	*bufp += n;
	*lenp -= n;
	if (*lenp > 0) {		/* The '\n'. */
		(*bufp)++;
		(*lenp)--;
	}
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	for (i = 0; i < n; i++)
		if (((unsigned char)line[i] < 0x20 && line[i] != '\t') ||
		    line[i] == 0x7f)
			return (conf_error(ctx, "control character in line"));
	return (0);
}

/*
 * Split line in place into up to CONF_NTOKENS tokens separated by blanks;
 * a token starting with '#' ends the line.  Unused slots are NULL.
 */
static void
conf_tokens(char *line, char *tok[CONF_NTOKENS])
{
	char	*p = line;
	size_t	 i;

	for (i = 0; i < CONF_NTOKENS; i++)
		tok[i] = NULL;
	for (i = 0; i < CONF_NTOKENS; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			break;
		tok[i] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
}

/*
 * One line of the file into conf: its directive looked up, then set, once
 * unless repeatable (seen[] counts, by index in conf_directives).  Blank
 * and comment lines do nothing.  -1 with ctx's error set.
 */
static int
conf_line(struct conf_ctx *ctx, struct conf *conf, char *line,
    unsigned char seen[CONF_NDIRECTIVES])
{
	const struct directive	*d;
	char			*tok[CONF_NTOKENS];
	size_t			 i;

	conf_tokens(line, tok);
	if (tok[0] == NULL)
		return (0);
	for (i = 0; i < CONF_NDIRECTIVES; i++)
		if (strcmp(conf_directives[i].name, tok[0]) == 0)
			break;
	if (i == CONF_NDIRECTIVES)
		return (conf_error(ctx, "unknown directive \"%s\"", tok[0]));
	d = &conf_directives[i];
	if (tok[1] == NULL)
		return (conf_error(ctx, "%s: missing value", d->name));
	if (tok[2] != NULL)
		return (conf_error(ctx, "%s: unexpected \"%s\" after value",
		    d->name, tok[2]));
	if (seen[i] && !d->repeat)
		return (conf_error(ctx, "%s: given twice", d->name));
	seen[i] = 1;
	return (conf_set(ctx, conf, d, tok[1]));
}

/*
 * The defaults of the directives not seen, each a space-separated list
 * of values.  They are valid by construction: -1 would be a bug in the
 * table (ctx's error set, "file: message" without a line).
 */
static int
conf_defaults(struct conf_ctx *ctx, struct conf *conf,
    const unsigned char seen[CONF_NDIRECTIVES])
{
	const struct directive	*d;
	char			 dflt[CONF_LINE_MAX + 1], *p, *next;
	size_t			 i;

	ctx->line = 0;
	for (i = 0; i < CONF_NDIRECTIVES; i++) {
		d = &conf_directives[i];
		if (seen[i] || d->dflt == NULL)
			continue;
		(void)snprintf(dflt, sizeof(dflt), "%s", d->dflt);
		for (p = dflt; p != NULL; p = next) {
			if ((next = strchr(p, ' ')) != NULL)
				*next++ = '\0';
			if (conf_set(ctx, conf, d, p) == -1)
				return (-1);
		}
	}
	return (0);
}

/* Is l 127.0.0.0/8 or ::1? */
static int
conf_loopback(const struct conf_listen *l)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (l->ss.ss_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)&l->ss;
		return ((ntohl(sin->sin_addr.s_addr) >> 24) == 127);
	}
	sin6 = (const struct sockaddr_in6 *)(const void *)&l->ss;
	return (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
}

/*
 * The metrics listener is for operators: on loopback unless metrics-remote
 * says otherwise, and never one of the public addresses.
 */
static int
conf_check_metrics(struct conf_ctx *ctx, struct conf *conf)
{
	const struct conf_listen	*l;
	size_t				 i;

	ctx->line = 0;
	for (i = 0; i < conf->nmetrics_listen; i++) {
		l = &conf->metrics_listen[i];
		if (!conf_loopback(l) &&
		    strcmp(conf->metrics_remote, "on") != 0)
			return (conf_error(ctx, "metrics-listen %s: not a "
			    "loopback address (metrics-remote on allows it)",
			    l->text));
		if (strcmp(strrchr(l->text, ':'), ":0") == 0)
			continue;
		if (conf_listen_find(conf->listen, conf->nlisten, l) != -1 ||
		    conf_listen_find(conf->listen_http, conf->nlisten_http,
		    l) != -1)
			return (conf_error(ctx, "metrics-listen %s: also a "
			    "listen or listen-http address", l->text));
	}
	return (0);
}

int
conf_parse_buf(const char *name, const char *buf, size_t len,
    struct conf **confp, char *err, size_t errsz)
{
	struct conf_ctx		 ctx;
	struct conf		*conf;
	unsigned char		 seen[CONF_NDIRECTIVES];
	char			 line[CONF_LINE_MAX + 1];

	*confp = NULL;
	if (errsz > 0)
		err[0] = '\0';
	ctx.file = name;
	ctx.line = 0;
	ctx.err = err;
	ctx.errsz = errsz;
	if (memchr(buf, '\0', len) != NULL)
		return (conf_error(&ctx, "NUL byte in file"));
	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		return (conf_error(&ctx, "%s", strerror(errno)));
	memset(seen, 0, sizeof(seen));
	(void)snprintf(conf->path, sizeof(conf->path), "%s", name);

	while (len > 0) {
		ctx.line++;
		if (conf_getline(&ctx, &buf, &len, line) == -1 ||
		    conf_line(&ctx, conf, line, seen) == -1)
			goto fail;
	}
	if (conf_defaults(&ctx, conf, seen) == -1 ||
	    conf_check_metrics(&ctx, conf) == -1)
		goto fail;
	*confp = conf;
	return (0);
fail:
	free(conf);
	return (-1);
}

int
conf_parse(const char *path, struct conf **confp, char *err, size_t errsz)
{
	struct conf_ctx	 ctx;
	struct stat	 st;
	char		*buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, rc;

	*confp = NULL;
	ctx.file = path;
	ctx.line = 0;
	ctx.err = err;
	ctx.errsz = errsz;
	/* O_NONBLOCK: a FIFO (refused below) must not hang us. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return (conf_error(&ctx, "%s", strerror(errno)));
	if (fstat(fd, &st) == -1) {
		conf_error(&ctx, "%s", strerror(errno));
		goto close;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_error(&ctx, "not a regular file");
		goto close;
	}
	if ((buf = malloc(CONF_FILE_MAX + 1)) == NULL) {
		conf_error(&ctx, "%s", strerror(errno));
		goto close;
	}
	for (;;) {
		n = read(fd, buf + len, CONF_FILE_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			conf_error(&ctx, "%s", strerror(errno));
			goto freebuf;
		}
		if (n == 0)
			break;
		len += n;
		if (len > CONF_FILE_MAX) {
			conf_error(&ctx, "file bigger than %d bytes",
			    CONF_FILE_MAX);
			goto freebuf;
		}
	}
	(void)close(fd);
	rc = conf_parse_buf(path, buf, len, confp, err, errsz);
	free(buf);
	return (rc);
freebuf:
	free(buf);
close:
	(void)close(fd);
	return (-1);
}

void
conf_free(struct conf *conf)
{
	free(conf);
}

int
conf_dump(const struct conf *conf, FILE *fp)
{
	const struct directive	*d;
	const char		*base;
	size_t			 i, j, n;

	fprintf(fp, "# %s\n", conf->path);
	for (i = 0; i < CONF_NDIRECTIVES; i++) {
		d = &conf_directives[i];
		base = (const char *)conf + d->off;
		switch (d->type) {
		case CONF_PATH:
		case CONF_NAME:
		case CONF_HOST:
		case CONF_URL:
		case CONF_EMAIL:
		case CONF_CHOICE:
		case CONF_RUA:
		case CONF_LOG:
			if (base[0] != '\0')
				fprintf(fp, "%s %s\n", d->name, base);
			break;
		case CONF_UINT:
			if (d->choices != NULL &&
			    *(const unsigned *)(const void *)base == 0)
				fprintf(fp, "%s %s\n", d->name, d->choices);
			else
				fprintf(fp, "%s %u\n", d->name,
				    *(const unsigned *)(const void *)base);
			break;
		case CONF_SIZE:
			fprintf(fp, "%s %zu\n", d->name,
			    *(const size_t *)(const void *)base);
			break;
		case CONF_LISTEN:
			n = *(const size_t *)(const void *)
			    ((const char *)conf + d->coff);
			for (j = 0; j < n; j++)
				fprintf(fp, "%s %s\n", d->name,
				    ((const struct conf_listen *)(const void *)
				    base)[j].text);
			break;
		case CONF_ADDR:
			n = *(const size_t *)(const void *)
			    ((const char *)conf + d->coff);
			for (j = 0; j < n; j++)
				fprintf(fp, "%s %s\n", d->name,
				    base + j * d->size);
			break;
		}
	}
	return (ferror(fp) ? -1 : 0);
}
