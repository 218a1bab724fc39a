// The import dialog follows its own job's events (even ones sent before import_start
// answered), cancels through job_cancel, and gives a result per id.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'
import type { ImportFinishedEvent, ImportProgressEvent } from '../lib/ipc'
import type { ImportFailure } from '../lib/bindings'
import { settings } from '../lib/settings.svelte'

vi.mock('../lib/ipc', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../lib/ipc')>()),
  importStart: vi.fn(),
  jobCancel: vi.fn(),
  onImportProgress: vi.fn(),
  onImportFinished: vi.fn(),
}))

import * as ipc from '../lib/ipc'
import ImportDialog from './ImportDialog.svelte'

let progress: (e: ImportProgressEvent) => void = () => undefined
let finished: (e: ImportFinishedEvent) => void = () => undefined

beforeEach(() => {
  vi.mocked(ipc.onImportProgress).mockImplementation((h) => ((progress = h), Promise.resolve(() => undefined)))
  vi.mocked(ipc.onImportFinished).mockImplementation((h) => ((finished = h), Promise.resolve(() => undefined)))
  vi.mocked(ipc.jobCancel).mockResolvedValue(null)
})

const p = (handled: number, imported: number) => ({ from_file: false, bytes_total: null, ids_given: 3, bytes_read: 0, handled, imported })

describe('ImportDialog', () => {
  it('shows its job’s progress, cancels it, and says what happened to each id', async () => {
    const ondone = vi.fn()
    // Another job's events and one of ours sent before import_start answers.
    vi.mocked(ipc.importStart).mockImplementation(async () => {
      progress({ job: 6, progress: p(3, 3) })
      progress({ job: 7, progress: p(1, 1) })
      return { job: 7 }
    })
    render(ImportDialog, { profiles: ['shop'], profile: 'shop', onclose: () => undefined, ondone })
    await fireEvent.input(screen.getByTestId('import-ids'), { target: { value: 'aaa111, bbb222\nccc333' } })
    await fireEvent.click(screen.getByTestId('import-submit'))
    expect(ipc.importStart).toHaveBeenCalledWith({ profile: 'shop', session_ids: ['aaa111', 'bbb222', 'ccc333'] })

    const bar = await screen.findByTestId('import-progress')
    expect(bar.getAttribute('value')).toBe('1')
    progress({ job: 7, progress: p(2, 1) })
    await waitFor(() => expect(bar.getAttribute('value')).toBe('2'))

    await fireEvent.click(screen.getByTestId('import-cancel'))
    expect(ipc.jobCancel).toHaveBeenCalledWith({ job: 7 })
    finished({
      job: 7,
      error: null,
      summary: {
        added: 1, updated: 0, unchanged: 0,
        failed: [{ session_id: 'bbb222', error: 'Ottu has no payment with this session id', code: 'not_found', params: { what: 'payment' } }], failed_count: 1,
        rejected: [], rejected_count: 0,
        stopped: { reason: 'interrupted', code: 'interrupted', message: 'interrupted', line: null, session_id: 'ccc333' },
      },
    })
    const result = await screen.findByTestId('import-result')
    const items = [...result.querySelectorAll('li')].map((li) => [li.querySelector('bdi')?.textContent, li.dataset.ok])
    expect(items).toEqual([['aaa111', 'true'], ['bbb222', 'false'], ['ccc333', 'false']])
    expect(result.querySelectorAll('li')[1]!.textContent).toContain('Ottu has no payment with this session ID.')
    expect(result.textContent).toContain('The import was cancelled.')
    expect(ondone).toHaveBeenCalledTimes(1)
    expect(screen.queryByTestId('import-cancel')).toBeNull()
  })

  it('puts a refused id list beside the field (the core names it `ids`), without asking for a file', async () => {
    vi.mocked(ipc.importStart).mockRejectedValue({
      code: 'import.too_many_ids', kind: 'invalid_input', message: 'too many', field: 'ids', params: { max: 1000, given: 1001 },
    })
    render(ImportDialog, { profiles: ['shop'], profile: 'shop', onclose: () => undefined, ondone: () => undefined })
    await fireEvent.input(screen.getByTestId('import-ids'), { target: { value: 'x1' } })
    await fireEvent.click(screen.getByTestId('import-submit'))
    const err = await screen.findByText((_, el) => el?.id === 'import-ids-error')
    expect(err.textContent).toBe('Too many session IDs at once (1,001): at most 1,000 at a time. Import them in batches.')
    expect(err.textContent).not.toMatch(/file/i)
    expect(screen.getByTestId('import-ids').getAttribute('aria-invalid')).toBe('true')
  })

  it('words each failed id from its code in the merchant’s language, and marks English-only ones', async () => {
    settings.language = 'ar'
    try {
      vi.mocked(ipc.importStart).mockResolvedValue({ job: 9 })
      render(ImportDialog, { profiles: ['shop'], profile: 'shop', onclose: () => undefined, ondone: () => undefined })
      await fireEvent.input(screen.getByTestId('import-ids'), { target: { value: 'aaa111 bbb222' } })
      await fireEvent.click(screen.getByTestId('import-submit'))
      await waitFor(() => expect(ipc.importStart).toHaveBeenCalled())
      finished({
        job: 9,
        error: null,
        summary: {
          added: 0, updated: 0, unchanged: 0,
          failed: [
            { session_id: 'aaa111', error: 'Ottu could not be reached', code: 'ottu.offline', params: {} },
            // A code this UI has no words for (a newer core): the English, marked as such.
            { session_id: 'bbb222', error: 'something only in English', code: 'ottu.brand_new', params: {} },
          ] satisfies ImportFailure[],
          failed_count: 2, rejected: [], rejected_count: 0, stopped: null,
        },
      })
      const result = await screen.findByTestId('import-result')
      const [a, b] = [...result.querySelectorAll('li')]
      expect(a!.textContent).not.toContain('Ottu could not be reached')
      expect(a!.textContent).toMatch(/[\u0621-\u064A]/)
      expect(a!.querySelector('[data-english]')).toBeNull()
      const marked = b!.querySelector('[data-english]')
      expect(marked?.textContent).toContain('بالإنجليزية فقط')
      expect(marked?.querySelector('[lang=en]')?.textContent).toBe('something only in English')
    } finally {
      settings.language = 'en'
    }
  })
})
