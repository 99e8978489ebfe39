// Talks to the host's admin API (/_berth/admin) with the admin token as a Bearer header.
// The token lives in this tab's sessionStorage only: never in a URL, a cookie or a log line.

const prefix = "/_berth/admin";
const tokenKey = "berth.admin-token";

export function getToken(): string | null {
  return sessionStorage.getItem(tokenKey);
}

export function setToken(token: string): void {
  sessionStorage.setItem(tokenKey, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(tokenKey);
}

/** An error answer of the admin API (its problem+json detail when it sent one). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function headers(token = getToken()): HeadersInit {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function failure(response: Response): Promise<ApiError> {
  let detail = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && typeof body.detail === "string") detail = body.detail;
    else if (body && typeof body.title === "string") detail = body.title;
  } catch {
    // Not JSON: keep the status line.
  }
  return new ApiError(response.status, detail);
}

/** GETs an admin endpoint as JSON; throws ApiError on an error status. */
export async function getJson<T>(path: string, signal?: AbortSignal, token?: string): Promise<T> {
  const response = await fetch(prefix + path, { headers: headers(token ?? getToken()), signal, cache: "no-store" });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

/** Sends a POST or DELETE to an admin endpoint; throws ApiError on an error status. */
export async function send(method: "POST" | "DELETE", path: string, signal?: AbortSignal): Promise<unknown> {
  const response = await fetch(prefix + path, { method, headers: headers(), signal });
  if (!response.ok) throw await failure(response);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/**
 * Reads a streaming admin endpoint line by line (NDJSON, or SSE's data lines), calling onLine for each.
 * fetch streaming rather than EventSource, because EventSource cannot send the Authorization header.
 * Resolves when the server ends the stream; rejects with ApiError on an error status.
 */
export async function streamLines(path: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
  const response = await fetch(prefix + path, { headers: headers(), signal, cache: "no-store" });
  if (!response.ok || !response.body) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, "");
      buffer = buffer.slice(newline + 1);
      onLine(line);
    }
  }
  if (buffer) onLine(buffer);
}

/** The app this host runs and its container classes (GET /_berth/admin/dashboard/app). */
export interface AppInfo {
  app: string;
  node: string;
  classes: ClassInfo[];
}

export interface ClassInfo {
  class_name: string;
  image: string;
  instance_type: string | null;
  sleep_after_ms: number | null;
  max_instances: number | null;
}

/** A container as GET /_berth/admin/containers lists it. */
export interface Container {
  id: string;
  name: string;
  class: string;
  object: string;
  object_name: string | null;
  state: string;
  image: string;
  version: string;
  created: string;
  // From the metering work (issue 15 part 1); absent on hosts without it.
  cpu_seconds?: number | null;
  memory_bytes?: number | null;
  started_at?: string | null;
}

/** One line of GET containers/{class}/{object}/logs?format=ndjson. */
export interface LogLine {
  time: string | null;
  stream: "stdout" | "stderr";
  text: string;
}

export interface UsageNumbers {
  running_ms: number;
  starts: number;
  memory_gib_s: number;
  disk_gb_s: number;
  cpu_vcpu_s: number;
  egress_bytes: number;
  cost_usd: number;
}

export interface UsageRow extends UsageNumbers {
  class: string | null;
  object: string | null;
  object_name: string | null;
  hour: string | null;
}

/** GET /_berth/admin/usage. */
export interface UsageReport {
  app: string;
  since: string;
  until: string;
  by: string;
  rows: UsageRow[];
  totals: UsageNumbers;
  billable_usd: number;
}

/** A record of GET /_berth/admin/logs (live logs of the app and the platform). */
export interface LogRecord {
  time: string;
  source: string;
  app?: string;
  class?: string | null;
  object?: string | null;
  object_name?: string | null;
  container?: string | null;
  level?: string | null;
  category?: string | null;
  event_id?: number | null;
  event?: string | null;
  message: string;
}

export const paths = {
  app: "/dashboard/app",
  containers: "/containers",
  logs: (cls: string, obj: string, tail: number) =>
    `/containers/${encodeURIComponent(cls)}/${encodeURIComponent(obj)}/logs?follow=true&format=ndjson&tail=${tail}`,
  stop: (cls: string, obj: string) => `/containers/${encodeURIComponent(cls)}/${encodeURIComponent(obj)}/stop`,
  destroy: (cls: string, obj: string) => `/containers/${encodeURIComponent(cls)}/${encodeURIComponent(obj)}`,
  usage: (by: "class" | "hour" | "object", since: Date, cls?: string) =>
    `/usage?by=${by}&since=${encodeURIComponent(since.toISOString())}` + (cls ? `&class=${encodeURIComponent(cls)}` : ""),
  errors: "/logs?level=error&follow=false&tail=50",
};
