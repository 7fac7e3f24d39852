# Entry points. The README's two commands are `make demo` and `make test`;
# .ci/run calls `make test` on a fresh clone.
SWIFT_RELEASE := swift build -c release --static-swift-stdlib
DAEMON := .build/release/coder-vm-bootstrap
SEED := .build/release/coder-vm-seed
DEPS_STAMP := .cache/deps.stamp

.PHONY: all deps build release portability unit-test system-test vm-test test deb demo bench clean

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

# Unit tests: every module against real parts (libcurl and an HTTP server,
# sd_notify and journald sockets, cloud-init's schema validator).
unit-test: deps
	swift build --build-tests
	CODER_VM_SEED_REQUIRE_VALIDATORS=1 swift test --skip-build

# The daemon on a real systemd (systemd-nspawn) with real sshd and docker,
# the stand-ins it is tested with, and the qemu runner's checks (no boot).
system-test: release
	python3 -m pytest -q Tests/standins Tests/system scripts/vm/test_vmrunner.py

# The Debian package of the daemon, checked by lintian (errors fail).
deb: release
	lintian --fail-on error --suppress-tags maintainer-script-calls-systemctl $$(packaging/deb/build.sh out)

# A real qemu VM (TCG here): the .deb installed by cloud-init from the
# rendered Secret, one boot and one reboot with a new token.
vm-test: deb
	python3 -m pytest -q -s Tests/vm

test: unit-test portability system-test vm-test

# The daemon against its targets and the seed approach side by side (nspawn,
# needs root): out/bench.json. Not part of `make test`.
bench: release
	$(SWIFT_RELEASE) --product bench-fetch
	bench/run.sh

demo: deb
	scripts/demo.py

clean:
	rm -rf .build .build-* .cache/deps.stamp out
