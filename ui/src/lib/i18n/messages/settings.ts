import type { Catalog } from '../index'

export default {
  en: {
    'settings.title': 'Settings',
  },
  ar: {
    'settings.title': 'Settings',
  },
} satisfies Catalog
