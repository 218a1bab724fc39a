// The payments screen's words (filled in as the screen is built).
import type { Catalog } from '../index'

export default {
  en: {
    'payments.title': 'Payments',
  },
  ar: {
    'payments.title': 'المدفوعات',
  },
} satisfies Catalog
