/*
 * pgp.h: what pgp.c, pgpread.c and pgprev.c share of RNP, and nothing else
 * includes:
 * the rest of wkdctl sees OpenPGP only through wkdctl.h's pgp_*().
 */
#ifndef PGP_H
#define PGP_H

#include <rnp/rnp.h>

/* A fresh ffi, RNP's log silenced.  Warns and returns -1 on failure. */
int		 pgp_ffi(rnp_ffi_t *);
/* Destroy key and it (each may be NULL), then ffi. */
void		 pgp_done(rnp_ffi_t, rnp_identifier_iterator_t,
		    rnp_key_handle_t);
/* Import data's public parts (flags: RNP_LOAD_SAVE_*) into ffi. */
rnp_result_t	 pgp_load_flags(rnp_ffi_t, const unsigned char *, size_t,
		    uint32_t flags);
/* pgp_load_flags() of the public keys only. */
rnp_result_t	 pgp_load(rnp_ffi_t, const unsigned char *, size_t);
/* Key (public, with subkeys) into a malloc(3)ed buffer; 0 or -1. */
int		 pgp_export(rnp_key_handle_t, unsigned char **, size_t *);
/* An RNP memory output copied into a malloc(3)ed buffer; 0 or -1. */
int		 pgp_outbuf(rnp_output_t, unsigned char **, size_t *);
/*
 * RNP 0.16's parser prints diagnostics on stderr whatever the ffi's log
 * fd: pgp_quiet() points stderr at /dev/null (unless WKDCTL_DEBUG is set)
 * and returns a token for pgp_loud(), which restores it.
 */
int		 pgp_quiet(void);
void		 pgp_loud(int);
/*
 * If key (primary) has its secret part in the ffi: make a revocation
 * certificate for each reason into rev->revoc; else, or if it can't sign,
 * say why in rev->revnote.  -1 only on a wrong passphrase (warned).
 */
int		 pgp_revocs(const char *name, rnp_key_handle_t, const char *fpr,
		    struct pass *, struct pgp_cert *rev);

/*
 * data (armored, one block, or already binary) as binary packets in
 * *outp (malloc(3)ed).  0, or -1 if the armor can't be decoded.
 */
int		 pgp_binary(const unsigned char *data, size_t len,
		    unsigned char **outp, size_t *lenp);

#endif /* PGP_H */
