// The browser tests' page: install the fake backend, then start the real app unchanged.
// Options come from the query string: ?payments=1000000&seed=9&empty=1&latency=2&worker=1&step=120&queue=0&ephemeral=1
import { DEFAULT_OPTIONS, installMockBackend, type MockOptions } from './backend'

const q = new URLSearchParams(window.location.search)
const num = (name: string, fallback: number): number => {
  const v = q.get(name)
  return v === null || v === '' || Number.isNaN(Number(v)) ? fallback : Number(v)
}
const flag = (name: string, fallback: boolean): boolean => {
  const v = q.get(name)
  return v === null ? fallback : v === '1' || v === 'true'
}
const options: MockOptions = {
  payments: num('payments', DEFAULT_OPTIONS.payments),
  seed: num('seed', DEFAULT_OPTIONS.seed),
  empty: flag('empty', DEFAULT_OPTIONS.empty),
  latency_ms: num('latency', DEFAULT_OPTIONS.latency_ms),
  worker: flag('worker', DEFAULT_OPTIONS.worker),
  step_ms: num('step', DEFAULT_OPTIONS.step_ms),
  seed_queue: flag('queue', DEFAULT_OPTIONS.seed_queue),
  keyring_ephemeral: flag('ephemeral', false),
}
installMockBackend(options)
await import('../../src/main')
