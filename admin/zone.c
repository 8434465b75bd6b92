/*
 * zone.c: "wkdctl dns DOMAIN": the zone-file lines a customer publishes so
 * that openpgpkey.DOMAIN (and mta-sts.DOMAIN) reach this server: CNAME or
 * addresses, CAA, the TLSA record of the certificate served, MTA-STS and
 * TLSRPT.  Its options, shared with "domain check", default to wkdd.conf.
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

#define ZONE_USAGE	"dns [--target name | --address ip ...] [--caa ca] " \
			"[--tlsrpt uri]\n" \
			"           [--cert file] [--tls-dir dir] domain"

int
zone_mtasts_id(const char *etag, char *out, size_t outsz)
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
zone_host(FILE *fp, const struct zone_conf *dc, const char *name)
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
zone_print(FILE *fp, const struct zone_conf *dc, const char *domain,
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
	zone_host(fp, dc, host);
	/*
	 * A CAA record pasted into a zone without any restricts the whole
	 * domain (mail, web) to this one CA: a comment, unless --caa asks.
	 */
	if (dc->caa[0] != '\0') {
		fprintf(fp, ";\n; CAA: certificates for openpgpkey.%s come "
		    "from %s.\n; Needed only if %s or a parent already has "
		    "CAA records: add it to them.\n; Alone, it would let no "
		    "other CA issue for all of %s.\n", domain, dc->caa,
		    domain, domain);
		fprintf(fp, "%s%s.\t%u\tIN\tCAA\t0 issue \"%s\"\n",
		    dc->caa_on ? "" : "; ", domain, DNS_TTL, dc->caa);
	}
	fprintf(fp, ";\n; DANE (RFC 6698): SHA-256 of the public key of the "
	    "certificate served for\n; openpgpkey.%s.  It changes with "
	    "that key: renew keeping the key.\n; TLSA needs DNSSEC: it "
	    "means something only in a signed zone.\n", domain);
	if (tlsa != NULL) {
		x509_hex(tlsa, DNS_TLSA_LEN, hex);
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
	zone_host(fp, dc, host);
	fprintf(fp, "_mta-sts.%s.\t%u\tIN\tTXT\t\"v=STSv1; id=%s\"\n", domain,
	    DNS_TTL, mtasts_id);
	if (dc->tlsrpt != NULL || dc->tlsrpt_https) {
		fprintf(fp, ";\n; SMTP TLS reporting (RFC 8460).%s\n",
		    dc->tlsrpt_https ? "  wkdd takes the reports at "
		    "https://mta-sts.DOMAIN/tlsrpt\n; (tlsrpt-spool): "
		    "wkdctl tlsrpt ingest, then summary." : "");
		fprintf(fp, "_smtp._tls.%s.\t%u\tIN\tTXT\t"
		    "\"v=TLSRPTv1; rua=%s%s", domain, DNS_TTL,
		    dc->tlsrpt != NULL ? dc->tlsrpt : "",
		    dc->tlsrpt != NULL && dc->tlsrpt_https ? "," : "");
		if (dc->tlsrpt_https)
			fprintf(fp, "https://mta-sts.%s/tlsrpt", domain);
		fprintf(fp, "\"\n");
	} else
		fprintf(fp, "; (no TLSRPT record: give --tlsrpt "
		    "mailto:ADDRESS)\n");
	return (0);
}

enum {
	OPT_TARGET = 256, OPT_ADDRESS, OPT_CAA, OPT_TLSRPT, OPT_CERT,
	OPT_TLSDIR, OPT_CAFILE, OPT_PORT, OPT_JSON, OPT_NOSTORE, OPT_LAST,
	OPT_ALL, OPT_RESOLVER, OPT_ANCHOR, OPT_CAAREC
};

int
zone_getopt(int argc, char **argv, struct zone_conf *dc, int check,
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
		{ "json", no_argument, NULL, OPT_JSON },
		{ "no-store", no_argument, NULL, OPT_NOSTORE },
		{ "last", no_argument, NULL, OPT_LAST },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "trust-anchor", required_argument, NULL, OPT_ANCHOR },
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
			dc->caa_on = 1;
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
		case OPT_RESOLVER:
			if (!check)
				goto usage;
			dc->resolver = optarg;
			break;
		case OPT_ANCHOR:
			if (!check)
				goto usage;
			dc->anchor = optarg;
			break;
		case OPT_ALL:
			if (!check)
				goto usage;
			dc->all = 1;
			break;
		case OPT_JSON:
		case OPT_NOSTORE:
		case OPT_LAST:
			if (!check)
				goto usage;
			if (ch == OPT_JSON)
				dc->json = 1;
			else if (ch == OPT_NOSTORE)
				dc->nostore = 1;
			else
				dc->last = 1;
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
zone_conf_apply(struct zone_conf *dc, const struct conf *conf)
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
	dc->tlsrpt_https = conf->tlsrpt_spool[0] != '\0';
	if (dc->tls_dir == NULL && conf->tls_dir[0] != '\0')
		dc->tls_dir = conf->tls_dir;
	if (dc->cert == NULL && conf->tls_cert[0] != '\0')
		dc->cert = conf->tls_cert;
	dc->acme = acme_enabled(conf);
	return (0);
}

/*
 * The TLSA hash of the certificate served for host into tlsa; 0 if there
 * is one, -1 (with a note why, in note) if not.  Warns about a certificate
 * clients would refuse.
 */
static int
zone_served_tlsa(const struct zone_conf *dc, const char *host,
    unsigned char tlsa[DNS_TLSA_LEN], char *note, size_t notesz)
{
	gnutls_x509_crt_t	 crt;
	char			 path[PATH_MAX];
	time_t			 now = time(NULL);

	if (x509_cert_path(dc, host, path, sizeof(path)) == -1) {
		(void)snprintf(note, notesz, "no certificate for %s yet: run "
		    "again once it is issued", host);
		return (-1);
	}
	if (x509_load(path, &crt) == -1 || x509_tlsa(crt, tlsa) == -1) {
		if (crt != NULL)
			gnutls_x509_crt_deinit(crt);
		(void)snprintf(note, notesz, "cannot read %s", path);
		return (-1);
	}
	if (!gnutls_x509_crt_check_hostname(crt, host)) {
		warnx("warning: %s does not name %s: clients will refuse it",
		    path, host);
		(void)snprintf(note, notesz, "%s does not name %s; run again "
		    "once a certificate for it is served", path, host);
		gnutls_x509_crt_deinit(crt);
		return (-1);
	}
	if (gnutls_x509_crt_get_expiration_time(crt) < now)
		warnx("warning: %s has expired", path);
	gnutls_x509_crt_deinit(crt);
	return (0);
}

int
zone_write(FILE *fp, const struct zone_conf *dc, const char *dom,
    const char *mtasts_etag)
{
	char		 host[DNS_NAME_MAX];
	char		 note[PATH_MAX + DNS_NAME_MAX + 64];
	char		 id[33];
	unsigned char	 tlsa[DNS_TLSA_LEN];
	int		 have_tlsa, have_id;

	have_id = mtasts_etag != NULL &&
	    zone_mtasts_id(mtasts_etag, id, sizeof(id)) == 0;
	(void)snprintf(host, sizeof(host), "openpgpkey.%s", dom);
	have_tlsa = zone_served_tlsa(dc, host, tlsa, note, sizeof(note)) == 0;
	return (zone_print(fp, dc, dom, have_tlsa ? tlsa : NULL, note,
	    have_id ? id : NULL));
}

int
zone_cmd(const char *store, size_t mapsize, const struct conf *conf,
    int argc, char **argv)
{
	struct zone_conf	 dc;
	struct ks	*ks = NULL;
	struct ks_blob	 b;
	char		 dom[KS_DOMAIN_MAX], etag[KS_ETAG_MAX];
	int		 i, rc, have_id = 0;

	if ((i = zone_getopt(argc, argv, &dc, 0, ZONE_USAGE)) == -1)
		return (2);
	if (argc - i != 1) {
		fprintf(stderr, "usage: wkdctl %s\n", ZONE_USAGE);
		return (2);
	}
	if (cli_domain(argv[i], dom) == -1)
		return (1);
	if (dc.target[0] != '\0' && dc.naddrs > 0) {
		warnx("--target and --address exclude each other: a CNAME "
		    "can't have other records");
		return (2);
	}
	if (zone_conf_apply(&dc, conf) == -1)
		return (1);
	if (dc.target[0] == '\0' && dc.naddrs == 0) {
		warnx("give the service's name (--target or service-name) "
		    "or its addresses (--address or service-address)");
		fprintf(stderr, "usage: wkdctl %s\n", ZONE_USAGE);
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
		rc = ks_serve_mtasts(ks, dom, &b);
		if (rc == KS_OK) {
			(void)snprintf(etag, sizeof(etag), "%s", b.etag);
			have_id = 1;
		}
		else if (rc != KS_OK && rc != KS_NOTFOUND) {
			warnx("%s: MTA-STS policy: %s", dom, ks_strerror(rc));
			ks_close(ks);
			return (1);
		}
		ks_blob_free(&b);
		ks_close(ks);
	}
	if (zone_write(stdout, &dc, dom, have_id ? etag : NULL) == -1 ||
	    fflush(stdout) == EOF) {
		warn("stdout");
		return (1);
	}
	return (0);
}

int
cmd_dns(struct ctl *ctl, int argc, char **argv)
{
	return (zone_cmd(ctl->store, ctl->mapsize, ctl->conf, argc, argv));
}
