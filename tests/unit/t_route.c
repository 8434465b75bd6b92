/*
 * t_route: request routing (route.c): both WKD layouts, Host and path
 * normalisation, tenant isolation, and what must not route; then the
 * routes of WKD-as-a-service: the MTA-STS policy (only under mta-sts.D)
 * and the plain HTTP listener's ACME challenges and redirects
 * (route_plain()), with the paths that must not route.
 */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "wkdd.h"

#define H	"kei1q4tipxxu1yj79k9kfukdhfy631xe"	/* alice */
#define WK	"/.well-known/openpgpkey"

#define MTA	"/.well-known/mta-sts.txt"
#define ACME	"/.well-known/acme-challenge/"
#define TOK	"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"

static const char *
kind_name(int k)
{
	switch (k) {
	case ROUTE_NOTFOUND:
		return ("notfound");
	case ROUTE_KEY:
		return ("key");
	case ROUTE_POLICY:
		return ("policy");
	case ROUTE_INDEX:
		return ("index");
	case ROUTE_OPTIONS:
		return ("options");
	case ROUTE_METHOD:
		return ("method");
	case ROUTE_MTASTS:
		return ("mtasts");
	case ROUTE_ACME:
		return ("acme");
	case ROUTE_REDIRECT:
		return ("redirect");
	case ROUTE_WWW:
		return ("www");
	case ROUTE_LOOKUP:
		return ("lookup");
	case ROUTE_STATUS:
		return ("status");
	case ROUTE_TLSRPT:
		return ("tlsrpt");
	}
	return ("?");
}

/* The lookups' formats, and a file's name in token. */
static void
t_www_fmt(void)
{
	struct route	r;

	route_request("GET", "a.test", "/lookup.json?addr=x", &r);
	is_int(r.fmt, ROUTE_FMT_JSON, "/lookup.json: JSON");
	route_request("GET", "a.test", "/lookup.asc", &r);
	is_int(r.fmt, ROUTE_FMT_ASC, "/lookup.asc: armored");
	route_request("GET", "a.test", "/lookup?addr=x", &r);
	is_int(r.fmt, ROUTE_FMT_HTML, "/lookup: the page");
	route_request("GET", "a.test", "/app.js?x", &r);
	is_str(r.token, "app.js", "a file's name, without the query");
}

/* method host path must route to kind with domain (NULL: don't care). */
static void
route(const char *method, const char *host, const char *path, int kind,
    const char *domain, int advanced)
{
	struct route	r;
	int		k;

	k = route_request(method, host, path, &r);
	if (!ok(k == kind && r.kind == k &&
	    (domain == NULL || strcmp(r.domain, domain) == 0) &&
	    (kind != ROUTE_KEY || strcmp(r.hash, H) == 0) &&
	    (domain == NULL || r.advanced == advanced),
	    "%s %s %s -> %s %s", method, host ? host : "(null)", path,
	    kind_name(kind), domain ? domain : ""))
		printf("#   got %s domain \"%s\" hash \"%s\" advanced %d\n",
		    kind_name(k), r.domain, r.hash, r.advanced);
}

static void
notfound(const char *host, const char *path)
{
	route("GET", host, path, ROUTE_NOTFOUND, NULL, 0);
}

/* HTTPS: host path to kind with domain (NULL: don't care). */
static void
https(const char *host, const char *path, int kind, const char *domain)
{
	struct route	r;
	int		k;

	k = route_request("GET", host, path, &r);
	if (!ok(k == kind && (domain == NULL || strcmp(r.domain, domain) == 0),
	    "https %s %s -> %s %s", host, path, kind_name(kind),
	    domain ? domain : ""))
		printf("#   got %s domain \"%s\"\n", kind_name(k), r.domain);
}

/* Plain HTTP: method host path to kind, with domain and token if given. */
static void
plain(const char *method, const char *host, const char *path, int kind,
    const char *domain, const char *token)
{
	struct route	r;
	char		show[64];
	size_t		i;
	int		k;

	/* The path as shown in the TAP line: no control bytes, short. */
	for (i = 0; path[i] != '\0' && i < sizeof(show) - 1; i++)
		show[i] = path[i] < ' ' || path[i] >= 0x7f ? '?' : path[i];
	show[i] = '\0';
	k = route_plain(method, host, path, &r);
	if (!ok(k == kind &&
	    (domain == NULL || strcmp(r.domain, domain) == 0) &&
	    (token == NULL || strcmp(r.token, token) == 0),
	    "http %s %s %s -> %s %s %s", method, host ? host : "(null)", show,
	    kind_name(kind), domain ? domain : "", token ? token : ""))
		printf("#   got %s domain \"%s\" token \"%s\"\n", kind_name(k),
		    r.domain, r.token);
}

/* Both WKD layouts, Host and path normalisation, tenant isolation. */
static void
t_layouts(void)
{
	char	long_path[8192];

	/* Direct layout. */
	route("GET", "a.test", WK "/hu/" H, ROUTE_KEY, "a.test", 0);
	route("HEAD", "a.test", WK "/hu/" H, ROUTE_KEY, "a.test", 0);
	route("GET", "a.test", WK "/hu/" H "?l=alice", ROUTE_KEY, "a.test", 0);
	route("GET", "a.test", WK "/hu/" H "?l=%FC%u00FC%zz+x", ROUTE_KEY,
	    "a.test", 0);
	route("GET", "A.Test:8443", WK "/hu/" H, ROUTE_KEY, "a.test", 0);
	route("GET", "a.test.", WK "/hu/" H, ROUTE_KEY, "a.test", 0);
	route("GET", "a.test.:443", WK "/hu/" H, ROUTE_KEY, "a.test", 0);
	route("GET", "a.test", WK "/policy", ROUTE_POLICY, "a.test", 0);
	route("GET", "a.test", WK "/policy?x=y", ROUTE_POLICY, "a.test", 0);
	/* A name that starts with openpgpkey. is still a direct host. */
	route("GET", "openpgpkey.a.test", WK "/hu/" H, ROUTE_KEY,
	    "openpgpkey.a.test", 0);
	route("GET", "openpgpkey.a.test", WK "/policy", ROUTE_POLICY,
	    "openpgpkey.a.test", 0);

	/* Advanced layout, path domain normalised. */
	route("GET", "openpgpkey.a.test", WK "/a.test/hu/" H, ROUTE_KEY,
	    "a.test", 1);
	route("GET", "openpgpkey.example.org", WK "/Example.ORG/hu/" H,
	    ROUTE_KEY, "example.org", 1);
	route("GET", "OPENPGPKEY.EXAMPLE.ORG", WK "/EXAMPLE.ORG/hu/" H,
	    ROUTE_KEY, "example.org", 1);
	route("GET", "openpgpkey.example.org", WK "/example.org./hu/" H,
	    ROUTE_KEY, "example.org", 1);
	route("GET", "openpgpkey.example.org.", WK "/example.org/hu/" H,
	    ROUTE_KEY, "example.org", 1);
	route("GET", "openpgpkey.example.org", WK "/%45xample.%6Frg/hu/" H,
	    ROUTE_KEY, "example.org", 1);
	route("GET", "openpgpkey.xn--mnchen-3ya.de", WK "/m%C3%BCnchen.de/hu/"
	    H "?l=alice", ROUTE_KEY, "xn--mnchen-3ya.de", 1);
	route("GET", "openpgpkey.xn--mnchen-3ya.de", WK "/M%C3%9CNCHEN.DE/hu/"
	    H, ROUTE_KEY, "xn--mnchen-3ya.de", 1);
	route("GET", "openpgpkey.xn--mnchen-3ya.de", WK "/xn--mnchen-3ya.de/hu/"
	    H, ROUTE_KEY, "xn--mnchen-3ya.de", 1);
	route("GET", "openpgpkey.xn--mnchen-3ya.de", WK "/XN--MNCHEN-3YA.DE./"
	    "hu/" H, ROUTE_KEY, "xn--mnchen-3ya.de", 1);
	route("GET", "openpgpkey.a.test", WK "/a.test/policy", ROUTE_POLICY,
	    "a.test", 1);
	route("GET", "openpgpkey.a.test:8443", WK "/A.TEST/policy?l=x",
	    ROUTE_POLICY, "a.test", 1);
	/* The TLD "hu" as a domain doesn't confuse the two layouts. */
	route("GET", "openpgpkey.hu", WK "/hu/policy", ROUTE_POLICY, "hu", 1);
	route("GET", "openpgpkey.hu", WK "/hu/hu/" H, ROUTE_KEY, "hu", 1);
	notfound("hu", WK "/hu/policy");

	/* Tenant isolation: the Host names the path's domain. */
	notfound("openpgpkey.b.test", WK "/a.test/hu/" H);
	notfound("openpgpkey.b.test", WK "/a.test/policy");
	notfound("a.test", WK "/a.test/hu/" H);
	notfound("b.test", WK "/a.test/policy");
	notfound("openpgpkey.a.test.evil", WK "/a.test/hu/" H);
	notfound("openpgpkey.", WK "/a.test/hu/" H);
	notfound("openpgpkey.xn--mnchen-3ya.de", WK "/muenchen.de/hu/" H);

	/* Bad Host. */
	notfound(NULL, WK "/hu/" H);
	notfound("", WK "/hu/" H);
	notfound(":443", WK "/hu/" H);
	notfound("[::1]:443", WK "/hu/" H);
	notfound("a b", WK "/hu/" H);
	notfound("a..test", WK "/hu/" H);
	notfound("a/b", WK "/hu/" H);

	/* No listings, no other files. */
	notfound("a.test", WK "/hu/");
	notfound("a.test", WK "/hu");
	notfound("a.test", WK "/");
	notfound("a.test", WK);
	notfound("a.test", "/.well-known/");
	notfound("openpgpkey.a.test", WK "/a.test/hu/");
	notfound("openpgpkey.a.test", WK "/a.test/hu");
	notfound("openpgpkey.a.test", WK "/a.test/");
	notfound("openpgpkey.a.test", WK "/a.test");
	notfound("a.test", WK "/submission-address");
	notfound("a.test", WK "/hu/" H "/");
	notfound("a.test", WK "/hu//" H);
	notfound("a.test", WK "//hu/" H);
	notfound("a.test", "/.well-known/openpgpkey/hu/" H "/x");
	notfound("a.test", "/.WELL-KNOWN/openpgpkey/hu/" H);
	notfound("a.test", WK "/HU/" H);
	notfound("a.test", WK "/POLICY");
	notfound("openpgpkey.a.test", WK "/a.test/hu/" H "/x/y");
	route("GET", "a.test", "/robots.txt", ROUTE_WWW, "a.test", 0);
	notfound("a.test", "*");
	notfound("a.test", "");
	notfound("a.test", "https://a.test" WK "/hu/" H);

	/* Malformed hashes. */
	notfound("a.test", WK "/hu/kei1q4tipxxu1yj79k9kfukdhfy631x");
	notfound("a.test", WK "/hu/kei1q4tipxxu1yj79k9kfukdhfy631xee");
	notfound("a.test", WK "/hu/KEI1Q4TIPXXU1YJ79K9KFUKDHFY631XE");
	notfound("a.test", WK "/hu/lei1q4tipxxu1yj79k9kfukdhfy631xe");
	notfound("a.test", WK "/hu/vei1q4tipxxu1yj79k9kfukdhfy631xe");
	notfound("a.test", WK "/hu/0ei1q4tipxxu1yj79k9kfukdhfy631xe");
	notfound("a.test", WK "/hu/2ei1q4tipxxu1yj79k9kfukdhfy631xe");
	notfound("a.test", WK "/hu/kei1q4tipxxu1yj79k9kfukdhfy631x%00");
	notfound("openpgpkey.a.test", WK "/a.test/hu/../hu/" H);
	/* An escaped hash decodes like any segment. */
	route("GET", "a.test", WK "/hu/%6Bei1q4tipxxu1yj79k9kfukdhfy631xe",
	    ROUTE_KEY, "a.test", 0);

	/* Bad escapes and encoded separators. */
	notfound("openpgpkey.a.test", WK "/a.test%2Fhu/" H);
	notfound("openpgpkey.a.test", WK "/a%2etest%2fhu/" H);
	notfound("openpgpkey.a.test", WK "/a.test%00/hu/" H);
	notfound("openpgpkey.a.test", WK "/a.test%/hu/" H);
	notfound("openpgpkey.a.test", WK "/a.test%4/hu/" H);
	notfound("openpgpkey.a.test", WK "/a.test%zz/hu/" H);
	notfound("openpgpkey.a.test", WK "/%/hu/" H);
	notfound("openpgpkey.a.test", WK "/%FF%FE/hu/" H);
	notfound("openpgpkey.a.test", WK "/a%20test/hu/" H);

	/* Long input: no overflow. */
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	long_path[0] = '/';
	notfound("a.test", long_path);
	memcpy(long_path, WK "/", sizeof(WK));
	notfound("openpgpkey.a.test", long_path);
	notfound(long_path + 1, WK "/hu/" H);

	/* Methods. */
	route("OPTIONS", "a.test", WK "/hu/" H, ROUTE_OPTIONS, NULL, 0);
	route("OPTIONS", NULL, "*", ROUTE_OPTIONS, NULL, 0);
	route("POST", "a.test", WK "/hu/" H, ROUTE_METHOD, NULL, 0);
	route("PUT", "a.test", WK "/hu/" H, ROUTE_METHOD, NULL, 0);
	route("DELETE", "a.test", WK "/hu/" H, ROUTE_METHOD, NULL, 0);
	route("PROPFIND", "a.test", WK "/hu/", ROUTE_METHOD, NULL, 0);
	route("get", "a.test", WK "/hu/" H, ROUTE_METHOD, NULL, 0);
	route("POST", "nowhere", "/x", ROUTE_METHOD, NULL, 0);

	/* The page at "/". */
	route("GET", "a.test", "/", ROUTE_INDEX, "a.test", 0);
	route("GET", "a.test", "/?x", ROUTE_INDEX, "a.test", 0);
	route("GET", "a.test", "/index.html", ROUTE_INDEX, "a.test", 0);
	route("GET", "openpgpkey.a.test", "/", ROUTE_INDEX, "a.test", 1);
	notfound("a.test", "//");

	/* The web page's other paths (www.c); the file must exist there. */
	route("GET", "a.test", "/index.htm", ROUTE_WWW, "a.test", 0);
	route("GET", "a.test", "/style.css", ROUTE_WWW, "a.test", 0);
	route("GET", "openpgpkey.a.test", "/app.js?v=1", ROUTE_WWW, "a.test",
	    1);
	route("GET", "a.test", "/lookup?addr=x%40a.test", ROUTE_LOOKUP,
	    "a.test", 0);
	route("GET", "openpgpkey.a.test", "/lookup.json?addr=x", ROUTE_LOOKUP,
	    "a.test", 1);
	route("HEAD", "a.test", "/lookup.asc", ROUTE_LOOKUP, "a.test", 0);
	route("GET", "openpgpkey.a.test", "/status", ROUTE_STATUS, "a.test",
	    1);
	notfound("a.test", "/.htaccess");
	notfound("a.test", "/Style.css");
	notfound("a.test", "/style%2ecss");
	notfound("a.test", "/../etc/passwd");
	notfound("a.test", "/a/b.css");
	notfound("a.test", "/status/");
	notfound("a.test", "/" "0123456789012345678901234567890123456789"
	    "012345678901234567890123.css");
	t_www_fmt();

}

/* WKD-as-a-service: MTA-STS, ACME challenges, redirects. */
static void
t_service(void)
{
	char	big[4096];

	/* MTA-STS: only mta-sts.D, only the exact path. */
	https("mta-sts.a.test", MTA, ROUTE_MTASTS, "a.test");
	https("MTA-STS.A.Test:443", MTA, ROUTE_MTASTS, "a.test");
	https("mta-sts.a.test.", MTA "?x=1", ROUTE_MTASTS, "a.test");
	https("mta-sts.xn--bcher-kva.test", MTA, ROUTE_MTASTS,
	    "xn--bcher-kva.test");
	https("a.test", MTA, ROUTE_NOTFOUND, NULL);
	https("openpgpkey.a.test", MTA, ROUTE_NOTFOUND, NULL);
	https("mta-sts.", MTA, ROUTE_NOTFOUND, NULL);
	https("xmta-sts.a.test", MTA, ROUTE_NOTFOUND, NULL);
	https("mta-sts.a.test", MTA "/", ROUTE_NOTFOUND, NULL);
	https("mta-sts.a.test", "/.well-known/mta-sts.txt.bak", ROUTE_NOTFOUND,
	    NULL);
	https("mta-sts.a.test", "/.well-known/mta-sts%2etxt", ROUTE_NOTFOUND,
	    NULL);
	https("mta-sts.a.test", "//.well-known/mta-sts.txt", ROUTE_NOTFOUND,
	    NULL);
	/* Under mta-sts.D, WKD paths name the domain "mta-sts.D". */
	https("mta-sts.a.test", "/.well-known/openpgpkey/policy",
	    ROUTE_POLICY, "mta-sts.a.test");
	https("mta-sts.a.test", "/.well-known/openpgpkey/a.test/policy",
	    ROUTE_NOTFOUND, NULL);

	/* TLS reports: /tlsrpt under D, mta-sts.D, openpgpkey.D; any method. */
	route("POST", "mta-sts.a.test", "/tlsrpt", ROUTE_TLSRPT, "a.test", 0);
	route("POST", "openpgpkey.a.test", "/tlsrpt", ROUTE_TLSRPT, "a.test",
	    0);
	route("POST", "A.Test.:443", "/tlsrpt?x=1", ROUTE_TLSRPT, "a.test", 0);
	route("GET", "mta-sts.a.test", "/tlsrpt", ROUTE_TLSRPT, "a.test", 0);
	route("OPTIONS", "a.test", "/tlsrpt", ROUTE_TLSRPT, "a.test", 0);
	route("POST", "mta-sts.", "/tlsrpt", ROUTE_TLSRPT, "mta-sts", 0);
	route("POST", NULL, "/tlsrpt", ROUTE_NOTFOUND, NULL, 0);
	route("POST", "[::1]", "/tlsrpt", ROUTE_NOTFOUND, NULL, 0);
	route("POST", "a.test", "/tlsrpt/", ROUTE_METHOD, NULL, 0);
	route("POST", "a.test", "/tlsrptx", ROUTE_METHOD, NULL, 0);
	route("GET", "a.test", "/tlsrpt/x", ROUTE_NOTFOUND, NULL, 0);
	route("POST", "a.test", "/.well-known/tlsrpt", ROUTE_METHOD, NULL, 0);

	/* ACME challenges: base64url tokens, any hosted-looking Host. */
	plain("GET", "a.test", ACME TOK, ROUTE_ACME, "a.test", TOK);
	plain("HEAD", "a.test", ACME TOK, ROUTE_ACME, "a.test", TOK);
	plain("GET", "openpgpkey.a.test", ACME TOK, ROUTE_ACME, "a.test", TOK);
	plain("GET", "mta-sts.a.test:80", ACME TOK "?x", ROUTE_ACME, "a.test",
	    TOK);
	plain("GET", "Www.A.test", ACME "x", ROUTE_ACME, "www.a.test", "x");
	plain("GET", "openpgpkey.", ACME "x", ROUTE_ACME, "openpgpkey", "x");
	plain("GET", "a.test", ACME "..", ROUTE_NOTFOUND, NULL, NULL);
	plain("GET", "a.test", ACME "../../etc/passwd", ROUTE_NOTFOUND, NULL,
	    NULL);
	plain("GET", "a.test", ACME "%2e%2e%2fx", ROUTE_NOTFOUND, NULL, NULL);
	plain("GET", "a.test", ACME "a/b", ROUTE_NOTFOUND, NULL, NULL);
	plain("GET", "a.test", ACME "a.b", ROUTE_NOTFOUND, NULL, NULL);
	plain("GET", "a.test", ACME "a+b", ROUTE_NOTFOUND, NULL, NULL);
	plain("GET", "a.test", ACME "a=", ROUTE_NOTFOUND, NULL, NULL);
	plain("GET", "a.test", ACME, ROUTE_NOTFOUND, NULL, NULL);
	plain("GET", "a.test", "/.well-known/acme-challenge", ROUTE_NOTFOUND,
	    NULL, NULL);
	plain("GET", "a.test", "/.well-known/acme-challengeX", ROUTE_NOTFOUND,
	    NULL, NULL);
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, ACME, sizeof(ACME) - 1);
	big[sizeof(ACME) - 1 + ROUTE_TOKEN_MAX] = '\0';
	plain("GET", "a.test", big, ROUTE_NOTFOUND, NULL, NULL);
	big[sizeof(ACME) - 1 + ROUTE_TOKEN_MAX - 1] = '\0';
	plain("GET", "a.test", big, ROUTE_ACME, "a.test", NULL);

	/* Everything else: a redirect, if path and Host are sane. */
	plain("GET", "a.test", "/", ROUTE_REDIRECT, "a.test", NULL);
	plain("GET", "openpgpkey.a.test",
	    "/.well-known/openpgpkey/a.test/policy", ROUTE_REDIRECT, "a.test",
	    NULL);
	plain("GET", "a.test", "/x?l=alice", ROUTE_REDIRECT, "a.test", NULL);
	plain("GET", "a.test", "/a b", ROUTE_NOTFOUND, NULL, NULL);
	plain("GET", "a.test", "/a\r\nSet-Cookie: x", ROUTE_NOTFOUND, NULL,
	    NULL);
	plain("GET", "a.test", "/\x80", ROUTE_NOTFOUND, NULL, NULL);
	plain("GET", "a.test", "http://b.test/", ROUTE_NOTFOUND, NULL, NULL);
	plain("GET", "a.test", "", ROUTE_NOTFOUND, NULL, NULL);
	plain("GET", NULL, "/", ROUTE_NOTFOUND, NULL, NULL);
	plain("GET", "", "/", ROUTE_NOTFOUND, NULL, NULL);
	plain("GET", "[::1]", "/", ROUTE_NOTFOUND, NULL, NULL);
	plain("GET", "a.test/x", "/", ROUTE_NOTFOUND, NULL, NULL);
	plain("GET", "a test", "/", ROUTE_NOTFOUND, NULL, NULL);
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	plain("GET", "a.test", big, ROUTE_NOTFOUND, NULL, NULL);
	plain("POST", "a.test", ACME TOK, ROUTE_METHOD, NULL, NULL);
	plain("OPTIONS", "a.test", "/", ROUTE_METHOD, NULL, NULL);
}

int
main(void)
{
	t_layouts();
	t_service();
	return (done());
}
