/*
 * extern.h: keystore internals shared between its files (openrsync style).
 * Nothing here is part of the public interface.
 */
#ifndef KS_EXTERN_H
#define KS_EXTERN_H

#include <lmdb.h>

/*
 * Fault injection for the unit tests (SQLite's approach): in a build with
 * -DKS_FAULTS, the ks_fault_at'th call of an allocation or LMDB write (1 is
 * the first) fails with ENOMEM or KS_FAULT; 0 disables.  ks_fault_calls
 * counts the calls seen.
 */
#ifdef KS_FAULTS
extern unsigned long	 ks_fault_at;
extern unsigned long	 ks_fault_calls;
int			 ks_fault(void);
#define KS_FAULT_HIT()	 ks_fault()
#else
#define KS_FAULT_HIT()	 0
#endif

void		*ks_malloc(size_t);
int		 ks_maperr(int);

/*
 * lmdbfile.c: the LMDB file of size bytes at p (a backup from elsewhere)
 * walked, every page and node bound-checked, before LMDB may read it.
 * KS_OK, KS_INVALID (no LMDB file), KS_CORRUPT or ENOMEM.
 */
int		 ks_lmdb_check(const unsigned char *p, size_t size);

#endif /* KS_EXTERN_H */
