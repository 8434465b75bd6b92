/*
 * fuzz_path: request routing on any bytes.  Input: method, '\n', Host,
 * '\n', path (the rest).  Whatever routes must be well-formed, and an
 * advanced-layout route must name the Host's own domain.  The same input
 * goes through route_plain() (the plain HTTP listener): a token must be
 * base64url, a redirected path printable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"
#include "wkdd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct route	 r;
	char		*s, *host, *rest;
	const char	*path;
	const char	 pfx[] = "openpgpkey.", mta[] = "mta-sts.";
	const char	*p;

	if ((s = malloc(len + 1)) == NULL)
		return (0);
	memcpy(s, data, len);
	s[len] = '\0';
	path = "/";
	if ((host = strchr(s, '\n')) != NULL) {
		*host++ = '\0';
		if ((rest = strchr(host, '\n')) != NULL) {
			*rest++ = '\0';
			path = rest;
		}
	}
	route_request(s, host, path, &r);
	switch (r.kind) {
	case ROUTE_KEY:
		if (!ks_hash_valid(r.hash, strlen(r.hash)))
			abort();
		/* FALLTHROUGH */
	case ROUTE_POLICY:
		if (r.domain[0] == '\0' || r.host[0] == '\0')
			abort();
		if (r.advanced && (strncmp(r.host, pfx, sizeof(pfx) - 1) != 0 ||
		    strcmp(r.host + sizeof(pfx) - 1, r.domain) != 0))
			abort();
		if (!r.advanced && strcmp(r.host, r.domain) != 0)
			abort();
		break;
	case ROUTE_MTASTS:
		if (strncmp(r.host, mta, sizeof(mta) - 1) != 0 ||
		    strcmp(r.host + sizeof(mta) - 1, r.domain) != 0 ||
		    r.domain[0] == '\0')
			abort();
		break;
	case ROUTE_WWW:
		/* One name, no way out of the www directory. */
		if (r.token[0] == '.' || r.token[0] == '\0' ||
		    strspn(r.token, "abcdefghijklmnopqrstuvwxyz0123456789._-")
		    != strlen(r.token))
			abort();
		/* FALLTHROUGH */
	case ROUTE_LOOKUP:
	case ROUTE_STATUS:
		if (r.host[0] == '\0' || r.domain[0] == '\0')
			abort();
		break;
	case ROUTE_NOTFOUND:
	case ROUTE_INDEX:
	case ROUTE_OPTIONS:
	case ROUTE_METHOD:
		break;
	default:
		abort();
	}

	route_plain(s, host, path, &r);
	switch (r.kind) {
	case ROUTE_ACME:
		if (r.token[0] == '\0' || r.host[0] == '\0' ||
		    strspn(r.token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
		    "QRSTUVWXYZ0123456789-_") != strlen(r.token))
			abort();
		break;
	case ROUTE_REDIRECT:
		if (r.host[0] == '\0' || path[0] != '/')
			abort();
		for (p = path; *p != '\0'; p++)
			if ((unsigned char)*p <= ' ' ||
			    (unsigned char)*p >= 0x7f)
				abort();
		break;
	case ROUTE_NOTFOUND:
	case ROUTE_METHOD:
		break;
	default:
		abort();
	}
	free(s);
	return (0);
}
