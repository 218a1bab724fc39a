// The payment screen's words (filled in as the screen is built).
import type { Catalog } from '../index'

export default {
  en: {
    'payment.title': 'Payment',
  },
  ar: {
    'payment.title': 'الدفعة',
  },
} satisfies Catalog
