// Every string the merchant reads goes through `t()`. Catalogs live in messages/<area>.ts,
// one per screen area, each `{ en: {...}, ar: {...} } satisfies Catalog`; the Parity
// check below makes a key missing from (or extra in) Arabic a compile error.
// `t()` reads `settings.language`, a `$state`, so templates re-render on a change.

import { settings, type Language } from '../settings.svelte'
import { formatNumber } from '../format'
import app from './messages/app'
import payments from './messages/payments'
import payment from './messages/payment'
import receipt from './messages/receipt'
import queue from './messages/queue'
import settingsMessages from './messages/settings'
import demo from './messages/demo'
import report from './messages/report'
import reconcile from './messages/reconcile'
import exportMessages from './messages/export'

export type Catalog = { en: Record<string, string>; ar: Record<string, string> }

type Parity<C extends Catalog> = [keyof C['en']] extends [keyof C['ar']]
  ? [keyof C['ar']] extends [keyof C['en']]
    ? true
    : false
  : false
// A `false` here means that catalog's `ar` and `en` do not have the same keys.
const parity: [
  Parity<typeof app>,
  Parity<typeof payments>,
  Parity<typeof payment>,
  Parity<typeof receipt>,
  Parity<typeof queue>,
  Parity<typeof settingsMessages>,
  Parity<typeof demo>,
  Parity<typeof report>,
  Parity<typeof reconcile>,
  Parity<typeof exportMessages>,
] = [true, true, true, true, true, true, true, true, true, true]
void parity

export const catalogs = { app, payments, payment, receipt, queue, settings: settingsMessages, demo, report, reconcile, export: exportMessages } as const

export type MessageKey =
  | keyof (typeof app)['en']
  | keyof (typeof payments)['en']
  | keyof (typeof payment)['en']
  | keyof (typeof receipt)['en']
  | keyof (typeof queue)['en']
  | keyof (typeof settingsMessages)['en']
  | keyof (typeof demo)['en']
  | keyof (typeof report)['en']
  | keyof (typeof reconcile)['en']
  | keyof (typeof exportMessages)['en']

const merged: Record<Language, Record<string, string>> = { en: {}, ar: {} }
for (const c of Object.values(catalogs)) {
  Object.assign(merged.en, c.en)
  Object.assign(merged.ar, c.ar)
}

export type Params = Record<string, string | number>

/**
 * The message in the current language with `{name}` placeholders filled. Numbers are
 * formatted with the digit setting; strings are inserted as given (wrap ids and amounts
 * in `<bdi>` in the template when they sit inside running text).
 */
export function t(key: MessageKey, params?: Params): string {
  return translate(settings.language, key, params)
}

/** `t` for a given language (the receipt prints in either language on request). */
export function translate(language: Language, key: MessageKey, params?: Params): string {
  const text = merged[language][key] ?? merged.en[key] ?? key
  if (!params) return text
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = params[name]
    if (v === undefined) return whole
    return typeof v === 'number' ? formatNumber(v) : v
  })
}

/** Whether `key` names a message (for keys built from data, e.g. `payments.state.paid`). */
export function hasMessage(key: string): key is MessageKey {
  return key in merged.en
}
