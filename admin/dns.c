/*
 * dns.c: the DNS side of WKD-as-a-service.  A small client over glibc's
 * resolver (res_nmkquery and res_nsend: the servers of /etc/resolv.conf,
 * no search list, no cache, TCP after a truncated reply) and ns_parserr(),
 * and "wkdctl dns", which prints the records a customer publishes so that
 * openpgpkey.DOMAIN reaches this server.
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
#include "conf.h"
#include "wkdctl.h"
#include "check.h"

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

void
dns_hex(const unsigned char *in, size_t len, char *out)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

int
dns_tlsa_crt(gnutls_x509_crt_t crt, unsigned char out[DNS_TLSA_LEN])
{
	gnutls_pubkey_t	 pk;
	gnutls_datum_t	 der = { NULL, 0 };
	int		 rc = -1;

	if (gnutls_pubkey_init(&pk) < 0)
		return (-1);
	if (gnutls_pubkey_import_x509(pk, crt, 0) < 0 ||
	    gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &der) < 0)
		goto out;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, out) == 0)
		rc = 0;
out:
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pk);
	return (rc);
}

int
dns_cert_path(const struct dns_conf *dc, const char *host, char *out,
    size_t outsz)
{
	int	 n;

	if (dc->tls_dir != NULL) {
		n = snprintf(out, outsz, "%s/live/%s/fullchain.pem",
		    dc->tls_dir, host);
		if (n >= 0 && (size_t)n < outsz && access(out, R_OK) == 0)
			return (0);
	}
	if (dc->cert == NULL || dc->cert[0] == '\0')
		return (-1);
	n = snprintf(out, outsz, "%s", dc->cert);
	if (n < 0 || (size_t)n >= outsz || access(out, R_OK) == -1)
		return (-1);
	return (0);
}

int
dns_cert_load(const char *path, gnutls_x509_crt_t *crtp)
{
	gnutls_datum_t	 pem = { NULL, 0 };
	int		 rc;

	*crtp = NULL;
	if ((rc = gnutls_load_file(path, &pem)) < 0) {
		warnx("%s: %s", path, gnutls_strerror(rc));
		return (-1);
	}
	if ((rc = gnutls_x509_crt_init(crtp)) < 0)
		goto bad;
	/* The first certificate of a chain is the server's own. */
	if ((rc = gnutls_x509_crt_import(*crtp, &pem,
	    GNUTLS_X509_FMT_PEM)) < 0) {
		gnutls_x509_crt_deinit(*crtp);
		*crtp = NULL;
		goto bad;
	}
	gnutls_free(pem.data);
	return (0);
bad:
	warnx("%s: %s", path, gnutls_strerror(rc));
	gnutls_free(pem.data);
	return (-1);
}

int
dns_mtasts_id(const char *etag, char *out, size_t outsz)
{
	size_t	 n = 0;

	for (; *etag != '\0'; etag++) {
		if (!isascii((unsigned char)*etag) ||
		    !isalnum((unsigned char)*etag))
			continue;
		if (n + 1 >= outsz || n == 32)
			break;
		out[n++] = *etag;
	}
	if (outsz > 0)
		out[n] = '\0';
	return (n > 0 ? 0 : -1);
}

/* The CNAME or A/AAAA lines of name, pointing at the service. */
static void
dns_zone_host(FILE *fp, const struct dns_conf *dc, const char *name)
{
	size_t	 i;

	if (dc->target[0] != '\0') {
		fprintf(fp, "%s.\t%u\tIN\tCNAME\t%s.\n", name, DNS_TTL,
		    dc->target);
		return;
	}
	for (i = 0; i < dc->naddrs; i++)
		fprintf(fp, "%s.\t%u\tIN\t%s\t%s\n", name, DNS_TTL,
		    strchr(dc->addrs[i], ':') != NULL ? "AAAA" : "A",
		    dc->addrs[i]);
}

int
dns_zone(FILE *fp, const struct dns_conf *dc, const char *domain,
    const unsigned char *tlsa, const char *cert_note, const char *mtasts_id)
{
	char	 host[DNS_NAME_MAX], hex[2 * DNS_TLSA_LEN + 1];

	if (dc->target[0] == '\0' && dc->naddrs == 0)
		return (-1);
	fprintf(fp, "; Records for %s: add them to its zone.\n;\n", domain);
	fprintf(fp, "; Web Key Directory, advanced method: mail clients look "
	    "up openpgpkey.%s.\n; This record also keeps a wildcard (*) "
	    "record from capturing the name.\n", domain);
	(void)snprintf(host, sizeof(host), "openpgpkey.%s", domain);
	dns_zone_host(fp, dc, host);
	if (dc->caa[0] != '\0') {
		fprintf(fp, ";\n; CAA: certificates for openpgpkey.%s come "
		    "from %s.\n; Needed only if %s or a parent has CAA "
		    "records: add it to them.\n", domain, dc->caa, domain);
		fprintf(fp, "%s.\t%u\tIN\tCAA\t0 issue \"%s\"\n", domain,
		    DNS_TTL, dc->caa);
	}
	fprintf(fp, ";\n; DANE (RFC 6698): SHA-256 of the public key of the "
	    "certificate served for\n; openpgpkey.%s.  It changes with "
	    "that key: renew keeping the key.\n", domain);
	if (tlsa != NULL) {
		dns_hex(tlsa, DNS_TLSA_LEN, hex);
		fprintf(fp, "_443._tcp.%s.\t%u\tIN\tTLSA\t3 1 1 %s\n", host,
		    DNS_TTL, hex);
	} else
		fprintf(fp, "; (no TLSA record: %s)\n", cert_note != NULL ?
		    cert_note : "no certificate yet");
	if (mtasts_id == NULL)
		return (0);
	fprintf(fp, ";\n; MTA-STS (RFC 8461): the policy is at "
	    "https://mta-sts.%s/.well-known/mta-sts.txt.\n; Its id changes "
	    "with the policy: publish the new one after each change.\n",
	    domain);
	(void)snprintf(host, sizeof(host), "mta-sts.%s", domain);
	dns_zone_host(fp, dc, host);
	fprintf(fp, "_mta-sts.%s.\t%u\tIN\tTXT\t\"v=STSv1; id=%s\"\n", domain,
	    DNS_TTL, mtasts_id);
	if (dc->tlsrpt != NULL) {
		fprintf(fp, ";\n; SMTP TLS reporting (RFC 8460).\n");
		fprintf(fp, "_smtp._tls.%s.\t%u\tIN\tTXT\t"
		    "\"v=TLSRPTv1; rua=%s\"\n", domain, DNS_TTL, dc->tlsrpt);
	} else
		fprintf(fp, "; (no TLSRPT record: give --tlsrpt "
		    "mailto:ADDRESS)\n");
	return (0);
}

enum {
	OPT_TARGET = 256, OPT_ADDRESS, OPT_CAA, OPT_TLSRPT, OPT_CERT,
	OPT_TLSDIR, OPT_CAFILE, OPT_PORT
};

int
dns_getopt(int argc, char **argv, struct dns_conf *dc, int check,
    const char *usage)
{
	static const struct option longopts[] = {
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "address", required_argument, NULL, OPT_ADDRESS },
		{ "caa", required_argument, NULL, OPT_CAA },
		{ "tlsrpt", required_argument, NULL, OPT_TLSRPT },
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "tls-dir", required_argument, NULL, OPT_TLSDIR },
		{ "cafile", required_argument, NULL, OPT_CAFILE },
		{ "port", required_argument, NULL, OPT_PORT },
		{ NULL, 0, NULL, 0 }
	};
	unsigned char	 buf[sizeof(struct in6_addr)];
	char		*end, msg[CONF_ERR_MAX];
	long		 l;
	int		 ch, af;

	memset(dc, 0, sizeof(*dc));
	dc->port = 443;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_TARGET:	/* As service-name. */
			if (conf_valid_host(optarg, dc->target,
			    sizeof(dc->target), msg, sizeof(msg)) == -1) {
				warnx("--target: %s", msg);
				goto usage;
			}
			break;
		case OPT_ADDRESS:
			af = strchr(optarg, ':') != NULL ? AF_INET6 : AF_INET;
			if (dc->naddrs == DNS_ADDRS_MAX) {
				warnx("--address: at most %d", DNS_ADDRS_MAX);
				goto usage;
			}
			if (inet_pton(af, optarg, buf) != 1 ||
			    inet_ntop(af, buf, dc->addrs[dc->naddrs],
			    sizeof(dc->addrs[0])) == NULL) {
				warnx("--address %s: not an IP address",
				    optarg);
				goto usage;
			}
			dc->naddrs++;
			break;
		case OPT_CAA:		/* As acme-ca. */
			if (conf_valid_host(optarg, dc->caa, sizeof(dc->caa),
			    msg, sizeof(msg)) == -1) {
				warnx("--caa: %s (want a CA's domain, e.g. "
				    "letsencrypt.org)", msg);
				goto usage;
			}
			break;
		case OPT_TLSRPT:	/* As tlsrpt-rua. */
			if (conf_valid_rua(optarg, msg, sizeof(msg)) == -1) {
				warnx("--tlsrpt: %s", msg);
				goto usage;
			}
			dc->tlsrpt = optarg;
			break;
		case OPT_CERT:
			dc->cert = optarg;
			break;
		case OPT_TLSDIR:
			dc->tls_dir = optarg;
			break;
		case OPT_CAFILE:
			if (!check)
				goto usage;
			dc->cafile = optarg;
			break;
		case OPT_PORT:
			if (!check)
				goto usage;
			errno = 0;
			l = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || errno != 0 ||
			    l < 1 || l > 65535) {
				warnx("--port %s: not a port", optarg);
				goto usage;
			}
			dc->port = (unsigned)l;
			break;
		default:
			goto usage;
		}
	}
	return (optind);
usage:
	fprintf(stderr, "usage: wkdctl %s\n", usage);
	return (-1);
}

/*
 * Fill in from wkdd.conf (may be NULL) what the command line left out:
 * service-name or service-address, acme-ca, tlsrpt-rua, tls-dir and
 * tls-cert.  -1 after a warning if a configured value is unusable.
 */
int
dns_conf_apply(struct dns_conf *dc, const struct conf *conf)
{
	char	 msg[CONF_ERR_MAX];
	size_t	 i;

	if (conf == NULL)
		return (0);
	if (dc->target[0] == '\0' && dc->naddrs == 0) {
		if (conf->service_name[0] != '\0') {
			if (conf_valid_host(conf->service_name, dc->target,
			    sizeof(dc->target), msg, sizeof(msg)) == -1) {
				warnx("%s: service-name: %s", conf->path, msg);
				return (-1);
			}
		} else {
			for (i = 0; i < conf->nservice_address &&
			    i < DNS_ADDRS_MAX; i++)
				(void)snprintf(dc->addrs[i],
				    sizeof(dc->addrs[i]), "%s",
				    conf->service_address[i]);
			dc->naddrs = i;
		}
	}
	if (dc->caa[0] == '\0' && conf->acme_ca[0] != '\0' &&
	    conf_valid_host(conf->acme_ca, dc->caa, sizeof(dc->caa), msg,
	    sizeof(msg)) == -1) {
		warnx("%s: acme-ca: %s", conf->path, msg);
		return (-1);
	}
	if (dc->tlsrpt == NULL && conf->tlsrpt_rua[0] != '\0') {
		if (conf_valid_rua(conf->tlsrpt_rua, msg, sizeof(msg)) == -1) {
			warnx("%s: tlsrpt-rua: %s", conf->path, msg);
			return (-1);
		}
		dc->tlsrpt = conf->tlsrpt_rua;
	}
	if (dc->tls_dir == NULL && conf->tls_dir[0] != '\0')
		dc->tls_dir = conf->tls_dir;
	if (dc->cert == NULL && conf->tls_cert[0] != '\0')
		dc->cert = conf->tls_cert;
	dc->acme = acme_enabled(conf);
	return (0);
}

#define DNS_SYNOPSIS	"dns [--target name | --address ip ...] [--caa ca] " \
			"[--tlsrpt uri]\n" \
			"           [--cert file] [--tls-dir dir] domain"

/*
 * The TLSA hash of the certificate served for host into tlsa; 0 if there
 * is one, -1 (with a note why, in note) if not.  Warns about a certificate
 * clients would refuse.
 */
static int
dns_served_tlsa(const struct dns_conf *dc, const char *host,
    unsigned char tlsa[DNS_TLSA_LEN], char *note, size_t notesz)
{
	gnutls_x509_crt_t	 crt;
	char			 path[PATH_MAX];
	time_t			 now = time(NULL);

	if (dns_cert_path(dc, host, path, sizeof(path)) == -1) {
		(void)snprintf(note, notesz, "no certificate for %s yet: run "
		    "again once it is issued", host);
		return (-1);
	}
	if (dns_cert_load(path, &crt) == -1 || dns_tlsa_crt(crt, tlsa) == -1) {
		if (crt != NULL)
			gnutls_x509_crt_deinit(crt);
		(void)snprintf(note, notesz, "cannot read %s", path);
		return (-1);
	}
	if (!gnutls_x509_crt_check_hostname(crt, host))
		warnx("warning: %s does not name %s: clients will refuse it",
		    path, host);
	if (gnutls_x509_crt_get_expiration_time(crt) < now)
		warnx("warning: %s has expired", path);
	gnutls_x509_crt_deinit(crt);
	return (0);
}

int
dns_cmd(const char *store, size_t mapsize, const struct conf *conf,
    int argc, char **argv)
{
	struct dns_conf	 dc;
	struct ks	*ks = NULL;
	struct ks_blob	 b;
	char		 dom[KS_DOMAIN_MAX], host[DNS_NAME_MAX];
	char		 note[PATH_MAX + DNS_NAME_MAX + 64];
	char		 id[33];
	unsigned char	 tlsa[DNS_TLSA_LEN];
	int		 i, rc, have_tlsa, have_id = 0;

	if ((i = dns_getopt(argc, argv, &dc, 0, DNS_SYNOPSIS)) == -1)
		return (2);
	if (argc - i != 1) {
		fprintf(stderr, "usage: wkdctl %s\n", DNS_SYNOPSIS);
		return (2);
	}
	if (ctl_domain(argv[i], dom) == -1)
		return (1);
	if (dc.target[0] != '\0' && dc.naddrs > 0) {
		warnx("--target and --address exclude each other: a CNAME "
		    "can't have other records");
		return (2);
	}
	if (dns_conf_apply(&dc, conf) == -1)
		return (1);
	if (dc.target[0] == '\0' && dc.naddrs == 0) {
		warnx("give the service's name (--target or service-name) "
		    "or its addresses (--address or service-address)");
		fprintf(stderr, "usage: wkdctl %s\n", DNS_SYNOPSIS);
		return (2);
	}
	if (store != NULL) {
		if ((rc = ks_open(&ks, store, KS_RDONLY, mapsize)) != KS_OK) {
			warnx("%s: %s", store, ks_strerror(rc));
			return (1);
		}
		if ((rc = ks_has_domain(ks, dom)) == KS_NOTFOUND)
			warnx("warning: %s is not hosted here (wkdctl domain "
			    "add %s)", dom, dom);
		else if (rc != KS_OK) {
			warnx("%s: %s", dom, ks_strerror(rc));
			ks_close(ks);
			return (1);
		}
		memset(&b, 0, sizeof(b));
		rc = ks_get_mtasts(ks, dom, &b);
		if (rc == KS_OK && dns_mtasts_id(b.etag, id, sizeof(id)) == 0)
			have_id = 1;
		else if (rc != KS_OK && rc != KS_NOTFOUND) {
			warnx("%s: MTA-STS policy: %s", dom, ks_strerror(rc));
			ks_close(ks);
			return (1);
		}
		ks_blob_free(&b);
		ks_close(ks);
	}
	(void)snprintf(host, sizeof(host), "openpgpkey.%s", dom);
	have_tlsa = dns_served_tlsa(&dc, host, tlsa, note, sizeof(note)) == 0;
	if (dns_zone(stdout, &dc, dom, have_tlsa ? tlsa : NULL, note,
	    have_id ? id : NULL) == -1 || fflush(stdout) == EOF) {
		warn("stdout");
		return (1);
	}
	return (0);
}

int
cmd_dns(struct ctl *ctl, int argc, char **argv)
{
	return (dns_cmd(ctl->store, ctl->mapsize, ctl->conf, argc, argv));
}
