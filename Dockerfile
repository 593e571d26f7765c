# tcpstate-exporter container image.
#
#   docker build -t tcpstate-exporter .
#   docker run -d --name tcpstate-exporter --network host --read-only \
#     -v /proc:/host/proc:ro tcpstate-exporter
#
# --network host: /host/proc/net resolves through /proc/self to the exporter's own network
# namespace, so the host's sockets are only visible when the container shares the host's.
# Arguments after the image name replace CMD: keep --path.procfs=/host/proc among them.
#
# Where no Docker engine runs, `npm run image` builds it with podman (docs/container.md);
# test/deploy/container-image.test.ts runs what it builds.

FROM node:24.20.0-trixie-slim AS builder
WORKDIR /app
# Lockfile first: the dependency layer stays cached while only sources change.
COPY package.json package-lock.json ./
# No install scripts: the build needs only tsc and type packages.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24.20.0-trixie-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Without what the dependencies ship but the exporter never loads (their tests, examples,
# docs, type declarations and source maps): 13.4 MB of node_modules down to 4.2 MB
# (docs/container.md).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force \
 && find node_modules -depth -type d \( -name test -o -name tests -o -name benchmarks -o -name example -o -name examples \) -exec rm -r {} + \
 && find node_modules -type f \( -name '*.md' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete
COPY --from=builder /app/dist ./dist
# nobody:nogroup, numeric so Kubernetes' runAsNonRoot can verify it. Nothing is written at
# run time, so the root filesystem may be read-only.
USER 65534:65534
EXPOSE 10120
# As dist/main.js's #! line: two malloc arenas rather than one per thread, and a 1 MiB young
# generation (see docs/reliability.md, "Memory").
ENV MALLOC_ARENA_MAX=2
ENTRYPOINT ["node", "--max-semi-space-size=1", "/app/dist/main.js"]
CMD ["--path.procfs=/host/proc"]
