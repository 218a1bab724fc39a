// Svelte 5 in runes mode everywhere; TypeScript in components through vite's own transform.
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte'

export default {
  preprocess: vitePreprocess(),
  compilerOptions: { runes: true },
}
