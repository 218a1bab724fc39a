// The merchant's display settings, kept by the UI in localStorage (`daftar.settings`),
// not by the core: they change only how things read, never what the ledger holds.
// A `$state` object, so every template reading `settings.language` or `settings.digits`
// re-renders when they change.

export type Language = 'en' | 'ar'
/** Latin digits (the default for Gulf business documents) or Arabic-Indic. */
export type Digits = 'latn' | 'arab'
export type Settings = { language: Language; digits: Digits }

export const SETTINGS_KEY = 'daftar.settings'
export const DEFAULT_SETTINGS: Settings = { language: 'en', digits: 'latn' }

/** Reads the saved settings; anything unreadable or unknown falls back to the default. */
export function loadSettings(): Settings {
  const out: Settings = { ...DEFAULT_SETTINGS }
  try {
    const raw = globalThis.localStorage?.getItem(SETTINGS_KEY)
    if (!raw) return out
    const saved: unknown = JSON.parse(raw)
    if (typeof saved !== 'object' || saved === null) return out
    const { language, digits } = saved as Record<string, unknown>
    if (language === 'en' || language === 'ar') out.language = language
    if (digits === 'latn' || digits === 'arab') out.digits = digits
  } catch {
    // A damaged entry is not worth an error: the defaults are safe.
  }
  return out
}

export const settings: Settings = $state(loadSettings())

function save(): void {
  try {
    globalThis.localStorage?.setItem(SETTINGS_KEY, JSON.stringify({ language: settings.language, digits: settings.digits }))
  } catch {
    // Storage full or disabled: the setting still applies for this run.
  }
}

/** Sets `<html lang dir>` from the language: Arabic turns the whole layout right-to-left. */
export function applyDocument(): void {
  if (typeof document === 'undefined') return
  const root = document.documentElement
  root.lang = settings.language
  root.dir = settings.language === 'ar' ? 'rtl' : 'ltr'
}

export function setLanguage(language: Language): void {
  settings.language = language
  save()
  applyDocument()
}

export function setDigits(digits: Digits): void {
  settings.digits = digits
  save()
}
