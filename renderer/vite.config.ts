// Builds the renderer into dist/renderer: one HTML file with no inline script or style (the
// CSP is `default-src 'self'; script-src 'self'; style-src 'self'`), hashed JS and CSS beside it.
// Node-side file (Vite loads it); the renderer's DOM-only import rules do not apply to its body.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = import.meta.dirname;

export const config = defineConfig({
  root: here,
  base: './',
  plugins: [react()],
  build: {
    outDir: `${here}/../dist/renderer`,
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
    target: 'es2022',
  },
});

// eslint-disable-next-line no-restricted-syntax -- Vite reads the config's default export
export default config;
