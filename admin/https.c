/*
 * https.c: HTTPS GET through libcurl (Debian's GnuTLS flavour), for
 * "wkdctl domain check", "locate" and "refresh".  libcurl does the HTTP
 * (HTTP/1.1 or 2, chunked bodies, header parsing) and TLS with SNI; this
 * file sets the policy: https only, the body capped, timeouts, redirects
 * followed by hand so that each hop is checked to be https.
 *
 * https_get() (domain check) reports on the certificate instead of
 * refusing it: libcurl's verification is off there, the chain is taken
 * with CURLOPT_CERTINFO and verified here with GnuTLS, against the same
 * trust (cafile or the system's) and host name.  https_fetch() (locate,
 * refresh) lets libcurl verify and refuses what fails.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "keystore.h"
#include "wkdctl.h"

#define HTTPS_TIMEOUT	10		/* Seconds: connecting, stalling. */
#define HTTPS_TOTAL	30		/* Seconds: one request, whole. */
#define HTTPS_MAX	(KS_BLOB_MAX + 64 * 1024)
#define HTTPS_HDR_MAX	(64 * 1024)

/* What one transfer gathers. */
struct https_buf {
	struct https_resp *r;
	size_t		 max;		/* Body cap. */
	size_t		 hlen;
	int		 over;		/* The body went over max. */
};

void
https_resp_free(struct https_resp *r)
{
	free(r->headers);
	free(r->body);
	free(r->url);
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
		while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		if (len >= outsz)
			return (-1);
		memcpy(out, v, len);
		out[len] = '\0';
		return (0);
	}
	return (-1);
}

static size_t
https_body_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct https_buf	*b = arg;
	struct https_resp	*r = b->r;
	unsigned char		*nb;
	size_t			 len = sz * n;

	if (len > b->max - r->bodylen) {
		b->over = 1;
		return (0);		/* libcurl: CURLE_WRITE_ERROR. */
	}
	if ((nb = realloc(r->body, r->bodylen + len + 1)) == NULL)
		return (0);
	r->body = nb;
	memcpy(r->body + r->bodylen, p, len);
	r->bodylen += len;
	r->body[r->bodylen] = '\0';
	return (len);
}

/*
 * Header lines without CRs, status lines left out; a new response (after
 * a 100 Continue, or an interim one) starts them again.
 */
static size_t
https_hdr_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct https_buf	*b = arg;
	struct https_resp	*r = b->r;
	char			*nh;
	size_t			 len = sz * n, i;

	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		b->hlen = 0;
		if (r->headers != NULL)
			r->headers[0] = '\0';
		return (len);
	}
	if (b->hlen + len > HTTPS_HDR_MAX)
		return (0);
	if ((nh = realloc(r->headers, b->hlen + len + 1)) == NULL)
		return (0);
	r->headers = nh;
	for (i = 0; i < len; i++)
		if (p[i] != '\r')
			r->headers[b->hlen++] = p[i];
	r->headers[b->hlen] = '\0';
	return (len);
}

static pthread_once_t	 https_once = PTHREAD_ONCE_INIT;
static CURLcode		 https_init_rc;

static void
https_init(void)
{
	https_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/*
 * A handle for GET url with the limits set, writing into b.  NULL (err
 * set) if libcurl can't make one.
 */
static CURL *
https_handle(const char *url, const char *cafile, int verify,
    struct https_buf *b, char *ebuf, char *err, size_t errsz)
{
	CURL		*h;

	/* Once per process, whichever thread (wkdctl serve's) comes first. */
	(void)pthread_once(&https_once, https_init);
	if (https_init_rc != CURLE_OK) {
		(void)snprintf(err, errsz, "libcurl: cannot start");
		return (NULL);
	}
	if ((h = curl_easy_init()) == NULL) {
		(void)snprintf(err, errsz, "libcurl: out of memory");
		return (NULL);
	}
	ebuf[0] = '\0';
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)HTTPS_TIMEOUT) !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)HTTPS_TOTAL) !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)HTTPS_TIMEOUT) !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)b->max) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_USERAGENT, "wkdctl") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, https_body_cb) !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, b) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, https_hdr_cb) !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HEADERDATA, b) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L) !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L) !=
	    CURLE_OK ||
	    (cafile != NULL && curl_easy_setopt(h, CURLOPT_CAINFO, cafile) !=
	    CURLE_OK)) {
		(void)snprintf(err, errsz, "libcurl: cannot set options");
		curl_easy_cleanup(h);
		return (NULL);
	}
	return (h);
}

/* err from rc: libcurl's own words, or what the cap says. */
static void
https_error(CURLcode rc, const struct https_buf *b, const char *ebuf,
    char *err, size_t errsz)
{
	if (b->over || rc == CURLE_FILESIZE_EXCEEDED)
		(void)snprintf(err, errsz, "response over %zu bytes", b->max);
	else if (rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_SSL_CACERT_BADFILE)
		(void)snprintf(err, errsz, "TLS: certificate refused: %s",
		    ebuf[0] != '\0' ? ebuf : curl_easy_strerror(rc));
	else
		(void)snprintf(err, errsz, "%s", ebuf[0] != '\0' ? ebuf :
		    curl_easy_strerror(rc));
}

/*
 * The server's certificate, as libcurl gave it (CURLOPT_CERTINFO, PEM),
 * into *crtp, and its verification against cafile (or the system's trust)
 * and host into *verify, as gnutls_certificate_verify_peers3() says it.
 */
static void
https_peer(CURL *h, const char *host, const char *cafile,
    gnutls_x509_crt_t *crtp, unsigned *verify)
{
	struct curl_certinfo	*ci = NULL;
	struct curl_slist	*s;
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t	 chain[16];
	gnutls_typed_vdata_st	 vd[2];
	gnutls_datum_t		 d;
	unsigned		 n = 0, i;
	int			 k;

	*crtp = NULL;
	*verify = GNUTLS_CERT_INVALID;
	if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK ||
	    ci == NULL || ci->num_of_certs <= 0)
		return;
	for (k = 0; k < ci->num_of_certs && n < 16; k++)
		for (s = ci->certinfo[k]; s != NULL; s = s->next) {
			if (strncmp(s->data, "Cert:", 5) != 0)
				continue;
			d.data = (unsigned char *)s->data + 5;
			d.size = (unsigned)strlen(s->data + 5);
			if (gnutls_x509_crt_init(&chain[n]) < 0)
				goto out;
			if (gnutls_x509_crt_import(chain[n], &d,
			    GNUTLS_X509_FMT_PEM) < 0) {
				gnutls_x509_crt_deinit(chain[n]);
				goto out;
			}
			n++;
			break;
		}
	if (n == 0)
		return;
	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		tl = NULL;
		goto out;
	}
	if ((cafile != NULL ? gnutls_x509_trust_list_add_trust_file(tl,
	    cafile, NULL, GNUTLS_X509_FMT_PEM, 0, 0) :
	    gnutls_x509_trust_list_add_system_trust(tl, 0, 0)) <= 0)
		goto out;
	memset(vd, 0, sizeof(vd));
	vd[0].type = GNUTLS_DT_DNS_HOSTNAME;
	vd[0].data = (unsigned char *)(uintptr_t)host;
	vd[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd[1].data = (unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_SERVER;
	if (gnutls_x509_trust_list_verify_crt2(tl, chain, n, vd, 2, 0,
	    verify, NULL) < 0)
		*verify = GNUTLS_CERT_INVALID;
out:
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	for (i = 0; i < n; i++) {
		if (i == 0)
			*crtp = chain[0];
		else
			gnutls_x509_crt_deinit(chain[i]);
	}
}

int
https_get(const struct sockaddr *addr, unsigned addrlen, const char *host,
    const char *path, const char *cafile, gnutls_x509_crt_t *crtp,
    unsigned *verify, struct https_resp *resp, char *err, size_t errsz)
{
	const struct sockaddr_in	*sin = (const void *)addr;
	const struct sockaddr_in6	*sin6 = (const void *)addr;
	struct curl_slist	*res = NULL;
	struct https_buf	 b;
	CURL			*h;
	CURLcode		 rc;
	char			 ip[INET6_ADDRSTRLEN], url[2048], pin[2200];
	char			 ebuf[CURL_ERROR_SIZE];
	unsigned		 port;
	long			 status = 0;
	int			 n, ret = -1;

	*crtp = NULL;
	*verify = 0;
	memset(resp, 0, sizeof(*resp));
	err[0] = '\0';
	if (addr->sa_family == AF_INET && addrlen >= sizeof(*sin) &&
	    inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip)) != NULL)
		port = ntohs(sin->sin_port);
	else if (addr->sa_family == AF_INET6 && addrlen >= sizeof(*sin6) &&
	    inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip)) != NULL)
		port = ntohs(sin6->sin6_port);
	else {
		(void)snprintf(err, errsz, "not an IP address");
		return (-1);
	}
	/* The name is host's, the address addr's: CURLOPT_RESOLVE. */
	n = snprintf(url, sizeof(url), "https://%s:%u%s", host, port, path);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		(void)snprintf(err, errsz, "request too long");
		return (-1);
	}
	n = snprintf(pin, sizeof(pin), "%s:%u:%s%s%s", host, port,
	    addr->sa_family == AF_INET6 ? "[" : "", ip,
	    addr->sa_family == AF_INET6 ? "]" : "");
	if (n < 0 || (size_t)n >= sizeof(pin) ||
	    (res = curl_slist_append(NULL, pin)) == NULL) {
		(void)snprintf(err, errsz, "request too long");
		return (-1);
	}
	memset(&b, 0, sizeof(b));
	b.r = resp;
	b.max = HTTPS_MAX;
	if ((h = https_handle(url, NULL, 0, &b, ebuf, err, errsz)) == NULL)
		goto out;
	/* That address itself: no proxy from the environment. */
	if (curl_easy_setopt(h, CURLOPT_RESOLVE, res) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOPROXY, "*") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CERTINFO, 1L) != CURLE_OK) {
		(void)snprintf(err, errsz, "libcurl: cannot set options");
		goto out;
	}
	rc = curl_easy_perform(h);
	/* The certificate, if the handshake got that far. */
	https_peer(h, host, cafile, crtp, verify);
	if (*crtp == NULL)
		*verify = 0;
	if (rc != CURLE_OK) {
		https_error(rc, &b, ebuf, err, errsz);
		goto out;
	}
	(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	resp->status = (int)status;
	ret = 0;
out:
	if (ret == -1) {
		free(resp->headers);
		free(resp->body);
		memset(resp, 0, sizeof(*resp));
	}
	if (h != NULL)
		curl_easy_cleanup(h);
	curl_slist_free_all(res);
	return (ret);
}

/* Is url an https URL? */
static int
https_is_https(const char *url)
{
	return (strncasecmp(url, "https://", 8) == 0);
}

int
https_fetch(const char *url, const char *cafile, size_t max,
    struct https_resp *resp, char *err, size_t errsz)
{
	struct https_buf	 b;
	CURL			*h = NULL;
	CURLcode		 rc;
	char			 ebuf[CURL_ERROR_SIZE], *cur = NULL;
	char			*loc = NULL;
	long			 status = 0;
	int			 hops = 0, ret = -1;

	memset(resp, 0, sizeof(*resp));
	err[0] = '\0';
	if (!https_is_https(url)) {
		(void)snprintf(err, errsz, "%s: not an https URL", url);
		return (-1);
	}
	if ((cur = strdup(url)) == NULL) {
		(void)snprintf(err, errsz, "%s", strerror(errno));
		return (-1);
	}
	for (;;) {
		memset(&b, 0, sizeof(b));
		b.r = resp;
		b.max = max;
		if ((h = https_handle(cur, cafile, 1, &b, ebuf, err,
		    errsz)) == NULL)
			goto out;
		if ((rc = curl_easy_perform(h)) != CURLE_OK) {
			https_error(rc, &b, ebuf, err, errsz);
			goto out;
		}
		(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		resp->status = (int)status;
		if (status != 301 && status != 302 && status != 303 &&
		    status != 307 && status != 308)
			break;
		/* A redirect: followed while it stays on https. */
		loc = NULL;
		if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) !=
		    CURLE_OK || loc == NULL) {
			(void)snprintf(err, errsz, "status %ld without a "
			    "usable Location", status);
			goto out;
		}
		if (!https_is_https(loc)) {
			(void)snprintf(err, errsz, "redirect to %.200s "
			    "refused: not https", loc);
			goto out;
		}
		if (++hops > HTTPS_REDIRECTS) {
			(void)snprintf(err, errsz, "more than %d redirects",
			    HTTPS_REDIRECTS);
			goto out;
		}
		free(cur);
		if ((cur = strdup(loc)) == NULL) {
			(void)snprintf(err, errsz, "%s", strerror(errno));
			goto out;
		}
		curl_easy_cleanup(h);
		h = NULL;
		free(resp->headers);
		free(resp->body);
		memset(resp, 0, sizeof(*resp));
	}
	resp->url = cur;
	cur = NULL;
	ret = 0;
out:
	if (ret == -1) {
		free(resp->headers);
		free(resp->body);
		memset(resp, 0, sizeof(*resp));
	}
	if (h != NULL)
		curl_easy_cleanup(h);
	free(cur);
	return (ret);
}
