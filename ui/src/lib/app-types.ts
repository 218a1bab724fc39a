// TEMPORARY: the shell's types as IPC.md states them, until the shell's generated
// app-bindings.ts lands. Then ipc.ts imports from it and this file is deleted.

import type { ErrorView, ImportProgress, ImportSummary, SyncStatus } from './bindings'

export type AppInfo = { version: string; ledger_path: string; log_dir: string | null; smoke: boolean; has_profiles: boolean }
export type SyncState = { paused_by_merchant: boolean; status: SyncStatus }
export type DemoStatus = { active: boolean; online: boolean; profile: string | null; base_url: string | null }
export type DemoOnline = { online: boolean }
export type Painted = { rows: number }
export type JobStarted = { job: number }
export type JobRef = { job: number }
export type OperationRef = { id: number }
export type DropRequest = { id: number; reason?: string | null }
export type ProfileRef = { name: string }
export type NewProfile = { name: string; base_url: string; currency: string }
export type SetKeyRequest = { profile: string; basic_user: string | null; secret: string }
export type ImportProgressEvent = { job: number; progress: ImportProgress }
export type ImportFinishedEvent = { job: number; summary: ImportSummary | null; error: ErrorView | null }
