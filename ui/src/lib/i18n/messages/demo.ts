import type { Catalog } from '../index'

export default {
  en: {
    'demo.title': 'Demo',
  },
  ar: {
    'demo.title': 'Demo',
  },
} satisfies Catalog
