/*
 * driver.c: replays a fuzz target's corpus without libFuzzer, so that
 * `make test` runs every saved input under the sanitizers (dropbear's
 * fuzz-harness.c).  Each input is run twice, to catch state kept between
 * calls.  Prints TAP: one line per input.
 *
 *	fuzz_NAME DIR|FILE...
 */
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	 n;

static void
runfile(const char *path)
{
	FILE		*f;
	uint8_t		*buf = NULL;
	size_t		 len = 0, cap = 0, r;

	if ((f = fopen(path, "rb")) == NULL)
		err(1, "%s", path);
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((buf = realloc(buf, cap)) == NULL)
				err(1, NULL);
		}
		if ((r = fread(buf + len, 1, cap - len, f)) == 0)
			break;
		len += r;
	}
	if (ferror(f))
		err(1, "%s", path);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	/* Reaching here is the pass: the sanitizers abort on a finding. */
	printf("ok %d - %s\n", ++n, path);
	fflush(stdout);
}

static int
cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

static void
rundir(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	char		**names = NULL, path[4096];
	size_t		 cnt = 0, i;

	if ((d = opendir(dir)) == NULL)
		err(1, "%s", dir);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if ((names = reallocarray(names, cnt + 1, sizeof(*names))) ==
		    NULL || (names[cnt++] = strdup(e->d_name)) == NULL)
			err(1, NULL);
	}
	closedir(d);
	qsort(names, cnt, sizeof(*names), cmp);
	for (i = 0; i < cnt; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    names[i]) >= sizeof(path))
			errx(1, "%s: path too long", dir);
		runfile(path);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char *argv[])
{
	struct stat	 st;
	int		 i;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1)
			err(1, "%s", argv[i]);
		if (S_ISDIR(st.st_mode))
			rundir(argv[i]);
		else
			runfile(argv[i]);
	}
	if (n == 0) {
		printf("not ok 1 - no corpus input\n");
		n = 1;
		printf("1..%d\n", n);
		return (1);
	}
	printf("1..%d\n", n);
	return (0);
}
