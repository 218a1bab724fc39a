// The receipt screen's words (filled in as the screen is built).
import type { Catalog } from '../index'

export default {
  en: {
    'receipt.title': 'Receipt',
  },
  ar: {
    'receipt.title': 'إيصال',
  },
} satisfies Catalog
