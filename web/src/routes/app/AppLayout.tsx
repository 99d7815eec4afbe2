import { useEffect } from "react";
import { Outlet } from "react-router";
import { useSetAppNav } from "../../components/nav-slot";
import { useAuth } from "../../features/auth/context";
import { NoticesBanner } from "../../features/privacy-team/Notices";
import { SupportSessionBanner } from "../../features/support/SupportSessionBanner";

/** The signed-in area: its sections and "Sign out" go into the site's one header navigation (components/Layout). */
export function AppLayout() {
  const { displayName, signOut } = useAuth();
  const setAppNav = useSetAppNav();
  useEffect(() => {
    setAppNav({ displayName, signOut: () => void signOut() });
    return () => setAppNav(null);
  }, [displayName, signOut, setAppNav]);
  return (
    <div className="app-area">
      <NoticesBanner />
      <SupportSessionBanner />
      <Outlet />
    </div>
  );
}
