import { describe, expect, it } from 'vitest'
import { mapOverrides, periodDay, rejectWords, sourceRef } from './monthend'
import { settings } from './settings.svelte'

describe('month-end helpers', () => {
  it('shows a period by its UTC days, the exclusive end as the day before', () => {
    settings.language = 'en'
    settings.digits = 'latn'
    expect(periodDay('2026-11-01T00:00:00Z')).toBe('1 Nov 2026')
    expect(periodDay('2026-12-01T00:00:00Z', true)).toBe('30 Nov 2026')
    expect(periodDay('2026-11-30', true)).toBe('30 Nov 2026')
    expect(periodDay(null)).toBe('…')
    expect(periodDay('not a date')).toBe('not a date')
    settings.digits = 'arab'
    expect(periodDay('2026-11-01T00:00:00Z')).toContain('٢٠٢٦')
    settings.digits = 'latn'
  })

  it('words a reject from its code, and keeps the core English for a code it does not know', () => {
    settings.language = 'ar'
    expect(rejectWords({ line: 3, code: 'row.duplicate', field: 'session_id', reason: 'x' })).toEqual({ text: 'رقم الجلسة نفسه ورد قبل ذلك في الملف.', english: false })
    expect(rejectWords({ line: 3, code: 'row.newer', field: null, reason: 'as the core says' })).toEqual({ text: 'as the core says', english: true })
    settings.language = 'en'
  })

  it('builds requests: a source as upload or token, changed columns as HEADER=field', () => {
    expect(sourceRef({ kind: 'file', upload: { id: 'u3', file_name: 'a.csv', bytes: 3 } })).toEqual({ upload: 'u3', token: null })
    expect(sourceRef({ kind: 'ottu', token: 'tok', name: 'Nov' })).toEqual({ upload: null, token: 'tok' })
    expect(mapOverrides({ 'Client mail': 'customer_email', Notes: null })).toEqual(['Client mail=customer_email', 'Notes=-'])
  })
})
