/*
 * t_dns: admin/dns.c without a network: replies built here byte by byte
 * go through dns_parse(); the TLSA hash of a fixed certificate is checked
 * against openssl's (openssl x509 -pubkey | openssl pkey -pubin -outform
 * DER | sha256sum); "wkdctl dns" output for fixed settings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"
#include "wkdctl.h"

#include "tap.h"

static const char cert_pem[] =
"-----BEGIN CERTIFICATE-----\n"
"MIIB4zCCAYmgAwIBAgIUco71/+L5HPXuZaIuhK6RzLfPumAwCgYIKoZIzj0EAwIw\n"
"FzEVMBMGA1UEAxMMd2tkZCB0ZXN0IENBMB4XDTI2MTEyOTA5NTcxNloXDTI2MTIy\n"
"OTA5NTcxNlowHzEdMBsGA1UEAxMUb3BlbnBncGtleS5nb29kLnRlc3QwWTATBgcq\n"
"hkjOPQIBBggqhkjOPQMBBwNCAARD6YYGv/XCK0vKnb4lpbl0OiMfHnabZUUVffiE\n"
"ckefNlfquOOHxQZESnbrmkoyHfbVYQLl9llRzNaj/JumBRnCo4GqMIGnMAwGA1Ud\n"
"EwEB/wQCMAAwMgYDVR0RBCswKYIUb3BlbnBncGtleS5nb29kLnRlc3SCEW10YS1z\n"
"dHMuZ29vZC50ZXN0MBMGA1UdJQQMMAoGCCsGAQUFBwMBMA4GA1UdDwEB/wQEAwIH\n"
"gDAdBgNVHQ4EFgQUIba/7Gi6AwSosHC4gXfM5iBY0VYwHwYDVR0jBBgwFoAUvs+D\n"
"fV0XpKWWMzFLct/z1h4NbCAwCgYIKoZIzj0EAwIDSAAwRQIgExHX3nI30mEjM/E4\n"
"Tfk47ebXK/TZAiu1E1vuSosgxvACIQCuwq7SIBJjRUPK9Ma77vio3WDd41BcTkL8\n"
"dh8Ao+WPfw==\n"
"-----END CERTIFICATE-----\n";
static const char cert_tlsa[] =
    "C01C297ACD78F39B68DC6EC976C6AEA0D713038F3C0F2B6268D9FFEFE16ADF3B";

/* A DNS message under construction. */
struct msg {
	unsigned char	 b[2048];
	size_t		 len;
	unsigned	 an;
};

static void
put8(struct msg *m, unsigned v)
{
	m->b[m->len++] = v & 0xff;
}

static void
put16(struct msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v);
}

static void
putname(struct msg *m, const char *name)
{
	const char	*dot;
	size_t		 n;

	while (*name != '\0') {
		dot = strchr(name, '.');
		n = dot != NULL ? (size_t)(dot - name) : strlen(name);
		put8(m, n);
		memcpy(m->b + m->len, name, n);
		m->len += n;
		name += n;
		if (*name == '.')
			name++;
	}
	put8(m, 0);
}

/* Header and question; rcode in the flags. */
static void
msg_start(struct msg *m, const char *qname, unsigned qtype, unsigned rcode)
{
	memset(m, 0, sizeof(*m));
	put16(m, 0x1234);
	put16(m, 0x8180 | rcode);	/* QR, RD, RA. */
	put16(m, 1);
	put16(m, 0);			/* ANCOUNT, set by msg_end. */
	put16(m, 0);
	put16(m, 0);
	putname(m, qname);
	put16(m, qtype);
	put16(m, 1);
}

static void
msg_rr(struct msg *m, const char *owner, unsigned type, const void *rd,
    size_t rdlen)
{
	putname(m, owner);
	put16(m, type);
	put16(m, 1);
	put16(m, 0);
	put16(m, 300);
	put16(m, rdlen);
	memcpy(m->b + m->len, rd, rdlen);
	m->len += rdlen;
	m->an++;
	m->b[6] = m->an >> 8;
	m->b[7] = m->an & 0xff;
}

static void
msg_cname(struct msg *m, const char *owner, const char *target)
{
	struct msg	 t;

	t.len = 0;
	putname(&t, target);
	msg_rr(m, owner, DNS_T_CNAME, t.b, t.len);
}

static void
test_parse(void)
{
	struct msg	 m;
	struct dns_ans	 a;
	unsigned char	 ip[4] = { 192, 0, 2, 1 }, tlsa[35];

	msg_start(&m, "openpgpkey.good.test", DNS_T_A, 0);
	msg_cname(&m, "openpgpkey.good.test", "wkd.service.test");
	msg_rr(&m, "wkd.service.test", DNS_T_A, ip, 4);
	msg_rr(&m, "unrelated.test", DNS_T_A, ip, 4);
	is_int(dns_parse(m.b, m.len, "openpgpkey.good.test.", DNS_T_A, &a), 0,
	    "parse a CNAME chain");
	is_int(a.status, DNS_OK, "status ok");
	is_str(a.cname, "wkd.service.test", "chain's last name");
	is_int(a.nrr, 1, "one A record, the unrelated one ignored");
	if (a.nrr == 1)
		is_str(a.rr[0].text, "192.0.2.1", "address text");
	dns_ans_free(&a);

	is_int(dns_parse(m.b, m.len, "OpenPGPKey.Good.Test", DNS_T_CNAME, &a),
	    0, "CNAME asked for");
	is_int(a.nrr, 1, "one CNAME (names compared without case)");
	if (a.nrr == 1)
		is_str(a.rr[0].text, "wkd.service.test", "CNAME target");
	dns_ans_free(&a);

	/* A CNAME whose target is missing: NXDOMAIN after the chain. */
	msg_start(&m, "openpgpkey.good.test", DNS_T_A, 3);
	msg_cname(&m, "openpgpkey.good.test", "gone.service.test");
	(void)dns_parse(m.b, m.len, "openpgpkey.good.test", DNS_T_A, &a);
	is_int(a.status, DNS_NXDOMAIN, "dangling CNAME: nxdomain");
	is_str(a.cname, "gone.service.test", "dangling CNAME's target");
	dns_ans_free(&a);

	msg_start(&m, "good.test", DNS_T_CAA, 0);
	(void)dns_parse(m.b, m.len, "good.test", DNS_T_CAA, &a);
	is_int(a.status, DNS_NODATA, "no records: nodata");
	dns_ans_free(&a);

	msg_start(&m, "good.test", DNS_T_A, 2);
	(void)dns_parse(m.b, m.len, "good.test", DNS_T_A, &a);
	is_int(a.status, DNS_FAIL, "SERVFAIL: fail");
	dns_ans_free(&a);

	/* A loop ends. */
	msg_start(&m, "a.test", DNS_T_A, 0);
	msg_cname(&m, "a.test", "b.test");
	msg_cname(&m, "b.test", "a.test");
	(void)dns_parse(m.b, m.len, "a.test", DNS_T_A, &a);
	is_int(a.status, DNS_NODATA, "CNAME loop: nodata");
	dns_ans_free(&a);

	memset(tlsa, 0xab, sizeof(tlsa));
	tlsa[0] = 3;
	tlsa[1] = 1;
	tlsa[2] = 1;
	msg_start(&m, "_443._tcp.openpgpkey.good.test", DNS_T_TLSA, 0);
	msg_rr(&m, "_443._tcp.openpgpkey.good.test", DNS_T_TLSA, tlsa, 35);
	(void)dns_parse(m.b, m.len, "_443._tcp.openpgpkey.good.test",
	    DNS_T_TLSA, &a);
	ok(a.status == DNS_OK && a.nrr == 1 && a.rr[0].rdlen == 35 &&
	    memcmp(a.rr[0].rdata, tlsa, 35) == 0, "TLSA rdata kept");
	dns_ans_free(&a);

	/* Not a reply; truncated. */
	msg_start(&m, "good.test", DNS_T_A, 0);
	m.b[2] &= 0x7f;
	is_int(dns_parse(m.b, m.len, "good.test", DNS_T_A, &a), -1,
	    "a query is not a reply");
	dns_ans_free(&a);
	msg_start(&m, "good.test", DNS_T_A, 0);
	msg_rr(&m, "good.test", DNS_T_A, ip, 4);
	is_int(dns_parse(m.b, m.len - 3, "good.test", DNS_T_A, &a), -1,
	    "truncated reply");
	is_int(a.status, DNS_FAIL, "truncated reply: fail");
	dns_ans_free(&a);
}

/*
 * Malformed replies (the resolver hands over whatever came from the
 * network): every truncation and every single-byte change of a reply, and
 * a compression pointer to itself, parse or fail without reading outside
 * the message (run under ASan) and leave nothing to leak.
 */
static void
test_garbage(void)
{
	struct msg	 m, x;
	struct dns_ans	 a;
	unsigned char	 ip[4] = { 192, 0, 2, 1 }, *copy;
	size_t		 len, i, bad = 0;
	unsigned	 v;

	msg_start(&m, "openpgpkey.good.test", DNS_T_A, 0);
	msg_cname(&m, "openpgpkey.good.test", "wkd.service.test");
	msg_rr(&m, "wkd.service.test", DNS_T_A, ip, 4);
	for (len = 0; len < m.len; len++) {
		/* An exact-size heap copy, so that ASan sees overreads. */
		if ((copy = malloc(len ? len : 1)) == NULL)
			abort();
		memcpy(copy, m.b, len);
		if (dns_parse(copy, len, "openpgpkey.good.test", DNS_T_A,
		    &a) != -1 || a.status != DNS_FAIL)
			bad++;
		dns_ans_free(&a);
		free(copy);
	}
	is_int(bad, 0, "every truncated reply refused (%zu lengths)", m.len);
	for (i = 12; i < m.len; i++) {
		for (v = 0; v < 256; v += 17) {
			x = m;
			x.b[i] = (unsigned char)v;
			if ((copy = malloc(x.len)) == NULL)
				abort();
			memcpy(copy, x.b, x.len);
			(void)dns_parse(copy, x.len, "openpgpkey.good.test",
			    DNS_T_A, &a);
			dns_ans_free(&a);
			free(copy);
		}
	}
	ok(1, "single-byte changes: no crash");
	/* A name that points at itself. */
	msg_start(&m, "a.test", DNS_T_A, 0);
	put8(&m, 0xc0);
	put8(&m, (unsigned)m.len - 1);
	put16(&m, DNS_T_A);
	put16(&m, 1);
	put16(&m, 0);
	put16(&m, 300);
	put16(&m, 4);
	memcpy(m.b + m.len, ip, 4);
	m.len += 4;
	m.b[7] = 1;
	is_int(dns_parse(m.b, m.len, "a.test", DNS_T_A, &a), -1,
	    "compression loop refused");
	dns_ans_free(&a);
}

static void
test_names(void)
{
	char	 out[16], id[40];

	ok(dns_name_eq("A.Test.", "a.test"), "names: case, trailing dot");
	ok(!dns_name_eq("a.test", "a.testx"), "names: different");
	is_int(dns_name_strip("a.test.", out, sizeof(out)), 0, "strip");
	is_str(out, "a.test", "stripped");
	is_int(dns_name_strip("0123456789abcdefg", out, sizeof(out)), -1,
	    "strip: too long");
	is_int(zone_mtasts_id("\"fstp56pefqfn51jm\"", id, sizeof(id)), 0,
	    "MTA-STS id from an ETag");
	is_str(id, "fstp56pefqfn51jm", "id: quotes gone");
	is_int(zone_mtasts_id("\"\"", id, sizeof(id)), -1, "empty ETag: no id");
	(void)zone_mtasts_id("W/\"0123456789012345678901234567890123456789\"",
	    id, sizeof(id));
	is_int(strlen(id), 32, "id: at most 32 characters");
}

static void
test_tlsa(void)
{
	gnutls_x509_crt_t	 crt;
	gnutls_datum_t		 d;
	unsigned char		 h[DNS_TLSA_LEN];
	char			 hex[2 * DNS_TLSA_LEN + 1];

	d.data = (unsigned char *)(uintptr_t)cert_pem;
	d.size = sizeof(cert_pem) - 1;
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0) {
		ok(0, "import the test certificate");
		return;
	}
	is_int(x509_tlsa(crt, h), 0, "TLSA hash");
	x509_hex(h, sizeof(h), hex);
	is_str(hex, cert_tlsa, "TLSA 3 1 1 equals openssl's SPKI SHA-256");
	gnutls_x509_crt_deinit(crt);
}

/* getopt wants char **: copy n constant strings into v (static storage). */
static void
args(const char *const *in, size_t n, char **v)
{
	static char	 store[1024];
	static size_t	 used;
	size_t		 i, len;

	for (i = 0; i < n; i++) {
		len = strlen(in[i]) + 1;
		if (used + len > sizeof(store))
			abort();
		memcpy(store + used, in[i], len);
		v[i] = store + used;
		used += len;
	}
	v[n] = NULL;
}

static void
test_zone(void)
{
	struct zone_conf	 dc;
	unsigned char	 h[DNS_TLSA_LEN];
	char		*buf = NULL;
	size_t		 len = 0;
	FILE		*fp;
	static const char *const argv_c[] = { "dns", "--target",
	    "WKD.Service.Test.", "--caa", "letsencrypt.org", "--tlsrpt",
	    "mailto:tls@good.test", "good.test" };
	static const char *const bad_c[] = { "dns", "--address",
	    "192.0.2.300", "x" };
	static const char *const port_c[] = { "dns", "--port", "80", "x" };
	static const char *const rua_c[] = { "dns", "--tlsrpt", "mailto:a\"b",
	    "x" };
	char		*argv[9], *bad[5], *port[5], *rua[5];

	args(argv_c, 8, argv);
	args(bad_c, 4, bad);
	args(port_c, 4, port);
	args(rua_c, 4, rua);

	is_int(zone_getopt(8, argv, &dc, 0, "dns"), 7, "options parsed");
	is_str(dc.target, "wkd.service.test", "target normalised");
	is_int(zone_getopt(4, bad, &dc, 0, "dns"), -1, "bad address refused");
	is_int(zone_getopt(4, port, &dc, 0, "dns"), -1, "--port: check only");
	is_int(zone_getopt(4, port, &dc, 1, "check"), 3, "--port for check");
	is_int(dc.port, 80, "port");
	is_int(zone_getopt(4, rua, &dc, 0, "dns"), -1, "quote in rua refused");

	(void)zone_getopt(8, argv, &dc, 0, "dns");
	memset(h, 0x11, sizeof(h));
	if ((fp = open_memstream(&buf, &len)) == NULL) {
		ok(0, "open_memstream");
		return;
	}
	is_int(zone_print(fp, &dc, "good.test", h, NULL, "abc123"), 0, "zone");
	fclose(fp);
	ok(strstr(buf, "\nopenpgpkey.good.test.\t3600\tIN\tCNAME\t"
	    "wkd.service.test.\n") != NULL, "CNAME line");
	ok(strstr(buf, "\ngood.test.\t3600\tIN\tCAA\t0 issue "
	    "\"letsencrypt.org\"\n") != NULL, "CAA line");
	ok(strstr(buf, "\n_443._tcp.openpgpkey.good.test.\t3600\tIN\tTLSA\t"
	    "3 1 1 1111111111111111111111111111111111111111111111111111111111"
	    "111111\n") != NULL, "TLSA line");
	ok(strstr(buf, "\nmta-sts.good.test.\t3600\tIN\tCNAME\t"
	    "wkd.service.test.\n") != NULL, "mta-sts line");
	ok(strstr(buf, "\n_mta-sts.good.test.\t3600\tIN\tTXT\t"
	    "\"v=STSv1; id=abc123\"\n") != NULL, "_mta-sts line");
	ok(strstr(buf, "\n_smtp._tls.good.test.\t3600\tIN\tTXT\t"
	    "\"v=TLSRPTv1; rua=mailto:tls@good.test\"\n") != NULL,
	    "TLSRPT line");
	free(buf);

	/* Addresses, no certificate, no MTA-STS. */
	memset(&dc, 0, sizeof(dc));
	(void)snprintf(dc.addrs[0], sizeof(dc.addrs[0]), "192.0.2.1");
	(void)snprintf(dc.addrs[1], sizeof(dc.addrs[1]), "2001:db8::1");
	dc.naddrs = 2;
	buf = NULL;
	if ((fp = open_memstream(&buf, &len)) == NULL)
		return;
	(void)zone_print(fp, &dc, "good.test", NULL, "no certificate", NULL);
	fclose(fp);
	ok(strstr(buf, "\nopenpgpkey.good.test.\t3600\tIN\tA\t192.0.2.1\n") !=
	    NULL && strstr(buf, "\nopenpgpkey.good.test.\t3600\tIN\tAAAA\t"
	    "2001:db8::1\n") != NULL, "A and AAAA lines");
	ok(strstr(buf, "TLSA\t") == NULL && strstr(buf, "mta-sts") == NULL &&
	    strstr(buf, "CAA\t") == NULL, "no TLSA, CAA or MTA-STS lines");
	free(buf);
	memset(&dc, 0, sizeof(dc));
	is_int(zone_print(stdout, &dc, "good.test", NULL, NULL, NULL), -1,
	    "neither target nor address: refused");
}

/* TXT rdata: character-strings joined; cut or bad ones say so. */
static void
test_txt(void)
{
	struct dns_rr	 rr;
	char		 out[16];
	unsigned char	 two[] = { 7, 'v', '=', 'S', 'T', 'S', 'v', '1',
	    3, ';', 'i', 'd' };
	unsigned char	 bad[] = { 9, 'a', 'b' };
	unsigned char	 empty[] = { 0 };

	memset(&rr, 0, sizeof(rr));
	rr.type = DNS_T_TXT;
	rr.rdata = two;
	rr.rdlen = sizeof(two);
	ok(dns_txt(&rr, out, sizeof(out)) == 0 &&
	    strcmp(out, "v=STSv1;id") == 0, "dns_txt: two strings joined");
	ok(dns_txt(&rr, out, 9) == -1 && strcmp(out, "v=STSv1") == 0,
	    "dns_txt: too long for out: -1, the first string kept");
	rr.rdata = bad;
	rr.rdlen = sizeof(bad);
	ok(dns_txt(&rr, out, sizeof(out)) == -1 && out[0] == '\0',
	    "dns_txt: a length past the rdata: -1, nothing kept");
	rr.rdata = empty;
	rr.rdlen = sizeof(empty);
	ok(dns_txt(&rr, out, sizeof(out)) == 0 && out[0] == '\0',
	    "dns_txt: one empty string");
	rr.rdlen = 0;
	ok(dns_txt(&rr, out, sizeof(out)) == 0 && out[0] == '\0',
	    "dns_txt: no rdata");
	ok(dns_txt(&rr, out, 0) == -1, "dns_txt: no room at all: -1");
}

int
main(void)
{
	test_parse();
	test_garbage();
	test_names();
	test_tlsa();
	test_zone();
	test_txt();
	return (done());
}
