// The export screen sends the core's request without any path, follows its own job's
// events (even one sent before export_start answered), shows where the shell wrote the file,
// and puts a field's error beside that field.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'
import type { ExportFinishedEvent, ExportProgressEvent } from '../lib/ipc'
import { settings } from '../lib/settings.svelte'

vi.mock('../lib/ipc', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../lib/ipc')>()),
  profiles: vi.fn(async () => []),
  reconciliations: vi.fn(async () => []),
  exportStart: vi.fn(),
  jobCancel: vi.fn(),
  onExportProgress: vi.fn(),
  onExportFinished: vi.fn(),
}))

import * as ipc from '../lib/ipc'
import Export from './Export.svelte'

let progress: (e: ExportProgressEvent) => void = () => undefined
let finished: (e: ExportFinishedEvent) => void = () => undefined

beforeEach(() => {
  settings.language = 'en'
  settings.digits = 'latn'
  vi.mocked(ipc.onExportProgress).mockImplementation((h) => ((progress = h), Promise.resolve(() => undefined)))
  vi.mocked(ipc.onExportFinished).mockImplementation((h) => ((finished = h), Promise.resolve(() => undefined)))
  vi.mocked(ipc.jobCancel).mockResolvedValue(null)
})

describe('Export', () => {
  it('exports without naming a path, shows its progress and the file the shell wrote', async () => {
    vi.mocked(ipc.exportStart).mockImplementation(async () => {
      progress({ job: 4, progress: { rows: 99, total: 100 } })
      progress({ job: 5, progress: { rows: 10, total: 40 } })
      return { job: 5 }
    })
    render(Export)
    await fireEvent.input(screen.getByTestId('export-from'), { target: { value: '2026-11-01' } })
    await fireEvent.click(screen.getByTestId('export-format-xlsx'))
    await fireEvent.click(screen.getByTestId('export-submit'))
    const sent = vi.mocked(ipc.exportStart).mock.calls[0]![0]
    expect(sent).toEqual({ what: 'ledger', format: 'xlsx', profile: null, from: '2026-11-01', to: null, reconciliation: null, lang: 'en', bom: false })
    expect('path' in sent).toBe(false)
    const bar = await screen.findByTestId('export-progress')
    expect(bar.getAttribute('value')).toBe('10')
    expect(bar.getAttribute('max')).toBe('40')
    await fireEvent.click(screen.getByTestId('export-progress-cancel'))
    expect(ipc.jobCancel).toHaveBeenCalledWith({ job: 5 })
    finished({ job: 4, summary: { file: '/elsewhere.csv', what: 'ledger', format: 'csv', rows: 100, totals: [] }, error: null })
    finished({ job: 5, summary: { file: '/home/m/Downloads/daftar-ledger-2026-12-01.xlsx', what: 'ledger', format: 'xlsx', rows: 40, totals: [] }, error: null })
    await waitFor(() => expect(screen.getByTestId('export-path').textContent).toBe('/home/m/Downloads/daftar-ledger-2026-12-01.xlsx'))
    expect(screen.getByTestId('export-done').textContent).toContain('Exported 40 rows')
  })

  it('puts a refused date beside its field, in Arabic too', async () => {
    settings.language = 'ar'
    vi.mocked(ipc.exportStart).mockRejectedValue({ code: 'date.invalid', kind: 'invalid_input', message: 'bad', field: 'to', params: {} })
    render(Export)
    expect((screen.getByTestId('export-lang') as HTMLSelectElement).value).toBe('ar')
    await fireEvent.click(screen.getByTestId('export-submit'))
    const to = screen.getByTestId('export-to')
    await waitFor(() => expect(to.getAttribute('aria-describedby')).toBe('export-to-error'))
    expect(document.getElementById('export-to-error')?.textContent).not.toBe('')
    expect(screen.queryByTestId('export-error')).toBeNull()
  })
})
