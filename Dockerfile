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
# Checked without a Docker engine by test/deploy/dockerfile.test.ts, which replays these
# stages on the host and starts the resulting command.

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
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=builder /app/dist ./dist
# nobody:nogroup, numeric so Kubernetes' runAsNonRoot can verify it. Nothing is written at
# run time, so the root filesystem may be read-only.
USER 65534:65534
EXPOSE 10120
# As dist/main.js's #! line: two malloc arenas with large blocks given back at free(), and a
# 1 MiB young generation (see docs/reliability.md, "Memory").
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=65536
ENTRYPOINT ["node", "--max-semi-space-size=1", "/app/dist/main.js"]
CMD ["--path.procfs=/host/proc"]
