# tchatche: two commands do everything.
#   make run    build and run on embedded defaults (SQLite + in-process bus)
#   make test   every test: unit, integration (SQLite, PostgreSQL, Redis), browser
# Both install what is missing first (scripts/install-tools.sh).

SHELL := /bin/bash
.DEFAULT_GOAL := help

# How the release binary finds the site cargo-leptos built.
SITE_ENV := LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=tchatche LEPTOS_ENV=PROD
SERVER_CRATES := -p tchatche-core -p app -p worker -p server

.PHONY: help
help:
	@echo "make run     build and run tchatche on embedded defaults"
	@echo "make test    run every test (needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379)"
	@echo "make bench   run the benchmarks (release build)"
	@echo "make audit   Lighthouse and the Nu HTML Checker on the release build's home and room pages"
	@echo "make dev     cargo leptos watch, rebuilding on every change"

.PHONY: tools
tools:
	@scripts/install-tools.sh

.PHONY: build
build: tools
	cargo leptos build --release --split

.PHONY: run
run: build
	$(SITE_ENV) ./target/release/tchatche

.PHONY: dev
dev: tools
	cargo leptos watch --split

.PHONY: test
test:
	@scripts/install-tools.sh --browser
	@scripts/check-services.sh
	# No doctests (there are none): rustdoc would compile every crate once more.
	cargo test $(SERVER_CRATES) --lib --bins --tests --features tchatche-core/test-support,app/ssr
	# No backtrace on a build error: the error itself stays the last thing printed.
	# --split: lazily loaded code (`#[island(lazy)]`, `#[lazy]`) goes in WASM files of its own.
	RUST_LIB_BACKTRACE=0 cargo leptos build --release --split   # also compiles the frontend crate for wasm32
	node scripts/wasm-budget.mjs    # the browser bundle stays within its budgets
	cd end2end && npm test

.PHONY: bench
bench: build
	@scripts/check-services.sh
	# The flags cargo-leptos gave the release build, so its artifacts are reused.
	cargo bench -p server
	scripts/bench-pages.sh
	BENCH_PAGE=thread scripts/bench-pages.sh

# SQLite only: no PostgreSQL or Redis needed. --browser: Chromium for Lighthouse.
.PHONY: audit
audit: build
	@scripts/install-tools.sh --browser
	scripts/audit.sh
