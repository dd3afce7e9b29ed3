# trueup - Makefile.  Plain make; knobs are ?= so the environment or the
# command line can override them:
#   make                        build ./trueup (warnings are errors)
#   make test                   build and run every test (unit, CLI, fixtures)
#   make SANITIZE=address,undefined test   the same under ASan+UBSan
#   make deps                   install the Debian packages the build needs
#   make install PREFIX=/usr/local DESTDIR=...
#   make bench                  run the benchmarks under bench/ (not in CI)
#   make fuzz                   fuzz the cron parser for FUZZ_SECONDS (clang; not in CI)

VERSION    ?= 0.1.0
CC         ?= cc
PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= $(PREFIX)/etc
DESTDIR    ?=
CFLAGS     ?= -O2 -g
WERROR     ?= -Werror
SANITIZE   ?=

PKGS := sqlite3 libcurl jansson libuv
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# libcsv ships no .pc file on Debian.
CSV_LIBS   ?= -lcsv

ifneq ($(SANITIZE),)
BUILD      ?= build/sanitize
SAN_FLAGS  := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD      ?= build/default
SAN_FLAGS  :=
endif

WARN      := -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wformat=2 -Wno-format-nonliteral -Wvla -Wpointer-arith
ALL_CFLAGS := -std=c11 -D_DEFAULT_SOURCE $(WARN) $(CFLAGS) $(SAN_FLAGS) $(PKG_CFLAGS) \
             -Isrc -I$(BUILD) -DTRUEUP_VERSION='"$(VERSION)"' \
             -DTRUEUP_SYSCONFDIR='"$(SYSCONFDIR)/trueup"' -MMD -MP
ALL_LDFLAGS := $(LDFLAGS) $(SAN_FLAGS)
LIBS       := $(PKG_LIBS) $(CSV_LIBS) -lm

LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/src/%.o) $(BUILD)/sql_embed.o $(BUILD)/rules_embed.o
MAIN_OBJ := $(BUILD)/src/main.o
SQL      := $(sort $(wildcard src/sql/*.sql))
RULES    := $(sort $(wildcard src/rules/*.sql))
TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all test check deps install uninstall clean bench demo valgrind fuzz
all: $(BUILD)/trueup
ifeq ($(SANITIZE),)
all: trueup
trueup: $(BUILD)/trueup
	cp $< $@
endif

$(BUILD)/trueup: $(MAIN_OBJ) $(BUILD)/libtrueup.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/libtrueup.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Migrations are .sql files compiled into the binary, so an installed trueup
# never depends on where its source tree was.
$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra $(WERROR) -O1 -o $@ $<

$(BUILD)/sql_embed.c: $(BUILD)/tools/embed $(SQL)
	$(BUILD)/tools/embed $(SQL) > $@.tmp && mv $@.tmp $@

$(BUILD)/sql_embed.o: $(BUILD)/sql_embed.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The drift rules of `trueup reconcile` (src/rules/*.sql, one query per
# rule, plus the _*.sql preludes that link Stripe to the platform) are
# compiled in the same way: they are part of the contract and of the
# schema version they query.
$(BUILD)/rules_embed.c: $(BUILD)/tools/embed $(RULES)
	$(BUILD)/tools/embed -n embedded_rules $(RULES) > $@.tmp && mv $@.tmp $@

$(BUILD)/rules_embed.o: $(BUILD)/rules_embed.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libtrueup.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libtrueup.a $(ALL_LDFLAGS) $(LIBS)

# The fake Stripe (tests/fakestripe/): a loopback HTTP server on libuv that
# the pull tests and benchmarks run against.
FAKE_SRC := $(wildcard tests/fakestripe/*.c)
FAKE_BIN := $(if $(FAKE_SRC),$(BUILD)/fakestripe)
$(BUILD)/fakestripe: $(FAKE_SRC) $(wildcard tests/fakestripe/*.h)
	@mkdir -p $(@D)
	$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) -Itests/fakestripe -o $@ $(FAKE_SRC) $(ALL_LDFLAGS) $(LIBS)

test check: $(BUILD)/trueup $(TEST_BIN) $(FAKE_BIN)
	BUILD=$(BUILD) TRUEUP=$(BUILD)/trueup FAKESTRIPE=$(FAKE_BIN) bash tests/run.sh

# make bench: the benchmarks of bench/ (see bench/README.md); not part of test.
bench: all $(FAKE_BIN)
	BUILD=$(BUILD) FAKESTRIPE=$(FAKE_BIN) bash bench/run.sh

# make deps: install (only) the missing Debian packages the build and the
# tests need.  Needs root or sudo; does nothing when all are present.
DEB_PKGS := build-essential pkg-config libsqlite3-dev libcurl4-openssl-dev \
            libjansson-dev libcsv-dev libuv1-dev sqlite3 tzdata valgrind ca-certificates \
            curl jq util-linux time python3
deps:
	@bash tools/deps.sh $(DEB_PKGS)

demo: all $(FAKE_BIN)
	FAKESTRIPE=$(FAKE_BIN) bash tools/demo.sh

# Installed layout: the binary, the man page, and under $(SYSCONFDIR)/trueup
# the config with its catalogues, jobs and report definitions; the database
# and reports go under $(LOCALSTATEDIR)/lib/trueup.  The installed
# trueup.json is the repository's with those paths made absolute.
LOCALSTATEDIR ?= /var
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSCONFDIR)/trueup \
	           $(DESTDIR)$(LOCALSTATEDIR)/lib/trueup
	install -m 0755 $(BUILD)/trueup $(DESTDIR)$(BINDIR)/trueup
	install -m 0644 man/trueup.1 $(DESTDIR)$(MANDIR)/man1/trueup.1
	cp -R config/catalogues jobs reports $(DESTDIR)$(SYSCONFDIR)/trueup/
	sed -e 's|"\.\./var/trueup\.db"|"$(LOCALSTATEDIR)/lib/trueup/trueup.db"|' \
	    -e 's|"\.\./out/reports"|"$(LOCALSTATEDIR)/lib/trueup/reports"|' \
	    -e 's|"\.\./reports"|"reports"|' -e 's|"\.\./jobs"|"jobs"|' \
	    config/trueup.json > $(DESTDIR)$(SYSCONFDIR)/trueup/trueup.json

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/trueup $(DESTDIR)$(MANDIR)/man1/trueup.1
	@echo "left $(SYSCONFDIR)/trueup and $(LOCALSTATEDIR)/lib/trueup in place (config and data)"

clean:
	rm -rf build trueup tests/tmp

-include $(wildcard $(BUILD)/src/*.d $(BUILD)/tests/*.d)

# Unit tests under valgrind: any leak or memory error fails.
valgrind: $(TEST_BIN) $(BUILD)/trueup $(FAKE_BIN)
	@set -e; for t in $(TEST_BIN); do \
		echo "== valgrind $$t"; \
		FAKESTRIPE=$(FAKE_BIN) valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
			--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
			$$t >/dev/null; \
	done; echo "valgrind: no errors, no leaks"

# make fuzz: the libFuzzer harnesses, built with clang and ASan+UBSan, each
# run for FUZZ_SECONDS from its seeds (new inputs go to build/fuzz/):
#   fuzz_cron         cron_parse() and cron_next()        seeds tests/fuzz/corpus_cron
#   fuzz_stripe_page  a Stripe page/object -> rows -> an in-memory snapshot
#                     (first byte picks resource and entry point)
#                                                          seeds tests/fuzz/corpus/stripe_page
# Not part of `make test`.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_FLAGS   := -std=c11 -D_DEFAULT_SOURCE -g -O1 -Isrc -I$(BUILD) \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
build/fuzz/fuzz_cron: tests/fuzz/fuzz_cron.c src/cron.c src/tz.c src/err.c src/cron.h src/tz.h src/err.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_cron.c src/cron.c src/tz.c src/err.c

FUZZ_PAGE_SRC := tests/fuzz/fuzz_stripe_page.c src/stripe_rows.c src/jdoc.c src/db_snapshot.c src/sha256.c src/db.c src/err.c
build/fuzz/fuzz_stripe_page: $(FUZZ_PAGE_SRC) $(BUILD)/sql_embed.c src/stripe_rows.h src/db_snapshot.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_PAGE_SRC) $(BUILD)/sql_embed.c -ljansson -lsqlite3

fuzz: build/fuzz/fuzz_cron build/fuzz/fuzz_stripe_page
	@mkdir -p build/fuzz/corpus_cron_new build/fuzz/corpus_stripe_page
	build/fuzz/fuzz_cron -max_total_time=$(FUZZ_SECONDS) -timeout=5 -max_len=200 \
		-print_final_stats=1 build/fuzz/corpus_cron_new tests/fuzz/corpus_cron
	build/fuzz/fuzz_stripe_page -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=65536 \
		-rss_limit_mb=2048 -print_final_stats=1 build/fuzz/corpus_stripe_page \
		tests/fuzz/corpus/stripe_page
