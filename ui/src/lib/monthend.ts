// What the month-end screens share: where a report comes from, the words for the core's
// field names, match classes and reject codes (with the core's English kept for a code this
// UI has no words for), and small helpers.

import type { MatchClass } from './month-end-types'
import type { Upload } from './app-bindings'
import { hasMessage, t, type MessageKey } from './i18n'
import { formatDate, localeFor } from './format'
import { stateWord } from './i18n/errors'
import { settings } from './settings.svelte'

/** A picked report: a file the shell holds (by upload id) or an Ottu report (by token). */
export type Source = { kind: 'file'; upload: Upload } | { kind: 'ottu'; token: string; name: string }

/** The `upload`/`token` pair of a request. */
export function sourceRef(source: Source): { upload: string | null; token: string | null } {
  return source.kind === 'file' ? { upload: source.upload.id, token: null } : { upload: null, token: source.token }
}

export function sourceName(source: Source): string {
  return source.kind === 'file' ? source.upload.file_name : source.name
}

/** The fields a report column can be (FileKind::Report), in the order the mapping lists them. */
export const REPORT_FIELDS = [
  'session_id', 'order_no', 'parent_session_id', 'operation', 'amount', 'currency', 'state', 'pg_code',
  'created', 'modified', 'reference_number', 'refunded_amount', 'captured_amount', 'voided_amount', 'customer_email',
] as const

export const SETTLEMENT_FIELDS = ['order_no', 'reference', 'amount', 'fee', 'net', 'currency', 'settled_on'] as const

export const MATCH_CLASSES: MatchClass[] = [
  'amount_differs', 'state_differs', 'totals_differ', 'changed_late', 'report_only', 'ledger_only', 'queued', 'matched',
]

/** Classes the merchant decides on (accept Ottu's value or keep the ledger's). */
export const DECIDABLE: MatchClass[] = ['amount_differs', 'state_differs', 'totals_differ', 'changed_late', 'report_only']

/** A field name of the core (`order_no`, `refunded_amount`...) in the merchant's words. */
export function fieldWord(field: string | null): string {
  if (field === null) return t('report.field.none')
  const key = `report.field.${field}`
  return hasMessage(key) ? t(key) : field
}

export function classWord(c: MatchClass | string): string {
  const key = `reconcile.class.${c}`
  return hasMessage(key) ? t(key) : c
}

/** A rejected row's reason from its stable code; `english` when only the core's words exist. */
export function rejectWords(r: { line?: number; code: string; field?: string | null; reason: string }): { text: string; english: boolean } {
  const key = `report.reject.${r.code}`
  if (hasMessage(key)) return { text: t(key as MessageKey, { field: fieldWord(r.field ?? null) }), english: false }
  return { text: r.reason, english: true }
}

/** `HEADER=field` overrides from the columns the merchant changed. */
export function mapOverrides(changed: Record<string, string | null>): string[] {
  return Object.entries(changed).map(([header, field]) => `${header}=${field ?? '-'}`)
}

/**
 * A period's bound as a day on the calendar the core counts in (UTC days): `from` as
 * given, `to` (exclusive: the first instant after the period) as the day before it ends.
 * A bare `YYYY-MM-DD` is that day. Unreadable text comes back as given.
 */
export function periodDay(text: string | null, end = false): string {
  if (text === null) return '…'
  const bare = /^\d{4}-\d{2}-\d{2}$/.test(text)
  let ms = Date.parse(bare ? `${text}T00:00:00Z` : text)
  if (Number.isNaN(ms)) return text
  if (end && !bare) ms -= 1
  return new Intl.DateTimeFormat(localeFor(settings.language, settings.digits), {
    dateStyle: 'medium', timeZone: 'UTC', calendar: 'gregory', numberingSystem: settings.digits,
  }).format(new Date(ms))
}

/** A field's value as the core gives it (a state word, an RFC 3339 time, text), for reading. */
export function valueWord(field: string, value: string | null): string {
  if (value === null || value === '') return '—'
  if (field === 'state') return stateWord(value)
  if (/^\d{4}-\d{2}-\d{2}T/.test(value)) return formatDate(value)
  return value
}
