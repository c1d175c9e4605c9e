# portico: plain Makefile; libraries through pkg-config.
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
CC ?= cc
PKGS := libevent libevent_openssl libevent_pthreads libnghttp2 openssl libsystemd
LLHTTP_DIR ?= /usr/share/llhttp
LLHTTP_INC ?= /usr/share/include/llhttp

WARN := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -D_GNU_SOURCE $(WARN) -pthread -I. -Iproxy -Iupstream -Iconfig -Itls \
	-I$(LLHTTP_INC) $(EXTRA_CFLAGS)
LDFLAGS += -pthread $(EXTRA_LDFLAGS)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

# The daemon's modules, except main.c (so the tests can link them).
CONF_SRC := config/conf.c config/conf_lex.c config/conf_value.c \
	config/conf_directives.c
MODULES := $(CONF_SRC) tls/tls.c tls/cert.c tls/tickets.c \
	proxy/arena.c proxy/headers.c proxy/headers_resp.c proxy/log.c \
	proxy/sock.c proxy/ws.c proxy/tunnel.c proxy/pp.c \
	proxy/h1.c proxy/h1_server.c proxy/h1_response.c \
	proxy/h2_server.c proxy/h2_stream.c \
	proxy/h2_request.c proxy/h2_response.c proxy/h2_stall.c proxy/h2_mem.c \
	proxy/heap.c proxy/idle.c \
	proxy/route.c proxy/routing.c proxy/exchange.c \
	proxy/epoch.c proxy/ctx.c proxy/access.c \
	proxy/conn.c proxy/worker.c proxy/listeners.c proxy/daemon.c \
	upstream/backend.c upstream/backend_error.c upstream/pool.c \
	upstream/h1_client.c
LLHTTP_SRC := $(wildcard $(LLHTTP_DIR)/*.c)

O ?= build
MOD_OBJS := $(MODULES:%.c=$(O)/%.o)
LLHTTP_OBJS := $(LLHTTP_SRC:$(LLHTTP_DIR)/%.c=$(O)/llhttp/%.o)
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(UNIT_SRC:%.c=$(O)/%.o)
INTEG_SRC := $(wildcard tests/integration/*.c)
INTEG_OBJS := $(INTEG_SRC:%.c=$(O)/%.o)

BIN ?= portico
ORIGIN := $(O)/origin

.PHONY: all check unit integration asan demo deps install uninstall bench clean

all: $(BIN) $(ORIGIN)

$(BIN): $(O)/proxy/main.o $(MOD_OBJS) $(LLHTTP_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(ORIGIN): $(O)/tests/origin/origin.o $(O)/tests/origin/ws.o $(LLHTTP_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

# llhttp is Debian's generated C: compile it without our warning set.
$(O)/llhttp/%.o: $(LLHTTP_DIR)/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(filter-out -W%,$(CFLAGS)) -DLLHTTP_STRICT_MODE=1 -w -c -o $@ $<

$(O)/unit-tests: $(UNIT_OBJS) $(MOD_OBJS) $(LLHTTP_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

$(O)/integration-tests: $(INTEG_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

unit: $(O)/unit-tests
	$(O)/unit-tests

integration: $(BIN) $(ORIGIN) $(O)/integration-tests
	PORTICO=./$(BIN) ORIGIN=./$(ORIGIN) $(O)/integration-tests

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) integration
	tests/man_check.sh
	tests/install_check.sh
	tests/demo_check.sh

# Same suites under AddressSanitizer and UBSan, in a separate build tree.
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
asan: deps
	PORTICO_ASAN=1 $(MAKE) O=build-asan EXTRA_CFLAGS="$(ASAN_FLAGS)" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" \
		BIN=build-asan/portico unit integration

DEB_PKGS := build-essential pkg-config libevent-dev libssl-dev libnghttp2-dev \
	haproxy \
	node-llhttp libsystemd-dev check curl nghttp2-client nghttp2-proxy \
	nginx-light python3 python3-h2 python3-websockets chromium openssl \
	groff-base systemd
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y $$missing; \
	fi

demo: deps
	$(MAKE) all
	tests/origin/demo.sh

bench: deps
	$(MAKE) all
	tests/bench/run.sh
	tests/bench/ws.sh

# The unit's paths follow PREFIX and SYSCONFDIR; an existing
# portico.conf is never overwritten.
install: portico
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(SYSCONFDIR)/portico $(DESTDIR)$(UNITDIR)
	install -m 755 portico $(DESTDIR)$(PREFIX)/sbin/portico
	install -m 644 man/portico.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 man/portico.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	sed -e 's|/usr/local/sbin/portico|$(PREFIX)/sbin/portico|g' \
		-e 's|/etc/portico/|$(SYSCONFDIR)/portico/|g' \
		config/portico.service > $(DESTDIR)$(UNITDIR)/portico.service
	chmod 644 $(DESTDIR)$(UNITDIR)/portico.service
	install -m 644 config/portico.socket $(DESTDIR)$(UNITDIR)/
	[ -e $(DESTDIR)$(SYSCONFDIR)/portico/portico.conf ] || \
		install -m 644 config/portico.conf $(DESTDIR)$(SYSCONFDIR)/portico/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/portico \
		$(DESTDIR)$(PREFIX)/share/man/man8/portico.8 \
		$(DESTDIR)$(PREFIX)/share/man/man5/portico.conf.5 \
		$(DESTDIR)$(UNITDIR)/portico.service \
		$(DESTDIR)$(UNITDIR)/portico.socket

clean:
	rm -rf build build-asan portico

-include $(shell find $(O) -name '*.d' 2>/dev/null)

# The target/route parser: "make fuzz" runs it too (a rule of its own,
# so that the fuzz recipe below stays as it is).
.PHONY: fuzz-route
fuzz: fuzz-route
fuzz-route:
	@mkdir -p build/fuzz/route
	clang $(FUZZ_FLAGS) -fno-sanitize-recover=undefined \
		-o build/fuzz/fuzz_route tests/fuzz/fuzz_route.c \
		proxy/route.c proxy/headers.c proxy/arena.c $(PKG_LIBS)
	build/fuzz/fuzz_route -max_total_time=$(FUZZ_SECONDS) build/fuzz/route \
		tests/fuzz/corpus/route

# libFuzzer targets (clang), bounded: FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-Iproxy -Iconfig -Iupstream -Itls -I$(LLHTTP_INC)
.PHONY: fuzz
fuzz:
	@mkdir -p build/fuzz/h1 build/fuzz/conf build/fuzz/h2 build/fuzz/pp
	clang $(FUZZ_FLAGS) -DLLHTTP_STRICT_MODE=1 -o build/fuzz/fuzz_h1 \
		tests/fuzz/fuzz_h1.c proxy/h1.c proxy/headers.c proxy/arena.c proxy/log.c \
		$(LLHTTP_SRC) $(PKG_LIBS)
	clang $(FUZZ_FLAGS) -o build/fuzz/fuzz_conf tests/fuzz/fuzz_conf.c \
		$(CONF_SRC) $(PKG_LIBS)
	clang $(FUZZ_FLAGS) -o build/fuzz/fuzz_h2 tests/fuzz/fuzz_h2.c \
		proxy/h2_server.c proxy/h2_stream.c proxy/h2_response.c \
		proxy/h2_request.c proxy/h2_stall.c proxy/h2_mem.c \
		proxy/headers.c proxy/headers_resp.c \
		proxy/arena.c proxy/ws.c $(CONF_SRC) $(PKG_LIBS)
	build/fuzz/fuzz_h1 -max_total_time=$(FUZZ_SECONDS) build/fuzz/h1 tests/fuzz/corpus/h1
	build/fuzz/fuzz_conf -max_total_time=$(FUZZ_SECONDS) build/fuzz/conf tests/fuzz/corpus/conf
	build/fuzz/fuzz_h2 -max_total_time=$(FUZZ_SECONDS) build/fuzz/h2 tests/fuzz/corpus/h2
	clang $(FUZZ_FLAGS) -o build/fuzz/fuzz_pp tests/fuzz/fuzz_pp.c proxy/pp.c
	build/fuzz/fuzz_pp -max_total_time=$(FUZZ_SECONDS) build/fuzz/pp tests/fuzz/corpus/pp
