/*
 * tap.h: minimal TAP producer for the unit tests (as Redis's testhelp.h).
 *
 *	ok(cond, "name %d", i);		is_int(got, want, "name");
 *	is_str(got, want, "name");	E(expr): expr must return 0 (KS_OK),
 *	skip("reason");			else print file:line and ks_strerror.
 *	return done();			plan at the end; exit 1 on failure.
 */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_fail;

static int __attribute__((format(printf, 4, 5)))
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", pass ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_fail++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return (pass);
}

#define ok(c, ...)	tap_ok(!!(c), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...) do {					\
	long long g_ = (got), w_ = (want);				\
	if (!ok(g_ == w_, __VA_ARGS__))					\
		printf("#   got %lld, want %lld\n", g_, w_);		\
} while (0)

#define is_str(got, want, ...) do {					\
	const char *g_ = (got), *w_ = (want);				\
	if (!ok(g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0,	\
	    __VA_ARGS__))						\
		printf("#   got \"%s\", want \"%s\"\n",			\
		    g_ ? g_ : "(null)", w_ ? w_ : "(null)");		\
} while (0)

/* For calls returning KS_OK on success; needs keystore.h. */
#define E(expr) do {							\
	int e_ = (expr);						\
	if (!ok(e_ == 0, "%s", #expr))					\
		printf("#   %s\n", ks_strerror(e_));			\
} while (0)

#define skip(...) do {							\
	tap_n++;							\
	printf("ok %d # SKIP ", tap_n);					\
	printf(__VA_ARGS__);						\
	printf("\n");							\
} while (0)

static int
done(void)
{
	printf("1..%d\n", tap_n);
	return (tap_fail ? 1 : 0);
}

#endif /* TAP_H */
