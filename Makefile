# skiff: the only entry points are the targets below (see README.md).
#   make deps   install every Debian package the project needs (idempotent)
#   make        release build into build/release
#   make test   ASan+UBSan build, unit tests (Criterion), e2e tests (real kubectl; SQLite, then etcd)
#   make bench  benchmarks, results in tests/bench/RESULTS.md
#   make up / make down   start / stop a local cluster in network namespaces (NODES=3 make up)
BUILD ?= build
REL := $(BUILD)/release
ASAN := $(BUILD)/asan

# Every Debian package any part of skiff builds, tests or runs with.
DEB_PACKAGES := build-essential pkg-config clang llvm libmicrohttpd-dev libjson-c-dev \
	libsqlite3-dev libgnutls28-dev gnutls-bin libcriterion-dev libyaml-dev libcurl4-gnutls-dev \
	libclang-rt-14-dev libbpf-dev bpftool libelf-dev libmnl-dev libnftnl-dev libarchive-dev libseccomp-dev \
	etcd-server qemu-system-x86 linux-image-amd64 busybox-static iproute2 nftables iptables \
	curl jq sqlite3 procps psmisc \
	crun

PKGS := libmicrohttpd json-c sqlite3 gnutls yaml-0.1 libcurl libbpf libelf libmnl libnftnl libarchive libseccomp
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# skiff-agent links only the libraries it calls: every mapped library costs resident pages (issue 4:
# agent RSS). Functions in sections of their own let --gc-sections drop the archive members' code the
# agent never reaches (the store behind libcontrol's events.o, the image import behind image.o), so
# --as-needed leaves out sqlite3, libarchive (libxml2, ICU, libstdc++) and libm.
AGENT_PKGS := libmicrohttpd json-c gnutls yaml-0.1 libcurl libbpf libmnl libnftnl libseccomp
AGENT_LIBS = -Wl,--gc-sections -Wl,--as-needed $(shell pkg-config --libs $(AGENT_PKGS) 2>/dev/null)
# Objects built before the flags above lack those sections: the stamp rebuilds them once.
SECTIONS_STAMP := $(BUILD)/.function-sections

WARN := -Wall -Wextra -Werror -Wshadow -Wmissing-field-initializers -Werror=undef
BASE_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -Icontrol -Iagent -Ibpf -I$(BUILD)/bpf -g -MMD -MP -pthread \
	-ffunction-sections -fdata-sections
REL_CFLAGS := $(BASE_CFLAGS) -O2
ASAN_CFLAGS := $(BASE_CFLAGS) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
LDLIBS := -pthread -lm

CONTROL_MAIN := control/main.c
CONTROL_LIB_SRCS := $(sort $(filter-out $(CONTROL_MAIN),$(shell find control -name '*.c')))
# The agent: agent/main.c is skiff-agent, agent/pause/ is skiff-pause, the rest libagent.a.
AGENT_MAIN := agent/main.c
AGENT_LIB_SRCS := $(sort $(filter-out $(AGENT_MAIN) agent/pause/%,$(shell find agent -name '*.c' 2>/dev/null)))
PAUSE_SRCS := $(sort $(wildcard agent/pause/*.c))
SKIFFCTL_SRCS := $(sort $(shell find tools -name '*.c' 2>/dev/null))
# BPF programs: bpf/NAME.bpf.c -> build/bpf/NAME.bpf.o -> build/bpf/NAME.skel.h (libbpf skeleton).
BPF_SRCS := $(sort $(wildcard bpf/*.bpf.c))
BPF_OBJS := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.bpf.o)
BPF_SKELS := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.skel.h)
VMLINUX_H := $(BUILD)/bpf/vmlinux.h
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_LIB_SRCS := $(sort $(wildcard tests/unit/lib/*.c))
BENCH_SRCS := $(sort $(wildcard tests/bench/*.c))

REL_CONTROL_OBJS := $(CONTROL_LIB_SRCS:%.c=$(REL)/%.o)
ASAN_CONTROL_OBJS := $(CONTROL_LIB_SRCS:%.c=$(ASAN)/%.o)
REL_AGENT_OBJS := $(AGENT_LIB_SRCS:%.c=$(REL)/%.o)
ASAN_AGENT_OBJS := $(AGENT_LIB_SRCS:%.c=$(ASAN)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(ASAN)/tests/unit/%)
UNIT_LIB_OBJS := $(UNIT_LIB_SRCS:%.c=$(ASAN)/%.o)
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(REL)/tests/bench/%)

.PHONY: all deps test unit e2e e2e-etcd cluster-test ha-test bench up down clean
.DEFAULT_GOAL := all

BINS := skiff-control $(if $(wildcard $(AGENT_MAIN)),skiff-agent) $(if $(PAUSE_SRCS),skiff-pause) \
	$(if $(SKIFFCTL_SRCS),skiffctl)
REL_BINS := $(BINS:%=$(REL)/bin/%)
ASAN_BINS := $(BINS:%=$(ASAN)/bin/%)

all: $(REL_BINS)

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi

$(REL)/%.o: %.c $(SECTIONS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(ASAN)/%.o: %.c $(SECTIONS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(SECTIONS_STAMP):
	@mkdir -p $(dir $@); touch $@

$(VMLINUX_H):
	@mkdir -p $(dir $@)
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

# The multiarch include dir lets a program use the uapi headers (<linux/bpf.h>) instead of vmlinux.h
# where it needs no CO-RE: then loading it reads no kernel BTF.
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(VMLINUX_H) $(wildcard bpf/*.h)
	clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I$(BUILD)/bpf -Ibpf \
		-idirafter /usr/include/$(shell gcc -dumpmachine) -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	bpftool gen skeleton $< name skiff_$* > $@.tmp && mv $@.tmp $@

# Sources may include any skeleton: build them all before compiling C.
$(REL_CONTROL_OBJS) $(ASAN_CONTROL_OBJS) $(REL_AGENT_OBJS) $(ASAN_AGENT_OBJS): | $(BPF_SKELS)

$(REL)/libagent.a: $(REL_AGENT_OBJS)
	@rm -f $@; ar rcs $@ $^

$(ASAN)/libagent.a: $(ASAN_AGENT_OBJS)
	@rm -f $@; ar rcs $@ $^

$(REL)/bin/skiff-agent: $(REL)/agent/main.o $(REL)/libagent.a $(REL)/libcontrol.a
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -o $@ $^ $(AGENT_LIBS) $(LDLIBS)

$(ASAN)/bin/skiff-agent: $(ASAN)/agent/main.o $(ASAN)/libagent.a $(ASAN)/libcontrol.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(AGENT_LIBS) $(LDLIBS)

# The pause holder stays tiny and sanitizer-free in both builds: it is PID 1 of every pod.
$(REL)/bin/skiff-pause $(ASAN)/bin/skiff-pause: $(PAUSE_SRCS)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -D_GNU_SOURCE -O2 -static -o $@ $^

$(REL)/bin/skiffctl: $(SKIFFCTL_SRCS:%.c=$(REL)/%.o) $(REL)/libagent.a $(REL)/libcontrol.a
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

$(ASAN)/bin/skiffctl: $(SKIFFCTL_SRCS:%.c=$(ASAN)/%.o) $(ASAN)/libagent.a $(ASAN)/libcontrol.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

$(REL)/libcontrol.a: $(REL_CONTROL_OBJS)
	@rm -f $@; ar rcs $@ $^

$(ASAN)/libcontrol.a: $(ASAN_CONTROL_OBJS)
	@rm -f $@; ar rcs $@ $^

$(REL)/bin/skiff-control: $(REL)/control/main.o $(REL)/libcontrol.a
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

$(ASAN)/bin/skiff-control: $(ASAN)/control/main.o $(ASAN)/libcontrol.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

# Test fixtures are an archive too, so a test links only the fixtures it uses.
$(ASAN)/libunit.a: $(UNIT_LIB_OBJS)
	@rm -f $@; ar rcs $@ $^

$(ASAN)/tests/unit/%: $(ASAN)/tests/unit/%.o $(ASAN)/libunit.a $(ASAN)/libagent.a $(ASAN)/libcontrol.a
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(PKG_LIBS) -lcriterion $(LDLIBS)

$(REL)/tests/bench/%: $(REL)/tests/bench/%.o $(REL)/libagent.a $(REL)/libcontrol.a
	$(CC) $(REL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

# Runtime and skiffctl tests run the real binaries.
$(UNIT_BINS): | $(ASAN)/bin/skiff-pause $(ASAN)/bin/skiffctl

unit: $(UNIT_BINS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 tests/unit/run.sh $(UNIT_BINS)

# Helper programs of the e2e suite (tests/e2e/tools/*.c), e.g. the hostile-request load.
E2E_TOOL_SRCS := $(sort $(wildcard tests/e2e/tools/*.c))
E2E_TOOLS := $(E2E_TOOL_SRCS:tests/e2e/tools/%.c=$(ASAN)/tests/e2e/tools/%)

$(ASAN)/tests/e2e/tools/%: $(ASAN)/tests/e2e/tools/%.o
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

e2e: $(ASAN_BINS) $(E2E_TOOLS)
	@tests/e2e/run.sh $(ASAN)/bin

# The same suite with skiff-control's objects in a real etcd-server the run starts and removes.
e2e-etcd: $(ASAN_BINS) $(E2E_TOOLS)
	@E2E_STORE=etcd tests/e2e/run.sh $(ASAN)/bin

# skiffctl cluster up with 3 nodes in network namespaces, tests/cluster/scenarios, down, leftovers.
cluster-test: $(ASAN_BINS)
	@tests/cluster/run.sh $(ASAN)/bin

# 3 etcd members, 2 skiff-control instances, 2 agents: kill -9 of the leader and of an etcd member (tests/ha).
ha-test: $(ASAN_BINS)
	@tests/ha/run.sh $(ASAN)/bin

# VMTEST=0 skips the VM suite while iterating.
test: deps
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory e2e
	@$(MAKE) --no-print-directory e2e-etcd
	@$(MAKE) --no-print-directory cluster-test
	@$(MAKE) --no-print-directory ha-test
	@if [ "$${VMTEST:-1}" != 0 ]; then $(MAKE) --no-print-directory vmtest; fi

# Debian's kernel under QEMU with a full cgroup v2 hierarchy: limits, BPF on 6.1 (vmtest/README.md).
.PHONY: vmtest
vmtest: deps $(BPF_OBJS) $(REL_BINS) $(addprefix $(ASAN)/tests/unit/test_agent_,cgroup gpu sandbox container) \
	$(filter $(ASAN)/tests/unit/test_bpf_lb%,$(UNIT_BINS)) $(REL)/tests/bench/bench_pods
	@BUILD=$(BUILD) vmtest/run.sh

bench: deps $(REL_BINS) $(BENCH_BINS) $(E2E_TOOLS) $(FUZZ_BINS)
	@tests/bench/run.sh $(REL)

# libFuzzer harnesses (tests/fuzz/fuzz_*.c) over the control plane built with clang; make fuzz runs
# each for FUZZ_SECONDS (tests/fuzz/run.sh).
FUZZ := $(BUILD)/fuzz
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ)/%)
FUZZ_CFLAGS := $(BASE_CFLAGS) -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
FUZZ_CONTROL_OBJS := $(CONTROL_LIB_SRCS:%.c=$(FUZZ)/%.o)

$(FUZZ)/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(FUZZ)/libcontrol.a: $(FUZZ_CONTROL_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ)/fuzz_%: $(FUZZ)/tests/fuzz/fuzz_%.o $(FUZZ)/libcontrol.a
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS) $(LDLIBS)

.PHONY: fuzz
fuzz: deps $(FUZZ_BINS)
	@tests/fuzz/run.sh $(FUZZ)

# A local cluster: skiff-control and NODES agents, each in its own network namespace (skiffctl cluster).
NODES ?= 1
CLUSTER ?= skiff
up: deps all
	@$(REL)/bin/skiffctl cluster up --nodes "$(NODES)" --name "$(CLUSTER)"

down:
	@if [ -x $(REL)/bin/skiffctl ]; then $(REL)/bin/skiffctl cluster down --name "$(CLUSTER)"; \
	else echo "make down: $(REL)/bin/skiffctl missing (make first)" >&2; exit 1; fi

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
