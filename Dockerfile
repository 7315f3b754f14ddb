# syntax=docker/dockerfile:1
# The `flashdeal` image the manifests in k8s/ run (ghcr.io/flashdeal/flashdeal). Two stages: the
# Swift 6.3 toolchain builds a release binary with the Swift runtime linked in, and a slim Debian 12
# runtime carries it with the C client libraries it loads (hiredis, libmongoc, librdkafka 2.16).
# No container engine runs where this project is developed: scripts/check-k8s.sh lints this file
# (hadolint, and checks of its own) instead of building it (docs/deploy.md).

FROM swift:6.3-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
    && apt-get install -y --no-install-recommends libhiredis-dev libmongoc-dev librdkafka-dev libsqlite3-dev python3-venv \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The manifest and the sources first, so a change to docs or tests does not rebuild the packages.
COPY Package.swift ./
COPY scripts/bootstrap.sh scripts/
# librdkafka 2.16 from the confluent-kafka wheel, linked by Package.swift from .venv/flashdeal.
RUN FLASHDEAL_SKIP_APT=1 FLASHDEAL_BOOTSTRAP=build bash scripts/bootstrap.sh
COPY Sources Sources
COPY Tests Tests
RUN swift build -c release --product flashdeal --static-swift-stdlib \
    && mkdir -p /out/lib \
    && cp "$(swift build -c release --show-bin-path)/flashdeal" /out/ \
    && cp -R "$(swift build -c release --show-bin-path)/FlashDeal_LiveWeb.resources" /out/ \
    && cp -L .venv/flashdeal/librdkafka*.so* /out/lib/

FROM debian:bookworm-slim AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# The run-time halves of the -dev packages the build linked, libcurl for Foundation's HTTP client
# (JWKS, OTLP), and CA certificates for https.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libhiredis0.14 libmongoc-1.0-0 libbson-1.0-0 libsqlite3-0 libcurl4 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 flashdeal \
    && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin flashdeal
# The binary's run-time library path names the build's .venv/flashdeal: the same path here.
COPY --from=build /out/lib/ /src/.venv/flashdeal/
COPY --from=build /out/flashdeal /usr/local/bin/flashdeal
# The storefront and the console (read from beside the binary, or api.webRoot).
COPY --from=build /out/FlashDeal_LiveWeb.resources /usr/local/bin/FlashDeal_LiveWeb.resources
USER 10001:10001
EXPOSE 8080
ENV FLASHDEAL_HOST=0.0.0.0
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/flashdeal"]
CMD ["serve"]
