// Cursor pages of `list_payments` behind a virtual list. The core pages by keyset cursor
// (no offsets), so rows are known as far as pages have been walked: the list grows as
// the merchant scrolls, each page fetched once with the cursor its predecessor gave.
// Pages far from the view are dropped and fetched again with their stored cursor, so
// memory stays bounded however far one scrolls through 1,000,000 payments.

import type { ErrorView, PaymentPage, PaymentQuery, PaymentView } from './bindings'
import { asErrorView, listPayments } from './ipc'

export type Filters = Omit<PaymentQuery, 'after' | 'limit'>

/** Pages kept each side of the view (5,000 rows at most, about a megabyte); farther ones are fetched again when scrolled back to. */
const KEEP_PAGES = 50

export class PaymentPager {
  readonly pageRows: number
  /** Bumped whenever a page arrives or is dropped: readers of `row()` depend on it. */
  version = $state(0)
  total = $state(0)
  capped = $state(false)
  /** The first page has answered (before that, emptiness is unknown). */
  started = $state(false)
  /** The last page has been read: `rows` is exact. */
  done = $state(false)
  error: ErrorView | null = $state(null)
  /** Rows that exist as far as known: the walked pages, plus one more page while there are more. */
  rows = $state(0)

  #filters: Filters = {}
  #pages: (PaymentView[] | undefined)[] = []
  /** `after` for each page: page 0 has none; page k+1's is page k's next_cursor. */
  #cursors: (string | null)[] = [null]
  #inflight = new Set<number>()
  #generation = 0
  #center = 0
  #load: (q: PaymentQuery) => Promise<PaymentPage>

  constructor(pageRows = 100, load: (q: PaymentQuery) => Promise<PaymentPage> = listPayments) {
    this.pageRows = pageRows
    this.#load = load
  }

  get filters(): Filters {
    return this.#filters
  }

  /** Starts over with new filters (a new search): the old pages' answers are ignored. */
  reset(filters: Filters): Promise<void> {
    this.#generation += 1
    this.#filters = { ...filters }
    this.#pages = []
    this.#cursors = [null]
    this.#inflight.clear()
    this.total = 0
    this.capped = false
    this.started = false
    this.done = false
    this.error = null
    this.rows = 0
    this.version += 1
    return this.#fetch(0)
  }

  row(index: number): PaymentView | undefined {
    return this.#pages[Math.floor(index / this.pageRows)]?.[index % this.pageRows]
  }

  /** Fetches what rows [first, end) need, and the page after them, if not already there. */
  ensure(first: number, end: number): void {
    const from = Math.floor(first / this.pageRows)
    const to = Math.floor(Math.max(first, end - 1) / this.pageRows) + 1
    this.#center = Math.floor((from + to) / 2)
    for (let p = from; p <= to && p < this.#cursors.length; p++) {
      if (!this.#pages[p] && !this.#inflight.has(p)) void this.#fetch(p)
    }
  }

  /** Reads the loaded pages near the view again (balances changed), keeping the scroll place. */
  async refresh(): Promise<void> {
    const near: number[] = []
    this.#pages.forEach((page, p) => {
      if (page && Math.abs(p - this.#center) <= 2) near.push(p)
    })
    await Promise.all(near.map((p) => this.#fetch(p)))
  }

  /** How many pages are held (for the tests: memory stays bounded). */
  get heldPages(): number {
    return this.#pages.filter(Boolean).length
  }

  async #fetch(p: number): Promise<void> {
    const generation = this.#generation
    this.#inflight.add(p)
    try {
      const page = await this.#load({ ...this.#filters, after: this.#cursors[p] ?? null, limit: this.pageRows })
      if (generation !== this.#generation) return
      this.#pages[p] = page.payments
      this.total = page.total
      this.capped = page.total_capped
      this.started = true
      this.error = null
      if (page.next_cursor !== null) {
        this.#cursors[p + 1] = page.next_cursor
      } else {
        this.#cursors.length = p + 1
        this.done = true
      }
      this.#recount()
      this.#evict()
      this.version += 1
    } catch (e) {
      if (generation !== this.#generation) return
      this.error = asErrorView(e)
      this.started = true
    } finally {
      if (generation === this.#generation) this.#inflight.delete(p)
    }
  }

  #recount(): void {
    const last = this.#cursors.length - 1
    if (this.done) {
      this.rows = last * this.pageRows + (this.#pages[last]?.length ?? 0)
    } else {
      // Every walked page is full; the next one is at most a page.
      const walked = this.#cursors.length * this.pageRows
      this.rows = this.capped ? walked : Math.min(this.total, walked)
    }
  }

  #evict(): void {
    this.#pages.forEach((page, p) => {
      if (page && Math.abs(p - this.#center) > KEEP_PAGES) this.#pages[p] = undefined
    })
  }
}
