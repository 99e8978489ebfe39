import "./styles.css";
import { ApiError, clearToken, getJson, getToken, paths, setToken, type AppInfo } from "./api";
import { h, replace } from "./dom";
import { overviewView } from "./views/overview";
import { instanceView } from "./views/instance";
import { usageView } from "./views/usage";
import { errorsView } from "./views/errors";
import type { ViewContext } from "./state";

const root = document.getElementById("app")!;
let current: AbortController | null = null;
let app: AppInfo | null = null;

function login(error?: string): void {
  current?.abort();
  const input = h("input", {
    id: "token",
    type: "password",
    name: "token",
    autocomplete: "current-password",
    placeholder: "admin token",
    required: true,
    "aria-label": "Admin token",
  });
  const message = h("p", { class: "error", id: "login-error", role: "alert" }, error ?? "");
  const button = h("button", { type: "submit", id: "login-submit" }, "Log in");
  const form = h(
    "form",
    { class: "login", id: "login" },
    h("h1", {}, "Berth"),
    h("p", { class: "muted" }, "Paste the admin token: Berth:Admin:Token, or the file data/admin-token in the node's data directory."),
    input,
    button,
    message,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    button.disabled = true;
    message.textContent = "";
    try {
      app = await getJson<AppInfo>(paths.app, undefined, token);
      setToken(token);
      if (location.hash === "" || location.hash === "#/login") location.hash = "#/";
      route();
    } catch (e) {
      message.textContent =
        e instanceof ApiError && e.status === 401 ? "Wrong token: the host did not accept it." : `Could not log in: ${(e as Error).message}`;
    } finally {
      button.disabled = false;
    }
  });
  replace(root, h("main", { class: "login-page" }, form));
  input.focus();
}

function nav(active: string, info: AppInfo): HTMLElement {
  const link = (href: string, label: string, id: string) =>
    h("a", { href, id, class: active === id ? "active" : undefined }, label);
  return h(
    "header",
    { class: "top" },
    h("span", { class: "brand" }, "Berth"),
    h("span", { class: "app", id: "app-name", title: `node ${info.node}` }, info.app),
    h(
      "nav",
      {},
      link("#/", "Instances", "nav-instances"),
      link("#/usage", "Usage", "nav-usage"),
      link("#/errors", "Errors", "nav-errors"),
    ),
    h(
      "button",
      {
        class: "link",
        id: "logout",
        onclick: () => {
          clearToken();
          app = null;
          login();
        },
      },
      "Log out",
    ),
  );
}

async function route(): Promise<void> {
  current?.abort();
  if (!getToken()) {
    login();
    return;
  }
  const controller = new AbortController();
  current = controller;
  try {
    app ??= await getJson<AppInfo>(paths.app, controller.signal);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      clearToken();
      login("The token is no longer accepted; log in again.");
      return;
    }
    if (controller.signal.aborted) return;
    replace(root, h("main", { class: "page" }, h("p", { class: "error" }, `The host did not answer: ${(e as Error).message}`)));
    setTimeout(() => {
      if (!controller.signal.aborted) route();
    }, 2000);
    return;
  }

  const hash = location.hash.replace(/^#/, "") || "/";
  const parts = hash.split("/").filter(Boolean).map(decodeURIComponent);
  const statusLine = h("p", { class: "status", id: "status", role: "status" });
  const page = h("main", { class: "page" });
  const active = parts[0] === "usage" ? "nav-usage" : parts[0] === "errors" ? "nav-errors" : "nav-instances";
  replace(root, nav(active, app), statusLine, page);

  const context: ViewContext = {
    root: page,
    app,
    signal: controller.signal,
    status: (message) => {
      statusLine.textContent = message ?? "";
      statusLine.classList.toggle("visible", !!message);
    },
    every: (intervalMs, fn) => {
      const tick = async () => {
        if (controller.signal.aborted) return;
        try {
          await fn();
          context.status(null);
        } catch (e) {
          if (controller.signal.aborted) return;
          if (e instanceof ApiError && e.status === 401) {
            clearToken();
            login("The token is no longer accepted; log in again.");
            return;
          }
          context.status(`Update failed: ${(e as Error).message}`);
        }
        if (!controller.signal.aborted) setTimeout(tick, intervalMs);
      };
      void tick();
    },
  };

  if (parts[0] === "c" && parts.length >= 3) instanceView(context, parts[1], parts[2]);
  else if (parts[0] === "usage") usageView(context);
  else if (parts[0] === "errors") errorsView(context);
  else overviewView(context);
}

window.addEventListener("hashchange", () => void route());
void route();
