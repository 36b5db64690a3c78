# Multi-stage build of the vigil daemon. Package lists come from scripts/deps.sh, the same file
# `make setup` uses (a test checks the two stay in step). No Docker engine runs on the
# development machines, so this image is not built in CI.

FROM debian:12 AS build
COPY scripts/deps.sh /tmp/deps.sh
RUN . /tmp/deps.sh && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      $BUILD_PACKAGES $RUNTIME_PACKAGES && rm -rf /var/lib/apt/lists/*
RUN curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
ENV PATH=/root/.cargo/bin:$PATH
WORKDIR /src
COPY . .
# ONNX Runtime from its PyPI wheel, sha256-pinned (same step as make setup).
RUN . scripts/deps.sh && mkdir -p .cache/onnxruntime/wheel && \
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.11 --implementation cp \
      --abi cp311 --platform manylinux_2_28_x86_64 -d .cache/onnxruntime/wheel "onnxruntime==$ORT_VERSION" && \
    echo "$ORT_WHEEL_SHA256  .cache/onnxruntime/wheel/$ORT_WHEEL" | sha256sum -c - && \
    unzip -j .cache/onnxruntime/wheel/$ORT_WHEEL "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" -d .cache/onnxruntime && \
    echo "$ORT_LIB_SHA256  .cache/onnxruntime/libonnxruntime.so.$ORT_VERSION" | sha256sum -c -
RUN cargo build --release -p vigil
# Models: fetched at build time (mount a mirror at /mirror with VIGIL_MODEL_MIRROR=/mirror to
# build offline), or mount /opt/vigil/models at run time instead.
ARG VIGIL_MODEL_MIRROR=/nonexistent
RUN VIGIL_MODEL_MIRROR=$VIGIL_MODEL_MIRROR ./target/release/vigil models fetch yolox-nano ppocr-det ppocr-rec

FROM debian:12 AS runtime
COPY scripts/deps.sh /tmp/deps.sh
RUN . /tmp/deps.sh && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      $RUNTIME_PACKAGES ca-certificates curl && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --home /var/lib/vigil --create-home vigil
COPY --from=build /src/target/release/vigil /usr/local/bin/vigil
COPY --from=build /src/.cache/onnxruntime/libonnxruntime.so.* /usr/local/lib/
RUN ln -s /usr/local/lib/libonnxruntime.so.1.32.0 /usr/local/lib/libonnxruntime.so && ldconfig
COPY --from=build /src/models /opt/vigil/models
COPY pipelines /opt/vigil/pipelines
ENV VIGIL_MODEL_DIR=/opt/vigil/models ORT_DYLIB_PATH=/usr/local/lib/libonnxruntime.so
USER vigil
WORKDIR /var/lib/vigil
# The HTTP API with /healthz is not built yet; until then the health check is that the process
# validates its pipeline file.
# Liveness of the running daemon: the pipeline file must have an [api] table (default bind
# 127.0.0.1:8480; /healthz needs no token).
HEALTHCHECK --interval=30s --timeout=5s CMD ["curl", "-fsS", "http://127.0.0.1:8480/healthz"]
ENTRYPOINT ["vigil", "run", "/etc/vigil/pipeline.toml"]
