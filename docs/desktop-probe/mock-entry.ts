import { mockIPC } from '@tauri-apps/api/mocks'
mockIPC((cmd, args) => {
  if (cmd === 'greet') return `Hello, ${(args as { name: string }).name}! from mock`
  throw new Error(`unmocked ${cmd}`)
})
await import('../src/main')
