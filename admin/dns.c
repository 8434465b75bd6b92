/*
 * dns.c: a small DNS client.  By default over glibc's resolver
 * (res_nmkquery and res_nsend: the servers of /etc/resolv.conf, no search
 * list, no cache, TCP after a truncated reply); after dns_init() over
 * libunbound, which validates DNSSEC (each answer says secure, insecure or
 * bogus) through forwarders: those of /etc/resolv.conf or one given.  The
 * reply parsers (ns_parserr()) are pure functions of the bytes a network
 * peer sent, and fuzzed (fuzz_dns).
 */

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <unbound.h>

#include "keystore.h"
#include "wkdctl.h"

#define DNS_CHAIN_MAX	8
#define DNS_REPLY_MAX	65536

/* Root trust anchors, in the order tried: dns-root-data, unbound-anchor. */
static const char *const dns_anchors[] = {
	"/usr/share/dns/root.key",
	"/var/lib/unbound/root.key",
};

static struct ub_ctx	*dns_ub;	/* NULL: glibc's resolver. */
static int		 dns_validating;	/* A trust anchor is loaded. */
static FILE		*dns_logfp;	/* libunbound's stderr. */

const char *
dns_sec_name(int sec)
{
	switch (sec) {
	case DNS_SEC_SECURE:
		return ("secure");
	case DNS_SEC_INSECURE:
		return ("insecure");
	case DNS_SEC_BOGUS:
		return ("bogus");
	default:
		return ("unknown");
	}
}

int
dns_sec_worse(int a, int b)
{
	return (a > b ? a : b);
}

/* The nameserver addresses of /etc/resolv.conf, space-separated, in out. */
static int
dns_resolvconf(char *out, size_t outsz)
{
	FILE	*f;
	char	 line[512], *p, *e;
	size_t	 off = 0;
	int	 n;

	out[0] = '\0';
	if ((f = fopen(_PATH_RESCONF, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "nameserver", 10) != 0 ||
		    !isspace((unsigned char)line[10]))
			continue;
		for (p = line + 10; isspace((unsigned char)*p); p++)
			;
		for (e = p; *e != '\0' && !isspace((unsigned char)*e); e++)
			;
		*e = '\0';
		if (*p == '\0')
			continue;
		n = snprintf(out + off, outsz - off, "%s%s", off ? " " : "",
		    p);
		if (n < 0 || (size_t)n >= outsz - off)
			break;
		off += (size_t)n;
	}
	(void)fclose(f);
	return (off > 0 ? 0 : -1);
}

static int
dns_init_ub(const char *resolver, const char *anchor, char *used,
    size_t usedsz, char *err, size_t errsz)
{
	char	 list[1024], *p, *q;
	size_t	 i;
	int	 rc;

	dns_done();
	used[0] = '\0';
	if (resolver != NULL)
		(void)snprintf(list, sizeof(list), "%s", resolver);
	else if (dns_resolvconf(list, sizeof(list)) == -1) {
		(void)snprintf(err, errsz, "no nameserver in %s",
		    _PATH_RESCONF);
		return (-1);
	}
	(void)snprintf(used, usedsz, "%s", list);
	if ((dns_ub = ub_ctx_create()) == NULL) {
		(void)snprintf(err, errsz, "libunbound: out of memory");
		return (-1);
	}
	/*
	 * Forwarders on loopback (a local resolver) are what we want; a
	 * forwarder that refuses (ICMP) is given up after 2 tries, not 5
	 * (2 s, not 17, to say "no working resolver").
	 */
	if ((rc = ub_ctx_set_option(dns_ub, "do-not-query-localhost:",
	    "no")) != 0 || (rc = ub_ctx_set_option(dns_ub,
	    "outbound-msg-retry:", "2")) != 0)
		goto fail;
	for (p = list; (q = strsep(&p, " ")) != NULL; )
		if (*q != '\0' && (rc = ub_ctx_set_fwd(dns_ub, q)) != 0) {
			(void)snprintf(err, errsz, "resolver %s: %s", q,
			    ub_strerror(rc));
			dns_done();
			return (-1);
		}
	dns_validating = 0;
	if (anchor != NULL && *anchor != '\0') {
		if ((rc = ub_ctx_add_ta_file(dns_ub, anchor)) != 0) {
			(void)snprintf(err, errsz, "trust anchor %s: %s",
			    anchor, ub_strerror(rc));
			dns_done();
			return (-1);
		}
		dns_validating = 1;
	}
	for (i = 0; anchor == NULL &&
	    i < sizeof(dns_anchors) / sizeof(dns_anchors[0]); i++)
		if (access(dns_anchors[i], R_OK) == 0 &&
		    ub_ctx_add_ta_file(dns_ub, dns_anchors[i]) == 0)
			dns_validating = 1;
	/*
	 * libunbound answers RFC 6761's "test." itself (NXDOMAIN), as a
	 * resolver of its own would; the forwarder is to answer, as it does
	 * for mail clients (and for the tests).  This also finalises dns_ub.
	 */
	(void)ub_ctx_zone_remove(dns_ub, "test.");
	return (0);
fail:
	(void)snprintf(err, errsz, "libunbound: %s", ub_strerror(rc));
	dns_done();
	return (-1);
}

int
dns_init(const char *resolver, const char *anchor, char *used,
    size_t usedsz, char *err, size_t errsz)
{
	FILE	*saved = stderr;
	int	 fd, rc;

	/*
	 * libunbound logs to the stderr it first meets (creating or
	 * finalising a context), and fclose()s that FILE when stderr is
	 * another by then: as in wkdctl serve, which swaps stderr per request
	 * (api_catch()).  It meets a FILE of its own on descriptor 2 only.
	 */
	if (dns_logfp == NULL && (fd = dup(STDERR_FILENO)) != -1 &&
	    (dns_logfp = fdopen(fd, "w")) == NULL)
		(void)close(fd);
	if (dns_logfp != NULL)
		stderr = dns_logfp;
	rc = dns_init_ub(resolver, anchor, used, usedsz, err, errsz);
	stderr = saved;
	return (rc);
}

int
dns_validates(void)
{
	return (dns_ub != NULL && dns_validating);
}

void
dns_done(void)
{
	if (dns_ub != NULL)
		ub_ctx_delete(dns_ub);
	dns_ub = NULL;
	dns_validating = 0;
}

/* dns_query() through libunbound. */
static int
dns_query_ub(const char *name, unsigned type, struct dns_ans *ans)
{
	struct ub_result	*res = NULL;

	if (ub_resolve(dns_ub, name, (int)type, ns_c_in, &res) != 0 ||
	    res == NULL) {
		if (res != NULL)
			ub_resolve_free(res);
		return (DNS_FAIL);
	}
	if (res->bogus) {
		ans->sec = DNS_SEC_BOGUS;
		(void)snprintf(ans->why, sizeof(ans->why), "%s",
		    res->why_bogus != NULL ? res->why_bogus : "bogus");
	} else if (res->answer_packet != NULL && res->answer_len > 0) {
		if (dns_parse(res->answer_packet, (size_t)res->answer_len,
		    name, type, ans) == 0)
			ans->sec = !dns_validating ? DNS_SEC_UNKNOWN :
			    res->secure ? DNS_SEC_SECURE : DNS_SEC_INSECURE;
	}
	ub_resolve_free(res);
	return (ans->status);
}

int
dns_name_strip(const char *in, char *out, size_t outsz)
{
	size_t	 len = strlen(in);

	if (len > 1 && in[len - 1] == '.')
		len--;
	if (len >= outsz)
		return (-1);
	memcpy(out, in, len);
	out[len] = '\0';
	return (0);
}

int
dns_name_eq(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b);

	if (la > 1 && a[la - 1] == '.')
		la--;
	if (lb > 1 && b[lb - 1] == '.')
		lb--;
	return (la == lb && strncasecmp(a, b, la) == 0);
}

void
dns_ans_free(struct dns_ans *ans)
{
	size_t	 i;

	for (i = 0; i < ans->nrr; i++)
		free(ans->rr[i].rdata);
	free(ans->rr);
	ans->rr = NULL;
	ans->nrr = 0;
}

/* Append rr's data to ans->rr as a record of type. */
static int
dns_add(struct dns_ans *ans, ns_msg *msg, ns_rr *rr)
{
	struct dns_rr	*v, *r;
	const unsigned char *rd = ns_rr_rdata(*rr);
	size_t		 len = ns_rr_rdlen(*rr);

	if ((v = reallocarray(ans->rr, ans->nrr + 1, sizeof(*v))) == NULL)
		return (-1);
	ans->rr = v;
	r = &v[ans->nrr];
	memset(r, 0, sizeof(*r));
	r->type = ns_rr_type(*rr);
	r->ttl = ns_rr_ttl(*rr);
	if ((r->rdata = malloc(len ? len : 1)) == NULL)
		return (-1);
	memcpy(r->rdata, rd, len);
	r->rdlen = len;
	ans->nrr++;
	switch (r->type) {
	case DNS_T_A:
		if (len != 4 || inet_ntop(AF_INET, rd, r->text,
		    sizeof(r->text)) == NULL)
			return (-1);
		break;
	case DNS_T_AAAA:
		if (len != 16 || inet_ntop(AF_INET6, rd, r->text,
		    sizeof(r->text)) == NULL)
			return (-1);
		break;
	case DNS_T_CNAME:
		if (ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg),
		    rd, r->text, sizeof(r->text)) < 0)
			return (-1);
		break;
	}
	return (0);
}

int
dns_parse(const unsigned char *msg, size_t len, const char *name,
    unsigned type, struct dns_ans *ans)
{
	ns_msg		 h;
	ns_rr		 rr;
	char		 cur[DNS_NAME_MAX], tgt[DNS_NAME_MAX];
	int		 i, n, link, found;

	memset(ans, 0, sizeof(*ans));
	ans->status = DNS_FAIL;
	if (len > INT_MAX || ns_initparse(msg, (int)len, &h) == -1)
		return (-1);
	if (!ns_msg_getflag(h, ns_f_qr))
		return (-1);
	ans->rcode = ns_msg_getflag(h, ns_f_rcode);
	if (ans->rcode != ns_r_noerror && ans->rcode != ns_r_nxdomain)
		return (0);
	if (dns_name_strip(name, cur, sizeof(cur)) == -1)
		return (-1);
	n = ns_msg_count(h, ns_s_an);

	/* Follow the CNAME chain from name (unless CNAMEs are asked for). */
	for (link = 0; type != DNS_T_CNAME && link < DNS_CHAIN_MAX; link++) {
		found = 0;
		for (i = 0; i < n; i++) {
			if (ns_parserr(&h, ns_s_an, i, &rr) == -1)
				return (-1);
			if (ns_rr_type(rr) != DNS_T_CNAME ||
			    ns_rr_class(rr) != ns_c_in ||
			    !dns_name_eq(ns_rr_name(rr), cur))
				continue;
			if (ns_name_uncompress(ns_msg_base(h), ns_msg_end(h),
			    ns_rr_rdata(rr), tgt, sizeof(tgt)) < 0)
				return (-1);
			if (dns_name_strip(tgt, cur, sizeof(cur)) == -1)
				return (-1);
			memcpy(ans->cname, cur, sizeof(ans->cname));
			found = 1;
			break;
		}
		if (!found)
			break;
	}
	for (i = 0; i < n; i++) {
		if (ns_parserr(&h, ns_s_an, i, &rr) == -1)
			goto bad;
		if (ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in ||
		    !dns_name_eq(ns_rr_name(rr), type == DNS_T_CNAME ?
		    name : cur))
			continue;
		if (dns_add(ans, &h, &rr) == -1)
			goto bad;
	}
	if (ans->nrr > 0)
		ans->status = DNS_OK;
	else if (ans->rcode == ns_r_nxdomain)
		ans->status = DNS_NXDOMAIN;
	else
		ans->status = DNS_NODATA;
	return (0);
bad:
	dns_ans_free(ans);
	ans->status = DNS_FAIL;
	return (-1);
}

int
dns_query(const char *name, unsigned type, struct dns_ans *ans)
{
	struct __res_state	 rs;
	unsigned char		 q[NS_PACKETSZ], *reply;
	int			 qlen, len;

	memset(ans, 0, sizeof(*ans));
	ans->status = DNS_FAIL;
	ans->sec = DNS_SEC_UNKNOWN;
	if (dns_ub != NULL)
		return (dns_query_ub(name, type, ans));
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) == -1)
		return (DNS_FAIL);
	rs.options &= ~(RES_DNSRCH | RES_DEFNAMES);
	if ((reply = malloc(DNS_REPLY_MAX)) == NULL)
		goto out;
	if ((qlen = res_nmkquery(&rs, ns_o_query, name, ns_c_in, (int)type,
	    NULL, 0, NULL, q, sizeof(q))) == -1)
		goto out;
	if ((len = res_nsend(&rs, q, qlen, reply, DNS_REPLY_MAX)) == -1)
		goto out;
	if (len > DNS_REPLY_MAX)
		len = DNS_REPLY_MAX;
	(void)dns_parse(reply, (size_t)len, name, type, ans);
out:
	free(reply);
	res_nclose(&rs);
	return (ans->status);
}

int
dns_txt(const struct dns_rr *rr, char *out, size_t outsz)
{
	size_t	 off, k = 0, n;

	if (outsz == 0)
		return (-1);
	for (off = 0; off < rr->rdlen; off += 1 + n) {
		n = rr->rdata[off];
		if (off + 1 + n > rr->rdlen || k + n >= outsz) {
			out[k] = '\0';
			return (-1);
		}
		memcpy(out + k, rr->rdata + off + 1, n);
		k += n;
	}
	out[k] = '\0';
	return (0);
}
