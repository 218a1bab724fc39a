// What the whole app shows at once and the shell pushes as events: the app's info, the
// sync worker's state (the header's per-profile lights, the Queue screen) and the demo's
// status (the header's badge). `start()` subscribes once, from App.svelte.

import type { ProfileSyncStatus, SyncEvent } from './bindings'
import * as ipc from './ipc'
import type { AppInfo, DemoStatus, SyncState } from './ipc'
import { go, nav } from './nav.svelte'

export const live: {
  app: AppInfo | null
  sync: SyncState | null
  demo: DemoStatus | null
  /** The last sync event, for screens that refresh on progress (the queue, a payment). */
  lastEvent: SyncEvent | null
  /** Bumped on every `recorded` sync event: a screen showing operations reloads on a change. */
  recorded: number
  /**
   * Bumped when another ledger is open (the demo runs on its own file): App remounts the
   * screen, and every screen reads its data again.
   */
  ledger: number
} = $state({ app: null, sync: null, demo: null, lastEvent: null, recorded: 0, ledger: 0 })

let started: Promise<() => void> | null = null

/** Loads the app info, sync state and demo status, then follows their events. */
export function start(): Promise<() => void> {
  started ??= (async () => {
    const offs = await Promise.all([
      ipc.onSyncState((s) => (live.sync = s)),
      ipc.onDemoStatus((d) => void setDemo(d).catch(() => undefined)),
      ipc.onSyncEvent((e) => {
        live.lastEvent = e
        if (e.event === 'recorded') live.recorded += 1
        applyConnection(e)
      }),
    ])
    const [app, sync, demo] = await Promise.allSettled([ipc.appInfo(), ipc.syncState(), ipc.demoStatus()])
    if (app.status === 'fulfilled') live.app = app.value
    if (sync.status === 'fulfilled') live.sync = sync.value
    if (demo.status === 'fulfilled') live.demo = demo.value
    return () => offs.forEach((off) => off())
  })()
  return started
}

/**
 * The worker's per-profile events change that profile's light at once (`sync-state` is
 * sent only when the worker starts, stops or is paused by the merchant).
 */
export function applyConnection(e: SyncEvent): void {
  let change: Partial<ProfileSyncStatus> | null = null
  if (e.event === 'offline') change = { connection: 'offline' }
  else if (e.event === 'online') change = { connection: 'online' }
  else if (e.event === 'paused') change = { connection: 'paused', paused_reason: e.reason, paused_code: e.code, paused_params: e.params }
  // Resumed: the pause is lifted; whether Ottu answers is known at the next attempt.
  else if (e.event === 'resumed') change = { connection: 'unknown', paused_reason: null, paused_code: null, paused_params: null }
  if (!change || !('profile' in e) || !live.sync) return
  const profiles = live.sync.status.profiles
  const i = profiles.findIndex((p) => p.profile === e.profile)
  if (i >= 0) profiles[i] = { ...profiles[i]!, ...change }
  else
    profiles.push({
      profile: e.profile, connection: 'unknown', paused_reason: null, paused_code: null, paused_params: null,
      waiting: 0, oldest_queued_age_ms: null, ...change,
    })
}

/**
 * A new demo status, from a command's reply or the `demo-status` event (whichever comes
 * first): when the demo started or was left, the open ledger changed, so everything is
 * read again, once.
 */
export function setDemo(d: DemoStatus): Promise<void> {
  const was = live.demo?.active ?? false
  live.demo = d
  return was !== d.active ? ledgerChanged() : Promise.resolve()
}

/** Another ledger is open: the app info and sync state again, and the screens remount. */
export async function ledgerChanged(): Promise<void> {
  const [app, sync] = await Promise.allSettled([ipc.appInfo(), ipc.syncState()])
  if (app.status === 'fulfilled') live.app = app.value
  if (sync.status === 'fulfilled') live.sync = sync.value
  // A payment of the other ledger is not in this one.
  if (nav.screen === 'payment') go('payments')
  live.ledger += 1
}

/** Reads the app info again (after the first profile is added, `has_profiles` changes). */
export async function refreshAppInfo(): Promise<void> {
  live.app = await ipc.appInfo()
}
