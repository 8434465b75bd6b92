/*
 * https.c: a small HTTPS GET client (GnuTLS) for wkdctl domain check: one
 * request per connection, "Connection: close", the response read to the
 * end.  It verifies the server's certificate as a mail client would
 * (trust store, host name, dates) but reports instead of refusing, so that
 * the check can say what is wrong.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "keystore.h"
#include "wkdctl.h"


#define HTTPS_TIMEOUT	10		/* Seconds, each step. */
#define HTTPS_MAX	(KS_BLOB_MAX + 64 * 1024)

void
https_resp_free(struct https_resp *r)
{
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

int
https_header(const struct https_resp *r, const char *name, char *out,
    size_t outsz)
{
	const char	*p, *e, *v;
	size_t		 nl = strlen(name), len;

	if (r->headers == NULL)
		return (-1);
	for (p = r->headers; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		if ((e = strchr(p, '\n')) == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) <= nl || p[nl] != ':' ||
		    strncasecmp(p, name, nl) != 0)
			continue;
		for (v = p + nl + 1; v < e && (*v == ' ' || *v == '\t'); v++)
			continue;
		len = (size_t)(e - v);
		while (len > 0 && isspace((unsigned char)v[len - 1]))
			len--;
		if (len >= outsz)
			return (-1);
		memcpy(out, v, len);
		out[len] = '\0';
		return (0);
	}
	return (-1);
}

/* Decode a chunked body in place; -1 if malformed. */
static int
https_dechunk(unsigned char *b, size_t *lenp)
{
	size_t		 in = 0, out = 0, len = *lenp, n;
	unsigned long	 sz;
	char		 num[32], *end;

	for (;;) {
		for (n = 0; in + n < len && b[in + n] != '\n'; n++)
			continue;
		if (in + n >= len || n == 0 || n >= sizeof(num))
			return (-1);
		memcpy(num, b + in, n);
		num[n] = '\0';
		errno = 0;
		sz = strtoul(num, &end, 16);
		if (end == num || errno != 0 || sz > len)
			return (-1);
		in += n + 1;
		if (sz == 0)
			break;
		if (len - in < sz + 2)
			return (-1);
		memmove(b + out, b + in, sz);
		out += sz;
		in += sz + 2;		/* Data, CRLF. */
	}
	*lenp = out;
	return (0);
}

/* Split raw (len bytes) into status, headers and body. */
static int
https_parse(unsigned char *raw, size_t len, struct https_resp *r)
{
	unsigned char	*hend = NULL;
	char		 val[64], *end;
	size_t		 i, hlen, blen;
	long		 cl;

	for (i = 0; i + 3 < len; i++)
		if (memcmp(raw + i, "\r\n\r\n", 4) == 0) {
			hend = raw + i;
			break;
		}
	if (hend == NULL || len < 12 || memcmp(raw, "HTTP/1.", 7) != 0 ||
	    !isdigit(raw[9]) || !isdigit(raw[10]) || !isdigit(raw[11]))
		return (-1);
	r->status = (raw[9] - '0') * 100 + (raw[10] - '0') * 10 +
	    (raw[11] - '0');
	hlen = (size_t)(hend - raw);
	if ((r->headers = malloc(hlen + 1)) == NULL)
		return (-1);
	/* Header lines without CRs, the status line skipped. */
	for (i = 0, blen = 0; i < hlen; i++)
		if (raw[i] != '\r')
			r->headers[blen++] = (char)raw[i];
	r->headers[blen] = '\0';
	if ((end = strchr(r->headers, '\n')) != NULL)
		memmove(r->headers, end + 1, strlen(end + 1) + 1);
	else
		r->headers[0] = '\0';
	blen = len - hlen - 4;
	if ((r->body = malloc(blen + 1)) == NULL)
		return (-1);
	memcpy(r->body, hend + 4, blen);
	r->bodylen = blen;
	if (https_header(r, "Transfer-Encoding", val, sizeof(val)) == 0 &&
	    strcasecmp(val, "chunked") == 0)
		return (https_dechunk(r->body, &r->bodylen));
	if (https_header(r, "Content-Length", val, sizeof(val)) == 0) {
		errno = 0;
		cl = strtol(val, &end, 10);
		if (end == val || *end != '\0' || errno != 0 || cl < 0 ||
		    (size_t)cl > r->bodylen)
			return (-1);
		r->bodylen = (size_t)cl;
	}
	return (0);
}

/* A TCP connection to addr, with send and receive timeouts; -1 if none. */
static int
https_connect(const struct sockaddr *addr, unsigned addrlen, char *err,
    size_t errsz)
{
	struct timeval	 tv = { HTTPS_TIMEOUT, 0 };
	int		 fd;

	if ((fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		(void)snprintf(err, errsz, "socket: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	if (connect(fd, addr, addrlen) == -1) {
		(void)snprintf(err, errsz, "connect: %s", strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * Credentials trusting cafile, or the system trust store if NULL, into
 * *credp.  Returns 0, or -1 with err set.
 */
static int
https_cred(const char *cafile, gnutls_certificate_credentials_t *credp,
    char *err, size_t errsz)
{
	int	 rc;

	if ((rc = gnutls_certificate_allocate_credentials(credp)) < 0) {
		*credp = NULL;
		(void)snprintf(err, errsz, "TLS: %s", gnutls_strerror(rc));
		return (-1);
	}
	if (cafile != NULL)
		rc = gnutls_certificate_set_x509_trust_file(*credp, cafile,
		    GNUTLS_X509_FMT_PEM);
	else
		rc = gnutls_certificate_set_x509_system_trust(*credp);
	if (rc <= 0) {
		(void)snprintf(err, errsz, "%s: no trusted certificates%s%s",
		    cafile != NULL ? cafile : "system trust store",
		    rc < 0 ? ": " : "", rc < 0 ? gnutls_strerror(rc) : "");
		return (-1);
	}
	return (0);
}

/*
 * The TLS handshake on fd with host's name, then the verification status
 * into *verify and the server's certificate into *crtp (NULL if none).
 * Returns 0, or a GnuTLS error code.
 */
static int
https_handshake(gnutls_session_t s, gnutls_certificate_credentials_t cred,
    int fd, const char *host, gnutls_x509_crt_t *crtp, unsigned *verify)
{
	const gnutls_datum_t	*peers;
	unsigned		 npeers;
	int			 rc;

	if ((rc = gnutls_set_default_priority(s)) < 0 ||
	    (rc = gnutls_server_name_set(s, GNUTLS_NAME_DNS, host,
	    strlen(host))) < 0 ||
	    (rc = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred)) < 0)
		return (rc);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, HTTPS_TIMEOUT * 1000);
	do {
		rc = gnutls_handshake(s);
	} while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc < 0)
		return (rc);
	if ((rc = gnutls_certificate_verify_peers3(s, host, verify)) < 0)
		return (rc);
	if ((peers = gnutls_certificate_get_peers(s, &npeers)) == NULL ||
	    npeers == 0)
		return (0);
	if ((rc = gnutls_x509_crt_init(crtp)) < 0) {
		*crtp = NULL;
		return (rc);
	}
	if (gnutls_x509_crt_import(*crtp, &peers[0], GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(*crtp);
		*crtp = NULL;
	}
	return (0);
}

/* Send req whole; 0, or -1 with err set. */
static int
https_send(gnutls_session_t s, const char *req, char *err, size_t errsz)
{
	size_t	 off, len = strlen(req);
	ssize_t	 n;

	for (off = 0; off < len; off += (size_t)n) {
		n = gnutls_record_send(s, req + off, len - off);
		if (n == GNUTLS_E_INTERRUPTED) {
			n = 0;
			continue;
		}
		/* The socket blocks: EAGAIN is SO_SNDTIMEO expiring. */
		if (n == GNUTLS_E_AGAIN) {
			(void)snprintf(err, errsz, "no progress in %d s",
			    HTTPS_TIMEOUT);
			return (-1);
		}
		if (n < 0) {
			(void)snprintf(err, errsz, "TLS: %s",
			    gnutls_strerror((int)n));
			return (-1);
		}
	}
	return (0);
}

/*
 * Read the response to its end (at most HTTPS_MAX bytes) into *rawp
 * (malloc(3)ed), *lenp.  0, or -1 with err set.
 */
static int
https_recv(gnutls_session_t s, unsigned char **rawp, size_t *lenp,
    char *err, size_t errsz)
{
	struct timespec	 t0, t;
	unsigned char	*raw;
	size_t		 len = 0;
	ssize_t		 n;

	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((*rawp = raw = malloc(HTTPS_MAX)) == NULL) {
		(void)snprintf(err, errsz, "%s", strerror(errno));
		return (-1);
	}
	for (;;) {
		if (len == HTTPS_MAX) {
			(void)snprintf(err, errsz, "response over %d bytes",
			    HTTPS_MAX);
			return (-1);
		}
		n = gnutls_record_recv(s, raw + len, HTTPS_MAX - len);
		if (n == GNUTLS_E_INTERRUPTED)
			continue;
		/*
		 * SO_RCVTIMEO expired: a server that stalls is given up on.
		 * GnuTLS says AGAIN too once it has taken in a TLS 1.3 session
		 * ticket, at once: read on then.
		 */
		(void)clock_gettime(CLOCK_MONOTONIC, &t);
		if (n == GNUTLS_E_AGAIN && t.tv_sec - t0.tv_sec < HTTPS_TIMEOUT)
			continue;
		if (n == GNUTLS_E_AGAIN) {
			(void)snprintf(err, errsz, "no response data in %d s",
			    HTTPS_TIMEOUT);
			return (-1);
		}
		/* A server closing without close_notify ends it too. */
		if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
			break;
		if (n < 0) {
			(void)snprintf(err, errsz, "TLS: %s",
			    gnutls_strerror((int)n));
			return (-1);
		}
		len += (size_t)n;
	}
	*lenp = len;
	return (0);
}

int
https_get(const struct sockaddr *addr, unsigned addrlen, const char *host,
    const char *path, const char *cafile, gnutls_x509_crt_t *crtp,
    unsigned *verify, struct https_resp *resp, char *err, size_t errsz)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t	 s = NULL;
	unsigned char		*raw = NULL;
	char			 req[2048];
	size_t			 len = 0;
	int			 fd = -1, rc, ret = -1;

	*crtp = NULL;
	*verify = 0;
	memset(resp, 0, sizeof(*resp));
	err[0] = '\0';
	rc = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: wkdctl-check\r\nAccept: */*\r\n"
	    "Connection: close\r\n\r\n", path, host);
	if (rc < 0 || (size_t)rc >= sizeof(req)) {
		(void)snprintf(err, errsz, "request too long");
		return (-1);
	}
	if ((fd = https_connect(addr, addrlen, err, errsz)) == -1 ||
	    https_cred(cafile, &cred, err, errsz) == -1)
		goto out;
	if ((rc = gnutls_init(&s, GNUTLS_CLIENT)) < 0) {
		s = NULL;
		(void)snprintf(err, errsz, "TLS: %s", gnutls_strerror(rc));
		goto out;
	}
	if ((rc = https_handshake(s, cred, fd, host, crtp, verify)) < 0) {
		(void)snprintf(err, errsz, "TLS: %s", gnutls_strerror(rc));
		goto out;
	}
	if (https_send(s, req, err, errsz) == -1 ||
	    https_recv(s, &raw, &len, err, errsz) == -1)
		goto out;
	if (https_parse(raw, len, resp) == -1) {
		https_resp_free(resp);
		(void)snprintf(err, errsz, "not an HTTP response");
		goto out;
	}
	ret = 0;
out:
	free(raw);
	if (s != NULL)
		gnutls_deinit(s);
	if (cred != NULL)
		gnutls_certificate_free_credentials(cred);
	if (fd != -1)
		close(fd);
	return (ret);
}
