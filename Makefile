# The two commands a new machine needs (see README.md):
#   make run    installs what is missing, builds, and starts the app (on a machine with
#               no display it renders the Clapping Music demo to a WAV instead)
#   make test   installs what is missing, then format check, clippy and every test
# Both install Debian packages themselves when they are missing (apt-get update first).

# gcc: rustc links through the system C compiler; pkg-config finds C libraries for -sys
# crates; libasound2-dev and libjack-jackd2-dev are what cpal's ALSA and JACK hosts link to.
BUILD_PACKAGES := gcc pkg-config libasound2-dev libjack-jackd2-dev
# The app window loads OpenGL (Mesa) and the X11 keyboard/cursor libraries at run time.
APP_PACKAGES := libgl1 libegl1 libgl1-mesa-dri libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6
# The tests start a real JACK server (dummy driver) and use its command-line tools, and
# open exported reports in headless Chromium, and start the real app window under Xvfb;
# exported FLAC, zip bundles and recorded MIDI are checked by other programs' readers
# (flac, unzip, Python's mido), and a printed report by poppler's pdftotext and pdftoppm.
# The Linux package is built with dpkg-dev's tools and checked with lintian; MMA's
# example MIDI files (drum tracks, re-struck keys) are played note for note; Hydrogen's
# recorded hand clap (hydrogen-data) is the real multi-burst clap of the onset evaluation.
TEST_PACKAGES := jackd2 chromium xvfb xauth flac unzip python3-mido poppler-utils dpkg-dev lintian mma hydrogen-data

.PHONY: run test deps test-deps nextest bench package

# A CI run builds once from a fresh clone: incremental-compilation caches would only take
# disk (several GB across the test binaries) that the run may not have.
ifdef CI
export CARGO_INCREMENTAL := 0
endif

deps:
	@bash .ci/ensure-debian-packages $(BUILD_PACKAGES) $(APP_PACKAGES)

test-deps:
	@bash .ci/ensure-debian-packages $(BUILD_PACKAGES) $(APP_PACKAGES) $(TEST_PACKAGES)

run: deps
	cargo build --release
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		./target/release/bandroom; \
	else \
		echo "No display here: rendering the Clapping Music demo to clapping-music.wav instead."; \
		./target/release/bandroom render clapping-music --repeats 4 --force --out clapping-music.wav; \
	fi

# Every test in its own process under cargo-nextest (.ci/nextest.toml: JACK tests one at
# a time, nothing retried), then the benchmarks once each as tests (criterion's set-up
# output is not a test list nextest can read). .ci/portability checks, before the tests,
# that Windows' and macOS' builds resolve with their own audio and MIDI and no JACK/ALSA.
test: test-deps nextest
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	bash .ci/portability
	cargo nextest run --config-file .ci/nextest.toml --lib --bins --tests
	cargo test --benches

# cargo-nextest comes with the machine's Rust toolchain; installed when it is missing.
nextest:
	@cargo nextest --version >/dev/null 2>&1 || cargo install --locked cargo-nextest

bench: deps
	cargo bench --bench engine

# A .deb a school technician installs (apt install ./target/deb/bandroom_*.deb): the
# release binary, desktop entry, icons, AppStream metainfo, manual pages and completions.
package: deps
	@bash .ci/ensure-debian-packages dpkg-dev
	cargo build --release
	rm -rf target/deb
	bash .ci/make-deb --binary target/release/bandroom --out target/deb
