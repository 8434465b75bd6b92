/*
 * t_route: the routes of WKD-as-a-service in route.c: the MTA-STS policy
 * (only under mta-sts.D) and the plain HTTP listener's ACME challenges and
 * redirects (route_plain()), with the paths that must not route.
 */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "wkdd.h"

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
	}
	return ("?");
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

int
main(void)
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
	return (done());
}
