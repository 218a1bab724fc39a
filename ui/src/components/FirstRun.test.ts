import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import * as ipc from '../lib/ipc'
import type { DemoStatus } from '../lib/ipc'
import { live } from '../lib/live.svelte'
import { nav } from '../lib/nav.svelte'
import { setLanguage } from '../lib/settings.svelte'
import DemoBar from './DemoBar.svelte'
import FirstRun from './FirstRun.svelte'

vi.mock('../lib/ipc', () => ({
  demoStart: vi.fn(),
  demoSetOnline: vi.fn(),
  demoLeave: vi.fn(),
  appInfo: vi.fn(),
  syncState: vi.fn(async () => ({ paused_by_merchant: false, worker_error: null, status: { running: true, outstanding: 0, store_error: null, store_error_code: null, store_error_params: null, profiles: [] } })),
  asErrorView: (e: unknown) => e,
}))

const demo = (online: boolean): DemoStatus => ({ active: true, online, profile: 'demo', base_url: 'http://127.0.0.1:4100' })

beforeEach(() => {
  vi.clearAllMocks()
  setLanguage('en')
  live.demo = null
  nav.screen = 'payments'
})

describe('FirstRun', () => {
  it('starts the demo with the button disabled meanwhile, then leaves the first-run state', async () => {
    let finish: (d: DemoStatus) => void = () => undefined
    vi.mocked(ipc.demoStart).mockReturnValue(new Promise((r) => (finish = r)))
    vi.mocked(ipc.appInfo).mockResolvedValue({ version: '1', ledger_path: '/l.db', log_dir: null, smoke: false, has_profiles: true, ledger_error: null, keyring_ephemeral: false })
    render(FirstRun)
    const start = screen.getByTestId('demo-start') as HTMLButtonElement
    await fireEvent.click(start)
    expect(ipc.demoStart).toHaveBeenCalledTimes(1)
    expect(start.disabled).toBe(true)
    expect(screen.getByRole('status').textContent).toContain('Starting the demo')
    finish(demo(true))
    await waitFor(() => expect(live.app?.has_profiles).toBe(true))
    expect(live.demo?.active).toBe(true)
    expect(start.disabled).toBe(false)
    // The demo's ledger is open now: app info read again, the screens told to reload, once
    // (the demo-status event that follows the reply changes nothing more).
    expect(ipc.appInfo).toHaveBeenCalledTimes(1)
    expect(ipc.syncState).toHaveBeenCalledTimes(1)
  })

  it('goes to Settings to add one\'s own profile', async () => {
    render(FirstRun)
    await fireEvent.click(screen.getByTestId('first-run-settings'))
    expect(nav.screen).toBe('settings')
  })
})

describe('DemoBar', () => {
  it('shows nothing without a demo, and a badge plus a network switch with one', async () => {
    const { container } = render(DemoBar)
    expect(container.textContent?.trim()).toBe('')
    live.demo = demo(true)
    const toggle = (await screen.findByTestId('demo-online-toggle')) as HTMLButtonElement
    expect(screen.getByTestId('demo-badge').textContent).toBe('Demo')
    expect(toggle.getAttribute('aria-pressed')).toBe('true')
    vi.mocked(ipc.demoSetOnline).mockResolvedValue(demo(false))
    await fireEvent.click(toggle)
    expect(ipc.demoSetOnline).toHaveBeenCalledWith({ online: false })
    await waitFor(() => expect(toggle.getAttribute('aria-pressed')).toBe('false'))
    expect(toggle.textContent).toContain('Offline')
  })

  it('leaves the demo: back to the merchant’s ledger, everything read again', async () => {
    live.demo = demo(true)
    live.app = { version: '1', ledger_path: '/l.demo.sqlite3', log_dir: null, smoke: false, has_profiles: true, ledger_error: null } as ipc.AppInfo
    nav.screen = 'payment'
    const ledger = live.ledger
    vi.mocked(ipc.appInfo).mockResolvedValue({ version: '1', ledger_path: '/l.sqlite3', log_dir: null, smoke: false, has_profiles: false, ledger_error: null } as ipc.AppInfo)
    vi.mocked(ipc.demoLeave).mockResolvedValue({ active: false, online: false, profile: null, base_url: null })
    render(DemoBar)
    await fireEvent.click(await screen.findByTestId('demo-leave'))
    expect(ipc.demoLeave).toHaveBeenCalledTimes(1)
    await waitFor(() => expect(live.ledger).toBe(ledger + 1))
    expect(live.app?.ledger_path).toBe('/l.sqlite3')
    expect(ipc.syncState).toHaveBeenCalledTimes(1)
    // The demo payment on screen is not in the real ledger.
    expect(nav.screen).toBe('payments')
    expect(screen.queryByTestId('demo-badge')).toBeNull()
  })
})
