# The two commands a new machine needs (see README.md):
#   make run    installs what is missing, builds, and renders the Clapping Music demo
#   make test   installs what is missing, then format check, clippy and every test
# Both install Debian packages themselves when they are missing (apt-get update first).

# gcc: rustc links through the system C compiler; pkg-config finds C libraries for -sys
# crates; libasound2-dev and libjack-jackd2-dev are what cpal's ALSA and JACK hosts link to.
BUILD_PACKAGES := gcc pkg-config libasound2-dev libjack-jackd2-dev
# The tests start a real JACK server (dummy driver) and use its command-line tools.
TEST_PACKAGES := jackd2

.PHONY: run test deps test-deps bench

deps:
	@bash .ci/ensure-debian-packages $(BUILD_PACKAGES)

test-deps:
	@bash .ci/ensure-debian-packages $(BUILD_PACKAGES) $(TEST_PACKAGES)

run: deps
	cargo build --release
	./target/release/bandroom arrangements
	./target/release/bandroom render clapping-music --repeats 4 --out clapping-music.wav
	@echo "Listen to clapping-music.wav (Clapping Music, 4 repeats per bar, quarter = 160)."

test: test-deps
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo test --all-targets

bench: deps
	cargo bench --bench engine
