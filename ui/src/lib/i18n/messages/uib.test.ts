import { describe, expect, it } from 'vitest'
import demo from './demo'
import queue from './queue'
import settings from './settings'

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()

describe.each([
  ['queue', queue],
  ['settings', settings],
  ['demo', demo],
] as const)('%s messages', (area, catalog) => {
  it('has an Arabic message for every English one, with the same placeholders', () => {
    const en = catalog.en as Record<string, string>
    const ar = catalog.ar as Record<string, string>
    expect(Object.keys(ar).sort()).toEqual(Object.keys(en).sort())
    for (const key of Object.keys(en)) {
      expect(key.startsWith(`${area}.`), key).toBe(true)
      expect(placeholders(ar[key]!), key).toEqual(placeholders(en[key]!))
      expect(ar[key]!.trim(), key).not.toBe('')
    }
  })

  it('writes Arabic in Arabic (each message but the language names has Arabic letters)', () => {
    const ar = catalog.ar as Record<string, string>
    const latinOnly = Object.entries(ar).filter(([key, text]) => !/[\u0621-\u064A]/.test(text) && key !== 'settings.language.en')
    expect(latinOnly).toEqual([])
  })
})
