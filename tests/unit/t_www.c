/*
 * t_www: the web page's pure parts (wkdd/www.c): query values, HTML and
 * JSON escaping, templates, the armor (CRC-24 vectors computed apart
 * from this code), and the status page of check documents of versions 1
 * and 2 (the v2 fields: resolver, dnssec, methods, clients).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"
#include "wkdd.h"
#include "tap.h"

static void
t_arg(void)
{
	char	 out[64];

	is_int(www_arg("alice%40example.org", out, sizeof(out)), 17,
	    "arg: %%40 decoded");
	is_str(out, "alice@example.org", "arg: the address");
	is_int(www_arg("+%20a%2Bb++", out, sizeof(out)), 3,
	    "arg: blanks around dropped, %%2B a plus");
	is_str(out, "a+b", "arg: a+b");
	is_int(www_arg("j%C3%BCrgen", out, sizeof(out)), 7, "arg: UTF-8");
	is_int(www_arg("a%4", out, sizeof(out)), -1, "arg: short escape");
	is_int(www_arg("a%zz", out, sizeof(out)), -1, "arg: bad escape");
	is_int(www_arg("a%00b", out, sizeof(out)), -1, "arg: encoded NUL");
	is_int(www_arg("a%0Ab", out, sizeof(out)), -1, "arg: a newline");
	is_int(www_arg("0123456789", out, 10), -1, "arg: no room");
	is_int(www_arg("", out, sizeof(out)), 0, "arg: empty");
}

static void
t_escape(void)
{
	struct www_buf	 b = { 0 };

	www_buf_html(&b, "<a href='x'>&\"</a>");
	is_str(b.data, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;",
	    "html: markup escaped");
	www_buf_free(&b);
	www_buf_html(&b, "J\xc3\xbcrgen \xff\xc0\x80 \xed\xa0\x80\x01");
	is_str(b.data, "J\xc3\xbcrgen \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	    "html: UTF-8 kept; bad bytes, overlong, surrogate, control: FFFD");
	www_buf_free(&b);
	www_buf_json(&b, "a\"\\\n<\xff\xc3\xa4");
	is_str(b.data, "\"a\\\"\\\\\\u000a\\u003c\\ufffd\xc3\xa4\"",
	    "json: quoted, escaped, bad bytes replaced");
	www_buf_free(&b);
}

static void
t_template(void)
{
	static const char *const vars[][2] = {
		{ "domain", "example.org" }, { "result", "<p>r</p>" }
	};
	static const char t[] = "x{{domain}}y{{nope}}{{result}}z{{";
	struct www_buf	 b = { 0 };

	www_template(t, strlen(t), vars, 2, &b);
	is_str(b.data, "xexample.orgy{{nope}}<p>r</p>z{{",
	    "template: known names replaced, others kept");
	www_buf_free(&b);
}

static void
t_armor(void)
{
	static const unsigned char key[] = { 0x98, 3, 4, 0, 0, 0xb4, 2,
	    'a', 'b' };
	unsigned char	 seq[100];
	struct www_buf	 b = { 0 };
	size_t		 i;

	www_armor(key, sizeof(key), &b);
	is_str(b.data, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmAMEAAC0AmFi\n"
	    "=CkAJ\n-----END PGP PUBLIC KEY BLOCK-----\n",
	    "armor: base64 and its CRC-24");
	www_buf_free(&b);
	for (i = 0; i < sizeof(seq); i++)
		seq[i] = i;
	www_armor(seq, sizeof(seq), &b);
	ok(b.data != NULL && strstr(b.data, "\n\n"
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\n"
	    "MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f\n"
	    "YGFiYw==\n=ojIo\n") != NULL,
	    "armor: 64 characters a line, padding, CRC-24");
	www_buf_free(&b);
	www_armor(seq, 0, &b);
	ok(b.data != NULL && strstr(b.data, "\n\n=twTO\n") != NULL,
	    "armor: no bytes, the CRC-24 of nothing");
	www_buf_free(&b);
}

static void
t_status(void)
{
	static const char v1[] = "{\"version\":1,\"domain\":\"a.test\","
	    "\"host\":\"openpgpkey.a.test\",\"checked\":"
	    "\"2026-12-06T20:00:00Z\",\"failed\":1,\"warnings\":0,"
	    "\"results\":[{\"area\":\"dns\",\"status\":\"ok\",\"detail\":"
	    "\"fine\"},{\"area\":\"https\",\"status\":\"fail\",\"detail\":"
	    "\"<script>x</script>\",\"fix\":\"renew & \\\"go\\\"\"}]}";
	static const char v2[] = "{\"version\":2,\"domain\":\"a.test\","
	    "\"host\":\"openpgpkey.a.test\",\"checked\":"
	    "\"2026-12-06T20:00:00Z\","
	    "\"failed\":0,\"warnings\":1,\"resolver\":\"192.0.2.1\","
	    "\"dnssec\":\"insecure\",\"methods\":{\"advanced\":{\"host\":"
	    "\"openpgpkey.a.test\",\"resolves\":true,\"status\":\"ok\","
	    "\"detail\":\"served\"},\"direct\":{\"host\":\"a.test\","
	    "\"resolves\":false,\"status\":\"fail\",\"detail\":\"no <A>\","
	    "\"fix\":\"add one\"}},"
	    "\"results\":[],\"clients\":[{\"client\":\"GnuPG\",\"method\":"
	    "\"advanced\",\"status\":\"ok\",\"detail\":\"resolves\"},"
	    "{\"client\":\"Thunderbird\",\"method\":\"direct\",\"status\":"
	    "\"warn\",\"detail\":\"d\",\"fix\":\"f\"}]}";
	struct www_buf	 b = { 0 };

	is_int(www_status_html(v1, strlen(v1), &b), 0, "status: version 1");
	ok(strstr(b.data, "class=\"summary fail\"") != NULL,
	    "status: a failure says not working");
	ok(strstr(b.data, "<time datetime=\"2026-12-06T20:00:00Z\">2026-12-06 "
	    "20:00 UTC</time>") != NULL, "status: when, for a person");
	ok(strstr(b.data, "<script>") == NULL &&
	    strstr(b.data, "&lt;script&gt;x") != NULL, "status: text escaped");
	ok(strstr(b.data, "Fix:</strong> renew &amp; &quot;go&quot;") != NULL,
	    "status: the fix shown");
	www_buf_free(&b);
	is_int(www_status_html(v2, strlen(v2), &b), 0, "status: version 2");
	ok(strstr(b.data, "class=\"summary warn\"") != NULL,
	    "status v2: warnings only");
	ok(strstr(b.data, "<th scope=\"row\">GnuPG</th><td>advanced</td>") !=
	    NULL && strstr(b.data, ">Thunderbird</th>") != NULL,
	    "status v2: a row per client, with its method");
	ok(strstr(b.data, "resolver <code>192.0.2.1</code>; DNSSEC: "
	    "insecure.") != NULL, "status v2: resolver and DNSSEC");
	ok(strstr(b.data, "<th scope=\"row\">advanced</th><td><code>"
	    "openpgpkey.a.test</code>") != NULL &&
	    strstr(b.data, "<th scope=\"row\">direct</th>") != NULL &&
	    strstr(b.data, "no &lt;A&gt;") != NULL &&
	    strstr(b.data, "Fix:</strong> add one") != NULL,
	    "status v2: a row per method, escaped, with its fix");
	www_buf_free(&b);
	is_int(www_status_html("[]", 2, &b), -1, "status: not an object");
	www_buf_free(&b);
	is_int(www_status_html("{\"results\":{}}", 14, &b), -1,
	    "status: results not an array");
	www_buf_free(&b);
	is_int(www_status_html("{", 1, &b), -1, "status: not JSON");
	www_buf_free(&b);
}

int
main(void)
{
	t_arg();
	t_escape();
	t_template();
	t_armor();
	t_status();
	return (done());
}
