# syntax=docker/dockerfile:1
# tchatche: one image holding the server, the worker and the compiled site.
#   docker build -t tchatche .
#   docker run -p 3000:3000 -v tchatche-data:/app/data tchatche      (embedded)
#   docker compose up                                                (scaled)

# Node.js for the build-time npm tools (Tailwind CLI, wasm-opt).
FROM node:20-bookworm-slim AS node

FROM rust:1.95-bookworm AS build
COPY --from=node /usr/local/ /usr/local/
RUN rustup target add wasm32-unknown-unknown
# The Leptos toolchain, pinned like scripts/install-tools.sh pins it.
RUN cargo install cargo-leptos --version 0.3.10 --locked --features no_downloads \
 && cargo install wasm-bindgen-cli --version 0.2.130
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN cargo leptos build --release --split \
 && cargo build --release -p worker

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin tchatche \
 && mkdir -p /app/data \
 && chown tchatche /app/data
WORKDIR /app
# hash.txt beside the binary names the hashed asset files.
COPY --from=build /src/target/release/tchatche /src/target/release/hash.txt /src/target/release/tchatche-worker /app/
COPY --from=build /src/target/site /app/site
ENV LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_OUTPUT_NAME=tchatche \
    LEPTOS_ENV=PROD \
    LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    DATABASE_URL=sqlite:///app/data/tchatche.db \
    LOG_FORMAT=json
USER tchatche
VOLUME ["/app/data"]
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s CMD ["/app/tchatche", "healthcheck"]
CMD ["/app/tchatche"]
