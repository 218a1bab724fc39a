// A long job of the shell (report import, reconciliation, export) as a screen follows it:
// its number, its last progress, its result, and cancel. Events are listened to before
// the job starts and kept by job number, so none is missed however fast the job answers.

import type { ErrorView } from './bindings'
import * as ipc from './ipc'
import type { JobStarted, Unsubscribe } from './ipc'

/** `<kind>-progress` and `<kind>-finished` of every job (the shell's `*ProgressEvent`, `*FinishedEvent`). */
export type JobProgressEvent<P> = { job: number; progress: P }
export type JobFinishedEvent<S> = { job: number; summary: S | null; error: ErrorView | null }

type Listen<E> = (handler: (e: E) => void) => Promise<Unsubscribe>

export class Job<P, S> {
  id = $state<number | null>(null)
  progress = $state<P | null>(null)
  finished = $state<JobFinishedEvent<S> | null>(null)
  /** Why the job did not start (the command's refusal). */
  error = $state<ErrorView | null>(null)
  cancelling = $state(false)
  starting = $state(false)

  private progressBy = new Map<number, P>()
  private finishedBy = new Map<number, JobFinishedEvent<S>>()
  private done: ((e: JobFinishedEvent<S>) => void) | undefined

  constructor(
    private readonly onProgress: Listen<JobProgressEvent<P>>,
    private readonly onFinished: Listen<JobFinishedEvent<S>>,
  ) {}

  get running(): boolean {
    return this.starting || (this.id !== null && this.finished === null)
  }

  get summary(): S | null {
    return this.finished?.summary ?? null
  }

  /** Subscribes to the job's events; returns the unsubscribe (call from onMount). */
  listen(): () => void {
    const offs = [
      this.onProgress((e) => {
        this.progressBy.set(e.job, e.progress)
        if (e.job === this.id) this.progress = e.progress
      }),
      this.onFinished((e) => {
        this.finishedBy.set(e.job, e)
        if (e.job === this.id) this.finish(e)
      }),
    ]
    return () => offs.forEach((p) => void p.then((off) => off(), () => undefined))
  }

  /** Starts a job with `start`; `done` runs once with its result. */
  async start(start: () => Promise<JobStarted>, done?: (e: JobFinishedEvent<S>) => void): Promise<void> {
    if (this.running) return
    this.reset()
    this.done = done
    this.starting = true
    try {
      const started = await start()
      this.id = started.job
      this.progress = this.progressBy.get(started.job) ?? null
      const finished = this.finishedBy.get(started.job)
      if (finished) this.finish(finished)
    } catch (e) {
      this.error = ipc.asErrorView(e)
    } finally {
      this.starting = false
    }
  }

  async cancel(): Promise<void> {
    if (this.id === null || this.finished !== null) return
    this.cancelling = true
    try {
      await ipc.jobCancel({ job: this.id })
    } catch (e) {
      this.error = ipc.asErrorView(e)
      this.cancelling = false
    }
  }

  reset(): void {
    this.id = null
    this.progress = null
    this.finished = null
    this.error = null
    this.cancelling = false
  }

  private finish(e: JobFinishedEvent<S>): void {
    this.finished = e
    this.cancelling = false
    this.done?.(e)
    this.done = undefined
  }
}
