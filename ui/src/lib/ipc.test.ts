// Every rejection reaching the screens is an ErrorView, even Tauri's own plain string (a
// request it could not deserialize), so describeError always has a code to word.
import { describe, expect, it, vi } from 'vitest'

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }))

import { invoke } from '@tauri-apps/api/core'
import * as ipc from './ipc'
import { describeError } from './i18n/errors'

describe('ipc', () => {
  it('wraps a plain-string rejection into app.bad_request', async () => {
    vi.mocked(invoke).mockRejectedValueOnce('invalid args `request` for command `list_payments`: missing field `limit`')
    const e = await ipc.listPayments({ limit: 1 }).catch((x: unknown) => x)
    expect(e).toEqual({
      code: 'app.bad_request', kind: 'internal', field: null, params: {},
      message: 'invalid args `request` for command `list_payments`: missing field `limit`',
    })
    expect(describeError(e as never, 'en')).toMatch(/could not read/)
  })

  it('passes the core’s ErrorView through, and sends the one `request` argument', async () => {
    const view = { code: 'store.busy', kind: 'unavailable', message: 'busy', field: null, params: { a: 1 } }
    vi.mocked(invoke).mockRejectedValueOnce(view)
    await expect(ipc.showPayment({ session_id: 's', profile: null })).rejects.toEqual(view)
    expect(invoke).toHaveBeenLastCalledWith('show_payment', { request: { session_id: 's', profile: null } })
    vi.mocked(invoke).mockResolvedValueOnce({ version: '1' })
    await expect(ipc.appInfo()).resolves.toEqual({ version: '1' })
    expect(invoke).toHaveBeenLastCalledWith('app_info')
  })
})
