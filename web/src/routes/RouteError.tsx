import { isRouteErrorResponse, Link, useRouteError } from "react-router";

/** Shown when a route fails to load or render (e.g. a chunk missing after a deploy). */
export function RouteError() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error) ? `${error.status} ${error.statusText}` : "This page failed to load.";
  return (
    <main id="main" className="container">
      <h1>Something went wrong</h1>
      <p role="alert">{message} Reloading the page usually helps.</p>
      <p>
        <Link to="/">Go to the home page</Link>
      </p>
    </main>
  );
}
