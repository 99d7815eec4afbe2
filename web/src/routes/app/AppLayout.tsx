import { NavLink, Outlet } from "react-router";
import { useAuth } from "../../features/auth/context";
import { NoticesBanner } from "../../features/privacy-team/Notices";
import { SupportSessionBanner } from "../../features/support/SupportSessionBanner";

/** The signed-in area: who you are, sign out, and the app's sections (more pages join this nav). */
export function AppLayout() {
  const { displayName, signOut } = useAuth();
  return (
    <div className="app-area">
      <div className="app-bar">
        <nav aria-label="Your account">
          <ul className="nav-list">
            <li>
              <NavLink to="/app" end>
                Overview
              </NavLink>
            </li>
            <li>
              <NavLink to="/app/create">Create</NavLink>
            </li>
            <li>
              <NavLink to="/app/gallery">Pictures</NavLink>
            </li>
            <li>
              <NavLink to="/app/billing">Credits</NavLink>
            </li>
            <li>
              <NavLink to="/app/activity">Activity</NavLink>
            </li>
            <li>
              <NavLink to="/app/api-keys">API keys</NavLink>
            </li>
            <li>
              <NavLink to="/app/account">Settings</NavLink>
            </li>
          </ul>
        </nav>
        <p className="who">
          Signed in as <strong>{displayName ?? "you"}</strong>{" "}
          <button type="button" className="button button-secondary button-small" onClick={() => void signOut()}>
            Sign out
          </button>
        </p>
      </div>
      <NoticesBanner />
      <SupportSessionBanner />
      <Outlet />
    </div>
  );
}
