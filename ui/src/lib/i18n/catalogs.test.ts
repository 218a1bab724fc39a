import { describe, expect, it } from 'vitest'
import { catalogs, translate, hasMessage } from './index'

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()

describe('message catalogs', () => {
  for (const [area, c] of Object.entries(catalogs)) {
    it(`${area}: Arabic has exactly the English keys, with the same placeholders`, () => {
      const en = c.en as Record<string, string>
      const ar = c.ar as Record<string, string>
      expect(Object.keys(ar).sort()).toEqual(Object.keys(en).sort())
      for (const key of Object.keys(en)) {
        expect(en[key], key).not.toBe('')
        expect(ar[key], key).not.toBe('')
        expect(placeholders(ar[key] ?? ''), key).toEqual(placeholders(en[key] ?? ''))
      }
    })
    it(`${area}: every key is prefixed with its area`, () => {
      const prefix = area === 'settings' ? 'settings.' : `${area}.`
      for (const key of Object.keys(c.en)) expect(key.startsWith(prefix), key).toBe(true)
    })
  }

  it('no key is defined by two catalogs', () => {
    const seen = new Map<string, string>()
    for (const [area, c] of Object.entries(catalogs)) {
      for (const key of Object.keys(c.en)) {
        expect(seen.get(key), `${key} in ${area} and ${seen.get(key)}`).toBeUndefined()
        seen.set(key, area)
      }
    }
  })

  it('fills placeholders, numbers in the chosen digits', () => {
    expect(translate('en', 'payments.count', { count: 1000000 })).toBe('1,000,000 payments')
    expect(translate('ar', 'app.nav.payments')).toBe('المدفوعات')
    expect(hasMessage('app.state.paid')).toBe(true)
    expect(hasMessage('app.state.nope')).toBe(false)
  })
})
