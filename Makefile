# kite: convenience wrappers around meson. `make run` and `make test` are
# the two commands of the README; both install what is missing first.

BUILD      ?= build
BUILD_TEST ?= build-test
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
BUILD_TLS13 ?= build-tls13
# make run TLS=3.6: kited on mbedTLS 3.6 LTS (the build-tls13 build).
TLS        ?=
PORT       ?= 7681
MESON_OPTS ?=
PY         := /usr/bin/python3

# Debian packages the build and the test suite need.
DEPS := gcc libc6-dev pkg-config debian-archive-keyring clang-format git meson ninja-build libuv1-dev libmbedtls-dev liblua5.4-dev \
        libjansson-dev zlib1g-dev ca-certificates curl python3 python3-websockets python3-h11 python3-wsproto \
        libnghttp2-dev nghttp2-client python3-h2 \
        libwebsockets-test-server libwebsockets-dev chromium openssl lua5.4 lua-luv civetweb \
        libsqlite3-dev lua-filesystem
# Extra packages for `make fuzz` and `make bench`.
FUZZ_DEPS  := clang libclang-rt-14-dev
# Extra packages for `make check-extra` (testssl.sh beside nginx).
EXTRA_DEPS := testssl.sh nginx-light
BENCH_DEPS := wrk nginx-light lighttpd linux-perf strace libwebsockets-test-server libwebsockets-dev \
              libssl-dev openssl build-essential

.PHONY: all deps fuzz-deps bench-deps extra-deps build run test test-normal test-asan test-tsan test-tls13 tls13-setup \
        check-extra fuzz bench clean format

all: build

define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

deps:
	$(call apt_install,$(DEPS))

fuzz-deps:
	$(call apt_install,$(FUZZ_DEPS))

bench-deps:
	$(call apt_install,$(BENCH_DEPS))

extra-deps:
	$(call apt_install,$(EXTRA_DEPS))

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

ifeq ($(TLS),3.6)
build: deps tls13-setup
	ninja -C $(BUILD_TLS13)
RUN_BUILD := $(BUILD_TLS13)
else ifeq ($(TLS),)
build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)
RUN_BUILD := $(BUILD)
else
$(error TLS=$(TLS): only TLS=3.6 (mbedTLS 3.6 LTS) or nothing (the system's mbedTLS))
endif

# kited with the repository root as its config DIR: conf.d/ serves the
# test page, the test protocols (plugins built in $(BUILD)/plugins), a
# callback mount and a redirect on 127.0.0.1:7681.
run: build
	./$(RUN_BUILD)/apps/kited/kited -c . -n -P $(RUN_BUILD)/plugins

test: deps test-normal test-asan test-tsan test-tls13
	@$(PY) tests/summary.py $(BUILD_TEST) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_TLS13)

# Warnings are errors in both test builds.
test-normal:
	@[ -f $(BUILD_TEST)/build.ninja ] || meson setup $(BUILD_TEST) -Dwerror=true $(MESON_OPTS)
	ninja -C $(BUILD_TEST)
	meson test -C $(BUILD_TEST) --print-errorlogs --num-processes 2

test-asan:
	@[ -f $(BUILD_ASAN)/build.ninja ] || meson setup $(BUILD_ASAN) -Dwerror=true \
	  -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug $(MESON_OPTS)
	ninja -C $(BUILD_ASAN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C $(BUILD_ASAN) --print-errorlogs --num-processes 2 --timeout-multiplier 3

# Threaded code (the "threads" suite) under ThreadSanitizer.
test-tsan:
	@[ -f $(BUILD_TSAN)/build.ninja ] || meson setup $(BUILD_TSAN) -Dwerror=true \
	  -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug $(MESON_OPTS)
	ninja -C $(BUILD_TSAN)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  meson test -C $(BUILD_TSAN) --suite threads --print-errorlogs --timeout-multiplier 3

# mbedTLS 3.6 LTS (TLS 1.3): Debian 13's packages unpacked under
# $(BUILD_TLS13)/mbedtls36 by a private apt configuration (the system's
# sources are not touched; on Debian 13 the system's 3.6 is used), and a
# build linked to them (rpath). No network to deb.debian.org: this fails.
tls13-setup:
	@[ -f $(BUILD_TLS13)/build.ninja ] || { \
	  mkdir -p $(BUILD_TLS13) && \
	  pc=$$(tests/tls13/fetch-mbedtls36.sh $(BUILD_TLS13)/mbedtls36) && \
	  meson setup $(BUILD_TLS13) -Dwerror=true $${pc:+-Dpkg_config_path=$$pc} $(MESON_OPTS) && \
	  grep -q "mbedTLS 3\.6" $(BUILD_TLS13)/meson-logs/meson-log.txt || \
	  { echo "$(BUILD_TLS13) is not on mbedTLS 3.6" >&2; rm -f $(BUILD_TLS13)/build.ninja; exit 1; }; }

# The TLS, HTTP/2, client and proxy suites again on mbedTLS 3.6 (suite tls13).
test-tls13: tls13-setup
	ninja -C $(BUILD_TLS13)
	meson test -C $(BUILD_TLS13) --suite tls13 --print-errorlogs --num-processes 2

# Checks too slow for `make test`: testssl.sh against kite on mbedTLS 2.28
# and 3.6 (RSA and ECDSA certificates) beside nginx, about 14 minutes on
# the shared 2-core machine (828 s measured; each of the six runs is cut at
# 10 minutes, so at most an hour).
# Results in $(BUILD_TLS13)/testssl/summary.md (READMEs/README.tls.md).
check-extra: deps extra-deps tls13-setup
	@[ -f $(BUILD_TEST)/build.ninja ] || meson setup $(BUILD_TEST) -Dwerror=true $(MESON_OPTS)
	ninja -C $(BUILD_TEST) test-apps/kite-test-server
	ninja -C $(BUILD_TLS13) test-apps/kite-test-server
	tests/tls13/testssl.sh $(BUILD_TEST) $(BUILD_TLS13)

fuzz: deps fuzz-deps
	@[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false
	ninja -C build-fuzz
	rm -rf build-fuzz/corpus-h1 && cp -r fuzz/corpus/h1 build-fuzz/corpus-h1
	./build-fuzz/fuzz/fuzz-h1 -max_total_time=60 build-fuzz/corpus-h1
	rm -rf build-fuzz/corpus-ws && cp -r fuzz/corpus/ws build-fuzz/corpus-ws
	./build-fuzz/fuzz/fuzz-ws -max_total_time=60 build-fuzz/corpus-ws
	rm -rf build-fuzz/corpus-config && cp -r fuzz/corpus/config build-fuzz/corpus-config
	./build-fuzz/fuzz/fuzz-config -max_total_time=60 build-fuzz/corpus-config

bench: deps bench-deps build
	bash bench/run.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_TEST) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_TLS13) build-fuzz
