/*
 * dns.c: a small DNS client over glibc's resolver (res_nmkquery and
 * res_nsend: the servers of /etc/resolv.conf, no search list, no cache,
 * TCP after a truncated reply) and ns_parserr().  The reply parsers are
 * pure functions of the bytes a network peer sent, and fuzzed (fuzz_dns).
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

#include "keystore.h"
#include "wkdctl.h"

#define DNS_CHAIN_MAX	8
#define DNS_REPLY_MAX	65536

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
