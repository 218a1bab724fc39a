// Every error the core (and the shell) reports, worded for a shopkeeper in English and
// Arabic from its stable `code` and `params` only: `message` is the core's English for
// logs and the CLI, never parsed here. `ERROR_TEXT` is a `Record<ErrorCode, ...>`, so a code
// added to the core's registry (bindings.ts) fails `tsc` until it has words in both
// languages. Codes the core does not know (the shell's `app.*` / `demo.*`, a newer core's)
// fall back to one sentence per `kind`.

import type { ErrorCode, ErrorKind, ErrorView, JsonValue } from '../bindings';
import { formatAmount, formatNumber, toDigits } from '../format';
import { settings } from '../settings.svelte';

export type Lang = 'en' | 'ar';
type Params = { [key in string]?: JsonValue };
type Words = (p: P) => string;

// Values from elsewhere (ids, URLs, amounts) are isolated in Arabic sentences so a Latin
// or numeric run cannot reorder the words around it (Unicode FSI ... PDI).
const FSI = '\u2068';
const PDI = '\u2069';

/** Reads one error's params for a sentence in one language; every getter returns text. */
export class P {
  constructor(
    readonly raw: Params,
    readonly field: string | null,
    readonly lang: Lang,
  ) {}

  private iso(text: string): string {
    return this.lang === 'ar' && text !== '' ? FSI + text + PDI : text;
  }

  has(key: string): boolean {
    const v = this.raw[key];
    return v !== undefined && v !== null && v !== '';
  }

  /** A text param as given (a number is formatted with the chosen digits). */
  s(key: string, fallback = ''): string {
    const v = this.raw[key];
    if (typeof v === 'number') return this.iso(formatNumber(v));
    if (typeof v === 'string' && v !== '') return this.iso(v);
    if (typeof v === 'boolean') return String(v);
    return fallback;
  }

  /** ` value` (a space, then the param) or nothing: for "operation 42" / "operation". */
  sp(key: string): string {
    const v = this.raw[key];
    // An id is a reference, not a quantity: no grouping, but the chosen digits.
    if (typeof v === 'number') return ` ${this.iso(toDigits(String(v)))}`;
    return this.has(key) ? ` ${this.s(key)}` : '';
  }

  /** A whole-number param with the chosen digits; `fallback` when absent. */
  n(key: string, fallback = ''): string {
    const v = this.raw[key];
    if (typeof v === 'number') return this.iso(formatNumber(v));
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) {
      return this.iso(formatNumber(Number(v)));
    }
    return fallback;
  }

  /** An amount param with its currency (`currency` param unless another is named). */
  money(key: string, currencyKey = 'currency'): string {
    const amount = this.raw[key];
    const currency = this.raw[currencyKey];
    if (typeof amount !== 'string' || amount === '') return '';
    if (typeof currency !== 'string' || currency === '') return this.iso(amount);
    return this.iso(formatAmount(amount, currency, settings.digits, this.lang));
  }

  /** An operation word (refund, capture...) in this language. */
  op(key: string): string {
    const v = this.raw[key];
    return typeof v === 'string' ? opWord(v, this.lang) : '';
  }

  /** A payment state word in this language. */
  state(key: string): string {
    const v = this.raw[key];
    return typeof v === 'string' ? stateWord(v, this.lang) : '';
  }

  /** An operation status word in this language. */
  status(key: string): string {
    const v = this.raw[key];
    return typeof v === 'string' ? statusWord(v, this.lang) : '';
  }

  /** The input at fault (the view's `field`) as the merchant knows it. */
  fieldName(fallback?: string): string {
    const f = this.field;
    if (f && FIELDS[f]) return FIELDS[f][this.lang];
    return fallback ?? (this.lang === 'ar' ? 'هذا الحقل' : 'this field');
  }

  /** A `what` param (session id, order number, profile name...) as the merchant knows it. */
  what(fallbackKey?: string): string {
    const v = this.raw.what;
    if (typeof v === 'string' && WHATS[v]) return WHATS[v][this.lang];
    return this.fieldName(fallbackKey ? FIELDS[fallbackKey]?.[this.lang] : undefined);
  }
}

const FIELDS: Record<string, Record<Lang, string>> = {
  amount: { en: 'the amount', ar: 'المبلغ' },
  currency: { en: 'the currency', ar: 'العملة' },
  session_id: { en: 'the session ID', ar: 'رقم الجلسة' },
  order_no: { en: 'the order number', ar: 'رقم الطلب' },
  profile: { en: 'the profile', ar: 'ملف التعريف' },
  name: { en: 'the profile name', ar: 'اسم ملف التعريف' },
  base_url: { en: 'the أوتو address (base URL)', ar: 'عنوان أوتو (الرابط الأساسي)' },
  key: { en: 'the API key or password', ar: 'مفتاح API أو كلمة المرور' },
  basic_user: { en: 'the dashboard user name', ar: 'اسم مستخدم لوحة التحكم' },
  reason: { en: 'the reason', ar: 'السبب' },
  limit: { en: 'the page size', ar: 'عدد الصفوف في الصفحة' },
  after: { en: 'the page position', ar: 'موضع الصفحة' },
  from: { en: 'the start date', ar: 'تاريخ البداية' },
  to: { en: 'the end date', ar: 'تاريخ النهاية' },
  state: { en: 'the payment state', ar: 'حالة الدفعة' },
  kind: { en: 'the operation', ar: 'نوع العملية' },
  status: { en: 'the status', ar: 'الحالة' },
  db: { en: 'the ledger file', ar: 'ملف الدفتر' },
  confirm: { en: 'the confirmation', ar: 'التأكيد' },
  session_ids: { en: 'the session IDs', ar: 'أرقام الجلسات' },
  from_file: { en: 'the file', ar: 'الملف المختار' },
};

const WHATS: Record<string, Record<Lang, string>> = {
  'session id': FIELDS.session_id,
  'order number': FIELDS.order_no,
  'profile name': FIELDS.name,
  profile: FIELDS.profile,
  'payment state': FIELDS.state,
  operation: { en: 'the operation', ar: 'العملية' },
  'operation status': FIELDS.status,
  'payment with session id': { en: 'a payment with this session ID', ar: 'دفعة برقم الجلسة هذا' },
  'payment with order number': { en: 'a payment with this order number', ar: 'دفعة برقم الطلب هذا' },
  payment: { en: 'the payment', ar: 'الدفعة' },
  'user name': FIELDS.basic_user,
  'auth kind': { en: 'the sign-in kind', ar: 'نوع الدخول' },
  'payment source': { en: 'the payment source', ar: 'مصدر الدفعة' },
  'child state': { en: 'the state', ar: 'الحالة' },
};

const OPS: Record<string, Record<Lang, string>> = {
  refund: { en: 'refund', ar: 'استرداد' },
  capture: { en: 'capture', ar: 'تحصيل' },
  void: { en: 'void', ar: 'إبطال' },
  cancel: { en: 'cancel', ar: 'إلغاء' },
  expire: { en: 'expire', ar: 'إنهاء الصلاحية' },
  delete: { en: 'delete', ar: 'حذف' },
};

const STATES: Record<string, Record<Lang, string>> = {
  created: { en: 'created', ar: 'مُنشأة' },
  pending: { en: 'pending', ar: 'معلّقة' },
  attempted: { en: 'attempted', ar: 'جرت محاولة دفعها' },
  authorized: { en: 'authorized', ar: 'مفوَّضة' },
  paid: { en: 'paid', ar: 'مدفوعة' },
  failed: { en: 'failed', ar: 'فاشلة' },
  canceled: { en: 'canceled', ar: 'ملغاة' },
  expired: { en: 'expired', ar: 'منتهية الصلاحية' },
  invalided: { en: 'invalid', ar: 'غير صالحة' },
  cod: { en: 'cash on delivery', ar: 'دفع عند الاستلام' },
  cash: { en: 'cash', ar: 'نقدًا' },
  refunded: { en: 'refunded', ar: 'مستردة' },
  voided: { en: 'voided', ar: 'مُلغاة التفويض' },
};

const STATUSES: Record<string, Record<Lang, string>> = {
  queued: { en: 'waiting to send', ar: 'بانتظار الإرسال' },
  in_flight: { en: 'being sent', ar: 'قيد الإرسال' },
  succeeded: { en: 'done', ar: 'تمت' },
  failed: { en: 'refused', ar: 'مرفوضة' },
  needs_attention: { en: 'needs your attention', ar: 'تحتاج مراجعتك' },
  dropped: { en: 'dropped', ar: 'مستبعدة' },
  blocked: { en: 'on hold', ar: 'موقوفة' },
};

export function opWord(kind: string, lang: Lang = settings.language): string {
  return OPS[kind]?.[lang] ?? kind;
}
export function stateWord(state: string, lang: Lang = settings.language): string {
  return STATES[state]?.[lang] ?? state;
}
export function statusWord(status: string, lang: Lang = settings.language): string {
  return STATUSES[status]?.[lang] ?? status;
}

/** `allowed_states` of `rules.state` ("created, pending, attempted"), in this language. */
function allowedStates(p: P): string {
  const v = p.raw.allowed_states;
  if (typeof v !== 'string') return '';
  if (v === 'paid, or authorized with a capture') {
    return p.lang === 'ar' ? 'مدفوعة، أو مفوَّضة مع مبلغ محصَّل' : 'paid, or authorized with something captured';
  }
  if (v === 'authorized, with nothing captured') {
    return p.lang === 'ar' ? 'مفوَّضة ولم يُحصَّل منها شيء' : 'authorized, with nothing captured yet';
  }
  const words = v.split(',').map((w) => stateWord(w.trim(), p.lang));
  return words.join(p.lang === 'ar' ? '، ' : ', ');
}

/** What a reference may hold, by its `what` (the core's own `allowed` is English). */
function allowedChars(p: P): string {
  const byField: Record<string, string> = { name: 'profile name', profile: 'profile name', session_id: 'session id', order_no: 'order number' };
  const what = typeof p.raw.what === 'string' ? p.raw.what : p.field ? byField[p.field] : undefined;
  const en: Record<string, string> = {
    'session id': 'English letters, digits and these signs: -_',
    'order number': 'English letters, digits and these signs: -_.:/ (starting with a letter or digit)',
    'profile name': 'English letters, digits and these signs: -_. (starting with a letter or digit)',
  };
  const ar: Record<string, string> = {
    'session id': 'حروف إنجليزية وأرقام وهذه الرموز: -_',
    'order number': 'حروف إنجليزية وأرقام وهذه الرموز: -_.:/ (على أن يبدأ بحرف أو رقم)',
    'profile name': 'حروف إنجليزية وأرقام وهذه الرموز: -_. (على أن يبدأ بحرف أو رقم)',
  };
  return typeof what === 'string' ? ((p.lang === 'ar' ? ar : en)[what] ?? '') : '';
}

/** "the API key" / "the password of Basic user x" -> which secret it is. */
function secretName(p: P): string {
  const what = p.raw.what;
  const password = typeof what === 'string' && what.includes('password');
  if (p.lang === 'ar') return password ? 'كلمة المرور' : 'مفتاح API';
  return password ? 'the password' : 'the API key';
}

/** Ottu's or the system's own words, added after the sentence when given. */
function detail(p: P, key = 'detail'): string {
  if (!p.has(key)) return '';
  return p.lang === 'ar' ? ` (الرد: ${p.s(key)})` : ` (it said: ${p.s(key)})`;
}

/**
 * The desktop shell's own codes (src-tauri, registered in src/error/codes.rs). Kept apart
 * so this file compiles whether or not bindings.ts lists them yet; once it does,
 * `Exclude` below keeps every other code required in `ERROR_TEXT`.
 */
export type ShellCode =
  | 'app.task_failed'
  | 'app.bad_request'
  | 'app.upload_empty'
  | 'app.upload_too_large'
  | 'app.upload_unknown'
  | 'app.upload_failed'
  | 'app.no_folder'
  | 'app.export_folder'
  | 'demo.start_failed'
  | 'demo.not_started'
  | 'demo.profile_taken';

export const SHELL_TEXT: Record<ShellCode, { en: Words; ar: Words }> = {
  'app.task_failed': {
    en: () => 'Part of Daftar stopped unexpectedly. Restart Daftar; if it happens again, please report it.',
    ar: () => 'توقف جزء من دفتر بشكل غير متوقع. أعد تشغيل دفتر، وإن تكرر الأمر يرجى الإبلاغ عنه.',
  },
  'app.bad_request': {
    en: () => 'Daftar’s window sent a request the app could not read. Restart Daftar; if it happens again, please report it.',
    ar: () => 'أرسلت نافذة دفتر طلبًا لم يتمكن التطبيق من قراءته. أعد تشغيل دفتر، وإن تكرر الأمر يرجى الإبلاغ عنه.',
  },
  'app.upload_empty': {
    en: (p) => `The file${p.sp('name')} is empty.`,
    ar: (p) => `الملف${p.sp('name')} فارغ.`,
  },
  'app.upload_too_large': {
    en: (p) => `The file${p.sp('name')} is too large${p.has('max_mb') ? `: at most ${p.n('max_mb')} MB` : ''}. Export a shorter period from Ottu.`,
    ar: (p) => `الملف${p.sp('name')} كبير جدًا${p.has('max_mb') ? `: الحد الأقصى ${p.n('max_mb')} م.ب` : ''}. صدِّر فترة أقصر من أوتو.`,
  },
  'app.upload_unknown': {
    en: () => 'Daftar no longer has this file (it was restarted). Pick the file again.',
    ar: () => 'لم يعد الملف لدى دفتر (أُعيد تشغيله). اختر الملف مرة أخرى.',
  },
  'app.upload_failed': {
    en: () => 'Daftar could not keep a copy of the file. Check the free disk space and try again.',
    ar: () => 'تعذّر على دفتر الاحتفاظ بنسخة من الملف. تحقّق من المساحة الفارغة على القرص وحاول مجددًا.',
  },
  'app.no_folder': {
    en: () => 'Daftar found no folder it may write to (Downloads or its own data folder).',
    ar: () => 'لم يجد دفتر مجلدًا يمكنه الكتابة فيه (التنزيلات أو مجلد بياناته).',
  },
  'app.export_folder': {
    en: () => 'The export file could not be made in the Downloads folder. Check that it exists and has free space.',
    ar: () => 'تعذّر إنشاء ملف التصدير في مجلد التنزيلات. تحقّق من وجوده ومن توفّر مساحة فارغة.',
  },
  'demo.start_failed': {
    en: () => 'The practice Ottu could not start on this computer. Close other Daftar windows and try again.',
    ar: () => 'تعذّر تشغيل أوتو التجريبي على هذا الجهاز. أغلق نوافذ دفتر الأخرى وحاول مرة أخرى.',
  },
  'demo.not_started': {
    en: () => 'The demo is not running: start it first.',
    ar: () => 'النسخة التجريبية لا تعمل: شغّلها أولًا.',
  },
  'demo.profile_taken': {
    en: (p) => `You already have a profile named ${p.s('profile', 'demo')} for your own Ottu. Rename or remove it in Settings to try the demo.`,
    ar: (p) => `لديك ملف تعريف باسم ${p.s('profile', 'demo')} لحسابك في أوتو. غيّر اسمه أو احذفه من الإعدادات لتجربة النسخة التجريبية.`,
  },
};

/** Both languages' words for every code the core can report. */
export const ERROR_TEXT: Record<Exclude<ErrorCode, ShellCode>, { en: Words; ar: Words }> = {
  // --- amounts and currencies ---
  'amount.not_decimal': {
    en: (p) =>
      `${p.has('value') ? `"${p.s('value')}" is not an amount. ` : ''}Type a plain number${p.has('example') ? `, for example ${p.s('example')}` : ''}${p.has('allowed_decimals') ? `, with at most ${p.n('allowed_decimals')} digits after the point` : ''}.`,
    ar: (p) =>
      `${p.has('value') ? `القيمة ${p.s('value')} ليست مبلغًا. ` : ''}اكتب رقمًا فقط${p.has('example') ? `، مثل ${p.s('example')}` : ''}${p.has('allowed_decimals') ? `، وبحد أقصى ${p.n('allowed_decimals')} خانات بعد الفاصلة` : ''}.`,
  },
  'amount.too_precise': {
    en: (p) =>
      `${p.has('currency') ? p.s('currency') : 'This currency'} allows at most ${p.n('allowed_decimals', 'its')} digits after the point${p.has('value') ? `; "${p.s('value')}" has more` : ''}.`,
    ar: (p) =>
      `${p.has('currency') ? `عملة ${p.s('currency')}` : 'هذه العملة'} تسمح بـ ${p.n('allowed_decimals', 'عدد محدود من')} خانات فقط بعد الفاصلة${p.has('value') ? `، والقيمة ${p.s('value')} فيها أكثر` : ''}.`,
  },
  'amount.too_many_digits': {
    en: (p) => `The amount is too large${p.has('max_digits') ? `: at most ${p.n('max_digits')} digits before the point` : ''}.`,
    ar: (p) => `المبلغ كبير جدًا${p.has('max_digits') ? `: المسموح ${p.n('max_digits')} خانة كحد أقصى قبل الفاصلة` : ''}.`,
  },
  'amount.not_positive': {
    en: () => 'The amount must be more than zero.',
    ar: () => 'يجب أن يكون المبلغ أكبر من صفر.',
  },
  'amount.currency': {
    en: (p) =>
      `The amount is in ${p.s('currency', 'another currency')}, but the payment is in ${p.s('expected_currency', p.s('other_currency', 'another currency'))}.`,
    ar: (p) =>
      `المبلغ بعملة ${p.s('currency', 'مختلفة')}، بينما الدفعة بعملة ${p.s('expected_currency', p.s('other_currency', 'أخرى'))}.`,
  },
  'amount.overflow': {
    en: () => 'These amounts are too large to add up. Check the numbers.',
    ar: () => 'هذه المبالغ أكبر من أن تُجمع. راجع الأرقام.',
  },
  'amount.not_accepted': {
    en: (p) => `${p.has('operation') ? `A ${p.op('operation')}` : 'This operation'} always applies to the whole payment: leave the amount empty.`,
    ar: (p) => `${p.has('operation') ? `عملية ${p.op('operation')}` : 'هذه العملية'} تشمل الدفعة كاملة دائمًا: اترك خانة المبلغ فارغة.`,
  },
  'currency.unknown': {
    en: (p) =>
      `${p.has('value') ? `"${p.s('value')}" is not` : 'This is not'} a currency Ottu supports${p.has('allowed') ? `. Use one of: ${p.s('allowed')}` : ''}.`,
    ar: (p) =>
      `${p.has('value') ? `${p.s('value')} ليست` : 'هذه ليست'} عملة يدعمها أوتو${p.has('allowed') ? `. استخدم إحدى العملات: ${p.s('allowed')}` : ''}.`,
  },
  // --- references, words and other input ---
  'input.empty': {
    en: (p) => `Please fill in ${p.what()}.`,
    ar: (p) => `يرجى تعبئة ${p.what()}.`,
  },
  'input.too_long': {
    en: (p) => `${cap(p.what())} is too long${p.has('max_length') ? `: at most ${p.n('max_length')} characters` : ''}${p.has('length') ? `, you typed ${p.n('length')}` : ''}.`,
    ar: (p) => `${p.what()} طويل جدًا${p.has('max_length') ? `: الحد الأقصى ${p.n('max_length')} حرفًا` : ''}${p.has('length') ? `، وكتبت ${p.n('length')}` : ''}.`,
  },
  'input.bad_character': {
    en: (p) => `${cap(p.what())}${p.has('value') ? ` "${p.s('value')}"` : ''} has a character it may not hold.${allowedChars(p) ? ` Use only ${allowedChars(p)}.` : ''}`,
    ar: (p) => `${p.what()}${p.has('value') ? ` «${p.s('value')}»` : ''} يحتوي على حرف غير مسموح.${allowedChars(p) ? ` استخدم فقط ${allowedChars(p)}.` : ''}`,
  },
  'input.unknown_word': {
    en: (p) => `${p.has('value') ? `"${p.s('value')}"` : 'This value'} is not a valid choice for ${p.what()}${p.has('allowed') ? `. Choose one of: ${p.s('allowed')}` : ''}.`,
    ar: (p) => `${p.has('value') ? `القيمة ${p.s('value')}` : 'هذه القيمة'} ليست خيارًا صالحًا لـ${p.what()}${p.has('allowed') ? `. اختر من: ${p.s('allowed')}` : ''}.`,
  },
  'input.payment_reference': {
    en: () => 'Name the payment by its session ID or its order number (one of the two).',
    ar: () => 'حدّد الدفعة برقم الجلسة أو برقم الطلب (أحدهما فقط).',
  },
  'input.ambiguous_payment': {
    en: () => 'This order number belongs to payments in more than one profile. Choose the profile, or use the session ID.',
    ar: () => 'رقم الطلب هذا موجود في أكثر من ملف تعريف. اختر ملف التعريف أو استخدم رقم الجلسة.',
  },
  'input.unreadable': {
    en: (p) => `The file cannot be read${p.has('path') ? ` (${p.s('path')})` : ''}. Check that it exists and that you may open it.`,
    ar: (p) => `تعذّرت قراءة الملف${p.has('path') ? ` (${p.s('path')})` : ''}. تأكد من وجوده ومن صلاحية فتحه.`,
  },
  'limit.out_of_range': {
    en: () => 'That page size is not allowed: choose a smaller number of rows.',
    ar: () => 'عدد الصفوف هذا غير مسموح: اختر عددًا أقل.',
  },
  'cursor.invalid': {
    en: () => 'The list changed its place. Go back to the first page.',
    ar: () => 'تعذّر متابعة القائمة من هذا الموضع. ارجع إلى الصفحة الأولى.',
  },
  'date.invalid': {
    en: (p) => `${cap(p.fieldName('The date'))} is not a date Daftar can read. Use a date like 2026-02-01.`,
    ar: (p) => `${p.fieldName('التاريخ')} ليس تاريخًا صحيحًا. اكتبه بهذا الشكل: 2026-02-01.`,
  },
  'reason.too_long': {
    en: (p) => `The reason is too long${p.has('max_length') ? `: at most ${p.n('max_length')} characters` : ''}${p.has('length') ? `, you typed ${p.n('length')}` : ''}.`,
    ar: (p) => `السبب طويل جدًا${p.has('max_length') ? `: الحد الأقصى ${p.n('max_length')} حرفًا` : ''}${p.has('length') ? `، وكتبت ${p.n('length')}` : ''}.`,
  },
  'reason.bad_character': {
    en: () => 'The reason holds an invisible control character. Retype it as plain text.',
    ar: () => 'السبب يحتوي على رمز تحكم غير مرئي. أعد كتابته كنص عادي.',
  },
  'db.not_a_file': {
    en: () => 'The ledger must be a file on this computer. Choose a file path.',
    ar: () => 'يجب أن يكون الدفتر ملفًا على هذا الجهاز. اختر مسار ملف.',
  },
  'db.empty': {
    en: () => 'The ledger path is set but empty. Give the path of the ledger file.',
    ar: () => 'مسار الدفتر محدد لكنه فارغ. اكتب مسار ملف الدفتر.',
  },
  'db.no_home': {
    en: () => 'There is no home folder to keep the ledger in. Give the ledger file a path.',
    ar: () => 'لا يوجد مجلد للمستخدم لحفظ الدفتر فيه. حدّد مسارًا لملف الدفتر.',
  },
  'db.unwritable': {
    en: () => 'The usual folder for the ledger cannot be created. Give the ledger file another path.',
    ar: () => 'تعذّر إنشاء المجلد المعتاد للدفتر. حدّد مسارًا آخر لملف الدفتر.',
  },
  // --- profiles and keys ---
  'base_url.invalid': {
    en: () => 'This is not an Ottu address Daftar can use. Copy it from your Ottu dashboard, like https://yourshop.ottu.net.',
    ar: () => 'هذا ليس عنوان أوتو صالحًا. انسخه من لوحة تحكم أوتو، مثل https://yourshop.ottu.net.',
  },
  'base_url.insecure': {
    en: () => 'The Ottu address must start with https:// so your data is encrypted.',
    ar: () => 'يجب أن يبدأ عنوان أوتو بـ https:// لتكون بياناتك مشفّرة.',
  },
  'base_url.too_long': {
    en: (p) => `The Ottu address is too long${p.has('max_length') ? `: at most ${p.n('max_length')} characters` : ''}.`,
    ar: (p) => `عنوان أوتو طويل جدًا${p.has('max_length') ? `: الحد الأقصى ${p.n('max_length')} حرفًا` : ''}.`,
  },
  'basic_user.empty': {
    en: () => 'Type the user name you use to sign in to the Ottu dashboard.',
    ar: () => 'اكتب اسم المستخدم الذي تدخل به إلى لوحة تحكم أوتو.',
  },
  'basic_user.too_long': {
    en: (p) => `The user name is too long${p.has('max_length') ? `: at most ${p.n('max_length')} characters` : ''}.`,
    ar: (p) => `اسم المستخدم طويل جدًا${p.has('max_length') ? `: الحد الأقصى ${p.n('max_length')} حرفًا` : ''}.`,
  },
  'basic_user.bad_character': {
    en: () => 'The user name may not contain ":" or invisible characters.',
    ar: () => 'لا يجوز أن يحتوي اسم المستخدم على ":" أو رموز غير مرئية.',
  },
  'key.empty': {
    en: (p) => `${cap(secretName(p))} is empty. Paste it in.`,
    ar: (p) => `${secretName(p)} فارغ. الصقه في الخانة.`,
  },
  'key.too_short': {
    en: (p) => `${cap(secretName(p))} is too short to be an Ottu key${p.has('min_length') ? ` (at least ${p.n('min_length')} characters)` : ''}. Copy the whole key.`,
    ar: (p) => `${secretName(p)} أقصر من أي مفتاح أوتو${p.has('min_length') ? ` (${p.n('min_length')} أحرف على الأقل)` : ''}. انسخ المفتاح كاملًا.`,
  },
  'key.too_long': {
    en: (p) => `${cap(secretName(p))} is too long${p.has('max_length') ? `: at most ${p.n('max_length')} characters` : ''}.`,
    ar: (p) => `${secretName(p)} طويل جدًا${p.has('max_length') ? `: الحد الأقصى ${p.n('max_length')} حرفًا` : ''}.`,
  },
  'key.bad_character': {
    en: (p) => `${cap(secretName(p))} has a space or an invisible character${p.has('position') ? ` at position ${p.n('position')}` : ''}. Paste only the key itself.`,
    ar: (p) => `${secretName(p)} يحتوي على مسافة أو رمز غير مرئي${p.has('position') ? ` في الموضع ${p.n('position')}` : ''}. الصق المفتاح نفسه فقط.`,
  },
  'key.no_terminal': {
    en: () => 'The key could not be asked for here. Enter it in the key field.',
    ar: () => 'تعذّر طلب المفتاح هنا. أدخله في خانة المفتاح.',
  },
  'key.unreadable': {
    en: () => 'The key could not be read. Paste it again.',
    ar: () => 'تعذّرت قراءة المفتاح. الصقه مرة أخرى.',
  },
  'profile.exists': {
    en: (p) => `A profile named ${p.s('profile', 'like this')} already exists. Choose another name.`,
    ar: (p) => `يوجد ملف تعريف بالاسم ${p.s('profile', 'نفسه')} مسبقًا. اختر اسمًا آخر.`,
  },
  'profile.nothing_to_change': {
    en: () => 'Nothing changed: edit the address or the currency first.',
    ar: () => 'لم يتغيّر شيء: عدّل العنوان أو العملة أولًا.',
  },
  'profile.changed': {
    en: () => 'The profile was changed at the same time somewhere else. Open it again and redo your change.',
    ar: () => 'تم تعديل ملف التعريف في الوقت نفسه من مكان آخر. افتحه من جديد وأعد التعديل.',
  },
  'profile.in_use': {
    en: (p) =>
      p.field === 'currency'
        ? `${p.s('profile', 'This profile')} already has ${p.n('payments', 'some')} payments, so its currency stays as it is. Add another profile for the new currency.`
        : `${p.s('profile', 'This profile')} still holds ${p.n('payments', 'some')} payments and ${p.n('operations', 'some')} operations, so it cannot be removed.`,
    ar: (p) =>
      p.field === 'currency'
        ? `ملف التعريف${p.sp('profile')} فيه ${p.n('payments', 'عدد من')} دفعات، لذلك تبقى عملته كما هي. أضف ملف تعريف آخر للعملة الجديدة.`
        : `ملف التعريف${p.sp('profile')} ما زال يحتوي على ${p.n('payments', 'عدد من')} دفعات و${p.n('operations', 'عدد من')} عمليات، لذلك لا يمكن حذفه.`,
  },
  'profile.unresolved_sends': {
    en: (p) => `${p.n('count', 'Some')} operations sent to the current Ottu address have no known result yet. Resolve them in the queue before changing the address.`,
    ar: (p) => `هناك ${p.n('count', 'عمليات')} عمليات أُرسلت إلى عنوان أوتو الحالي ولم تُعرف نتيجتها بعد. عالجها في قائمة الانتظار قبل تغيير العنوان.`,
  },
  'payment.exists': {
    en: () => 'A payment with this session ID or order number is already in the ledger.',
    ar: () => 'توجد في الدفتر دفعة بنفس رقم الجلسة أو رقم الطلب.',
  },
  // --- the ledger's rules ---
  'rules.payment_deleted': {
    en: () => 'This payment was deleted at Ottu: nothing more can be done with it.',
    ar: () => 'هذه الدفعة محذوفة في أوتو: لا يمكن إجراء أي عملية عليها.',
  },
  'rules.operation_pending': {
    en: (p) => `A ${p.op('pending') || 'previous operation'} is already waiting for this payment. Wait until it is sent, or drop it first.`,
    ar: (p) => `توجد عملية ${p.op('pending') || 'سابقة'} بانتظار الإرسال لهذه الدفعة. انتظر حتى تُرسل أو استبعدها أولًا.`,
  },
  'rules.state': {
    en: (p) =>
      `You cannot ${p.op('operation') || 'do this with'} a payment that is ${p.state('state') || 'in this state'}${allowedStates(p) ? `; only when it is ${allowedStates(p)}` : ''}.`,
    ar: (p) =>
      `لا يمكن تنفيذ ${p.op('operation') || 'هذه العملية'} على دفعة حالتها ${p.state('state') || 'الحالية'}${allowedStates(p) ? `؛ يُسمح بها فقط عندما تكون ${allowedStates(p)}` : ''}.`,
  },
  'rules.void_after_capture': {
    en: (p) => `${p.has('captured') ? `${p.money('captured')} is` : 'Some of this payment is'} already captured, so it cannot be voided. Refund it instead.`,
    ar: (p) => `${p.has('captured') ? `تم تحصيل ${p.money('captured')}` : 'تم تحصيل جزء من هذه الدفعة'}، لذلك لا يمكن إبطالها. قم بالاسترداد بدلًا من ذلك.`,
  },
  'rules.voided': {
    en: () => 'This authorization is voided (or a void is waiting): nothing more can be captured.',
    ar: () => 'تم إبطال هذه الدفعة (أو الإبطال بانتظار الإرسال): لا يمكن تحصيل أي مبلغ.',
  },
  'rules.refund_exceeds': {
    en: (p) =>
      p.has('refundable') && p.has('requested')
        ? `You can refund at most ${p.money('refundable')}; you asked for ${p.money('requested')}.`
        : 'The refund is more than what is left to refund on this payment.',
    ar: (p) =>
      p.has('refundable') && p.has('requested')
        ? `أقصى مبلغ يمكن استرداده ${p.money('refundable')}، والمطلوب ${p.money('requested')}.`
        : 'مبلغ الاسترداد أكبر من المتبقي القابل للاسترداد في هذه الدفعة.',
  },
  'rules.capture_exceeds': {
    en: (p) =>
      p.has('capturable') && p.has('requested')
        ? `You can capture at most ${p.money('capturable')}; you asked for ${p.money('requested')}.`
        : 'The capture is more than what is left to capture on this payment.',
    ar: (p) =>
      p.has('capturable') && p.has('requested')
        ? `أقصى مبلغ يمكن تحصيله ${p.money('capturable')}، والمطلوب ${p.money('requested')}.`
        : 'مبلغ التحصيل أكبر من المتبقي القابل للتحصيل في هذه الدفعة.',
  },
  'rules.nothing_left': {
    en: (p) => `Nothing is left to ${p.op('operation') || 'refund or capture'} on this payment${p.has('left') ? ` (${p.money('left')} left)` : ''}.`,
    ar: (p) => `لم يتبقَّ شيء لـ${p.op('operation') || 'الاسترداد أو التحصيل'} في هذه الدفعة${p.has('left') ? ` (المتبقي ${p.money('left')})` : ''}.`,
  },
  'rules.balance_overflow': {
    en: () => "This payment's totals are impossibly large: the ledger may be damaged. Please report this.",
    ar: () => 'مجاميع هذه الدفعة كبيرة بشكل غير ممكن: قد يكون الدفتر تالفًا. يرجى الإبلاغ عن ذلك.',
  },
  // --- the queue ---
  not_found: {
    en: (p) => `Daftar could not find ${p.what()}${p.has('id') ? `${p.sp('id')}` : ''}.`,
    ar: (p) => `لم يتم العثور على ${p.what()}${p.has('id') ? `${p.sp('id')}` : ''}.`,
  },
  'queue.not_droppable': {
    en: (p) => `Operation${p.sp('id')} may already have reached Ottu${p.has('status') ? ` (it is ${p.status('status')})` : ''}, so it cannot be dropped. Retry or resend it instead.`,
    ar: (p) => `ربما وصلت العملية${p.sp('id')} إلى أوتو${p.has('status') ? ` (حالتها: ${p.status('status')})` : ''}، لذلك لا يمكن استبعادها. أعد المحاولة أو أعد إرسالها.`,
  },
  'queue.not_retryable': {
    en: (p) => `Operation${p.sp('id')} is ${p.status('status') || 'not in a state to retry'}: only a refused, held or unresolved operation can be retried.`,
    ar: (p) => `العملية${p.sp('id')} حالتها ${p.status('status') || 'لا تسمح'}: لا تُعاد إلا العملية المرفوضة أو الموقوفة أو مجهولة النتيجة.`,
  },
  'queue.not_resendable': {
    en: (p) => `Operation${p.sp('id')} is ${p.status('status') || 'not unresolved'}: only an operation whose result is unknown can be resent.`,
    ar: (p) => `العملية${p.sp('id')} حالتها ${p.status('status') || 'لا تسمح'}: لا يُعاد إرسال إلا العملية مجهولة النتيجة.`,
  },
  'queue.already_retried': {
    en: (p) => `Operation${p.sp('id')} was already retried${p.has('retried_as') ? ` as operation${p.sp('retried_as')}` : ''}: work with that one instead.`,
    ar: (p) => `أُعيدت محاولة العملية${p.sp('id')} من قبل${p.has('retried_as') ? ` برقم${p.sp('retried_as')}` : ''}: تابع العملية الجديدة بدلًا منها.`,
  },
  'retry.unconfirmed': {
    en: () => 'This operation was already sent to Ottu. Check in the Ottu dashboard that it did not go through, then tick the confirmation.',
    ar: () => 'هذه العملية أُرسلت إلى أوتو مسبقًا. تأكد من لوحة تحكم أوتو أنها لم تُنفَّذ، ثم أشّر على التأكيد.',
  },
  'retry.reason_missing': {
    en: () => 'This operation was already sent to Ottu: write why it is safe to try again (what the Ottu dashboard shows).',
    ar: () => 'هذه العملية أُرسلت إلى أوتو مسبقًا: اكتب سبب أمان إعادة المحاولة (ما تظهره لوحة تحكم أوتو).',
  },
  // --- sync, import and refresh ---
  'sync.concurrency': {
    en: () => 'The number of requests at once is outside what is allowed.',
    ar: () => 'عدد الطلبات المتزامنة خارج الحد المسموح.',
  },
  'sync.lock': {
    en: () => 'Daftar cannot open its sync lock file beside the ledger. Check the folder permissions.',
    ar: () => 'تعذّر فتح ملف قفل المزامنة بجانب الدفتر. تحقق من صلاحيات المجلد.',
  },
  'sync.running': {
    en: () => 'Another Daftar is already sending this ledger. Close it, or wait until it finishes.',
    ar: () => 'هناك نسخة أخرى من دفتر ترسل هذا الدفتر الآن. أغلقها أو انتظر حتى تنتهي.',
  },
  'sync.thread': {
    en: () => 'Sending could not be started. Restart Daftar; if it happens again, please report it.',
    ar: () => 'تعذّر بدء الإرسال. أعد تشغيل دفتر، وإن تكرر الأمر يرجى الإبلاغ عنه.',
  },
  'sync.stale_answer': {
    en: () => 'An answer came for an operation that was no longer being sent (another Daftar running?). Nothing was recorded.',
    ar: () => 'وصل رد لعملية لم تعد قيد الإرسال (هل هناك نسخة أخرى من دفتر تعمل؟). لم يُسجَّل شيء.',
  },
  // --- month end: report files, column mappings, reconciliation (issue 10) ---
  'table.unreadable': {
    en: () => 'The file cannot be opened as CSV or Excel. Save it again as CSV UTF-8 or XLSX and pick it again.',
    ar: () => 'تعذّر فتح الملف كملف CSV أو Excel. احفظه مجددًا بصيغة CSV UTF-8 أو XLSX واختره مرة أخرى.',
  },
  'table.no_header': {
    en: () => 'The file has no header row naming its columns.',
    ar: () => 'لا يحتوي الملف على صف عناوين يسمّي أعمدته.',
  },
  'table.too_wide': {
    en: (p) => `The file has too many columns${p.has('columns') ? ` (${p.n('columns')})` : ''}${p.has('max') ? `: at most ${p.n('max')} are read` : ''}.`,
    ar: (p) => `في الملف أعمدة كثيرة جدًا${p.has('columns') ? ` (${p.n('columns')})` : ''}${p.has('max') ? `: يُقرأ ${p.n('max')} عمودًا على الأكثر` : ''}.`,
  },
  'table.encoding': {
    en: (p) => `Line${p.sp('line')} is not UTF-8 text. In Excel, save the file as “CSV UTF-8”, or as XLSX.`,
    ar: (p) => `السطر${p.sp('line')} ليس نصًا بترميز UTF-8. احفظ الملف في Excel بصيغة «CSV UTF-8» أو XLSX.`,
  },
  'table.bad_row': {
    en: (p) => `Line${p.sp('line')} of the file cannot be read (a quote is not closed?).`,
    ar: (p) => `تعذّرت قراءة السطر${p.sp('line')} من الملف (علامة اقتباس غير مغلقة؟).`,
  },
  'table.bad_xlsx': {
    en: () => 'The file is not a readable Excel workbook (XLSX).',
    ar: () => 'الملف ليس مصنف Excel (XLSX) قابلًا للقراءة.',
  },
  'value.not_amount': {
    en: (p) => `${p.has('value') ? `“${p.s('value')}”` : 'A cell'} is not an amount.`,
    ar: (p) => `${p.has('value') ? `القيمة ${p.s('value')}` : 'خلية'} ليست مبلغًا.`,
  },
  'value.too_precise': {
    en: (p) => `An amount has more decimals than its currency allows${p.has('allowed_decimals') ? ` (${p.n('allowed_decimals')})` : ''}.`,
    ar: (p) => `في المبلغ خانات عشرية أكثر مما تسمح به عملته${p.has('allowed_decimals') ? ` (${p.n('allowed_decimals')})` : ''}.`,
  },
  'value.negative': {
    en: () => 'An amount is negative where it may not be.',
    ar: () => 'مبلغ سالب في مكان لا يُسمح فيه بذلك.',
  },
  'value.not_time': {
    en: () => 'A cell is not a date and time.',
    ar: () => 'خلية ليست تاريخًا ووقتًا.',
  },
  'value.not_date': {
    en: () => 'A cell is not a date.',
    ar: () => 'خلية ليست تاريخًا.',
  },
  'mapping.missing_field': {
    en: (p) => `No column of the file holds ${p.has('field') ? `“${p.s('field')}”` : 'a column the file must have'}. Choose which column it is under “How the columns were read”.`,
    ar: (p) => `لا يوجد في الملف عمود يحمل ${p.has('field') ? `«${p.s('field')}»` : 'عمودًا لازمًا'}. اختر العمود المناسب في «كيف قُرئت الأعمدة».`,
  },
  'mapping.missing_reference': {
    en: () => 'The settlement file has no order number or reference (RRN, auth code) column.',
    ar: () => 'لا يحتوي ملف التسوية على عمود لرقم الطلب أو المرجع (RRN أو رمز التفويض).',
  },
  'mapping.unknown_field': {
    en: (p) => `${p.has('field') ? `“${p.s('field')}”` : 'A column'} is not something a column can be read as.`,
    ar: (p) => `${p.has('field') ? `«${p.s('field')}»` : 'هذا'} ليس معنى يمكن أن يُقرأ به عمود.`,
  },
  'mapping.no_such_header': {
    en: (p) => `The file has no column named ${p.has('header') ? `“${p.s('header')}”` : 'like that'}.`,
    ar: (p) => `لا يوجد في الملف عمود باسم ${p.has('header') ? `«${p.s('header')}»` : 'كهذا'}.`,
  },
  'mapping.bad_override': {
    en: () => 'A column choice is not written as HEADER=field.',
    ar: () => 'اختيار عمود غير مكتوب بالشكل HEADER=field.',
  },
  'mapping.duplicate_field': {
    en: (p) => `Two columns are read as ${p.has('field') ? `“${p.s('field')}”` : 'the same thing'}${p.has('headers') ? ` (${p.s('headers')})` : ''}. Give one of them another meaning.`,
    ar: (p) => `عمودان يُقرآن على أنهما ${p.has('field') ? `«${p.s('field')}»` : 'الشيء نفسه'}${p.has('headers') ? ` (${p.s('headers')})` : ''}. اختر لأحدهما معنى آخر.`,
  },
  'row.missing_id': { en: () => 'No session ID.', ar: () => 'لا يوجد رقم جلسة.' },
  'row.bad_amount': { en: () => 'The amount cannot be read.', ar: () => 'تعذّرت قراءة المبلغ.' },
  'row.unknown_currency': { en: () => 'Unknown currency.', ar: () => 'عملة غير معروفة.' },
  'row.bad_state': { en: () => 'Unknown state or operation.', ar: () => 'حالة أو عملية غير معروفة.' },
  'row.bad_date': { en: () => 'The date cannot be read.', ar: () => 'تعذّرت قراءة التاريخ.' },
  'row.duplicate': { en: () => 'The same session ID appears earlier in the file.', ar: () => 'رقم الجلسة نفسه ورد قبل ذلك في الملف.' },
  'row.bad_reference': { en: () => 'An ID is too long or has characters Ottu does not use.', ar: () => 'رقم طويل جدًا أو فيه أحرف لا تستخدمها أوتو.' },
  'row.unknown_parent': { en: () => 'Its parent payment is neither in the file nor in Daftar.', ar: () => 'دفعته الأصلية ليست في الملف ولا في دفتر.' },
  'row.missing_reference': { en: () => 'No order number or reference to match the line by.', ar: () => 'لا يوجد رقم طلب أو مرجع يُطابَق به هذا السطر.' },
  'settlement.bad_window': {
    en: (p) => `The settlement window is too wide${p.has('max') ? `: at most ${p.n('max')} business days` : ''}.`,
    ar: (p) => `مهلة التسوية طويلة جدًا${p.has('max') ? `: الحد الأقصى ${p.n('max')} يوم عمل` : ''}.`,
  },
  'settlement.rejects_unwritable': {
    en: () => 'The file of rejected lines could not be written, so nothing was imported. Check the Downloads folder and try again.',
    ar: () => 'تعذّرت كتابة ملف السطور المرفوضة، فلم يُستورد شيء. تحقّق من مجلد التنزيلات وحاول مجددًا.',
  },
  'settlement.cancelled': {
    en: () => 'The settlement import was stopped; nothing was written.',
    ar: () => 'أُوقف استيراد التسوية؛ لم يُكتب شيء.',
  },
  'export.bad_path': {
    en: () => 'The export cannot be written there (it would replace the ledger itself).',
    ar: () => 'لا يمكن كتابة التصدير هناك (سيحل محل الدفتر نفسه).',
  },
  'export.write_failed': {
    en: () => 'The export file could not be written (folder missing, no permission or disk full). Nothing was left half written.',
    ar: () => 'تعذّرت كتابة ملف التصدير (المجلد غير موجود أو لا توجد صلاحية أو القرص ممتلئ). لم يُترك ملف ناقص.',
  },
  'report.download_limit': {
    en: (p) => `Ottu allows about 25 report downloads an hour${p.has('retry_after') ? `; try again after ${p.s('retry_after')}` : '; try again later'}.`,
    ar: (p) => `تسمح أوتو بنحو 25 تنزيلًا للتقارير في الساعة${p.has('retry_after') ? `؛ حاول مجددًا بعد ${p.s('retry_after')}` : '؛ حاول لاحقًا'}.`,
  },
  'report.token_expired': {
    en: () => 'This report is no longer available from Ottu. List the reports again for a fresh one.',
    ar: () => 'لم يعد هذا التقرير متاحًا من أوتو. اعرض التقارير مجددًا للحصول على نسخة جديدة.',
  },
  'reconcile.no_report': {
    en: () => 'Choose one report: a file or one of Ottu’s reports.',
    ar: () => 'اختر تقريرًا واحدًا: ملفًا أو أحد تقارير أوتو.',
  },
  'reconcile.nothing_to_accept': {
    en: () => 'The report has no value Daftar could take for this payment. Keep Daftar’s instead.',
    ar: () => 'لا توجد في التقرير قيمة يمكن أن يأخذها دفتر لهذه الدفعة. أبقِ قيمة دفتر بدلًا من ذلك.',
  },
  'reconcile.nothing_to_decide': {
    en: () => 'This payment matches (or is still queued): there is nothing to decide.',
    ar: () => 'هذه الدفعة متطابقة (أو ما زالت في قائمة الانتظار): لا يوجد ما تقرّره.',
  },
  'reconcile.already_decided': {
    en: () => 'This payment was decided already; a decision is final.',
    ar: () => 'سبق أن قُرّر في هذه الدفعة؛ والقرار نهائي.',
  },
  'reconcile.currency_differs': {
    en: (p) => `Ottu’s report has this payment in ${p.has('report_currency') ? p.s('report_currency') : 'another currency'}; a payment’s currency never changes. Keep Daftar’s value.`,
    ar: (p) => `يذكر تقرير أوتو هذه الدفعة بعملة ${p.has('report_currency') ? p.s('report_currency') : 'أخرى'}؛ وعملة الدفعة لا تتغير أبدًا. أبقِ قيمة دفتر.`,
  },
  'reconcile.amount_below_spent': {
    en: (p) => `Ottu’s amount is below the ${p.has('spent') ? p.s('spent') : 'amount'} already captured, refunded or pending on this payment. Keep Daftar’s value.`,
    ar: (p) => `مبلغ أوتو أقل من ${p.has('spent') ? p.s('spent') : 'المبلغ'} المحصّل أو المسترد أو المعلّق على هذه الدفعة. أبقِ قيمة دفتر.`,
  },
  'reconcile.period_changed': {
    en: () => 'A payment in this period changed after the reconciliation ran. Reconcile the period again, then lock it.',
    ar: () => 'تغيّرت دفعة في هذه الفترة بعد إجراء المطابقة. طابِق الفترة مجددًا ثم أقفلها.',
  },
  'reconcile.stale': {
    en: () => 'The payment changed since this reconciliation ran. Reconcile again before accepting.',
    ar: () => 'تغيّرت الدفعة منذ إجراء هذه المطابقة. طابِق مجددًا قبل القبول.',
  },
  'reconcile.undecided': {
    en: (p) => `${p.has('count') ? `${p.n('count')} payments` : 'Some payments'} in this period still differ without a decision. Accept Ottu’s value or keep Daftar’s for each, then lock.`,
    ar: (p) => `${p.has('count') ? `${p.n('count')} دفعة` : 'بعض الدفعات'} في هذه الفترة ما زالت مختلفة دون قرار. اقبل قيمة أوتو أو أبقِ قيمة دفتر لكل منها، ثم أقفل.`,
  },
  'reconcile.period_locked': {
    en: () => 'This period overlaps one that is locked already.',
    ar: () => 'هذه الفترة تتداخل مع فترة مقفلة من قبل.',
  },
  'reconcile.not_covered': {
    en: () => 'No reconciliation of this profile covers the whole period. Reconcile the period first.',
    ar: () => 'لا توجد مطابقة لملف التعريف هذا تغطي الفترة كلها. طابِق الفترة أولًا.',
  },
  'import.nothing': {
    en: () => 'Give at least one session ID to import.',
    ar: () => 'أدخل رقم جلسة واحدًا على الأقل للاستيراد.',
  },
  'import.no_session_id': {
    en: () => 'The file holds no session ID: one ID per line.',
    ar: () => 'الملف لا يحتوي على أي رقم جلسة: رقم واحد في كل سطر.',
  },
  'import.too_many_ids': {
    en: (p) => `Too many session IDs at once${p.has('given') ? ` (${p.n('given')})` : ''}${p.has('max') ? `: at most ${p.n('max')} at a time` : ''}. Import them in batches.`,
    ar: (p) => `عدد أرقام الجلسات كبير جدًا${p.has('given') ? ` (${p.n('given')})` : ''}${p.has('max') ? `: الحد الأقصى ${p.n('max')} في كل مرة` : ''}. استوردها على دفعات.`,
  },
  'refresh.failed': {
    en: () => 'Refreshing from Ottu failed for at least one profile. Try again later.',
    ar: () => 'فشل التحديث من أوتو لملف تعريف واحد على الأقل. حاول لاحقًا.',
  },
  interrupted: {
    en: () => 'Stopped before it finished, as you asked.',
    ar: () => 'توقف قبل أن ينتهي، بناءً على طلبك.',
  },
  runtime: {
    en: () => 'Daftar could not start a background task. Restart it; if it happens again, please report it.',
    ar: () => 'تعذّر على دفتر بدء مهمة في الخلفية. أعد تشغيله، وإن تكرر الأمر يرجى الإبلاغ عنه.',
  },
  // --- Ottu ---
  'ottu.credential': {
    en: (p) =>
      p.raw.missing === 'basic_user'
        ? `Profile${p.sp('profile')} needs its dashboard user name: enter the user and password again in Settings.`
        : `No key is saved for profile${p.sp('profile')} on this computer. Enter it in Settings.`,
    ar: (p) =>
      p.raw.missing === 'basic_user'
        ? `ملف التعريف${p.sp('profile')} يحتاج اسم مستخدم لوحة التحكم: أدخل المستخدم وكلمة المرور من جديد في الإعدادات.`
        : `لا يوجد مفتاح محفوظ لملف التعريف${p.sp('profile')} على هذا الجهاز. أدخله في الإعدادات.`,
  },
  'ottu.base_url': {
    en: (p) => `Daftar cannot connect to the Ottu address of profile${p.sp('profile')}. Check the address in Settings.`,
    ar: (p) => `تعذّر الاتصال بعنوان أوتو لملف التعريف${p.sp('profile')}. راجع العنوان في الإعدادات.`,
  },
  'ottu.auth': {
    en: (p) =>
      Number(p.raw.status) === 403
        ? `Ottu refused: the user lacks the permission ${p.s('permission', 'for this')}. Grant it in the Ottu dashboard.`
        : 'Ottu did not accept the key or password. Enter it again in Settings.',
    ar: (p) =>
      Number(p.raw.status) === 403
        ? `رفض أوتو الطلب: المستخدم لا يملك صلاحية ${p.s('permission', 'هذه العملية')}. امنحه إياها من لوحة تحكم أوتو.`
        : 'لم يقبل أوتو المفتاح أو كلمة المرور. أدخلها من جديد في الإعدادات.',
  },
  'ottu.offline': {
    en: () => 'Ottu cannot be reached: check the internet connection. Daftar tries again by itself.',
    ar: () => 'تعذّر الوصول إلى أوتو: تحقق من اتصال الإنترنت. سيحاول دفتر مجددًا تلقائيًا.',
  },
  'ottu.unavailable': {
    en: () => 'Ottu did not answer properly just now. Daftar tries again later.',
    ar: () => 'لم يستجب أوتو بشكل صحيح الآن. سيحاول دفتر لاحقًا.',
  },
  'ottu.not_ottu': {
    en: (p) => `What answered at ${p.s('base_url', 'this address')} is not Ottu. Check the Ottu address in Settings.`,
    ar: (p) => `الجهة التي ردّت على ${p.s('base_url', 'هذا العنوان')} ليست أوتو. راجع عنوان أوتو في الإعدادات.`,
  },
  'ottu.refused': {
    en: (p) => `Ottu refused this operation${detail(p)}.`,
    ar: (p) => `رفض أوتو هذه العملية${detail(p)}.`,
  },
  'ottu.throttled': {
    en: () => 'Ottu asked Daftar to slow down. It will try again shortly.',
    ar: () => 'طلب أوتو إبطاء الطلبات. ستُعاد المحاولة بعد قليل.',
  },
  'ottu.unknown_outcome': {
    en: () => 'No answer from Ottu, so the result is not known yet. Daftar resends it safely (Ottu will not do it twice).',
    ar: () => 'لم يصل رد من أوتو، فالنتيجة غير معروفة بعد. سيعيد دفتر إرسالها بأمان (لن ينفذها أوتو مرتين).',
  },
  'sync.cannot_send': {
    en: () => 'Daftar could not prepare requests for this profile just now. It tries again on the next run.',
    ar: () => 'تعذّر تجهيز الطلبات لملف التعريف هذا الآن. ستُعاد المحاولة في الجولة التالية.',
  },
  'sync.credential_changed': {
    en: () => 'The key changed while this was being sent: it is sent again with the new key.',
    ar: () => 'تغيّر المفتاح أثناء الإرسال: ستُرسل العملية مجددًا بالمفتاح الجديد.',
  },
  'operation.mismatch': {
    en: () => "Ottu's answer does not match what was asked, so the result is unknown. Check the payment in the Ottu dashboard, then resend (safe) or retry.",
    ar: () => 'رد أوتو لا يطابق الطلب، فالنتيجة غير معروفة. راجع الدفعة في لوحة تحكم أوتو ثم أعد الإرسال (آمن) أو أعد المحاولة.',
  },
  'operation.unresolved': {
    en: (p) => `Still no result after ${p.n('attempts', 'several')} tries. Resend it (safe, Ottu will not do it twice), or check the Ottu dashboard and retry.`,
    ar: (p) => `لا توجد نتيجة بعد ${p.n('attempts', 'عدة')} محاولات. أعد الإرسال (آمن، لن ينفذها أوتو مرتين)، أو راجع لوحة تحكم أوتو ثم أعد المحاولة.`,
  },
  'sync.interrupted': {
    en: () => 'Sending stopped before Ottu answered. It is sent again safely.',
    ar: () => 'توقف الإرسال قبل أن يرد أوتو. ستُرسل مجددًا بأمان.',
  },
  'operation.resent': {
    en: () => 'You resent this operation; it goes to Ottu again safely.',
    ar: () => 'أعدت إرسال هذه العملية؛ ستصل إلى أوتو مجددًا بأمان.',
  },
  'operation.held': {
    en: (p) =>
      `On hold: operation${p.sp('held_by')} on this payment ${p.raw.cause === 'refused' ? `was refused by Ottu${detail(p)}` : 'has an unknown result'}. Retry or drop that one first.`,
    ar: (p) =>
      `موقوفة: العملية${p.sp('held_by')} على هذه الدفعة ${p.raw.cause === 'refused' ? `رفضها أوتو${detail(p)}` : 'نتيجتها غير معروفة'}. أعد محاولتها أو استبعدها أولًا.`,
  },
  'ledger.corrupt': {
    en: () => "A profile's details could not be read from the ledger. Please report this.",
    ar: () => 'تعذّرت قراءة بيانات أحد ملفات التعريف من الدفتر. يرجى الإبلاغ عن ذلك.',
  },
  'ledger.invariant': {
    en: () => 'Daftar stopped a change that would break the ledger; nothing was saved. Please report this.',
    ar: () => 'أوقف دفتر تعديلًا كان سيخل بالدفتر؛ لم يُحفظ شيء. يرجى الإبلاغ عن ذلك.',
  },
  // --- the OS keyring ---
  'secrets.unavailable': {
    en: (p) =>
      p.raw.problem === 'locked'
        ? "The computer's password store (keyring) is locked. Unlock it, then try again."
        : "The computer's password store (keyring) cannot be reached. Sign in to your desktop session, then try again.",
    ar: (p) =>
      p.raw.problem === 'locked'
        ? 'مخزن كلمات المرور في الجهاز مقفل. افتحه ثم حاول مرة أخرى.'
        : 'تعذّر الوصول إلى مخزن كلمات المرور في الجهاز. سجّل الدخول إلى جلسة سطح المكتب ثم حاول مرة أخرى.',
  },
  'secrets.failed': {
    en: () => "The computer's password store could not save or read this key. Enter the key again.",
    ar: () => 'تعذّر على مخزن كلمات المرور حفظ هذا المفتاح أو قراءته. أدخل المفتاح من جديد.',
  },
  // --- the ledger file ---
  'store.busy': {
    en: () => 'The ledger is busy with another program right now. Daftar tries again; close other Daftar windows if it lasts.',
    ar: () => 'الدفتر مشغول ببرنامج آخر الآن. سيحاول دفتر مجددًا؛ أغلق نوافذ دفتر الأخرى إن استمر ذلك.',
  },
  'store.corrupt': {
    en: () => 'The ledger file is damaged. Restore it from a backup, and please report this.',
    ar: () => 'ملف الدفتر تالف. استرجعه من نسخة احتياطية، ويرجى الإبلاغ عن ذلك.',
  },
  'store.newer_version': {
    en: () => 'This ledger was saved by a newer Daftar. Update Daftar to open it.',
    ar: () => 'هذا الدفتر محفوظ بإصدار أحدث من دفتر. حدّث البرنامج لفتحه.',
  },
  'store.cannot_open': {
    en: (p) => `The ledger file cannot be opened${p.has('path') ? ` (${p.s('path')})` : ''}. Check that the folder exists and that you may write in it.`,
    ar: (p) => `تعذّر فتح ملف الدفتر${p.has('path') ? ` (${p.s('path')})` : ''}. تأكد من وجود المجلد ومن صلاحية الكتابة فيه.`,
  },
  'store.not_a_ledger': {
    en: (p) => `This file is not a Daftar ledger${p.has('path') ? ` (${p.s('path')})` : ''}; it was left untouched.`,
    ar: (p) => `هذا الملف ليس ملف دفتر${p.has('path') ? ` (${p.s('path')})` : ''}؛ لم يُمس.`,
  },
  'store.hard_linked': {
    en: () => 'The ledger file has a second name (a hard link, often from a backup tool). Remove the other name and use a real copy for backups.',
    ar: () => 'لملف الدفتر اسم ثانٍ (رابط صلب، غالبًا من أداة نسخ احتياطي). احذف الاسم الآخر واستخدم نسخة حقيقية للنسخ الاحتياطي.',
  },
  'store.read_only': {
    en: () => 'The ledger cannot be written (read-only file or folder). Move it somewhere writable.',
    ar: () => 'لا يمكن الكتابة في الدفتر (الملف أو المجلد للقراءة فقط). انقله إلى مكان قابل للكتابة.',
  },
  'store.disk_full': {
    en: () => 'The disk is full, so nothing was saved. Free some space and try again.',
    ar: () => 'القرص ممتلئ، فلم يُحفظ شيء. أفرغ بعض المساحة ثم حاول مرة أخرى.',
  },
  'store.error': {
    en: () => 'The ledger reported an unexpected problem. Please report this.',
    ar: () => 'واجه الدفتر مشكلة غير متوقعة. يرجى الإبلاغ عن ذلك.',
  },
  // --- the CLI's usage errors (not expected in the app; worded anyway) ---
  'usage.invalid_value': {
    en: () => 'A value given is not accepted.',
    ar: () => 'إحدى القيم المدخلة غير مقبولة.',
  },
  'usage.unknown_argument': {
    en: () => 'An unknown option was given.',
    ar: () => 'تم إدخال خيار غير معروف.',
  },
  'usage.unknown_command': {
    en: () => 'An unknown command was given.',
    ar: () => 'تم إدخال أمر غير معروف.',
  },
  'usage.missing_argument': {
    en: () => 'A required value is missing.',
    ar: () => 'هناك قيمة مطلوبة ناقصة.',
  },
  'usage.missing_command': {
    en: () => 'A command is missing.',
    ar: () => 'الأمر ناقص.',
  },
  'usage.conflict': {
    en: () => 'Some options cannot be used together.',
    ar: () => 'بعض الخيارات لا يمكن استخدامها معًا.',
  },
  'usage.wrong_number_of_values': {
    en: () => 'An option got too many or too few values.',
    ar: () => 'أحد الخيارات حصل على قيم أكثر أو أقل من المطلوب.',
  },
  'usage.invalid': {
    en: () => 'The command could not be understood.',
    ar: () => 'تعذّر فهم الأمر.',
  },
};

/** One sentence per kind for a code without words of its own (the shell's `app.*`/`demo.*`). */
const GENERIC: Record<ErrorKind, { en: Words; ar: Words }> = {
  invalid_input: {
    en: (p) => `Please check ${p.fieldName('what you entered')}: Daftar cannot accept it.`,
    ar: (p) => `يرجى مراجعة ${p.fieldName('ما أدخلته')}: لا يمكن قبوله.`,
  },
  refused: {
    en: () => 'This cannot be done right now.',
    ar: () => 'لا يمكن تنفيذ هذا الآن.',
  },
  not_found: {
    en: () => 'Daftar could not find what you asked for.',
    ar: () => 'لم يتم العثور على المطلوب.',
  },
  unavailable: {
    en: () => 'This is not available right now. Try again in a moment.',
    ar: () => 'هذا غير متاح حاليًا. حاول مرة أخرى بعد قليل.',
  },
  conflict: {
    en: () => 'Something else changed this at the same time. Reload and try again.',
    ar: () => 'تم تعديل هذا في الوقت نفسه. أعد التحميل وحاول مرة أخرى.',
  },
  internal: {
    en: () => 'Something went wrong inside Daftar. Please report this.',
    ar: () => 'حدث خطأ داخلي في دفتر. يرجى الإبلاغ عن ذلك.',
  },
};

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const ALL_TEXT: Record<string, { en: Words; ar: Words }> = { ...ERROR_TEXT, ...SHELL_TEXT };

/** The error in plain words, in `lang` (default: the current language). */
export function describeError(e: ErrorView, lang: Lang = settings.language): string {
  const p = new P(e.params ?? {}, e.field, lang);
  const words = Object.prototype.hasOwnProperty.call(ALL_TEXT, e.code)
    ? ALL_TEXT[e.code]!
    : (GENERIC[e.kind] ?? GENERIC.internal);
  return words[lang](p);
}

/**
 * A stored failure (an operation's `last_error_code`/`params`, a pause's code): the same
 * words, without a kind. `undefined` code (a row stored before codes were) gives `null`,
 * so the caller shows its own fallback.
 */
export function describeCode(
  code: string | null | undefined,
  params: Params | null | undefined,
  lang: Lang = settings.language,
): string | null {
  if (!code) return null;
  return describeError(
    { code, kind: 'unavailable', message: '', field: null, params: (params ?? {}) as ErrorView['params'] },
    lang,
  );
}

/** Every code with words, for tests and tools. */
export const KNOWN_CODES = Object.keys(ALL_TEXT);
