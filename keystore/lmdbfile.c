/*
 * lmdbfile.c: the structure of an LMDB file from elsewhere (a backup to
 * restore), checked before LMDB reads it.
 *
 * LMDB trusts its file: a page number, a node offset or a key size that
 * points past a page or the file makes it assert (abort) or read past the
 * end of its map (SIGBUS), as fuzz_backup found.  So ks_check_file()
 * walks the file's B-trees here first, on the file's bytes, with every
 * bound checked: both meta pages (magic, version, page size, the last
 * page and the roots within the file); then, from the meta LMDB will
 * use (the higher transaction id), every page of the free list, of the
 * main table and of each named table and sorted-duplicate subtree: page
 * number as recorded, type as its depth wants, branch pages of two keys
 * or more, the node pointers and each node within its page, overflow runs
 * within the file, no page reached twice (no cycle, no shared page), and
 * each table's entry count as recorded.  Only what a wkdd store holds is
 * taken: named tables plain or MDB_DUPSORT, nothing else (no fixed-size
 * or integer keys, whose comparisons read a key's bytes blindly).
 *
 * The layout is LMDB 0.9's (mdb.c), data version 1, little-endian 64-bit.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"
#include "extern.h"

#define PAGEHDRSZ	16	/* pgno 8, pad 2, flags 2, lower 2, upper 2. */
#define NODESZ		8	/* lo 2, hi 2, flags 2, ksize 2. */
#define DBSZ		48	/* MDB_db. */
#define META_MAGIC	0xBEEFC0DEU
#define META_VERSION	1
#define STACK_MAX	32	/* LMDB's CURSOR_STACK. */
#define PGNO_NONE	UINT64_MAX

/* Page flags. */
#define PF_BRANCH	0x01
#define PF_LEAF		0x02
#define PF_OVERFLOW	0x04
#define PF_META		0x08
#define PF_DIRTY	0x10
#define PF_LEAF2	0x20
#define PF_SUBP		0x40
/* Node flags. */
#define NF_BIGDATA	0x01
#define NF_SUBDATA	0x02
#define NF_DUPDATA	0x04
/* Table flags. */
#define DB_DUPSORT	0x04
#define DB_INTEGERKEY	0x08

/* Offsets in a meta page. */
#define M_MAGIC		16
#define M_VERSION	20
#define M_DBS		40	/* Free list's MDB_db, then the main one's. */
#define M_LASTPG	136
#define M_TXNID		144
#define M_END		152

struct lf {
	const unsigned char	*p;	/* The file. */
	size_t			 size;
	size_t			 psize;
	uint64_t		 npages;
	unsigned char		*seen;	/* A bit per page. */
};

/* What a table's record (MDB_db) says. */
struct lf_db {
	uint16_t	 flags;
	uint16_t	 depth;
	uint64_t	 entries;
	uint64_t	 root;
};

enum lf_kind {
	K_FREE,		/* The free list: 8-byte keys. */
	K_MAIN,		/* The main table: named tables' records. */
	K_TABLE,	/* A named table. */
	K_TABLE_DUP,	/* A named MDB_DUPSORT table. */
	K_DUPS		/* A key's sorted duplicates: keys only. */
};

static int	tree(struct lf *, const struct lf_db *, enum lf_kind);

static uint16_t
u16(const unsigned char *p)
{
	return (p[0] | p[1] << 8);
}

static uint32_t
u32(const unsigned char *p)
{
	return ((uint32_t)u16(p) | (uint32_t)u16(p + 2) << 16);
}

static uint64_t
u64(const unsigned char *p)
{
	return ((uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32);
}

static void
db_read(const unsigned char *p, struct lf_db *db)
{
	db->flags = u16(p + 4);
	db->depth = u16(p + 6);
	db->entries = u64(p + 32);
	db->root = u64(p + 40);
}

/* Mark page pgno reached: 0, or -1 if it was already (or is a meta). */
static int
mark(struct lf *f, uint64_t pgno)
{
	unsigned char	 bit = 1U << (pgno & 7);

	if (pgno < 2 || pgno >= f->npages || (f->seen[pgno >> 3] & bit))
		return (-1);
	f->seen[pgno >> 3] |= bit;
	return (0);
}

/*
 * The overflow run at pgno holding a value of dsize bytes: within the
 * file, its pages reached by nothing else.
 */
static int
overflow(struct lf *f, uint64_t pgno, uint64_t dsize)
{
	const unsigned char	*pg;
	uint64_t		 i, n;

	if (pgno < 2 || pgno >= f->npages)
		return (KS_CORRUPT);
	pg = f->p + pgno * f->psize;
	n = u32(pg + 12);
	if (u64(pg) != pgno ||
	    (u16(pg + 10) & ~PF_DIRTY) != PF_OVERFLOW || n == 0 ||
	    n > f->npages - pgno || dsize > n * f->psize - PAGEHDRSZ)
		return (KS_CORRUPT);
	for (i = 0; i < n; i++)
		if (mark(f, pgno + i) == -1)
			return (KS_CORRUPT);
	return (KS_OK);
}

/*
 * A page's node pointers (between its header and lower, each to a node
 * after upper that fits before end): their number, or -1.
 */
static int
nodes(const unsigned char *pg, size_t end)
{
	size_t	 lower = u16(pg + 12), upper = u16(pg + 14), i, off;

	if (lower < PAGEHDRSZ || lower > upper || upper > end ||
	    (lower - PAGEHDRSZ) % 2 != 0)
		return (-1);
	for (i = 0; i < (lower - PAGEHDRSZ) / 2; i++) {
		off = u16(pg + PAGEHDRSZ + 2 * i);
		if (off < upper || off % 2 != 0 || off > end - NODESZ ||
		    u16(pg + off + 6) > end - off - NODESZ)
			return (-1);
	}
	return ((lower - PAGEHDRSZ) / 2);
}

/*
 * A sub-page of sorted duplicates (a leaf's value of dsize bytes): keys
 * only, at least one.  Adds their number to *entries.
 */
static int
subpage(const unsigned char *sp, size_t dsize, uint64_t *entries)
{
	int	 n, i;

	if (dsize < PAGEHDRSZ ||
	    (u16(sp + 10) & ~PF_DIRTY) != (PF_LEAF | PF_SUBP) ||
	    (n = nodes(sp, dsize)) < 1)
		return (KS_CORRUPT);
	for (i = 0; i < n; i++)
		if (u16(sp + u16(sp + PAGEHDRSZ + 2 * i) + 4) != 0)
			return (KS_CORRUPT);
	*entries += n;
	return (KS_OK);
}

/* One leaf node of a table of kind k: its value, and what it counts. */
static int
leaf_node(struct lf *f, const unsigned char *nd, size_t room,
    enum lf_kind k, uint64_t *entries)
{
	struct lf_db	 sub;
	uint16_t	 nfl = u16(nd + 4), ksize = u16(nd + 6);
	uint64_t	 dsize = u16(nd) | (uint64_t)u16(nd + 2) << 16;
	const unsigned char *d = nd + NODESZ + ksize;
	int		 rc;

	room -= NODESZ + ksize;		/* nodes() saw the key fit. */
	if (k == K_FREE && ksize != 8)
		return (KS_CORRUPT);
	switch (nfl) {
	case 0:
		if (dsize > room || (k == K_DUPS && dsize != 0))
			return (KS_CORRUPT);
		(*entries)++;
		return (KS_OK);
	case NF_BIGDATA:
		if (room < 8 || k == K_DUPS || k == K_TABLE_DUP ||
		    k == K_MAIN)
			return (KS_CORRUPT);
		(*entries)++;
		return (overflow(f, u64(d), dsize));
	case NF_SUBDATA:
		/* A named table's record, in the main table only. */
		if (k != K_MAIN || dsize != DBSZ || room < DBSZ)
			return (KS_CORRUPT);
		db_read(d, &sub);
		if (sub.flags != 0 && sub.flags != DB_DUPSORT)
			return (KS_CORRUPT);
		(*entries)++;
		return (tree(f, &sub, sub.flags == DB_DUPSORT ?
		    K_TABLE_DUP : K_TABLE));
	case NF_DUPDATA:
		if (k != K_TABLE_DUP || dsize > room)
			return (KS_CORRUPT);
		return (subpage(d, dsize, entries));
	case NF_SUBDATA | NF_DUPDATA:
		/* A key's duplicates in a subtree of their own. */
		if (k != K_TABLE_DUP || dsize != DBSZ || room < DBSZ)
			return (KS_CORRUPT);
		db_read(d, &sub);
		if (sub.flags != 0 || (rc = tree(f, &sub, K_DUPS)) != KS_OK)
			return (KS_CORRUPT);
		*entries += sub.entries;
		return (KS_OK);
	default:
		return (KS_CORRUPT);
	}
}

/*
 * Page pgno at level (1: the root) of a table of kind k and depth
 * levels: checked, with what it points to; its leaves' entries added to
 * *entries.
 */
static int
page(struct lf *f, uint64_t pgno, int level, int depth, enum lf_kind k,
    uint64_t *entries)
{
	const unsigned char	*pg, *nd;
	uint16_t		 flags;
	uint64_t		 child;
	int			 i, n, rc;

	if (mark(f, pgno) == -1)
		return (KS_CORRUPT);
	pg = f->p + pgno * f->psize;
	flags = u16(pg + 10) & ~PF_DIRTY;
	if (u64(pg) != pgno || (n = nodes(pg, f->psize)) < 1)
		return (KS_CORRUPT);
	if (level < depth) {
		/* Two keys at least, as LMDB asserts (not the free list). */
		if (flags != PF_BRANCH || (n < 2 && k != K_FREE))
			return (KS_CORRUPT);
		for (i = 0; i < n; i++) {
			nd = pg + u16(pg + PAGEHDRSZ + 2 * i);
			if (k == K_FREE && i > 0 && u16(nd + 6) != 8)
				return (KS_CORRUPT);
			child = u16(nd) | (uint64_t)u16(nd + 2) << 16 |
			    (uint64_t)u16(nd + 4) << 32;
			if ((rc = page(f, child, level + 1, depth, k,
			    entries)) != KS_OK)
				return (rc);
		}
		return (KS_OK);
	}
	if (flags != PF_LEAF)
		return (KS_CORRUPT);
	for (i = 0; i < n; i++) {
		nd = pg + u16(pg + PAGEHDRSZ + 2 * i);
		if ((rc = leaf_node(f, nd, f->psize - (nd - pg), k,
		    entries)) != KS_OK)
			return (rc);
	}
	return (KS_OK);
}

/* A table (or the free list, the main table, a subtree): all of it. */
static int
tree(struct lf *f, const struct lf_db *db, enum lf_kind k)
{
	uint64_t	 entries = 0;
	int		 rc;

	if (db->root == PGNO_NONE)
		return (db->depth == 0 && db->entries == 0 ? KS_OK :
		    KS_CORRUPT);
	if (db->depth < 1 || db->depth > STACK_MAX)
		return (KS_CORRUPT);
	if ((rc = page(f, db->root, 1, db->depth, k, &entries)) != KS_OK)
		return (rc);
	return (entries == db->entries ? KS_OK : KS_CORRUPT);
}

/* Meta page i of file p: magic, version, page size; its txnid. */
static int
meta(const unsigned char *p, size_t size, size_t off, uint32_t *psize,
    uint64_t *txnid)
{
	const unsigned char	*m = p + off;

	if (off > size || size - off < M_END ||
	    u32(m + M_MAGIC) != META_MAGIC)
		return (KS_INVALID);
	*psize = u32(m + M_DBS);	/* The free list's md_pad. */
	*txnid = u64(m + M_TXNID);
	if (u32(m + M_VERSION) != META_VERSION || *psize < 512 ||
	    *psize > 65536 || (*psize & (*psize - 1)) != 0 ||
	    (u16(m + 10) & ~PF_DIRTY) != PF_META)
		return (KS_CORRUPT);
	return (KS_OK);
}

int
ks_lmdb_check(const unsigned char *p, size_t size)
{
	struct lf	 f;
	struct lf_db	 fdb, mdb;
	uint32_t	 ps0, ps1;
	uint64_t	 tx0, tx1;
	const unsigned char *m;
	int		 i, rc;

	if ((rc = meta(p, size, 0, &ps0, &tx0)) != KS_OK)
		return (rc);
	if (meta(p, size, ps0, &ps1, &tx1) != KS_OK || ps1 != ps0 ||
	    size / ps0 < 2)
		return (KS_CORRUPT);
	memset(&f, 0, sizeof(f));
	f.p = p;
	f.size = size;
	f.psize = ps0;
	f.npages = size / ps0;
	/* Both metas within the file; the newer one's trees walked. */
	for (i = 0; i < 2; i++) {
		m = p + i * f.psize;
		db_read(m + M_DBS, &fdb);
		db_read(m + M_DBS + DBSZ, &mdb);
		if (u64(m + M_LASTPG) >= f.npages ||
		    (fdb.root != PGNO_NONE && fdb.root >= f.npages) ||
		    (mdb.root != PGNO_NONE && mdb.root >= f.npages) ||
		    fdb.flags != DB_INTEGERKEY || mdb.flags != 0)
			return (KS_CORRUPT);
	}
	m = p + (tx0 < tx1 ? f.psize : 0);
	db_read(m + M_DBS, &fdb);
	db_read(m + M_DBS + DBSZ, &mdb);
	if ((f.seen = calloc(1, f.npages / 8 + 1)) == NULL)
		return (ENOMEM);
	if ((rc = tree(&f, &fdb, K_FREE)) == KS_OK)
		rc = tree(&f, &mdb, K_MAIN);
	free(f.seen);
	return (rc);
}
