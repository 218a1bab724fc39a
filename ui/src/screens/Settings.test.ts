import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { ProfileDetail } from '../lib/bindings'
import * as ipc from '../lib/ipc'
import { setLanguage, settings } from '../lib/settings.svelte'
import Settings from './Settings.svelte'

vi.mock('../lib/ipc', () => ({
  profiles: vi.fn(),
  appInfo: vi.fn(),
  addProfile: vi.fn(),
  setProfile: vi.fn(),
  removeProfile: vi.fn(),
  setKey: vi.fn(),
  removeKey: vi.fn(),
  testConnection: vi.fn(),
  asErrorView: (e: unknown) => e,
}))

const SECRET = 'pa55-Wörd-never-shown-9'

function profile(over: Partial<ProfileDetail> = {}): ProfileDetail {
  return {
    name: 'shop', base_url: 'https://shop.ottu.net', currency: 'KWD', created_at: '2026-12-01T10:00:00Z',
    auth: 'api_key', basic_user: null, key_stored: false, paused_reason: null, paused_at: null, ...over,
  }
}

beforeEach(() => {
  vi.clearAllMocks()
  setLanguage('en')
  settings.digits = 'latn'
  vi.mocked(ipc.profiles).mockResolvedValue([profile()])
  vi.mocked(ipc.appInfo).mockResolvedValue({ version: '0.9.0', ledger_path: '/home/me/.local/share/daftar/ledger.db', log_dir: null, smoke: false, has_profiles: true, ledger_error: null, keyring_ephemeral: false })
})

describe('Settings', () => {
  it('sends the secret once with set_key, clears the field, and never renders it', async () => {
    vi.mocked(ipc.setKey).mockResolvedValue(profile({ auth: 'basic', basic_user: 'daftar-clerk', key_stored: true }))
    render(Settings)
    const secret = (await screen.findByTestId('key-secret')) as HTMLInputElement
    expect(secret.type).toBe('password')
    expect((screen.getByTestId('key-kind') as HTMLSelectElement).value).toBe('basic')
    await fireEvent.input(screen.getByTestId('key-user'), { target: { value: ' daftar-clerk ' } })
    await fireEvent.input(secret, { target: { value: SECRET } })
    await fireEvent.click(screen.getByTestId('key-save'))

    expect(ipc.setKey).toHaveBeenCalledTimes(1)
    expect(ipc.setKey).toHaveBeenCalledWith({ profile: 'shop', basic_user: 'daftar-clerk', secret: SECRET })
    expect(secret.value).toBe('')
    const stored = await screen.findByTestId('key-stored')
    expect(stored.textContent).toContain('daftar-clerk')
    expect(document.body.innerHTML).not.toContain(SECRET)
    expect((screen.getByTestId('key-save') as HTMLButtonElement).disabled).toBe(true)
  })

  it('clears the secret even when the keyring refuses it, and words the error', async () => {
    vi.mocked(ipc.setKey).mockRejectedValue({ code: 'key.too_short', kind: 'invalid_input', message: 'x', field: 'key', params: { what: 'the API key', length: 3, min_length: 8 } })
    render(Settings)
    await fireEvent.change(await screen.findByTestId('key-kind'), { target: { value: 'api_key' } })
    expect(screen.queryByTestId('key-user')).toBeNull()
    const secret = screen.getByTestId('key-secret') as HTMLInputElement
    await fireEvent.input(secret, { target: { value: 'abc' } })
    await fireEvent.click(screen.getByTestId('key-save'))
    expect(ipc.setKey).toHaveBeenCalledWith({ profile: 'shop', basic_user: null, secret: 'abc' })
    expect(secret.value).toBe('')
    await waitFor(() => expect(document.body.textContent).toContain('The API key is too short to be an Ottu key'))
    expect(secret.getAttribute('aria-invalid')).toBe('true')
  })

  it('switching the language to Arabic turns the page right-to-left', async () => {
    render(Settings)
    const select = (await screen.findByTestId('settings-language')) as HTMLSelectElement
    expect(document.documentElement.dir).toBe('ltr')
    await fireEvent.change(select, { target: { value: 'ar' } })
    expect(settings.language).toBe('ar')
    expect(document.documentElement.dir).toBe('rtl')
    expect(document.documentElement.lang).toBe('ar')
    await waitFor(() => expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('الإعدادات'))
    expect(JSON.parse(localStorage.getItem('daftar.settings') ?? '{}').language).toBe('ar')
  })

  it('adds a profile, tests the connection and shows the ledger path', async () => {
    vi.mocked(ipc.profiles).mockResolvedValueOnce([])
    render(Settings)
    expect((await screen.findByTestId('ledger-path')).textContent).toBe('/home/me/.local/share/daftar/ledger.db')
    expect(screen.queryByTestId('key-form')).toBeNull()
    await screen.findByText('No profile yet. Add your Ottu account below to start.')
    vi.mocked(ipc.addProfile).mockResolvedValue(profile({ name: 'kw' }))
    vi.mocked(ipc.profiles).mockResolvedValue([profile({ name: 'kw', key_stored: true })])
    await fireEvent.input(screen.getByTestId('profile-name'), { target: { value: ' kw ' } })
    await fireEvent.input(screen.getByTestId('profile-base-url'), { target: { value: 'https://kw.ottu.net' } })
    await fireEvent.input(screen.getByTestId('profile-currency'), { target: { value: 'kwd' } })
    await fireEvent.click(screen.getByTestId('profile-save'))
    await waitFor(() => expect(ipc.addProfile).toHaveBeenCalledWith({ name: 'kw', base_url: 'https://kw.ottu.net', currency: 'KWD' }))

    vi.mocked(ipc.testConnection).mockResolvedValue({ ok: false, checked_at: '2026-12-01T10:00:00Z', error: { code: 'ottu.auth', kind: 'unavailable', message: 'x', field: null, params: { status: 403, detail: 'no', permission: 'payment.inquiry' } } })
    await fireEvent.click(await screen.findByTestId('test-connection'))
    const result = await screen.findByTestId('test-connection-result')
    expect(result.dataset.ok).toBe('false')
    expect(result.textContent).toContain('payment.inquiry')
  })

  it('removes a profile only after the confirmation', async () => {
    vi.mocked(ipc.removeProfile).mockResolvedValue(profile())
    render(Settings)
    await fireEvent.click(await screen.findByText('Remove profile'))
    expect(ipc.removeProfile).not.toHaveBeenCalled()
    vi.mocked(ipc.profiles).mockResolvedValue([])
    await fireEvent.click(screen.getByTestId('confirm-yes'))
    await waitFor(() => expect(ipc.removeProfile).toHaveBeenCalledWith({ name: 'shop' }))
  })

  it('forgets a stored key only after the confirmation', async () => {
    vi.mocked(ipc.profiles).mockResolvedValue([profile({ key_stored: true })])
    vi.mocked(ipc.removeKey).mockResolvedValue(profile({ key_stored: false }))
    render(Settings)
    await fireEvent.click(await screen.findByTestId('key-forget'))
    expect(ipc.removeKey).not.toHaveBeenCalled()
    await fireEvent.click(screen.getByTestId('confirm-no'))
    expect(screen.queryByTestId('confirm-yes')).toBeNull()
    expect(ipc.removeKey).not.toHaveBeenCalled()
    await fireEvent.click(screen.getByTestId('key-forget'))
    await fireEvent.click(screen.getByTestId('confirm-yes'))
    await waitFor(() => expect(ipc.removeKey).toHaveBeenCalledWith({ name: 'shop' }))
    await waitFor(() => expect(screen.queryByTestId('key-stored')).toBeNull())
    expect(screen.queryByTestId('confirm-yes')).toBeNull()
  })
})
