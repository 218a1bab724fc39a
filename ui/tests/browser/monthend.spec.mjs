// The month-end screens on the fake backend (tests/mock/monthend.ts): Import report (a
// file's bytes handed to the shell, the dry run with every kind of row, a column given
// another field and checked again, the commit, the same file again changing nothing),
// Reconcile (a run, the summary per class, accept with a reason, lock refused while
// mismatches are undecided, then locked; the settlement file matched) and Export (the
// form, progress, the path). Each in English and Arabic (RTL), with axe-core on each.

import { assert, sel, until } from './lib.mjs'

const CSV = 'Session ID,رقم الطلب,Amount,العملة,State,Created,Client mail\r\nabc,ORD-1,12.500,KWD,paid,2026-11-03,a@example.com\r\n'

async function pickFile(page, testid, name, body = CSV) {
  await page.locator(sel(testid)).setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from('\uFEFF' + body, 'utf8') })
}

async function rtl(t, lang) {
  const dir = await t.page.evaluate(() => document.documentElement.dir)
  assert(dir === (lang === 'ar' ? 'rtl' : 'ltr'), `<html dir> is ${dir} in ${lang}`)
}

/** The text of the element with `testid`, once it is visible. */
async function text(t, testid, message) {
  return (await (await t.visible(testid, message)).innerText()).trim()
}

function importTest(lang) {
  return {
    name: `import report (${lang}): dry run with every kind of row, a column remapped, commit, the same file again unchanged`,
    timeout: 45_000,
    async run(t) {
      const page = await t.open({ lang, digits: lang === 'ar' ? 'arab' : 'latn', query: { step: 30 } })
      await t.go('import-report')
      await t.visible('import-report', 'nav-import-report opened no import-report screen')
      await rtl(t, lang)
      await pickFile(page, 'import-report-source-file', 'نوفمبر report.csv')
      const uploaded = await text(t, 'import-report-source-uploaded', 'the picked file was not handed to the shell')
      assert(uploaded.includes('نوفمبر report.csv'), `the uploaded file's name is not shown: ${uploaded}`)
      const upload = await t.mock(() => [...window.__mock.backend.monthEnd.uploads.values()][0])
      assert(upload && upload.bytes > CSV.length, `the shell did not get the file's bytes: ${JSON.stringify(upload)}`)

      await page.locator(sel('import-report-check')).click()
      await t.visible('import-report-plan', 'the dry run showed no plan')
      const counts = {}
      for (const k of ['added', 'updated', 'unchanged', 'conflicts', 'rejected']) counts[k] = await text(t, `count-${k}`)
      const digits = lang === 'ar' ? ['٣', '٢', '٢', '١', '٥'] : ['3', '2', '2', '1', '5']
      Object.values(counts).forEach((c, i) => assert(c.includes(digits[i]), `count ${Object.keys(counts)[i]} reads ${c}, expected ${digits[i]}`))
      // The conflicts tab opens first: a conflict is what needs the merchant's eye.
      await t.visible('panel-conflicts', 'the plan did not open on its conflicts')
      assert((await page.locator(sel('row-conflict')).count()) === 1, 'the conflict is not listed')
      await page.locator(sel('tab-rejected')).click()
      const rejects = page.locator(sel('row-rejected'))
      assert((await rejects.count()) === 5, `${await rejects.count()} rejected rows listed, expected 5`)
      const badAmount = await rejects.nth(0).innerText()
      assert(lang === 'ar' ? badAmount.includes('تعذّرت قراءة المبلغ') : badAmount.includes('The amount cannot be read'), `the bad amount's reason is not worded: ${badAmount}`)
      const newer = await rejects.nth(4).innerText()
      assert(newer.includes('a reason only a newer core has words for'), `a code without words does not show the core's English: ${newer}`)
      // The tabs follow the keyboard: Home, then the reading direction's next arrow.
      await page.keyboard.press('Home')
      await until(async () => (await page.locator(sel('tab-added')).getAttribute('aria-selected')) === 'true', 'Home did not select the first tab')
      await page.keyboard.press(lang === 'ar' ? 'ArrowLeft' : 'ArrowRight')
      await until(async () => (await page.locator(sel('tab-updated')).getAttribute('aria-selected')) === 'true', 'the next arrow did not select the next tab')
      assert(await page.locator(sel('tab-updated')).evaluate((b) => b === document.activeElement), 'focus did not follow the selected tab')
      const update = await page.locator(sel('row-updated')).first().innerText()
      assert(update.includes('RRN448812'), `the update does not show the field that changes: ${update}`)
      await t.shot(`${lang}-monthend-1-import-plan`)
      const violations = await t.axe(`${lang} import plan`)

      // The unknown column "Client mail" becomes the customer email; commit waits for a new check.
      const mapping = page.locator(`${sel('import-report-mapping')} select`)
      await mapping.nth(6).selectOption('customer_email')
      assert(await page.locator(sel('import-report-commit')).isDisabled(), 'commit is allowed with a mapping not checked yet')
      await page.locator(sel('import-report-recheck')).click()
      await until(async () => (await page.locator(sel('import-report-recheck')).count()) === 0 && !(await page.locator(sel('import-report-commit')).isDisabled()),
        'the new mapping was not checked')
      assert((await mapping.nth(6).inputValue()) === 'customer_email', 'the checked plan does not read Client mail as the customer email')
      const log = await t.mock(() => window.__mock.backend.monthEnd.savedMap.size)
      assert(log === 0, 'a dry run saved the mapping')

      const commit = page.locator(sel('import-report-commit'))
      assert((await commit.innerText()).includes(lang === 'ar' ? '٥' : '5'), `the commit button does not say how many rows: ${await commit.innerText()}`)
      await commit.click()
      const done = await text(t, 'import-report-committed', 'the commit reported nothing')
      assert(done.includes(lang === 'ar' ? '٣' : '3'), `the commit result does not count the new payments: ${done}`)
      const saved = await t.mock(() => window.__mock.backend.monthEnd.savedMap.get('shop'))
      assert(saved?.['Client mail'] === 'customer_email', `the committed mapping was not saved for the profile: ${JSON.stringify(saved)}`)
      await t.shot(`${lang}-monthend-2-import-committed`)

      // The same file again: nothing to import.
      await page.locator(sel('import-report-check')).click()
      await until(async () => (await page.locator(sel('count-added')).innerText().catch(() => '')).includes(lang === 'ar' ? '٠' : '0'), 'the same file again still adds payments')
      assert(await commit.isDisabled(), 'the same file again can still be imported')
      violations.push(...(await t.axe(`${lang} import again`)))
      assert(violations.length === 0, `axe:\n${violations.join('\n')}`)
    },
  }
}

function reconcileTest(lang) {
  return {
    name: `reconcile (${lang}): summary per class, accept with a reason, lock refused then done, settlement matched`,
    timeout: 45_000,
    async run(t) {
      const page = await t.open({ lang, digits: lang === 'ar' ? 'arab' : 'latn', query: { step: 30 } })
      await t.go('reconcile')
      await t.visible('reconcile', 'nav-reconcile opened no reconcile screen')
      await rtl(t, lang)
      await page.locator(sel('reconcile-from')).fill('2026-11-01')
      await page.locator(sel('reconcile-to')).fill('2026-11-30')
      await pickFile(page, 'reconcile-source-file', 'november.csv')
      await t.visible('reconcile-source-uploaded')
      await page.locator(sel('reconcile-run')).click()
      const summary = await t.visible('reconcile-summary', 'the run showed no summary')
      const classes = await page.locator(`${sel('reconcile-classes')} tbody tr`).evaluateAll((rows) => rows.map((r) => r.getAttribute('data-class')))
      for (const c of ['matched', 'amount_differs', 'state_differs', 'totals_differ', 'report_only', 'ledger_only', 'queued', 'changed_late']) {
        assert(classes.includes(c), `the summary has no row for ${c}: ${classes.join(', ')}`)
      }
      assert((await summary.innerText()).includes(lang === 'ar' ? '٢٥٫٠٠٠' : '25.000'), 'the report amount of the amount that differs is not in the summary')
      await t.visible('reconcile-mismatches', 'the summary does not say payments differ')
      // It opens on the first class to decide.
      const first = page.locator(sel('reconcile-item')).first()
      assert((await first.getAttribute('data-class')) === 'amount_differs', `the list opens on ${await first.getAttribute('data-class')}`)
      const row = await first.innerText()
      assert(row.includes(lang === 'ar' ? '٢٠٫٠٠٠' : '20.000') && row.includes(lang === 'ar' ? '٢٥٫٠٠٠' : '25.000'), `the item does not show both values: ${row}`)
      await t.shot(`${lang}-monthend-3-reconcile-summary`)
      const violations = await t.axe(`${lang} reconcile summary`)

      // Lock is refused while mismatches are undecided.
      await page.locator(sel('reconcile-lock')).click()
      await page.locator(sel('confirm-yes')).click()
      const refusal = await text(t, 'lock-error', 'locking with undecided mismatches was not refused')
      assert(refusal.length > 0 && !refusal.includes('mismatches are not decided yet'), `the refusal is not worded by the UI: ${refusal}`)
      await t.closeDialog()

      // Accept Ottu's amount, with a reason, behind a confirmation.
      await first.locator(sel('item-accept')).click()
      await t.visible('decide-reason', 'accept asked for no reason')
      violations.push(...(await t.axe(`${lang} accept dialog`)))
      await t.shot(`${lang}-monthend-4-reconcile-accept`)
      await page.locator(sel('decide-reason')).fill('Ottu charged the customer 25.000')
      await page.locator(sel('confirm-yes')).click()
      await until(async () => (await first.locator(sel('item-decision')).count()) === 1, 'the accepted item shows no decision')
      await t.visible('reconcile-notice')
      // Keep Daftar's for the rest of the classes to decide, then lock.
      for (const cls of ['state_differs', 'totals_differ', 'report_only', 'changed_late']) {
        await page.locator(sel('reconcile-filter')).selectOption(cls)
        const item = page.locator(`${sel('reconcile-item')}[data-class="${cls}"]`).first()
        await item.waitFor({ state: 'visible' })
        await item.locator(sel('item-keep')).click()
        await page.locator(sel('confirm-yes')).click()
        await until(async () => (await item.locator(sel('item-decision')).count()) === 1, `${cls}: keep was not recorded`)
      }
      const decided = await t.mock(() => [...window.__mock.backend.monthEnd.items.values()].flat().filter((i) => i.decision).map((i) => `${i.class}:${i.decision}`))
      assert(decided.includes('amount_differs:accepted') && decided.filter((d) => d.endsWith(':kept')).length === 4, `decisions: ${decided.join(', ')}`)
      await t.visible('reconcile-clean', 'with every mismatch decided the summary does not say so')
      await page.locator(sel('reconcile-lock')).click()
      await page.locator(sel('confirm-yes')).click()
      await t.visible('reconcile-period-locked', 'the period was not locked')
      await until(async () => (await page.locator(sel('period-row')).count()) === 1, 'the locked period is not listed')
      // A later change reopens it (the core's trigger): the list says so on the next visit.
      await t.mock(() => window.__mock.backend.monthEnd.reopen('shop'))
      await t.go('payments')
      await t.go('reconcile')
      await until(async () => (await page.locator(`${sel('period-row')}[data-reopened="true"]`).count()) === 1, 'a reopened period is not flagged')

      // Settlement: check, import, match.
      await pickFile(page, 'settlement-source-file', 'settlement.csv', 'Order No,RRN,المبلغ,Fee,Net Amount,Settlement Date\r\n')
      await t.visible('settlement-source-uploaded')
      await page.locator(sel('settlement-check')).click()
      await t.visible('settlement-checked')
      await page.locator(sel('settlement-import')).click()
      await t.visible('settlement-imported')
      await page.locator(sel('settlement-match')).click()
      await t.visible('settlement-report', 'matching showed no result')
      assert((await text(t, 'settled-not')).includes(lang === 'ar' ? '١' : '1'), 'the paid-not-settled count is missing')
      assert((await text(t, 'settled-unknown')).includes(lang === 'ar' ? '١' : '1'), 'the unknown count is missing')
      assert((await text(t, 'settlement-fees')).includes(lang === 'ar' ? '٠٫٦٤٥' : '0.645'), 'the fees are missing')
      const unknown = await page.locator(sel('unknown-row')).innerText()
      assert(unknown.includes('RRN999999'), 'the unknown settlement line is not listed')
      assert(unknown.includes(lang === 'ar' ? 'لا توجد دفعة أو استرداد' : 'No payment or refund has this reference'), `the unknown line does not say why: ${unknown}`)
      await t.shot(`${lang}-monthend-5-reconcile-settlement`)
      violations.push(...(await t.axe(`${lang} reconcile settled`)))
      assert(violations.length === 0, `axe:\n${violations.join('\n')}`)
    },
  }
}

function exportTest(lang) {
  return {
    name: `export (${lang}): the form, progress, the path in Downloads; a bad period beside its field; cancel`,
    timeout: 30_000,
    async run(t) {
      const page = await t.open({ lang, digits: lang === 'ar' ? 'arab' : 'latn', query: { step: 150 } })
      await t.go('export')
      await t.visible('export-form', 'nav-export opened no export form')
      await rtl(t, lang)
      assert((await page.locator(sel('export-lang')).inputValue()) === lang, 'the export language does not default to the app\'s')
      assert(await page.locator(sel('export-bom')).isChecked(), 'the BOM is not on by default')
      const violations = await t.axe(`${lang} export form`)

      await page.locator(sel('export-from')).fill('2026-11-30')
      await page.locator(sel('export-to')).fill('2026-11-01')
      await page.locator(sel('export-submit')).click()
      const describedBy = await until(() => page.locator(sel('export-to')).getAttribute('aria-describedby'), 'a reversed period is not reported beside the end date')
      assert(describedBy === 'export-to-error', `the end date is described by ${describedBy}`)

      await page.locator(sel('export-to')).fill('2026-11-30')
      await page.locator(sel('export-from')).fill('2026-11-01')
      await page.locator(sel('export-format-xlsx')).check()
      assert((await page.locator(sel('export-bom')).count()) === 0, 'the BOM option shows for XLSX')
      await page.locator(sel('export-submit')).click()
      await until(async () => Number(await page.locator(sel('export-progress')).getAttribute('value')) > 0, 'the export shows no progress')
      await t.shot(`${lang}-monthend-6-export-progress`)
      const path = await text(t, 'export-path', 'the export did not say where the file is')
      assert(/^\/home\/merchant\/Downloads\/daftar-ledger-[\d-]+\.xlsx$/.test(path), `the path is ${path}`)
      const sent = await t.mock(() => window.__mock.backend.monthEnd.exports.at(-1))
      assert(sent.format === 'xlsx' && sent.from === '2026-11-01' && sent.lang === lang && sent.bom === false && !('path' in sent), `the request was ${JSON.stringify(sent)}`)
      await t.visible('export-totals', 'the export shows no totals')
      await t.shot(`${lang}-monthend-7-export-done`)
      violations.push(...(await t.axe(`${lang} export done`)))

      // Cancel: the result says it stopped, no path.
      await page.locator(sel('export-format-csv')).check()
      await page.locator(sel('export-submit')).click()
      await (await t.visible('export-progress-cancel', 'a running export has no cancel')).click()
      await t.visible('export-failed', 'a cancelled export did not say it stopped')
      assert((await page.locator(sel('export-path')).count()) === 0, 'a cancelled export shows a path')
      assert(violations.length === 0, `axe:\n${violations.join('\n')}`)
    },
  }
}

const demoTest = {
  name: 'month end in the demo: Ottu\'s report picked from the list, reconciled, the demo\'s settlement file matched',
  timeout: 45_000,
  async run(t) {
    const page = await t.open({ query: { empty: 1, step: 30 } })
    await (await t.visible('demo-start', 'the first-run panel offers no demo-start')).click()
    await t.visible('demo-badge')
    await t.go('reconcile')
    await t.visible('reconcile')
    assert((await page.locator(sel('reconcile-profile')).inputValue()) === 'demo', 'the demo profile is not chosen')
    await page.locator(sel('reconcile-source-kind-ottu')).check()
    await page.locator(sel('reconcile-source-list')).click()
    await until(async () => (await page.locator(sel('reconcile-source-report')).count()) === 2, 'Ottu\'s reports are not listed')
    await page.locator(`${sel('reconcile-source-report')} input`).first().check()
    await page.locator(sel('reconcile-run')).click()
    await t.visible('reconcile-summary', 'reconciling the listed report showed no summary')
    const run = await t.mock(() => window.__mock.backend.monthEnd.reconciliations[0].source)
    assert(run === 'tok-nov.csv', `the run read ${run}`)
    await (await t.visible('settlement-source-demo', 'the demo offers no settlement file')).click()
    await t.visible('settlement-source-uploaded')
    await page.locator(sel('settlement-check')).click()
    await t.visible('settlement-checked')
    await page.locator(sel('settlement-import')).click()
    await page.locator(sel('settlement-match')).click()
    await t.visible('settlement-report', 'matching the demo\'s settlement showed nothing')
    await t.shot('en-monthend-8-demo-settlement')
  },
}

export const tests = [...['en', 'ar'].flatMap((lang) => [importTest(lang), reconcileTest(lang), exportTest(lang)]), demoTest]
