import { chromium } from 'playwright-core'
const t0 = Date.now()
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const page = await browser.newPage()
page.on('console', m => console.log('console:', m.text()))
await page.goto('http://localhost:5173/mock.html')
await page.fill('#name', 'Playwright')
await page.click('#greet')
await page.waitForSelector('#msg:has-text("from mock")')
console.log('msg =', await page.textContent('#msg'))
await page.screenshot({ path: '/tmp/tauri-probe/pw-shot.png' })
await browser.close()
console.log('pw total ms', Date.now() - t0)
