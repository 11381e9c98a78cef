import { defineConfig } from "vitest/config";

// The server sends a strict Content-Security-Policy (script-src 'self'; style-src 'self'; ...),
// so nothing may be inlined: no data: assets, no inline module-preload polyfill.
export default defineConfig({
  base: "/console/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    allowOnly: false,
  },
});
