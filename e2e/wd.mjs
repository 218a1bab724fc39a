// A small W3C WebDriver client over Node's fetch, for tauri-driver (which forwards to
// WebKitWebDriver). No webdriverio: its install pulls driver downloads this project refuses.
// Every wait polls with a deadline; nothing sleeps a fixed time to "let things settle".
import { writeFileSync } from 'node:fs'

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf'
const POLL_MS = 100

export class WebDriverError extends Error {}

async function request(base, method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {
    throw new WebDriverError(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`)
  }
  if (!response.ok) {
    const v = json.value ?? {}
    throw new WebDriverError(`${method} ${path}: ${v.error ?? response.status}: ${v.message ?? text.slice(0, 300)}`)
  }
  return json.value
}

/** Polls `probe` until it returns a truthy value (which is returned) or the deadline passes. */
export async function until(what, probe, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs
  let last
  for (;;) {
    try {
      const value = await probe()
      if (value) return value
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`)
    }
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}

export class Session {
  constructor(base, id) {
    this.base = base
    this.id = id
  }

  /** Opens the app: `application` is what tauri-driver starts, with `args`. */
  static async open(base, application, args = []) {
    const value = await request(base, 'POST', '/session', {
      capabilities: { alwaysMatch: { browserName: 'wry', 'tauri:options': { application, args } } },
    })
    return new Session(base, value.sessionId)
  }

  cmd(method, path, body) {
    return request(this.base, method, `/session/${this.id}${path}`, body)
  }

  async close() {
    await this.cmd('DELETE', '')
  }

  /** All elements matching `css` now (maybe none). */
  async all(css) {
    const found = await this.cmd('POST', '/elements', { using: 'css selector', value: css })
    return found.map((e) => e[ELEMENT])
  }

  /** The first element matching `css` that is displayed, waiting for it. */
  async find(css, timeoutMs) {
    return until(`${css} to be shown`, async () => {
      for (const el of await this.all(css)) {
        if (await this.cmd('GET', `/element/${el}/displayed`)) return el
      }
      return null
    }, timeoutMs)
  }

  /** Data-testid shorthand: `tid('payments-list')` is `[data-testid="payments-list"]`. */
  static tid(id, extra = '') {
    return `[data-testid="${id}"]${extra}`
  }

  /** Clicks `css` once it is shown and enabled (a click on a disabled button is silently
   * lost, e.g. while the amount is still being checked). */
  async click(css, timeoutMs) {
    // An element can be found while a re-render replaces it: retry on a stale reference.
    await until(`${css} to be clicked`, async () => {
      const el = await this.find(css, timeoutMs)
      if (!(await this.cmd('GET', `/element/${el}/enabled`))) return false
      await this.cmd('POST', `/element/${el}/click`, {})
      return true
    }, timeoutMs)
  }

  async type(css, text, { clear = true } = {}) {
    const el = await this.find(css)
    if (clear) await this.cmd('POST', `/element/${el}/clear`, {})
    await this.cmd('POST', `/element/${el}/value`, { text })
  }

  /** Presses one key (a WebDriver key code such as Key.Escape) on the focused element. */
  async key(value) {
    await this.cmd('POST', '/actions', {
      actions: [{ type: 'key', id: 'keyboard', actions: [{ type: 'keyDown', value }, { type: 'keyUp', value }] }],
    })
    await this.cmd('DELETE', '/actions')
  }

  async text(css) {
    return this.cmd('GET', `/element/${await this.find(css)}/text`)
  }

  async attr(css, name) {
    return this.cmd('GET', `/element/${await this.find(css)}/attribute/${name}`)
  }

  async exec(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args })
  }

  /** Chooses `value` in a <select> the way a user does: the value changes, then `change`. */
  async select(css, value) {
    const el = await this.find(css)
    await this.exec(
      `const s = arguments[0]; s.value = arguments[1];
       s.dispatchEvent(new Event('input', { bubbles: true }));
       s.dispatchEvent(new Event('change', { bubbles: true }));`,
      [{ [ELEMENT]: el }, value],
    )
  }

  /** Waits until the text of `css` satisfies `test` (a RegExp or a predicate). */
  async waitText(css, test, timeoutMs) {
    const ok = typeof test === 'function' ? test : (t) => test.test(t)
    return until(`${css} text to match ${test}`, async () => {
      const t = await this.text(css)
      return ok(t) ? t : null
    }, timeoutMs)
  }

  /** A PNG of the window, after two animation frames (else the old frame may be captured). */
  async screenshot(file) {
    await this.cmd('POST', '/execute/async', {
      script: 'const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(1)))',
      args: [],
    })
    const png = await this.cmd('GET', '/screenshot')
    writeFileSync(file, Buffer.from(png, 'base64'))
  }
}

export const tid = Session.tid
export const Key = { Escape: '\uE00C', Enter: '\uE007', Tab: '\uE004' }
export { ELEMENT }
