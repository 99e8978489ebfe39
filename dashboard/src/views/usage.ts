import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { ApiError, getJson, paths, type UsageReport } from "../api";
import { bytes, duration, h, replace, usd } from "../dom";
import type { ViewContext } from "../state";

const palette = ["#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2", "#dc2626", "#4b5563"];
const hourMs = 3_600_000;

/** Usage per class and hour over the last 24 hours (GET /_berth/admin/usage), refreshed every 3 seconds. */
export function usageView(context: ViewContext): void {
  const { root, app, signal } = context;
  const totals = h("div", { class: "totals", id: "usage-totals" });
  const runningChart = h("div", { class: "chart", id: "chart-running" });
  const cpuChart = h("div", { class: "chart", id: "chart-cpu" });
  const table = h("div", { id: "usage-table" });
  replace(
    root,
    h("div", { class: "page-head" }, h("h1", {}, "Usage"), h("span", { class: "muted" }, "last 24 hours, running instances included live")),
    totals,
    h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", {}, "Running time per class and hour"), h("span", { class: "muted" }, "seconds")), runningChart),
    h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", {}, "Active CPU per class and hour"), h("span", { class: "muted" }, "vCPU-seconds")), cpuChart),
    h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", {}, "By class")), table),
  );

  const charts: uPlot[] = [];
  signal.addEventListener("abort", () => charts.forEach((c) => c.destroy()));

  const draw = (target: HTMLElement, index: number, data: uPlot.AlignedData, classes: string[]) => {
    const width = Math.max(320, target.clientWidth || 900);
    if (charts[index] && charts[index].series.length === classes.length + 1) {
      charts[index].setData(data);
      charts[index].setSize({ width, height: 220 });
      return;
    }
    charts[index]?.destroy();
    replace(target);
    charts[index] = new uPlot(
      {
        width,
        height: 220,
        scales: { x: { time: true } },
        axes: [{}, { size: 60 }],
        legend: { live: false },
        series: [
          {},
          ...classes.map((name, i) => ({
            label: name,
            stroke: palette[i % palette.length],
            fill: palette[i % palette.length] + "33",
            width: 2,
            paths: uPlot.paths.bars!({ size: [0.8 / Math.max(1, classes.length), 40], align: 0 }),
            points: { show: false },
          })),
        ],
      },
      data,
      target,
    );
  };

  context.every(3000, async () => {
    const until = new Date();
    const since = new Date(Math.floor((until.getTime() - 23 * hourMs) / hourMs) * hourMs);
    let byClass: UsageReport;
    try {
      byClass = await getJson<UsageReport>(paths.usage("class", since), signal);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        replace(totals, h("p", { class: "muted" }, "This host does not meter usage (no /_berth/admin/usage endpoint)."));
        return;
      }
      throw e;
    }
    const classes = app.classes.map((c) => c.class_name);
    for (const row of byClass.rows) if (row.class && !classes.includes(row.class)) classes.push(row.class);
    const hourly = await Promise.all(classes.map((c) => getJson<UsageReport>(paths.usage("hour", since, c), signal)));

    const hours: number[] = [];
    for (let t = since.getTime(); t <= until.getTime(); t += hourMs) hours.push(t / 1000);
    const series = (pick: (r: UsageReport["rows"][number]) => number) =>
      hourly.map((report) => {
        const values = hours.map(() => 0);
        for (const row of report.rows) {
          if (!row.hour) continue;
          const i = Math.round((new Date(row.hour).getTime() / 1000 - hours[0]) / 3600);
          if (i >= 0 && i < values.length) values[i] += pick(row);
        }
        return values;
      });
    draw(runningChart, 0, [hours, ...series((r) => r.running_ms / 1000)], classes);
    draw(cpuChart, 1, [hours, ...series((r) => r.cpu_vcpu_s)], classes);

    const t = byClass.totals;
    const stat = (label: string, value: string, id: string, raw: number) =>
      h("div", { class: "stat" }, h("span", { class: "muted" }, label), h("strong", { id, "data-value": raw }, value));
    replace(
      totals,
      stat("Running time", duration(t.running_ms), "usage-running", t.running_ms),
      stat("Starts", String(t.starts), "usage-starts", t.starts),
      stat("CPU", `${t.cpu_vcpu_s.toFixed(2)} vCPU-s`, "usage-cpu", t.cpu_vcpu_s),
      stat("Memory", `${t.memory_gib_s.toFixed(1)} GiB-s`, "usage-memory", t.memory_gib_s),
      stat("Egress", bytes(t.egress_bytes), "usage-egress", t.egress_bytes),
      stat("Cost", usd(t.cost_usd), "usage-cost", t.cost_usd),
      stat("Billable", usd(byClass.billable_usd), "usage-billable", byClass.billable_usd),
    );
    replace(
      table,
      h(
        "table",
        {},
        h(
          "thead",
          {},
          h("tr", {}, ...["Class", "Running", "Starts", "CPU (vCPU-s)", "Memory (GiB-s)", "Disk (GB-s)", "Egress", "Cost"].map((x, i) => h("th", { class: i ? "num" : undefined }, x))),
        ),
        h(
          "tbody",
          {},
          ...byClass.rows.map((r) =>
            h(
              "tr",
              { "data-class": r.class ?? "" },
              h("td", {}, r.class ?? "–"),
              h("td", { class: "num" }, duration(r.running_ms)),
              h("td", { class: "num" }, String(r.starts)),
              h("td", { class: "num" }, r.cpu_vcpu_s.toFixed(2)),
              h("td", { class: "num" }, r.memory_gib_s.toFixed(1)),
              h("td", { class: "num" }, r.disk_gb_s.toFixed(1)),
              h("td", { class: "num" }, bytes(r.egress_bytes)),
              h("td", { class: "num" }, usd(r.cost_usd)),
            ),
          ),
        ),
      ),
    );
  });
}
