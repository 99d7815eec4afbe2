/**
 * The one script of every static page: the landing page (web/index.html,
 * decision 0021) and the prerendered public pages (web/src/public/render.tsx,
 * decision 0025), so they share one cached file. It does the few interactive
 * bits: the phone menu; the landing page's price list, from the public
 * GET /v1/billing/packs; and who we are (controller, DPO, contacts), which is
 * deployment configuration read from GET /v1/privacy at run time
 * (docs/decisions/0015-privacy-team.md): each element marked `data-fact`
 * (text) or `data-fact-mail` (a mailto link) names its field of that answer.
 * No framework, so these pages stay small (issue 19 item 6); the signed-in
 * app is web/app.html.
 */
import { API_BASE } from "../lib/config";
import "./public.css";

/** The phone menu: the same toggle as components/Layout.tsx. */
function menu(): void {
  const button = document.querySelector<HTMLButtonElement>(".menu-button");
  const nav = document.getElementById("site-nav");
  if (!button || !nav) return;
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  });
}

interface Pack {
  name: string;
  credits: number;
  price: string;
}

const credits = new Intl.PluralRules("en");

async function prices(): Promise<void> {
  const list = document.querySelector<HTMLUListElement>("[data-testid=price-list]");
  const note = document.querySelector<HTMLElement>("[data-testid=price-note]");
  if (!list) return;
  try {
    const res = await fetch(`${API_BASE}/v1/billing/packs`, { headers: { accept: "application/json" } });
    if (!res.ok) return;
    const body = (await res.json()) as { packs?: Pack[] };
    const packs = body.packs ?? [];
    if (packs.length === 0) return;
    for (const p of packs) {
      const li = document.createElement("li");
      const price = document.createElement("strong");
      price.textContent = p.price;
      li.append(price, ` for ${p.credits} ${credits.select(p.credits) === "one" ? "credit" : "credits"}`);
      list.append(li);
    }
    list.hidden = false;
    if (note) note.innerHTML = 'Buy them on the <a href="/app/billing">Credits page</a> after signing in.';
  } catch {
    // No prices shown: the link to the Credits page stays.
  }
}

function field(facts: unknown, path: string): string | undefined {
  let v: unknown = facts;
  for (const key of path.split(".")) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  return typeof v === "string" ? v : undefined;
}

function fill(facts: unknown): void {
  for (const el of document.querySelectorAll<HTMLElement>("[data-fact]")) el.textContent = field(facts, el.dataset["fact"] ?? "") ?? "";
  for (const a of document.querySelectorAll<HTMLAnchorElement>("[data-fact-mail]")) {
    const email = field(facts, a.dataset["factMail"] ?? "");
    if (!email) continue;
    a.href = `mailto:${email}`;
    a.textContent = email;
    a.hidden = false;
  }
  for (const list of document.querySelectorAll<HTMLElement>("[data-facts-list]")) list.hidden = false;
  for (const el of document.querySelectorAll("[data-testid=who-we-are] [role=status], [data-fact-pending]")) el.remove();
}

function failed(): void {
  for (const status of document.querySelectorAll("[data-testid=who-we-are] [role=status]")) {
    const notice = document.createElement("div");
    notice.className = "notice notice-error";
    notice.setAttribute("role", "alert");
    notice.innerHTML = "<p><strong>Contact details could not be loaded.</strong> Check your connection, then reload the page.</p>";
    status.replaceWith(notice);
  }
}

async function whoWeAre(): Promise<void> {
  if (!document.querySelector("[data-fact], [data-fact-mail]")) return;
  try {
    const res = await fetch(`${API_BASE}/v1/privacy`, { headers: { accept: "application/json" } });
    if (!res.ok) throw new Error(`GET /v1/privacy: ${res.status}`);
    fill(await res.json());
  } catch {
    failed();
  }
}

menu();
void prices();
void whoWeAre();
