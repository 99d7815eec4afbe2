import { PageHeading } from "../../components/PageHeading";
import { useAuth } from "../../features/auth/context";

/** The identity provider's own account page (Clerk's UserProfile: email, password, two-factor, sessions). */
export default function Profile() {
  const { ProfilePanel } = useAuth();
  return (
    <>
      <PageHeading title="Sign-in and security" />
      {ProfilePanel ? <ProfilePanel /> : <p>Local sign-in (development) has no password, second factor or profile to manage.</p>}
    </>
  );
}
