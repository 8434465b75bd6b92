/*
 * t_wkdhash: the WKD hash, z-base-32, hash syntax, domain and address
 * normalisation, OpenPGP packet framing.
 */
#include <string.h>

#include "keystore.h"
#include "tap.h"

/* ../shared/docs/wkd-clients.md section 5: all verified against gpg. */
static const struct {
	const char	*local;
	const char	*hash;
} vectors[] = {
	{ "Joe.Doe", "iy9q119eutrkn8s1mk4r39qejnbu3n5q" },
	{ "test1", "stnkabub89rpcphiz4ppbxixkwyt1pic" },
	{ "test-wkd", "4hg7tescnttreaouu4z1izeuuyibwww1" },
	{ "ESchwartz", "ycx3iaqih9tzkfk7dp8jo9xrdepu5m8u" },
	{ "bernhard.reiter", "it5sewh54rxz33fwmr8u6dy4bbz8itz4" },
	{ "aheinecke", "g8td9rsyatrazsoiho37j9n3g5ypp34h" },
	{ "patrice.lumumba", "gzfxrwe6o9qrddujrwnjran6nh41hfex" },
	{ "Gr\xc3\xbc\xc3\x9f" "e.J\xc3\xbcrgen",
	    "izrmh5mqsi4zyh6njd4sxxh4g7xjrxq1" },
	{ "alice", "kei1q4tipxxu1yj79k9kfukdhfy631xe" },
	{ "Alice", "kei1q4tipxxu1yj79k9kfukdhfy631xe" },
	{ "test+tag", "fxzxa3848sxqqo7675sif3snp9e1xohb" },
	{ "INFO", "mg6owx9w8c3ejg3tu31f4tha5n17d4rj" },
	{ "\xc4\xb1nfo", "fs5tpxkqxrtncegxbw4d4nddej4isct5" },
	{ "\xc3\x84" "BC", "ud9bxcn7eq8b9bfbmjthn5bwe8ifr8y1" },
	{ "\xc3\xa4" "bc", "33jf9x7jns7fpobh6m5xtwxwp46959z6" },
	{ "\xc4\xb0nfo", "gbgtqg5fm6ijxt3deujksdrwgj4bx8n9" },
	{ "j\xc3\xbcrgen", "xotup5kjnwdgxj1qa4a6s1j1hx3q5196" },
	{ "", "5eh48516ppfo4c1iz9z3kaya1nz7obaj" },
};

static void
t_hash(void)
{
	char	 out[KS_HASH_LEN + 1];
	size_t	 i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		memset(out, 0, sizeof(out));
		E(ks_wkd_hash(vectors[i].local, strlen(vectors[i].local),
		    out));
		is_str(out, vectors[i].hash, "hash of vector %zu", i);
		ok(ks_hash_valid(out, strlen(out)), "hash %zu is valid", i);
	}
}

static void
t_zb32(void)
{
	const unsigned char	 in[5] = { 0x00, 0x44, 0x32, 0x14, 0xc7 };
	const unsigned char	 ff[5] = { 0xff, 0xff, 0xff, 0xff, 0xff };
	char			 out[9];

	E(ks_zb32_encode(in, 5, out, sizeof(out)));
	/* 00000 00001 00010 00011 00100 00101 00110 00111. */
	is_str(out, "ybndrfg8", "zb32 of the first eight symbols");
	E(ks_zb32_encode(ff, 5, out, sizeof(out)));
	is_str(out, "99999999", "zb32 of all ones");
	is_int(ks_zb32_encode(in, 4, out, sizeof(out)), KS_INVALID,
	    "zb32 refuses lengths that aren't multiples of 5 bits");
	is_int(ks_zb32_encode(in, 5, out, 8), KS_INVALID,
	    "zb32 refuses a short buffer");
}

static void
t_hash_valid(void)
{
	ok(!ks_hash_valid("iy9q119eutrkn8s1mk4r39qejnbu3n5", 31), "31 chars");
	ok(!ks_hash_valid("iy9q119eutrkn8s1mk4r39qejnbu3n5qq", 33),
	    "33 chars");
	ok(!ks_hash_valid("IY9Q119EUTRKN8S1MK4R39QEJNBU3N5Q", 32),
	    "uppercase");
	ok(!ks_hash_valid("iy9q119eutrkn8s1mk4r39qejnbu3n5l", 32),
	    "'l' is not in the alphabet");
	ok(!ks_hash_valid("iy9q119eutrkn8s1mk4r39qejnbu3n5\0", 32),
	    "embedded NUL");
	ok(!ks_hash_valid("iy9q119eutrkn8s1mk4r39qejnbu3n2q", 32),
	    "'2' is not in the alphabet");
}

static void
t_domain(void)
{
	static const struct {
		const char	*in, *out;
	} good[] = {
		{ "example.org", "example.org" },
		{ "Example.ORG", "example.org" },
		{ "EXAMPLE.ORG.", "example.org" },
		{ "m\xc3\xbcnchen.de", "xn--mnchen-3ya.de" },
		{ "M\xc3\x9cNCHEN.de", "xn--mnchen-3ya.de" },
		{ "xn--mnchen-3ya.de", "xn--mnchen-3ya.de" },
		{ "XN--MNCHEN-3YA.DE", "xn--mnchen-3ya.de" },
		{ "a-b.c1.test", "a-b.c1.test" },
		{ "localhost", "localhost" },
	};
	static const char *const bad[] = {
		"", ".", "..", "a..b", ".a", "-a.org", "a-.org", "a b.org",
		"a_b.org", "a/b", "exa%41mple.org", "a.org..", "\xff.org",
		"a\n.org",
		/* A 64-octet label. */
		("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org"),
	};
	char	 out[KS_DOMAIN_MAX];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		E(ks_domain_norm(good[i].in, out, sizeof(out)));
		is_str(out, good[i].out, "domain %zu normalised", i);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(ks_domain_norm(bad[i], out, sizeof(out)), KS_INVALID,
		    "bad domain %zu refused", i);
	is_int(ks_domain_norm("example.org", out, 5), KS_INVALID,
	    "short output buffer");
}

static void
t_addr(void)
{
	static const struct {
		const char	*in, *out, *dom;
	} good[] = {
		{ "Joe.Doe@Example.ORG", "joe.doe@example.org", "example.org" },
		{ "test+tag@example.org", "test+tag@example.org",
		    "example.org" },
		{ "\xc3\x84" "BC@example.org", "\xc3\x84" "bc@example.org",
		    "example.org" },
		{ "alice@m\xc3\xbcnchen.de", "alice@xn--mnchen-3ya.de",
		    "xn--mnchen-3ya.de" },
	};
	static const char *const bad[] = {
		"", "@", "alice", "alice@", "@example.org", "a@b@example.org",
		"a b@example.org", "\"a\"@example.org", "a..b@example.org",
		".a@example.org", "a.@example.org", "a\x01@example.org",
		"\xc3@example.org", "a\xc3(@example.org", "a<@example.org",
		"alice@exa mple.org",
	};
	char	 out[KS_ADDR_MAX], dom[KS_DOMAIN_MAX];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		E(ks_addr_norm(good[i].in, out, sizeof(out), dom,
		    sizeof(dom)));
		is_str(out, good[i].out, "address %zu normalised", i);
		is_str(dom, good[i].dom, "address %zu domain", i);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(ks_addr_norm(bad[i], out, sizeof(out), NULL, 0),
		    KS_INVALID, "bad address %zu refused", i);
}

static void
t_pgp(void)
{
	/* Old format: public key (tag 6), 3 bytes; user ID (13), 2. */
	const unsigned char	 pub[] = {
		0x98, 3, 4, 0, 0, 0xb4, 2, 'a', 'b' };
	/* New format: secret key (tag 5), 1 byte. */
	const unsigned char	 sec[] = { 0xc5, 1, 0 };
	/* New format, two-octet length: 192 bytes of tag 2. */
	unsigned char		 two[2 + 192];
	unsigned		 counts[64];

	E(ks_pgp_scan(pub, sizeof(pub), counts));
	is_int(counts[6], 1, "one public key packet");
	is_int(counts[13], 1, "one user ID packet");
	is_int(ks_pgp_scan(pub, sizeof(pub) - 1, NULL), KS_INVALID,
	    "truncated packet refused");
	is_int(ks_pgp_scan(sec, sizeof(sec), counts), KS_SECRET,
	    "secret key packet detected");
	is_int(ks_pgp_scan((const unsigned char *)"\x01\x02", 2, NULL),
	    KS_INVALID, "not a packet header");
	is_int(ks_pgp_scan(pub, 0, NULL), KS_INVALID, "empty input");
	memset(two, 0, sizeof(two));
	two[0] = 0xc2;
	two[1] = 192;	/* (192 - 192) << 8 + two[2] + 192 */
	two[2] = 0;
	/* Length 192 needs 2 + 192 bytes but we have 2 + 192 - 1 after hdr. */
	is_int(ks_pgp_scan(two, sizeof(two), NULL), KS_INVALID,
	    "two-octet length past the end refused");
	is_int(ks_pgp_scan((const unsigned char *)"\xc2\xe0\x00", 3, NULL),
	    KS_INVALID, "partial body length refused");
	is_int(ks_pgp_scan((const unsigned char *)"\x9b\x00", 2, NULL),
	    KS_INVALID, "indeterminate length refused");

	/* ks_pgp_next: packet by packet, with offsets. */
	{
		unsigned char	 cat[sizeof(pub) + sizeof(sec)];
		struct ks_pkt	 pkt;
		size_t		 off = 0;

		memcpy(cat, pub, sizeof(pub));
		memcpy(cat + sizeof(pub), sec, sizeof(sec));
		ok(ks_pgp_next(cat, sizeof(cat), &off, &pkt) == 1 &&
		    pkt.tag == KS_PKT_PUBKEY && pkt.off == 0 &&
		    pkt.hdrlen == 2 && pkt.bodylen == 3 && off == 5,
		    "ks_pgp_next: old-format public key, offsets");
		ok(ks_pgp_next(cat, sizeof(cat), &off, &pkt) == 1 &&
		    pkt.tag == KS_PKT_UID && pkt.off == 5 &&
		    pkt.body == cat + 7 && off == sizeof(pub),
		    "ks_pgp_next: then the user ID");
		ok(ks_pgp_next(cat, sizeof(cat), &off, &pkt) == 1 &&
		    pkt.tag == KS_PKT_SECKEY && pkt.hdrlen == 2 &&
		    pkt.bodylen == 1, "ks_pgp_next: new-format secret key");
		is_int(ks_pgp_next(cat, sizeof(cat), &off, &pkt), 0,
		    "ks_pgp_next: 0 at the end");
		off = 0;
		is_int(ks_pgp_next(cat, sizeof(pub) - 1, &off, &pkt), 1,
		    "ks_pgp_next: first packet of truncated data");
		is_int(ks_pgp_next(cat, sizeof(pub) - 1, &off, &pkt),
		    KS_INVALID, "ks_pgp_next: the cut one refused");
		is_int((int)off, 5, "ks_pgp_next: offset left at the bad one");
		two[1] = 192;
		two[2] = 0;
		off = 0;
		ok(ks_pgp_next(two, sizeof(two), &off, &pkt) == KS_INVALID,
		    "ks_pgp_next: two-octet length past the end");
		off = 0;
		ok(ks_pgp_next(two, sizeof(two) + 1 - 1, &off, &pkt) ==
		    KS_INVALID && off == 0, "ks_pgp_next: nothing consumed");
	}
}

int
main(void)
{
	t_hash();
	t_zb32();
	t_hash_valid();
	t_domain();
	t_addr();
	t_pgp();
	return (done());
}
