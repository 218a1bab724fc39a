import { describe, expect, it } from 'vitest'
import { applyConnection, live } from './live.svelte'

describe('the header lights follow the worker’s events', () => {
  it('marks a profile offline, online, paused and resumed', () => {
    live.sync = {
      paused_by_merchant: false,
      worker_error: null,
      status: {
        running: true, outstanding: 0, store_error: null, store_error_code: null, store_error_params: null,
        profiles: [{ profile: 'shop', connection: 'online', paused_reason: null, paused_code: null, paused_params: null, waiting: 2, oldest_queued_age_ms: 10 }],
      },
    }
    const shop = () => live.sync?.status.profiles.find((p) => p.profile === 'shop')
    applyConnection({ event: 'offline', profile: 'shop', retry_in_ms: 5000 })
    expect(shop()?.connection).toBe('offline')
    expect(shop()?.waiting).toBe(2)
    applyConnection({ event: 'online', profile: 'shop' })
    expect(shop()?.connection).toBe('online')
    applyConnection({ event: 'paused', profile: 'shop', reason: 'Ottu refused the key', code: 'ottu.auth', params: {} })
    expect(shop()).toMatchObject({ connection: 'paused', paused_code: 'ottu.auth' })
    applyConnection({ event: 'resumed', profile: 'shop' })
    expect(shop()).toMatchObject({ connection: 'unknown', paused_code: null })
    // A profile the last sync-state did not list gets a light of its own.
    applyConnection({ event: 'offline', profile: 'souq', retry_in_ms: 1000 })
    expect(live.sync?.status.profiles.map((p) => [p.profile, p.connection])).toEqual([['shop', 'unknown'], ['souq', 'offline']])
    // Other events change no light.
    applyConnection({ event: 'idle', next_due_in_ms: null })
    expect(live.sync?.status.profiles).toHaveLength(2)
  })
})
