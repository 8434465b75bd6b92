/*
 * fuzz_www: the web page's parsers and escapers (wkdd/www.c) on any
 * bytes.  The same input is
 *   - a query argument's value (www_arg()): what it decodes to has no
 *     control character, and escaped for HTML it has no markup left,
 *     quoted for JSON it parses back (jansson) to valid JSON;
 *   - a stored check document (www_status_html()): whatever it holds,
 *     the page made of it has no markup of its own ("<script", an
 *     attribute opened by it);
 *   - a template (www_template()) and a key's bytes (www_armor()): the
 *     armor's lines are at most 64 characters of base64.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "keystore.h"
#include "wkdd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_arg(const char *s)
{
	struct www_buf	 b = { 0 };
	json_error_t	 jerr;
	json_t		*j;
	char		 out[KS_ADDR_MAX];
	const char	*p;
	int		 n;

	if ((n = www_arg(s, out, sizeof(out))) < 0)
		return;
	if ((size_t)n != strlen(out))
		abort();
	for (p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	www_buf_html(&b, out);
	if (!b.failed && b.data != NULL && strpbrk(b.data, "<>\"'") != NULL)
		abort();
	www_buf_free(&b);
	www_buf_json(&b, out);
	if (!b.failed && b.data != NULL) {
		if ((j = json_loads(b.data, JSON_DECODE_ANY, &jerr)) == NULL ||
		    !json_is_string(j))
			abort();
		json_decref(j);
	}
	www_buf_free(&b);
}

static void
fuzz_status(const char *s, size_t len)
{
	struct www_buf	 b = { 0 };

	if (www_status_html(s, len, &b) == 0 && b.data != NULL &&
	    (strstr(b.data, "<script") != NULL ||
	    strstr(b.data, "\" onerror") != NULL))
		abort();
	www_buf_free(&b);
}

static void
fuzz_template(const char *s, size_t len)
{
	static const char *const vars[][2] = {
		{ "domain", "example.org" }, { "result", "" }, { "addr", "x" }
	};
	struct www_buf	 b = { 0 };

	www_template(s, len, vars, 3, &b);
	if (!b.failed && len > 0 && b.data == NULL)
		abort();
	www_buf_free(&b);
}

static void
fuzz_armor(const unsigned char *s, size_t len)
{
	struct www_buf	 b = { 0 };
	const char	*p, *nl;

	www_armor(s, len, &b);
	if (b.failed || b.data == NULL)
		return;
	if (strncmp(b.data, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n", 38) !=
	    0)
		abort();
	for (p = b.data + 38; *p != '\0' && *p != '='; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL || nl - p > 64 ||
		    strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
		    "vwxyz0123456789+/=") != (size_t)(nl - p))
			abort();
	}
	www_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char	*s;

	if ((s = malloc(len + 1)) == NULL)
		return (0);
	memcpy(s, data, len);
	s[len] = '\0';
	fuzz_arg(s);
	fuzz_status(s, len);
	fuzz_template(s, len);
	fuzz_armor(data, len);
	free(s);
	return (0);
}
