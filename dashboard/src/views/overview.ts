import type { Container } from "../api";
import { bytes, duration, h, replace, seconds } from "../dom";
import { refreshContainers, sleeping, startedAt, type ViewContext } from "../state";

/** The live list of classes and their instances, refreshed every second. */
export function overviewView(context: ViewContext): void {
  const { root, app } = context;
  const sections = new Map<string, HTMLElement>();
  const summary = h("p", { class: "muted", id: "summary" });
  const list = h("div", { class: "classes" });
  replace(root, h("div", { class: "page-head" }, h("h1", {}, "Instances"), summary), list);

  const sectionFor = (name: string, known: boolean): HTMLElement => {
    let section = sections.get(name);
    if (!section) {
      const info = app.classes.find((c) => c.class_name === name);
      const facts = info
        ? [
            info.image,
            info.instance_type ? `instance type ${info.instance_type}` : null,
            info.sleep_after_ms !== null ? `sleeps after ${duration(info.sleep_after_ms)} idle` : null,
            info.max_instances !== null ? `max ${info.max_instances}` : null,
          ].filter(Boolean)
        : [known ? "" : "not in this app's config"];
      section = h(
        "section",
        { class: "card class", "data-class": name },
        h("div", { class: "card-head" }, h("h2", {}, name), h("span", { class: "muted" }, facts.join(" · "))),
        h("div", { class: "instances" }),
      );
      sections.set(name, section);
      list.appendChild(section);
    }
    return section;
  };
  for (const c of app.classes) sectionFor(c.class_name, true);

  const row = (c: Container, state: string, sleptAt?: number) => {
    const href = `#/c/${encodeURIComponent(c.class)}/${encodeURIComponent(c.object)}`;
    const uptime = state === "sleeping" ? `asleep ${duration(Date.now() - (sleptAt ?? Date.now()))}` : duration(Date.now() - startedAt(c));
    return h(
      "tr",
      { class: `instance state-${state}`, "data-class": c.class, "data-object": c.object, "data-state": state },
      h("td", {}, h("a", { href, class: "object" }, c.object_name ?? c.object.slice(0, 12)), c.object_name ? h("span", { class: "muted id" }, c.object.slice(0, 12)) : null),
      h("td", {}, h("span", { class: `badge ${state}` }, state)),
      h("td", {}, c.version || "–"),
      h("td", { class: "num" }, uptime),
      h("td", { class: "num" }, state === "sleeping" ? "–" : seconds(c.cpu_seconds)),
      h("td", { class: "num" }, state === "sleeping" ? "–" : bytes(c.memory_bytes)),
    );
  };

  context.every(1000, async () => {
    const { running } = await refreshContainers(context.signal);
    const byClass = new Map<string, HTMLElement[]>();
    for (const c of running) {
      const rows = byClass.get(c.class) ?? [];
      rows.push(row(c, c.state));
      byClass.set(c.class, rows);
    }
    for (const [key, s] of sleeping) {
      const cls = key.slice(0, key.indexOf("/"));
      const rows = byClass.get(cls) ?? [];
      rows.push(row(s.container, "sleeping", s.since));
      byClass.set(cls, rows);
    }
    for (const name of byClass.keys()) sectionFor(name, false);
    for (const [name, section] of sections) {
      const rows = byClass.get(name) ?? [];
      const body = section.querySelector(".instances")!;
      replace(
        body,
        rows.length === 0
          ? h("p", { class: "muted empty" }, "No instances: the class starts one on its first request.")
          : h(
              "table",
              {},
              h(
                "thead",
                {},
                h("tr", {}, h("th", {}, "Object"), h("th", {}, "State"), h("th", {}, "Version"), h("th", { class: "num" }, "Uptime"), h("th", { class: "num" }, "CPU"), h("th", { class: "num" }, "Memory")),
              ),
              h("tbody", {}, ...rows),
            ),
      );
    }
    summary.textContent = `${running.length} running · ${sleeping.size} asleep since this page opened · ${app.classes.length} classes · updated ${new Date().toLocaleTimeString(undefined, { hour12: false })}`;
  });
}

