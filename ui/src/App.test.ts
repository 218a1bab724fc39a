// The frame: navigation by keyboard-reachable buttons with aria-current, the month-end
// screens in it, the ledger's open error and the worker's error where they are seen.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'

vi.mock('./lib/ipc', async (importOriginal) => {
  const orig = await importOriginal<typeof import('./lib/ipc')>()
  const off = () => Promise.resolve(() => undefined)
  return {
    ...orig,
    appInfo: vi.fn(),
    syncState: vi.fn(),
    demoStatus: vi.fn(),
    profiles: vi.fn(),
    listPayments: vi.fn(),
    onSyncEvent: vi.fn(off),
    onSyncState: vi.fn(off),
    onDemoStatus: vi.fn(off),
    onImportProgress: vi.fn(off),
    onImportFinished: vi.fn(off),
    onReconcileProgress: vi.fn(off),
    onReconcileFinished: vi.fn(off),
    onExportProgress: vi.fn(off),
    onExportFinished: vi.fn(off),
    onReportProgress: vi.fn(off),
    onReportFinished: vi.fn(off),
    reconciliations: vi.fn(async () => []),
    periods: vi.fn(async () => []),
  }
})

import * as ipc from './lib/ipc'
import App from './App.svelte'
import { live, refreshAppInfo } from './lib/live.svelte'
import { settings } from './lib/settings.svelte'

globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver

const storeBusy = { code: 'store.busy', kind: 'unavailable' as const, message: 'busy', field: null, params: {} }

beforeEach(() => {
  vi.mocked(ipc.appInfo).mockResolvedValue({ version: '1', ledger_path: '/data/ledger.db', log_dir: null, smoke: false, has_profiles: true, ledger_error: null, keyring_ephemeral: false })
  vi.mocked(ipc.syncState).mockResolvedValue({
    paused_by_merchant: false,
    worker_error: null,
    status: { running: true, outstanding: 0, store_error: null, store_error_code: null, store_error_params: null, profiles: [] },
  })
  vi.mocked(ipc.demoStatus).mockResolvedValue({ active: false, online: false, profile: null, base_url: null })
  vi.mocked(ipc.profiles).mockResolvedValue([])
  vi.mocked(ipc.listPayments).mockResolvedValue({ payments: [], next_cursor: null, total: 0, total_capped: false })
})

describe('App', () => {
  it('navigates with buttons that say which screen is current, to the month-end screens too', async () => {
    render(App)
    const payments = screen.getByTestId('nav-payments')
    expect(payments.tagName).toBe('BUTTON')
    expect(payments.getAttribute('aria-current')).toBe('page')
    await fireEvent.click(screen.getByTestId('nav-reconcile'))
    expect(screen.getByTestId('nav-reconcile').getAttribute('aria-current')).toBe('page')
    expect(payments.getAttribute('aria-current')).toBeNull()
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Reconciliation')
    expect(document.body.textContent).toContain('Compare Daftar with an Ottu report')
    await fireEvent.click(screen.getByTestId('nav-import-report'))
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Import an Ottu report')
    await fireEvent.click(screen.getByTestId('nav-export'))
    expect(screen.getByTestId('nav-export').getAttribute('aria-current')).toBe('page')
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Export')
    await fireEvent.click(screen.getByTestId('nav-payments'))
    // An empty ledger's list says what to do next.
    expect((await screen.findByTestId('payments-empty')).textContent).toContain('Import payments from Ottu')
  })

  it('shows why the ledger could not be opened, and that the worker is not sending', async () => {
    vi.mocked(ipc.appInfo).mockResolvedValue({ version: '1', ledger_path: '/data/ledger.db', log_dir: null, smoke: false, has_profiles: true, ledger_error: storeBusy, keyring_ephemeral: false })
    vi.mocked(ipc.syncState).mockResolvedValue({
      paused_by_merchant: false,
      worker_error: { ...storeBusy, code: 'sync.running' },
      status: { running: false, outstanding: 0, store_error: null, store_error_code: null, store_error_params: null, profiles: [] },
    })
    render(App)
    // start() subscribes once per app run (the first test did): read both again.
    await refreshAppInfo()
    live.sync = await ipc.syncState()
    const banner = await screen.findByTestId('ledger-error')
    expect(banner.getAttribute('role')).toBe('alert')
    expect(banner.textContent).toContain('The ledger could not be opened')
    expect(banner.textContent).toContain('/data/ledger.db')
    await waitFor(() => expect(screen.getByTestId('worker-error').textContent).toContain('Not sending'))
  })

  it('warns that keys saved now are lost at exit when the keyring is a throwaway one, in both languages', async () => {
    render(App)
    await refreshAppInfo()
    expect(screen.queryByTestId('keyring-ephemeral')).toBeNull()
    vi.mocked(ipc.appInfo).mockResolvedValue({ version: '1', ledger_path: '/data/ledger.db', log_dir: null, smoke: false, has_profiles: true, ledger_error: null, keyring_ephemeral: true } as ipc.AppInfo)
    await refreshAppInfo()
    const banner = await screen.findByTestId('keyring-ephemeral')
    expect(banner.textContent).toBe('Keys you save now are kept only until Daftar closes (no system keyring found).')
    settings.language = 'ar'
    try {
      await waitFor(() => expect(banner.textContent).toMatch(/حافظة مفاتيح النظام/))
    } finally {
      settings.language = 'en'
    }
  })
})
