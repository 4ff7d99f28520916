# Hearth's two commands: `make run` and `make test`. Both install what is missing first.

export PATH := $(CURDIR)/tools/node_modules/.bin:$(HOME)/.cargo/bin:$(HOME)/.local/bin:$(PATH)

.PHONY: run test setup unit e2e release fuzz soak

## Build (release) and start Hearth at http://127.0.0.1:3000 on ./data/hearth.db, with a
## simulated house posting to it.
run: setup
	HEARTH_SIMULATE=true cargo leptos serve --release --precompress

## Every test: unit and integration (SQLite and PostgreSQL), then end-to-end in Chromium.
test: setup unit e2e

setup:
	@scripts/setup.sh

unit:
	@scripts/services.sh
	cargo nextest run -p hearth-core -p hearth-store -p hearth-app -p hearth-server --features hearth-app/ssr --no-fail-fast

e2e:
	cargo leptos build
	cd end2end && npx playwright test

## The release build alone (site in target/site, binary target/release/hearth).
release: setup
	cargo leptos build --release --precompress

## Every fuzz target for 60 s each (FUZZ_SECONDS=…); not part of `make test`.
fuzz:
	scripts/fuzz.sh $(or $(FUZZ_SECONDS),60)

## Ten minutes of steady ingest and 100 live streams against a release build; prints RSS and errors.
soak:
	scripts/soak.sh $(or $(SOAK_SECONDS),600)
