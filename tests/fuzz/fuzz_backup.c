/*
 * fuzz_backup: ks_check_file(), which wkdctl restore runs on a file from
 * elsewhere, on any bytes (written to a memfd, opened by its /proc path).
 * It must return a code, never crash; a file it accepts must be one that
 * ks_check_file() accepts again with the same counts.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keystore.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ks_backup_info	 a, b;
	char			 path[64];
	size_t			 off;
	ssize_t			 n;
	int			 fd, rc;

	if ((fd = memfd_create("fuzz_backup", MFD_CLOEXEC)) == -1)
		abort();
	for (off = 0; off < len; off += n)
		if ((n = write(fd, data + off, len - off)) <= 0)
			abort();
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rc = ks_check_file(path, &a);
	if (rc == KS_OK) {
		if (ks_check_file(path, &b) != KS_OK ||
		    memcmp(&a, &b, sizeof(a)) != 0 || a.bytes != len)
			abort();
	}
	(void)close(fd);
	return (0);
}
