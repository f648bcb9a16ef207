# The app image: the web app built once, the server run from its TypeScript sources with tsx, exactly as
# `pnpm start` runs it. Build: `docker compose build app` (or `docker build -t data-uploader .`).

FROM node:20-bookworm-slim AS build
RUN npm i -g pnpm@12.21.0
WORKDIR /app
ENV CI=true
# The whole workspace before installing: workspace packages link each other's bins and sources.
COPY . .
RUN pnpm install --frozen-lockfile
RUN pnpm build

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/data
WORKDIR /app
# The installed workspace without pnpm's store: node_modules, sources and the built client/dist.
COPY --from=build /app ./
# Only the data folder is writable (PGlite and the embedded S3 server when no DATABASE_URL / S3_ENDPOINT).
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# A young generation of 64 MB: a plan batch's few megabytes of short-lived objects no longer fill it several
# times over (measured: a sixth less of the app's CPU for a 300k-file plan).
CMD ["node", "--max-semi-space-size=64", "--import", "tsx", "server/src/main.ts"]
