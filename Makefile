# Entry points. The README's two commands are `make demo` and `make test`;
# .ci/run calls `make test` on a fresh clone.
SWIFT_RELEASE := swift build -c release --static-swift-stdlib
DAEMON := .build/release/coder-vm-bootstrap
SEED := .build/release/coder-vm-seed
DEPS_STAMP := .cache/deps.stamp

.PHONY: all deps build release portability lint format unit-test system-test package-test vm-test test man deb rpm arch tarball packages demo bench soak clean

all: build

$(DEPS_STAMP): scripts/install-deps.sh Tests/requirements.txt
	scripts/install-deps.sh
	@mkdir -p $(dir $@) && touch $@

deps: $(DEPS_STAMP)

build: deps
	swift build

release: deps
	$(SWIFT_RELEASE) --product coder-vm-bootstrap
	$(SWIFT_RELEASE) --product coder-vm-seed

portability: release
	scripts/check-portability.sh $(DAEMON)

# The Swift sources as swift-format (from the toolchain) writes them, with
# the project's .swift-format; `make format` rewrites them so.
SWIFT_SOURCES := Sources Tests bench/bench-fetch Package.swift
lint:
	swift format lint --strict --recursive $(SWIFT_SOURCES)

format:
	swift format format --in-place --recursive $(SWIFT_SOURCES)

# Unit tests: every module against real parts (libcurl and an HTTP server,
# sd_notify and journald sockets, cloud-init's schema validator).
unit-test: deps
	swift build --build-tests
	CODER_VM_SEED_REQUIRE_VALIDATORS=1 swift test --skip-build

# The daemon on a real systemd (systemd-nspawn) with real sshd and docker,
# the stand-ins it is tested with, and the qemu runner's checks (no boot).
# (The debug test bundle too: the SystemdSupport tests that need systemd as
# PID 1 run inside a booted container.)
system-test: release
	swift build --build-tests
	python3 -m pytest -q Tests/standins Tests/system scripts/vm/test_vmrunner.py

# coder-vm-bootstrap(8) and coder-vm-seed(1), generated from the argument
# parsers (swift-argument-parser's generate-manual plugin) into out/man.
man: deps
	packaging/man/generate.sh

# The daemon's packages, each built and checked with its own family's tools,
# named and versioned from Sources/WorkspaceSpec/BuildInfo.swift, into out/.
deb: release man
	deb=$$(packaging/deb/build.sh out) && lintian --fail-on error,warning "$$deb"

rpm: release man
	rpm=$$(packaging/rpm/build.sh out) && rpmlint --strict -r packaging/rpm/coder-vm-bootstrap.rpmlintrc "$$rpm"

arch: release man
	pkg=$$(packaging/arch/build.sh out) && pacman -Qip "$$pkg" >/dev/null

tarball: release man
	packaging/tarball/build.sh out

packages: deb rpm arch tarball
	packaging/checksums.sh out

# Each package's files and scriptlets, then each installed into a copy of the
# Debian 12 test image's root by its own tool and booted (nspawn).
package-test: packages
	python3 -m pytest -q Tests/packaging

# A real qemu VM (TCG here): the .deb installed by cloud-init from the
# rendered Secret, one boot and one reboot with a new token.
vm-test: deb
	python3 -m pytest -q -s Tests/vm

test: lint unit-test portability system-test package-test vm-test

# The daemon against its targets and the seed approach side by side (nspawn,
# needs root): out/bench.json. Not part of `make test`.
bench: release
	$(SWIFT_RELEASE) --product bench-fetch
	bench/run.sh

# Not in `make test`: 50 warm and 10 cold boots in nspawn, each converging
# with nothing left behind.
soak: release
	scripts/soak.py

demo: deb
	scripts/demo.py

clean:
	rm -rf .build .build-* .cache/deps.stamp out
