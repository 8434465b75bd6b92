/*
 * t_lmdbfile: ks_lmdb_check() (lmdbfile.c), the walk of a backup's LMDB
 * structure before LMDB reads it.  An LMDB file with what a store has
 * (a plain table deep enough for branch pages and with overflow values, a
 * sorted-duplicates table with a subtree and a sub-page) is accepted as
 * LMDB writes it; each kind of damage LMDB would assert or fault on is
 * refused (KS_CORRUPT), and ks_check_file() refuses the damaged file
 * without crashing.
 */
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "keystore.h"
#include "extern.h"
#include "tap.h"

#define PS	4096

static char	 dir[] = "/tmp/t_lmdbfile.XXXXXX";
static char	 file[64];
static unsigned char *img;	/* The intact file. */
static size_t	 len;

static uint16_t
g16(const unsigned char *p)
{
	return (p[0] | p[1] << 8);
}

static void
p16(unsigned char *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void
p64(unsigned char *p, uint64_t v)
{
	int	 i;

	for (i = 0; i < 8; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

/* An LMDB file shaped like a store's, compacted as ks_backup() does. */
static void
make(void)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 a, d;
	MDB_val		 k, v;
	char		 key[32], name[8], val[12000];
	struct stat	 st;
	int		 fd, i;

	E(mdb_env_create(&env));
	E(mdb_env_set_maxdbs(env, 4));
	E(mdb_env_open(env, dir, 0, 0600));
	E(mdb_txn_begin(env, NULL, 0, &txn));
	E(mdb_dbi_open(txn, "a", MDB_CREATE, &a));
	E(mdb_dbi_open(txn, "d", MDB_CREATE | MDB_DUPSORT, &d));
	memset(val, 'v', sizeof(val));
	for (i = 0; i < 3000; i++) {
		k.mv_size = snprintf(key, sizeof(key), "key%06d", i);
		k.mv_data = key;
		v.mv_data = val;
		v.mv_size = i % 100 == 0 ? sizeof(val) : 40;	/* Overflow. */
		if (mdb_put(txn, a, &k, &v, 0) != 0)
			errx(1, "mdb_put a");
		/* "many": a subtree of duplicates; "few": a sub-page. */
		(void)snprintf(name, sizeof(name), "%s",
		    i % 1000 < 3 ? "few" : "many");
		k.mv_data = name;
		k.mv_size = strlen(name);
		v.mv_data = key;
		v.mv_size = strlen(key);
		if (mdb_put(txn, d, &k, &v, 0) != 0)
			errx(1, "mdb_put d");
	}
	E(mdb_txn_commit(txn));
	(void)snprintf(file, sizeof(file), "%s.copy", dir);
	if ((fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1)
		err(1, "%s", file);
	E(mdb_env_copyfd2(env, fd, MDB_CP_COMPACT));
	mdb_env_close(env);
	if (fstat(fd, &st) == -1 || (img = malloc(st.st_size)) == NULL ||
	    pread(fd, img, st.st_size, 0) != st.st_size)
		err(1, "%s", file);
	len = st.st_size;
	(void)close(fd);
}

/* The first page of type flags (and P_SUBP/P_LEAF2 none), or NULL. */
static unsigned char *
find(unsigned char *p, uint16_t flags, int skip)
{
	size_t	 i;

	for (i = 2; i < len / PS; i++)
		if ((g16(p + i * PS + 10) & 0xff) == flags && skip-- == 0)
			return (p + i * PS);
	return (NULL);
}

/* Node i of page pg. */
static unsigned char *
node(unsigned char *pg, int i)
{
	return (pg + g16(pg + 16 + 2 * i));
}

/* Has a leaf page of p a node with exactly these flags? */
static int
has_node(unsigned char *p, uint16_t flags)
{
	unsigned char	*pg;
	size_t		 i;
	int		 j;

	for (i = 2; i < len / PS; i++) {
		pg = p + i * PS;
		if ((g16(pg + 10) & 0xff) != 0x02)
			continue;
		for (j = 0; j < (g16(pg + 12) - 16) / 2; j++)
			if (g16(node(pg, j) + 4) == flags)
				return (1);
	}
	return (0);
}

/* The damaged copy dmg is refused, by the walk and by ks_check_file(). */
static void
refused(unsigned char *dmg, const char *what)
{
	int	 fd;

	is_int(ks_lmdb_check(dmg, len), KS_CORRUPT, "%s: KS_CORRUPT", what);
	if ((fd = open(file, O_WRONLY | O_TRUNC)) == -1 ||
	    write(fd, dmg, len) != (ssize_t)len || close(fd) == -1)
		err(1, "%s", file);
	ok(ks_check_file(file, NULL) != KS_OK, "%s: ks_check_file refuses",
	    what);
	memcpy(dmg, img, len);
}

int
main(void)
{
	unsigned char	*c, *pg, *nd, *leaf;
	uint64_t	 pgno;

	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	make();
	if ((c = malloc(len)) == NULL)
		err(1, NULL);
	memcpy(c, img, len);
	is_int(ks_lmdb_check(c, len), KS_OK, "the file as LMDB wrote it");
	ok(find(c, 0x01, 0) != NULL && find(c, 0x04, 0) != NULL,
	    "it has branch and overflow pages");
	ok(has_node(c, 0x04) && has_node(c, 0x06),
	    "it has duplicates in a sub-page and in a subtree");

	c[16] ^= 0xff;
	is_int(ks_lmdb_check(c, len), KS_INVALID, "meta 0's magic: not LMDB");
	memcpy(c, img, len);
	c[PS + 20] = 2;
	refused(c, "meta 1's version");
	p64(c + 136, len / PS);
	refused(c, "meta 0's last page past the file");
	is_int(ks_lmdb_check(c, len - PS - 1), KS_CORRUPT,
	    "the file cut short");

	pg = find(c, 0x01, 0);
	p16(pg + 12, 18);
	refused(c, "a branch page of one key (LMDB asserts)");
	nd = node(pg, 0);
	p16(nd, (len / PS + 5) & 0xffff);
	p16(nd + 2, 0);
	p16(nd + 4, 0);
	refused(c, "a child past the file");
	memcpy(node(pg, 1), node(pg, 0), 6);
	refused(c, "two children the same page");
	pgno = (pg - c) / PS;
	p16(node(pg, 0), pgno & 0xffff);
	p16(node(pg, 0) + 2, pgno >> 16);
	refused(c, "a page its own child");
	p16(pg + 10, 0x02);
	refused(c, "a branch page marked a leaf");

	leaf = find(c, 0x02, 0);
	p16(node(leaf, 0) + 6, 60000);
	refused(c, "a key past its page (SIGBUS)");
	p16(leaf + 16, 4095);
	refused(c, "a node pointer past its page");
	p16(leaf + 16, g16(leaf + 14) - 2);
	refused(c, "a node pointer before upper");
	p16(leaf + 12, 16);
	refused(c, "an empty leaf");
	p64(leaf, 1);
	refused(c, "a page that isn't where it says");

	pg = find(c, 0x04, 0);
	p16(pg + 12, 0xffff);
	p16(pg + 14, 0xffff);
	refused(c, "an overflow run past the file");
	p16(pg + 10, 0x02);
	refused(c, "an overflow page marked a leaf");

	/* Table flags: the main table's leaf holds "a" and "d". */
	leaf = NULL;
	for (pgno = 2; pgno < len / PS; pgno++) {
		pg = c + pgno * PS;
		if ((g16(pg + 10) & 0xff) == 0x02 &&
		    g16(node(pg, 0) + 4) == 0x02 && g16(node(pg, 0) + 6) == 1) {
			leaf = pg;
			break;
		}
	}
	ok(leaf != NULL, "the main table's leaf found");
	if (leaf != NULL) {
		nd = node(leaf, 1);	/* "d" */
		p16(nd + 8 + 1 + 4, MDB_DUPSORT | MDB_INTEGERKEY);
		refused(c, "a table with integer keys");
		p16(nd + 8 + 1 + 4, 0);
		refused(c, "sorted duplicates in a plain table");
		nd = node(leaf, 0);	/* "a" */
		nd[8 + 1 + 32] ^= 1;
		refused(c, "a table's entry count");
	}
	free(c);
	free(img);
	(void)unlink(file);
	if (getenv("KEEP") == NULL) {
		char	 cmd[128];

		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		(void)system(cmd);
	}
	return (done());
}
