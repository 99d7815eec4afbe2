import { useEffect, useState } from "react";
import { Link, NavLink, Outlet, useLocation } from "react-router";
import { AppNavContext, type AppNav } from "./nav-slot";

const PUBLIC_LINKS = [
  { to: "/", label: "How it works", end: true },
  { to: "/security", label: "Security & privacy", end: false },
  { to: "/app", label: "Your account", end: false },
] as const;

const APP_LINKS = [
  { to: "/app", label: "Overview", end: true },
  { to: "/app/create", label: "Create", end: false },
  { to: "/app/gallery", label: "Pictures", end: false },
  { to: "/app/billing", label: "Credits", end: false },
  { to: "/app/activity", label: "Activity", end: false },
  { to: "/app/api-keys", label: "API keys", end: false },
  { to: "/app/account", label: "Settings", end: false },
] as const;

/**
 * Landmarks on every page: skip link, one compact banner with the page's one
 * navigation, main, contentinfo. On a phone the navigation folds behind a
 * "Menu" button so the banner stays one row (< 64 px at 360 x 740); signed in,
 * the same banner carries the app's sections and "Sign out" (issue 19 item 3).
 */
export function Layout() {
  const [appNav, setAppNav] = useState<AppNav | null>(null);
  const [open, setOpen] = useState(false);
  const { pathname } = useLocation();
  // A followed link closes the menu.
  useEffect(() => setOpen(false), [pathname]);
  const links = appNav ? APP_LINKS : PUBLIC_LINKS;
  return (
    <AppNavContext.Provider value={setAppNav}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="container header-row">
          {/* "/" is the static landing page (web/index.html): a full page load, not the app's copy. */}
          <Link to="/" reloadDocument className="brand">
            <img src="/favicon.svg" alt="" width="28" height="28" />
            BabyPic
          </Link>
          <button
            type="button"
            className="menu-button"
            aria-expanded={open}
            aria-controls="site-nav"
            onClick={() => setOpen((o) => !o)}
          >
            <span className="menu-icon" aria-hidden="true" />
            Menu
          </button>
          <nav id="site-nav" aria-label={appNav ? "Your account" : "Main"} className={open ? "site-nav open" : "site-nav"}>
            <ul className="nav-list">
              {links.map((l) => (
                <li key={l.to}>
                  <NavLink to={l.to} end={l.end} reloadDocument={l.to === "/"}>
                    {l.label}
                  </NavLink>
                </li>
              ))}
            </ul>
            {appNav ? (
              <p className="who">
                <span>
                  Signed in as <strong>{appNav.displayName ?? "you"}</strong>
                </span>
                <button type="button" className="button button-secondary button-small" onClick={appNav.signOut}>
                  Sign out
                </button>
              </p>
            ) : null}
          </nav>
        </div>
      </header>
      <main id="main" tabIndex={-1} className="container">
        <Outlet />
      </main>
      <footer className="site-footer">
        <div className="container footer-row">
          <p>BabyPic has no ads, no analytics and no trackers. Your photos are yours: delete them whenever you like.</p>
          <nav aria-label="About BabyPic">
            <ul className="nav-list">
              <li>
                <Link to="/security">Security &amp; privacy</Link>
              </li>
              <li>
                <Link to="/privacy">Privacy policy</Link>
              </li>
              <li>
                <Link to="/terms">Terms</Link>
              </li>
              <li>
                <Link to="/transparency">Transparency</Link>
              </li>
              <li>
                <Link to="/contact">Contact</Link>
              </li>
            </ul>
          </nav>
        </div>
      </footer>
    </AppNavContext.Provider>
  );
}
