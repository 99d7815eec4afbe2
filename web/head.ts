/**
 * The head every page shares: the landing page (web/index.html), the app
 * shell (web/app.html) and the prerendered public pages
 * (web/src/public/render.tsx, decision 0025). The two HTML files hold the
 * placeholder `<!-- babypic:head -->`, which web/vite.config.ts replaces in
 * dev, preview and build; render.tsx writes it directly.
 */
export const HEAD_PLACEHOLDER = "<!-- babypic:head -->";

export const SHARED_HEAD = [
  '<meta charset="utf-8" />',
  '<meta name="viewport" content="width=device-width, initial-scale=1" />',
  '<meta name="description" content="BabyPic: see what your baby could look like, with your photos kept private." />',
  '<meta name="referrer" content="no-referrer" />',
  '<meta name="color-scheme" content="light dark" />',
  '<link rel="icon" href="/favicon.svg" type="image/svg+xml" />',
]
  .map((line) => `    ${line}`)
  .join("\n");
