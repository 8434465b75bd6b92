/*
 * www.c: the web page.  The files of the www directory, read into memory
 * at start and on SIGHUP (so nothing is opened while serving), and the
 * pages made from them:
 *
 *   /, /index.html        index.html: look up a key, set up a client,
 *                         publish a key
 *   /lookup?addr=A        the same page with A's key (or "no key
 *                         published") in it: the form works without
 *                         JavaScript
 *   /lookup.json?addr=A   what app.js renders instead: the key's facts
 *   /lookup.asc?addr=A    the published key, ASCII-armored
 *   /status               status.html: the domain's last onboarding check
 *   /NAME                 another file of the directory (style.css,
 *                         app.js, ...), as it is
 *
 * A *.html file is a template: each {{domain}}, {{addr}}, {{result}} and
 * {{status}} is replaced, HTML-escaped where it comes from a request or
 * the store.  The key's facts are what wkdctl recorded when it published
 * the key (ks_reader_facts()): nothing here parses OpenPGP, and the
 * armor is base64 and a CRC-24 over the bytes served.  The status page
 * reads the JSON document "wkdctl domain check" stored (jansson): wkdd
 * makes no connection of its own.
 *
 * A lookup answers only for an address of the Host's own domain, and only
 * if it is hosted; it takes a token of the key lookups' limits (limit.c,
 * the caller's), and a miss costs as a key miss does.  Nothing is logged
 * of the address looked up.
 *
 * Every response says what it is (Content-Type, X-Content-Type-Options),
 * how long to keep it (Cache-Control, and an ETag to revalidate), and
 * what the page may load: only its own files (Content-Security-Policy,
 * no inline script or style), no referrer sent.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <jansson.h>
#include <microhttpd.h>

#include "keystore.h"
#include "limit.h"
#include "log.h"
#include "wkdd.h"

#define WWW_FILES_MAX	32
#define WWW_FILE_MAX	(256 * 1024)
#define WWW_NAME_MAX	64
#define WWW_CSP		"default-src 'self'; script-src 'self'; " \
			"style-src 'self'; img-src 'self'; " \
			"connect-src 'self'; object-src 'none'; " \
			"base-uri 'none'; form-action 'self'; " \
			"frame-ancestors 'none'"
#define WWW_CACHE_PAGE	"no-cache"	/* Pages and lookups: revalidate. */
#define WWW_CACHE_FILE	"public, max-age=3600"
#define WWW_HTML	"text/html; charset=utf-8"
#define WWW_JSON	"application/json"
#define WWW_ASC		"application/pgp-keys"
#define WWW_ARMOR_LINE	64		/* Base64 characters a line. */

/* A file of the www directory. */
struct www_file {
	char			 name[WWW_NAME_MAX];
	const char		*type;
	char			*data;
	size_t			 len;
	int			 tmpl;		/* *.html */
	char			 etag[KS_ETAG_MAX];
	struct MHD_Response	*resp;		/* Not a template: shared. */
};

/* All of them: the set http_page_load() makes. */
struct http_page {
	struct www_file		 f[WWW_FILES_MAX];
	size_t			 n;
	struct http_page	*next;		/* Retired list. */
};

static _Atomic(struct http_page *)	 www_cur;
static struct http_page			*www_old;	/* Main thread. */

static const struct {
	const char	*ext;
	const char	*type;
} www_types[] = {
	{ ".html", WWW_HTML },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
};

/* Buffers. */

static void
www_grow(struct www_buf *b, size_t more)
{
	char	*p;
	size_t	 size;

	if (b->failed)
		return;
	if (b->len + more + 1 <= b->size)
		return;
	size = b->size == 0 ? 4096 : b->size;
	while (size < b->len + more + 1)
		size *= 2;
	if ((p = realloc(b->data, size)) == NULL) {
		free(b->data);
		b->data = NULL;
		b->len = b->size = 0;
		b->failed = 1;
		return;
	}
	b->data = p;
	b->size = size;
}

void
www_buf_add(struct www_buf *b, const void *p, size_t len)
{
	www_grow(b, len);
	if (b->failed)
		return;
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
www_buf_str(struct www_buf *b, const char *s)
{
	www_buf_add(b, s, strlen(s));
}

void
www_buf_fmt(struct www_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[512];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		b->failed = 1;	/* Only short, fixed texts come here. */
		free(b->data);
		b->data = NULL;
		b->len = b->size = 0;
		return;
	}
	www_buf_add(b, buf, n);
}

void
www_buf_free(struct www_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/*
 * The length of the UTF-8 sequence at p (n bytes left), or 0 if it isn't
 * one (overlong forms, surrogates and code points over U+10FFFF aren't).
 */
static size_t
www_utf8(const unsigned char *p, size_t n)
{
	uint32_t	 c;
	size_t		 len, i;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return (0);
	if (n < len)
		return (0);
	c = p[0] & (0x3f >> (len - 1));
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return (0);
	return (len);
}

#define WWW_FFFD	"\xef\xbf\xbd"	/* U+FFFD for what isn't UTF-8. */

void
www_buf_html(struct www_buf *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), len;

	while (n > 0) {
		switch (*p) {
		case '&':
			www_buf_str(b, "&amp;");
			break;
		case '<':
			www_buf_str(b, "&lt;");
			break;
		case '>':
			www_buf_str(b, "&gt;");
			break;
		case '"':
			www_buf_str(b, "&quot;");
			break;
		case '\'':
			www_buf_str(b, "&#39;");
			break;
		default:
			if (*p < 0x20 && *p != '\n' && *p != '\t') {
				www_buf_str(b, WWW_FFFD);
				break;
			}
			if ((len = www_utf8(p, n)) == 0) {
				www_buf_str(b, WWW_FFFD);
				break;
			}
			www_buf_add(b, p, len);
			p += len;
			n -= len;
			continue;
		}
		p++;
		n--;
	}
}

void
www_buf_json(struct www_buf *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), len;

	www_buf_str(b, "\"");
	while (n > 0) {
		if (*p == '"' || *p == '\\') {
			www_buf_fmt(b, "\\%c", *p);
			len = 1;
		} else if (*p < 0x20 || *p == 0x7f) {
			www_buf_fmt(b, "\\u%04x", *p);
			len = 1;
		} else if (*p == '<') {		/* Safe inside HTML too. */
			www_buf_str(b, "\\u003c");
			len = 1;
		} else if ((len = www_utf8(p, n)) == 0) {
			www_buf_str(b, "\\ufffd");
			len = 1;
		} else
			www_buf_add(b, p, len);
		p += len;
		n -= len;
	}
	www_buf_str(b, "\"");
}

/* s percent-encoded for a query value: unreserved characters kept. */
static void
www_buf_url(struct www_buf *b, const char *s)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~@", *p) != NULL)
			www_buf_add(b, p, 1);
		else
			www_buf_fmt(b, "%%%02X", *p);
}

int
www_arg(const char *in, char *out, size_t outsz)
{
	size_t	 n = 0, skip;
	int	 hi, lo, c;

	if (in == NULL || outsz == 0)
		return (-1);
	for (; *in != '\0'; in++) {
		c = (unsigned char)*in;
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if ((hi = route_hex(in[1])) == -1 ||
			    (lo = route_hex(in[2])) == -1)
				return (-1);
			c = hi << 4 | lo;
			in += 2;
		}
		if (c < 0x20 || c == 0x7f || n + 1 >= outsz)
			return (-1);
		out[n++] = c;
	}
	/* Blanks around what was typed or pasted are no part of it. */
	while (n > 0 && out[n - 1] == ' ')
		n--;
	for (skip = 0; skip < n && out[skip] == ' '; skip++)
		;
	memmove(out, out + skip, n - skip);
	out[n - skip] = '\0';
	return ((int)(n - skip));
}

void
www_template(const char *t, size_t len, const char *const vars[][2],
    size_t nvars, struct www_buf *b)
{
	const char	*p = t, *end = t + len, *open, *close;
	size_t		 i, nlen;

	while (p < end) {
		if ((open = memmem(p, end - p, "{{", 2)) == NULL) {
			www_buf_add(b, p, end - p);
			break;
		}
		www_buf_add(b, p, open - p);
		if ((close = memmem(open + 2, end - open - 2, "}}", 2)) ==
		    NULL) {
			www_buf_add(b, open, end - open);
			break;
		}
		nlen = close - open - 2;
		for (i = 0; i < nvars; i++)
			if (strlen(vars[i][0]) == nlen &&
			    memcmp(vars[i][0], open + 2, nlen) == 0)
				break;
		if (i < nvars) {
			www_buf_str(b, vars[i][1]);
			p = close + 2;
		} else {
			www_buf_add(b, open, 2);
			p = open + 2;
		}
	}
}

/* Dates, names. */

/* t as "YYYY-MM-DD" (what a person reads) or RFC 3339 (machines). */
static void
www_date(int64_t t, int full, char *buf, size_t bufsz)
{
	struct tm	 tm;
	time_t		 tt = t;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, bufsz, full ?
	    "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d", &tm) == 0)
		(void)snprintf(buf, bufsz, "%lld", (long long)t);
}

/* RFC 9580 9.1's public-key algorithms. */
static const char *
www_alg(unsigned alg)
{
	switch (alg) {
	case 1:
	case 2:
	case 3:
		return ("RSA");
	case 16:
		return ("ElGamal");
	case 17:
		return ("DSA");
	case 18:
		return ("ECDH");
	case 19:
		return ("ECDSA");
	case 22:
		return ("EdDSA");
	case 25:
		return ("X25519");
	case 26:
		return ("X448");
	case 27:
		return ("Ed25519");
	case 28:
		return ("Ed448");
	default:
		return ("unknown");
	}
}

/* RFC 4880 5.2.3.23, as wkdctl names them. */
static const char *
www_reason(int r)
{
	switch (r) {
	case 1:
		return ("superseded");
	case 2:
		return ("compromised");
	case 3:
		return ("retired");
	default:
		return ("unspecified");
	}
}

static const struct {
	unsigned	 bit;
	const char	*name;
} www_uses[] = {
	{ KS_USE_CERTIFY, "certify" },
	{ KS_USE_SIGN, "sign" },
	{ KS_USE_ENCRYPT, "encrypt" },
	{ KS_USE_AUTH, "authenticate" },
};

#define WWW_NUSES	(sizeof(www_uses) / sizeof(www_uses[0]))

/* A key part's state, for a person: "valid", "revoked", "expired". */
static const char *
www_part_state(const struct ks_keypart *k, time_t now)
{
	if (k->revoked)
		return ("revoked");
	if (k->expires != 0 && k->expires <= now)
		return ("expired");
	return ("valid");
}

/* The file set. */

static const char *
www_type(const char *name)
{
	size_t	 i, n = strlen(name), e;

	for (i = 0; i < sizeof(www_types) / sizeof(www_types[0]); i++) {
		e = strlen(www_types[i].ext);
		if (n > e && strcmp(name + n - e, www_types[i].ext) == 0)
			return (www_types[i].type);
	}
	return (NULL);
}

/* A name served: [a-z0-9][a-z0-9._-]*, of a type we know. */
static int
www_name_ok(const char *name)
{
	size_t	 n = strlen(name);

	if (n == 0 || n >= WWW_NAME_MAX || !((name[0] >= 'a' &&
	    name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
		return (0);
	if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
		return (0);
	return (www_type(name) != NULL);
}

/* A strong ETag of bytes: 80 bits of their SHA-256, quoted. */
static void
www_etag(const void *data, size_t len, char etag[KS_ETAG_MAX])
{
	unsigned char	 d[32];

	etag[0] = '\0';
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, d) != 0)
		return;
	etag[0] = '"';
	(void)ks_zb32_encode(d, 10, etag + 1, KS_ETAG_MAX - 2);
	etag[17] = '"';		/* 80 bits: 16 characters. */
	etag[18] = '\0';
}

/* The headers of every response of the page's. */
static int
www_headers(struct MHD_Response *r, const char *type, const char *cache,
    const char *etag)
{
	if (MHD_add_response_header(r, "Access-Control-Allow-Origin",
	    "*") != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    type) != MHD_YES ||
	    MHD_add_response_header(r, "X-Content-Type-Options",
	    "nosniff") != MHD_YES ||
	    MHD_add_response_header(r, "Referrer-Policy",
	    "no-referrer") != MHD_YES ||
	    MHD_add_response_header(r, "Content-Security-Policy",
	    WWW_CSP) != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    cache) != MHD_YES ||
	    (etag != NULL && etag[0] != '\0' &&
	    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag) !=
	    MHD_YES) || http_hsts_add(r) == -1)	/* HTTPS only. */
		return (-1);
	return (0);
}

/* A file read whole into f (name set); -1 with err set. */
static int
www_read(int dfd, const char *dir, struct www_file *f, char *err,
    size_t errsz)
{
	struct stat	 st;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	if ((fd = openat(dfd, f->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		(void)snprintf(err, errsz, "www: %s/%s: %s", dir, f->name,
		    strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > WWW_FILE_MAX) {
		(void)snprintf(err, errsz, "www: %s/%s: not a regular file of "
		    "at most %d bytes", dir, f->name, WWW_FILE_MAX);
		goto close;
	}
	if ((f->data = malloc(st.st_size + 1)) == NULL) {
		(void)snprintf(err, errsz, "www: %s", strerror(errno));
		goto close;
	}
	while (len < (size_t)st.st_size) {
		if ((n = read(fd, f->data + len, st.st_size - len)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0) {
			(void)snprintf(err, errsz, "www: %s/%s: %s", dir,
			    f->name, n == 0 ? "short read" : strerror(errno));
			goto close;
		}
		len += n;
	}
	f->data[len] = '\0';
	f->len = len;
	(void)close(fd);
	return (0);
close:
	(void)close(fd);
	return (-1);
}

void
http_page_free(struct http_page *p)
{
	size_t	 i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		if (p->f[i].resp != NULL)
			MHD_destroy_response(p->f[i].resp);
		free(p->f[i].data);
	}
	free(p);
}

static int
www_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct www_file *)a)->name,
	    ((const struct www_file *)b)->name));
}

int
http_page_load(const struct conf *conf, struct http_page **pagep, char *err,
    size_t errsz)
{
	struct http_page	*p;
	struct www_file		*f;
	struct dirent		*de;
	DIR			*d;
	size_t			 i;
	int			 dfd, index = 0;

	*pagep = NULL;
	if (conf->www[0] == '\0')
		return (0);
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		(void)snprintf(err, errsz, "www: out of memory");
		return (-1);
	}
	if ((d = opendir(conf->www)) == NULL) {
		(void)snprintf(err, errsz, "www: %s: %s", conf->www,
		    strerror(errno));
		free(p);
		return (-1);
	}
	dfd = dirfd(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!www_name_ok(de->d_name))
			continue;	/* Dotfiles, backups~, unknown types. */
		if (p->n == WWW_FILES_MAX) {
			(void)snprintf(err, errsz, "www: %s: more than %d "
			    "files", conf->www, WWW_FILES_MAX);
			goto fail;
		}
		f = &p->f[p->n++];
		(void)snprintf(f->name, sizeof(f->name), "%s", de->d_name);
		f->type = www_type(f->name);
		f->tmpl = strcmp(f->type, WWW_HTML) == 0;
		if (www_read(dfd, conf->www, f, err, errsz) == -1)
			goto fail;
		if (strcmp(f->name, "index.html") == 0)
			index = 1;
	}
	if (errno != 0) {
		(void)snprintf(err, errsz, "www: %s: %s", conf->www,
		    strerror(errno));
		goto fail;
	}
	if (!index) {
		(void)snprintf(err, errsz, "www: %s/index.html: %s",
		    conf->www, strerror(ENOENT));
		goto fail;
	}
	qsort(p->f, p->n, sizeof(p->f[0]), www_cmp);
	for (i = 0; i < p->n; i++) {
		f = &p->f[i];
		www_etag(f->data, f->len, f->etag);
		if (f->tmpl)
			continue;
		if ((f->resp = MHD_create_response_from_buffer(f->len,
		    f->data, MHD_RESPMEM_PERSISTENT)) == NULL ||
		    www_headers(f->resp, f->type, WWW_CACHE_FILE,
		    f->etag) == -1) {
			(void)snprintf(err, errsz, "www: out of memory");
			goto fail;
		}
	}
	(void)closedir(d);
	*pagep = p;
	return (0);
fail:
	(void)closedir(d);
	http_page_free(p);
	return (-1);
}

void
http_page_install(struct http_page *p)
{
	struct http_page	*old;

	old = atomic_exchange(&www_cur, p);
	if (old != NULL) {
		old->next = www_old;
		www_old = old;
	}
}

void
www_cleanup(void)
{
	struct http_page	*p;

	http_page_free(atomic_exchange(&www_cur, NULL));
	while ((p = www_old) != NULL) {
		www_old = p->next;
		http_page_free(p);
	}
}

static const struct www_file *
www_find(const struct http_page *p, const char *name)
{
	size_t	 i;

	for (i = 0; p != NULL && i < p->n; i++)
		if (strcmp(p->f[i].name, name) == 0)
			return (&p->f[i]);
	return (NULL);
}

/* Responses. */

/* If-None-Match names etag? */
static int
www_fresh(struct MHD_Connection *c, const char *etag)
{
	const char	*inm;

	inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	return (inm != NULL && etag[0] != '\0' && http_etag_match(inm, etag));
}

/*
 * rep answers with b's bytes (taken: b is emptied), or 304 if the client
 * has them (their ETag).
 */
static void
www_reply(struct MHD_Connection *c, struct www_buf *b, unsigned status,
    const char *type, const char *cache, struct http_reply *rep)
{
	struct MHD_Response	*r;
	char			 etag[KS_ETAG_MAX];

	if (b->failed) {
		rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		return;
	}
	www_etag(b->data != NULL ? b->data : "", b->len, etag);
	if (status == MHD_HTTP_OK && www_fresh(c, etag)) {
		www_buf_free(b);
		status = MHD_HTTP_NOT_MODIFIED;
	}
	if (b->len == 0) {
		www_buf_free(b);
		r = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	} else if ((r = MHD_create_response_from_buffer_with_free_callback(
	    b->len, b->data, free)) == NULL)
		www_buf_free(b);
	rep->bytes = b->len;
	b->data = NULL;
	b->len = b->size = 0;
	if (r != NULL && www_headers(r, type, cache, status ==
	    MHD_HTTP_OK || status == MHD_HTTP_NOT_MODIFIED ? etag : NULL) ==
	    -1) {
		MHD_destroy_response(r);
		r = NULL;
	}
	rep->resp = r;
	rep->status = r != NULL ? status : MHD_HTTP_INTERNAL_SERVER_ERROR;
}

/* An HTML template of the set made into a page, answered. */
static void
www_page(struct MHD_Connection *c, const struct www_file *f,
    const struct route *r, const char *addr, const char *result,
    const char *status, unsigned code, struct http_reply *rep)
{
	struct www_buf	 dom = { 0 }, a = { 0 }, b = { 0 };
	const char	*vars[4][2];

	www_buf_html(&dom, r->domain);
	www_buf_html(&a, addr);
	vars[0][0] = "domain";
	vars[0][1] = dom.failed ? "" : dom.data;
	vars[1][0] = "addr";
	vars[1][1] = a.failed || a.data == NULL ? "" : a.data;
	vars[2][0] = "result";
	vars[2][1] = result;
	vars[3][0] = "status";
	vars[3][1] = status;
	www_template(f->data, f->len, vars, 4, &b);
	if (dom.failed || a.failed)
		b.failed = 1;
	www_buf_free(&dom);
	www_buf_free(&a);
	www_reply(c, &b, code, WWW_HTML, WWW_CACHE_PAGE, rep);
}

void
www_file(struct ks_reader *rd, struct MHD_Connection *c,
    const struct route *r, struct http_reply *rep)
{
	struct http_page	*p = atomic_load(&www_cur);
	const struct www_file	*f;
	int			 rc;

	/* status.html is /status's: empty without the check. */
	if ((f = www_find(p, r->kind == ROUTE_INDEX ? "index.html" :
	    r->token)) == NULL || strcmp(f->name, "status.html") == 0)
		return;
	if ((rc = ks_reader_has_domain(rd, r->domain)) != KS_OK) {
		if (rc != KS_NOTFOUND) {
			log_warnx("domain %s: %s", r->domain, ks_strerror(rc));
			rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		}
		return;
	}
	if (f->tmpl) {
		www_page(c, f, r, "", "", "", MHD_HTTP_OK, rep);
		return;
	}
	if (www_fresh(c, f->etag)) {
		if ((rep->resp = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT)) != NULL &&
		    www_headers(rep->resp, f->type, WWW_CACHE_FILE,
		    f->etag) == -1) {
			MHD_destroy_response(rep->resp);
			rep->resp = NULL;
		}
		rep->status = rep->resp != NULL ? MHD_HTTP_NOT_MODIFIED :
		    MHD_HTTP_INTERNAL_SERVER_ERROR;
		return;
	}
	rep->bytes = f->len;
	rep->status = MHD_HTTP_OK;
	rep->resp = f->resp;
	rep->shared = 1;
}

/* Lookups. */

/*
 * Facts as wkdctl writes them: fingerprints of hex digits only (they go
 * into markup and JSON as they are).
 */
static int
www_facts_ok(const struct ks_facts *f)
{
	size_t	 i;

	if (strspn(f->fpr, "0123456789ABCDEF") != strlen(f->fpr) ||
	    f->fpr[0] == '\0')
		return (0);
	for (i = 0; f->state.known && i < f->state.nsub; i++)
		if (strspn(f->state.sub[i].fpr, "0123456789ABCDEF") !=
		    strlen(f->state.sub[i].fpr))
			return (0);
	return (1);
}

/* What a lookup found, for the renderers. */
struct www_found {
	const struct route	*r;
	char			 addr[KS_ADDR_MAX];	/* Normalised. */
	char			 hash[KS_HASH_LEN + 1];
	struct ks_blob		 key;
	int			 hasfacts;
	struct ks_facts		 facts;
	time_t			 now;
};

/* The key's same-origin WKD URL (path), for links. */
static void
www_wkd_path(struct www_buf *b, const struct www_found *w)
{
	if (w->r->advanced)
		www_buf_fmt(b, "/.well-known/openpgpkey/%s/hu/%s",
		    w->r->domain, w->hash);
	else
		www_buf_fmt(b, "/.well-known/openpgpkey/hu/%s", w->hash);
}

static void
www_html_part(struct www_buf *b, const struct ks_keypart *k, time_t now)
{
	char	 d[32], full[32];
	size_t	 i, n = 0;

	www_buf_fmt(b, "<dt>Algorithm</dt><dd>%s", www_alg(k->alg));
	if (k->bits != 0)
		www_buf_fmt(b, ", %u bits", k->bits);
	www_buf_str(b, "</dd><dt>Purposes</dt><dd>");
	for (i = 0; i < WWW_NUSES; i++)
		if (k->usage & www_uses[i].bit)
			www_buf_fmt(b, "%s%s", n++ > 0 ? ", " : "",
			    www_uses[i].name);
	if (n == 0)
		www_buf_str(b, "none stated");
	www_date(k->created, 0, d, sizeof(d));
	www_date(k->created, 1, full, sizeof(full));
	www_buf_fmt(b, "</dd><dt>Created</dt><dd><time datetime=\"%s\">%s"
	    "</time></dd><dt>Expires</dt><dd>", full, d);
	if (k->expires == 0)
		www_buf_str(b, "never");
	else {
		www_date(k->expires, 0, d, sizeof(d));
		www_date(k->expires, 1, full, sizeof(full));
		www_buf_fmt(b, "<time datetime=\"%s\">%s</time>%s", full, d,
		    k->expires <= now ? " (expired)" : "");
	}
	www_buf_str(b, "</dd>");
}

/* The fingerprint in groups of four, as gpg prints it. */
static void
www_html_fpr(struct www_buf *b, const char *fpr)
{
	size_t	 i, n = strlen(fpr);

	www_buf_str(b, "<code class=\"fpr\">");
	for (i = 0; i < n; i += 4) {
		if (i > 0)
			www_buf_str(b, " ");
		www_buf_add(b, fpr + i, n - i < 4 ? n - i : 4);
	}
	www_buf_str(b, "</code>");
}

static void
www_html_key(struct www_buf *b, const struct www_found *w)
{
	const struct ks_keystate	*st = &w->facts.state;
	const char			*state = "valid";
	size_t				 i;

	if (w->hasfacts && st->known)
		state = www_part_state(&st->primary, w->now);
	www_buf_fmt(b, "<article class=\"key %s\" aria-labelledby=\"res-h\">"
	    "<h2 id=\"res-h\">Key for <span class=\"addr\">", state);
	www_buf_html(b, w->addr);
	www_buf_str(b, "</span></h2>");
	if (!w->hasfacts)
		www_buf_str(b, "<p class=\"badge\">Published</p><p>A key is "
		    "published for this address; its details were not "
		    "recorded (the operator runs <code>wkdctl republish"
		    "</code>).</p>");
	else {
		if (strcmp(state, "revoked") == 0) {
			www_buf_fmt(b, "<p class=\"badge\">Revoked (%s)",
			    www_reason(st->reason));
			if (st->reason_text[0] != '\0') {
				www_buf_str(b, ": ");
				www_buf_html(b, st->reason_text);
			}
			www_buf_str(b, "</p><p>Do not encrypt to this key."
			    "</p>");
		} else if (strcmp(state, "expired") == 0)
			www_buf_str(b, "<p class=\"badge\">Expired</p>");
		else if (!st->known)
			www_buf_str(b, "<p class=\"badge\">Published</p>");
		else
			www_buf_str(b, "<p class=\"badge\">Valid</p>");
		www_buf_str(b, "<dl><dt>Fingerprint</dt><dd>");
		www_html_fpr(b, w->facts.fpr);
		www_buf_str(b, "</dd><dt>User ID</dt><dd>");
		www_buf_html(b, w->facts.uid);
		www_buf_str(b, "</dd>");
		if (st->known)
			www_html_part(b, &st->primary, w->now);
		www_buf_str(b, "</dl>");
		if (st->known && st->nsub > 0) {
			www_buf_str(b, "<h3>Subkeys</h3>"
			    "<ul class=\"subkeys\">");
			for (i = 0; i < st->nsub; i++) {
				www_buf_fmt(b, "<li class=\"%s\"><dl>"
				    "<dt>Fingerprint</dt><dd>",
				    www_part_state(&st->sub[i], w->now));
				www_html_fpr(b, st->sub[i].fpr);
				www_buf_str(b, "</dd>");
				www_html_part(b, &st->sub[i], w->now);
				if (st->sub[i].revoked)
					www_buf_str(b, "<dt>State</dt>"
					    "<dd>revoked</dd>");
				www_buf_str(b, "</dl></li>");
			}
			www_buf_str(b, "</ul>");
		}
	}
	www_buf_str(b, "<p class=\"downloads\"><a class=\"button\" href=\"");
	www_wkd_path(b, w);
	www_buf_fmt(b, "\" download=\"%s.pgp\">Download key (.pgp, binary)"
	    "</a> <a class=\"button\" href=\"/lookup.asc?addr=",
	    w->hasfacts ? w->facts.fpr : w->hash);
	www_buf_url(b, w->addr);
	www_buf_fmt(b, "\" download=\"%s.asc\">Download key (.asc, armored)"
	    "</a></p></article>", w->hasfacts ? w->facts.fpr : w->hash);
}

static void
www_json_part(struct www_buf *b, const struct ks_keypart *k, time_t now)
{
	char	 d[32];
	size_t	 i, n = 0;

	www_buf_fmt(b, "\"algorithm\":\"%s\",\"bits\":%u,\"purposes\":[",
	    www_alg(k->alg), k->bits);
	for (i = 0; i < WWW_NUSES; i++)
		if (k->usage & www_uses[i].bit)
			www_buf_fmt(b, "%s\"%s\"", n++ > 0 ? "," : "",
			    www_uses[i].name);
	www_date(k->created, 1, d, sizeof(d));
	www_buf_fmt(b, "],\"created\":\"%s\",\"expires\":", d);
	if (k->expires == 0)
		www_buf_str(b, "null");
	else {
		www_date(k->expires, 1, d, sizeof(d));
		www_buf_fmt(b, "\"%s\"", d);
	}
	www_buf_fmt(b, ",\"expired\":%s,\"revoked\":%s",
	    k->expires != 0 && k->expires <= now ? "true" : "false",
	    k->revoked ? "true" : "false");
}

static void
www_json_key(struct www_buf *b, const struct www_found *w)
{
	const struct ks_keystate	*st = &w->facts.state;
	size_t				 i;

	www_buf_str(b, "{\"address\":");
	www_buf_json(b, w->addr);
	www_buf_str(b, ",\"published\":true");
	if (w->hasfacts) {
		www_buf_fmt(b, ",\"fingerprint\":\"%s\",\"uid\":",
		    w->facts.fpr);
		www_buf_json(b, w->facts.uid);
		www_buf_fmt(b, ",\"known\":%s", st->known ? "true" : "false");
	}
	if (w->hasfacts && st->known) {
		www_buf_str(b, ",\"state\":\"");
		www_buf_str(b, www_part_state(&st->primary, w->now));
		www_buf_str(b, "\",");
		www_json_part(b, &st->primary, w->now);
		if (st->primary.revoked) {
			www_buf_fmt(b, ",\"revocation\":{\"reason\":\"%s\","
			    "\"text\":", www_reason(st->reason));
			www_buf_json(b, st->reason_text);
			www_buf_str(b, "}");
		}
		www_buf_str(b, ",\"subkeys\":[");
		for (i = 0; i < st->nsub; i++) {
			www_buf_fmt(b, "%s{\"fingerprint\":\"%s\",",
			    i > 0 ? "," : "", st->sub[i].fpr);
			www_json_part(b, &st->sub[i], w->now);
			www_buf_str(b, "}");
		}
		www_buf_str(b, "]");
	}
	/* Each %s alone: two domains could pass www_buf_fmt()'s bound. */
	www_buf_fmt(b, ",\"links\":{\"wkd\":\"https://openpgpkey.%s",
	    w->r->domain);
	www_buf_fmt(b, "/.well-known/openpgpkey/%s", w->r->domain);
	www_buf_fmt(b, "/hu/%s\",\"pgp\":\"", w->hash);
	www_wkd_path(b, w);
	www_buf_str(b, "\",\"asc\":\"/lookup.asc?addr=");
	www_buf_url(b, w->addr);
	www_buf_str(b, "\"}}\n");
}

/* CRC-24 of RFC 4880 6.1. */
static uint32_t
www_crc24(const unsigned char *p, size_t len)
{
	uint32_t	 crc = 0xb704ceU;
	int		 i;

	while (len-- > 0) {
		crc ^= (uint32_t)*p++ << 16;
		for (i = 0; i < 8; i++) {
			crc <<= 1;
			if (crc & 0x1000000)
				crc ^= 0x1864cfbU;
		}
	}
	return (crc & 0xffffffU);
}

static const char www_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of p, in lines of WWW_ARMOR_LINE characters (0: one line). */
static void
www_base64(struct www_buf *b, const unsigned char *p, size_t len, int lines)
{
	char		 q[4];
	uint32_t	 v;
	size_t		 i, col = 0;

	for (i = 0; i < len; i += 3) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		q[0] = www_b64[v >> 18 & 63];
		q[1] = www_b64[v >> 12 & 63];
		q[2] = i + 1 < len ? www_b64[v >> 6 & 63] : '=';
		q[3] = i + 2 < len ? www_b64[v & 63] : '=';
		www_buf_add(b, q, 4);
		if (lines && (col += 4) == WWW_ARMOR_LINE) {
			www_buf_str(b, "\n");
			col = 0;
		}
	}
	if (lines && col != 0)
		www_buf_str(b, "\n");
}

void
www_armor(const unsigned char *p, size_t len, struct www_buf *b)
{
	unsigned char	 crc[3];
	uint32_t	 c = www_crc24(p, len);

	crc[0] = c >> 16;
	crc[1] = c >> 8;
	crc[2] = c;
	www_buf_str(b, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n");
	www_base64(b, p, len, 1);
	www_buf_str(b, "=");
	www_base64(b, crc, 3, 0);
	www_buf_str(b, "\n-----END PGP PUBLIC KEY BLOCK-----\n");
}

/*
 * The address of the request into w->addr and w->hash: KS_OK, KS_INVALID
 * (none, or not an address: *why says), KS_NOTFOUND (another domain's).
 */
static int
www_addr(struct MHD_Connection *c, struct www_found *w, const char **why)
{
	const char	*raw;
	char		 in[KS_ADDR_MAX], dom[KS_DOMAIN_MAX], *at;
	int		 n = 0;

	raw = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "addr");
	if (raw == NULL || (n = www_arg(raw, in, sizeof(in))) <= 0) {
		*why = raw == NULL || n == 0 ? "Type a mail address to look "
		    "up." : "That is not a mail address.";
		return (KS_INVALID);
	}
	if (ks_addr_norm(in, w->addr, sizeof(w->addr), dom, sizeof(dom)) !=
	    KS_OK || (at = strrchr(w->addr, '@')) == NULL) {
		(void)snprintf(w->addr, sizeof(w->addr), "%s", in);
		*why = "That is not a mail address.";
		return (KS_INVALID);
	}
	if (strcmp(dom, w->r->domain) != 0) {
		*why = "This server answers only for addresses of its own "
		    "domain.";
		return (KS_NOTFOUND);
	}
	if (ks_wkd_hash(w->addr, at - w->addr, w->hash) != KS_OK) {
		*why = "That is not a mail address.";
		return (KS_INVALID);
	}
	return (KS_OK);
}

/* A message for the page: a notice of class cls (escaped text). */
static void
www_notice(struct www_buf *b, const char *cls, const char *title,
    const char *text, const char *addr)
{
	www_buf_fmt(b, "<div class=\"notice %s\" role=\"%s\"><h2>%s</h2><p>",
	    cls, strcmp(cls, "miss") == 0 ? "status" : "alert", title);
	www_buf_html(b, text);
	if (addr != NULL && addr[0] != '\0') {
		www_buf_str(b, " <span class=\"addr\">");
		www_buf_html(b, addr);
		www_buf_str(b, "</span>");
	}
	www_buf_str(b, "</p></div>");
}

void
www_lookup(struct ks_reader *rd, struct MHD_Connection *c,
    const struct route *r, struct http_reply *rep)
{
	struct http_page	*p = atomic_load(&www_cur);
	const struct www_file	*index;
	struct www_found	*w;
	struct www_buf		 b = { 0 };
	const char		*why = NULL, *type;
	char			 disp[KS_HASH_LEN + 40];
	unsigned		 code = MHD_HTTP_OK;
	int			 rc;

	if ((index = www_find(p, "index.html")) == NULL &&
	    r->fmt == ROUTE_FMT_HTML)
		return;
	if ((rc = ks_reader_has_domain(rd, r->domain)) != KS_OK) {
		if (rc != KS_NOTFOUND) {
			log_warnx("domain %s: %s", r->domain, ks_strerror(rc));
			rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		}
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		return;
	}
	w->r = r;
	w->now = time(NULL);
	if ((rc = www_addr(c, w, &why)) == KS_OK) {
		rc = ks_reader_key(rd, r->domain, w->hash, &w->key);
		if (rc == KS_OK && r->fmt != ROUTE_FMT_ASC) {
			rc = ks_reader_facts(rd, r->domain, w->hash,
			    &w->facts);
			w->hasfacts = rc == KS_OK;
			if (rc == KS_NOTFOUND)
				rc = KS_OK;
			if (w->hasfacts && !www_facts_ok(&w->facts)) {
				log_warnx("lookup in %s: facts not as wkdctl "
				    "writes them: not shown", r->domain);
				w->hasfacts = 0;
			}
		}
		if (rc != KS_OK && rc != KS_NOTFOUND) {
			/* The domain only: the hash would name the address. */
			log_warnx("lookup in %s: %s", r->domain,
			    ks_strerror(rc));
			rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
			goto out;
		}
		if (rc == KS_NOTFOUND) {
			why = "No key is published for";
			code = MHD_HTTP_NOT_FOUND;
		}
	} else
		code = rc == KS_INVALID ? MHD_HTTP_BAD_REQUEST :
		    MHD_HTTP_NOT_FOUND;

	switch (r->fmt) {
	case ROUTE_FMT_JSON:
		type = WWW_JSON;
		if (code == MHD_HTTP_OK)
			www_json_key(&b, w);
		else {
			www_buf_str(&b, "{\"address\":");
			www_buf_json(&b, w->addr);
			www_buf_str(&b, ",\"published\":false,\"error\":");
			www_buf_json(&b, code == MHD_HTTP_NOT_FOUND &&
			    rc == KS_NOTFOUND && w->hash[0] != '\0' ?
			    "no key published" : why);
			www_buf_str(&b, "}\n");
		}
		break;
	case ROUTE_FMT_ASC:
		type = code == MHD_HTTP_OK ? WWW_ASC : "text/plain; "
		    "charset=utf-8";
		if (code == MHD_HTTP_OK)
			www_armor(w->key.data, w->key.len, &b);
		else
			www_buf_str(&b, w->hash[0] != '\0' && rc ==
			    KS_NOTFOUND ? "No key published\n" :
			    "Not an address of this domain\n");
		break;
	default:
		type = WWW_HTML;
		if (code == MHD_HTTP_OK)
			www_html_key(&b, w);
		else if (code == MHD_HTTP_NOT_FOUND && w->hash[0] != '\0')
			www_notice(&b, "miss", "No key published", why,
			    w->addr);
		else
			www_notice(&b, "error", code == MHD_HTTP_NOT_FOUND ?
			    "Not an address of this domain" :
			    "Not an address", why, NULL);
		break;
	}
	if (r->fmt == ROUTE_FMT_HTML) {
		if (b.failed)
			rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		else
			www_page(c, index, r, w->addr, b.data != NULL ?
			    b.data : "", "", code, rep);
		www_buf_free(&b);
	} else
		www_reply(c, &b, code, type, WWW_CACHE_PAGE, rep);
	(void)snprintf(disp, sizeof(disp), "attachment; filename=\"%s.asc\"",
	    w->hash);
	if (r->fmt == ROUTE_FMT_ASC && rep->resp != NULL && code ==
	    MHD_HTTP_OK && MHD_add_response_header(rep->resp,
	    "Content-Disposition", disp) != MHD_YES) {
		MHD_destroy_response(rep->resp);
		rep->resp = NULL;
		rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
out:
	ks_blob_free(&w->key);
	free(w);
}

/* The domain status page. */

/* A status word as a badge's class and text. */
static void
www_badge(struct www_buf *b, const char *st)
{
	const char	*cls = "info";

	if (strcmp(st, "ok") == 0 || strcmp(st, "fail") == 0 ||
	    strcmp(st, "warn") == 0)
		cls = st;
	www_buf_fmt(b, "<span class=\"st st-%s\">", cls);
	www_buf_html(b, strcmp(st, "fail") == 0 ? "FAIL" : st);
	www_buf_str(b, "</span>");
}

static const char *
www_jstr(const json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return (s != NULL ? s : "");
}

/* The check's time, "YYYY-MM-DDTHH:MM:SSZ", as a person reads it. */
static void
www_checked(struct www_buf *b, const char *t)
{
	if (strlen(t) != 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' ||
	    t[13] != ':' || t[16] != ':' || t[19] != 'Z' ||
	    strspn(t, "0123456789-T:Z") != 20) {
		www_buf_html(b, t);
		return;
	}
	www_buf_fmt(b, "<time datetime=\"%s\">%.10s %.5s UTC</time>", t, t,
	    t + 11);
}

/* A check result's or verdict's fix, if it has one. */
static void
www_fix(struct www_buf *b, const json_t *e)
{
	if (www_jstr(e, "fix")[0] == '\0')
		return;
	www_buf_str(b, "<p class=\"fix\"><strong>Fix:</strong> ");
	www_buf_html(b, www_jstr(e, "fix"));
	www_buf_str(b, "</p>");
}

/*
 * The head of one of the status page's tables (id its heading's id, title
 * its heading, col its four column names), up to its body.
 */
static void
www_table_open(struct www_buf *b, const char *id, const char *title,
    const char *const col[4])
{
	size_t	i;

	www_buf_fmt(b, "<h2 id=\"%s\">%s</h2><div class=\"scroll\" "
	    "role=\"region\" aria-labelledby=\"%s\" tabindex=\"0\"><table "
	    "class=\"clients\"><thead><tr>", id, title, id);
	for (i = 0; i < 4; i++)
		www_buf_fmt(b, "<th scope=\"col\">%s</th>", col[i]);
	www_buf_str(b, "</tr></thead><tbody>");
}

/*
 * A row of those tables: name, then what (in <code> if code is set), the
 * verdict e's badge, its detail and fix.
 */
static void
www_table_row(struct www_buf *b, const char *name, const char *what,
    int code, const json_t *e)
{
	www_buf_str(b, "<tr><th scope=\"row\">");
	www_buf_html(b, name);
	www_buf_str(b, code ? "</th><td><code>" : "</th><td>");
	www_buf_html(b, what);
	www_buf_str(b, code ? "</code></td><td>" : "</td><td>");
	www_badge(b, www_jstr(e, "status"));
	www_buf_str(b, "</td><td>");
	www_buf_html(b, www_jstr(e, "detail"));
	www_fix(b, e);
	www_buf_str(b, "</td></tr>");
}

int
www_status_html(const char *doc, size_t len, struct www_buf *b)
{
	static const char *const methods[] = { "advanced", "direct" };
	static const char *const ccols[4] = { "Client", "Method", "Result",
	    "Why, and the fix" };
	static const char *const mcols[4] = { "Method", "Host", "Result",
	    "What a client meets, and the fix" };
	json_error_t	 jerr;
	json_t		*root, *res, *e;
	size_t		 i;
	long long	 failed, warnings;

	if ((root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL)
		return (-1);
	if (!json_is_object(root) || !json_is_array(res = json_object_get(
	    root, "results"))) {
		json_decref(root);
		return (-1);
	}
	failed = json_integer_value(json_object_get(root, "failed"));
	warnings = json_integer_value(json_object_get(root, "warnings"));
	www_buf_fmt(b, "<p class=\"summary %s\" role=\"status\">",
	    failed > 0 ? "fail" : warnings > 0 ? "warn" : "ok");
	www_buf_str(b, failed > 0 ? "Not working yet: " : warnings > 0 ?
	    "Working, with warnings: " : "Working: ");
	www_buf_fmt(b, "%lld failed, %lld warning%s.", failed, warnings,
	    warnings == 1 ? "" : "s");
	www_buf_str(b, " Checked ");
	www_checked(b, www_jstr(root, "checked"));
	www_buf_str(b, " for <code>");
	www_buf_html(b, www_jstr(root, "host"));
	www_buf_str(b, "</code>.</p>");

	www_buf_str(b, "<h2 id=\"checks-h\">What was checked</h2>"
	    "<ul class=\"checks\" aria-labelledby=\"checks-h\">");
	json_array_foreach(res, i, e) {
		if (!json_is_object(e))
			continue;
		www_buf_fmt(b, "<li class=\"check\">");
		www_badge(b, www_jstr(e, "status"));
		www_buf_str(b, " <span class=\"area\">");
		www_buf_html(b, www_jstr(e, "area"));
		www_buf_str(b, "</span> <span class=\"detail\">");
		www_buf_html(b, www_jstr(e, "detail"));
		www_buf_str(b, "</span>");
		www_fix(b, e);
		www_buf_str(b, "</li>");
	}
	www_buf_str(b, "</ul>");

	if (json_is_array(res = json_object_get(root, "clients")) &&
	    json_array_size(res) > 0) {
		www_table_open(b, "clients-h", "How each client will find keys",
		    ccols);
		json_array_foreach(res, i, e)
			if (json_is_object(e))
				www_table_row(b, www_jstr(e, "client"),
				    www_jstr(e, "method"), 0, e);
		www_buf_str(b, "</tbody></table></div>");
	}
	if (json_is_object(res = json_object_get(root, "methods")) &&
	    json_object_size(res) > 0) {
		www_table_open(b, "methods-h", "The two methods", mcols);
		for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			if (json_is_object(e = json_object_get(res,
			    methods[i])))
				www_table_row(b, methods[i],
				    www_jstr(e, "host"), 1, e);
		www_buf_str(b, "</tbody></table></div>");
	}
	if (www_jstr(root, "resolver")[0] != '\0' ||
	    www_jstr(root, "dnssec")[0] != '\0') {
		www_buf_str(b, "<p class=\"extra\">Looked up through the "
		    "resolver <code>");
		www_buf_html(b, www_jstr(root, "resolver")[0] != '\0' ?
		    www_jstr(root, "resolver") : "(unknown)");
		www_buf_str(b, "</code>; DNSSEC: ");
		www_buf_html(b, www_jstr(root, "dnssec")[0] != '\0' ?
		    www_jstr(root, "dnssec") : "unknown");
		www_buf_str(b, ".</p>");
	}
	json_decref(root);
	return (b->failed ? -1 : 0);
}

void
www_status(struct ks_reader *rd, struct MHD_Connection *c,
    const struct route *r, struct http_reply *rep)
{
	struct http_page	*p = atomic_load(&www_cur);
	const struct www_file	*f;
	struct ks_blob		 doc;
	struct www_buf		 b = { 0 };
	int			 rc;

	if ((f = www_find(p, "status.html")) == NULL)
		return;
	if ((rc = ks_reader_check(rd, r->domain, &doc)) == KS_NOTFOUND) {
		if (ks_reader_has_domain(rd, r->domain) != KS_OK)
			return;
		www_buf_str(&b, "<p class=\"summary info\" role=\"status\">"
		    "Not checked yet. The operator runs <code>wkdctl domain "
		    "check ");
		www_buf_html(&b, r->domain);
		www_buf_str(&b, "</code>, which records what it finds "
		    "here.</p>");
	} else if (rc != KS_OK) {
		log_warnx("status %s: %s", r->domain, ks_strerror(rc));
		rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		return;
	} else {
		if (www_status_html((const char *)doc.data, doc.len, &b) ==
		    -1 && !b.failed) {
			www_buf_free(&b);
			www_buf_str(&b, "<p class=\"summary info\">The last "
			    "check's record can't be read.</p>");
			log_warnx("status %s: the check document is not JSON "
			    "of its schema", r->domain);
		}
		ks_blob_free(&doc);
	}
	if (b.failed) {
		www_buf_free(&b);
		rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		return;
	}
	www_page(c, f, r, "", "", b.data, MHD_HTTP_OK, rep);
	www_buf_free(&b);
}
