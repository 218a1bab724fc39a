// A merchant's own profile from a fresh machine: first run -> Settings, a refused base
// URL explained beside its field, the profile saved, a too-short key refused beside the
// key field, the key stored (and never shown again), the connection tested, then the
// Payments screen instead of the first-run panel.

import { assert, sel, until } from './lib.mjs'

/** The error beside a field: the element its aria-describedby names with id `<id>-error`, shown. */
async function errorBeside(page, testid, what) {
  const input = page.locator(sel(testid))
  const errorId = await until(async () => {
    const ids = ((await input.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter((i) => i.endsWith('-error'))
    for (const id of ids) {
      const el = page.locator(`[id="${id}"]`)
      if ((await el.count()) && (await el.isVisible()) && (await el.innerText()).trim()) return id
    }
    return null
  }, `${what}: no visible error named by ${testid}'s aria-describedby`, 4_000)
  return (await page.locator(`[id="${errorId}"]`).innerText()).trim()
}

export const tests = [
  {
    name: 'first profile from a fresh machine: errors beside the URL and key fields, key stored, connection tested',
    async run(t) {
      const page = await t.open({ query: { empty: 1 } })
      await t.visible('first-run')
      await (await t.visible('first-run-settings', 'the first-run panel has no way to Settings (first-run-settings)')).click()
      await t.visible('profile-form', 'Settings shows no profile-form for the first profile')
      await page.locator(sel('profile-name')).fill('myshop')
      await page.locator(sel('profile-base-url')).fill('http://myshop.example.com')
      await page.locator(sel('profile-currency')).fill('KWD').catch(() => page.locator(sel('profile-currency')).selectOption('KWD'))
      await page.locator(sel('profile-save')).click()
      const urlError = await errorBeside(page, 'profile-base-url', 'an http:// base URL')
      assert(!/^base URL '/.test(urlError), `the base URL error is the core's English message, not the UI's words: ${urlError}`)
      await t.shot('en-settings-url-error')

      await page.locator(sel('profile-base-url')).fill('https://myshop.ottu.net')
      await page.locator(sel('profile-save')).click()
      await until(async () => (await page.locator(sel('profile-list')).innerText().catch(() => '')).includes('myshop'),
        'the saved profile is not in the profile list')

      await t.visible('key-form', 'no key-form for the new profile')
      const kind = page.locator(sel('key-kind'))
      await kind.selectOption('api_key')
      await page.locator(sel('key-secret')).fill('x7Qz9')
      await page.locator(sel('key-save')).click()
      const keyError = await errorBeside(page, 'key-secret', 'a 5-character key')
      assert(keyError.length > 0 && !keyError.includes('x7Qz9'), `the key error repeats the secret or is empty: ${keyError}`)

      const secret = 'sk_live_7f3e9a11bb22cc33dd44'
      await page.locator(sel('key-secret')).fill(secret)
      await page.locator(sel('key-save')).click()
      await t.visible('key-stored', 'no key-stored badge after saving a key')
      assert((await page.locator(sel('key-secret')).inputValue()) === '', 'the key field still holds the secret after saving')
      assert(!(await page.content()).includes(secret), 'the page still contains the secret after saving it')

      await (await t.visible('test-connection')).click()
      const result = await t.visible('test-connection-result', 'test-connection showed no result')
      assert((await result.getAttribute('data-ok')) === 'true', `test connection says ${await result.innerText()}`)
      await t.shot('en-settings-first-profile')

      await t.go('payments')
      await until(async () => (await page.locator(sel('first-run')).count()) === 0, 'with a profile saved, Payments still shows the first-run panel')
      await t.visible('payments-empty', 'an empty ledger with a profile shows no payments-empty state')
    },
  },
  {
    name: 'a throwaway keyring: a banner says keys saved now are lost at exit, in English and Arabic, over the key form',
    async run(t) {
      const page = await t.open({ query: { ephemeral: 1 } })
      for (const lang of ['en', 'ar']) {
        if (lang === 'ar') await t.setLanguage('ar')
        await t.go('settings')
        await t.visible('key-form', `${lang}: Settings shows no key-form`)
        const banner = await t.visible('keyring-ephemeral', `${lang}: no keyring-ephemeral banner on Settings with a throwaway keyring`)
        await until(async () => {
          const text = await banner.innerText()
          return lang === 'ar' ? /[\u0621-\u064a]/.test(text) : /until Daftar closes/.test(text)
        }, `${lang}: the banner does not say it in ${lang}: ${await banner.innerText()}`)
        await t.shot(`${lang}-settings-keyring-ephemeral`)
        const violations = await t.axe(`${lang} keyring banner`)
        // Forgetting the stored key asks first; "no" keeps it.
        await (await t.visible('key-forget', `${lang}: a stored key offers no key-forget`)).click()
        await t.visible('confirm-yes', `${lang}: key-forget asked for no confirmation`)
        await t.shot(`${lang}-settings-forget-key-confirm`)
        violations.push(...(await t.axe(`${lang} forget key confirmation`)))
        await page.locator(sel('confirm-no')).click()
        await until(async () => (await page.locator(sel('confirm-yes')).count()) === 0, `${lang}: confirm-no did not close the confirmation`)
        await t.visible('key-stored', `${lang}: the key is no longer stored after answering no`)
        assert(violations.length === 0, `${violations.length} serious/critical axe violation(s):\n${violations.join('\n')}`)
      }
      await page.close()
      const plain = await t.open({})
      await t.visible('payments-list')
      assert((await plain.locator(sel('keyring-ephemeral')).count()) === 0, 'the banner shows with the system keyring')
    },
  },
]
