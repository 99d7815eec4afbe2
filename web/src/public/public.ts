/**
 * The only script of the prerendered public pages (web/src/public/render.tsx,
 * decision 0025): the phone menu, and who we are (controller, DPO, contacts),
 * which is deployment configuration read from GET /v1/privacy at run time
 * (docs/decisions/0015-privacy-team.md). Each element marked `data-fact`
 * (text) or `data-fact-mail` (a mailto link) names its field of that answer.
 * No framework, so these pages stay small (issue 19 item 6).
 */
import { API_BASE } from "../lib/config";
import { menu } from "./menu";
import "./public.css";

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
void whoWeAre();
