# STM32F4 SSL/TLS emulation lab: one entry point for set-up, builds and tests.
#
#   make test          set up a fresh Debian bookworm machine, build everything, run pytest
#                      and the Robot suites (make robot: the Robot suites alone)
#   make demo          the PC SSL server and the emulated board as SSL client, both consoles
#   make qemu          build qemu-system-arm with our models (cached by content of qemu/)
#   make -s print-qemu print the path of the built qemu-system-arm
#   make firmware      build the MicroPython firmware (BOARD=stm324xg-eval|stm324x9i-eval,
#                      HW_CRYPTO=0 for the software-crypto variant)
#   make -s print-firmware  print the path of the default firmware ELF
#   make setup         apt packages, the trixie deb-src entry, Python packages
#   make bench         crypto throughput, HW vs SW builds on both boards, side by side:
#                      bench/results/crypto.json and crypto.png; board-to-PC connect and
#                      handshake, the three guestfwd relays: connect.json; an idle
#                      board's host CPU and wake-ups, 1 ms tick vs tickless: idle.json;
#                      guest instructions of a TLS 1.2 handshake's PRF: tls_prf.json;
#                      boot times, pystone and emulated MIPS: speed.json (bench/README.md)
#   make nightly       every board and variant, the long checks, one report, within a time
#                      budget (NIGHTLY_ARGS='--budget 60 --previous results/nightly'; see README)

PYTHON ?= python3
PYTEST_ARGS ?=
# make test runs pytest in this many processes (pytest-xdist), a test file per process at a
# time; most of a test's time is waiting for an emulated board, so two share the 2 cores of
# our CI machine. PYTEST_JOBS=0: one process.
PYTEST_JOBS ?= 2
ROBOT_ARGS ?=
NIGHTLY_ARGS ?=
BOARD ?= stm324xg-eval
# the Nucleo-F411RE has no CRYP/HASH: software crypto is its only build
HW_CRYPTO ?= $(if $(filter nucleo-f411re,$(BOARD)),0,1)

.PHONY: all setup setup-apt setup-python qemu print-qemu baremetal firmware print-firmware \
	test-firmware test robot nightly demo bench clean

all: qemu baremetal firmware

setup: setup-apt setup-python

# Set-up steps run again only when their inputs change: each leaves a stamp in .stamps/
# named after a hash of those inputs (rm -rf .stamps to force them). apt: the script and
# the machine's package database and sources; Python: pyproject.toml, the interpreter
# and this checkout (the editable install points here).
STAMPS := .stamps
APT_KEY := $(shell { cat scripts/setup-apt.sh; stat -c '%n %Y' /var/lib/dpkg/status \
	/etc/apt/sources.list /etc/apt/sources.list.d 2>/dev/null; } | sha256sum | cut -c1-16)
PY_KEY := $(shell { cat pyproject.toml; command -v $(PYTHON); pwd; } | sha256sum | cut -c1-16)

setup-apt: $(STAMPS)/apt-$(APT_KEY)
setup-python: $(STAMPS)/python-$(PY_KEY)

$(STAMPS)/apt-%:
	bash scripts/setup-apt.sh
	@mkdir -p $(STAMPS) && rm -f $(STAMPS)/apt-* && touch $@

$(STAMPS)/python-%:
	$(PYTHON) -m pip install -q --disable-pip-version-check 'meson==1.5.0' pycotap -e '.[test]'
	@mkdir -p $(STAMPS) && rm -f $(STAMPS)/python-* && touch $@

qemu: setup
	bash scripts/build-qemu.sh

print-qemu:
	@bash scripts/build-qemu.sh --print

baremetal: setup-apt
	$(MAKE) -C tests/baremetal

firmware: setup-apt
	$(MAKE) -C firmware BOARD=$(BOARD) HW_CRYPTO=$(HW_CRYPTO)

print-firmware:
	@$(MAKE) -s --no-print-directory -C firmware print-elf BOARD=$(BOARD) HW_CRYPTO=$(HW_CRYPTO)

# Every firmware build the tests boot, made before pytest starts (the tests build what they
# need themselves, under a lock; this keeps the builds out of the tests' time)
TEST_FIRMWARE := stm324xg-eval:1 stm324xg-eval:0 stm324x9i-eval:1 stm324x9i-eval:0 \
	nucleo-f411re:0

test-firmware: setup-apt
	$(foreach b,$(TEST_FIRMWARE),$(MAKE) -C firmware -j2 BOARD=$(word 1,$(subst :, ,$(b))) \
		HW_CRYPTO=$(word 2,$(subst :, ,$(b))) &&) true

# pytest, then the Robot suites (results in results/: output.xml, log.html, report.html, xunit.xml)
test: qemu baremetal firmware test-firmware
	$(PYTHON) -m pytest $(if $(filter-out 0,$(PYTEST_JOBS)),-n $(PYTEST_JOBS) --dist loadfile) \
		$(PYTEST_ARGS)
	$(MAKE) robot

# Every suite on the default board (F417; the Nucleo suite on the Nucleo), then the crypto
# suite on the F439, whose tests of GCM/CCM/SHA-256 are skipped as not applicable on the
# F417.
robot: qemu baremetal firmware
	$(MAKE) -C firmware BOARD=nucleo-f411re    # robot/nucleo_https_client.robot
	$(PYTHON) -m robot --outputdir results --xunit xunit.xml $(ROBOT_ARGS) robot/
	$(PYTHON) -m robot --outputdir results/f439 --xunit xunit.xml -v BOARD:F439 \
		$(ROBOT_ARGS) robot/hwcrypto.robot

# The nightly run (scripts/nightly.py): it builds what its steps need itself, each build a
# step with its own time estimate, so the budget covers the builds too.
nightly:
	$(PYTHON) scripts/nightly.py $(NIGHTLY_ARGS)

# Benchmarks (bench/README.md): both boards, hardware and software crypto builds; then
# TLS records from the PC; the guestfwd relays (the F417 hardware-crypto build)
BENCH_ARGS ?=
bench: qemu
	for b in stm324xg-eval stm324x9i-eval; do for hw in 1 0; do \
		$(MAKE) -C firmware BOARD=$$b HW_CRYPTO=$$hw || exit 1; done; done
	$(PYTHON) bench/crypto.py --json bench/results/crypto.json --png bench/results/crypto.png \
		$(BENCH_ARGS)
	$(PYTHON) bench/tls_records.py --json bench/results/tls_records.json \
		--png bench/results/tls_records.png
	$(PYTHON) bench/connect.py --json bench/results/connect.json
	$(PYTHON) bench/tls_prf.py --json bench/results/tls_prf.json
	$(PYTHON) bench/idle.py --boards F417,F439 --json bench/results/idle.json
	$(PYTHON) bench/speed.py --json bench/results/speed.json

demo: qemu firmware
	$(PYTHON) host_tools/demo.py --board $(BOARD)

clean:
	$(MAKE) -C tests/baremetal clean
	rm -rf firmware/build-*
