import { Link, NavLink, Outlet } from "react-router";

/** Landmarks on every page: skip link, banner with the main navigation, main, contentinfo. */
export function Layout() {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="container header-row">
          <Link to="/" className="brand">
            <img src="/favicon.svg" alt="" width="28" height="28" />
            BabyPic
          </Link>
          <nav aria-label="Main">
            <ul className="nav-list">
              <li>
                <NavLink to="/" end>
                  How it works
                </NavLink>
              </li>
              <li>
                <NavLink to="/security">Security &amp; privacy</NavLink>
              </li>
              <li>
                <NavLink to="/app">Your account</NavLink>
              </li>
            </ul>
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
    </>
  );
}
