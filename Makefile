# Tether: the two commands of the README.
#   make demo   installs what is missing, builds, and runs `tether demo`
#   make test   installs what is missing, builds, and runs every test
.PHONY: setup build demo test bench clean
SWIFT_BUILD_FLAGS ?=

setup:
	@scripts/setup.sh

build: setup
	swift build $(SWIFT_BUILD_FLAGS)

demo: setup
	swift build -c release --product tether
	.build/release/tether demo

test: build
	swift test $(SWIFT_BUILD_FLAGS)
	tests/cli.sh .build/debug/tether
	tests/crash_record.sh .build/debug/tether
	tests/failsafe.sh .build/debug/tether
	swift build -c release --product tether
	tests/improve_loop.sh .build/release/tether

bench: setup
	swift build -c release --product tether
	.build/release/tether bench sim

clean:
	rm -rf .build .native
