// The import screen: a picked file goes to the shell as bytes (reportUpload), the dry run
// and the commit name that upload, a changed column is checked again before the commit
// (and sent as HEADER=field with it), and a rejected row reads in the merchant's language.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'
import type { ReportFinishedEvent, ReportImportSummary } from '../lib/ipc'
import { settings } from '../lib/settings.svelte'

vi.mock('../lib/ipc', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../lib/ipc')>()),
  profiles: vi.fn(async () => [{ name: 'shop', base_url: 'https://shop.ottu.net', currency: 'KWD', created_at: '2026-01-01T00:00:00Z', auth: 'api_key', basic_user: null, key_stored: true, paused_reason: null, paused_at: null }]),
  reportUpload: vi.fn(async (file: File) => ({ id: 'u7', file_name: file.name, bytes: file.size })),
  reportImportStart: vi.fn(),
  onReportProgress: vi.fn(async () => () => undefined),
  onReportFinished: vi.fn(),
}))

import * as ipc from '../lib/ipc'
import ImportReport from './ImportReport.svelte'

let finished: (e: ReportFinishedEvent) => void = () => undefined
let job = 0

const plan = (committed: boolean, field: string | null): ReportImportSummary => ({
  profile: 'shop', file: '/cache/u7/nov.csv', format: 'csv', committed, rows: 3,
  columns: [{ header: 'Session ID', field: 'session_id' }, { header: 'Client mail', field }],
  added: [{ line: 2, session_id: 'S-1', order_no: 'O-1', amount: '12.500', currency: 'KWD', state: 'paid' }], added_count: 1,
  updated: [], updated_count: 0, unchanged_count: 0, conflicts: [], conflict_count: 0,
  rejected: [{ line: 3, code: 'row.bad_amount', field: 'amount', reason: "'x' is not an amount" }], rejected_count: 1,
  rejects_file: null, totals: [],
})

beforeEach(() => {
  settings.language = 'en'
  settings.digits = 'latn'
  vi.mocked(ipc.onReportFinished).mockImplementation((h) => ((finished = h), Promise.resolve(() => undefined)))
  vi.mocked(ipc.reportImportStart).mockImplementation(async () => ({ job: ++job }))
})

describe('ImportReport', () => {
  it('checks the uploaded file, rechecks a changed column, then commits with it', async () => {
    render(ImportReport)
    const input = (await screen.findByTestId('import-report-source-file')) as HTMLInputElement
    const file = new File(['Session ID,Client mail\n'], 'nov.csv', { type: 'text/csv' })
    await fireEvent.change(input, { target: { files: [file] } })
    await screen.findByTestId('import-report-source-uploaded')
    expect(ipc.reportUpload).toHaveBeenCalledWith(file)

    await waitFor(() => expect((screen.getByTestId('import-report-profile') as HTMLSelectElement).value).toBe('shop'))
    await fireEvent.click(screen.getByTestId('import-report-check'))
    expect(ipc.reportImportStart).toHaveBeenLastCalledWith({ profile: 'shop', upload: 'u7', token: null, map: [], commit: false })
    finished({ job, summary: plan(false, null), error: null })
    await screen.findByTestId('import-report-plan')
    await fireEvent.click(screen.getByTestId('tab-rejected'))
    expect(screen.getByTestId('row-rejected').textContent).toContain('The amount cannot be read (Amount).')

    await fireEvent.change(screen.getByTestId('map-1'), { target: { value: 'customer_email' } })
    expect((screen.getByTestId('import-report-commit') as HTMLButtonElement).disabled).toBe(true)
    await fireEvent.click(screen.getByTestId('import-report-recheck'))
    expect(ipc.reportImportStart).toHaveBeenLastCalledWith({ profile: 'shop', upload: 'u7', token: null, map: ['Client mail=customer_email'], commit: false })
    finished({ job, summary: plan(false, 'customer_email'), error: null })
    await waitFor(() => expect((screen.getByTestId('import-report-commit') as HTMLButtonElement).disabled).toBe(false))

    await fireEvent.click(screen.getByTestId('import-report-commit'))
    expect(ipc.reportImportStart).toHaveBeenLastCalledWith({ profile: 'shop', upload: 'u7', token: null, map: ['Client mail=customer_email'], commit: true })
    finished({ job, summary: { ...plan(true, 'customer_email'), rejects_file: '/home/m/Downloads/daftar-rejects-2026-12-01.csv' }, error: null })
    const done = await screen.findByTestId('import-report-committed')
    expect(done.textContent).toContain('Imported: 1 new')
    expect(done.textContent).toContain('daftar-rejects-2026-12-01.csv')
  })
})
