# libagentinfer - build, test, install.
#
#   make                  library (static + shared) and build/bin/agentinfer
#   make test             unit + integration tests and the ABI checks
#   make test SANITIZE=1  the same under ASan + UBSan (in build-san/)
#   make check-abi        exported symbols, static archive, header hygiene
#   make fuzz             libFuzzer targets (clang), FUZZ_TIME seconds each
#   make install PREFIX=/usr/local DESTDIR=
#
# Sources are found by wildcard: a new lib/*.c, kernels file, examples/cli/*.c
# or tests/unit/test_*.c is picked up without editing this file.

VERSION  := 0.1.0
SOMAJOR  := 0
PREFIX   ?= /usr/local
LIBDIR   ?= $(PREFIX)/lib
INCDIR   ?= $(PREFIX)/include
BINDIR   ?= $(PREFIX)/bin

CC       ?= cc
AR       ?= ar
LD       ?= ld
OBJCOPY  ?= objcopy
PKG_CONFIG ?= pkg-config

ARCH := $(shell $(CC) -dumpmachine | cut -d- -f1)

ifeq ($(SANITIZE),1)
BUILD    ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD    ?= build
SANFLAGS :=
endif

OPT      ?= -O2
DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags openblas libzstd 2>/dev/null)
DEPS_LIBS   := $(shell $(PKG_CONFIG) --libs openblas libzstd 2>/dev/null || echo -lopenblas -lzstd) -lm -lpthread

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=c11 $(OPT) -g -fPIC -fvisibility=hidden -D_GNU_SOURCE $(WARN) $(SANFLAGS)
LIB_CFLAGS  := $(BASE_CFLAGS) -Iinclude -Ilib -Ikernels $(DEPS_CFLAGS) $(CFLAGS)

# ---- sources ---------------------------------------------------------------
LIB_SRC := $(wildcard lib/*.c) $(wildcard kernels/*.c) $(wildcard kernels/ref/*.c)
ifeq ($(ARCH),x86_64)
LIB_SRC += $(wildcard kernels/x86/*.c)
endif
ifeq ($(ARCH),aarch64)
LIB_SRC += $(wildcard kernels/arm/*.c)
endif
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)

CLI_SRC := $(wildcard examples/cli/*.c)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)

TEST_COMMON_SRC := $(wildcard tests/common/*.c)
TEST_COMMON_OBJ := $(TEST_COMMON_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

SO_REAL := libagentinfer.so.$(VERSION)
SO_NAME := libagentinfer.so.$(SOMAJOR)
STATIC  := $(BUILD)/libagentinfer.a
SHARED  := $(BUILD)/$(SO_REAL)
INTERNAL := $(BUILD)/libagentinfer_internal.a
CLI     := $(BUILD)/bin/agentinfer

.SECONDARY:
.PHONY: all lib test unit check-abi install uninstall fuzz fuzz-build clean bench test-arm examples bench-model bench-embed demo
all: lib $(CLI)
lib: $(STATIC) $(SHARED)

# ---- compile ---------------------------------------------------------------
# ISA-specific kernel files get their own flags, and only they do.
ISA_avx2    := -mavx2 -mfma -mf16c
ISA_avx512  := -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni
ISA_dotprod := -march=armv8.2-a+dotprod

isa_flags = $(if $(filter %_avx2.c,$1),$(ISA_avx2),$(if $(filter %_avx512.c,$1),$(ISA_avx512),$(if $(filter %_dotprod.c,$1),$(ISA_dotprod))))

$(BUILD)/obj/lib/%.o $(BUILD)/obj/kernels/%.o: CF = $(LIB_CFLAGS)
$(BUILD)/obj/examples/%.o: CF = $(BASE_CFLAGS) -Iinclude $(CFLAGS)
$(BUILD)/obj/tests/%.o: CF = $(BASE_CFLAGS) -Iinclude -Ilib -Ikernels -Itests/common $(CFLAGS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CF) $(call isa_flags,$<) -MMD -MP -c $< -o $@

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_COMMON_OBJ:.o=.d)

# ---- libraries ---------------------------------------------------------------
# The static archive holds one relocatable object in which every hidden symbol
# has been made local, so it exports exactly what the shared library does.
$(STATIC): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(LD) -r -o $(BUILD)/agentinfer-all.o $(LIB_OBJ)
	$(OBJCOPY) --localize-hidden $(BUILD)/agentinfer-all.o
	rm -f $@ && $(AR) rcs $@ $(BUILD)/agentinfer-all.o

# Unit tests link the plain objects so that they can reach ai__ internals.
$(INTERNAL): $(LIB_OBJ)
	rm -f $@ && $(AR) rcs $@ $(LIB_OBJ)

$(SHARED): $(LIB_OBJ) lib/agentinfer.map
	$(CC) -shared $(SANFLAGS) -o $@ $(LIB_OBJ) -Wl,-soname,$(SO_NAME) \
	  -Wl,--version-script=lib/agentinfer.map -Wl,--no-undefined \
	  -Wl,-z,relro,-z,now $(DEPS_LIBS)
	ln -sf $(SO_REAL) $(BUILD)/$(SO_NAME)
	ln -sf $(SO_NAME) $(BUILD)/libagentinfer.so

$(CLI): $(CLI_OBJ) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $(CLI_OBJ) $(STATIC) $(DEPS_LIBS)

# ---- examples ------------------------------------------------------------------
# examples/*.c use only the public header; each is linked twice, against the
# static archive (build/examples/NAME) and against the shared library
# (build/examples/NAME-shared, which finds it in $(BUILD) through its rpath).
EX_SRC := $(wildcard examples/*.c)
EX_BIN := $(EX_SRC:examples/%.c=$(BUILD)/examples/%) $(EX_SRC:examples/%.c=$(BUILD)/examples/%-shared)
-include $(EX_SRC:%.c=$(BUILD)/obj/%.d)
examples: $(EX_BIN)
$(BUILD)/examples/%-shared: $(BUILD)/obj/examples/%.o $(SHARED)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $< -L$(BUILD) -lagentinfer -Wl,-rpath,$(abspath $(BUILD)) -lm
$(BUILD)/examples/%: $(BUILD)/obj/examples/%.o $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $< $(STATIC) $(DEPS_LIBS)

# ---- tests -------------------------------------------------------------------
$(BUILD)/tests/%: tests/unit/%.c $(TEST_COMMON_OBJ) $(INTERNAL)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Iinclude -Ilib -Ikernels -Itests/common $(CFLAGS) -MMD -MP \
	  -o $@ $< $(TEST_COMMON_OBJ) $(INTERNAL) -lcmocka $(DEPS_LIBS)

-include $(UNIT_BIN:=.d)

unit: $(UNIT_BIN)

test: all unit check-abi
	BUILD=$(BUILD) SANITIZE=$(SANITIZE) sh tests/run.sh

check-abi: $(STATIC) $(SHARED)
	BUILD=$(BUILD) CC=$(CC) sh tests/abi/check.sh

# aarch64: the kernels and their tests cross-built and run under qemu-user
test-arm:
	sh tests/arm/run.sh

# ---- benchmarks ----------------------------------------------------------------
# Numbers, not tests (run on an idle machine): the kernel table from the
# program, then each tests/bench/bench_*.c (linked like unit tests).
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
$(BUILD)/bench/%: tests/bench/%.c $(INTERNAL)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Iinclude -Ilib -Ikernels -Itests/common $(CFLAGS) -o $@ $< $(INTERNAL) $(DEPS_LIBS)
bench: $(CLI) $(BENCH_BIN)
	$(CLI) bench-kernels
	set -e; for b in $(BENCH_BIN); do AI_FIXTURES=$${AI_FIXTURES:-../shared/fixtures} $$b; done

# ---- demo (issue 11) ----------------------------------------------------------
# The default model answers a few questions through examples/agent with real
# tools: verse lookup and search over the King James Bible (from Debian's
# bible-kjv package, turned into a verse file once), a calculator and the
# clock.  Each step (model output, parsed call, tool result, answer, time)
# is printed.  DEMO_QUESTIONS='"..." "..."' asks your own.
DEMO_MODEL     ?= models/default.gguf
DEMO_QUESTIONS ?= "What does John 3:16 say?" "What is 17 times 23?" "What day is it today?"
demo: all examples $(BUILD)/demo/kjv.tsv
	$(BUILD)/examples/agent -m $(DEMO_MODEL) --verses $(BUILD)/demo/kjv.tsv $(DEMO_QUESTIONS)

$(BUILD)/demo/kjv.tsv: tools/kjv_tsv.sh
	@mkdir -p $(dir $@)
	sh tools/kjv_tsv.sh $@

# ---- benchmark model ----------------------------------------------------------
# Random weights in the Qwen3-0.6B shape of issue 5, one file per type, made
# with our own writer and quantizer (about 0.3-0.5 GB each); then e.g.
#   build/bin/agentinfer bench -m build/bench/qwen3-shape-q4_0.gguf -t 2
BENCH_TYPES ?= q4_0 q4_k_m q8_0
$(BUILD)/bench_model: tools/bench_model.c $(INTERNAL)
	$(CC) $(BASE_CFLAGS) -Iinclude -Ilib -Ikernels $(CFLAGS) -o $@ $< $(INTERNAL) $(DEPS_LIBS)
bench-model: $(BUILD)/bench_model
	@mkdir -p $(BUILD)/bench
	set -e; for t in $(BENCH_TYPES); do f=$(BUILD)/bench/qwen3-shape-$$t.gguf; \
	  [ $$f -nt $(BUILD)/bench_model ] || $(BUILD)/bench_model $$t $$f; done

# ---- benchmark encoder --------------------------------------------------------
# Random weights in the BERT-base shape of issue 6 (768 wide, 12 layers, 12
# heads, FFN 3072; tokenizer copied from the fixtures' WordPiece vocabulary)
# and 256 texts of 10-40 words, made by tools/bench_encoder.c; then the texts
# are embedded one at a time, 32 at a time, and 32 at a time with passes of
# 64+ tokens through OpenBLAS sgemm (texts/s and tokens/s on stderr).
BENCH_EMBED_TYPE ?= f16
BENCH_THREADS ?= 2
$(BUILD)/bench_encoder: tools/bench_encoder.c $(INTERNAL)
	$(CC) $(BASE_CFLAGS) -Iinclude -Ilib -Ikernels $(CFLAGS) -o $@ $< $(INTERNAL) $(DEPS_LIBS)
bench-embed: $(BUILD)/bench_encoder $(CLI)
	@mkdir -p $(BUILD)/bench
	set -e; f=$(BUILD)/bench/bert-base-shape-$(BENCH_EMBED_TYPE).gguf; \
	  x=$(BUILD)/bench/embed-texts.txt; \
	  [ -f $$f ] && [ -f $$x ] || { $(BUILD)/bench_encoder $(BENCH_EMBED_TYPE) \
	    $${AI_FIXTURES:-../shared/fixtures}/vocab/ggml-vocab-bert-bge.gguf $$f.tmp $$x && \
	    mv $$f.tmp $$f; }; \
	  $(CLI) embed -m $$f -f $$x -t $(BENCH_THREADS) --batch 1 --time > /dev/null; \
	  $(CLI) embed -m $$f -f $$x -t $(BENCH_THREADS) --batch 32 --time > /dev/null; \
	  $(CLI) embed -m $$f -f $$x -t $(BENCH_THREADS) --batch 32 --blas 64 --time > /dev/null

# ---- fuzzing (clang + libFuzzer) ---------------------------------------------
# The library is rebuilt with clang in build-fuzz/ (ISA files keep their own
# flags), then each tests/fuzz/*_fuzz.c is linked against it with libFuzzer.
FUZZ_CC   ?= clang
FUZZ_TIME ?= 60
FUZZ_SRC  := $(wildcard tests/fuzz/*_fuzz.c)
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
fuzz-build:
	$(MAKE) BUILD=build-fuzz CC=$(FUZZ_CC) OPT=-O1 \
	  SANFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" build-fuzz/libagentinfer_internal.a
	set -e; for f in $(FUZZ_SRC); do \
	  $(FUZZ_CC) -std=c11 -g -O1 -D_GNU_SOURCE $(FUZZ_SAN) -fsanitize=fuzzer \
	    -Iinclude -Ilib -Ikernels $$f build-fuzz/libagentinfer_internal.a \
	    -o build-fuzz/$$(basename $$f .c) $(DEPS_LIBS); done
fuzz: fuzz-build
	FUZZ_TIME=$(FUZZ_TIME) sh tests/fuzz/run.sh $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)

# ---- install -----------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(INCDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(BINDIR)
	install -m 644 include/agentinfer.h $(DESTDIR)$(INCDIR)/
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SO_REAL) $(DESTDIR)$(LIBDIR)/$(SO_NAME)
	ln -sf $(SO_NAME) $(DESTDIR)$(LIBDIR)/libagentinfer.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' pkgconfig/agentinfer.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/agentinfer.pc
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/
	if [ -f models/default.gguf ]; then install -d $(DESTDIR)$(PREFIX)/share/agentinfer && \
	  install -m 644 models/default.gguf $(DESTDIR)$(PREFIX)/share/agentinfer/; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/share/agentinfer/default.gguf
	rm -f $(DESTDIR)$(INCDIR)/agentinfer.h $(DESTDIR)$(LIBDIR)/libagentinfer.* \
	  $(DESTDIR)$(LIBDIR)/pkgconfig/agentinfer.pc $(DESTDIR)$(BINDIR)/agentinfer

clean:
	rm -rf build build-san build-fuzz
