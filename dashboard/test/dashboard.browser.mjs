// Browser test of the web dashboard in headless Chromium (Debian's chromium, driven by playwright-core; no browser download).
// Run by tests/Berth.Hosting.EndToEnd.Tests/DashboardBrowserTests.cs against a real host; it can also be run by hand:
//   BERTH_URL=http://127.0.0.1:5000 BERTH_TOKEN=... BERTH_CLASS=EchoApp BERTH_START_PATH=/echo/dash/hello node test/dashboard.browser.mjs
// Prints "ok - step" or "not ok - step: why" per step and exits 1 when any step failed.
import { chromium } from "playwright-core";

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const base = env("BERTH_URL").replace(/\/$/, "");
const token = env("BERTH_TOKEN");
const className = env("BERTH_CLASS");
const startPath = env("BERTH_START_PATH");
const objectName = env("BERTH_OBJECT_NAME", "dash");
const screenshots = env("BERTH_SCREENSHOT_DIR", "");
const marker = `dashboard-test-line-${Math.random().toString(16).slice(2, 10)}`;
const admin = (path, init = {}) =>
  fetch(`${base}/_berth/admin${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...(init.headers ?? {}) } });

const browser = await chromium.launch({
  executablePath: env("CHROMIUM_PATH", "/usr/bin/chromium"),
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const consoleErrors = [];
page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
page.on("pageerror", (e) => consoleErrors.push(String(e)));

let failures = 0;
async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failures++;
    console.log(`not ok - ${name}: ${String(e?.message ?? e).split("\n").slice(0, 6).join("\n    ")}`);
  }
}
const row = (state) => page.locator(`tr.instance[data-class="${className}"]${state ? `[data-state="${state}"]` : ""}`);
const start = async () => {
  const response = await fetch(base + startPath);
  if (!response.ok) throw new Error(`GET ${startPath}: ${response.status}`);
};

await step("the page answers with a Content-Security-Policy and no inline script", async () => {
  const response = await page.goto(`${base}/_berth/dashboard/`);
  const csp = response.headers()["content-security-policy"] ?? "";
  if (!csp.includes("script-src 'self'")) throw new Error(`CSP: '${csp}'`);
  const inline = await page.locator("script:not([src])").count();
  if (inline) throw new Error(`${inline} inline scripts`);
});

await step("a wrong token is refused with an error on the login page", async () => {
  await page.fill("#token", "not-the-token-0123456789");
  await page.click("#login-submit");
  await page.locator("#login-error", { hasText: "Wrong token" }).waitFor({ timeout: 10_000 });
  if (await page.evaluate(() => sessionStorage.length)) throw new Error("a refused token was kept");
});

await step("the right token logs in and shows the app and its class", async () => {
  await page.fill("#token", token);
  await page.click("#login-submit");
  await page.locator("#app-name").waitFor({ timeout: 10_000 });
  await page.locator(`section.class[data-class="${className}"]`).waitFor({ timeout: 10_000 });
  if (page.url().includes(token)) throw new Error("the token is in the URL");
});

await step("a container appears when a request starts it", async () => {
  await start();
  await row("running").waitFor({ timeout: 15_000 });
  const text = await row("running").innerText();
  if (!text.includes(objectName)) throw new Error(`row: ${text}`);
});

if (screenshots) await page.screenshot({ path: `${screenshots}/dashboard.png` });

await step("its page shows a line the test wrote to its log", async () => {
  await row("running").locator("a.object").click();
  await page.locator("#instance-state", { hasText: "running" }).waitFor({ timeout: 10_000 });
  await page.locator("#log-status", { hasText: "live" }).waitFor({ timeout: 10_000 });
  // The line goes to the container's stdout (PID 1's), as the app's own output does.
  const exec = await admin(`/containers/${className}/${objectName}/exec`, {
    method: "POST",
    body: JSON.stringify({ command: ["sh", "-c", `echo ${marker} > /proc/1/fd/1`] }),
  });
  if (!exec.ok) throw new Error(`exec: ${exec.status} ${await exec.text()}`);
  await exec.text();
  await page.locator("#log", { hasText: marker }).waitFor({ timeout: 5_000 });
});

if (screenshots) await page.screenshot({ path: `${screenshots}/dashboard-instance.png` });

await step("the container goes to sleep after its idle time and the list shows it", async () => {
  await page.click("#nav-instances");
  await row("sleeping").waitFor({ timeout: 30_000 });
});

await step("usage grows when a request runs the class again", async () => {
  await page.click("#nav-usage");
  const value = page.locator("#usage-running");
  try {
    await value.waitFor({ timeout: 10_000 });
  } catch {
    throw new Error(`no usage totals; the page says: ${await page.locator("main").innerText()}`);
  }
  const before = Number(await value.getAttribute("data-value"));
  await start();
  await page.waitForFunction(
    (b) => Number(document.getElementById("usage-running")?.getAttribute("data-value")) > b,
    before,
    { timeout: 20_000 },
  );
  if (screenshots) await page.screenshot({ path: `${screenshots}/dashboard-usage.png` });
});

await step("the errors page shows recent errors or says why it cannot", async () => {
  await page.click("#nav-errors");
  await page.locator("#errors > *").first().waitFor({ timeout: 10_000 });
});

await step("destroy asks first, then removes the running container", async () => {
  await start();
  await page.goto(`${base}/_berth/dashboard/#/c/${className}/${objectName}`);
  await page.locator("#instance-state", { hasText: "running" }).waitFor({ timeout: 15_000 });
  let asked = "";
  page.once("dialog", (d) => {
    asked = d.message();
    void d.accept();
  });
  await page.click("#destroy");
  await page.locator("#action-message", { hasText: "Destroyed." }).waitFor({ timeout: 15_000 });
  if (!asked.includes("Destroy")) throw new Error(`confirm said: '${asked}'`);
  await page.locator("#instance-state", { hasText: /sleeping|not running/ }).waitFor({ timeout: 10_000 });
});

await step("no script errors in the browser console", async () => {
  // Refused fetches (the wrong token's 401, endpoints a host does not have) are logged by the browser; script errors are not those.
  const real = consoleErrors.filter((e) => !/Failed to load resource/.test(e));
  if (real.length) throw new Error(real.join("\n"));
});

await browser.close();
console.log(failures ? `${failures} step(s) failed` : "all steps passed");
process.exit(failures ? 1 : 0);
