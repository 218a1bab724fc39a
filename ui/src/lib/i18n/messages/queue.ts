import type { Catalog } from '../index'

export default {
  en: {
    'queue.title': 'Queue',
  },
  ar: {
    'queue.title': 'Queue',
  },
} satisfies Catalog
