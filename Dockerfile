# syntax=docker/dockerfile:1
# Multi-stage build: compile with the full Rust toolchain, run on a slim Debian with only libpq.

FROM rust:1.95-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies (and the domain crate, with the calendar and templates it embeds) first, so that
# edits to the service do not rebuild them.
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY calendar calendar
COPY config config
COPY benches benches
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
 && cargo build --release --locked \
 && rm -rf src
COPY src src
COPY migrations migrations
# The console's templates and files, compiled into the binary.
COPY templates templates
COPY static static
RUN touch src/main.rs src/lib.rs && cargo build --release --locked

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libssl3 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 foi \
 && useradd --system --uid 10001 --gid foi --home-dir /app --no-create-home foi \
 && mkdir -p /app/data \
 && chown foi:foi /app/data
WORKDIR /app
COPY --from=build /src/target/release/foi-tracker /usr/local/bin/foi-tracker
COPY config /app/config
ENV FOI_ENV=production \
    FOI_CONFIG_DIR=/app/config \
    FOI__SERVER__BIND=0.0.0.0:8080 \
    FOI__DATABASE__URL=sqlite:///app/data/foi-tracker.db
# The SQLite file lives here; with PostgreSQL (FOI__DATABASE__URL=postgres://...) it stays empty.
VOLUME ["/app/data"]
USER foi:foi
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz >/dev/null || exit 1
ENTRYPOINT ["foi-tracker"]
CMD ["serve"]
