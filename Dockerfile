# syntax=docker/dockerfile:1
# Drop operator image: one `deno compile` binary on a distroless base with glibc.
#
#   docker build -t drop:dev .
#
# `deno compile` embeds the `denort` runtime, which it downloads from Deno's servers. Where those
# are unreachable, put the denort binary of the pinned Deno version in the build context and pass
# its path:  docker build --build-arg DENORT_BIN=/src/dist/denort -t drop:dev .

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY . .
ARG DENORT_BIN=""
ENV DENORT_BIN=${DENORT_BIN}
# The permission set "operator" in deno.json is baked into the binary: network, the listed
# environment variables, reading files (kubeconfig, service account token, CA bundles), no writes,
# no subprocesses, no FFI. V8's memory saver mode is baked in too (lib/cli/runtime_flags.ts).
RUN ./node_modules/.bin/deno compile -P=operator --v8-flags=--memory-saver-mode,--max-semi-space-size=2,--compaction-max-evacuated-bytes-mb-for-optimize-memory=1 --output /out/drop main.ts \
 && /out/drop --version

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/drop /drop
# Fewer glibc malloc arenas: less memory held outside V8's heap (lib/cli/runtime_flags.ts).
ENV MALLOC_ARENA_MAX=2
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/drop"]
CMD ["run", "--log-format=json"]
