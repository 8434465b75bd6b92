# wkdd: Web Key Directory server.  Plain GNU make; see README.md.
#
#   make                  build wkdd and wkdctl into $(O)/
#   make SANITIZE=address,undefined   the same under ASan/UBSan (in build-san/)
#   make test             unit + integration + interop + fuzz replay
#   make run              demo store, certificate and wkdd on loopback
#   make lint             banned functions and style checks
#   make valgrind         unit tests under valgrind, failing on any report
#   make fuzz             libFuzzer targets, bounded run (FUZZTIME seconds each)
#   make bench            import and scale benchmarks (bench/run: BENCH_N...)

PREFIX	?= /usr/local
# The one place the version is written: wkdd -V, wkdctl -V, the package.
VERSION	:= $(shell cat VERSION)
OPT	?= -O2 -g
W	 = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
	   -Wmissing-declarations -Wshadow -Wpointer-arith -Wcast-qual \
	   -Wwrite-strings -Wsign-compare -Wformat=2 -Wvla
SAN	 = $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer)
O	?= build$(if $(SANITIZE),-san)

WKDD_PKGS  = libmicrohttpd gnutls lmdb libidn2 libsystemd jansson zlib
ADMIN_PKGS = librnp gnutls lmdb libidn2 libmicrohttpd jansson libcurl \
	     libunbound zlib
KS_PKGS	   = gnutls lmdb libidn2

CPPFLAGS += -D_GNU_SOURCE -Ikeystore -Iwkdd -DWKDD_VERSION='"$(VERSION)"'
CFLAGS	 = $(OPT) $(W) $(SAN) -std=c11 -pthread $(if $(WERROR),-Werror) \
	   $(XCFLAGS)
LDFLAGS	+= $(SAN) -pthread

pc_cflags = $(shell pkg-config --cflags $(1))
pc_libs	  = $(shell pkg-config --libs $(1))

KS_OBJS	   = $(patsubst %.c,$(O)/obj/%.o,$(wildcard keystore/*.c))
# Everything but main() goes into a library, so that unit tests and fuzz
# targets link exactly the code under test.  wkdctl reads the daemon's
# wkdd.conf with the daemon's parser (as bgpctl builds bgpd's files):
# conf.c alone, as libconf.a, which needs only libkeystore.a; and the
# TLSRPT report parser and spool (report.c: jansson, zlib), which both
# validate with one parser.
CONF_OBJS  = $(O)/obj/wkdd/conf.o $(O)/obj/wkdd/report.o
WKDD_OBJS  = $(patsubst %.c,$(O)/obj/%.o,$(filter-out wkdd/main.c wkdd/conf.c wkdd/report.c,$(wildcard wkdd/*.c)))
ADMIN_OBJS = $(patsubst %.c,$(O)/obj/%.o,$(filter-out admin/wkdctl.c,$(wildcard admin/*.c)))
LIBS_ALL   = $(if $(ADMIN_OBJS),$(O)/libadmin.a) $(if $(WKDD_OBJS),$(O)/libwkdd.a) \
	     $(O)/libconf.a $(O)/libkeystore.a
PKGS_ALL   = $(sort $(WKDD_PKGS) $(ADMIN_PKGS))

UNIT_BINS  = $(patsubst tests/unit/%.c,$(O)/tests/%,$(wildcard tests/unit/t_*.c))
FUZZ_NAMES = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS  = $(FUZZ_NAMES:%=$(O)/tests/%)

all: $(O)/wkdd $(O)/wkdctl

# Made afresh: "ar r" into an old archive keeps members no longer listed
# (as conf.o was in libwkdd.a).
$(O)/libkeystore.a: $(KS_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^
$(O)/libconf.a: $(CONF_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^
$(O)/libwkdd.a: $(WKDD_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^
$(O)/libadmin.a: $(ADMIN_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/wkdd: $(O)/obj/wkdd/main.o $(O)/libwkdd.a $(O)/libconf.a \
    $(O)/libkeystore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(WKDD_PKGS))

# Not libwkdd.a: wkdctl shares only conf.c with the daemon.
$(O)/wkdctl: $(O)/obj/admin/wkdctl.o $(O)/libadmin.a $(O)/libconf.a \
    $(O)/libkeystore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(ADMIN_PKGS)) -lunistring -lresolv

$(O)/obj/keystore/%.o: keystore/%.c keystore/keystore.h keystore/extern.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(call pc_cflags,$(KS_PKGS)) $(KSFLAGS) -c -o $@ $<

# The keystore once more with KSFLAGS=-DKS_FAULTS (its fault-injection
# hook), for t_faults alone.
KS_FAULT_OBJS = $(patsubst %.c,$(O)/obj-faults/%.o,$(wildcard keystore/*.c))
$(O)/obj-faults/keystore/%.o: keystore/%.c keystore/keystore.h keystore/extern.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(call pc_cflags,$(KS_PKGS)) -DKS_FAULTS \
	    -c -o $@ $<
$(O)/libkeystore-faults.a: $(KS_FAULT_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^
$(O)/tests/t_faults: tests/unit/t_faults.c tests/tap.h \
    $(O)/libkeystore-faults.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DKS_FAULTS -Itests $(CFLAGS) \
	    $(call pc_cflags,$(KS_PKGS)) -o $@ $< $(O)/libkeystore-faults.a \
	    $(LDFLAGS) $(call pc_libs,$(KS_PKGS))

$(O)/obj/wkdd/%.o: wkdd/%.c $(wildcard wkdd/*.h) keystore/keystore.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(call pc_cflags,$(WKDD_PKGS)) -c -o $@ $<

$(O)/obj/admin/%.o: admin/%.c $(wildcard admin/*.h) wkdd/conf.h wkdd/report.h \
    keystore/keystore.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iadmin $(CFLAGS) $(call pc_cflags,$(ADMIN_PKGS)) -c -o $@ $<

# The programs that print it are rebuilt when the version changes.
$(O)/obj/wkdd/main.o $(O)/obj/admin/wkdctl.o: VERSION

# One program per module; it links whatever it uses from the libraries.
$(O)/tests/t_%: tests/unit/t_%.c tests/tap.h tests/oldfmt.h $(LIBS_ALL)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iadmin -Itests $(CFLAGS) \
	    $(call pc_cflags,$(PKGS_ALL)) -o $@ $< $(LIBS_ALL) $(LDFLAGS) \
	    $(call pc_libs,$(PKGS_ALL)) -lunistring -lresolv

# Fuzz targets: `make test` links them with tests/fuzz/driver.c, which
# replays tests/fuzz/corpus/NAME/*; `make fuzz` links them with libFuzzer.
$(O)/tests/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/driver.c $(LIBS_ALL)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iadmin $(CFLAGS) $(call pc_cflags,$(PKGS_ALL)) -o $@ \
	    $< tests/fuzz/driver.c $(LIBS_ALL) $(LDFLAGS) \
	    $(call pc_libs,$(PKGS_ALL)) -lunistring -lresolv

$(O)/tests/fuzz_%-lf: tests/fuzz/fuzz_%.c $(LIBS_ALL)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iadmin $(CFLAGS) -fsanitize=fuzzer \
	    $(call pc_cflags,$(PKGS_ALL)) -o $@ $< $(LIBS_ALL) $(LDFLAGS) \
	    $(call pc_libs,$(PKGS_ALL)) -lunistring -lresolv

FUZZTIME ?= 60
fuzz: test-deps
	$(MAKE) O=build-fuzz CC=clang SANITIZE=address,undefined \
	    XCFLAGS=-fsanitize=fuzzer-no-link $(FUZZ_NAMES:%=build-fuzz/tests/%-lf)
	@set -e; for t in $(FUZZ_NAMES); do \
		mkdir -p build-fuzz/corpus/$$t; \
		build-fuzz/tests/$$t-lf -max_total_time=$(FUZZTIME) \
		    build-fuzz/corpus/$$t tests/fuzz/corpus/$$t; \
	done

# The store generator of make bench and tests/integ/t_scale.sh, gen, uses
# keystore.h only, like the daemon;
# bench/split: a keyring, a file per key (for gpg-wks-client).
$(O)/bench/%: bench/%.c keystore/keystore.h $(O)/libkeystore.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(call pc_cflags,$(KS_PKGS)) -o $@ $< \
	    $(O)/libkeystore.a $(LDFLAGS) $(call pc_libs,$(KS_PKGS))

# bench/noresume.so: wrk without TLS resumption (bench/serve.sh).
$(O)/bench/noresume.so: bench/noresume.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -o $@ $< -ldl

test-bins: all $(UNIT_BINS) $(FUZZ_BINS) $(O)/bench/gen \
	   $(O)/bench/split

deps:
	@scripts/deps build

test-deps:
	@scripts/deps test

# The test command of README.md.  SANITIZE=address,undefined works here too.
test: test-deps
	@$(MAKE) --no-print-directory test-bins
	@O=$(O) tests/run

# Benchmarks (bench/run): BENCH_N, BENCH_DIR, BENCH_KEEP, BENCH_WKS; the
# figures go to stdout and, as markdown, to $(O)/bench/results.md.
BENCH_N	?= 1000 100000 1000000 10000000
bench:
	@scripts/deps bench
	@$(MAKE) --no-print-directory all $(O)/bench/gen $(O)/bench/split \
	    $(O)/bench/noresume.so $(O)/tests/t_pgpfast
	@O=$(O) BENCH_N="$(BENCH_N)" bench/run

run: deps
	@$(MAKE) --no-print-directory all
	@exec env O=$(O) scripts/demo

# Unit tests under valgrind (memcheck): any error or definite leak fails.
valgrind: test-bins
	@set -e; for t in $(UNIT_BINS); do \
		echo "valgrind $$t"; \
		valgrind -q --error-exitcode=99 --leak-check=full \
		    --errors-for-leak-kinds=definite \
		    --child-silent-after-fork=yes $$t > /dev/null; \
	done
	@echo "valgrind: ok"

lint:
	@scripts/lint

# The installed layout, the Debian package's with PREFIX=/usr
# UNITDIR=/lib/systemd/system (debian/rules): programs, man pages, the
# www page, /etc/wkdd/wkdd.conf (not replaced if there), the systemd unit,
# the _wkdd user (sysusers.d), /var/lib/wkdd and /run/wkdd (tmpfiles.d)
# and the certbot deploy hook.  DESTDIR is honoured; without it, the user
# and the directories are made at once (systemd-sysusers, -tmpfiles).
SBINDIR	?= $(PREFIX)/sbin
DATADIR	?= $(PREFIX)/share/wkdd
LIBEXECDIR ?= $(PREFIX)/libexec/wkdd
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
# wkdd.conf.example, every line kept, with this layout's pidfile, user
# and www switched on; the unit and the hook with this layout's paths.
INSTALL_SED = -e 's|/usr/sbin/|$(SBINDIR)/|g' \
	-e 's|/etc/wkdd/|$(SYSCONFDIR)/wkdd/|g' \
	-e 's|/usr/libexec/wkdd/|$(LIBEXECDIR)/|g'
CONF_SED = -e '1s|.*|\# $(SYSCONFDIR)/wkdd/wkdd.conf: every directive of wkdd.conf(5), with its default,|' \
	-e '2s|^|\# but for pidfile, user and www, set for this system (make install).\n|' \
	-e 's|^\#pidfile\(\t*\)/run/wkdd\.pid$$|pidfile\1/run/wkdd/wkdd.pid|' \
	-e 's|^\#user\(\t*\)_wkdd$$|user\1_wkdd|' \
	-e 's|^\#www\(\t*\)/usr/local/share/wkdd/www$$|www\1$(DATADIR)/www|' \
	-e "s|--deploy-hook 'kill -HUP \$$(cat /run/wkdd.pid)'|--deploy-hook $(LIBEXECDIR)/certbot-deploy-hook|"

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR)/www \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SYSCONFDIR)/wkdd $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
	    $(DESTDIR)$(LIBEXECDIR)
	install -m 755 $(O)/wkdd $(O)/wkdctl $(DESTDIR)$(SBINDIR)/
	install -m 644 www/index.html www/status.html www/style.css www/app.js \
	    $(DESTDIR)$(DATADIR)/www/
	install -m 644 wkdd.conf.example $(DESTDIR)$(DATADIR)/
	install -m 644 wkdd/wkdd.8 admin/wkdctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 wkdd/wkdd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	sed $(CONF_SED) wkdd.conf.example > $(O)/wkdd.conf
	@for d in pidfile user www; do \
		grep -q "^$$d	" $(O)/wkdd.conf || { echo "install:" \
		    "no $$d line made: see CONF_SED and wkdd.conf.example" >&2; \
		    exit 1; }; \
	done
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/wkdd/wkdd.conf ]; then \
		echo "install: $(DESTDIR)$(SYSCONFDIR)/wkdd/wkdd.conf kept" \
		    "(the new one: $(O)/wkdd.conf)"; \
	else \
		echo install -m 644 $(O)/wkdd.conf \
		    $(DESTDIR)$(SYSCONFDIR)/wkdd/wkdd.conf; \
		install -m 644 $(O)/wkdd.conf \
		    $(DESTDIR)$(SYSCONFDIR)/wkdd/wkdd.conf; \
	fi
	sed $(INSTALL_SED) dist/wkdd.service > $(O)/wkdd.service
	install -m 644 $(O)/wkdd.service $(DESTDIR)$(UNITDIR)/wkdd.service
	install -m 644 dist/sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/wkdd.conf
	install -m 644 dist/tmpfiles.conf $(DESTDIR)$(TMPFILESDIR)/wkdd.conf
	sed $(INSTALL_SED) dist/wkdctl-serve.service > $(O)/wkdctl-serve.service
	install -m 644 $(O)/wkdctl-serve.service \
	    $(DESTDIR)$(UNITDIR)/wkdctl-serve.service
	sed $(INSTALL_SED) dist/wkdctl-check.service > $(O)/wkdctl-check.service
	install -m 644 $(O)/wkdctl-check.service \
	    $(DESTDIR)$(UNITDIR)/wkdctl-check.service
	install -m 644 dist/wkdctl-check.timer \
	    $(DESTDIR)$(UNITDIR)/wkdctl-check.timer
	install -m 644 dist/wkdctl-serve.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/wkdctl-serve.conf
	install -m 644 dist/wkdctl-serve.tmpfiles \
	    $(DESTDIR)$(TMPFILESDIR)/wkdctl-serve.conf
	sed $(INSTALL_SED) dist/certbot-deploy-hook > $(O)/certbot-deploy-hook
	install -m 755 $(O)/certbot-deploy-hook $(DESTDIR)$(LIBEXECDIR)/
	@if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers >/dev/null; \
	then \
		echo systemd-sysusers $(SYSUSERSDIR)/wkdd.conf \
		    $(SYSUSERSDIR)/wkdctl-serve.conf; \
		systemd-sysusers $(SYSUSERSDIR)/wkdd.conf \
		    $(SYSUSERSDIR)/wkdctl-serve.conf && \
		echo systemd-tmpfiles --create $(TMPFILESDIR)/wkdd.conf \
		    $(TMPFILESDIR)/wkdctl-serve.conf && \
		systemd-tmpfiles --create $(TMPFILESDIR)/wkdd.conf \
		    $(TMPFILESDIR)/wkdctl-serve.conf; \
	fi

# Leaves /etc/wkdd, the store and the _wkdd user.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/wkdd $(DESTDIR)$(SBINDIR)/wkdctl
	rm -f $(DESTDIR)$(MANDIR)/man8/wkdd.8 $(DESTDIR)$(MANDIR)/man8/wkdctl.8
	rm -f $(DESTDIR)$(MANDIR)/man5/wkdd.conf.5
	rm -f $(DESTDIR)$(UNITDIR)/wkdd.service \
	    $(DESTDIR)$(SYSUSERSDIR)/wkdd.conf $(DESTDIR)$(TMPFILESDIR)/wkdd.conf
	rm -f $(DESTDIR)$(UNITDIR)/wkdctl-check.service \
	    $(DESTDIR)$(UNITDIR)/wkdctl-check.timer
	rm -f $(DESTDIR)$(UNITDIR)/wkdctl-serve.service \
	    $(DESTDIR)$(SYSUSERSDIR)/wkdctl-serve.conf \
	    $(DESTDIR)$(TMPFILESDIR)/wkdctl-serve.conf
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(LIBEXECDIR)

clean:
	rm -rf build build-san build-fuzz

.PHONY: all test test-bins deps test-deps run lint fuzz valgrind install \
	uninstall clean bench
