/*
 * fuzz_pgpkey: the fast import path's packet walker (admin/pgpkey.c) and
 * checker (admin/pgpsig.c) on outside bytes: parse, read every
 * signature's subpackets, write what was parsed and parse that again (it
 * must parse, to the same key), merge the key into itself, and clean it
 * as pgp_merge_fast() does, alone and onto itself as a stored copy; read
 * its state as pgp_state() records it (admin/pgpstate.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"
#include "wkdctl.h"
#include "pgpkey.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
siginfo_all(const struct pk_part *p)
{
	struct pk_sig	 si;
	size_t		 i;

	for (i = 0; i < p->nsigs; i++)
		(void)pk_siginfo(&p->sigs[i], &si);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct pk_key	 k, again, self;
	struct pgp_cert	 c;
	struct ks_keystate st;
	unsigned char	*out;
	size_t		 i, olen;

	if (pgp_state(data, len, &st) == 0 && (!st.known ||
	    st.nsub > KS_SUBKEY_MAX ||
	    strlen(st.reason_text) >= sizeof(st.reason_text)))
		abort();
	if (pk_parse(data, len, &k) == -1)
		return (0);
	siginfo_all(&k.direct);
	for (i = 0; i < k.nuids; i++)
		siginfo_all(&k.uids[i]);
	for (i = 0; i < k.nsubs; i++)
		siginfo_all(&k.subs[i]);
	if (pk_write(&k, &out, &olen) == 0) {
		/* What the walker writes, it reads back as the same key. */
		if (pk_parse(out, olen, &again) == -1)
			abort();
		if (strcmp(again.fpr, k.fpr) != 0 || again.nuids != k.nuids ||
		    again.nsubs != k.nsubs)
			abort();
		if (pk_parse(out, olen, &self) == 0) {
			(void)pk_merge(&again, &self);
			pk_free(&self);
		}
		pk_free(&again);
		if (pgp_merge_fast(k.fpr, NULL, 0, out, olen, &c) == 0)
			pgp_cert_free(&c);
		if (pgp_merge_fast(k.fpr, out, olen, data, len, &c) == 0)
			pgp_cert_free(&c);
		free(out);
	}
	pk_free(&k);
	return (0);
}
