import { Link } from "react-router";
import { PageHeading } from "../components/PageHeading";

export function NotFound() {
  return (
    <>
      <PageHeading title="Page not found" />
      <p>
        There is nothing here. <Link to="/">Go to the home page</Link>.
      </p>
    </>
  );
}
