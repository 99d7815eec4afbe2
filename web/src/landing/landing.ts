/**
 * The landing page's only script (web/index.html): the phone menu and the
 * price list. No framework, so the landing page stays small (issue 19 item 6);
 * the signed-in app is web/app.html.
 */
import { API_BASE } from "../lib/config";
import { menu } from "../public/menu";

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

menu();
void prices();
