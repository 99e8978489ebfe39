import { defineConfig } from "vite";

// The host serves the built files at /_berth/dashboard/ (src/Berth.Hosting/Dashboard); Berth.Hosting.csproj embeds dist/.
// Nothing is inlined: the host's Content-Security-Policy allows scripts and styles from the dashboard's own files only.
export default defineConfig({
  base: "/_berth/dashboard/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: "es2022",
  },
});
