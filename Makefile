# ai-tools - a Unix toolchain for retrieval-augmented generation.
#
# GNU make.  Everything is built under $(BUILD), so a sanitizer build
# (build-san) or a second developer's build can sit beside the normal one.
# New sources need no edit here: lib/*/*.c make the library, cmd/ai-*.c
# the tools, tests/unit/*.c the unit tests, tests/progs/*.c test helpers.

PREFIX	= /usr/local
BINDIR	= $(PREFIX)/bin
MANDIR	= $(PREFIX)/share/man
DATADIR	= $(PREFIX)/share/ai-tools
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  = $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR = $(PREFIX)/share/fish/vendor_completions.d

BUILD	= build
CC	= cc
CFLAGS	= -O2 -g
CPPFLAGS = -D_GNU_SOURCE
LDFLAGS	= -Wl,--as-needed
WARN	= -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	  -Wno-overlength-strings -Werror
PKGS	= jansson sqlite3 libutf8proc libpcre2-8
SAN	= -fsanitize=address,undefined -fno-sanitize-recover=all
PROVE	= prove

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libcurl 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS  = $(WARN) $(CFLAGS) $(CPPFLAGS) $(PKG_CFLAGS) \
	      -DAI_DATADIR='"$(DATADIR)"' -Ilib
LDLIBS	= $(PKG_LIBS) -lm -lpthread -ldl

LIBSRC	:= $(sort $(wildcard lib/*/*.c))
LIBOBJ	:= $(LIBSRC:%.c=$(BUILD)/%.o)
LIBA	:= $(BUILD)/libaitools.a
TOOLS	:= $(sort $(notdir $(basename $(wildcard cmd/ai-*.c))))
BIN	:= $(TOOLS:%=$(BUILD)/bin/%)
UNIT	:= $(patsubst tests/unit/%.c,$(BUILD)/tests/%.t,$(sort $(wildcard tests/unit/*.c)))
PROGS	:= $(patsubst tests/progs/%.c,$(BUILD)/tests/%,$(sort $(wildcard tests/progs/*.c)))
MAN1	:= $(TOOLS:%=man/%.1)
CLITESTS := $(sort $(wildcard tests/cli/t*.sh))
# Fuzz targets: tests/fuzz/NAME.c.  `make check` builds each with a plain
# main() that replays tests/fuzz/corpus/NAME (tests/cli/t1080); `make fuzz`
# builds them with libFuzzer in build-fuzz and runs each FUZZ_SECONDS.
FUZZNAMES := $(sort $(notdir $(basename $(filter-out tests/fuzz/driver.c \
	     tests/fuzz/util.c,$(wildcard tests/fuzz/*.c)))))
FUZZREPLAY := $(FUZZNAMES:%=$(BUILD)/tests/fuzz-%)
FUZZ_SECONDS = 60
FUZZ_CFLAGS = -O1 -g -fno-omit-frame-pointer \
	      -fsanitize=fuzzer-no-link,address,undefined \
	      -fno-sanitize-recover=all

# Debian packages the build and the tests need (make deps installs them).
DEBS	= gcc make pkg-config libjansson-dev libcurl4-openssl-dev \
	  libsqlite3-dev sqlite3 perl mandoc bash zsh fish ca-certificates parallel jq \
	  libutf8proc-dev libpcre2-dev prometheus prometheus-node-exporter \
	  nghttp2-proxy openssl
# What `make fuzz` needs besides DEBS (clang, libFuzzer, llvm-cov).
FUZZ_DEBS = clang libclang-rt-14-dev llvm

.PHONY: all check check-sanitize clean install uninstall deps demo bench \
	fuzz fuzz-build golden-update completions lint-man
.SUFFIXES:
.SECONDARY:

all: $(BIN)

$(BUILD)/%.o: %.c $(wildcard lib/*/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBA): $(LIBOBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $(LIBOBJ)

$(BUILD)/bin/%: $(BUILD)/cmd/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

$(BUILD)/tests/%.t: $(BUILD)/tests/unit/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/progs/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

$(BUILD)/tests/fuzz/%.o: tests/fuzz/%.c tests/fuzz/fuzz.h $(wildcard lib/*/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/fuzz-%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/driver.o \
	    $(BUILD)/tests/fuzz/util.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/util.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZNAMES:%=$(BUILD)/fuzz/%)

check: all $(UNIT) $(PROGS) $(FUZZREPLAY)
	@sh .ci/deps --if-missing $(DEBS)
	AI_BUILD=$(BUILD) $(PROVE) -j2 -e '' $(UNIT) $(CLITESTS)

check-sanitize:
	$(MAKE) BUILD=build-san CFLAGS='-O1 -g -fno-omit-frame-pointer $(SAN)' \
	    LDFLAGS='$(SAN)' check

golden-update: all
	AI_BUILD=$(BUILD) AI_GOLDEN_UPDATE=1 sh tests/cli/t0100-golden.sh >/dev/null

completions: all
	AI_BUILD=$(BUILD) sh completions/gen.sh

lint-man:
	mandoc -Tlint -W warning man/*.[17]

deps:
	@sh .ci/deps $(DEBS)

demo:
	@sh .ci/deps --if-missing $(DEBS)
	$(MAKE) all
	AI_BUILD=$(BUILD) sh examples/demo.sh

bench: all
	AI_BUILD=$(BUILD) sh bench/run

fuzz:
	@sh .ci/deps --if-missing $(DEBS) $(FUZZ_DEBS)
	$(MAKE) BUILD=build-fuzz CC=clang CFLAGS='$(FUZZ_CFLAGS)' \
	    LDFLAGS='-fsanitize=address,undefined' fuzz-build
	sh tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZNAMES)

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DATADIR) \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	cp -f $(BIN) $(DESTDIR)$(BINDIR)/
	cp -f $(wildcard $(MAN1)) $(DESTDIR)$(MANDIR)/man1/
	cp -f man/ai-tools.7 $(DESTDIR)$(MANDIR)/man7/
	for t in $(TOOLS); do \
	    cp -f completions/bash/$$t $(DESTDIR)$(BASHCOMPDIR)/$$t; \
	    cp -f completions/zsh/_$$t $(DESTDIR)$(ZSHCOMPDIR)/_$$t; \
	    cp -f completions/fish/$$t.fish $(DESTDIR)$(FISHCOMPDIR)/$$t.fish; \
	done
	if [ -d data ]; then cp -Rf data/. $(DESTDIR)$(DATADIR)/; fi
	mkdir -p $(DESTDIR)$(DATADIR)/examples
	cp -Rf examples/. $(DESTDIR)$(DATADIR)/examples/

uninstall:
	for t in $(TOOLS); do \
	    rm -f $(DESTDIR)$(BINDIR)/$$t $(DESTDIR)$(MANDIR)/man1/$$t.1 \
	        $(DESTDIR)$(BASHCOMPDIR)/$$t $(DESTDIR)$(ZSHCOMPDIR)/_$$t \
	        $(DESTDIR)$(FISHCOMPDIR)/$$t.fish; \
	done
	rm -f $(DESTDIR)$(MANDIR)/man7/ai-tools.7
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build build-san build-*
