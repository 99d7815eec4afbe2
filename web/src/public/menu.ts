/** The phone menu of a static page (web/index.html and the prerendered public pages): the same toggle as components/Layout.tsx. */
export function menu(): void {
  const button = document.querySelector<HTMLButtonElement>(".menu-button");
  const nav = document.getElementById("site-nav");
  if (!button || !nav) return;
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  });
}
