/*
 * t_path: request routing (route.c): both WKD layouts, Host and path
 * normalisation, tenant isolation, and what must not route.
 */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "wkdd.h"

#define H	"kei1q4tipxxu1yj79k9kfukdhfy631xe"	/* alice */
#define WK	"/.well-known/openpgpkey"

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
	}
	return ("?");
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

int
main(void)
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
	notfound("a.test", "/robots.txt");
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
	notfound("a.test", "/index.htm");
	notfound("a.test", "//");

	return (done());
}
