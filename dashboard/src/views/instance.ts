import { ApiError, paths, send, streamLines, type Container, type LogLine } from "../api";
import { bytes, duration, h, replace, seconds, time } from "../dom";
import { instanceKey, refreshContainers, sleeping, startedAt, type ViewContext } from "../state";

const maxLines = 2000;

/** One instance: its facts, its live log (stdout and stderr), and stop / destroy buttons that ask first. */
export function instanceView(context: ViewContext, className: string, objectId: string): void {
  const { root, signal } = context;
  const key = instanceKey({ class: className, object: objectId });
  const title = h("h1", {}, `${className} / ${objectId.slice(0, 12)}`);
  const facts = h("dl", { class: "facts", id: "facts" });
  const logStatus = h("span", { class: "muted", id: "log-status" }, "connecting…");
  const log = h("pre", { class: "log", id: "log", "aria-live": "polite" });
  const actionMessage = h("p", { class: "muted", id: "action-message", role: "status" });

  const act = async (what: "stop" | "destroy") => {
    const question =
      what === "stop"
        ? `Stop ${className}/${objectId.slice(0, 12)}? Its container gets SIGTERM (SIGKILL after the grace period); the next request starts it again.`
        : `Destroy ${className}/${objectId.slice(0, 12)}? Its container is removed at once, without a graceful stop.`;
    if (!window.confirm(question)) return;
    actionMessage.textContent = what === "stop" ? "Stopping…" : "Destroying…";
    try {
      await send(what === "stop" ? "POST" : "DELETE", what === "stop" ? paths.stop(className, objectId) : paths.destroy(className, objectId), signal);
      actionMessage.textContent = what === "stop" ? "Stopped." : "Destroyed.";
    } catch (e) {
      actionMessage.textContent = `${what === "stop" ? "Stop" : "Destroy"} failed: ${(e as Error).message}`;
    }
  };

  const stop = h("button", { id: "stop", class: "danger-outline", onclick: () => void act("stop") }, "Stop");
  const destroy = h("button", { id: "destroy", class: "danger", onclick: () => void act("destroy") }, "Destroy");
  replace(
    root,
    h("div", { class: "page-head" }, h("a", { href: "#/", class: "back" }, "← Instances"), title, h("div", { class: "actions" }, stop, destroy)),
    actionMessage,
    h("section", { class: "card" }, facts),
    h("section", { class: "card log-card" }, h("div", { class: "card-head" }, h("h2", {}, "Log"), logStatus), log),
  );

  let streaming = false;
  const appendLine = (line: LogLine) => {
    const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.appendChild(h("div", { class: `line ${line.stream}` }, h("span", { class: "t" }, time(line.time)), line.text));
    while (log.childElementCount > maxLines) log.firstElementChild!.remove();
    if (stick) log.scrollTop = log.scrollHeight;
  };

  const follow = async () => {
    streaming = true;
    replace(log);
    logStatus.textContent = "live";
    try {
      await streamLines(
        paths.logs(className, objectId, 200),
        (text) => {
          if (!text) return;
          try {
            appendLine(JSON.parse(text) as LogLine);
          } catch {
            appendLine({ time: null, stream: "stdout", text });
          }
        },
        signal,
      );
      logStatus.textContent = "the container ended; the log resumes when it runs again";
    } catch (e) {
      if (signal.aborted) return;
      logStatus.textContent = e instanceof ApiError && e.status === 404 ? "not running: the log resumes when it runs again" : `log stopped: ${(e as Error).message}`;
    } finally {
      streaming = false;
    }
  };

  const fact = (label: string, value: string, id?: string) => [h("dt", {}, label), h("dd", { id }, value)];

  context.every(1000, async () => {
    const { running } = await refreshContainers(signal);
    const c: Container | undefined = running.find((x) => x.class === className && (x.object === objectId || x.object_name === objectId));
    const asleep = sleeping.get(key);
    const shown = c ?? asleep?.container;
    const state = c ? c.state : asleep ? "sleeping" : "not running";
    if (shown?.object_name) title.textContent = `${className} / ${shown.object_name}`;
    replace(
      facts,
      ...fact("State", state, "instance-state"),
      ...fact("Object", shown?.object ?? objectId),
      ...fact("Version", shown?.version || "–"),
      ...fact("Image", shown?.image ?? "–"),
      ...fact("Container", shown ? shown.id.slice(0, 12) : "–"),
      ...fact("Uptime", c ? duration(Date.now() - startedAt(c)) : asleep ? `asleep ${duration(Date.now() - asleep.since)}` : "–"),
      ...fact("CPU", c ? seconds(c.cpu_seconds) : "–"),
      ...fact("Memory", c ? bytes(c.memory_bytes) : "–"),
    );
    stop.disabled = !c;
    destroy.disabled = !c;
    if (c && !streaming) void follow();
    if (!c && !streaming) logStatus.textContent = "not running: the log resumes when it runs again";
  });
}
