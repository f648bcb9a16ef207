import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';

// `pnpm dev` runs this dev server in front of the API on port 3000; `pnpm start` serves the built files itself.
export default defineConfig({
  plugins: [solid()],
  server: { proxy: { '/trpc': 'http://127.0.0.1:3000', '/healthz': 'http://127.0.0.1:3000' } },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true },
});
