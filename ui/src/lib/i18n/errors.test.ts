import { afterEach, describe, expect, it } from 'vitest'
import type { ErrorView } from '../bindings'
import { settings } from '../settings.svelte'
import { ERROR_TEXT, SHELL_TEXT, describeCode, describeError } from './errors'
// The generated file's text, as vite reads it: the union below is the core's registry.
import bindingsSource from '../bindings.ts?raw'

/** The ErrorCode union as bindings.ts (generated from the core) spells it. */
function bindingCodes(): string[] {
  const m = /export type ErrorCode = ([^;]+);/.exec(bindingsSource)
  if (!m?.[1]) throw new Error('no ErrorCode in bindings.ts')
  return [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1] ?? '')
}

// Every param name the core uses (src/error, rules, connect, secrets, store), with
// plausible values: a template that names a param it does not fill shows up below.
const RICH: ErrorView['params'] = {
  value: 'abc', example: '12.500', allowed_decimals: 3, currency: 'KWD', other_currency: 'SAR',
  expected_currency: 'KWD', max_digits: 15, left: '0.000', right: '1.000', allowed: 'paid, refunded',
  what: 'order number', length: 600, max_length: 500, min_length: 8, position: 4, problem: 'locked',
  operation: 'refund', pending: 'capture', state: 'created', allowed_states: 'created, pending, attempted',
  captured: '2.000', requested: '6.000', refundable: '4.000', capturable: '1.500', id: 42,
  status: 'succeeded', retried_as: 43, profile: 'shop', payments: 3, operations: 2, count: 2,
  base_url: 'https://shop.ottu.net', new_base_url: 'https://new.ottu.net', detail: 'Refund window closed',
  permission: 'payment.refund', attempts: 5, last: 'timeout', held_by: 7, cause: 'refused',
  why: 'amount differs', missing: 'credential', origin: 'https://shop.ottu.net', path: '/tmp/l.db',
  given: 12000, max: 10000, balance: 'captured', slot: 'shop', links: 2, free_bytes: 0,
}

const ARABIC_LETTER = /[\u0621-\u064A]/
const LEFTOVER = /\{|\}|undefined|null|NaN|\[object|  | [.,:;،؛]|\( *\)/

afterEach(() => {
  settings.language = 'en'
  settings.digits = 'latn'
})

describe('describeError', () => {
  it('has English and Arabic words for every ErrorCode in bindings.ts, and no others', () => {
    const codes = bindingCodes()
    expect(codes.length).toBeGreaterThan(100)
    // Every binding code has words; the only extra ones are the shell's, not yet in bindings.
    const worded = { ...ERROR_TEXT, ...SHELL_TEXT } as Record<string, { en: unknown; ar: unknown }>
    expect(codes.filter((c) => !(c in worded))).toEqual([])
    expect(Object.keys(ERROR_TEXT).filter((c) => !codes.includes(c))).toEqual([])
    for (const code of [...codes, ...Object.keys(SHELL_TEXT)]) {
      const words = worded[code]!
      expect(typeof words.en, code).toBe('function')
      expect(typeof words.ar, code).toBe('function')
    }
  })

  for (const params of [{}, RICH]) {
    const label = Object.keys(params).length ? 'every param given' : 'no params'
    it(`words every code in both languages with ${label}, no placeholder left`, () => {
      for (const code of [...new Set([...bindingCodes(), ...Object.keys(SHELL_TEXT)])]) {
        for (const language of ['en', 'ar'] as const) {
          const e: ErrorView = { code, kind: 'refused', message: 'ENGLISH MESSAGE', field: 'amount', params }
          const text = describeError(e, language)
          expect(text.length, `${code} ${language}`).toBeGreaterThan(10)
          expect.soft(text, `${code} ${language}`).not.toMatch(LEFTOVER)
          expect(text, `${code} ${language}: never the core's message`).not.toContain('ENGLISH MESSAGE')
          if (language === 'ar') expect(text, code).toMatch(ARABIC_LETTER)
          else expect(text, code).not.toMatch(ARABIC_LETTER)
        }
      }
    })
  }

  it('interpolates refund_exceeds amounts with the currency, in the current language and digits', () => {
    const e: ErrorView = {
      code: 'rules.refund_exceeds', kind: 'refused', field: 'amount',
      message: 'refund 6.000 KWD exceeds the refundable 4.000 KWD',
      params: { requested: '6', refundable: '4.5', currency: 'KWD' },
    }
    expect(describeError(e)).toBe('You can refund at most 4.500\u00A0KWD; you asked for 6.000\u00A0KWD.')
    settings.language = 'ar'
    settings.digits = 'arab'
    const ar = describeError(e)
    expect(ar).toContain('٤٫٥٠٠\u00A0د.ك')
    expect(ar).toContain('٦٫٠٠٠\u00A0د.ك')
    expect(ar).not.toMatch(/[0-9]/)
  })

  it('names the field and what is allowed from params', () => {
    const tooLong: ErrorView = {
      code: 'reason.too_long', kind: 'invalid_input', field: 'reason', message: '',
      params: { length: 612, max_length: 500 },
    }
    expect(describeError(tooLong)).toBe('The reason is too long: at most 500 characters, you typed 612.')
    const bad: ErrorView = {
      code: 'input.bad_character', kind: 'invalid_input', field: 'order_no', message: '',
      params: { what: 'order number', value: 'a b', problem: 'has a space', allowed: 'x' },
    }
    expect(describeError(bad)).toContain('The order number')
    expect(describeError(bad)).toContain('starting with a letter or digit')
    const state: ErrorView = {
      code: 'rules.state', kind: 'refused', field: null, message: '',
      params: { operation: 'cancel', state: 'paid', allowed_states: 'created, pending, attempted, cod' },
    }
    expect(describeError(state, 'en')).toBe(
      'You cannot cancel a payment that is paid; only when it is created, pending, attempted, cash on delivery.',
    )
    expect(describeError(state, 'ar')).toContain('مدفوعة')
  })

  it('tells a 403 (a missing permission) from a refused key', () => {
    const e = (status: number): ErrorView => ({
      code: 'ottu.auth', kind: 'unavailable', field: null, message: '',
      params: { status, detail: 'no', permission: status === 403 ? 'payment.refund' : null },
    })
    expect(describeError(e(403))).toContain('payment.refund')
    expect(describeError(e(401))).toContain('did not accept the key')
  })

  it('falls back to one sentence per kind for a code it does not know (the shell\'s app.*)', () => {
    const e = (kind: ErrorView['kind']): ErrorView => ({
      code: 'app.something_new', kind, message: 'raw english', field: null, params: { detail: 'x' },
    })
    const kinds = ['invalid_input', 'refused', 'not_found', 'unavailable', 'conflict', 'internal'] as const
    const en = kinds.map((k) => describeError(e(k), 'en'))
    expect(new Set(en).size).toBe(kinds.length)
    for (const text of en) expect(text).not.toContain('raw english')
    for (const k of kinds) expect(describeError(e(k), 'ar')).toMatch(ARABIC_LETTER)
  })

  it('writes operation ids as references (no grouping) in the chosen digits', () => {
    const e: ErrorView = { code: 'queue.already_retried', kind: 'conflict', message: '', field: null, params: { id: 12345, retried_as: 12346 } }
    expect(describeError(e, 'en')).toBe('Operation 12345 was already retried as operation 12346: work with that one instead.')
    settings.digits = 'arab'
    expect(describeError(e, 'ar')).toContain('١٢٣٤٥')
  })

  it('describes a stored code (an operation\'s last error), and gives null without one', () => {
    expect(describeCode(undefined, undefined)).toBeNull()
    expect(describeCode('operation.held', { held_by: 7, cause: 'unknown_outcome' })).toBe(
      'On hold: operation 7 on this payment has an unknown result. Retry or drop that one first.',
    )
  })
})
