// A job followed by its events: progress and the result of its own number only, also when
// they come before the start command answers; the done callback once; cancel by number.
import { describe, expect, it, vi } from 'vitest'

vi.mock('./ipc', async (importOriginal) => ({
  ...(await importOriginal<typeof import('./ipc')>()),
  jobCancel: vi.fn(async () => null),
}))

import * as ipc from './ipc'
import { Job, type JobFinishedEvent, type JobProgressEvent } from './job.svelte'

type P = { rows: number }
type S = { file: string }

function fixture() {
  let progress: (e: JobProgressEvent<P>) => void = () => undefined
  let finished: (e: JobFinishedEvent<S>) => void = () => undefined
  const job = new Job<P, S>(
    async (h) => ((progress = h), () => undefined),
    async (h) => ((finished = h), () => undefined),
  )
  job.listen()
  return { job, progress: (e: JobProgressEvent<P>) => progress(e), finished: (e: JobFinishedEvent<S>) => finished(e) }
}

describe('Job', () => {
  it('keeps what its own job sent before the start answered, and ignores other jobs', async () => {
    const f = fixture()
    const done = vi.fn()
    await f.job.start(async () => {
      f.progress({ job: 2, progress: { rows: 5 } })
      f.progress({ job: 3, progress: { rows: 1 } })
      f.finished({ job: 3, summary: { file: 'ours' }, error: null })
      f.finished({ job: 2, summary: { file: 'theirs' }, error: null })
      return { job: 3 }
    }, done)
    expect(f.job.progress).toEqual({ rows: 1 })
    expect(f.job.summary).toEqual({ file: 'ours' })
    expect(f.job.running).toBe(false)
    expect(done).toHaveBeenCalledTimes(1)
    f.finished({ job: 3, summary: { file: 'again' }, error: null })
    expect(done).toHaveBeenCalledTimes(1)
  })

  it('cancels its own job while it runs, and reports a refused start', async () => {
    const f = fixture()
    await f.job.start(async () => ({ job: 9 }))
    expect(f.job.running).toBe(true)
    await f.job.cancel()
    expect(ipc.jobCancel).toHaveBeenCalledWith({ job: 9 })
    expect(f.job.cancelling).toBe(true)
    f.finished({ job: 9, summary: null, error: { code: 'interrupted', kind: 'unavailable', message: 'stopped', field: null, params: {} } })
    expect(f.job.running).toBe(false)
    expect(f.job.cancelling).toBe(false)

    await f.job.start(async () => {
      throw { code: 'date.invalid', kind: 'invalid_input', message: 'bad', field: 'to', params: {} }
    })
    expect(f.job.error?.code).toBe('date.invalid')
    expect(f.job.running).toBe(false)
  })
})
