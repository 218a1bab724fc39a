import { describe, expect, it } from 'vitest'
import { currencyDecimals, formatAmount, formatDate, formatDecimal, formatNumber, formatAge, toDigits } from './format'

describe('formatDecimal', () => {
  it('pads to three decimals for the three-decimal currencies', () => {
    for (const c of ['KWD', 'BHD', 'OMR', 'JOD']) {
      expect(currencyDecimals(c)).toBe(3)
      expect(formatDecimal('12.5', c, 'latn')).toBe('12.500')
      expect(formatDecimal('7', c, 'latn')).toBe('7.000')
    }
    expect(formatDecimal('12.5', 'SAR', 'latn')).toBe('12.50')
    expect(formatDecimal('12', 'JPY', 'latn')).toBe('12')
  })

  it('groups thousands', () => {
    expect(formatDecimal('1234567.891', 'KWD', 'latn')).toBe('1,234,567.891')
    expect(formatDecimal('999', 'KWD', 'latn')).toBe('999.000')
    expect(formatDecimal('1000', 'USD', 'latn')).toBe('1,000.00')
    expect(formatDecimal('0.001', 'KWD', 'latn')).toBe('0.001')
  })

  it('writes Arabic-Indic digits and separators when asked, whatever the locale', () => {
    expect(formatDecimal('1234.5', 'KWD', 'arab')).toBe('١٬٢٣٤٫٥٠٠')
    expect(toDigits('0123456789', 'arab')).toBe('٠١٢٣٤٥٦٧٨٩')
    expect(toDigits('0123456789', 'latn')).toBe('0123456789')
  })

  it('keeps the sign of negative amounts and drops it from zero', () => {
    expect(formatDecimal('-5.25', 'KWD', 'latn')).toBe('-5.250')
    expect(formatDecimal('-1234', 'KWD', 'arab')).toBe('\u061C-١٬٢٣٤٫٠٠٠')
    expect(formatDecimal('-0.000', 'KWD', 'latn')).toBe('0.000')
  })

  it('is exact for amounts beyond a float’s precision', () => {
    // 2^53 + 1 and a 13-digit amount with fils: a Number would round both.
    expect(formatDecimal('9007199254740993.001', 'KWD', 'latn')).toBe('9,007,199,254,740,993.001')
    expect(formatDecimal('9999999999999.999', 'KWD', 'latn')).toBe('9,999,999,999,999.999')
    expect(formatDecimal('0.1', 'USD', 'latn')).toBe('0.10')
  })

  it('never rounds away decimals it was given, and returns what it cannot read', () => {
    expect(formatDecimal('1.23456', 'KWD', 'latn')).toBe('1.23456')
    expect(formatDecimal('abc', 'KWD', 'latn')).toBe('abc')
    expect(formatDecimal('', 'KWD', 'latn')).toBe('')
    expect(formatDecimal('007.5', 'KWD', 'latn')).toBe('7.500')
  })
})

describe('formatAmount', () => {
  it('puts the currency after the amount, by language', () => {
    expect(formatAmount('12.5', 'KWD', 'latn', 'en')).toBe('12.500\u00A0KWD')
    expect(formatAmount('12.5', 'KWD', 'arab', 'ar')).toBe('١٢٫٥٠٠\u00A0د.ك')
    expect(formatAmount('12.5', 'KWD', 'latn', 'ar')).toBe('12.500\u00A0د.ك')
    expect(formatAmount('3', 'USD', 'latn', 'ar')).toBe('3.00\u00A0USD')
  })
})

describe('formatNumber', () => {
  it('groups counts and chooses digits', () => {
    expect(formatNumber(1000000, 'latn')).toBe('1,000,000')
    expect(formatNumber(1000000, 'arab')).toBe('١٬٠٠٠٬٠٠٠')
    expect(formatNumber(-42, 'latn')).toBe('-42')
    expect(formatNumber(12345678901234567890n, 'latn')).toBe('12,345,678,901,234,567,890')
    expect(formatNumber('987654321987654321', 'latn')).toBe('987,654,321,987,654,321')
  })
})

describe('formatDate', () => {
  const at = '2026-02-01T10:05:00Z'
  it('uses the chosen digits explicitly in both languages', () => {
    const en = formatDate(at, 'date', 'en', 'latn')
    expect(en).toMatch(/2026/)
    expect(en).not.toMatch(/[٠-٩]/)
    const arArab = formatDate(at, 'date', 'ar', 'arab')
    expect(arArab).toMatch(/٢٠٢٦/)
    expect(arArab).not.toMatch(/[0-9]/)
    // Arabic words with Latin digits: the Gulf business default.
    const arLatn = formatDate(at, 'date', 'ar', 'latn')
    expect(arLatn).toMatch(/2026/)
    expect(arLatn).not.toMatch(/[٠-٩]/)
  })
  it('uses the Gregorian calendar in Arabic', () => {
    expect(formatDate(at, 'short', 'ar', 'latn')).toMatch(/2026/)
  })
  it('returns what it cannot read', () => {
    expect(formatDate('not a date')).toBe('not a date')
  })
})

describe('formatAge', () => {
  it('gives the two largest units with the chosen digits', () => {
    const day = 86_400_000
    expect(formatAge(2 * day + 3 * 3_600_000, 'en', 'latn')).toMatch(/^2.*d.*3.*h/)
    expect(formatAge(5 * 60_000, 'en', 'latn')).toMatch(/^5\s?m/)
    expect(formatAge(2 * day, 'ar', 'arab')).toMatch(/٢/)
    expect(formatAge(-5, 'en', 'latn')).toMatch(/^0/)
  })
})
