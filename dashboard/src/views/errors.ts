import { ApiError, getJson, paths, type LogRecord } from "../api";
import { h, replace } from "../dom";
import type { ViewContext } from "../state";

/** The app's and the platform's recent errors (GET /_berth/admin/logs?level=error&follow=false&tail=50), refreshed every 3 seconds. */
export function errorsView(context: ViewContext): void {
  const { root, signal } = context;
  const body = h("div", { id: "errors" });
  replace(root, h("div", { class: "page-head" }, h("h1", {}, "Recent errors"), h("span", { class: "muted" }, "the last 50, newest first")), h("section", { class: "card" }, body));

  context.every(3000, async () => {
    let records: LogRecord[];
    try {
      records = await getJson<LogRecord[]>(paths.errors, signal);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        replace(body, h("p", { class: "muted" }, "This host does not keep logs (no /_berth/admin/logs endpoint)."));
        return;
      }
      throw e;
    }
    if (records.length === 0) {
      replace(body, h("p", { class: "muted empty" }, "No errors."));
      return;
    }
    const sorted = [...records].sort((a, b) => (a.time < b.time ? 1 : -1));
    replace(
      body,
      h(
        "table",
        { class: "errors" },
        h("thead", {}, h("tr", {}, ...["Time", "Source", "Where", "Event", "Message"].map((x) => h("th", {}, x)))),
        h(
          "tbody",
          {},
          ...sorted.map((r) =>
            h(
              "tr",
              {},
              h("td", { class: "nowrap" }, new Date(r.time).toLocaleString(undefined, { hour12: false })),
              h("td", {}, r.source),
              h(
                "td",
                {},
                r.class
                  ? h("a", { href: `#/c/${encodeURIComponent(r.class)}/${encodeURIComponent(r.object ?? "")}` }, `${r.class}/${r.object_name ?? (r.object ?? "").slice(0, 12)}`)
                  : (r.category ?? "platform"),
              ),
              h("td", {}, r.event ?? (r.event_id ? String(r.event_id) : "")),
              h("td", { class: "message" }, r.message),
            ),
          ),
        ),
      ),
    );
  });
}
