import { getJson, paths, type AppInfo, type Container } from "./api";

/** What a page gets: where to draw, the app, and a signal that aborts when the user leaves the page. */
export interface ViewContext {
  root: HTMLElement;
  app: AppInfo;
  signal: AbortSignal;
  /** Calls fn now and then every intervalMs until the page is left; errors are shown in the page's status line. */
  every(intervalMs: number, fn: () => Promise<void>): void;
  status(message: string | null): void;
}

/** Instances seen running that are gone from the engine's list: their objects went to sleep (or were stopped). */
export const sleeping = new Map<string, { container: Container; since: number }>();

export function instanceKey(c: { class: string; object: string }): string {
  return `${c.class}/${c.object}`;
}


let running = new Map<string, Container>();

/**
 * Fetches the engine's list of this node's containers and keeps track of the ones that went away since the last look:
 * an object's container is removed when it goes to sleep, so "was running, now gone" is shown as sleeping.
 */
export async function refreshContainers(signal: AbortSignal): Promise<{ running: Container[]; sleeping: Container[] }> {
  const list = await getJson<Container[]>(paths.containers, signal);
  const now = Date.now();
  const next = new Map<string, Container>();
  for (const c of list) {
    next.set(instanceKey(c), c);
    sleeping.delete(instanceKey(c));
  }
  for (const [key, c] of running) {
    if (!next.has(key)) sleeping.set(key, { container: c, since: now });
  }
  running = next;
  return {
    running: list,
    sleeping: [...sleeping.values()].sort((a, b) => b.since - a.since).map((s) => s.container),
  };
}

/** When the instance started: the metering's started_at when the host has it, else the container's creation. */
export function startedAt(c: Container): number {
  return new Date(c.started_at ?? c.created).getTime();
}
