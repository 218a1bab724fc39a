//! A seeded, lazy generator of payments: payment `i` (0 = the newest) is computed from
//! `(seed, i)` alone, so a list of 1,000,000 costs nothing until a page asks for its rows,
//! and the same seed always gives the same ledger (screenshots and figures are repeatable).

import type { PaymentState, PaymentView } from '../../src/lib/bindings'

/** A payment row without its balances (`refundable`, `capturable`): those depend on the
 *  operations queued since, so they are added when a row is answered. */
export type BaseView = Omit<PaymentView, 'refundable' | 'capturable'>

/** A row as `list_payments` answers it: with its balances (whether or not the bindings
 *  in this tree have them yet). */
export type ListedView = BaseView & { refundable: string; capturable: string }

/** One generated payment, with the balances the core would derive from its children. */
export type Generated = {
  view: BaseView
  /** Minor units (fils for KWD). */
  amount_minor: number
  /** Already refunded before the test starts (a refund child in state `refunded`). */
  refunded_minor: number
  /** Captured on an authorization (a capture child in state `paid`). */
  captured_minor: number
}

export const KWD_DECIMALS = 3

/** A 32-bit avalanche hash (murmur3's finalizer) of the seed, the index and a salt. */
export function hash32(seed: number, index: number, salt: number): number {
  let h = (seed * 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b) ^ Math.imul(salt + 7, 0xc2b2ae35)
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'))

// Through a byte table: number.toString(16) is ten times slower, and a search over a
// million payments makes millions of these.
function hex8(n: number): string {
  return `${HEX[n >>> 24]}${HEX[(n >>> 16) & 255]}${HEX[(n >>> 8) & 255]}${HEX[n & 255]}`
}

/** `12345` fils -> `"12.345"`: exact, from integers, never a float. */
export function formatMinor(minor: number, decimals = KWD_DECIMALS): string {
  const negative = minor < 0
  const digits = String(Math.abs(minor)).padStart(decimals + 1, '0')
  const whole = digits.slice(0, digits.length - decimals)
  const frac = digits.slice(digits.length - decimals)
  return `${negative ? '-' : ''}${whole}${decimals > 0 ? `.${frac}` : ''}`
}

// Cumulative share (out of 100) of each state among generated payments.
const STATE_TABLE: Array<[number, PaymentState]> = [
  [58, 'paid'],
  [68, 'authorized'],
  [74, 'refunded'],
  [80, 'pending'],
  [85, 'created'],
  [90, 'failed'],
  [93, 'canceled'],
  [95, 'expired'],
  [97, 'voided'],
  [98, 'attempted'],
  [99, 'cod'],
  [100, 'cash'],
]

export class PaymentGenerator {
  readonly seed: number
  readonly count: number
  /** When payment 0 was created (ms since the epoch); each older one is 31 s before. */
  readonly newest_ms: number
  static readonly SPACING_MS = 31_000

  constructor(seed: number, count: number, newest_ms: number) {
    this.seed = seed
    this.count = count
    this.newest_ms = newest_ms
  }

  state(i: number): PaymentState {
    const roll = hash32(this.seed, i, 3) % 100
    for (const [limit, state] of STATE_TABLE) if (roll < limit) return state
    return 'paid'
  }

  sessionId(i: number): string {
    let id = ''
    for (let k = 0; k < 5; k++) id += hex8(hash32(this.seed, i, 100 + k))
    return id
  }

  /** The first 8 characters of [`sessionId`], without computing the rest. */
  sessionPrefix(i: number): string {
    return hex8(hash32(this.seed, i, 100))
  }

  orderNo(i: number): string | null {
    if (hash32(this.seed, i, 5) % 13 === 0) return null
    return `ORD-${String(this.count - i).padStart(7, '0')}`
  }

  profile(i: number): string {
    return hash32(this.seed, i, 6) % 5 === 0 ? 'souq' : 'shop'
  }

  email(i: number): string | null {
    const h = hash32(this.seed, i, 7)
    return h % 4 === 0 ? null : `customer${h % 9973}@example.com`
  }

  phone(i: number): string | null {
    const h = hash32(this.seed, i, 8)
    return h % 3 === 0 ? null : `+965${50_000_000 + (h % 49_999_999)}`
  }

  createdMs(i: number): number {
    return this.newest_ms - i * PaymentGenerator.SPACING_MS
  }

  /** The index of the newest payment created before `ms` (may be >= count). */
  firstIndexBefore(ms: number): number {
    return Math.max(0, Math.floor((this.newest_ms - ms) / PaymentGenerator.SPACING_MS) + 1)
  }

  /** The index of the oldest payment created at or after `ms` (-1 when none is). */
  lastIndexAtOrAfter(ms: number): number {
    return Math.floor((this.newest_ms - ms) / PaymentGenerator.SPACING_MS)
  }

  payment(i: number): Generated {
    const state = this.state(i)
    const amount_minor = 500 + (hash32(this.seed, i, 4) % 250_000)
    const partial = hash32(this.seed, i, 9)
    let refunded_minor = 0
    let captured_minor = 0
    if (state === 'refunded') refunded_minor = amount_minor
    else if (state === 'paid' && partial % 6 === 0) {
      refunded_minor = Math.floor((amount_minor * (partial % 50)) / 100)
    } else if (state === 'authorized' && partial % 4 === 0) {
      captured_minor = Math.floor((amount_minor * (10 + (partial % 60))) / 100)
    }
    return {
      view: {
        session_id: this.sessionId(i),
        order_no: this.orderNo(i),
        profile: this.profile(i),
        currency: 'KWD',
        amount: formatMinor(amount_minor),
        state,
        hidden: false,
        source: 'ottu',
        created_at: new Date(this.createdMs(i)).toISOString(),
        customer_email: this.email(i),
        customer_phone: this.phone(i),
      },
      amount_minor,
      refunded_minor,
      captured_minor,
    }
  }

  /** A generated payment's row with its balances, as the core derives them (rules.rs)
   *  when nothing has been queued on it. */
  listed(p: Generated): ListedView {
    const refundBase = p.view.state === 'paid' ? p.amount_minor : p.view.state === 'authorized' ? p.captured_minor : 0
    const refundable = Math.max(0, refundBase - p.refunded_minor)
    const capturable = p.view.state === 'authorized' ? Math.max(0, p.amount_minor - p.captured_minor) : 0
    return { ...p.view, refundable: formatMinor(refundable), capturable: formatMinor(capturable) }
  }

  /** The index range `[from, to)` a search can match at all: an order-number prefix
   *  names a run of consecutive payments (the number counts down the list), so such a
   *  search tests only those, like the core's index; `null` for any other search. */
  searchRange(search: string): [number, number] | null {
    const m = /^ord-(\d{1,7})$/.exec(search.toLowerCase())
    if (!m || !m[1]) return null
    const div = 10 ** (7 - m[1].length)
    const low = Number(m[1]) * div
    // order number n = count - i, so n in [low, low + div) is i in (count - low - div, count - low].
    return [Math.max(0, this.count - low - div + 1), Math.max(0, Math.min(this.count, this.count - low + 1))]
  }

  /** A test of payment `i` against a search, the way the core searches: the start of the
   *  order number, email, phone (with or without `+`) or session id, any case; one or two
   *  characters match anywhere. Decided from the hashes where it can (no strings), since a
   *  search may test every one of a million payments. */
  matcher(search: string): (i: number) => boolean {
    const n = search.toLowerCase()
    if (n.length < 3) {
      return (i) => {
        const phone = this.phone(i)
        return [this.sessionId(i), this.orderNo(i), this.email(i), phone].some((v) => v !== null && v.toLowerCase().includes(n))
      }
    }
    const tests: Array<(i: number) => boolean> = []
    if (/^[0-9a-f]+$/.test(n)) {
      const head = n.slice(0, 8)
      const value = parseInt(head, 16)
      const shift = 32 - 4 * head.length
      tests.push((i) => hash32(this.seed, i, 100) >>> shift === value && (n.length <= 8 || this.sessionId(i).startsWith(n)))
    }
    if ('ord-'.startsWith(n)) tests.push((i) => this.orderNo(i) !== null)
    else if (/^ord-\d{1,7}$/.test(n)) {
      const digits = n.slice(4)
      const value = Number(digits)
      const div = 10 ** (7 - digits.length)
      tests.push((i) => Math.floor((this.count - i) / div) === value && this.orderNo(i) !== null)
    }
    if ('customer'.startsWith(n)) tests.push((i) => this.email(i) !== null)
    else if (n.startsWith('customer')) {
      const rest = n.slice('customer'.length)
      tests.push((i) => this.email(i)?.slice('customer'.length).startsWith(rest) ?? false)
    }
    const phone = n.startsWith('+') ? n.slice(1) : n
    if (/^\d+$/.test(phone)) tests.push((i) => this.phone(i)?.slice(1).startsWith(phone) ?? false)
    return (i) => tests.some((test) => test(i))
  }
}
