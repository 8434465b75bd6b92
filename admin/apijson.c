/*
 * apijson.c: the admin API's request bodies, parsed with jansson into
 * the fields a handler names (api_json_parse()).  Pure: no store, no
 * I/O; fuzzed by tests/fuzz/fuzz_apijson.c.
 */

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "keystore.h"
#include "wkdctl.h"

/* A string of json value v into out (outsz), or -1 if it isn't one. */
static int
api_str(json_t *v, char *out, size_t outsz)
{
	const char	*s;
	size_t		 len;

	if (!json_is_string(v))
		return (-1);
	s = json_string_value(v);
	len = json_string_length(v);
	/* jansson allows NUL in strings (\u0000): not in ours. */
	if (len >= outsz || strlen(s) != len)
		return (-1);
	memcpy(out, s, len + 1);
	return (0);
}

int
api_json_parse(const char *body, size_t len, struct api_field *fields,
    size_t n, char *err, size_t errsz)
{
	json_error_t	 je;
	json_t		*root, *v, *e;
	const char	*key;
	size_t		 i, j;
	int		 rc = -1;

	for (i = 0; i < n; i++)
		fields[i].seen = 0;
	/* Duplicated members are refused; the whole body is one value. */
	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		(void)snprintf(err, errsz, "malformed JSON at line %d column "
		    "%d: %s", je.line, je.column, je.text);
		return (-1);
	}
	if (!json_is_object(root)) {
		(void)snprintf(err, errsz, "the body is not a JSON object");
		goto out;
	}
	json_object_foreach(root, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(fields[i].name, key) == 0)
				break;
		if (i == n) {
			(void)snprintf(err, errsz, "unknown member \"%.64s\"",
			    key);
			goto out;
		}
		fields[i].seen = 1;
		switch (fields[i].type) {
		case API_STR:
			if (api_str(v, fields[i].str, fields[i].strsz) == -1) {
				(void)snprintf(err, errsz, "%s: not a string "
				    "of at most %zu bytes", key,
				    fields[i].strsz - 1);
				goto out;
			}
			break;
		case API_STRV:
			if (!json_is_array(v) ||
			    json_array_size(v) > fields[i].maxstrv) {
				(void)snprintf(err, errsz, "%s: not an array "
				    "of at most %zu strings", key,
				    fields[i].maxstrv);
				goto out;
			}
			json_array_foreach(v, j, e)
				if (api_str(e, fields[i].strv[j],
				    KS_ADDR_MAX) == -1) {
					(void)snprintf(err, errsz, "%s[%zu]: "
					    "not a string of at most %d "
					    "bytes", key, j, KS_ADDR_MAX - 1);
					goto out;
				}
			*fields[i].nstrv = json_array_size(v);
			break;
		case API_BOOL:
			if (!json_is_boolean(v)) {
				(void)snprintf(err, errsz, "%s: not true or "
				    "false", key);
				goto out;
			}
			*fields[i].b = json_is_true(v);
			break;
		default:
			(void)snprintf(err, errsz, "%s: unknown type", key);
			goto out;
		}
	}
	for (i = 0; i < n; i++)
		if (fields[i].required && !fields[i].seen) {
			(void)snprintf(err, errsz, "member \"%s\" missing",
			    fields[i].name);
			goto out;
		}
	rc = 0;
out:
	json_decref(root);
	return (rc);
}
