/*
 * split.c: a keyring, one file per key, for make bench's gpg-wks-client
 * runs (which take one key a file).
 *
 *	split [-n max] keyring dir
 *
 * Each transferable public key of keyring (from a public-key packet to
 * the next one), at most max of them, is written, as it is, to dir/K.pgp
 * (K counting from 0), and a line to standard output: the file's path,
 * then each User ID of the key, separated by tabs (control characters
 * shown as '?').  Packets are walked with the keystore's ks_pgp_next();
 * nothing is checked beyond the framing.
 */

#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keystore.h"

#define SPLIT_MAX	(512 * 1024 * 1024)	/* Largest keyring read. */

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: split [-n max] keyring dir\n");
	exit(2);
}

/* The whole of path, malloc(3)ed, in *buf and *len. */
static void
slurp(const char *path, unsigned char **buf, size_t *len)
{
	FILE	*f;
	struct stat st;

	if ((f = fopen(path, "r")) == NULL || fstat(fileno(f), &st) == -1)
		err(1, "%s", path);
	if (st.st_size > SPLIT_MAX)
		errx(1, "%s: too big", path);
	if ((*buf = malloc(st.st_size + 1)) == NULL)
		err(1, NULL);
	*len = fread(*buf, 1, st.st_size, f);
	if (ferror(f) || *len != (size_t)st.st_size)
		errx(1, "%s: short read", path);
	fclose(f);
}

static void
uid_print(const struct ks_pkt *p)
{
	size_t	 i;

	putchar('\t');
	for (i = 0; i < p->bodylen; i++)
		putchar(p->body[i] < 0x20 || p->body[i] == 0x7f ? '?' :
		    p->body[i]);
}

/* The key at data[start, end) to dir/k.pgp; its path and UIDs out. */
static void
key_write(const char *dir, unsigned long k, const unsigned char *data,
    size_t start, size_t end)
{
	struct ks_pkt	 p;
	char		 path[PATH_MAX];
	FILE		*f;
	size_t		 off = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%lu.pgp", dir, k) >=
	    sizeof(path))
		errx(1, "%s: path too long", dir);
	if ((f = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	if (fwrite(data + start, 1, end - start, f) != end - start ||
	    fclose(f) == EOF)
		err(1, "%s", path);
	printf("%s", path);
	while (ks_pgp_next(data + start, end - start, &off, &p) == 1)
		if (p.tag == KS_PKT_UID)
			uid_print(&p);
	putchar('\n');
}

int
main(int argc, char *argv[])
{
	struct ks_pkt	 p;
	unsigned char	*data;
	unsigned long	 k = 0, max = ULONG_MAX;
	size_t		 len, off = 0, start = 0, at;
	char		*end;
	int		 ch, rc, inkey = 0;

	while ((ch = getopt(argc, argv, "n:")) != -1) {
		switch (ch) {
		case 'n':
			errno = 0;
			max = strtoul(optarg, &end, 10);
			if (optarg[0] == '\0' || optarg[0] == '-' ||
			    *end != '\0' || errno == ERANGE)
				errx(2, "-n: not a number: %s", optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();
	if (mkdir(argv[1], 0755) == -1 && errno != EEXIST)
		err(1, "%s", argv[1]);
	slurp(argv[0], &data, &len);
	for (;;) {
		at = off;
		if ((rc = ks_pgp_next(data, len, &off, &p)) == KS_INVALID)
			errx(1, "%s: bad packet at byte %zu", argv[0], at);
		if (rc == 0 || p.tag == KS_PKT_PUBKEY) {
			if (inkey)
				key_write(argv[1], k++, data, start, at);
			if (rc == 0 || k == max)
				break;
			start = at;
			inkey = 1;
		}
	}
	free(data);
	return (0);
}
