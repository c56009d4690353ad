# stallwatch - find what freezes an event loop.
#
#   make            build build/libstallwatch.so and build/stallwatch
#   make check      install missing Debian packages, build, run every test
#   make check-consumers  the exports read by promtool, Prometheus, go tool pprof
#   make demo       the same set-up, then catch a real stall in a bundled service
#   make deps       only install missing Debian packages (apt-get as root)
#   make install    PREFIX=/usr/local DESTDIR= (also the man pages in doc/)
#   make check-hosts  CPython's own regression tests plain and under the shim
#                     (HOSTS_FORM=full: 3.9-3.13; ci: one interpreter; short)
#   make bench | stress | fuzz | check-sanitize   see README.md

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib/stallwatch
MANDIR ?= $(PREFIX)/share/man
CC ?= cc
B := build

WARN := -Wall -Wextra -Werror
OPT ?= -O2 -g
# Extra link flags for the command and the test runner (check-sanitize).
LDFLAGS ?=
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) $(OPT) -Iinclude

# The shim lives inside other programs: hidden symbols except the wrappers,
# initial-exec TLS (no malloc on first access), frame pointers for cheap
# unwinding of our own frames.  libunwind is dlopen'ed, not linked (stack.h).
SHIM_CFLAGS := $(BASE_CFLAGS) -fPIC -fvisibility=hidden -ftls-model=initial-exec \
	-fno-omit-frame-pointer -fno-strict-aliasing
SHIM_LDFLAGS := -shared -Wl,-z,now -Wl,-z,nodelete -Wl,--no-undefined
SHIM_LIBS := -ldl -lpthread

ANALYZER_CFLAGS = $(BASE_CFLAGS) $(shell pkg-config --cflags libdw 2>/dev/null)
ANALYZER_LIBS = $(shell pkg-config --libs libdw 2>/dev/null || echo -ldw) -lelf -lm -lstdc++
# top (ncurses), metrics --listen (libmicrohttpd), report --format pprof
# (protobuf-c, zlib).  pprof's profile.proto is compiled by protoc-c at
# build time into $(B)/gen.
FLEET_PKGS := ncursesw libmicrohttpd libprotobuf-c zlib
ANALYZER_CFLAGS += -I$(B)/gen $(shell pkg-config --cflags $(FLEET_PKGS) 2>/dev/null)
ANALYZER_LIBS += $(shell pkg-config --libs $(FLEET_PKGS) 2>/dev/null || \
	echo -lncursesw -ltinfo -lmicrohttpd -lprotobuf-c -lz)
PB_GEN := $(B)/gen/profile.pb-c.c $(B)/gen/profile.pb-c.h
PB_OBJ := $(B)/gen/profile.pb-c.o

CHECK_CFLAGS = $(shell pkg-config --cflags check jansson 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check jansson 2>/dev/null || echo -lcheck -ljansson)

SHIM_SRC := $(sort $(wildcard preload/*.c))
SHIM_OBJ := $(SHIM_SRC:%.c=$(B)/%.o)
ANALYZER_SRC := $(sort $(wildcard analyzer/*.c))
# The HTML page's style sheet and script are real files, embedded at build
# time as byte arrays (html_page.h) by xxd -i.
HTML_ASSETS := analyzer/html/page.css analyzer/html/page.js
ANALYZER_OBJ := $(ANALYZER_SRC:%.c=$(B)/%.o) $(B)/analyzer/html_assets.o $(PB_OBJ)
ANALYZER_LIB_OBJ := $(filter-out $(B)/analyzer/main.o,$(ANALYZER_OBJ))
TEST_SRC := $(sort $(wildcard tests/*.c tests/unit/*.c tests/integration/*.c))
TEST_OBJ := $(TEST_SRC:%.c=$(B)/%.o)
PROG_C := $(sort $(wildcard tests/progs/*.c))
PROG_CXX := $(sort $(wildcard tests/progs/*.cc))
# Man pages: doc/NAME.N goes to $(MANDIR)/manN/ (N is 1, 5 or 7).
MAN_PAGES := $(sort $(wildcard doc/*.1 doc/*.5 doc/*.7))
PROGS := $(PROG_C:tests/progs/%.c=$(B)/tests/progs/%) $(PROG_CXX:tests/progs/%.cc=$(B)/tests/progs/%)
# Shim modules with no side effects, linked into the unit tests.
SHIM_UNIT_OBJ := $(B)/tests/shim/settings.o

.PHONY: all check check-run check-consumers check-hosts demo deps deps-bench install \
	install-man uninstall clean bench stress fuzz check-sanitize format
all: $(B)/libstallwatch.so $(B)/stallwatch

$(B)/libstallwatch.so: $(SHIM_OBJ)
	$(CC) $(SHIM_LDFLAGS) -o $@ $^ $(SHIM_LIBS)

$(B)/stallwatch: $(ANALYZER_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(ANALYZER_LIBS)

# protoc-c names its outputs after the input's path: run it in analyzer/.
$(PB_GEN) &: analyzer/profile.proto
	@mkdir -p $(B)/gen
	cd analyzer && protoc-c --c_out=$(CURDIR)/$(B)/gen profile.proto

$(PB_OBJ): $(PB_GEN)
	$(CC) $(BASE_CFLAGS) $(shell pkg-config --cflags libprotobuf-c 2>/dev/null) -I$(B)/gen -c -o $@ $(B)/gen/profile.pb-c.c

$(B)/analyzer/out_pprof.o $(B)/tests/unit/test_viewer_exports.o \
	$(B)/tests/integration/test_profile_exports.o: $(PB_GEN)

$(B)/preload/%.o: preload/%.c preload/*.h include/*.h
	@mkdir -p $(@D)
	$(CC) $(SHIM_CFLAGS) -c -o $@ $<

$(B)/analyzer/%.o: analyzer/%.c analyzer/*.h include/*.h
	@mkdir -p $(@D)
	$(CC) $(ANALYZER_CFLAGS) -c -o $@ $<

$(B)/analyzer/html_assets.c: $(HTML_ASSETS)
	@mkdir -p $(@D)
	@{ echo '/* generated from $(HTML_ASSETS) by xxd -i: do not edit */'; \
	  for f in $(HTML_ASSETS); do xxd -i $$f; done; } | \
	  sed 's/^unsigned char analyzer_html_page_\([a-z]*\)\[\]/const unsigned char sw_html_\1[]/; s/^unsigned int analyzer_html_page_\([a-z]*\)_len/const unsigned int sw_html_\1_len/' \
	  > $@.tmp && mv $@.tmp $@

$(B)/analyzer/html_assets.o: $(B)/analyzer/html_assets.c
	$(CC) $(ANALYZER_CFLAGS) -c -o $@ $<

$(B)/tests/shim/%.o: preload/%.c preload/*.h include/*.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -c -o $@ $<

$(B)/tests/%.o: tests/%.c tests/*.h tests/unit/*.h analyzer/*.h preload/*.h \
		include/*.h
	@mkdir -p $(@D)
	$(CC) $(ANALYZER_CFLAGS) $(CHECK_CFLAGS) -I$(B)/tests -Wno-unused-parameter -c -o $@ $<

# Each test suite file defines `Suite *sw_suite_NAME(void)`; the runner
# learns the list from this generated header, so adding a file is enough.
$(B)/tests/suites.h: $(TEST_SRC)
	@mkdir -p $(@D)
	@grep -ho '^Suite \*sw_suite_[a-z0-9_]*' $(TEST_SRC) | \
		sed 's/^Suite \*sw_suite_\(.*\)/SW_SUITE(\1)/' > $@.tmp && mv $@.tmp $@

$(B)/tests/runner.o: $(B)/tests/suites.h
$(B)/tests/runner: $(TEST_OBJ) $(ANALYZER_LIB_OBJ) $(SHIM_UNIT_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(ANALYZER_LIBS) -lpthread

# Test programs: small C loops built with frame pointers and debug info so
# their stacks and lines are exact.
$(B)/tests/progs/%: tests/progs/%.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O0 -g -fno-omit-frame-pointer -Wall -Wextra -Werror \
		-o $@ $< -ldl -lpthread
$(B)/tests/progs/%: tests/progs/%.cc
	@mkdir -p $(@D)
	$(CXX) -O0 -g -fno-omit-frame-pointer -Wall -Wextra -Werror -o $@ $< -ldl -lpthread

deps:
	@scripts/deps.sh test

# check installs what is missing first, then re-enters make so that
# pkg-config runs after the packages it asks about exist.
check: deps
	@$(MAKE) --no-print-directory check-run

check-run: all $(B)/tests/runner $(PROGS)
	@SW_ROOT=$(CURDIR) SW_BUILD=$(CURDIR)/$(B) $(B)/tests/runner

# Other people's test suites as a test tier (scripts/check-hosts.sh).
HOSTS_FORM ?= full
check-hosts: deps
	@$(MAKE) --no-print-directory all
	@HOSTS_SHIM=$(CURDIR)/$(B)/libstallwatch.so scripts/check-hosts.sh $(HOSTS_FORM)

# Checks against the real consumers of the exports (promtool, Prometheus,
# go tool pprof); installs them from Debian first (scripts/deps.sh consumers).
check-consumers:
	@scripts/deps.sh consumers
	@$(MAKE) --no-print-directory all $(PROGS)
	@SW_ROOT=$(CURDIR) SW_BUILD=$(CURDIR)/$(B) scripts/check-consumers.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)
	install -m 0755 $(B)/stallwatch $(DESTDIR)$(BINDIR)/stallwatch
	install -m 0644 $(B)/libstallwatch.so $(DESTDIR)$(LIBDIR)/libstallwatch.so
	@$(MAKE) --no-print-directory install-man

install-man:
	@for p in $(MAN_PAGES); do \
		d=$(DESTDIR)$(MANDIR)/man$${p##*.}; \
		echo "install -m 0644 $$p $$d/"; \
		install -d "$$d" && install -m 0644 "$$p" "$$d/" || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/stallwatch $(DESTDIR)$(LIBDIR)/libstallwatch.so
	@for p in $(MAN_PAGES); do \
		rm -f "$(DESTDIR)$(MANDIR)/man$${p##*.}/$${p##*/}"; \
	done

bench: deps-bench
	@$(MAKE) --no-print-directory all
	@scripts/bench/run.sh

deps-bench:
	@scripts/deps.sh bench

stress: deps
	@$(MAKE) --no-print-directory all $(PROGS)
	@SW_ROOT=$(CURDIR) SW_BUILD=$(CURDIR)/$(B) scripts/stress.sh long

fuzz:
	@scripts/deps.sh fuzz
	@scripts/fuzz.sh $(FUZZ_SECONDS)

check-sanitize: deps
	@scripts/check-sanitize.sh

format:
	clang-format -i preload/*.[ch] analyzer/*.[ch] include/*.h tests/*.[ch] \
		tests/*/*.c tests/unit/*.h

clean:
	rm -rf $(B)
