// How amounts, numbers, dates and ages read. Amounts stay exact: they arrive as decimal
// strings and are regrouped as text, never turned into a float. Digits are chosen
// explicitly (`latn` or `arab`) from the settings, never left to the webview's locale
// default, which differs between ICU versions.

import { settings, type Digits, type Language } from './settings.svelte'

/** Minor units per currency, as the core's money.rs (CONTRACT.md "Amounts and currencies"). */
const DECIMALS: Record<string, number> = {
  KWD: 3, BHD: 3, OMR: 3, JOD: 3, IQD: 3, LYD: 3, TND: 3,
  SAR: 2, AED: 2, QAR: 2, EGP: 2, USD: 2, EUR: 2, GBP: 2,
  JPY: 0,
}

/** Arabic abbreviations merchants in the region write after an amount; others keep the ISO code. */
const ARABIC_CURRENCY: Record<string, string> = {
  KWD: 'د.ك', BHD: 'د.ب', OMR: 'ر.ع', JOD: 'د.أ', IQD: 'د.ع', LYD: 'د.ل', TND: 'د.ت',
  SAR: 'ر.س', AED: 'د.إ', QAR: 'ر.ق', EGP: 'ج.م',
}

const ARABIC_INDIC = '٠١٢٣٤٥٦٧٨٩'
/** U+066C ARABIC THOUSANDS SEPARATOR, U+066B ARABIC DECIMAL SEPARATOR. */
const ARAB_GROUP = '\u066C'
const ARAB_DECIMAL = '\u066B'
/** U+061C ARABIC LETTER MARK before the minus keeps it on the number's side in RTL text. */
const ARAB_MINUS = '\u061C-'

export function currencyDecimals(currency: string): number {
  return DECIMALS[currency.toUpperCase()] ?? 2
}

/** Replaces ASCII digits with the chosen digit set. */
export function toDigits(text: string, digits: Digits = settings.digits): string {
  if (digits === 'latn') return text
  return text.replace(/[0-9]/g, (d) => ARABIC_INDIC[d.charCodeAt(0) - 48] ?? d)
}

/** Groups a string of ASCII digits by thousands. */
function group(intDigits: string, sep: string): string {
  const out: string[] = []
  for (let end = intDigits.length; end > 0; end -= 3) out.unshift(intDigits.slice(Math.max(0, end - 3), end))
  return out.join(sep)
}

/**
 * A decimal string (`-1234.5`) with the currency's decimals (padded, never rounded: an
 * amount with more decimals than the currency has keeps them, so nothing is hidden),
 * thousands grouping and the chosen digits. Not a number we can read comes back as given.
 */
export function formatDecimal(amount: string, currency: string, digits: Digits = settings.digits): string {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(amount)
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return amount
  const negative = m[1] === '-'
  const intPart = (m[2] ?? '').replace(/^0+(?=\d)/, '') || '0'
  const decimals = currencyDecimals(currency)
  const frac = (m[3] ?? '').padEnd(decimals, '0')
  const isZero = /^0*$/.test(intPart + frac)
  const arab = digits === 'arab'
  let text = group(intPart, arab ? ARAB_GROUP : ',')
  if (frac.length > 0) text += (arab ? ARAB_DECIMAL : '.') + frac
  text = toDigits(text, digits)
  if (negative && !isZero) text = (arab ? ARAB_MINUS : '-') + text
  return text
}

/** The currency as the language writes it after an amount. */
export function currencyLabel(currency: string, language: Language = settings.language): string {
  const code = currency.toUpperCase()
  return language === 'ar' ? (ARABIC_CURRENCY[code] ?? code) : code
}

/**
 * `12.500 KWD` / `١٢٫٥٠٠ د.ك`: exact, grouped, in the chosen digits. Render inside
 * `<bdi class="amount">` so it reads whole inside text of either direction.
 */
export function formatAmount(amount: string, currency: string, digits: Digits = settings.digits, language: Language = settings.language): string {
  return `${formatDecimal(amount, currency, digits)}\u00A0${currencyLabel(currency, language)}`
}

/** Whole numbers (counts, totals), grouped, in the chosen digits. Exact for bigint and digit strings. */
export function formatNumber(n: number | bigint | string, digits: Digits = settings.digits): string {
  const text = typeof n === 'string' ? n : typeof n === 'bigint' ? n.toString() : Number.isFinite(n) ? Math.trunc(n).toString() : String(n)
  const m = /^(-?)(\d+)$/.exec(text)
  if (!m) return toDigits(text, digits)
  const body = toDigits(group(m[2] ?? '', digits === 'arab' ? ARAB_GROUP : ','), digits)
  return m[1] ? (digits === 'arab' ? ARAB_MINUS : '-') + body : body
}

/** The Intl locale for a language: British English (day before month, as in the Gulf), Arabic with the Gregorian calendar. */
export function localeFor(language: Language = settings.language, digits: Digits = settings.digits): string {
  return language === 'ar' ? `ar-u-ca-gregory-nu-${digits}` : `en-GB-u-ca-gregory-nu-${digits}`
}

const dateFormats = new Map<string, Intl.DateTimeFormat>()
/** `datetime`: 1 Dec 2026, 16:42; `date`: 1 Dec 2026; `short` (lists): 01/12/2026, 16:42. */
export type DateStyle = 'datetime' | 'date' | 'short'
const DATE_OPTIONS: Record<DateStyle, Intl.DateTimeFormatOptions> = {
  datetime: { dateStyle: 'medium', timeStyle: 'short' },
  date: { dateStyle: 'medium' },
  short: { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
}
function dateFormat(style: DateStyle, language: Language, digits: Digits): Intl.DateTimeFormat {
  const key = `${style}|${language}|${digits}`
  let f = dateFormats.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat(localeFor(language, digits), { ...DATE_OPTIONS[style], calendar: 'gregory', numberingSystem: digits })
    dateFormats.set(key, f)
  }
  return f
}

/** An RFC 3339 time in the merchant's time zone and language; an unreadable one comes back as given. */
export function formatDate(rfc3339: string, style: DateStyle = 'datetime', language: Language = settings.language, digits: Digits = settings.digits): string {
  const ms = Date.parse(rfc3339)
  if (Number.isNaN(ms)) return rfc3339
  return dateFormat(style, language, digits).format(new Date(ms))
}

/**
 * A waiting time in its two largest units (`2 d 4 h`, `5 min`), in the language's own
 * unit words from Intl, with the chosen digits.
 */
export function formatAge(ms: number, language: Language = settings.language, digits: Digits = settings.digits): string {
  const total = Math.max(0, Math.floor(ms / 1000))
  const d = Math.floor(total / 86400)
  const h = Math.floor((total % 86400) / 3600)
  const min = Math.floor((total % 3600) / 60)
  const s = total % 60
  const unit = (value: number, u: 'day' | 'hour' | 'minute' | 'second') =>
    new Intl.NumberFormat(localeFor(language, digits), { style: 'unit', unit: u, unitDisplay: 'narrow', numberingSystem: digits }).format(value)
  if (d > 0) return h > 0 ? `${unit(d, 'day')} ${unit(h, 'hour')}` : unit(d, 'day')
  if (h > 0) return min > 0 ? `${unit(h, 'hour')} ${unit(min, 'minute')}` : unit(h, 'hour')
  if (min > 0) return unit(min, 'minute')
  return unit(s, 'second')
}

/** Today's date as `YYYY-MM-DD` in local time, for date inputs. */
export function isoDay(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}`
}

/**
 * The first instant of a local calendar day as RFC 3339 UTC (`2026-01-31T21:00:00Z` for
 * 1 February in Kuwait), `days` after `day` (`YYYY-MM-DD`, a date input's value). The
 * merchant picks days on their own calendar; the core would read a bare date as a UTC day.
 * Null when `day` is not a date.
 */
export function localDayStart(day: string, days = 0): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day.trim())
  if (!m) return null
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days)
  if (Number.isNaN(d.getTime())) return null
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
