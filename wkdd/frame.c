/*
 * frame.c: see frame.h.  Called once per request, on the handler's first
 * call (the head complete, no body read): no allocation, one pass over
 * the headers MHD keeps in the connection's pool.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "frame.h"

struct frame_seen {
	unsigned	 clen, te, host;
	int		 badname;
};

/* An RFC 9110 token (a field name): tchar only, at least one. */
static int
frame_token(const char *s)
{
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') ||
		    strchr("!#$%&'*+-.^_`|~", *s) != NULL))
			return (0);
	return (1);
}

static enum MHD_Result
frame_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct frame_seen	*s = cls;

	(void)kind;
	(void)value;
	if (key == NULL || !frame_token(key))
		s->badname = 1;
	else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		s->clen++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		s->te++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
		s->host++;
	return (MHD_YES);
}

const char *
frame_check(struct MHD_Connection *c, const char *method, const char *url,
    const char *version)
{
	struct frame_seen	s;
	const char		*p;

	if (strcmp(version, MHD_HTTP_VERSION_1_1) != 0 &&
	    strcmp(version, MHD_HTTP_VERSION_1_0) != 0)
		return ("unknown HTTP version");
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return ("blank or control byte in the target");
	memset(&s, 0, sizeof(s));
	(void)MHD_get_connection_values(c, MHD_HEADER_KIND, frame_header,
	    &s);
	if (s.badname)
		return ("header name not a token");
	if (s.clen > 1 || s.te > 1)
		return ("body length given twice");
	if (s.host > 1)
		return ("Host given twice");
	if ((s.clen > 0 || s.te > 0) && (strcmp(method, "GET") == 0 ||
	    strcmp(method, "HEAD") == 0))
		return ("GET or HEAD with a body header");
	if (s.host == 0 && strcmp(version, MHD_HTTP_VERSION_1_1) == 0)
		return ("HTTP/1.1 without Host");
	return (NULL);
}
