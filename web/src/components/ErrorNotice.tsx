export function ErrorNotice({ title, message, onRetry }: { title: string; message: string; onRetry?: (() => void) | undefined }) {
  return (
    <div role="alert" className="notice notice-error">
      <p>
        <strong>{title}.</strong> {message}
      </p>
      {onRetry && (
        <button type="button" className="button button-secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
