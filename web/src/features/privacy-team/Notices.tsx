import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { unwrap } from "../../lib/api/problem";
import { formatDateTime } from "../../lib/format";
import { useApi } from "../auth/useApi";

/**
 * Unread notices from BabyPic (a takedown, an incident, a legal demand),
 * shown above every signed-in page until the user marks them read
 * (GET /v1/me/notices, POST /v1/me/notices/read).
 */
export function NoticesBanner() {
  const api = useApi();
  const qc = useQueryClient();
  const notices = useQuery({ queryKey: ["me", "notices"], queryFn: async () => unwrap(await api.GET("/v1/me/notices")).items });
  const read = useMutation({
    mutationFn: async () => {
      const res = await api.POST("/v1/me/notices/read");
      if (!res.response.ok) throw new Error("Could not mark the notices read.");
    },
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["me", "notices"] }),
  });
  const unread = (notices.data ?? []).filter((n) => n.readAt === null);
  if (unread.length === 0) return null;
  return (
    <section className="notice notice-warning" aria-labelledby="notices-title" data-testid="notices">
      <h2 id="notices-title">{unread.length === 1 ? "A notice from BabyPic" : `${unread.length} notices from BabyPic`}</h2>
      {unread.map((n) => (
        <article key={n.id} data-kind={n.kind}>
          <h3>{n.title}</h3>
          <p>{n.body}</p>
          <p className="muted small">
            <time dateTime={n.createdAt}>{formatDateTime(n.createdAt)}</time>
          </p>
        </article>
      ))}
      <button type="button" className="button button-secondary" disabled={read.isPending} onClick={() => read.mutate()}>
        Mark as read
      </button>
    </section>
  );
}
