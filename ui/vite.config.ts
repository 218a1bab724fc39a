// Vite + Svelte 5 for the Tauri webview (WebKitGTK 2.50 on Linux). No dev-server
// URL is baked into the app: tauri.conf.json embeds ui/dist. Nothing here may load
// anything from the network (the app's CSP forbids it, and the merchant may be offline).
import { defineConfig } from 'vitest/config'
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { svelteTesting } from '@testing-library/svelte/vite'

export default defineConfig({
  // svelteTesting: Svelte's browser build and automatic cleanup under vitest only.
  plugins: [svelte(), svelteTesting()],
  // Relative asset paths: the webview serves ui/dist from its own custom protocol.
  base: './',
  clearScreen: false,
  // Loopback only; tests pick their own port with --port.
  server: { host: '127.0.0.1' },
  build: {
    // WebKitGTK 2.50 is far newer than Safari 15, which is as far as we need to lower.
    target: 'safari15',
    outDir: 'dist',
    emptyOutDir: true,
    // No data: URLs for assets: the CSP need not allow them.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    restoreMocks: true,
  },
})
