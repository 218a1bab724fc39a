// Which screen is shown. No router: the app has one window and a handful of screens,
// and the webview has no address bar, so URLs would add nothing but a way to get lost.

export type Screen = 'payments' | 'payment' | 'queue' | 'import-report' | 'reconcile' | 'export' | 'settings'

/** `session_id` and `profile` name the payment the `payment` screen shows. */
export const nav: { screen: Screen; session_id: string | null; profile: string | null } = $state({
  screen: 'payments',
  session_id: null,
  profile: null,
})

/** Shows `screen`; for `payment`, `arg` is the session id (and `profile` its profile). */
export function go(screen: Screen, arg?: string, profile?: string): void {
  nav.screen = screen
  nav.session_id = screen === 'payment' ? (arg ?? null) : null
  nav.profile = screen === 'payment' ? (profile ?? null) : null
}
