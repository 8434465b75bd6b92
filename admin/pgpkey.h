/*
 * pgpkey.h: a v4 OpenPGP key as its packets, grouped as RFC 4880 11.1
 * lays them out, for the fast import path: pgpkey.c (parse, merge, trim,
 * splice, write), pgpsig.c (self-signatures checked with GnuTLS) and the
 * readers in pgp.c and pgpread.c.  Nothing else includes it.
 *
 * Every pointer points into the bytes parsed: they must outlive the key.
 */
#ifndef PGPKEY_H
#define PGPKEY_H

#include <stddef.h>
#include <stdint.h>

struct pk_pkt {
	unsigned		 tag;
	const unsigned char	*body;
	size_t			 len;
	int			 drop;	/* Left out by pk_write(). */
	int			 checked; /* A self-signature found good. */
};

/* A UID, user attribute or subkey, and the signatures that follow it. */
struct pk_part {
	struct pk_pkt	 pkt;
	struct pk_pkt	*sigs;
	size_t		 nsigs;
};

struct pk_key {
	struct pk_pkt	 primary;
	struct pk_part	 direct;	/* pkt unused: sigs on the key. */
	struct pk_part	*uids;		/* UIDs and attributes, in order. */
	size_t		 nuids;
	struct pk_part	*subs;
	size_t		 nsubs;
	unsigned char	 keyid[8];
	char		 fpr[41];	/* Uppercase hex. */
	uint32_t	 ctime;		/* The primary key's creation. */
};

/* What pk_siginfo() reads of a v4 signature. */
struct pk_sig {
	unsigned		 type;
	unsigned		 pkalg;
	unsigned		 hashalg;
	const unsigned char	*hashed;	/* Version .. hashed area. */
	size_t			 hashedlen;
	const unsigned char	*left16;
	const unsigned char	*mpis;
	size_t			 mpislen;
	uint32_t		 created;	/* 0 if none. */
	int			 has_sigexp;
	int			 has_keyexp;
	uint32_t		 keyexp;	/* Seconds after creation. */
	int			 has_flags;
	unsigned		 flags;		/* First octet of key flags. */
	int			 critical;	/* An unknown critical one. */
	const unsigned char	*issuer;	/* 8 bytes, or NULL. */
	const unsigned char	*issuer_fpr;	/* 20 bytes (v4), or NULL. */
	const unsigned char	*embedded;	/* Primary key binding. */
	size_t			 embeddedlen;
	int			 has_reason;	/* Revocation reason: */
	unsigned		 reason;	/* its code, */
	const unsigned char	*reason_text;	/* and words. */
	size_t			 reason_textlen;
};

/*
 * Parse data into *k: a v4 public primary key, then signatures, UIDs,
 * attributes and subkeys (trust and marker packets skipped; a second
 * copy of the same key merges).  0, or -1 for anything else: the caller
 * leaves such a key to RNP.  Free with pk_free().
 */
int	 pk_parse(const unsigned char *data, size_t len, struct pk_key *k);
void	 pk_free(struct pk_key *);
/* Add what from has and into lacks, as RNP merges; 0 or -1 (ENOMEM). */
int	 pk_merge(struct pk_key *into, const struct pk_key *from);
/* The packets not dropped, with new-format headers; 0 or -1. */
int	 pk_write(const struct pk_key *, unsigned char **outp, size_t *lenp);
/* 0, or -1 if sig is no well-formed v4 signature. */
int	 pk_siginfo(const struct pk_pkt *sig, struct pk_sig *si);
/* Was sig made by k's primary key (by its issuer subpackets)? */
int	 pk_by_self(const struct pk_key *k, const struct pk_sig *si);
/* The v4 fingerprint of a public key packet's body, in hex. */
int	 pk_fpr(const unsigned char *body, size_t len, char out[41],
	    unsigned char keyid[8]);

struct pgp_cert;
/* pgp_precheck()'s work on one key (pgpsig.c); thread-safe. */
void	 pk_premerge(struct pgp_cert *);

#endif /* PGPKEY_H */
