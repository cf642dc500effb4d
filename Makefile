# vigil build. Sources are found by wildcard so that adding a module means
# adding files, not editing this Makefile:
#   lib/<area>/*.c        -> build/libvigil.a   (test-*.c there are unit tests)
#   cli/*.c               -> build/vigil
#   plugin/*.c            -> build/vigil-qemu.so (QEMU TCG plugin)
#   tests/unit/test-*.c   -> build/tests/test-*  (one binary each)
#   lib/<area>/test-*.c   -> build/tests/test-*
#   fuzz/fuzz-*.c         -> build/fuzz/fuzz-*   (clang, libFuzzer; `make fuzz`)
#   guest/*.c             -> build/guest/bin/*   (static, run inside the guest;
#                            guest/NAME/*.c are more parts of NAME)
#   tools/*.c             -> build/tools/vigil-* (test and benchmark tools;
#                            tools/NAME/*.c are more parts of vigil-NAME)
#
# `make SANITIZER=address,undefined` builds everything under ASan+UBSan into
# build-san/ so it never mixes with the normal build.

SANITIZER ?=
ifeq ($(SANITIZER),)
BUILD ?= build
else
BUILD ?= build-san
endif

CC ?= cc
FUZZCC ?= clang
Q := $(if $(V),,@)

WARN := -std=gnu11 -Wall -Wextra -Wshadow -Wvla -Wformat=2 -Wcast-qual \
	-Wwrite-strings -Wstrict-prototypes -Wmissing-prototypes -Werror
OPT ?= -O2 -g
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
	-fstack-clash-protection -fcf-protection
# Linking: relocations read-only after start-up, every symbol bound at load
# (tests/test-build-hardening.sh checks the result); executables are PIE.
LDHARDEN := -Wl,-z,relro,-z,now
EXE_LDFLAGS := -pie $(LDHARDEN)
SANFLAGS := $(if $(SANITIZER),-fsanitize=$(SANITIZER) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all)
CPPFLAGS += -D_GNU_SOURCE -Iinclude -Ilib -MMD -MP $(PQ_CFLAGS)
# Everything is built position-independent so the plugin can link lib/ too.
ALLCFLAGS = $(WARN) $(OPT) $(HARDEN) $(SANFLAGS) -fPIC $(CFLAGS)

GLIB_CFLAGS := $(shell pkg-config --cflags glib-2.0 2>/dev/null)
PQ_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null)
PQ_LIBS := $(or $(shell pkg-config --libs libpq 2>/dev/null),-lpq)
LIBS := -ljansson -lnettle -lgmp -llz4 -lzstd -llzma -lz -lsodium -lsqlite3 $(PQ_LIBS) -lpthread -lm
LIBS += $(EXTRA_LIBS)

# Objects depend on the flags they were built with: a change of compiler,
# flags or hardening rebuilds them (the stamp changes only when they do).
FLAGS_STAMP := $(BUILD)/flags.stamp
FLAGS_NOW := $(CC) $(CPPFLAGS) $(ALLCFLAGS) $(GLIB_CFLAGS) $(EXE_LDFLAGS) $(LIBS)
$(shell mkdir -p $(BUILD) && echo '$(FLAGS_NOW)' | cmp -s - $(FLAGS_STAMP) || \
	echo '$(FLAGS_NOW)' >$(FLAGS_STAMP))

LIB_SRCS := $(filter-out %/test-%.c,$(wildcard lib/*/*.c))
CLI_SRCS := $(wildcard cli/*.c)
PLUGIN_SRCS := $(wildcard plugin/*.c)
NBD_SRCS := $(wildcard nbd/*.c)
TEST_SRCS := $(wildcard tests/unit/test-*.c) $(wildcard lib/*/test-*.c)
FUZZ_SRCS := $(wildcard fuzz/fuzz-*.c)
GUEST_SRCS := $(wildcard guest/*.c)
TOOL_SRCS := $(wildcard tools/*.c)

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
PLUGIN_OBJS := $(PLUGIN_SRCS:%.c=$(BUILD)/obj/%.o)
NBD_OBJS := $(NBD_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_BINS := $(foreach s,$(TEST_SRCS),$(BUILD)/tests/$(basename $(notdir $(s))))
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/fuzz/%)
GUEST_BINS := $(GUEST_SRCS:guest/%.c=$(BUILD)/guest/bin/%)
# Dynamically linked guest programs and libraries (guest/dyn/), for what
# only they show (a dlopen()ed library); the guest has the host's libc.
GUEST_DYN := $(patsubst guest/dyn/%.c,$(BUILD)/guest/dyn/%,\
	$(filter-out guest/dyn/lib%,$(wildcard guest/dyn/*.c))) \
	$(patsubst guest/dyn/%.c,$(BUILD)/guest/dyn/%.so,\
	$(wildcard guest/dyn/lib*.c))
TOOL_BINS := $(TOOL_SRCS:tools/%.c=$(BUILD)/tools/vigil-%)

all: $(BUILD)/vigil $(BUILD)/vigil-qemu.so $(BUILD)/nbdkit-vigil-filter.so \
	$(TEST_BINS) $(GUEST_BINS) $(GUEST_DYN) $(TOOL_BINS)

$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(ALLCFLAGS) -c -o $@ $<

$(BUILD)/obj/plugin/%.o: plugin/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(GLIB_CFLAGS) $(ALLCFLAGS) -fvisibility=hidden -c -o $@ $<

$(BUILD)/libvigil.a: $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/vigil: $(CLI_OBJS) $(BUILD)/libvigil.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALLCFLAGS) $(EXE_LDFLAGS) -o $@ $^ $(LIBS)

# The plugin is loaded into QEMU, which is not built with sanitizers: a
# sanitizer build takes its plugin from the normal build.
ifeq ($(SANITIZER),)
$(BUILD)/vigil-qemu.so: $(PLUGIN_OBJS) $(BUILD)/libvigil.a
	@echo "  LD      $@"
	$(Q)$(CC) -shared $(WARN) $(OPT) -fPIC $(LDHARDEN) -o $@ $(PLUGIN_OBJS) \
		$(BUILD)/libvigil.a $(LIBS)
else
$(BUILD)/vigil-qemu.so: FORCE
	$(Q)$(MAKE) --no-print-directory SANITIZER= BUILD=build build/vigil-qemu.so
	$(Q)mkdir -p $(BUILD) && cp build/vigil-qemu.so $@
endif

# The nbdkit filter (nbd/*.c, -> docs/disk.md); nbdkit is not built with
# sanitizers either, so a sanitizer build copies the normal build's filter.
$(BUILD)/obj/nbd/%.o: nbd/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(ALLCFLAGS) -fvisibility=hidden -c -o $@ $<

ifeq ($(SANITIZER),)
$(BUILD)/nbdkit-vigil-filter.so: $(NBD_OBJS) $(BUILD)/libvigil.a
	@echo "  LD      $@"
	$(Q)$(CC) -shared $(WARN) $(OPT) -fPIC $(LDHARDEN) -Wl,--exclude-libs,ALL \
		-o $@ $(NBD_OBJS) $(BUILD)/libvigil.a $(LIBS)
else
$(BUILD)/nbdkit-vigil-filter.so: FORCE
	$(Q)$(MAKE) --no-print-directory SANITIZER= BUILD=build build/nbdkit-vigil-filter.so
	$(Q)mkdir -p $(BUILD) && cp build/nbdkit-vigil-filter.so $@
endif
FORCE:

define test_rule
$(BUILD)/tests/$(basename $(notdir $(1))): $(BUILD)/obj/$(basename $(1)).o $(BUILD)/libvigil.a
	@mkdir -p $$(dir $$@)
	@echo "  LD      $$@"
	$$(Q)$$(CC) $$(ALLCFLAGS) $$(EXE_LDFLAGS) -o $$@ $$^ $$(LIBS) -lhogweed
endef
$(foreach s,$(TEST_SRCS),$(eval $(call test_rule,$(s))))

$(TOOL_BINS): $(BUILD)/tools/vigil-%: $(BUILD)/obj/tools/%.o $(BUILD)/libvigil.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALLCFLAGS) -o $@ $(filter %.o,$^) $(BUILD)/libvigil.a $(LIBS)
# A tool in several files: tools/NAME.c holds main, tools/NAME/*.c the rest.
$(foreach t,$(TOOL_SRCS:tools/%.c=%),$(eval $(BUILD)/tools/vigil-$(t): \
	$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tools/$(t)/*.c))))
# logd's field finder, tested against jansson.
$(BUILD)/tests/test-logd-fields: $(BUILD)/obj/cli/logd-fields.o
# vigil-dbwriter measures logd's SQLite store code itself.
$(BUILD)/tools/vigil-dbwriter: $(BUILD)/obj/cli/logd-db.o \
	$(BUILD)/obj/cli/logd-ckpt.o $(BUILD)/obj/cli/logd-fields.o

# Guest programs run in an initramfs with no libc of their own.
$(BUILD)/guest/bin/%: guest/%.c $(wildcard guest/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (static guest)"
	$(Q)$(CC) -static $(WARN) -O2 -pthread -o $@ $(filter %.c,$^)
# A guest program in several files: guest/NAME.c holds main, guest/NAME/
# the rest.
$(foreach g,$(GUEST_SRCS:guest/%.c=%),$(eval $(BUILD)/guest/bin/$(g): \
	$(wildcard guest/$(g)/*.c guest/$(g)/*.h)))

$(BUILD)/guest/dyn/lib%.so: guest/dyn/lib%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (guest library)"
	$(Q)$(CC) -shared -fPIC $(WARN) -O2 -o $@ $<

$(BUILD)/guest/dyn/%: guest/dyn/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (dynamic guest)"
	$(Q)$(CC) $(WARN) -O2 -o $@ $< -ldl

# Fuzzers: libFuzzer + ASan + UBSan, with the library sources compiled in.
# One compiler run for many sources cannot write each one's -MMD file, so
# the dependencies (with the cli/*.c that targets include) come from -MM.
FUZZ_CPPFLAGS = $(filter-out -MMD -MP,$(CPPFLAGS))
$(BUILD)/fuzz/%: fuzz/%.c $(LIB_SRCS)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)$(FUZZCC) $(FUZZ_CPPFLAGS) -MM -MP -MT $@ $< $(LIB_SRCS) >$@.d
	$(Q)$(FUZZCC) $(FUZZ_CPPFLAGS) -std=gnu11 -g -O1 -Wall -Wextra -Werror \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $< $(LIB_SRCS) $(LIBS)

# The plugin's captures, fuzzed with the guest's memory as input, need
# glib's headers (vcpu.h).
$(BUILD)/fuzz/fuzz-capture: CPPFLAGS += $(GLIB_CFLAGS)
$(BUILD)/fuzz/fuzz-capture: plugin/capture-msg.c plugin/capture-select.c
$(BUILD)/fuzz/fuzz-fdmem: CPPFLAGS += $(GLIB_CFLAGS)
$(BUILD)/fuzz/fuzz-fdmem: plugin/fdmem.c

fuzz: $(FUZZ_BINS)

# A short run of every fuzzer from its committed corpus (fuzz/corpus/NAME for
# fuzz/fuzz-NAME.c); new inputs go to a scratch directory, not the corpus.
# An input that runs longer than FUZZ_TIMEOUT seconds, or a process over
# FUZZ_RSS_MB of memory, is a failure (a hang or a bomb), not a slow run.
FUZZ_SECONDS ?= 30
FUZZ_TIMEOUT ?= 10
FUZZ_RSS_MB ?= 2048
fuzz-smoke: $(FUZZ_BINS)
	$(Q)set -e; for f in $(FUZZ_BINS); do \
		name=$${f##*/fuzz-}; out=$$(mktemp -d); \
		echo "  FUZZ    $$name ($(FUZZ_SECONDS) s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -timeout=$(FUZZ_TIMEOUT) \
			-rss_limit_mb=$(FUZZ_RSS_MB) -malloc_limit_mb=$(FUZZ_RSS_MB) \
			-artifact_prefix=$(BUILD)/fuzz/$$name- -print_final_stats=0 \
			$$out fuzz/corpus/$$name >$(BUILD)/fuzz/$$name.log 2>&1 || \
			{ tail -n 40 $(BUILD)/fuzz/$$name.log; rm -rf $$out; exit 1; }; \
		rm -rf $$out; \
	done

# ---- the guest image (kernel from Debian, initramfs built here) ----
GUEST_DIR := build/guest
guest: $(GUEST_DIR)/initramfs.cpio.gz
$(GUEST_DIR)/vmlinuz:
	$(Q)sh guest/fetch-kernel.sh bookworm $(GUEST_DIR)
$(GUEST_DIR)/initramfs.cpio.gz: $(GUEST_DIR)/vmlinuz $(GUEST_BINS) $(GUEST_DYN) \
		guest/mkinitramfs.sh guest/init
	$(Q)sh guest/mkinitramfs.sh $(GUEST_DIR) $@

# The second kernel (Debian trixie) only serves tests of `vigil profile`.
$(GUEST_DIR)/trixie/vmlinuz:
	$(Q)sh guest/fetch-kernel.sh trixie $(GUEST_DIR)/trixie

# ---- user-facing targets ----
deps:
	$(Q)sh scripts/setup.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all guest
	$(Q)sh scripts/demo.sh

check: all guest $(GUEST_DIR)/trixie/vmlinuz
	$(Q)sh tests/run

test: deps
	$(Q)$(MAKE) --no-print-directory check

# The whole suite again with vigil and the unit tests under ASan+UBSan (the
# plugin inside QEMU stays unsanitized: QEMU is not built for it).
check-asan: all guest
	$(Q)$(MAKE) --no-print-directory SANITIZER=address,undefined all
	$(Q)VIGIL_BUILD=build-san sh tests/run

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	$(Q)clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san

.PHONY: FORCE all fuzz fuzz-smoke guest deps demo check test check-asan format check-format clean

-include $(shell find $(BUILD)/obj $(BUILD)/fuzz -name '*.d' 2>/dev/null)
