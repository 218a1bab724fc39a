// What the whole app shows at once and the shell pushes as events: the app's info, the
// sync worker's state (the header's per-profile lights, the Queue screen) and the demo's
// status (the header's badge). `start()` subscribes once, from App.svelte.

import type { SyncEvent } from './bindings'
import * as ipc from './ipc'
import type { AppInfo, DemoStatus, SyncState } from './ipc'

export const live: {
  app: AppInfo | null
  sync: SyncState | null
  demo: DemoStatus | null
  /** The last sync event, for screens that refresh on progress (the queue, a payment). */
  lastEvent: SyncEvent | null
  /** Bumped on every `recorded` sync event: a screen showing operations reloads on a change. */
  recorded: number
} = $state({ app: null, sync: null, demo: null, lastEvent: null, recorded: 0 })

let started: Promise<() => void> | null = null

/** Loads the app info, sync state and demo status, then follows their events. */
export function start(): Promise<() => void> {
  started ??= (async () => {
    const offs = await Promise.all([
      ipc.onSyncState((s) => (live.sync = s)),
      ipc.onDemoStatus((d) => (live.demo = d)),
      ipc.onSyncEvent((e) => {
        live.lastEvent = e
        if (e.event === 'recorded') live.recorded += 1
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

/** Reads the app info again (after the first profile is added, `has_profiles` changes). */
export async function refreshAppInfo(): Promise<void> {
  live.app = await ipc.appInfo()
}
