// Plain W3C WebDriver over HTTP against tauri-driver (no webdriverio needed).
import { writeFileSync } from 'node:fs'
const WD = process.env.WD_URL ?? 'http://127.0.0.1:4444'
const app = process.env.APP ?? '/tmp/tauri-probe/target/debug/app'
async function wd(method, path, body) {
  const r = await fetch(WD + path, { method, headers: { 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined })
  const j = await r.json()
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`)
  return j.value
}
const t0 = Date.now()
const s = await wd('POST', '/session', { capabilities: { alwaysMatch: { browserName: 'wry', 'tauri:options': { application: app } } } })
const sid = s.sessionId
console.log('session', sid, 'in', Date.now() - t0, 'ms')
const EL = 'element-6066-11e4-a52e-4f735466cecf'
const find = async css => { const v = await wd("POST", `/session/${sid}/element`, { using: "css selector", value: css }); if (!v[EL]) console.log("find", css, JSON.stringify(v)); return v[EL] }
try {
  const input = await find('#name')
  await wd('POST', `/session/${sid}/element/${input}/clear`, {})
  await wd('POST', `/session/${sid}/element/${input}/value`, { text: 'WebDriver' })
  await wd('POST', `/session/${sid}/element/${await find('#greet')}/click`, {})
  let text = ''
  for (let i = 0; i < 50 && !text; i++) {
    text = await wd('GET', `/session/${sid}/element/${await find('#msg')}/text`)
    if (!text) await new Promise(r => setTimeout(r, 100))
  }
  console.log('msg =', JSON.stringify(text), 'err =', JSON.stringify(await wd('GET', `/session/${sid}/element/${await find('#err')}/text`)))
  await wd('POST', `/session/${sid}/execute/async`, { script: 'const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(1)))', args: [] })
  const png = await wd('GET', `/session/${sid}/screenshot`)
  writeFileSync('/tmp/tauri-probe/shot.png', Buffer.from(png, 'base64'))
  console.log('screenshot saved; total', Date.now() - t0, 'ms')
} finally {
  await wd('DELETE', `/session/${sid}`)
}
